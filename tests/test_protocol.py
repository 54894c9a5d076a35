"""The wire protocol on its own: round trips, rejection of bad frames, flow control."""

from __future__ import annotations

import dataclasses

import msgpack
import pytest

from isoflow import protocol as p
from isoflow.protocol.frames import FRAME_CLASSES

SAMPLES: list[p.Frame] = [
    p.RequestHead(1, "rid", "POST", "http://h/x?y", [["a", "b"], ["a", "c"]], "127.0.0.1", True, 65536),
    p.RequestBody(1, b"\x00\xffbytes"),
    p.RequestEnd(1),
    p.Cancel(1, "client gone"),
    p.ResponseCredit(1, 4096),
    p.Ping(0, 7),
    p.Shutdown(0, 2.5),
    p.Scheduled(5, "*/5 * * * *", 1764000000000.0),
    p.Hello(0, "w0.1", 1234, 262144),
    p.ResponseHead(1, 200, [["content-type", "text/plain"]], -1),
    p.ResponseBody(1, b"chunk"),
    p.ResponseEnd(1),
    p.ResponseError(1, 500, "boom"),
    p.RequestCredit(1, 1024),
    p.Pong(0, 7, {"streams": 0}),
    p.Log(1, "info", "rid", "hello"),
    p.Fatal(0, "app.js:3: SyntaxError"),
    p.Goodbye(0),
    p.ResponseRelay(1, "chunked", -1, b"5\r\nhello\r\n"),
    p.ResponseComplete(1, 200, [["content-type", "text/plain"]], b"Hello, world!\n"),
    p.UploadRelay(1, 262144, False),
    p.ResponseDirect(1),
    p.DirectEnd(1, 1 << 40),
    p.WsMessage(1, True, False, b"\x00\xff"),
    p.WsClose(1, 4001, "bye"),
]


def test_every_frame_type_has_a_sample():
    assert {type(f) for f in SAMPLES} == set(FRAME_CLASSES.values())


@pytest.mark.parametrize("frame", SAMPLES, ids=lambda f: f.TYPE.name)
def test_round_trip(frame):
    decoded = p.decode(p.encode(frame))
    assert type(decoded) is type(frame)
    assert dataclasses.asdict(decoded) == dataclasses.asdict(frame)


def test_body_bytes_travel_in_their_own_part():
    parts = p.encode(p.ResponseBody(9, b"x" * 100))
    assert len(parts) == 2 and parts[1] == b"x" * 100
    assert len(parts[0]) < 10


def head(*fields):
    return [msgpack.packb(list(fields))]


@pytest.mark.parametrize(
    "parts, message",
    [
        ([], "empty message"),
        ([b"\xc1"], "undecodable"),
        (head(), "must be an array"),
        ([msgpack.packb({"a": 1})], "must be an array"),
        (head(2, 3, 1), "unsupported protocol version 2"),
        (head(p.VERSION, 99, 1), "unknown frame type 99"),
        (head(p.VERSION, "x", 1), "unknown frame type"),
        (head(p.VERSION, int(p.FrameType.REQUEST_END), -1), "invalid stream id"),
        (head(p.VERSION, int(p.FrameType.REQUEST_END), "1"), "invalid stream id"),
        (head(p.VERSION, int(p.FrameType.REQUEST_END), 1, "extra"), "expected 0 fields"),
        (head(p.VERSION, int(p.FrameType.RESPONSE_CREDIT), 1, "10"), "field 'size' must be int"),
        (head(p.VERSION, int(p.FrameType.RESPONSE_CREDIT), 1, True), "field 'size' must be int"),
        (head(p.VERSION, int(p.FrameType.RESPONSE_HEAD), 1, 200, [["a"]], -1), "field 'headers'"),
        (head(p.VERSION, int(p.FrameType.RESPONSE_HEAD), 1, 200, [["a", 1]], -1), "field 'headers'"),
        (head(p.VERSION, int(p.FrameType.RESPONSE_BODY), 1), "expected a body part"),
        ([*head(p.VERSION, int(p.FrameType.RESPONSE_END), 1), b"x"], "unexpected extra"),
        ([b"\x91" + b"\x00" * (p.frames.MAX_HEAD_BYTES + 1)], "exceeds"),
    ],
)
def test_malformed_frames_are_rejected_with_a_clear_error(parts, message):
    with pytest.raises(p.ProtocolError, match=message):
        p.decode(parts)


def test_oversized_body_chunk_is_rejected():
    parts = p.encode(p.ResponseBody(1, b""))
    parts[1] = b"\0" * (p.MAX_BODY_CHUNK + 1)
    with pytest.raises(p.ProtocolError, match="exceeds"):
        p.decode(parts)


