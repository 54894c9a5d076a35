"""The Python half of the bridge into V8 (the JS half is ``js/90_bridge.js``).

Python never calls a JS function per request or per chunk. It queues *events*; when V8 is
free it writes them all into shared memory and posts one fixed expression,
``__isoflow_pump()``, without waiting. The pump's result (every *action* JS produced, body
bytes in shared memory) comes back on the asyncio loop and is handed to ``on_action``.
When JS produces actions later (promise reactions, timers) it calls a notification
function, and Python posts another pump. At most one pump is in flight; events that arrive
meanwhile ride on the next one, so batches grow with load.

The bridge also watches the isolate: a CPU-time limit per uninterrupted stretch of
JavaScript (enforced with ``TerminateExecution``) and V8's hard heap limit. Either one
makes the isolate unusable; ``on_fatal`` is told and the owner replaces the bridge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .entropy import EntropyPool
from .kinds import DATA_ACTIONS
from .runtime import load_runtime
from .v8 import JSEvalException, V8Context

log = logging.getLogger("isoflow.worker.bridge")


MERGE_LIMIT = 1 << 20  # adjacent data actions are merged into chunks of up to this size
_BUFFERS = "__isoflow_boot.internals.host.buffers"
# One compact encoder for every event: json.dumps with separators builds a new one per call.
_encode_event = json.JSONEncoder(separators=(",", ":")).encode

Action = list[Any]
OnAction = Callable[[Action, memoryview | None], None]


@dataclass
class BridgeConfig:
    in_json_size: int = 1 << 20
    in_bin_size: int = 4 << 20
    out_bin_size: int = 4 << 20
    request_window: int = 256 << 10
    max_chunk: int = 256 << 10
    worker_id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    cpu_limit: float = 30.0  # seconds of uninterrupted JavaScript
    memory_limit: int = 512 << 20  # bytes of V8 heap
    watchdog_interval: float = 0.05
    max_subrequests: int = 50  # fetch() calls per incoming request
    pump_token: str = field(default_factory=lambda: secrets.token_hex(16))
    allow_private: bool = False  # may fetch() reach private (RFC 1918, ULA) addresses?
    allow_loopback: bool = False  # may fetch() reach 127.0.0.0/8 and ::1?

    def js_options(self) -> dict[str, Any]:
        return {
            "inJsonSize": self.in_json_size,
            "inBinSize": self.in_bin_size,
            "outBinSize": self.out_bin_size,
            "requestWindow": self.request_window,
            "maxChunk": self.max_chunk,
            "workerId": self.worker_id,
            "env": self.env,
            "maxSubrequests": self.max_subrequests,
            "pumpToken": self.pump_token,
        }


class IsolateFailure(Exception):
    """The isolate cannot go on: CPU limit, memory limit, or an internal error."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "cpu", "memory" or "error"


