"""The native half of CompressionStream/DecompressionStream (the compression.* ops of
isolate_worker/ops.py) on its own, called the way js/16_compression.js calls them: every
format, output in bounded pieces (a bomb never decompressed whole), input after the end of the
compressed data, truncated data, and brotli's fallback decoder."""

from __future__ import annotations

import asyncio
import gzip
import os
import zlib
from typing import Any

import brotli
import pytest

from isoflow.isolate_worker import codecs
from isoflow.isolate_worker.codecs import OUTPUT_PIECE
from isoflow.isolate_worker.ops import REGISTRY, OpError, OpState

FORMATS = ["brotli", "deflate", "deflate-raw", "gzip"]
TEXT = b"isoflow streams bytes " * 4000 + os.urandom(3000)


def call(state: OpState, name: str, args: list[Any], data: bytes | None = None) -> Any:
    return asyncio.run(REGISTRY[name](args, data, state))


def encode(fmt: str, data: bytes) -> bytes:
    """The format's bytes from Python's own libraries, not from the ops under test."""
    if fmt == "brotli":
        return brotli.compress(data, quality=4)
    if fmt == "gzip":
        return gzip.compress(data)
    obj = zlib.compressobj(wbits=zlib.MAX_WBITS if fmt == "deflate" else -zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def decode(fmt: str, data: bytes) -> bytes:
    if fmt == "brotli":
        return brotli.decompress(data)
    return zlib.decompress(data, {"gzip": 31, "deflate": 15, "deflate-raw": -15}[fmt])


def run(state: OpState, name: str, handle: int, data: bytes | None,
        pieces: list[bytes]) -> Any:
    """One chunk the way the JS transform runs it: the op, then again without bytes while
    its status is "more"; returns the last status."""
    status, out = call(state, name, [handle], data)
    pieces.append(out)
    while status == "more":
        status, out = call(state, name, [handle], None)
        pieces.append(out)
    return status


def decompress(fmt: str, chunks: list[bytes], state: OpState | None = None) -> list[bytes]:
    state = state or OpState()
    handle, _ = call(state, "compression.new", [fmt, False])
    pieces: list[bytes] = []
    for chunk in chunks:
        assert run(state, "compression.push", handle, chunk, pieces) is None
    assert run(state, "compression.end", handle, None, pieces) is None
    assert handle not in state.handles
    return pieces


@pytest.fixture
def state() -> OpState:
    return OpState()


@pytest.mark.parametrize("fmt", FORMATS)
def test_compressed_output_is_the_format(state, fmt):
    handle, _ = call(state, "compression.new", [fmt, True])
    out = [call(state, "compression.push", [handle], TEXT[:100])[1],
           call(state, "compression.push", [handle], TEXT[100:])[1],
           call(state, "compression.end", [handle])[1]]
    assert decode(fmt, b"".join(out)) == TEXT
    assert handle not in state.handles


@pytest.mark.parametrize("fmt", FORMATS)
def test_decompresses_input_in_any_split(fmt):
    data = encode(fmt, TEXT)
    assert b"".join(decompress(fmt, [data])) == TEXT
    assert b"".join(decompress(fmt, [data[i:i + 5] for i in range(0, len(data), 5)])) == TEXT
    assert b"".join(decompress(fmt, [b"", data[:1], b"", data[1:], b""])) == TEXT


@pytest.mark.parametrize("fmt,data", [
    ("gzip", bytes([31, 139, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    ("deflate", bytes([120, 156, 3, 0, 0, 0, 0, 1])),
    ("deflate-raw", bytes([1, 0, 0, 255, 255])),
    ("brotli", bytes([0xA1, 0x01])),
])
def test_empty_streams(fmt, data):
    assert b"".join(decompress(fmt, [data])) == b""


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bomb_comes_out_in_bounded_pieces(state, fmt):
    size = 64 << 20
    bomb = encode(fmt, bytes(size))
    assert len(bomb) < 200_000
    handle, _ = call(state, "compression.new", [fmt, False])
    status, out = call(state, "compression.push", [handle], bomb)
    assert status == "more" and 0 < len(out) <= OUTPUT_PIECE
    total, calls = len(out), 1
    while status == "more":
        status, out = call(state, "compression.push", [handle])
        assert len(out) <= OUTPUT_PIECE and out.count(0) == len(out)
        total, calls = total + len(out), calls + 1
    assert status is None and total == size and calls >= size // OUTPUT_PIECE
    assert call(state, "compression.end", [handle]) == (None, b"")


@pytest.mark.parametrize("fmt", FORMATS)
def test_input_after_the_end_gives_the_output_then_trailing(state, fmt):
    data = encode(fmt, TEXT)
    handle, _ = call(state, "compression.new", [fmt, False])
    pieces: list[bytes] = []
    assert run(state, "compression.push", handle, data + b"\0", pieces) == "trailing"
    assert b"".join(pieces) == TEXT
    assert handle not in state.handles  # the stream errors: the context is dropped

    # The end in one chunk, the extra byte in the next one.
    handle, _ = call(state, "compression.new", [fmt, False])
    assert run(state, "compression.push", handle, data, []) is None
    assert run(state, "compression.push", handle, b"", []) is None
    assert call(state, "compression.push", [handle], b"x") == ("trailing", b"")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_data_gives_its_output_then_errors_at_the_end(state, fmt):
    data = encode(fmt, TEXT)
    handle, _ = call(state, "compression.new", [fmt, False])
    pieces: list[bytes] = []
    assert run(state, "compression.push", handle, data[:-4], pieces) is None
    assert TEXT.startswith(b"".join(pieces))
    with pytest.raises(OpError) as info:
        run(state, "compression.end", handle, None, pieces)
    assert info.value.name == "TypeError"
    assert handle not in state.handles


@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_data_is_a_type_error(state, fmt):
    handle, _ = call(state, "compression.new", [fmt, False])
    with pytest.raises(OpError) as info:
        run(state, "compression.push", handle, b"\xff" * 64, [])
    assert info.value.name == "TypeError"
    assert handle not in state.handles


def test_unknown_format(state):
    with pytest.raises(OpError) as info:
        call(state, "compression.new", ["zstd", False])
    assert info.value.name == "TypeError"


def test_brotli_uses_the_library_decoder():
    # The C decoder is what tells where a brotli stream ends.
    assert isinstance(codecs.decoder("brotli"), codecs.BrotliDecoder)


def test_brotli_without_the_library_decoder(monkeypatch):
    monkeypatch.setattr(codecs, "_brotli_lib", None)
    assert isinstance(codecs.decoder("brotli"), codecs.BrotliModuleDecoder)
    data = encode("brotli", TEXT)
    assert b"".join(decompress("brotli", [data[i:i + 7] for i in range(0, len(data), 7)])) == TEXT
    pieces = decompress("brotli", [encode("brotli", bytes(16 << 20))])
    # brotli.Decompressor's limit is checked per decoder block: a little above the piece.
    assert sum(map(len, pieces)) == 16 << 20 and max(map(len, pieces)) <= 2 * OUTPUT_PIECE
    state = OpState()
    handle, _ = call(state, "compression.new", ["brotli", False])
    with pytest.raises(OpError):  # here the output that came with the extra byte is lost
        run(state, "compression.push", handle, data + b"\0", [])
    handle, _ = call(state, "compression.new", ["brotli", False])
    pieces = []
    run(state, "compression.push", handle, data[:-3], pieces)
    with pytest.raises(OpError):
        run(state, "compression.end", handle, None, pieces)
    assert TEXT.startswith(b"".join(pieces))
