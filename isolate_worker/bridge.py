"""The Python half of the bridge into V8 (the JS half is ``js/29_host.js``).

Python never calls a JS function per request or per chunk. It queues *events*; when V8 is
free it writes them all into shared memory and posts two fixed expressions without waiting,
``__isoflow_pump()`` (the events in) and ``__isoflow_collect()`` (after V8's microtasks, the
actions out). The collect's result (every *action* JS produced, body bytes in shared
memory) comes back on the asyncio loop; each action is checked against
its row of ``kinds.ACTIONS`` and handed to ``on_action`` (a malformed one to ``on_refused``).
When JS produces actions in a task of its own (a timer: what no collect is coming for) it
calls a notification function; on V8's thread, Python posts the collect right there unless a
pump is in flight (then the loop is told, and pumps again when that one is done).
At most one pump is in flight; events that arrive meanwhile ride on the next one, so
batches grow with load.

The bridge also watches the isolate: a CPU-time limit per task, charged from V8's own
thread clock (enforced with ``TerminateExecution``), the memory limit over V8's heap and
external memory (v8.py), the worker's RSS backstop, and a pump that V8 never answers. Each
makes the isolate unusable; ``on_fatal`` is told and the owner replaces the bridge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isoflow.protocol import WS_MESSAGE_COST, ProtocolError

from .entropy import EntropyPool
from .kinds import DATA_ACTIONS, ActionError, action_error, valid_action
from .runtime import load_runtime
from .v8 import JSEvalException, V8Context, process_rss

log = logging.getLogger("isoflow.worker.bridge")


LOAD_WATCH_INTERVAL = 0.05  # seconds between looks at V8's CPU clock while a script loads
MERGE_LIMIT = 1 << 20  # adjacent data actions are merged into chunks of up to this size
CACHE_MAX = 64 << 20  # bytes the Cache API may keep (an eighth of the memory limit up to this)
_BUFFERS = "__isoflow_boot.internals.host.buffers"
PARTIAL = 1 << 31  # inJson length flag: a piece of a batch too large for the buffer, more follow


def _compact_encoder(ensure_ascii: bool) -> Callable[[Any], str]:
    """A compact JSON encoder for events. ``JSONEncoder.encode`` builds its C encoder anew
    for every call, half the cost of a request's event; this one is built once (no
    circular-reference check: events are the bridge's own lists). ``JSONEncoder.encode``
    itself where the C encoder is missing or does not answer as it does."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=ensure_ascii)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    strings = json.encoder.encode_basestring_ascii if ensure_ascii else \
        json.encoder.encode_basestring
    join = "".join
    try:
        c_encode = make(None, encoder.default, strings, None, ":", ",", False, False, True)

        def encode(value: Any) -> str:
            return join(c_encode(value, 0))

        sample = [1, -2.5, "a\"\u00e9\u20ac\n", None, True, [False, []], {"k": "v"}]
        if encode(sample) != encoder.encode(sample):
            return encoder.encode
    except TypeError:  # another signature in another Python
        return encoder.encode
    return encode


# Text goes to JS one byte per code unit (latin-1), so header bytes 0x80-0xFF cost one byte,
# not a six-byte \u escape; only text beyond U+00FF falls back to ASCII escapes.
_encode_latin1 = _compact_encoder(ensure_ascii=False)
_encode_ascii = _compact_encoder(ensure_ascii=True)

Action = list[Any]
OnAction = Callable[[Action, memoryview | None], None]
# Told when an event (event=True) or an action could not be handled: its stream, fetch or
# op fails instead of the pump.
OnRefused = Callable[..., None]  # (item, error, *, event: bool)


def encode_event(event: list[Any]) -> bytes:
    """One event as the bytes JS decodes code unit by code unit (29_host.js, latin-1)."""
    try:
        return _encode_latin1(event).encode("latin-1")
    except UnicodeEncodeError:
        return _encode_ascii(event).encode("ascii")


