"""The pump in-process: a real :class:`Bridge` (bridge.py, js/29_host.js, js/90_serve.js)
with a small script. Serving events go in as the worker sends them, actions come out as the
worker receives them; no process, no socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from isoflow.isolate_worker.bridge import Bridge, BridgeConfig
from isoflow.isolate_worker.kinds import (
    AC_COMPLETE,
    AC_CREDIT,
    AC_DATA,
    AC_DONE,
    AC_END,
    AC_HEAD,
    AC_LOG,
    EV_CANCEL,
    EV_CREDIT,
    EV_DATA,
    EV_END,
    EV_REQUEST,
)
from tests.conftest import run

REQUEST_WINDOW = 8 << 10  # request body bytes JS asks for at once (Inflow's window)
SCRIPT = """
addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname === "/echo") return new Response(request.body);
  if (url.pathname === "/biglog") console.log("x".repeat(Number(url.searchParams.get("n"))));
  if (url.pathname === "/bytes") {
    return new Response(new Uint8Array(Number(url.searchParams.get("n"))).fill(120));
  }
  if (url.pathname === "/endless") {
    return new Response(new ReadableStream({
      pull(c) { c.enqueue(new Uint8Array(1000).fill(97)); },
      cancel(reason) { console.log(`cancelled: ${reason.message}`); },
    }));
  }
  if (url.pathname === "/ticks") {  // each chunk from a timer, V8 idle in between
    let sent = 0;
    return new Response(new ReadableStream({
      async pull(c) {
        if (sent === 3) return c.close();
        await new Promise((r) => setTimeout(r, 20));
        c.enqueue(new TextEncoder().encode(`tick ${sent++};`));
      },
    }));
  }
  if (url.pathname === "/streamed") {  // the first chunk comes after a few promise ticks
    let sent = 0;
    return new Response(new ReadableStream({
      async pull(c) {
        await null;
        if (sent++ === 0) c.enqueue(new TextEncoder().encode("first"));
      },
    }));
  }
  return new Response(`hello ${request.method} ${url.pathname}`, { headers: { "x-a": "1" } });
}
"""


class Pump:
    """A bridge running SCRIPT; every action it produces, with a copy of its bytes."""

    def __init__(self) -> None:
        self.actions: list[tuple[list[Any], bytes | None]] = []
        self.failures: list[Exception] = []
        self._arrived = asyncio.Event()
        config = BridgeConfig(request_window=REQUEST_WINDOW)
        self.bridge = Bridge(asyncio.get_running_loop(), self._on_action, self.failures.append,
                             config)
        self.bridge.eval(SCRIPT)

    def _on_action(self, action: list[Any], data: memoryview | None) -> None:
        # outBin is reused by the next pump: keep a copy, as a frame would.
        self.actions.append((list(action), None if data is None else bytes(data)))
        self._arrived.set()

    def request(self, sid: int, path: str, *, method: str = "GET", body: bool = False,
                window: int = 1 << 20, batch: bool = False) -> None:
        self.bridge.send([EV_REQUEST, sid, f"r{sid}", method, f"http://pump.test{path}",
                          ["host", "pump.test"], body, window, "127.0.0.1"], batch=batch)

    def of(self, sid: int, *kinds: int) -> list[tuple[list[Any], bytes | None]]:
        return [(a, d) for a, d in self.actions
                if a[0] != AC_LOG and a[1] == sid and (not kinds or a[0] in kinds)]

    def released(self, sid: int) -> bool:
        """JS is done with the stream: AC_DONE, or an AC_COMPLETE, which says it too."""
        return bool(self.of(sid, AC_DONE, AC_COMPLETE))

    def logs(self) -> list[str]:
        return [a[3] for a, _d in self.actions if a[0] == AC_LOG]

    def body(self, sid: int) -> bytes:
        return b"".join(d or b"" for _a, d in self.of(sid, AC_DATA, AC_COMPLETE))

    async def until(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                self._arrived.clear()
                await self._arrived.wait()
        assert not self.failures and not self.bridge.failed

    def close(self) -> None:
        self.bridge.close()


def pumped(test: Callable[[Pump], Any]) -> Callable[[], None]:
    """Run ``async test(pump)`` on a fresh loop with a fresh bridge."""

    def runner() -> None:
        async def main() -> None:
            pump = Pump()
            try:
                await test(pump)
            finally:
                pump.close()

        run(main())

    runner.__name__ = test.__name__
    runner.__doc__ = test.__doc__
    return runner


@pumped
async def test_a_small_answer_comes_back_as_one_complete_action(pump: Pump) -> None:
    pump.request(1, "/hi")
    await pump.until(lambda: pump.released(1))
    kinds = [a[0] for a, _d in pump.of(1)]
    assert kinds == [AC_COMPLETE]  # which also says JS released the stream
    complete = pump.of(1, AC_COMPLETE)[0][0]  # [kind, sid, offset, length, status, headers]
    assert complete[3] == len(b"hello GET /hi") and complete[4] == 200
    flat = complete[5]
    assert dict(zip(flat[::2], flat[1::2], strict=True))["x-a"] == "1"
    assert pump.body(1) == b"hello GET /hi"


@pumped
async def test_a_log_line_too_long_for_a_frame_is_cut_and_says_so(pump: Pump) -> None:
    """A frame holds 1 MiB: a 10 MB line was dropped whole (one error line instead)."""
    pump.request(1, "/biglog?n=10000000")
    pump.request(2, "/biglog?n=1000")
    await pump.until(lambda: pump.released(1) and pump.released(2))
    long, short = pump.logs()
    assert long == "x" * 262144 + f"... [{10_000_000 - 262144} more characters not logged]"
    assert short == "x" * 1000


@pumped
async def test_a_timers_output_is_collected_from_v8s_thread(pump: Pump) -> None:
    """Actions JS queues in a task of its own (a timer) are collected by a post from V8's
    thread, without waking the loop first; they arrive in order all the same."""
    pump.request(9, "/ticks")
    await pump.until(lambda: pump.released(9))
    assert pump.body(9) == b"tick 0;tick 1;tick 2;"
    assert [a[0] for a, _d in pump.of(9)][-1] in (AC_DONE, AC_END)
    assert pump.bridge.collected_here >= 3


@pumped
async def test_known_bytes_past_the_window_come_as_head_data_end_done(pump: Pump) -> None:
    pump.request(2, "/bytes?n=3000", window=1000)
    await pump.until(lambda: pump.of(2, AC_HEAD))
    assert [a[0] for a, _d in pump.of(2)] == [AC_HEAD, AC_DATA]  # 1000 bytes: the window
    assert pump.of(2, AC_HEAD)[0][0][4] == 3000
    pump.bridge.send([EV_CREDIT, 2, 2000])
    await pump.until(lambda: pump.released(2))
    assert [a[0] for a, _d in pump.of(2)] == [AC_HEAD, AC_DATA, AC_DATA, AC_END, AC_DONE]
    assert pump.body(2) == b"x" * 3000


@pumped
async def test_requests_sent_under_a_hold_ride_in_one_pump(pump: Pump) -> None:
    """The worker holds the bridge while it handles the frames of one message: requests
    (``batch``) wait for the release and go in one pump; without the hold the first went in
    a pump of its own and the others in the next."""
    before = pump.bridge.pumps
    pump.bridge.hold()
    for sid in (1, 2, 3):
        pump.request(sid, f"/r{sid}", batch=True)
    await asyncio.sleep(0.05)
    assert pump.bridge.pumps == before and not pump.actions  # nothing posted yet
    pump.bridge.release()
    await pump.until(lambda: all(pump.released(sid) for sid in (1, 2, 3)))
    assert pump.bridge.pumps == before + 1
    assert [pump.body(sid) for sid in (1, 2, 3)] == [b"hello GET /r1", b"hello GET /r2",
                                                      b"hello GET /r3"]

    before = pump.bridge.pumps
    pump.bridge.hold()
    pump.request(4, "/r4")  # not batched (credit, body, cancel): posted at once
    pump.request(5, "/r5", batch=True)  # rides in the next pump, after the one in flight
    await pump.until(lambda: pump.released(4))
    pump.bridge.release()
    await pump.until(lambda: pump.released(5))
    assert pump.bridge.pumps == before + 2


@pumped
async def test_what_promise_reactions_produce_leaves_with_the_pump(pump: Pump) -> None:
    """The async handler's response, and a stream's head with its first chunk (made in
    microtasks after the events were handled), come back as the result of one pump: V8 runs
    the microtasks before the collect that follows each pump, so no notification and no
    second pump are needed."""
    before = pump.bridge.pumps
    pump.request(1, "/hi")
    await pump.until(lambda: pump.released(1))
    assert pump.bridge.pumps == before + 1
    before = pump.bridge.pumps
    pump.request(2, "/streamed")
    await pump.until(lambda: pump.of(2, AC_DATA))
    assert pump.bridge.pumps == before + 1
    assert [a[0] for a, _d in pump.of(2)][:2] == [AC_HEAD, AC_DATA]
    assert pump.body(2) == b"first"


@pumped
async def test_request_body_is_pulled_with_credit_and_echoed(pump: Pump) -> None:
    """JS asks for the body with AC_CREDIT (never more than its window outstanding); the
    chunks handed to it come back as the response body, in order."""
    body = bytes(range(256)) * 100  # 25,600 bytes: several windows
    pump.request(2, "/echo", method="POST", body=True)
    await pump.until(lambda: pump.of(2, AC_CREDIT))
    granted = sum(a[2] for a, _d in pump.of(2, AC_CREDIT))
    assert granted == REQUEST_WINDOW
    sent = 0
    while sent < len(body):
        # Hand JS exactly what it granted so far, as worker.py's _deliver_body does.
        granted = sum(a[2] for a, _d in pump.of(2, AC_CREDIT))
        assert granted - sent <= REQUEST_WINDOW
        if granted == sent:
            await pump.until(lambda s=sent: sum(a[2] for a, _d in pump.of(2, AC_CREDIT)) > s)
            continue
        n = min(granted - sent, len(body) - sent, 3000)
        pump.bridge.send([EV_DATA, 2], body[sent:sent + n])
        sent += n
    pump.bridge.send([EV_END, 2])
    await pump.until(lambda: pump.of(2, AC_END))
    assert pump.body(2) == body


@pumped
async def test_response_data_waits_for_credit(pump: Pump) -> None:
    """With a 4,000-byte response window JS sends exactly 4,000 bytes, then nothing until
    EV_CREDIT grants more."""
    pump.request(3, "/bytes?n=10000", window=4000)
    await pump.until(lambda: len(pump.body(3)) >= 4000)
    # A second request, served after the first one stalled, is a barrier: its actions come
    # from a later pump than any the stalled stream could have used.
    pump.request(4, "/hi")
    await pump.until(lambda: pump.released(4))
    assert len(pump.body(3)) == 4000 and not pump.of(3, AC_END)
    pump.bridge.send([EV_CREDIT, 3, 6000])
    await pump.until(lambda: pump.of(3, AC_END))
    assert pump.body(3) == b"x" * 10000


@pumped
async def test_cancel_event_cancels_the_response_stream(pump: Pump) -> None:
    pump.request(5, "/endless", window=3000)
    await pump.until(lambda: len(pump.body(5)) >= 3000)
    pump.bridge.send([EV_CANCEL, 5, "client gone"])
    await pump.until(lambda: any("cancelled" in m for m in pump.logs()))
    assert "cancelled: The client went away: client gone" in pump.logs()
    pump.bridge.send([EV_CREDIT, 5, 10_000])  # late credit: nothing more is sent
    pump.request(6, "/hi")
    await pump.until(lambda: pump.released(6))
    assert len(pump.body(5)) == 3000 and not pump.of(5, AC_END)


@pumped
async def test_events_queued_while_a_pump_runs_share_the_next_one(pump: Pump) -> None:
    """At most one pump is in flight: 50 requests sent at once take a few pumps, not 50."""
    before = pump.bridge.pumps
    for sid in range(100, 150):
        pump.request(sid, f"/n{sid}")
    await pump.until(lambda: all(pump.released(sid) for sid in range(100, 150)))
    assert pump.bridge.pumps - before <= 10
    assert all(pump.body(sid) == f"hello GET /n{sid}".encode() for sid in range(100, 150))
