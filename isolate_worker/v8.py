"""One V8 isolate through py_mini_racer, with the few extra powers the bridge needs.

This is the only module that touches mini-racer's internals (pinned to 0.14.x in
``pyproject.toml``). It adds, over the public ``MiniRacer`` API:

* a context without mini-racer's own ``setTimeout`` globals (the runtime brings timers);
* :meth:`V8Context.post` - start an eval without waiting for it: the result arrives later
  through a callback on the owning asyncio loop, so the loop never blocks on JavaScript;
* :meth:`V8Context.notification` - a JS function that, when called, schedules a Python
  callback on the loop (the cheapest JS -> Python signal mini-racer has);
* :meth:`V8Context.terminate` - ``v8::Isolate::TerminateExecution`` from any thread, which
  also stops code running in microtasks or timers (mini-racer's own cancellation only
  reaches a running eval);
* :meth:`V8Context.cpu_time` - CPU seconds used by the isolate's thread, for the CPU limit.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from py_mini_racer import JSEvalException
from py_mini_racer._dll import init_mini_racer
from py_mini_racer._exc import JSConversionException
from py_mini_racer._mini_racer import _make_context  # pinned internal API

_TERMINATE = "_ZN2v87Isolate18TerminateExecutionEv"
_GET_CURRENT = "_ZN2v87Isolate13TryGetCurrentEv"

ResultCallback = Callable[[Any, BaseException | None], None]

__all__ = ["JSEvalException", "V8Context"]


# V8's process-wide flags, set before the first isolate: exposing gc lets the runtime run a
# young-generation collection after every few MB of body chunks (js/29_host.js), which keeps
# a streaming worker's memory flat instead of letting dead chunks pile up to V8's 64 MB
# external-memory threshold. The runtime takes the function and blanks the global.
V8_FLAGS = ("--single-threaded", "--expose-gc-as=__isoflow_gc")


class V8Context:
    """A V8 isolate with one context, driven from one asyncio loop (or from any thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=True)
        self._stack = ExitStack()
        self._ctx = self._stack.enter_context(_make_context(loop))
        self._dll = self._ctx._dll
        self._raw = self._ctx._ctx
        self.loop = self._ctx.event_loop
        self._isolate_ptr: int | None = None
        self._thread_ident: int | None = None
        self._cpu_clock: int | None = None
        self._code_handles: dict[str, Any] = {}
        self.closed = False
        self._install_thread_probe()

    # -- evaluation ---------------------------------------------------------------------

    def eval(self, code: str) -> Any:
        """Evaluate ``code`` and wait for its result (blocking the calling thread)."""
        ctx = self._ctx
        if ctx.are_we_running_on_the_mini_racer_event_loop():
            return ctx.eval(code)
        fut = asyncio.run_coroutine_threadsafe(ctx.eval_cancelable(code), self.loop)
        return fut.result()

    def post(self, code: str, on_result: ResultCallback) -> None:
        """Start evaluating ``code``; ``on_result(value, error)`` runs later on the loop.

        The code string's V8 handle is cached, so posting the same fixed expression again
        costs no conversion. Must be called on the loop's thread.
        """
        handle = self._code_handles.get(code)
        if handle is None:
            handle = self._ctx._python_to_value_handle(code)
            self._code_handles[code] = handle
        callback_id = next(self._ctx._next_async_callback_id)
        callbacks = self._ctx._active_cancelable_mr_task_callbacks

        def done(val_handle: Any) -> None:
            callbacks.pop(callback_id, None)
            if self.closed:
                return
            try:
                value = self._ctx._value_handle_to_python(val_handle)
            except (JSEvalException, JSConversionException) as e:
                on_result(None, e)
                return
            on_result(value, None)

        callbacks[callback_id] = done
        self._dll.mr_eval(self._raw, handle.raw, callback_id)

    # -- JS -> Python -------------------------------------------------------------------

    def notification(self, func: Callable[[], None]) -> Any:
        """A JS function that schedules ``func()`` on the loop each time JS calls it.

        The returned object must be kept referenced from JS (see :meth:`set_global`).
        """
        callback_id = next(self._ctx._next_async_callback_id)
        self._ctx._active_cancelable_mr_task_callbacks[callback_id] = lambda _h: func()
        raw = self._dll.mr_make_js_callback(self._raw, callback_id)
        return self._ctx._value_handle_to_python(self._ctx._wrap_raw_handle(raw))

    def set_global(self, name: str, value: Any) -> None:
        """Set ``globalThis[name] = value`` (value may be a JS object from this context)."""
        glob = self.eval("globalThis")
        glob[name] = value

    # -- limits -------------------------------------------------------------------------

    def _install_thread_probe(self) -> None:
        """Learn the isolate's address and thread by running Python once on V8's thread."""
        ctx = self._ctx
        original = ctx.handle_callback_from_v8
        dll = self._dll
        get_current = getattr(dll, _GET_CURRENT, None)
        if get_current is not None:
            get_current.restype = ctypes.c_void_p
        terminate = getattr(dll, _TERMINATE, None)
        if terminate is not None:
            terminate.argtypes = [ctypes.c_void_p]
            terminate.restype = None
        seen = threading.Event()

        def probe(callback_id: int, raw: Any) -> None:
            if not seen.is_set():
                if get_current is not None:
                    self._isolate_ptr = get_current()
                self._thread_ident = threading.get_ident()
                seen.set()
            original(callback_id, raw)

        object.__setattr__(ctx, "handle_callback_from_v8", probe)
        fn = self.notification(lambda: None)
        self.set_global("__isoflow_probe", fn)
        self.eval("__isoflow_probe(); delete globalThis.__isoflow_probe; 0")
        seen.wait(5)
        if self._thread_ident is not None:
            try:
                self._cpu_clock = time.pthread_getcpuclockid(self._thread_ident)
            except (OSError, AttributeError):
                self._cpu_clock = None

    @property
    def can_terminate(self) -> bool:
        return self._isolate_ptr is not None and hasattr(self._dll, _TERMINATE)

    def terminate(self) -> bool:
        """Stop whatever JavaScript is running now (thread-safe). False if unsupported."""
        if not self.can_terminate or self.closed:
            return False
        getattr(self._dll, _TERMINATE)(self._isolate_ptr)
        return True

    def cpu_time(self) -> float | None:
        """CPU seconds consumed by the isolate's thread so far, or None if unknown."""
        if self._cpu_clock is None:
            return None
        try:
            return time.clock_gettime(self._cpu_clock)
        except OSError:
            return None

    def set_memory_limit(self, hard: int, soft: int | None = None) -> None:
        self._ctx.set_hard_memory_limit(hard)
        if soft is not None:
            self._ctx.set_soft_memory_limit(soft)

    def memory_limit_reached(self) -> bool:
        return self._ctx.was_hard_memory_limit_reached()

    def heap_stats(self) -> dict[str, Any]:
        import json

        return json.loads(self._ctx.heap_stats())

    def close(self) -> None:
        """Free the isolate. Terminates running JavaScript first so the free cannot hang."""
        if self.closed:
            return
        self.terminate()
        self.closed = True
        self._code_handles.clear()
        self._stack.close()
