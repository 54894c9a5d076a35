"""Fuzzing the frame decoder: whatever arrives on the IPC socket, ``protocol.decode`` either
returns a well-typed frame or raises ProtocolError - never another exception, never a frame
whose fields have the wrong types, never a hang or a huge allocation."""

from __future__ import annotations

import dataclasses

import msgpack
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from isoflow import protocol as p
from isoflow.protocol.frames import (
    _SPECS,
    FRAME_CLASSES,
    MAX_BODY_CHUNK,
    MAX_HEAD_BYTES,
    MAX_STREAM_ID,
    Headers,
)

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------

# Anything msgpack can carry: the shapes a rogue or buggy peer could send.
scalars = (st.none() | st.booleans() | st.integers(-(1 << 63), (1 << 64) - 1)
           | st.floats(allow_nan=True) | st.text(max_size=20) | st.binary(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
headers = st.lists(st.lists(st.text(max_size=12), min_size=2, max_size=2), max_size=4)


def field_values(typ):
    """Valid values of one declared field type."""
    if typ is bool:
        return st.booleans()
    if typ is int:
        return st.integers(-(1 << 63), (1 << 63) - 1)
    if typ is float:
        return st.floats(allow_nan=False) | st.integers(-(1 << 53), 1 << 53)
    if typ is str:
        return st.text(max_size=30)
    if typ == Headers:
        return headers
    return st.dictionaries(st.text(max_size=8), st.integers(-(1 << 63), (1 << 63) - 1)
                           | st.floats(allow_nan=False),
                           max_size=4)


@st.composite
def valid_frames(draw):
    ftype = draw(st.sampled_from(sorted(FRAME_CLASSES)))
    cls = FRAME_CLASSES[ftype]
    stream = draw(st.integers(0, MAX_STREAM_ID))
    fields = [draw(field_values(typ)) for _name, typ in _SPECS[ftype]]
    if cls.HAS_BODY:  # the body part comes after the head's fields (WS_MESSAGE has some)
        return cls(stream, *fields, draw(st.binary(max_size=64)))
    return cls(stream, *fields)


def assert_well_typed(frame: p.Frame) -> None:
    """Every field of a decoded frame has its declared type (bools are not ints)."""
    assert type(frame.stream) is int and 0 <= frame.stream <= MAX_STREAM_ID
    for name, typ in _SPECS[frame.TYPE]:
        value = getattr(frame, name)
        if typ is int:
            assert type(value) is int, name
        elif typ is float:
            assert type(value) is float, name
        elif typ is bool:
            assert type(value) is bool, name
        elif typ is str:
            assert type(value) is str, name
        elif typ == Headers:
            assert all(type(a) is str and type(b) is str for a, b in value), name
        else:
            assert isinstance(value, dict) and all(type(k) is str for k in value), name


def decode_or_reject(parts) -> p.Frame | None:
    try:
        frame = p.decode(parts)
    except p.ProtocolError as e:
        assert str(e)  # every rejection says why (it is what the log line shows)
        return None
    assert_well_typed(frame)
    head = msgpack.unpackb(parts[0])  # what was accepted had the exact version and type
    assert type(head[0]) is int and head[0] == p.VERSION
    assert type(head[1]) is int and head[1] == frame.TYPE
    return frame


# -- properties ---------------------------------------------------------------------------


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=4))
def test_arbitrary_bytes_are_decoded_or_rejected(parts):
    decode_or_reject(parts)


@FUZZ
@given(values, st.lists(st.binary(max_size=50), max_size=2))
def test_arbitrary_msgpack_values_are_decoded_or_rejected(head, extra):
    decode_or_reject([msgpack.packb(head), *extra])


@FUZZ
@given(st.integers(0, 6), st.sampled_from([*sorted(FRAME_CLASSES), 0, 9, 19, 29, 255, -1]),
       st.integers(-5, 5) | st.just(MAX_STREAM_ID + 1) | st.just((1 << 64) - 1),
       st.lists(values, max_size=9), st.lists(st.binary(max_size=20), max_size=2))
def test_frame_shaped_heads_with_random_fields(version, ftype, stream, fields, extra):
    """Heads that look like frames (version, type, stream) with random field lists."""
    frame = decode_or_reject([msgpack.packb([version, ftype, stream, *fields]), *extra])
    if frame is not None:
        assert version == p.VERSION and ftype in FRAME_CLASSES


@FUZZ
@given(valid_frames())
def test_valid_frames_round_trip(frame):
    decoded = p.decode(p.encode(frame))
    assert_well_typed(decoded)
    want = dataclasses.asdict(frame)
    got = dataclasses.asdict(decoded)
    if "data" in want:
        want["data"], got["data"] = bytes(want["data"]), bytes(got["data"])
    assert got == want


