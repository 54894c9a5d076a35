"""The frames the front writes to a WebSocket client itself (supervisor/websocket.py):
RFC 6455 §5.2's layout, read back here byte by byte."""

from __future__ import annotations

import struct

import pytest

from isoflow.supervisor.websocket import frame_head, text_payload


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
