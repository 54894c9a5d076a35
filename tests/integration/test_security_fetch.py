"""Outbound fetch() and the address policy: loopback, private, link-local and other special
addresses are refused unless allowed, on the resolved address, for every redirect hop.

What is covered where (docs/security.md):

* ``AddressPolicy.check`` on its own: a table of addresses in every spelling that reaches
  the socket layer (IPv4, IPv6, IPv4-mapped, 6to4, NAT64, scoped link-local).
* ``socket_factory``: the hook aiohttp calls with each *resolved* address before it
  connects, so a host name is judged by what it resolves to (DNS rebinding included:
  there is no earlier check to race).
* Redirects, with the worker's real ``FetchClient`` and real sockets: a policy that allows
  exactly 127.0.0.1 follows a redirect to 127.0.0.2 (loopback, refused) - the second
  server never sees a connection - also over two hops, with a body (307), and not at all
  with ``redirect: "manual"``.
* End to end through ``isoflow serve``: a script fetches this machine's own non-loopback
  address (allowed with ``--allow-fetch-to private``), which redirects to 127.0.0.1
  (loopback, not allowed): the fetch is refused and the loopback server is never reached.
  Skipped on a machine without a non-loopback address.

Not covered (no network here): a real public name whose DNS answer changes between hops.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest
from aiohttp import web

from isoflow.isolate_worker.fetch import AddressPolicy, FetchClient
from isoflow.isolate_worker.kinds import EV_FETCH_CREDIT, EV_FETCH_ERROR, EV_FETCH_HEAD
from tests.conftest import fetch, run
from tests.upstream import ServerThread

DENIED_ALWAYS = ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",
                 "::7f00:1"]
LOOPBACK = ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "2002:7f00:1::1",
            "64:ff9b::7f00:1"]
PRIVATE = ["10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
           "100.100.100.200", "192.0.0.170", "198.18.0.1", "192.0.2.2", "fd00::1",
           "fe80::1", "fe80::1%eth0", "fec0::1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
           "2002:a00:1::1", "2001:db8::1"]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
          "2002:808:808::1"]


def _allowed(policy: AddressPolicy, address: str) -> bool:
    try:
        policy.check(address)
    except PermissionError as e:
        assert "not allowed" in str(e)
        return False
    return True


@pytest.mark.parametrize("address", DENIED_ALWAYS + LOOPBACK + PRIVATE + PUBLIC)
def test_address_policy(address):
    default = AddressPolicy()
    private = AddressPolicy(allow_private=True)
    loopback = AddressPolicy(allow_loopback=True)
    both = AddressPolicy(allow_private=True, allow_loopback=True)
    if address in DENIED_ALWAYS:
        assert not any(_allowed(p, address) for p in (default, private, loopback, both))
    elif address in LOOPBACK:
        assert [_allowed(p, address) for p in (default, private, loopback, both)] == \
            [False, False, True, True]
    elif address in PRIVATE:
        assert [_allowed(p, address) for p in (default, private, loopback, both)] == \
            [False, True, False, True]
    else:
        assert all(_allowed(p, address) for p in (default, private, loopback, both))


def test_the_socket_factory_checks_each_resolved_address_before_connecting():
    policy = AddressPolicy()
    with pytest.raises(PermissionError):
        policy.socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    with pytest.raises(PermissionError):
        policy.socket_factory((socket.AF_INET6, socket.SOCK_STREAM, 6, "",
                               ("::ffff:169.254.169.254", 80, 0, 0)))
    sock = policy.socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 80)))
    sock.close()


class OnlyFirstHop(AddressPolicy):
    """Allows exactly 127.0.0.1 - standing in for a public address - and judges the rest
    like the default policy (so 127.0.0.2, also loopback, is refused)."""

    def check(self, address: str) -> None:
        if address != "127.0.0.1":
            super().check(address)


async def _servers(hits: list[str]):
    """A redirecting server on 127.0.0.1 and a target on 127.0.0.2 that records hits."""

    async def redirect(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "302"))
        await request.read()
        return web.Response(status=status, headers={"Location": request.query["to"]})

    async def hit(request: web.Request) -> web.Response:
        hits.append(request.path_qs)
        return web.Response(text="reached")

    runners = []
    ports = []
    for host, handler in (("127.0.0.1", redirect), ("127.0.0.2", hit)):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, 0).start()
        runners.append(runner)
        ports.append(runner.addresses[0][1])
    return runners, ports


async def _fetch_events(policy: AddressPolicy, url: str, method: str = "GET",
                        body: bytes | None = None, redirect: str = "follow") -> list:
    events: list = []
    done = asyncio.Event()

    def emit(event, payload):
        events.append(event)
        if event[0] in (EV_FETCH_HEAD, EV_FETCH_ERROR):
            done.set()

    client = FetchClient(emit, policy=policy)
    try:
        f = client.start(1, method, url, [], None if body is None else "bytes",
                         -1 if body is None else len(body), redirect)
        if body is not None:
            client.upload_data(1, memoryview(body))
            client.upload_end(1)
        await asyncio.wait_for(done.wait(), 10)
        if f.task is not None:
            f.task.cancel()
    finally:
        await client.close()
    return [e for e in events if e[0] != EV_FETCH_CREDIT]


def test_a_redirect_to_a_refused_address_is_refused_at_connect_time():
    async def scenario():
        hits: list[str] = []
        runners, (p1, p2) = await _servers(hits)
        policy = OnlyFirstHop()
        target = f"http://127.0.0.2:{p2}/hit"
        try:
            # Control: with loopback allowed the redirect is followed to the target.
            ok = await _fetch_events(AddressPolicy(allow_loopback=True),
                                     f"http://127.0.0.1:{p1}/r?to={target}")
            assert ok[-1][0] == EV_FETCH_HEAD and ok[-1][2] == 200 and hits == ["/hit"]
            hits.clear()
            one = await _fetch_events(policy, f"http://127.0.0.1:{p1}/r?to={target}")
            two = await _fetch_events(
                policy, f"http://127.0.0.1:{p1}/a?to=http://127.0.0.1:{p1}/b%3Fto%3D{target}")
            body = await _fetch_events(policy, f"http://127.0.0.1:{p1}/c?status=307&to={target}",
                                       "POST", b"secret")
            v6 = await _fetch_events(policy, f"http://127.0.0.1:{p1}/d?to=http://[::1]:{p2}/")
            manual = await _fetch_events(policy, f"http://127.0.0.1:{p1}/e?to={target}",
                                         redirect="manual")
            return one, two, body, v6, manual, hits
        finally:
            for runner in runners:
                await runner.cleanup()

    one, two, body, v6, manual, hits = run(scenario())
    for events in (one, two, body, v6):
        assert events[-1][0] == EV_FETCH_ERROR, events
        assert "loopback address" in events[-1][2] and "not allowed" in events[-1][2]
    assert manual[-1][0] == EV_FETCH_HEAD and manual[-1][2] == 302
    assert hits == []  # the refused address never saw a connection


def test_bad_ports_are_refused_at_connect_time_on_every_hop():
    # The Fetch standard's port blocking: SMTP, IRC and the like are never reached, even
    # where the address is allowed; through a redirect as well.
    allowed = AddressPolicy(allow_loopback=True)
    for port in (25, 6667, 0):
        with pytest.raises(PermissionError, match=f"port {port} "):
            allowed.socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                    ("127.0.0.1", port)))

    async def scenario():
        runners, (p1, _p2) = await _servers([])
        try:
            direct = await _fetch_events(allowed, "http://127.0.0.1:25/")
            redirected = await _fetch_events(allowed,
                                             f"http://127.0.0.1:{p1}/r?to=http://127.0.0.1:6667/")
            return direct, redirected
        finally:
            for runner in runners:
                await runner.cleanup()

    direct, redirected = run(scenario())
    assert direct[-1][0] == EV_FETCH_ERROR and "port 25 " in direct[-1][2], direct
    assert redirected[-1][0] == EV_FETCH_ERROR and "port 6667 " in redirected[-1][2], redirected


# -- end to end ---------------------------------------------------------------------------


def _own_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("198.51.100.1", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def redirector() -> Iterator[tuple[int, list[str]]]:
    """A server on every interface: /r?to=URL redirects there, /hit records a hit."""
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/r":
            return web.Response(status=302, headers={"Location": request.query["to"]})
        hits.append(request.path)
        return web.Response(text="reached " + request.path)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = ServerThread(app, "0.0.0.0").start()
    yield server.port, hits
    server.stop()


SCRIPT = """
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("url");
    try {
      const r = await fetch(target);
      return Response.json({ status: r.status, text: await r.text(), url: r.url });
    } catch (e) {
      return Response.json({ error: e.name, message: e.message });
    }
  },
};
"""


def test_end_to_end_redirect_from_an_allowed_address_to_loopback_is_refused(serve, redirector):
    own = _own_address()
    if own is None:
        pytest.skip("this machine has no non-loopback address to start the redirect from")
    port, hits = redirector
    server = serve(SCRIPT, "--allow-fetch-to", "private", workers=1, name="redirect.mjs")

    def via(url: str) -> dict:
        from urllib.parse import quote

        status, _, body = run(fetch(server.url("/?url=" + quote(url, safe=""))))
        assert status == 200
        return json.loads(body)

    # Control: the machine's own address is allowed (private), and is served.
    assert via(f"http://{own}:{port}/first") == {
        "status": 200, "text": "reached /first", "url": f"http://{own}:{port}/first"}
    for target in (f"http://127.0.0.1:{port}/second", f"http://localhost:{port}/second",
                   f"http://[::ffff:127.0.0.1]:{port}/second"):
        got = via(f"http://{own}:{port}/r?to={target}")
        assert got["error"] == "TypeError", got
        assert "loopback address" in got["message"] and "not allowed" in got["message"]
    assert hits == ["/first"]  # the loopback hop never connected