@FUZZ
@given(valid_frames(), st.data())
def test_one_field_replaced_by_a_wrong_value_is_rejected_or_well_typed(frame, data):
    """Take a valid frame, replace one head item by any value: never a mistyped frame."""
    parts = p.encode(frame)
    head = msgpack.unpackb(parts[0])
    index = data.draw(st.integers(0, len(head) - 1))
    head[index] = data.draw(values)
    decode_or_reject([msgpack.packb(head), *parts[1:]])


@FUZZ
@given(valid_frames(), st.data())
def test_truncated_or_extended_heads_are_rejected(frame, data):
    parts = p.encode(frame)
    head = msgpack.unpackb(parts[0])
    cut = data.draw(st.integers(0, len(head) - 1))
    with pytest.raises(p.ProtocolError):
        p.decode([msgpack.packb(head[:cut]), *parts[1:]])
    with pytest.raises(p.ProtocolError):
        p.decode([msgpack.packb([*head, data.draw(values)]), *parts[1:]])
    raw = parts[0]
    decode_or_reject([raw[: data.draw(st.integers(0, len(raw)))], *parts[1:]])


@FUZZ
@given(valid_frames(), st.lists(st.binary(max_size=10), min_size=1, max_size=3))
def test_wrong_number_of_parts_is_rejected(frame, extra):
    parts = p.encode(frame)
    with pytest.raises(p.ProtocolError):
        p.decode([*parts, *extra])
    if frame.HAS_BODY:
        with pytest.raises(p.ProtocolError):
            p.decode(parts[:1])


@pytest.mark.parametrize("ftype", [True, 6.0, "6", None, [6]])
def test_frame_types_must_be_exact_integers(ftype):
    with pytest.raises(p.ProtocolError, match="unknown frame type"):
        p.decode([msgpack.packb([p.VERSION, ftype, 0, 1])])


@pytest.mark.parametrize("version", [0, 1, 2, 3, 5, 255, -1, "4", 4.0, True, None, [4]])
def test_unknown_versions_are_rejected(version):
    with pytest.raises(p.ProtocolError, match="version"):
        p.decode([msgpack.packb([version, int(p.FrameType.PING), 0, 1])])


def test_bool_is_not_an_int_and_int_is_accepted_for_float():
    ping = msgpack.packb([p.VERSION, int(p.FrameType.PING), 0, True])
    with pytest.raises(p.ProtocolError, match="'seq' must be int"):
        p.decode([ping])
    shutdown = p.decode([msgpack.packb([p.VERSION, int(p.FrameType.SHUTDOWN), 0, 3])])
    assert shutdown.grace == 3.0 and type(shutdown.grace) is float


def test_a_head_over_the_limit_is_refused_before_decoding():
    raw = msgpack.packb([p.VERSION, int(p.FrameType.LOG), 1, "info", "r", "x" * MAX_HEAD_BYTES])
    with pytest.raises(p.ProtocolError, match="exceeds"):
        p.decode([raw])


def test_a_body_over_the_limit_is_refused():
    head = p.encode(p.ResponseBody(1, b""))[0]
    with pytest.raises(p.ProtocolError, match="exceeds"):
        p.decode([head, memoryview(bytearray(MAX_BODY_CHUNK + 1))])


@pytest.mark.parametrize("raw", [
    b"\xdd\xff\xff\xff\xff",  # array32 claiming 4 billion items, none present
    b"\xdf\xff\xff\xff\xff",  # map32 likewise
    b"\xdb\xff\xff\xff\xff",  # str32 claiming 4 GiB
    b"\xc6\xff\xff\xff\xff",  # bin32 likewise
    b"\x91" * 100_000,  # arrays nested 100,000 deep
    b"\xc1",  # the one byte msgpack never uses
    b"\xd4\x01\x00",  # an ext type
    b"\xd6\xff\x00\x00\x00\x00",  # a timestamp
])
def test_hostile_msgpack_is_rejected_quickly(raw):
    with pytest.raises(p.ProtocolError):
        p.decode([raw])


def test_map_keys_must_be_strings():
    raw = msgpack.packb([p.VERSION, int(p.FrameType.PONG), 0, 1, {1: 2}])
    with pytest.raises(p.ProtocolError):
        p.decode([raw])


@FUZZ
@given(st.integers(1, 1 << 70) | st.integers(-(1 << 70), -1))
def test_stream_ids_outside_the_range_are_rejected(stream):
    assume(not 0 <= stream <= MAX_STREAM_ID)
    try:
        raw = msgpack.packb([p.VERSION, int(p.FrameType.RESPONSE_END), stream])
    except OverflowError:  # msgpack cannot even carry it
        return
    with pytest.raises(p.ProtocolError):
        p.decode([raw])
