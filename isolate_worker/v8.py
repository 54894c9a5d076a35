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
* :meth:`V8Context.cpu_time` - CPU seconds used by the isolate's thread, for the CPU limit;
* a memory limit over the isolate's *whole* memory: V8's heap and its external memory
  (ArrayBuffers, typed arrays, ``WebAssembly.Memory``), checked on V8's own thread after
  every major GC (``v8::Isolate::GetHeapStatistics`` from a GC epilogue callback). V8
  starts one whenever external memory grows by 64 MiB, so an isolate is stopped within one
  such step of its limit. mini-racer's own limit (the heap alone) is kept for scavenges;
* :func:`process_rss` and :func:`limit_process_data`: the process-wide backstops.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from importlib import resources
from typing import Any

from py_mini_racer import JSEvalException
from py_mini_racer._dll import _get_lib_filename, init_mini_racer
from py_mini_racer._exc import JSConversionException
from py_mini_racer._mini_racer import _make_context  # pinned internal API

_TERMINATE = "_ZN2v87Isolate18TerminateExecutionEv"
_GET_CURRENT = "_ZN2v87Isolate13TryGetCurrentEv"
_HEAP_STATS = "_ZN2v87Isolate17GetHeapStatisticsEPNS_14HeapStatisticsE"
_REQUEST_INTERRUPT = "_ZN2v87Isolate16RequestInterruptEPFvPS0_PvES2_"
_INITIALIZE_ICU = "_ZN2v82V813InitializeICUEPKc"
_MEMORY_PRESSURE = "_ZN2v87Isolate26MemoryPressureNotificationENS_19MemoryPressureLevelE"
_CRITICAL = 2  # v8::MemoryPressureLevel::kCritical: a full GC, at once on V8's thread
_ADD_GC_EPILOGUE = ("_ZN2v87Isolate21AddGCEpilogueCallbackEPFvPS0_NS_6GCTypeENS_15"
                    "GCCallbackFlagsEPvES4_S2_")
# v8::HeapStatistics is 14 size_t fields (V8 14.4); the ones read here, by index:
_USED_HEAP, _TOTAL_HEAP, _EXTERNAL = 4, 0, 7
# Mark-compact, minor mark-sweep and incremental marking, not scavenges: those are the
# frequent ones (a Python callback each would cost ~10 % of the bridge's request rate), and
# external-memory pressure starts incremental marking anyway. Heap growth is caught at every
# scavenge by mini-racer's own (heap-only, C++) limit, which stays set.
_GC_TYPES = 0x0E
_GCCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                               ctypes.c_void_p)
_InterruptCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_PAGE = os.sysconf("SC_PAGE_SIZE")
_pyapi = ctypes.PyDLL(None)  # CPython's C API, called with the GIL held
# Python 3.11 frees a dead thread's state from another thread cleanly (PyThreadState_Delete
# clears the GIL-state key only if it is the caller's own). 3.12 reworked how a state is
# bound to its thread and unbound on delete; until that is checked, V8's thread gets there
# ctypes' per-callback thread states, as it always did (correct, only slower).
KEEP_THREAD_STATE = sys.version_info < (3, 12)
_pyapi.PyGILState_Ensure.restype = ctypes.c_int
_pyapi.PyThreadState_Get.restype = ctypes.c_void_p
_pyapi.PyThreadState_Clear.argtypes = [ctypes.c_void_p]
_pyapi.PyThreadState_Delete.argtypes = [ctypes.c_void_p]

ResultCallback = Callable[[Any, BaseException | None], None]
_FIRST_ERROR_TYPE = 200  # mini-racer's value types from here on are exceptions

__all__ = ["JSEvalException", "V8Context", "limit_process_data", "process_rss"]

_contexts: dict[int, V8Context] = {}  # by key, for the GC callback (its data pointer)
_keys = iter(range(1, 1 << 62))


def _on_gc(isolate: int, _type: int, _flags: int, data: int) -> None:
    """On V8's thread, after a GC: charge heap + external memory against the limit."""
    ctx = _contexts.get(data or 0)
    if ctx is not None:
        ctx._check_memory(isolate)


def _on_interrupt(isolate: int, data: int) -> None:
    """On V8's thread, JavaScript paused (outside any GC): confirm with a full GC."""
    ctx = _contexts.get(data or 0)
    if ctx is not None:
        ctx._confirm_over_limit(isolate)


# Module-level: they must outlive every isolate.
_GC_CALLBACK = _GCCallback(_on_gc)
_INTERRUPT_CALLBACK = _InterruptCallback(_on_interrupt)


