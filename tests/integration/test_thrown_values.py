"""Whatever a script throws, the runtime reports it and goes on: a value String() cannot
convert (``Object.create(null)``), a ``message`` or ``stack`` getter that throws, a ``stack``
that is no string, a Proxy whose every trap throws. The runtime turned some of them into
text with a template or String() in its own rejection handlers, which then threw: a
scheduled run never reported (``POST /__scheduled`` hung, its stream open for 15 minutes), a
fetch handler's rejection or a broken response body was never answered, and a rejection's
log line was lost."""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests.conftest import fetch, run
from tests.processes import free_port

SCRIPT = r"""
// Each value with the tag its String() gives, where it gives one.
const THROWN = {
  "null-proto": () => Object.create(null),
  "message-getter": (tag) => ({ get message() { throw new Error("gotcha"); }, toString: () => tag }),
  "symbol-stack": (tag) => ({ stack: Symbol("s"), message: Symbol("m"), toString: () => tag }),
  "object-stack": (tag) => ({ stack: Object.create(null), message: Object.create(null),
                              toString: () => tag }),
  "proxy": () => new Proxy({}, { get() { throw new Error("trap"); } }),
};

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const tag = request.headers.get("x-request-id");
    const make = () => THROWN[url.searchParams.get("v")](tag);
    switch (url.pathname) {
      case "/reject":
        throw make();
      case "/body":  // the head goes out, then the body's stream fails
        return new Response(new ReadableStream({ pull() { throw make(); } }));
      case "/wait":
        ctx.waitUntil(Promise.reject(make()));
        return new Response("ok");
      case "/unhandled":
        Promise.reject(make());
        return new Response("ok");
      case "/timer":
        setTimeout(() => { throw make(); }, 0);
        return new Response("ok");
    }
    return new Response("fine");
  },
  async scheduled(controller) {
    throw THROWN[controller.cron](controller.cron);
  },
};
"""

# Values String() cannot convert, and what the runtime says of them; the others are shown
# as String() shows them: their tag.
CANNOT = "(an exception that cannot be shown)"
VALUES = ["null-proto", "message-getter", "symbol-stack", "object-stack", "proxy"]
TIMEOUT = aiohttp.ClientTimeout(total=20)  # an answer comes at once; before, none came


def shown(value: str, tag: str) -> str:
    """How the runtime writes ``value`` thrown with ``tag`` (a regular expression)."""
    return re.escape(CANNOT if value in ("null-proto", "proxy") else tag)


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(serve_module, metrics_port):
    return serve_module(SCRIPT, "--metrics", f"127.0.0.1:{metrics_port}", workers=1,
                        name="thrown.mjs")


def get(server, path: str, rid: str) -> tuple[int, bytes]:
    status, _, body = run(fetch(server.url(path), headers={"X-Request-Id": rid},
                                timeout=TIMEOUT))
    return status, body


@pytest.mark.parametrize("value", VALUES)
def test_a_scheduled_handler_rejecting_with_any_value_reports_its_failure(
        server, metrics_port, value):
    async def trigger() -> tuple[int, str]:
        url = f"http://127.0.0.1:{metrics_port}/__scheduled?cron={value}"
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s, s.post(url) as r:
            return r.status, await r.text()

    status, text = run(trigger())
    assert status == 500 and re.fullmatch(f"failed on w0: {shown(value, value)}\n", text), text
    server.wait_log(rf'Uncaught \(in scheduled event "{value}"\) {shown(value, value)}')


@pytest.mark.parametrize("value", VALUES)
def test_a_fetch_handler_rejecting_with_any_value_is_answered_500(server, value):
    rid = f"reject-{value}"
    assert get(server, f"/reject?v={value}", rid)[0] == 500
    server.wait_log(rf"Uncaught \(in response to {rid}\) {shown(value, rid)}")
    assert get(server, "/", "after")[1] == b"fine"


@pytest.mark.parametrize("value", VALUES)
def test_a_response_body_failing_with_any_value_ends_the_response(server, value):
    rid = f"body-{value}"

    async def download() -> tuple[int, bool]:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s, s.get(
                server.url(f"/body?v={value}"), headers={"X-Request-Id": rid}) as r:
            try:
                await r.read()
            except aiohttp.ClientPayloadError:
                return r.status, False
            return r.status, True

    assert run(download()) == (200, False)  # the body broke off: not a whole body
    server.wait_log(rf"Response body stream failed \({rid}\): {shown(value, rid)}")


@pytest.mark.parametrize("path", ["/wait", "/unhandled", "/timer"])
@pytest.mark.parametrize("value", ["symbol-stack", "object-stack"])
def test_work_after_the_response_failing_with_any_value_is_logged(server, path, value):
    rid = f"{path[1:]}-{value}"
    assert get(server, f"{path}?v={value}", rid) == (200, b"ok")
    server.wait_log(rf"Uncaught (\(in promise, request {rid}\) )?{shown(value, rid)}\n")
