"""Native operations JavaScript asks for with ``host.op(name, args, bytes)`` (js/29_host.js).

Work the standards require to be native, or that would be slow in JavaScript, runs here:
compression for CompressionStream/DecompressionStream, and Web Crypto (``crypto_ops.py``).
An op is an async function ``(args, data, state) -> (value, bytes | None)``; it raises
:class:`OpError` with the name of the exception the script should see (a DOMException name,
or "TypeError"). Per-isolate objects (compressor states, keys) live in :class:`OpState`
and are dropped with the isolate.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from .codecs import FORMATS, WBITS, BrotliCompressor, Corrupt, decoder
from .kinds import EV_OP_RESULT

log = logging.getLogger("isoflow.worker.ops")

OpResult = tuple[Any, bytes | None]
OpFunc = Callable[[list[Any], bytes | None, "OpState"], Awaitable[OpResult]]
REGISTRY: dict[str, OpFunc] = {}
THREAD_THRESHOLD = 1 << 20  # payloads this large are processed off the event loop
HEAVY_AT_ONCE = max(1, os.cpu_count() or 1)  # heavy ops (run_blocking) running at once


class OpError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def op(name: str) -> Callable[[OpFunc], OpFunc]:
    def register(fn: OpFunc) -> OpFunc:
        REGISTRY[name] = fn
        return fn

    return register


class OpState:
    """Objects that live as long as the isolate: handle -> object."""

    def __init__(self) -> None:
        self.handles: dict[int, Any] = {}
        self._ids = itertools.count(1)

    def add(self, obj: Any) -> int:
        handle = next(self._ids)
        self.handles[handle] = obj
        return handle

    def get(self, handle: Any, kind: type) -> Any:
        obj = self.handles.get(handle) if isinstance(handle, int) else None
        if not isinstance(obj, kind):
            raise OpError("TypeError", "invalid or released handle")
        return obj

    def release(self, handle: Any) -> None:
        if isinstance(handle, int):
            self.handles.pop(handle, None)


# Heavy ops running at once (a thread each), per event loop (a worker has one).
_heavy_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


async def run_blocking(data: bytes | None, fn: Callable[[], Any], *,
                       heavy: bool = False) -> Any:
    """Run ``fn`` inline for small payloads, in a thread for large ones and for ``heavy``
    work whatever its size (an RSA private-key operation: 30 ms at 8,192 bits, 50 s to make
    a 16,384-bit key), so that the loop goes on answering (heartbeats, other requests).
    Heavy ops run at most as many at once as the host has cores; the others wait here,
    where replacing the isolate cancels them (one that runs cannot be stopped)."""
    if heavy:
        loop = asyncio.get_running_loop()
        slots = _heavy_slots.get(loop)
        if slots is None:
            _heavy_slots.clear()  # an earlier loop's (tests run several, one after another)
            slots = _heavy_slots[loop] = asyncio.Semaphore(HEAVY_AT_ONCE)
        async with slots:
            return await asyncio.to_thread(fn)
    if data is not None and len(data) >= THREAD_THRESHOLD:
        return await asyncio.to_thread(fn)
    return fn()


class OpRunner:
    """Runs the ops of one isolate and sends their results back as events."""

    def __init__(self, emit: Callable[[list[Any], bytes | None], None]) -> None:
        self.emit = emit
        self.state = OpState()
        self._data: dict[int, bytes] = {}
        self._tasks: set[asyncio.Task] = set()

    def data(self, op_id: int, data: memoryview) -> None:
        self._data[op_id] = bytes(data)

    def start(self, op_id: int, name: str, args: Any, has_bytes: bool) -> None:
        data = self._data.pop(op_id, None) if has_bytes else None
        fn = REGISTRY.get(name)
        if fn is None and name.startswith("crypto."):
            # Web Crypto's ops register when their module is first imported: a worker whose
            # script never uses crypto.subtle never loads the cryptography package.
            from . import crypto_ops  # noqa: F401

            fn = REGISTRY.get(name)
        if fn is None or not isinstance(args, list):
            self._reply(op_id, False, {"name": "TypeError", "message": f"unknown op {name!r}"},
                        None)
            return
        task = asyncio.get_running_loop().create_task(self._run(op_id, fn, args, data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, op_id: int, fn: OpFunc, args: list[Any], data: bytes | None) -> None:
        try:
            value, out = await fn(args, data, self.state)
        except OpError as e:
            self._reply(op_id, False, {"name": e.name, "message": e.message}, None)
        except MemoryError:  # the worker's data limit (worker.py): not a bug
            self._reply(op_id, False, {"name": "OperationError", "message":
                                       "The worker is out of memory for this operation."}, None)
        except Exception as e:  # a bug or an unexpected library error: report, don't crash
            log.exception("op failed")
            self._reply(op_id, False, {"name": "OperationError", "message": str(e)}, None)
        else:
            self._reply(op_id, True, value, out)

    def _reply(self, op_id: int, ok: bool, value: Any, out: bytes | None) -> None:
        self.emit([EV_OP_RESULT, op_id, ok, value, out is not None], out)

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._data.clear()
        self.state = OpState()


# -- compression (CompressionStream / DecompressionStream) ---------------------------------
#
# js/16_compression.js runs the Compression standard's transform (https://compression.spec.
# whatwg.org/): these ops keep the compression context. Decompressed output leaves an op in
# pieces of at most ``codecs.OUTPUT_PIECE`` bytes, so a small input that inflates to
# gigabytes (a bomb) is never whole in this process: an op's status "more" makes the script
# enqueue the piece and ask again (compression.push without bytes, or compression.end again)
# until the output of the input given so far is out.


class _Codec:
    def __init__(self, fmt: str, compress: bool) -> None:
        self.compress = compress
        if not compress:
            self.obj: Any = decoder(fmt)
        elif fmt == "brotli":
            self.obj = BrotliCompressor()
        else:
            self.obj = zlib.compressobj(wbits=WBITS[fmt])


def _decoded(codec: _Codec, handle: int, state: OpState) -> OpResult:
    """The next piece of decompressed output and its status: "more" (more output is there
    without more input), "trailing" (the input went on after the end of the compressed data:
    the script enqueues the piece, then throws, "decompress and enqueue a chunk" step 6) or
    None (all output of the input so far is out)."""
    try:
        out, more = codec.obj.pull()
    except Corrupt as e:
        state.release(handle)
        raise OpError("TypeError", f"The compressed data is invalid: {e}") from None
    if more:
        return "more", out
    if codec.obj.trailing:
        state.release(handle)
        return "trailing", out
    return None, out


@op("compression.new")
async def compression_new(args: list[Any], data: bytes | None, state: OpState) -> OpResult:
    fmt, compress = args
    if fmt not in FORMATS:
        raise OpError("TypeError", f"Unsupported compression format: '{fmt}'")
    return state.add(_Codec(fmt, bool(compress))), None


@op("compression.push")
async def compression_push(args: list[Any], data: bytes | None, state: OpState) -> OpResult:
    """Compress or decompress a chunk (no bytes: the next piece of the output)."""
    codec: _Codec = state.get(args[0], _Codec)
    chunk = data or b""
    if codec.compress:
        return None, await run_blocking(chunk, lambda: codec.obj.compress(chunk))
    codec.obj.feed(chunk)
    return await run_blocking(chunk, lambda: _decoded(codec, args[0], state))


@op("compression.end")
async def compression_end(args: list[Any], data: bytes | None, state: OpState) -> OpResult:
    """The end of the input ("compress/decompress flush and enqueue"): the last output; for
    decompression status "more" until it is all out, then a TypeError if the compressed data
    did not reach its end."""
    codec: _Codec = state.get(args[0], _Codec)
    if codec.compress:
        state.release(args[0])
        return None, codec.obj.flush()
    status, out = _decoded(codec, args[0], state)
    if status is not None or out:
        return status or "more", out
    state.release(args[0])
    if not codec.obj.ended:
        raise OpError("TypeError", "The compressed data ended before the end of the stream.")
    return None, b""


@op("compression.release")
async def compression_release(args: list[Any], data: bytes | None, state: OpState) -> OpResult:
    state.release(args[0])
    return None, None