def preload_library() -> None:
    """Load mini-racer's library and V8's ICU data without starting V8 (the zygote does,
    before it forks).

    The dynamic linker's work on the library (~100,000 relocations, each resolving a symbol
    by name in its 14 MB string table) and the read of ICU's 10 MB of data are then done
    once: the forked workers inherit both, instead of each keeping ~16 MB of the library's
    pages resident and a private copy of the data. The read-only pages the load read are
    dropped from this process (they stay in the page cache); pages the linker wrote are
    left alone."""
    folder = resources.files("py_mini_racer")
    with resources.as_file(folder / _get_lib_filename("mini_racer")) as path, \
            resources.as_file(folder / "icudtl.dat") as icu_data:
        if not (path.exists() and icu_data.exists()):
            return  # mini-racer is broken; the worker will say so when it starts V8
        lib = ctypes.CDLL(str(path))
        initialize_icu = getattr(lib, _INITIALIZE_ICU, None)
        if initialize_icu is not None:
            initialize_icu.argtypes = (ctypes.c_char_p,)
            initialize_icu.restype = ctypes.c_bool
            initialize_icu(str(icu_data).encode())
        _drop_clean_pages(str(path))


_MADV_DONTNEED = 4


def _drop_clean_pages(path: str) -> None:
    """``madvise(MADV_DONTNEED)`` each read-only mapping of ``path`` that holds no page of
    this process's own: its pages come back from the file if ever touched again."""
    spans: list[tuple[int, int]] = []
    span: tuple[int, int] | None = None
    with open("/proc/self/smaps") as f:
        for line in f:
            if line[0] in "0123456789abcdef" and "-" in line.split(" ", 1)[0]:
                fields = line.split()
                span = None
                if fields[-1] == path and "w" not in fields[1]:
                    start, _, end = fields[0].partition("-")
                    span = (int(start, 16), int(end, 16))
            elif span is not None and line.startswith("Anonymous:"):
                if int(line.split()[1]) == 0:
                    spans.append(span)
                span = None
    madvise = ctypes.CDLL(None).madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    for start, end in spans:
        madvise(start, end - start, _MADV_DONTNEED)


def process_rss() -> int:
    """This process's resident set size in bytes (/proc/self/statm: cheap enough per tick)."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


def trim_malloc() -> None:
    """Give the C heap's free pages back to the system (glibc; a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def process_data() -> int:
    """This process's data segment (VmData: private writable mappings), in bytes."""
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmData:"):
                return int(line.split()[1]) << 10
    return 0


def limit_process_data(headroom: int) -> int:
    """Let the process's private writable memory grow by ``headroom`` bytes at most
    (RLIMIT_DATA): past it the kernel refuses the pages, so one huge allocation (an
    ``ArrayBuffer`` or ``WebAssembly.Memory`` of gigabytes, filled by one builtin call before
    any check can run) fails with a RangeError instead of growing the process. Returns the
    limit set."""
    return set_data_limit(process_data() + headroom)