@dataclass
class BridgeConfig:
    in_json_size: int = 1 << 20
    in_bin_size: int = 4 << 20
    out_bin_size: int = 4 << 20
    request_window: int = 256 << 10
    max_chunk: int = 256 << 10
    worker_id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    cpu_limit: float = 30.0  # CPU seconds of V8's thread per task (pump, timer)
    memory_limit: int = 512 << 20  # bytes of V8 heap plus external memory (ArrayBuffers, wasm)
    watchdog_interval: float = 0.05
    idle_watch_interval: float = 1.0  # seconds between the watchdog's looks while V8 is idle
    stall_limit: float = 10.0  # seconds a pump may be in flight while V8 uses no CPU at all
    max_subrequests: int = 50  # fetch() calls per incoming request
    wall_time_after_response: float = 30.0  # seconds a request's timers/waitUntil may run on
    max_runtime_failures: int = 10  # consecutive runtime failures before the isolate is replaced
    pump_token: str = field(default_factory=lambda: secrets.token_hex(16))
    allow_private: bool = False  # may fetch() reach private (RFC 1918, ULA) addresses?
    allow_loopback: bool = False  # may fetch() reach 127.0.0.0/8 and ::1?
    websocket_max_message: int = 1 << 20  # bytes of one WebSocket message (js/37_websocket.js)
    websocket_connections: int = 1000  # open WebSockets and TCP sockets per worker (0: no limit)
    log_budget_full: bool = True  # False once an isolate was replaced (js/29_host.js logFits)

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
            "wallTimeAfterResponse": self.wall_time_after_response,
            "pumpToken": self.pump_token,
            "wsMaxMessage": self.websocket_max_message,
            "wsMessageCost": WS_MESSAGE_COST,
            "cacheBytes": min(self.memory_limit // 8, CACHE_MAX),
            "logBudgetFull": self.log_budget_full,
        }


