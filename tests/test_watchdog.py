"""The bridge's watchdog against a V8 thread that is blocked, not busy (a real isolate whose
V8 thread is held in a native callback): the pump V8 never answers gets the isolate
replaced, and freeing that isolate never blocks the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from isoflow.isolate_worker.bridge import Bridge, BridgeConfig, IsolateFailure
from isoflow.isolate_worker.kinds import EV_CANCEL


def install_blocker(bridge: Bridge, release: threading.Event) -> None:
    """``globalThis.block()``: holds V8's thread (no CPU) until ``release`` is set."""
    ctx = bridge.v8._ctx  # mini-racer's: a JS function whose call runs Python on V8's thread
    blocker_id = next(ctx._next_async_callback_id)
    ctx._active_cancelable_mr_task_callbacks[blocker_id] = lambda _handle: None
    raw = ctx._dll.mr_make_js_callback(ctx._ctx, blocker_id)
    fn = ctx._value_handle_to_python(ctx._wrap_raw_handle(raw))
    original = ctx.handle_callback_from_v8

    def on_callback(callback_id: int, raw: Any) -> None:
        if callback_id == blocker_id:
            release.wait(30)  # on V8's thread: it stops here, using no CPU
        original(callback_id, raw)

    object.__setattr__(ctx, "handle_callback_from_v8", on_callback)
    bridge.v8.set_global("block", fn)


def test_a_pump_that_v8_never_answers_replaces_the_isolate():
    async def scenario() -> tuple[IsolateFailure, float, bool, bool]:
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[IsolateFailure] = loop.create_future()
        config = BridgeConfig(stall_limit=0.3, cpu_limit=0.2)
        bridge = Bridge(loop, lambda action, data: None,
                        lambda f: failed.done() or failed.set_result(f), config)
        release = threading.Event()
        try:
            install_blocker(bridge, release)
            # From before V8 stands still: its stall may be counted from that moment.
            start = time.monotonic()
            # A timer holds V8's thread; the next pump (any event) is never answered.
            bridge.eval("setTimeout(() => block(), 0); 0")
            await asyncio.sleep(0.05)
            bridge.send([EV_CANCEL, 1, "nothing"])
            assert bridge._in_flight
            failure = await asyncio.wait_for(failed, 10)
            took = time.monotonic() - start
            freed = bridge.close(wait=False)  # returns at once, V8 still held
            assert freed is not None
            blocked = not freed.is_set()
            release.set()
            unblocked = await asyncio.to_thread(freed.wait, 10)
            return failure, took, blocked, unblocked
        finally:
            release.set()
            bridge.close()

    failure, took, blocked, unblocked = asyncio.run(scenario())
    assert failure.reason == "error" and "no progress" in str(failure), failure
    assert 0.3 <= took < 5, took
    assert blocked and unblocked