class Bridge:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_action: OnAction,
        on_fatal: Callable[[IsolateFailure], None],
        config: BridgeConfig | None = None,
        *,
        extra_runtime: tuple[tuple[str, str], ...] = (),
        on_batch_end: Callable[[], None] | None = None,
    ) -> None:
        self.loop = loop
        self.config = config or BridgeConfig()
        self._on_action = on_action
        self._on_fatal = on_fatal
        self._on_batch_end = on_batch_end  # after a pump's actions, before the next pump
        self._events: deque[tuple[list[Any], bytes | memoryview | None]] = deque()
        self._in_flight = False
        self._again = False
        self.closed = False
        self.failed: IsolateFailure | None = None
        self.pumps = 0  # pumps completed, for stats
        self._heap: dict[str, Any] = {}
        self.v8 = V8Context(loop)
        self.v8.set_memory_limit(self.config.memory_limit)
        self.pre_pump: list[Callable[[], None]] = []  # run before each pump is posted
        self._pump = f'__isoflow_pump("{self.config.pump_token}")'  # one fixed expression
        load_runtime(self.v8.eval, before_seal=self._configure, extra=extra_runtime)
        self._watch_progress = -1
        self._watch_cpu = self.v8.cpu_time()
        self._busy_cpu = 0.0
        self._watchdog = loop.call_later(self.config.watchdog_interval, self._watch)

    def _configure(self) -> None:
        self._notify_fn = self.v8.notification(self._on_notify)
        self.v8.set_global("__isoflow_notify", self._notify_fn)
        options = json.dumps(self.config.js_options())
        self.v8.eval(f"__isoflow_boot.internals.host.configure({options})")
        self._in_json: memoryview = self.v8.eval(f"{_BUFFERS}.inJson")
        self._in_bin: memoryview = self.v8.eval(f"{_BUFFERS}.inBin")
        self._out_bin: memoryview = self.v8.eval(f"{_BUFFERS}.outBin")
        self._ctrl: memoryview = self.v8.eval(f"{_BUFFERS}.ctrl").cast("i")
        # crypto.getRandomValues' entropy pool (js/35_crypto.js): filled now, and refilled
        # before every pump in the halves JS has flagged empty.
        self.entropy = EntropyPool(self.v8.eval("__isoflow_boot.internals.crypto.pool"))
        self.pre_pump.append(self.entropy.refill)

    # -- scripts ------------------------------------------------------------------------

    def eval(self, code: str) -> Any:
        """Evaluate code synchronously (start-up only: loading the user's script)."""
        return self.v8.eval(code)

    def heap_stats(self) -> dict[str, Any]:
        """V8 heap statistics, refreshed only while JavaScript is idle.

        Reading them waits for V8's thread; while a script runs (up to the CPU limit) that
        would stall the loop and its heartbeats, so a busy isolate reports the last value.
        """
        if not self._in_flight and self._busy_cpu == 0.0 and not self.closed:
            self._heap = self.v8.heap_stats()
        return self._heap

    def status(self) -> dict[str, Any]:
        return json.loads(self.v8.eval("__isoflow_status()"))

    # -- events -------------------------------------------------------------------------

    def send(self, event: list[Any], payload: bytes | memoryview | None = None) -> None:
        """Queue an event for JS. With a payload, its offset and length are appended."""
        if self.closed:
            return
        if payload is not None and len(payload) > len(self._in_bin):
            # Split: the protocol caps chunks far below the buffer, but be safe.
            step = len(self._in_bin)
            for i in range(0, len(payload), step):
                self._events.append((list(event), payload[i : i + step]))
        else:
            self._events.append((event, payload))
        self._schedule()

    def _schedule(self) -> None:
        if self._in_flight:
            self._again = True
        elif not self.closed:
            self._post()

    def _on_notify(self) -> None:
        self._schedule()

    def _write_inbox(self) -> None:
        events = self._events
        in_bin = self._in_bin
        limit = len(self._in_json) - 8
        parts: list[bytes] = []
        size = 2
        offset = 0
        while events:
            event, payload = events[0]
            if payload is not None:
                n = len(payload)
                if offset + n > len(in_bin):
                    break
                in_bin[offset : offset + n] = payload
                event = [*event, offset, n]
            text = _encode_event(event).encode("ascii")
            if size + len(text) + 1 > limit:
                if not parts:
                    raise ValueError(f"event of {len(text)} bytes exceeds the bridge buffer")
                break
            if payload is not None:
                offset += len(payload)
            parts.append(text)
            size += len(text) + 1
            events.popleft()
        if not parts:
            self._in_json[0:4] = b"\0\0\0\0"
            return
        data = b"[" + b",".join(parts) + b"]"
        self._in_json[4 : 4 + len(data)] = data
        self._in_json[0:4] = len(data).to_bytes(4, "little")

    def _post(self) -> None:
        for hook in self.pre_pump:
            hook()
        self._write_inbox()
        self._in_flight = True
        self._again = False
        self.v8.post(self._pump, self._on_pump_done)

    def _on_pump_done(self, value: Any, error: BaseException | None) -> None:
        # `_in_flight` stays set while the actions are handled: their handlers may send
        # events, and the next pump must not start (and overwrite outBin) before we are done.
        if self.closed:
            return
        self.pumps += 1
        if error is not None:
            self._in_flight = False
            self._fail_from_error(error)
            return
        try:
            actions = json.loads(value)
        except (TypeError, ValueError) as e:
            self._in_flight = False
            self._fail(IsolateFailure("error", f"bad pump result: {e}"))
            return
        more = actions[0]
        try:
            self._dispatch_actions(actions)
        finally:
            if self._on_batch_end is not None:
                self._on_batch_end()
        if self.closed:
            return
        self._in_flight = False
        if more or self._again or self._events:
            self._post()

    def _dispatch_actions(self, actions: list[Any]) -> None:
        out_bin = self._out_bin
        on_action = self._on_action
        count = len(actions)
        i = 1
        while i < count:
            action = actions[i]
            i += 1
            if action[0] in DATA_ACTIONS:
                kind, ident, off, n = action
                # Chunks of one stream that follow each other in outBin travel as one: a
                # pump often carries many 64 KiB chunks, and every frame has a fixed cost.
                while i < count and n < MERGE_LIMIT:
                    nxt = actions[i]
                    if nxt[0] != kind or nxt[1] != ident or nxt[2] != off + n:
                        break
                    n += nxt[3]
                    i += 1
                on_action([kind, ident, off, n], out_bin[off : off + n])
            else:
                on_action(action, None)
            if self.closed:
                return

    # -- limits -------------------------------------------------------------------------

    def _watch(self) -> None:
        """Every interval: has JS made progress? If not and its thread burns CPU, count it."""
        if self.closed:
            return
        self._watchdog = self.loop.call_later(self.config.watchdog_interval, self._watch)
        if self.v8.memory_limit_reached():
            self._fail(IsolateFailure("memory", "the isolate exceeded its memory limit"))
            return
        cpu = self.v8.cpu_time()
        progress = self._ctrl[0]
        if cpu is None or self._watch_cpu is None:
            return
        used = cpu - self._watch_cpu
        self._watch_cpu = cpu
        if progress != self._watch_progress:
            self._watch_progress = progress
            self._busy_cpu = used
            return
        if used < self.config.watchdog_interval * 0.25:
            self._busy_cpu = 0.0  # idle or waiting: not one stretch of JavaScript
            return
        self._busy_cpu += used
        if self._busy_cpu > self.config.cpu_limit:
            log.warning("isolate %s ran %.2fs of JavaScript without a break: terminating",
                        self.config.worker_id, self._busy_cpu)
            self.v8.terminate()
            self._fail(IsolateFailure("cpu", "the script exceeded its CPU time limit"))

    def _fail_from_error(self, error: BaseException) -> None:
        if self.v8.memory_limit_reached():
            failure = IsolateFailure("memory", "the isolate exceeded its memory limit")
        elif self.failed is not None:
            return
        else:
            failure = IsolateFailure("error", f"the isolate failed: {error!r}")
        self._fail(failure)

    def _fail(self, failure: IsolateFailure) -> None:
        if self.failed is not None:
            return
        self.failed = failure
        self._on_fatal(failure)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._watchdog.cancel()
        self._events.clear()
        self.v8.close()


__all__ = ["Bridge", "BridgeConfig", "IsolateFailure", "JSEvalException"]