class EvalTimeout(Exception):
    """An evaluation at start-up used more than its CPU limit (V8 was terminated)."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"did not finish within {limit:g} s of CPU time")
        self.limit = limit


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
        on_refused: OnRefused | None = None,
    ) -> None:
        self.loop = loop
        self.config = config or BridgeConfig()
        self._on_action = on_action
        self._on_fatal = on_fatal
        self._on_batch_end = on_batch_end  # after a pump's actions, before the next pump
        self._on_refused = on_refused
        self._events: deque[tuple[list[Any], bytes | memoryview | None]] = deque()
        self._spill: bytes | None = None  # a batch larger than inJson, going in pieces
        self._spill_pos = 0
        # `_in_flight`: a pump (or a collect) is posted and its actions not yet handled. The
        # loop sets it, and V8's thread too (`_collect_here`): both check and set it under
        # `_flight_lock`.
        self._in_flight = False
        self._again = False
        self._flight_lock = threading.Lock()
        self._holds = 0  # hold() calls not released yet
        self._due = False  # a pump became due while held
        self.closed = False
        self.failed: IsolateFailure | None = None
        self.pumps = 0  # pumps completed, for stats
        self.collected_here = 0  # collects posted from V8's thread (_collect_here)
        self.v8 = V8Context(loop)
        self.v8.set_memory_limit(self.config.memory_limit)
        self.pre_pump: list[Callable[[], None]] = []  # run before each pump is posted
        # Two fixed expressions, posted back to back (js/29_host.js): the events in, then,
        # after V8's microtasks, the actions out.
        self._pump = f'__isoflow_pump("{self.config.pump_token}")'
        self._collect = f'__isoflow_collect("{self.config.pump_token}")'
        self.v8.prepare(self._pump, self._collect)
        load_runtime(self.v8.eval, before_seal=self._configure, extra=extra_runtime)
        self._watch_progress = -1
        self._task_cpu = self.v8.cpu_time()  # V8's CPU clock when the current task began
        self._watch_cpu = self._task_cpu
        self._stalled = 0  # watchdog ticks in a row with a pump in flight and V8's clock still
        self._resting = False  # the watchdog looks every idle_watch_interval: V8 was idle
        self.rss_limit = 0  # the worker's RSS backstop in bytes (Worker sets it); 0: none
        self._watchdog: asyncio.TimerHandle | None = loop.call_later(
            self.config.watchdog_interval, self._watch)

    def _configure(self) -> None:
        self._notify_fn = self.v8.notification(self._on_notify, here=self._collect_here)
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

    def eval(self, code: str, cpu_limit: float | None = None) -> Any:
        """Evaluate code synchronously (start-up only: loading the user's script). With
        ``cpu_limit``, V8 is terminated once this evaluation has used that many seconds of
        its thread's CPU: EvalTimeout (a script whose top level never ends)."""
        start = self.v8.cpu_time() if cpu_limit is not None else None
        if start is None or not self.v8.can_terminate:
            return self.v8.eval(code)
        done = threading.Event()
        fired: list[bool] = []

        def watch() -> None:
            while not done.wait(LOAD_WATCH_INTERVAL):
                now = self.v8.cpu_time()
                if now is not None and now - start > cpu_limit:
                    fired.append(True)
                    self.v8.terminate()
                    return

        watcher = threading.Thread(target=watch, name="isoflow-load-watch", daemon=True)
        watcher.start()
        try:
            value = self.v8.eval(code)
        except JSEvalException:
            if fired:
                raise EvalTimeout(cpu_limit) from None
            raise
        finally:
            done.set()
            watcher.join()
        if fired:  # it ended as it was stopped: a termination may still be pending
            raise EvalTimeout(cpu_limit)
        return value

    def heap_stats(self) -> dict[str, Any]:
        """The isolate's heap and external memory at its latest GC (never waits for V8)."""
        return self.v8.heap_stats()

    def status(self, cpu_limit: float | None = None) -> dict[str, Any]:
        """What the script registered (its handlers); it runs the script's code too (getters,
        a Proxy's traps on its default export): bounded as :meth:`eval` is."""
        return json.loads(self.eval("__isoflow_status()", cpu_limit))

    # -- events -------------------------------------------------------------------------

    def send(self, event: list[Any], payload: bytes | memoryview | None = None, *,
             batch: bool = False) -> None:
        """Queue an event for JS. With a payload, its offset and length are appended.
        ``batch``: under :meth:`hold`, its pump waits for the release (a new request)."""
        if self.closed:
            return
        if payload is not None and len(payload) > len(self._in_bin):
            # Split: the protocol caps chunks far below the buffer, but be safe.
            step = len(self._in_bin)
            for i in range(0, len(payload), step):
                self._events.append((list(event), payload[i : i + step]))
        else:
            self._events.append((event, payload))
        self._schedule(batch)

    def hold(self) -> None:
        """Until :meth:`release`, events sent with ``batch`` wait for it to be pumped: the
        requests of one message from the supervisor (it often carries several) then ride in
        one pump, not the first in a pump of its own and the rest in the next. Only new
        requests: two credit grants in one pump halved a generated body's pumps and cost a
        fifth of its MB/s (V8 and the front took turns instead of overlapping)."""
        self._holds += 1

    def release(self) -> None:
        self._holds -= 1
        if not self._holds and self._due:
            self._schedule()

    def _schedule(self, batch: bool = False) -> None:
        if batch and self._holds:
            # A new request under hold: its pump waits for the release, which schedules
            # (under the lock) whatever is due. _holds is the loop's alone: no lock needed.
            self._due = True
            return
        with self._flight_lock:
            if self._in_flight:
                self._again = True
                return
            if self.closed:
                return
            self._in_flight = True
        self._post()

    def _on_notify(self) -> None:
        self._schedule()

    def _collect_here(self) -> bool:
        """On V8's thread, as JS notifies that it queued actions outside a pump (a timer's,
        say): unless a pump is in flight, post the collect from here. It runs right after the
        task that notified, and its result reaches the loop as a pump's would: the loop is
        woken once, not twice, and V8's thread not at all (~0.2 ms less for a timer's chunk
        after idleness, bench/enqueue.py). False: the loop is told, as before."""
        with self._flight_lock:
            if self._in_flight or self.closed:
                return False
            self._in_flight = True
            self._again = False
        self.collected_here += 1
        self.v8.post(self._collect, self._on_pump_done)
        return True

    def _write_inbox(self) -> None:
        """Write queued events into inJson (and their bytes into inBin) for the next pump.

        An event that does not fit in inJson on its own goes alone, in pieces over as many
        pumps as it takes (``PARTIAL``); JS joins them. An event that cannot be encoded is
        dropped and reported (``on_refused``): nothing stays at the head of the queue.
        """
        if self._spill is not None:
            self._write_piece()
            return
        events = self._events
        in_bin = self._in_bin
        limit = len(self._in_json) - 8
        parts: list[bytes] = []
        size = 2
        offset = 0
        while events:
            event, payload = events[0]
            n = 0
            if payload is not None:
                n = len(payload)
                if offset + n > len(in_bin):
                    break
                event = [*event, offset, n]
            try:
                text = encode_event(event)
            except Exception as e:
                events.popleft()
                self._refuse(event, e, event=True)
                continue
            if size + len(text) + 1 > limit:
                if parts:
                    break
                events.popleft()  # alone and too large: it goes in pieces
                if payload is not None:
                    in_bin[0:n] = payload
                self._spill, self._spill_pos = b"[" + text + b"]", 0
                self._write_piece()
                return
            if payload is not None:
                in_bin[offset : offset + n] = payload
                offset += n
            parts.append(text)
            size += len(text) + 1
            events.popleft()
        if not parts:
            self._in_json[0:4] = b"\0\0\0\0"
            return
        data = b"[" + b",".join(parts) + b"]"
        self._in_json[4 : 4 + len(data)] = data
        self._in_json[0:4] = len(data).to_bytes(4, "little")

    def _write_piece(self) -> None:
        """The next piece of an oversized batch; flagged PARTIAL unless it is the last."""
        data, pos = self._spill, self._spill_pos
        assert data is not None
        n = min(len(data) - pos, len(self._in_json) - 8)
        self._in_json[4 : 4 + n] = data[pos : pos + n]
        pos += n
        last = pos == len(data)
        self._in_json[0:4] = (n if last else n | PARTIAL).to_bytes(4, "little")
        self._spill, self._spill_pos = (None, 0) if last else (data, pos)

    def _refuse(self, item: Any, error: Exception, *, event: bool) -> None:
        """One event or action could not be handled: its owner fails it, the pump goes on."""
        # A refusal by the protocol (a head over the frame limit, a malformed action) is one
        # line; a bug is not.
        head = item[:2] if type(item) is list else item  # a malformed action: anything
        log.error("isolate %s: cannot handle %s %.80r: %s", self.config.worker_id,
                  "event" if event else "action", head, error,
                  exc_info=None if isinstance(error, (ProtocolError, ActionError)) else error)
        if self._on_refused is not None:
            try:
                self._on_refused(item, error, event=event)
            except Exception:
                log.exception("failing %.80r broke too", head)

    def _post(self) -> None:
        """Post a pump and its collect; the caller has set ``_in_flight``."""
        self._due = False
        for hook in self.pre_pump:
            hook()
        self._write_inbox()
        self._again = False
        if self._resting:
            self._wake_watchdog()
        self.v8.post(self._collect, self._on_pump_done, first=self._pump)

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
            if type(actions) is not list or not actions:
                raise TypeError("not a list [more, ...actions]")
        except (TypeError, ValueError, RecursionError) as e:  # RecursionError: nested deep
            self._in_flight = False
            self._fail(IsolateFailure("error", f"bad pump result: {e}"))
            return
        except MemoryError:  # millions of actions: the isolate goes (else it is wedged)
            size = len(value)
            del value
            self._in_flight = False
            self._fail(IsolateFailure("error", f"the pump's actions ({size} characters) did "
                                               "not fit in the worker's memory"))
            return
        more = actions[0]
        try:
            self._dispatch_actions(actions)
        except Exception as e:  # a bug of ours: the isolate goes, the worker and pump go on
            log.exception("actions of a pump failed")
            self._in_flight = False
            self._fail(IsolateFailure("error", f"the pump's actions failed: {e!r}"))
            return
        finally:
            if self._on_batch_end is not None:
                self._on_batch_end()
        if self.closed:
            return
        with self._flight_lock:
            again = more or self._again or self._events or self._spill is not None
            self._in_flight = bool(again)
        if again:
            self._post()

    def _dispatch_actions(self, actions: list[Any]) -> None:
        out_bin = self._out_bin
        out_size = len(out_bin)
        on_action = self._on_action
        count = len(actions)
        i = 1
        while i < count:
            action = actions[i]
            i += 1
            if not valid_action(action, out_size):
                self._refuse(action, action_error(action, out_size), event=False)
                if self.closed:
                    return
                continue
            if action[0] in DATA_ACTIONS:
                kind, ident, off, n = action[0], action[1], action[2], action[3]
                if len(action) == 4:  # a chunk (AC_COMPLETE has more: it is a whole body)
                    # Chunks of one stream that follow each other in outBin travel as one: a
                    # pump often carries many 64 KiB chunks, and every frame has a fixed cost.
                    while i < count and n < MERGE_LIMIT:
                        nxt = actions[i]
                        if (not valid_action(nxt, out_size) or nxt[0] != kind
                                or nxt[1] != ident or nxt[2] != off + n):
                            break
                        n += nxt[3]
                        i += 1
                    action = [kind, ident, off, n]
                data: memoryview | None = out_bin[off : off + n]
            else:
                data = None
            try:
                on_action(action, data)
            except Exception as e:
                self._refuse(action, e, event=False)
            if self.closed:
                return

    # -- limits -------------------------------------------------------------------------

    def _watch(self) -> None:
        """Every interval (every idle interval while V8 is idle): charge V8's CPU to the task
        it runs, and check the memory limits.

        A task (pump, timer) is charged with the CPU time of V8's own thread since it began
        (the runtime bumps ``ctrl[0]`` at each task), however long that took in wall time:
        a runaway loses nothing by being starved of CPU by other processes. A pump in flight
        while V8's clock stands still for ``stall_limit`` seconds means V8 is blocked, not
        busy (a starved thread still gets some CPU every scheduler period): the isolate is
        replaced too.
        """
        if self.closed:
            return
        resting, self._resting = self._resting, False
        self._watchdog = self.loop.call_later(self.config.watchdog_interval, self._watch)
        if self.v8.memory_limit_reached():
            self._fail(IsolateFailure("memory", "the isolate exceeded its memory limit"))
            return
        if self.rss_limit and process_rss() > self.rss_limit:
            self.v8.terminate()
            self._fail(IsolateFailure("memory", "the worker's resident memory exceeded "
                                      f"{self.rss_limit >> 20} MiB"))
            return
        cpu = self.v8.cpu_time()
        if cpu is None or self._task_cpu is None:
            return
        progress = self._ctrl[0]
        ran = progress != self._watch_progress
        if ran:
            self._watch_progress = progress
            self._task_cpu = cpu
        elif resting:
            # A task V8 started on its own (an Atomics.waitAsync or FinalizationRegistry
            # callback: no progress mark) began after V8 was last seen idle.
            self._task_cpu = self._watch_cpu
        still = cpu == self._watch_cpu
        self._watch_cpu = cpu
        if still and not ran and not self._in_flight and not self._events:
            # V8 is idle: the watchdog looks again only every idle_watch_interval (idle
            # workers woke 20 times a second for nothing), until a pump wakes it. But it
            # looks: a task V8 starts on its own (a timer long after the response) may spin.
            self._watchdog.cancel()
            self._watchdog = self.loop.call_later(self.config.idle_watch_interval, self._watch)
            self._resting = True
            return
        self._stalled = self._stalled + 1 if self._in_flight and still else 0
        stall_limit = self.config.stall_limit
        if self._stalled * self.config.watchdog_interval > stall_limit:
            self.v8.terminate()
            self._fail(IsolateFailure("error", f"V8 made no progress for {stall_limit:g} s"))
            return
        busy = cpu - self._task_cpu
        if busy > self.config.cpu_limit:
            log.warning("isolate %s ran one task for %.2f s of CPU: terminating",
                        self.config.worker_id, busy)
            self.v8.terminate()
            self._fail(IsolateFailure("cpu", "the script exceeded its CPU time limit"))

    def _wake_watchdog(self) -> None:
        """Back to a look every ``watchdog_interval``: V8 has work again."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._resting = False
        self._watchdog = self.loop.call_later(self.config.watchdog_interval, self._watch)

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

    def close(self, *, wait: bool = True) -> threading.Event | None:
        """Free the isolate. ``wait=False`` frees it on a thread of its own (after a
        termination V8 might not stop) and returns an event set once it is freed."""
        if self.closed:
            return None
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._events.clear()
        if not wait:
            return self.v8.close_in_thread()
        self.v8.close()
        return None


__all__ = ["Bridge", "BridgeConfig", "IsolateFailure", "JSEvalException"]
