"""Streaming decompressors with bounded output, and the compressors beside them: zlib's
formats ("gzip", "deflate", "deflate-raw") and brotli.

A decompressor takes input (``feed``) and gives output at most ``OUTPUT_PIECE`` bytes at a
time (``pull``), so a small input that inflates to gigabytes (a bomb) is never whole in
memory: its user takes one piece, hands it on, and asks for the next when it may. Used by
the compression ops (``ops.py``: CompressionStream and DecompressionStream) and by fetch()'s
Content-Encoding decoding (``fetch.py``).
"""

from __future__ import annotations

import ctypes
import weakref
import zlib
from typing import Any

OUTPUT_PIECE = 1 << 18

WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "deflate-raw": -zlib.MAX_WBITS}
FORMATS = (*WBITS, "brotli")
# Brotli's quality 11 (its library's default) compresses about fifty times slower than 5 for a
# few percent of size: a stream compresses on the fly, like HTTP content encodings do.
BROTLI_QUALITY = 5


class Corrupt(Exception):
    """The compressed data is not valid in its format."""


class Inflater:
    """zlib's decompressor for "deflate", "deflate-raw" and "gzip"."""

    def __init__(self, fmt: str) -> None:
        self.obj = zlib.decompressobj(wbits=WBITS[fmt])
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
            raise Corrupt(str(e)) from None
        self.input = self.obj.unconsumed_tail
        if self.obj.eof:
            self.trailing = bool(self.obj.unused_data)
            return out, False
        # A full piece may leave output inside zlib even when all input was taken.
        return out, bool(self.input) or len(out) == OUTPUT_PIECE


def _brotli_library() -> Any:
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


class BrotliDecoder:
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
            raise Corrupt(self.lib.BrotliDecoderErrorString(code).decode("ascii", "replace"))
        if result == _BROTLI_SUCCESS:
            self.ended = True
            self.trailing = self.available_in.value > 0
        if self.ended or self.available_in.value == 0:
            self._forget_input()
        return out, result == _BROTLI_NEEDS_MORE_OUTPUT


class BrotliModuleDecoder:
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
            raise Corrupt(f"{e} (or other data follows its end)") from None
        self.ended = self.obj.is_finished()
        # A full piece can end with all input taken and output still inside the decoder.
        full = len(out) >= OUTPUT_PIECE or not self.obj.can_accept_more_data()
        return out, not self.ended and full


class BrotliCompressor:
    def __init__(self) -> None:
        import brotli

        self.obj = brotli.Compressor(quality=BROTLI_QUALITY)

    def compress(self, data: bytes) -> bytes:
        return self.obj.process(data)

    def flush(self) -> bytes:
        return self.obj.finish()


def decoder(fmt: str) -> Inflater | BrotliDecoder | BrotliModuleDecoder:
    """A decompressor for ``fmt`` (one of FORMATS): ``feed(data)``, then ``pull()`` until it
    says no more output is there; ``ended`` and ``trailing`` say where the data ended."""
    global _brotli_lib
    if fmt != "brotli":
        return Inflater(fmt)
    if _brotli_lib is False:
        _brotli_lib = _brotli_library()
    return BrotliModuleDecoder() if _brotli_lib is None else BrotliDecoder(_brotli_lib)
