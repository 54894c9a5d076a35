"""A whole response written by isoflow (supervisor/whole.py) reaches the client exactly as
aiohttp's ``web.Response`` would have written it: the same bytes, field for field and in
order (the Date aside), and the same connection afterwards (kept open or closed), for
HTTP/1.0 and 1.1, keep-alive or not, with and without the fields aiohttp adds."""

from __future__ import annotations

import asyncio
import itertools
import re

import pytest
from aiohttp import web

from isoflow.protocol.headers import encode_head, has_control
from isoflow.supervisor import front  # noqa: F401 - installs the latin-1 header serializer
from isoflow.supervisor.whole import WholeResponse, head_bytes

# As the front passes them (Front._fields): a Server field always among them.
FIELDS = {
    "bare": [("Server", "isoflow")],
    "typed": [("content-type", "text/plain;charset=UTF-8"), ("Server", "isoflow")],
    "dated": [("Date", "Tue, 01 Jan 2030 00:00:00 GMT"), ("X-A", "1"), ("server", "x")],
    "latin1": [("x-name", "caf\xe9"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2"),
               ("Server", "isoflow"), ("X-Request-Id", "abc")],
}
REQUESTS = {
    "1.1": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "1.1-close": b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "1.0": b"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
    "1.0-keep-alive": b"GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
}
STATUSES = [(200, "OK"), (404, "Not Found"), (599, "Unknown")]
_DATE = re.compile(rb"\r\nDate: [^\r]*")


async def _exchange(ours: bool, status: tuple[int, str], fields: list[tuple[str, str]],
                    body: bytes, close: bool, request: bytes) -> tuple[bytes, bool]:
    """Serve one response the one way or the other; the bytes a client reads (Date
    masked) and whether the server closed the connection after it."""

    async def handler(req: web.BaseRequest) -> web.StreamResponse:
        if ours:
            keep_alive = req.keep_alive and not close
            req.transport.write(head_bytes(req.version, *status, fields, len(body),
                                           keep_alive) + body)
            return WholeResponse(*status, keep_alive)
        resp = web.Response(status=status[0], reason=status[1], body=body)
        resp.headers.extend(fields)
        if close:
            resp.force_close()
        return resp

    server = await asyncio.get_running_loop().create_server(
        web.Server(handler, access_log=None), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"\r\nContent-Length: (\d+)", head).group(1))
        data = head + await reader.readexactly(length)
        writer.write(request)  # a connection kept open answers it again
        try:
            closed = await reader.read(1) == b""
        except ConnectionError:
            closed = True
        writer.close()
        return _DATE.sub(b"\r\nDate: -", data), closed
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("version", list(REQUESTS))
@pytest.mark.parametrize("fields", list(FIELDS))
def test_as_aiohttp_writes_it(version: str, fields: str) -> None:
    async def main() -> None:
        for status, body, close in itertools.product(STATUSES, (b"", b"hello\n"),
                                                     (False, True)):
            args = (status, FIELDS[fields], body, close, REQUESTS[version])
            ours, theirs = await _exchange(True, *args), await _exchange(False, *args)
            assert ours == theirs, (status, body, close)

    asyncio.run(main())


def test_a_dated_head_keeps_its_date() -> None:
    head = head_bytes((1, 1), 200, "OK", FIELDS["dated"], 0, True)
    assert head.count(b"Date:") == 1 and b"Date: Tue, 01 Jan 2030" in head


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "a\x7fb"])
def test_a_control_character_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="header injection"):
        head_bytes((1, 1), 200, "OK", [("x-a", bad)], 0, True)
    with pytest.raises(ValueError, match="header injection"):
        head_bytes((1, 1), 200, "OK", [(bad, "v")], 0, True)


def test_a_control_character_is_found_wherever_it_is() -> None:
    # has_control skips its search for a printable head: every code point up to U+02FF
    # (controls, latin-1, separators such as U+00A0 and U+0085) agrees with the search.
    for code in range(0x300):
        text = f"x-a: a{chr(code)}b"
        expected = (code < 0x20 and code != 0x09) or code == 0x7F
        assert has_control(["HTTP/1.1 200 OK", text]) is expected, hex(code)


def test_encode_head_keeps_bytes_and_tabs() -> None:
    assert encode_head(["HTTP/1.1 200 OK", "x: a\tb\xff"]) == b"HTTP/1.1 200 OK\r\nx: a\tb\xff\r\n\r\n"
