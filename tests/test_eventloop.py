"""The processes' event loop (isolate_worker/eventloop.py): uvloop, whose ``sock_connect``
connects to an IP address directly (no resolver thread) and behaves as uvloop's otherwise."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest

from isoflow.isolate_worker import eventloop

uvloop = pytest.importorskip("uvloop")


def _run(coro):
    with asyncio.Runner(loop_factory=eventloop._uvloop_class(uvloop)) as runner:
        return runner.run(coro)


async def _connect(address: tuple, family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


def test_an_ip_address_is_connected_directly_and_answers():
    async def main() -> bytes:
        server = await asyncio.start_server(
            lambda r, w: (w.write(b"hi"), w.close()), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            sock = await _connect(("127.0.0.1", port))
            with sock:
                assert sock.getpeername() == ("127.0.0.1", port)
                return await asyncio.get_running_loop().sock_recv(sock, 10)

    assert _run(main()) == b"hi"


def test_a_refused_connection_raises_with_its_errno():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError) as caught:
        _run(_connect(("127.0.0.1", port)))
    assert caught.value.errno == errno.ECONNREFUSED
    assert caught.value.strerror == "Connection refused"


def test_a_host_name_still_goes_through_the_resolver():
    async def main() -> str:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            sock = await _connect(("localhost", port))
            with sock:
                return sock.getpeername()[0]

    assert _run(main()) == "127.0.0.1"


@pytest.mark.parametrize("address, numeric", [
    (("127.0.0.1", 80), True), (("example.com", 80), False), (("fe80::1%eth0", 80), False),
    (("::1", 80), False),  # an IPv6 address on an IPv4 socket: uvloop's own path decides
])
def test_which_addresses_skip_the_resolver(address, numeric):
    with socket.socket() as sock:
        assert eventloop._numeric(sock, address) is numeric
