"""Where a chunked body's relay resumes (supervisor/rawbody.py), checked against a plain
decoder at every cut of the raw bytes and every count of payload bytes already sent; the
relay itself, started at that point, is tested in test_splice.py."""

from __future__ import annotations

import random

import pytest

from isoflow.supervisor.rawbody import RECORD_LIMIT, RawBody, resume_point


def chunked(chunks: list[bytes], ext: bytes = b"") -> bytes:
    return b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext, c) for c in chunks) + \
        b"0\r\nX-Trailer: 1\r\n\r\n"


def payload_of(raw: bytes, offset: int = 0) -> bytes:
    """The payload of a valid chunked body, or of a cut of one (its last chunk may be
    partial), read from the size line at ``offset``."""
    out = bytearray()
    pos = offset
    while (end := raw.find(b"\r\n", pos)) >= 0:
        size = int(raw[pos:end].split(b";")[0], 16)
        if size == 0:
            break
        out += raw[end + 2:end + 2 + size]
        pos = end + 2 + size + 2
    return bytes(out)


@pytest.mark.parametrize("ext", [b"", b';name="v"'])
def test_every_cut_and_every_sent_count_resumes_at_the_next_unsent_byte(ext: bytes) -> None:
    chunks = [b"a", b"bc" * 7, b"d" * 40, b"e"]
    wire = chunked(chunks, ext)
    payload = b"".join(chunks)
    for cut in range(len(wire) + 1):
        raw = wire[:cut]
        total = len(payload_of(raw))
        for sent in range(total + 1):
            point = resume_point(raw, sent, total)
            assert point is not None, (cut, sent)
            offset, skip = point
            # Started there, a decoder of the whole wire gets exactly the unsent payload.
            assert payload_of(wire, offset)[skip:] == payload[sent:], (cut, sent)
            assert offset <= cut and skip >= 0


def test_raw_bytes_aiohttp_has_not_decoded_yet_count_as_unsent() -> None:
    """aiohttp's parser pauses, raw bytes held, while its buffer is full."""
    raw = b"5\r\nhello\r\n3\r\nabc\r\n"
    assert resume_point(raw, 5, 5) == (10, 0)
    assert resume_point(raw, 2, 4) == (0, 2)


def test_fuzzed_chunk_sizes() -> None:
    rng = random.Random(7)
    for _ in range(200):
        chunks = [rng.randbytes(rng.choice([1, 2, 15, 16, 300, 4096])) for _ in range(6)]
        wire = chunked(chunks)
        payload = b"".join(chunks)
        cut = rng.randrange(len(wire) + 1)
        total = len(payload_of(wire[:cut]))
        sent = rng.randrange(total + 1)
        offset, skip = resume_point(wire[:cut], sent, total)
        assert payload_of(wire, offset)[skip:] == payload[sent:]


@pytest.mark.parametrize(("raw", "sent", "total"), [
    (b"5\r\nhello\r\n", 0, 6),  # aiohttp decoded more than these bytes hold
    (b"5\r\nhello\r\n", 6, 6),  # more sent than there is
    (b"5\r\nhello\r\n", -1, 5),
    (b"zz\r\nhello\r\n", 0, 5),  # not a size line
    (b"POST / HTTP/1.1\r\n", 0, 0),  # a misplaced start: a request line
    (b"5\r\nhelloXY3\r\nabc\r\n", 5, 5),  # a payload not followed by CRLF
    (b"5\r\nhelloX", 5, 5),
    (b"f" * 5000, 0, 0),  # a size line over the limit
])
def test_raw_bytes_that_do_not_match_keep_the_frame_path(raw: bytes, sent: int,
                                                         total: int) -> None:
    assert resume_point(raw, sent, total) is None


class Message:
    def __init__(self, method: str = "POST", chunked: bool = True,
                 upgrade: bool = False) -> None:
        self.method, self.chunked, self.upgrade = method, chunked, upgrade


def test_a_record_starts_after_a_whole_head_and_stops_at_its_limit() -> None:
    head = b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    payload = object()
    raw = RawBody.start(Message(), payload, head + b"5\r\nhel")
    assert raw is not None and raw.payload is payload and bytes(raw.data) == b"5\r\nhel"
    assert raw.add(b"lo\r\n") and bytes(raw.data) == b"5\r\nhello\r\n"
    assert not raw.add(b"x" * RECORD_LIMIT)
    # Not recorded: a body with a length, an upgrade, a head that began in earlier bytes.
    assert RawBody.start(Message(chunked=False), payload, head) is None
    assert RawBody.start(Message(upgrade=True), payload, head) is None
    assert RawBody.start(Message(), payload, b"Transfer-Encoding: chunked\r\n\r\n5\r\n") \
        is None
    assert RawBody.start(Message(method="PUT"), payload, head) is None