def set_data_limit(limit: int) -> int:
    """Set RLIMIT_DATA's soft limit (at most the hard one); returns the limit set."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return limit


# V8's process-wide flags, set before the first isolate: exposing gc lets the runtime run a
# young-generation collection after every few MB of body chunks (js/29_host.js), which keeps
# a streaming worker's memory flat instead of letting dead chunks pile up to V8's 64 MB
# external-memory threshold. The runtime takes the function and blanks the global.
# --max-semi-space-size (MB): V8 grows the young generation to 16 MB a semi-space under
# allocation pressure and keeps it: a worker stayed ~60 MB larger after a burst of requests.
# At 4 MB it stays ~40 MB smaller, at the same CPU per request and MB/s (docs/performance.md).
# --enable-experimental-regexp-engine-on-excessive-backtracks: a regexp that backtracks more
# than 50,000 times runs again on V8's linear-time engine (same result), if it has none of
# what that engine lacks (backreferences, lookarounds, the u, v and i flags): a script's own
# catastrophic regexp, and URLPattern's (js/19_urlpattern.js compileRegexp), on a hostile input.
V8_FLAGS = (
    "--single-threaded",
    "--expose-gc-as=__isoflow_gc",
    "--max-semi-space-size=4",
    "--enable-experimental-regexp-engine-on-excessive-backtracks",
)


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
        self._thread_state: int | None = None  # V8's thread's Python state (see the probe)
        self._cpu_clock: int | None = None
        self._code_handles: dict[str, Any] = {}
        self.closed = False
        self._memory_limit = 0  # bytes of heap + external memory; 0: none
        self._over_limit = False
        self._confirming = False  # a full GC to confirm an excess is requested
        self._stats = (0, 0, 0)  # used heap, total heap, external: at the latest GC
        self._key = next(_keys)
        self._gc_installed = False
        _contexts[self._key] = self
        # The callback of a `first` eval (see post): dropped on V8's thread unless an error.
        self._quiet_id = next(self._ctx._next_async_callback_id)
        self._quiet: tuple[ResultCallback, list[bool]] | None = None
        self._here: dict[int, Callable[[], bool]] = {}  # notifications' V8-thread halves
        self._install_thread_probe()

    # -- evaluation ---------------------------------------------------------------------

    def eval(self, code: str) -> Any:
        """Evaluate ``code`` and wait for its result (blocking the calling thread)."""
        ctx = self._ctx
        if ctx.are_we_running_on_the_mini_racer_event_loop():
            return ctx.eval(code)
        fut = asyncio.run_coroutine_threadsafe(ctx.eval_cancelable(code), self.loop)
        return fut.result()

    def prepare(self, *codes: str) -> None:
        """Convert the code strings to post now (a post from V8's thread then finds them)."""
        for code in codes:
            self._code_handle(code)

    def _code_handle(self, code: str) -> Any:
        handle = self._code_handles.get(code)
        if handle is None:
            handle = self._ctx._python_to_value_handle(code)
            self._code_handles[code] = handle
        return handle

    def post(self, code: str, on_result: ResultCallback, *, first: str | None = None) -> None:
        """Start evaluating ``code``; ``on_result(value, error)`` runs later on the loop.
        Called on the loop's thread, or on V8's from a notification's ``here`` (without
        ``first``: the eval then runs after the task that called the notification).

        ``first``, if given, is evaluated just before, its value dropped on V8's thread (the
        loop is not woken for it) unless it is an error, which ``on_result`` gets instead
        (``code``'s result then follows too). V8 runs every microtask between the two. One
        post with ``first`` may be in flight at a time (the bridge posts one pump at a time).
        The code strings' V8 handles are cached, so posting the same fixed expressions again
        costs no conversion.
        """
        handle = self._code_handle(code)
        failed: list[bool] = []  # set when `first` failed: its error was the result
        if first is not None:
            self._quiet = (on_result, failed)
            self._dll.mr_eval(self._raw, self._code_handle(first).raw, self._quiet_id)
        callback_id = next(self._ctx._next_async_callback_id)
        callbacks = self._ctx._active_cancelable_mr_task_callbacks

        def done(val_handle: Any) -> None:
            callbacks.pop(callback_id, None)
            if self.closed or failed:
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

    def notification(self, func: Callable[[], None],
                     here: Callable[[], bool] | None = None) -> Any:
        """A JS function that schedules ``func()`` on the loop each time JS calls it.

        ``here``, if given, runs first, on V8's thread while JS waits for the call to return
        (it may :meth:`post`, not evaluate); when it returns True, ``func`` is not scheduled
        and the loop is not woken. The returned object must be kept referenced from JS (see
        :meth:`set_global`).
        """
        callback_id = next(self._ctx._next_async_callback_id)
        self._ctx._active_cancelable_mr_task_callbacks[callback_id] = lambda _h: func()
        if here is not None:
            self._here[callback_id] = here
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
        stats = getattr(dll, _HEAP_STATS, None)
        add_gc = getattr(dll, _ADD_GC_EPILOGUE, None)
        interrupt = getattr(dll, _REQUEST_INTERRUPT, None)
        pressure = getattr(dll, _MEMORY_PRESSURE, None)
        if None in (stats, add_gc, interrupt, pressure):
            stats = add_gc = None  # mini-racer's heap-only limit, then
        else:
            stats.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            stats.restype = None
            add_gc.argtypes = [ctypes.c_void_p, _GCCallback, ctypes.c_void_p, ctypes.c_int]
            add_gc.restype = None
            interrupt.argtypes = [ctypes.c_void_p, _InterruptCallback, ctypes.c_void_p]
            interrupt.restype = None
            pressure.argtypes = [ctypes.c_void_p, ctypes.c_int]
            pressure.restype = None
            self._get_heap_stats = stats
            self._request_interrupt = interrupt
            self._memory_pressure = pressure
        seen = threading.Event()

        quiet_id = self._quiet_id

        here = self._here

        def probe(callback_id: int, raw: Any) -> None:
            if callback_id == quiet_id:
                self._on_quiet_result(raw)
                return
            hook = here.get(callback_id)
            if hook is not None and seen.is_set() and hook():
                self._ctx._wrap_raw_handle(raw)  # the call's argument, freed with its handle
                return
            if not seen.is_set():
                # V8's thread is not Python's: ctypes gives each of its callbacks (every
                # pump's result, every notification) a Python thread state made and freed
                # for the call (a 16 KiB frame stack mapped and unmapped, with a TLB
                # shootdown). One more reference keeps this thread's for the isolate's life;
                # close() frees it once the thread is gone. Only where freeing another
                # thread's state from this one is known to be safe (see KEEP_THREAD_STATE).
                if KEEP_THREAD_STATE:
                    _pyapi.PyGILState_Ensure()
                    self._thread_state = _pyapi.PyThreadState_Get()
                if get_current is not None:
                    self._isolate_ptr = get_current()
                self._thread_ident = threading.get_ident()
                if self._isolate_ptr and stats is not None and add_gc is not None:
                    # On V8's thread, inside JS: the isolate is locked, callbacks may be added.
                    add_gc(self._isolate_ptr, _GC_CALLBACK, self._key, _GC_TYPES)
                    self._gc_installed = True
                    self._check_memory(self._isolate_ptr)
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

    def _on_quiet_result(self, raw: Any) -> None:
        """On V8's thread: a `first` eval's result. Its handle is freed here; an error (an
        exception type, mini-racer's 200-206) goes to the loop as that eval's result."""
        handle = self._ctx._wrap_raw_handle(raw)
        if handle.raw.contents.type < _FIRST_ERROR_TYPE:
            return  # a value: dropped (the handle frees it)
        if self._quiet is None or self.closed:
            return
        on_result, failed = self._quiet
        failed.append(True)  # before the loop can see the second eval's result

        def report() -> None:
            if self.closed:
                return
            try:
                self._ctx._value_handle_to_python(handle)
            except (JSEvalException, JSConversionException) as e:
                on_result(None, e)
            else:
                on_result(None, JSEvalException("the pump failed"))

        self.loop.call_soon_threadsafe(report)

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

    def set_memory_limit(self, limit: int) -> None:
        """Bound the isolate's heap plus external memory to ``limit`` bytes (V8 terminated
        past it); without the GC callback (symbols missing), the heap alone."""
        self._memory_limit = limit
        self._ctx.set_hard_memory_limit(limit)

    def memory_limit_reached(self) -> bool:
        return self._over_limit or self._ctx.was_hard_memory_limit_reached()

    def _read_memory(self, isolate: int) -> int:
        """Heap plus external bytes now (on V8's thread); keeps the figures for stats."""
        buf = (ctypes.c_size_t * 16)()
        self._get_heap_stats(isolate, ctypes.addressof(buf))
        used, external = buf[_USED_HEAP], buf[_EXTERNAL]
        self._stats = (used, buf[_TOTAL_HEAP], external)
        return used + external

    def _check_memory(self, isolate: int) -> None:
        """On V8's thread (GC epilogue, or the probe): over the limit? The figures may still
        count garbage (external memory is released when V8 sweeps), so the verdict comes
        from a full GC, run at V8's next interrupt check: within microseconds while
        JavaScript runs, at its next entry when it is idle."""
        total = self._read_memory(isolate)
        if (self._memory_limit and total > self._memory_limit and not self._over_limit
                and not self._confirming):
            self._confirming = True
            self._request_interrupt(isolate, _INTERRUPT_CALLBACK, self._key)

    def _confirm_over_limit(self, isolate: int) -> None:
        """On V8's thread, outside GC: collect everything, then judge what is left."""
        self._memory_pressure(isolate, _CRITICAL)  # full GC, external memory swept
        self._confirming = False
        if self._read_memory(isolate) > self._memory_limit and not self._over_limit:
            self._over_limit = True
            self.terminate()

    def heap_stats(self) -> dict[str, Any]:
        """The isolate's memory at its latest GC (never waits for V8's thread)."""
        used, total, external = self._stats
        return {"used_heap_size": used, "total_heap_size": total, "external_memory": external}

    def close(self) -> None:
        """Free the isolate. Terminates running JavaScript first so the free cannot hang
        (unless V8 ignores the termination: see :meth:`close_in_thread`)."""
        if self.closed:
            return
        self.terminate()
        self.closed = True
        self._code_handles.clear()
        try:
            self._stack.close()  # joins V8's thread
        finally:
            _contexts.pop(self._key, None)
        if self._thread_state is not None:  # the state the probe kept, of a thread now gone
            _pyapi.PyThreadState_Clear(self._thread_state)
            _pyapi.PyThreadState_Delete(self._thread_state)
            self._thread_state = None

    def close_in_thread(self) -> threading.Event:
        """Terminate, then free the isolate on a thread of its own: the caller's loop never
        blocks on a V8 thread that does not stop. The event is set once it is freed."""
        done = threading.Event()
        self.terminate()

        def run() -> None:
            try:
                self.close()
            finally:
                done.set()

        threading.Thread(target=run, name="isoflow-v8-close", daemon=True).start()
        return done
