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
import ctypes
import itertools
import logging
import weakref
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from .kinds import EV_OP_RESULT

log = logging.getLogger("isoflow.worker.ops")

OpResult = tuple[Any, bytes | None]
OpFunc = Callable[[list[Any], bytes | None, "OpState"], Awaitable[OpResult]]
REGISTRY: dict[str, OpFunc] = {}
THREAD_THRESHOLD = 1 << 20  # payloads this large are processed off the event loop


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


async def run_blocking(data: bytes | None, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` inline for small payloads, in a thread for large ones."""
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
# pieces of at most OUTPUT_PIECE bytes, so a small input that inflates to gigabytes (a bomb)
# is never whole in this process: an op's status "more" makes the script enqueue the piece and
# ask again (compression.push without bytes, or compression.end again) until the output of
# the input given so far is out.

OUTPUT_PIECE = 1 << 18

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "deflate-raw": -zlib.MAX_WBITS}
_FORMATS = (*_WBITS, "brotli")
# Brotli's quality 11 (its library's default) compresses about fifty times slower than 5 for a
# few percent of size: a stream compresses on the fly, like HTTP content encodings do.
_BROTLI_QUALITY = 5


class _Corrupt(Exception):
    """The compressed data is not valid in its format."""


class _Inflater:
    """zlib's decompressor for "deflate", "deflate-raw" and "gzip"."""

    def __init__(self, fmt: str) -> None:
        self.obj = zlib.decompressobj(wbits=_WBITS[fmt])
        self.input = b""
        self.trailing = False  # there was input after the end of the compressed data

    @property
    def ended(self) -> bool:
        return self.obj.eof

    def feed(self, data: bytes) -> None:
        if self.obj.eof:
            self.trailing = self.trailing or bool(data)
        else:
            self.input += data

    def pull(self) -> tuple[bytes, bool]:
        """At most OUTPUT_PIECE bytes of output, and whether more may follow without input."""
        if self.obj.eof:
            return b"", False
        try:
            out = self.obj.decompress(self.input, OUTPUT_PIECE)
        except zlib.error as e:
            raise _Corrupt(str(e)) from None
        self.input = self.obj.unconsumed_tail
        if self.obj.eof:
            self.trailing = bool(self.obj.unused_data)
            return out, False
        # A full piece may leave output inside zlib even when all input was taken.
        return out, bool(self.input) or len(out) == OUTPUT_PIECE


def _brotli_decoder_library() -> Any:
    """The brotli package's C decoder (its extension module exports the library's functions),
    or None. Only the C interface says where a brotli stream ends (``available_in`` after
    BROTLI_DECODER_RESULT_SUCCESS): ``brotli.Decompressor.process`` fails when its input goes
    on after the end and drops that call's output, which the standard says is enqueued."""
    try:
        import _brotli

        lib = ctypes.CDLL(_brotli.__file__)
        lib.BrotliDecoderCreateInstance.restype = ctypes.c_void_p
        lib.BrotliDecoderCreateInstance.argtypes = [ctypes.c_void_p] * 3
        lib.BrotliDecoderDestroyInstance.restype = None
        lib.BrotliDecoderDestroyInstance.argtypes = [ctypes.c_void_p]
        lib.BrotliDecoderDecompressStream.restype = ctypes.c_int
        lib.BrotliDecoderDecompressStream.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        lib.BrotliDecoderGetErrorCode.restype = ctypes.c_int
        lib.BrotliDecoderGetErrorCode.argtypes = [ctypes.c_void_p]
        lib.BrotliDecoderErrorString.restype = ctypes.c_char_p
        lib.BrotliDecoderErrorString.argtypes = [ctypes.c_int]
    except (ImportError, OSError, AttributeError):
        return None
    return lib


# BrotliDecoderResult (brotli/decode.h)
_BROTLI_ERROR, _BROTLI_SUCCESS, _BROTLI_NEEDS_MORE_INPUT, _BROTLI_NEEDS_MORE_OUTPUT = 0, 1, 2, 3
_brotli_lib: Any = False  # loaded on first use


class _BrotliDecoder:
    """A BrotliDecoderState of the brotli package's C library."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        state = lib.BrotliDecoderCreateInstance(None, None, None)
        if not state:
            raise MemoryError("brotli decoder")
        self.state = state
        weakref.finalize(self, lib.BrotliDecoderDestroyInstance, state)
        self.available_in = ctypes.c_size_t(0)
        self.next_in = ctypes.c_void_p(0)
        self.ended = False
        self.trailing = False
        self._forget_input()

    def _forget_input(self) -> None:
        self.buffer = ctypes.create_string_buffer(1)  # holds the input not yet decoded
        self.next_in.value = ctypes.addressof(self.buffer)
        self.available_in.value = 0

    def feed(self, data: bytes) -> None:
        if self.ended:
            self.trailing = self.trailing or bool(data)
            return
        if not data:
            return
        rest = ctypes.string_at(self.next_in.value, self.available_in.value)
        self.buffer = ctypes.create_string_buffer(rest + data, len(rest) + len(data))
        self.next_in.value = ctypes.addressof(self.buffer)
        self.available_in.value = len(rest) + len(data)

    def pull(self) -> tuple[bytes, bool]:
        if self.ended:
            return b"", False
        buffer = ctypes.create_string_buffer(OUTPUT_PIECE)
        available_out = ctypes.c_size_t(OUTPUT_PIECE)
        next_out = ctypes.c_void_p(ctypes.addressof(buffer))
        result = self.lib.BrotliDecoderDecompressStream(
            self.state, ctypes.byref(self.available_in), ctypes.byref(self.next_in),
            ctypes.byref(available_out), ctypes.byref(next_out), None)
        out = ctypes.string_at(buffer, OUTPUT_PIECE - available_out.value)
        if result == _BROTLI_ERROR:
            code = self.lib.BrotliDecoderGetErrorCode(self.state)
            raise _Corrupt(self.lib.BrotliDecoderErrorString(code).decode("ascii", "replace"))
        if result == _BROTLI_SUCCESS:
            self.ended = True
            self.trailing = self.available_in.value > 0
        if self.ended or self.available_in.value == 0:
            self._forget_input()
        return out, result == _BROTLI_NEEDS_MORE_OUTPUT


class _BrotliModuleDecoder:
    """``brotli.Decompressor`` where the C library is not reachable: bounded the same way,
    but input after the end of the data loses the output of the piece it came with."""

    def __init__(self) -> None:
        import brotli

        self.error = brotli.error
        self.obj = brotli.Decompressor()
        self.input = b""
        self.ended = False
        self.trailing = False

    def feed(self, data: bytes) -> None:
        if self.ended:
            self.trailing = self.trailing or bool(data)
        else:
            self.input += data

    def pull(self) -> tuple[bytes, bool]:
        if self.ended:
            return b"", False
        data, self.input = self.input, b""
        try:
            out = self.obj.process(data, output_buffer_limit=OUTPUT_PIECE)
        except self.error as e:
            raise _Corrupt(f"{e} (or other data follows its end)") from None
        self.ended = self.obj.is_finished()
        # A full piece can end with all input taken and output still inside the decoder.
        full = len(out) >= OUTPUT_PIECE or not self.obj.can_accept_more_data()
        return out, not self.ended and full


class _BrotliCompressor:
    def __init__(self) -> None:
        import brotli

        self.obj = brotli.Compressor(quality=_BROTLI_QUALITY)

    def compress(self, data: bytes) -> bytes:
        return self.obj.process(data)

    def flush(self) -> bytes:
        return self.obj.finish()


def _decoder(fmt: str) -> Any:
    global _brotli_lib
    if fmt != "brotli":
        return _Inflater(fmt)
    if _brotli_lib is False:
        _brotli_lib = _brotli_decoder_library()
    return _BrotliModuleDecoder() if _brotli_lib is None else _BrotliDecoder(_brotli_lib)


class _Codec:
    def __init__(self, fmt: str, compress: bool) -> None:
        self.compress = compress
        if not compress:
            self.obj: Any = _decoder(fmt)
        elif fmt == "brotli":
            self.obj = _BrotliCompressor()
        else:
            self.obj = zlib.compressobj(wbits=_WBITS[fmt])


def _decoded(codec: _Codec, handle: int, state: OpState) -> OpResult:
    """The next piece of decompressed output and its status: "more" (more output is there
    without more input), "trailing" (the input went on after the end of the compressed data:
    the script enqueues the piece, then throws, "decompress and enqueue a chunk" step 6) or
    None (all output of the input so far is out)."""
    try:
        out, more = codec.obj.pull()
    except _Corrupt as e:
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
    if fmt not in _FORMATS:
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
