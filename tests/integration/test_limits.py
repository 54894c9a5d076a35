"""CPU and memory limits: the offending request gets a 503, the isolate is replaced."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator

import pytest

from tests.conftest import IsoflowServer, fetch, run
from tests.upstream import Upstream

LIMITS = """
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/spin") { while (true) {} }
    if (path === "/spin-in-microtask") { await null; while (true) {} }
    if (path === "/spin-in-timer") {
      setTimeout(() => { while (true) {} }, 1);
      return new Promise(() => {});
    }
    // Long after the response, when V8 has gone idle: a timer, or a task V8 starts itself.
    if (path === "/spin-in-a-later-timer") {
      setTimeout(() => { while (true) {} }, 1000);
      return new Response("answered");
    }
    if (path === "/spin-after-wait-async") {
      const cell = new Int32Array(new SharedArrayBuffer(4));
      Atomics.waitAsync(cell, 0, 0, 1000).value.then(() => { while (true) {} });
      return new Response("answered");
    }
    if (path === "/oom") { const a = []; while (true) a.push(new Array(100000).fill(1.5)); }
    globalThis.counter = (globalThis.counter ?? 0) + 1;
    return new Response(`alive ${globalThis.counter}`);
  },
};
"""


def start(serve):
    return serve(LIMITS, "--cpu-limit", "0.3", "--memory-limit", "64", workers=1,
                 name="limits.mjs")


def test_endless_loop_in_handler_gets_503_and_isolate_is_replaced(serve):
    server = start(serve)
    assert run(fetch(server.url("/")))[2] == b"alive 1"
    status, _, body = run(fetch(server.url("/spin")))
    assert status == 503
    assert b"CPU time limit" in body
    # A fresh isolate: the global counter starts again.
    assert run(fetch(server.url("/")))[2] == b"alive 1"
    server.wait_log("exceeded its CPU time limit; replacing the isolate")


def test_endless_loop_after_an_await_is_stopped_too(serve):
    server = start(serve)
    status, _, body = run(fetch(server.url("/spin-in-microtask")))
    assert status == 503 and b"CPU time limit" in body
    assert run(fetch(server.url("/")))[0] == 200


def test_endless_loop_in_a_timer_is_stopped(serve):
    server = start(serve)
    status, _, body = run(fetch(server.url("/spin-in-timer")))
    assert status == 503 and b"CPU time limit" in body
    assert run(fetch(server.url("/")))[0] == 200


@pytest.mark.parametrize("path", ["/spin-in-a-later-timer", "/spin-after-wait-async"])
def test_endless_loop_long_after_the_response_is_stopped_on_its_own(serve, path):
    # The watchdog rests while V8 is idle, but still looks every second: the loop is stopped
    # at the CPU limit, not when the next request finds the isolate busy (that request then
    # waited out the limit and got the 503 meant for the loop).
    server = start(serve)
    assert run(fetch(server.url(path)))[2] == b"answered"
    server.wait_log("exceeded its CPU time limit; replacing the isolate", timeout=15)
    status, _, body = run(fetch(server.url("/")))
    assert (status, body) == (200, b"alive 1")


def test_a_replaced_isolate_does_not_bring_a_full_log_budget(serve):
    """An isolate that logged its whole budget at load and is replaced again and again (an
    allocation past `memory` on every request) logged a full burst each time: the log grew
    without bound with no more requests than replacements."""
    server = serve("""
        for (let i = 0; i < 12000; i++) console.log(`boot-line ${i}`);
        export default { fetch() { const a = []; while (true) a.push(new Array(100000).fill(1.5)); } };
        """, "--memory-limit", "64", workers=1, name="boot.mjs")
    first = _settled(server, r"boot-line \d+")
    assert first >= 10000  # the whole budget (and what refilled meanwhile)
    for _ in range(3):
        assert run(fetch(server.url("/")))[0] == 503  # replaced, and the new one logs again
    server.wait_log(r"replacing the isolate", count=3)
    later = _settled(server, r"boot-line \d+") - first
    # A tenth of the budget each, and what refilled while it loaded (a full one each: 30,000+).
    assert later <= 3 * 6000, later


def _settled(server, pattern: str) -> int:
    """How many times ``pattern`` is in the log once the count stops growing (the workers'
    lines reach the log a little after the fact)."""
    last, deadline = -1, time.monotonic() + 10
    while time.monotonic() < deadline:
        n = len(re.findall(pattern, server.log()))
        if n == last and n > 0:
            return n
        last = n
        time.sleep(0.3)
    return last


def test_memory_blow_up_gets_503_and_isolate_is_replaced(serve):
    server = start(serve)
    status, _, body = run(fetch(server.url("/oom")))
    assert status == 503
    assert b"memory limit" in body
    assert run(fetch(server.url("/")))[2] == b"alive 1"


# -- budgets of work a request starts: subrequests, and time after the response --------------

BUDGETS = r"""
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const up = url.searchParams.get("u");
    const get = () => fetch(`${up}/text`).then((r) => r.text());
    switch (url.pathname) {
      case "/status": return new Response(__isoflow_status());
      case "/chain": {  // promise continuations: code the runtime cannot attribute
        let ok = 0;
        for (let i = 0; i < 100; i++) {
          try { await get(); ok++; } catch {}
          await sleep(0);
        }
        return Response.json(ok);
      }
      case "/after": {  // timers and waitUntil after the response
        setTimeout(() => { for (let i = 0; i < 300; i++) get().catch(() => {}); }, 1);
        setInterval(() => { get().catch(() => {}); }, 5);
        ctx.waitUntil((async () => {
          for (let i = 0; i < 300; i++) await get().catch(() => {});
        })());
        return new Response("later");
      }
      case "/spin":  // a busy interval after the response: bounded by wall time
        setInterval(() => { const end = Date.now() + 200; while (Date.now() < end) {} }, 0);
        return new Response("spinning");
      case "/break":  // the runtime's own promise handling now throws for every request
        Object.defineProperty(Promise.prototype, "constructor", {
          get() { throw new Error("broken"); },
        });
        return new Response("broken");
      case "/flood": {  // a console.log loop: the log is bounded, the request answered
        const n = +url.searchParams.get("n");
        const ctl = url.searchParams.has("ctl") ? "\x01".repeat(1000) : "";
        for (let i = 0; i < n; i++) console.log(`flood-line${ctl ? "-ctl" : ""} ${i}${ctl}`);
        return new Response(`logged ${n}`);
      }
      case "/count":
        globalThis.count = (globalThis.count ?? 0) + 1;
        return new Response(`alive ${globalThis.count}`);
      case "/hold":  // a fetch kept alive by waitUntil
        ctx.waitUntil(fetch(`${up}/forever/held`).then((r) => r.arrayBuffer()));
        return new Response("holding");
    }
    return new Response("ok");
  },
};
"""


@pytest.fixture(scope="module")
def budgets(tmp_path_factory) -> Iterator[tuple[IsoflowServer, Upstream]]:
    """One worker, 5 subrequests per request, 1 s of work after a response, an isolate
    replaced after 3 runtime failures in a row."""
    tmp = tmp_path_factory.mktemp("budgets")
    script = tmp / "budgets.mjs"
    script.write_text(BUDGETS)
    up = Upstream().start()
    srv = IsoflowServer(script, tmp / "log.txt", "--allow-fetch-to", "loopback",
                        "--max-subrequests", "5", "--wall-time-after-response", "1",
                        "--max-runtime-failures", "3",
                        workers=1).start()
    yield srv, up
    srv.stop()
    up.stop()


def _get(srv: IsoflowServer, path: str, request_id: str | None = None) -> tuple[int, bytes]:
    headers = {"X-Request-Id": request_id} if request_id else {}
    status, _, body = run(fetch(srv.url(path), headers=headers))
    return status, body


def test_a_console_log_flood_is_bounded_and_said_so(budgets):
    srv, _ = budgets
    n = 200000
    assert _get(srv, f"/flood?n={n}") == (200, f"logged {n}".encode())
    notice = r"(\d+) log messages? dropped: a worker logs at most 10000 lines"
    deadline = time.monotonic() + 5  # drops are told at most once a second
    while True:  # the lines and the warnings reach the log a little after the answer
        text = srv.log()
        logged = len(re.findall(r"flood-line \d+", text))
        notices = [int(m.group(1)) for m in re.finditer(notice, text)]
        if sum(notices) + logged == n or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert 10000 <= logged < 30000, logged  # the burst, and what the loop's time refilled
    assert 1 <= len(notices) <= 4 and sum(notices) == n - logged, notices
    # A control character is written as four characters or more: charged as six.
    time.sleep(1.1)  # the line bucket refilled
    assert _get(srv, "/flood?n=2000&ctl=1") == (200, b"logged 2000")
    time.sleep(0.5)
    assert 500 <= len(re.findall(r"flood-line-ctl \d+", srv.log())) < 1500
    assert _get(srv, "/count")[0] == 200


def test_concurrent_requests_cannot_pool_subrequests_beyond_the_limit(budgets):
    srv, up = budgets
    before = up.hits

    async def two():
        return await asyncio.gather(*(fetch(srv.url(f"/chain?u={up.url('')}")) for _ in range(2)))

    results = run(two())
    made = sum(json.loads(body) for _, _, body in results)
    assert [status for status, _, _ in results] == [200, 200]
    assert 5 <= made <= 10 and up.hits - before == made


def test_work_after_the_response_is_bounded_in_subrequests_and_time(budgets):
    srv, up = budgets
    before = up.hits
    assert _get(srv, f"/after?u={up.url('')}", "after-1") == (200, b"later")
    srv.wait_log(r"request after-1: work after the response ran past 1(\.0)? s: "
                 r"\d+ timer\(s\) cleared")
    assert up.hits - before == 5  # the 300 + interval + waitUntil fetches: 5 in all
    status = json.loads(_get(srv, "/status")[1])
    assert status["timers"] == 0


def test_a_busy_interval_and_a_held_fetch_stop_after_the_wall_time(budgets):
    srv, up = budgets
    assert _get(srv, "/spin", "spin-1") == (200, b"spinning")
    assert _get(srv, f"/hold?u={up.url('')}", "hold-1") == (200, b"holding")
    srv.wait_log(r"request hold-1: work after the response ran past 1(\.0)? s: "
                 r"0 timer\(s\) cleared, 1 fetch\(es\) aborted")
    up.wait_for(lambda: up.closed.get("held") is True)  # the upstream saw it go
    srv.wait_log(r"request spin-1: work after the response ran past 1(\.0)? s: "
                 r"1 timer\(s\) cleared")
    assert json.loads(_get(srv, "/status")[1])["timers"] == 0


def test_an_isolate_whose_runtime_keeps_failing_is_replaced(budgets):
    """Not the handler throwing: the runtime itself fails each request (here because the
    script broke Promise.prototype.constructor); after 3 in a row the isolate is replaced."""
    srv, _ = budgets
    first = _get(srv, "/count")
    assert first[0] == 200
    statuses = [_get(srv, "/break")[0]] + [_get(srv, "/count")[0] for _ in range(2)]
    assert statuses == [500, 500, 500]
    srv.wait_log("the runtime failed 3 requests in a row; replacing the isolate")
    assert _get(srv, "/count") == (200, b"alive 1")  # a fresh isolate
