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


LARGE = p.INLINE_MAX + 1


def test_a_batch_puts_its_heads_in_one_part_and_its_large_bodies_after_in_order():
    large = [p.ResponseBody(7, b"L" * LARGE), p.RequestBody(8, b"M" * LARGE)]
    frames = [*SAMPLES[:3], large[0], *SAMPLES[3:], large[1]]
    batch = p.Batch()
    for frame in frames:
        batch.add(frame)
    parts = batch.parts()
    assert len(parts) == 3 and batch and not p.Batch()
    assert parts[1] is large[0].data and parts[2] is large[1].data  # untouched, not copied
    decoded, error = p.decode_batch(parts)
    assert error is None
    _same(decoded, frames)


def test_a_small_body_rides_in_its_head():
    """Up to INLINE_MAX bytes, as the head's last element: a batch of small responses is
    one part; the frame read back is the same."""
    frames = [p.ResponseComplete(s, 200, [["content-type", "text/plain"]], b"hi" * s)
              for s in range(1, 29)]
    frames += [p.ResponseBody(30, b"x" * p.INLINE_MAX), p.RequestBody(31, b"")]
    batch = p.Batch()
    for frame in frames:
        batch.add(frame)
    parts = batch.parts()
    assert len(parts) == 1
    decoded, error = p.decode_batch(parts)
    assert error is None
    _same(decoded, frames)
    assert all(type(f.data) is bytes for f in decoded)
    batch = p.Batch()
    batch.add(p.ResponseBody(1, memoryview(b"view")))  # as the worker hands V8's buffer
    assert p.decode_batch(batch.parts())[0][0].data == b"view"


@pytest.mark.parametrize("head, extra, message", [
    ([p.VERSION, int(p.FrameType.REQUEST_END), 1, b"x"], [], "expected 0 fields"),
    ([p.VERSION, int(p.FrameType.RESPONSE_BODY), 1, "text"], [], "expected 0 fields"),
    ([p.VERSION, int(p.FrameType.RESPONSE_BODY), 1, b"x", b"y"], [], "expected 0 fields"),
    ([p.VERSION, int(p.FrameType.RESPONSE_BODY), 1, b"x"], [b"more"], "extra message parts"),
])
def test_only_a_body_frame_may_carry_bytes_after_its_fields(head, extra, message):
    with pytest.raises(p.ProtocolError, match=message):
        p.decode([msgpack.packb(head), *extra])


def test_a_batch_starts_another_heads_part_before_one_would_pass_the_head_limit():
    big = "x" * (p.frames.MAX_HEAD_BYTES // 2 + 10)  # two such heads never share a part
    a, b = b"a" * LARGE, b"b" * LARGE  # bodies in parts of their own
    frames = [p.Log(1, "info", "r", big), p.ResponseBody(1, a), p.Log(1, "info", "r", big),
              p.Log(1, "info", "r", big), p.ResponseComplete(1, 200, [], b), p.RequestEnd(1)]
    batch = p.Batch()
    for frame in frames:
        batch.add(frame)
    parts = batch.parts()
    assert len(parts) == 5 and parts[1] == a and parts[4] == b  # [2 heads] a [1] [3] b
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


