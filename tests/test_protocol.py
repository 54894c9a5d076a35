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
        (head(1, 3, 1), "unsupported protocol version 1"),
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
        ([head(p.VERSION, int(p.FrameType.REQUEST_END), 1)[0] + b"\x01"], "undecodable"),
    ],
)
def test_malformed_frames_are_rejected_with_a_clear_error(parts, message):
    with pytest.raises(p.ProtocolError, match=message):
        p.decode(parts)


def _same(frames, expected):
    assert [type(f) for f in frames] == [type(f) for f in expected]
    assert [dataclasses.asdict(f) for f in frames] == [dataclasses.asdict(f) for f in expected]


def test_a_batch_puts_its_heads_in_one_part_and_its_bodies_after_in_order():
    batch = p.Batch()
    for frame in SAMPLES:
        batch.add(frame)
    parts = batch.parts()
    bodies = [f for f in SAMPLES if f.HAS_BODY]
    assert len(parts) == 1 + len(bodies) and batch and not p.Batch()
    assert parts[1:] == [f.data for f in bodies]  # untouched, not copied into msgpack
    frames, error = p.decode_batch(parts)
    assert error is None
    _same(frames, SAMPLES)


def test_a_batch_starts_another_heads_part_before_one_would_pass_the_head_limit():
    big = "x" * (p.frames.MAX_HEAD_BYTES // 2 + 10)  # two such heads never share a part
    frames = [p.Log(1, "info", "r", big), p.ResponseBody(1, b"a"), p.Log(1, "info", "r", big),
              p.Log(1, "info", "r", big), p.ResponseComplete(1, 200, [], b"b"), p.RequestEnd(1)]
    batch = p.Batch()
    for frame in frames:
        batch.add(frame)
    parts = batch.parts()
    assert len(parts) == 5 and parts[1] == b"a" and parts[4] == b"b"  # [2 heads] a [1] [3] b
    assert all(len(part) <= p.frames.MAX_HEAD_BYTES for part in parts)
    decoded, error = p.decode_batch(parts)
    assert error is None
    _same(decoded, frames)


def test_a_head_over_the_limit_is_refused_and_leaves_the_batch_as_it_was():
    batch = p.Batch()
    batch.add(p.RequestEnd(1))
    with pytest.raises(p.ProtocolError, match="exceeds"):
        batch.add(p.Log(1, "info", "r", "x" * p.frames.MAX_HEAD_BYTES))
    _same(p.decode_batch(batch.parts())[0], [p.RequestEnd(1)])


def test_frames_encoded_one_by_one_and_concatenated_are_a_batch_too():
    parts = [part for frame in SAMPLES for part in p.encode(frame)]
    frames, error = p.decode_batch(parts)
    assert error is None
    _same(frames, SAMPLES)


@pytest.mark.parametrize("tail, message", [
    (b"\x93\x02", "truncated"),  # an array of three cut after one element
    (b"\xc1", "undecodable"),
    (msgpack.packb([p.VERSION, 99, 1]), "unknown frame type"),
    (msgpack.packb([p.VERSION, int(p.FrameType.RESPONSE_BODY), 1]), "expected a body part"),
])
def test_a_bad_head_in_a_heads_part_stops_the_batch_there(tail, message):
    batch = p.Batch()
    batch.add(p.ResponseBody(1, b"body"))
    batch.add(p.RequestEnd(2))
    parts = batch.parts()
    parts[0] += tail
    frames, error = p.decode_batch(parts)
    _same(frames, [p.ResponseBody(1, b"body"), p.RequestEnd(2)])
    assert error is not None and message in str(error)


def test_oversized_body_chunk_is_rejected():
    parts = p.encode(p.ResponseBody(1, b""))
    parts[1] = b"\0" * (p.MAX_BODY_CHUNK + 1)
    with pytest.raises(p.ProtocolError, match="exceeds"):
        p.decode(parts)


