"""The frames the front writes to a WebSocket client itself (supervisor/websocket.py):
RFC 6455 §5.2's layout, read back here byte by byte."""

from __future__ import annotations

import struct

import pytest
from aiohttp import WebSocketError

from isoflow.supervisor.websocket import MaskedFramesOnly, frame_head, text_payload


def read_frame(frame: bytes) -> tuple[int, bool, bool, bytes]:
    """(opcode, FIN, masked, payload) of one whole frame, as a client parses it."""
    first, second = frame[0], frame[1]
    size, at = second & 0x7F, 2
    if size == 126:
        (size,), at = struct.unpack_from("!H", frame, 2), 4
    elif size == 127:
        (size,), at = struct.unpack_from("!Q", frame, 2), 10
    assert first & 0x70 == 0  # no RSV bit: no extension (compression) applies
    payload = frame[at:]
    assert len(payload) == size
    return first & 0x0F, bool(first & 0x80), bool(second & 0x80), payload


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
@pytest.mark.parametrize("binary", [True, False])
def test_a_frame_head_says_final_unmasked_opcode_and_the_shortest_length(size, binary):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    head = frame_head(binary, size)
    opcode, fin, masked, got = read_frame(head + payload)
    assert (opcode, fin, masked, got) == (2 if binary else 1, True, False, payload)
    # The length in its shortest form (§5.2: "the minimal number of bytes MUST be used").
    assert len(head) == (2 if size < 126 else 4 if size < 65536 else 10)


def test_text_payload_passes_utf8_and_replaces_what_is_not():
    text = "héllo \U0001f600".encode()
    assert text_payload(text) is text
    assert text_payload(b"a\xffb\xe2\x82") == "a\ufffdb\ufffd".encode()


# -- what the client sends: MaskedFramesOnly, ahead of aiohttp's reader ---------------------

class _Reader:
    """Stands in for aiohttp's reader: records what reaches it."""

    def __init__(self) -> None:
        self.fed = bytearray()
        self.eof = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.fed += data
        return False, b""

    def feed_eof(self) -> None:
        self.eof = True


class _Queue:
    def __init__(self) -> None:
        self.exc: BaseException | None = None

    def set_exception(self, exc: BaseException) -> None:
        self.exc = exc


class _Ws:
    def __init__(self) -> None:
        self._reader = _Queue()


def client_frame(opcode: int, payload: bytes, masked: bool = True) -> bytes:
    """A frame as a client writes it (masked unless told), with the shortest length."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, (0x80 if masked else 0) | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, (0x80 if masked else 0) | 126)) + struct.pack("!H", n)
    else:
        head = bytes((0x80 | opcode, (0x80 if masked else 0) | 127)) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    mask = b"\x01\x02\x03\x04"
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


MASKED = (client_frame(0x1, b"hi") + client_frame(0x2, bytes(300))
          + client_frame(0x9, b"") + client_frame(0x2, bytes(70000)) + client_frame(0x1, b"x"))


@pytest.mark.parametrize("step", [1, 2, 3, 5, 13, 4096, len(MASKED)])
def test_masked_frames_reach_the_reader_unchanged_in_pieces_of_any_size(step):
    reader, ws = _Reader(), _Ws()
    gate = MaskedFramesOnly(reader, ws)
    for i in range(0, len(MASKED), step):
        assert gate.feed_data(MASKED[i:i + step]) == (False, b"")
    assert bytes(reader.fed) == MASKED and not gate.failed and ws._reader.exc is None
    gate.feed_eof()
    assert reader.eof


@pytest.mark.parametrize("step", [1, 2, 3, 7, len(MASKED) + 9])
def test_an_unmasked_frame_fails_the_connection_and_what_came_before_is_kept(step):
    data = MASKED + client_frame(0x1, b"naked", masked=False) + client_frame(0x1, b"later")
    reader, ws = _Reader(), _Ws()
    gate = MaskedFramesOnly(reader, ws)
    answers = [gate.feed_data(data[i:i + step]) for i in range(0, len(data), step)]
    assert answers[-1] == (True, b"")  # aiohttp's answer to a reader error: read no more
    assert gate.failed
    assert bytes(reader.fed).startswith(MASKED)
    assert len(reader.fed) <= len(MASKED) + 1  # at most the unmasked frame's first byte
    exc = ws._reader.exc
    assert isinstance(exc, WebSocketError) and exc.code == 1002
    assert gate.feed_data(client_frame(0x1, b"more")) == (True, b"")
