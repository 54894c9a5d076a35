"""The splice relay (supervisor/splice.py) on real loopback TCP connections, in-process: every
framing, chunked bodies cut between prefix and socket at every point, bytes past the end
left in the source, broken sources and destinations, timeouts, limits, cancellation (no fd
leaked) and fds that belong to asyncio transports. The kernel path (``os.splice``) and the
userland copy are both run where it matters."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import random
import socket
import struct
import time
import warnings
from collections.abc import Iterator

import pytest

from isoflow.supervisor import splice
from isoflow.supervisor.rawbody import resume_point
from isoflow.supervisor.splice import (
    BodyTooLarge,
    DestinationGone,
    Framing,
    RelayTimeout,
    SourceBroken,
    relay,
)
from tests.conftest import run
from tests.test_rawbody import payload_of

MODES = ["splice", "copy"] if splice.HAVE_SPLICE else ["copy"]
TRAILING = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"  # the next message on the connection


class Net:
    """Loopback connections for one test, all closed after it."""

    def __init__(self) -> None:
        self.socks: list[socket.socket] = []

    def tcp(self, buf: int = 0) -> tuple[socket.socket, socket.socket]:
        """A connected TCP pair on 127.0.0.1, non-blocking, Nagle off (so that segments
        written apart arrive apart); ``buf`` fixes both ends' kernel buffers."""
        listener = socket.socket()
        self.socks.append(listener)
        a = socket.socket()
        for s in (listener, a):
            if buf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buf)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buf)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.socks.append(a)
        a.connect(listener.getsockname())
        b, _ = listener.accept()
        self.socks.append(b)
        listener.close()
        for s in (a, b):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return a, b

    def unix(self) -> tuple[socket.socket, socket.socket]:
        a, b = socket.socketpair()
        self.socks += [a, b]
        a.setblocking(False)
        b.setblocking(False)
        return a, b

    def close(self) -> None:
        for s in self.socks:
            s.close()


@pytest.fixture
def net() -> Iterator[Net]:
    n = Net()
    yield n
    n.close()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The kernel path, and the userland copy used where there is no splice."""
    monkeypatch.setattr(splice, "HAVE_SPLICE", request.param == "splice")
    return request.param


@contextlib.contextmanager
def using(mode: str) -> Iterator[None]:
    saved = splice.HAVE_SPLICE
    splice.HAVE_SPLICE = mode == "splice"
    try:
        yield
    finally:
        splice.HAVE_SPLICE = saved


async def feed(sock: socket.socket, pieces: list[bytes], end: str | None = None) -> None:
    """Send ``pieces`` one by one (yielding between them), then ``end``: "fin" or "rst"."""
    loop = asyncio.get_running_loop()
    for piece in pieces:
        await loop.sock_sendall(sock, piece)
        await asyncio.sleep(0)
    if end == "fin":
        sock.shutdown(socket.SHUT_WR)
    elif end == "rst":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


async def read_all(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    out = bytearray()
    while data := await loop.sock_recv(sock, 1 << 20):
        out += data
    return bytes(out)


def chunked(chunks: list[bytes], trailers: tuple[bytes, ...] | list[bytes] = (),
            ext: bytes = b"") -> bytes:
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext, c) for c in chunks)
    return body + b"0" + ext + b"\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"


def dechunk(data: bytes) -> bytes:
    """The payload of relay's chunked output, which must be whole, non-empty chunks only."""
    out = bytearray()
    i = 0
    while i < len(data):
        end = data.index(b"\r\n", i)
        n = int(data[i:end], 16)
        assert n > 0 and data[i:end] == b"%x" % n
        out += data[end + 2:end + 2 + n]
        assert data[end + 2 + n:end + 4 + n] == b"\r\n"
        i = end + 4 + n
    return bytes(out)


async def through(net: Net, wire: bytes, split: int, framing: Framing, *,
                  pieces: list[bytes] | None = None, unix: bool = False,
                  **kwargs) -> tuple[int, bytes, bytes, int]:
    """Relay a body whose ``wire[:split]`` was read already and the rest is sent into the
    source: (returned count, dst's bytes, bytes left unread in src, on_sent's total)."""
    src_w, src = net.unix() if unix else net.tcp()
    dst, dst_r = net.unix() if unix else net.tcp()
    reader = asyncio.create_task(read_all(dst_r))
    feeder = asyncio.create_task(feed(src_w, [wire[split:]] if pieces is None else pieces))
    told: list[int] = []
    n = await relay(src.fileno(), wire[:split], framing, dst.fileno(), on_sent=told.append,
                    **kwargs)
    assert all(k > 0 for k in told)
    dst.shutdown(socket.SHUT_WR)
    out = await reader
    await feeder
    src_w.shutdown(socket.SHUT_WR)
    left = await read_all(src)
    assert not os.get_blocking(src.fileno()) and not os.get_blocking(dst.fileno())
    return n, out, left, sum(told)


# -- framings ------------------------------------------------------------------------------


async def moves_chunks_whole(net: Net, chunks: list[bytes], wire: bytes, split: int,
                             chunked_out: bool) -> None:
    """``wire`` (the chunked body of ``chunks``) relayed, ``split`` bytes of it in the
    prefix, with the next message after it: every payload byte arrives, counted, and the
    next message stays unread."""
    n, out, left, told = await through(net, wire + TRAILING, split, Framing("chunked"),
                                       chunked_out=chunked_out)
    assert n == told == sum(map(len, chunks))
    assert (dechunk(out) if chunked_out else out) == b"".join(chunks)
    assert left == TRAILING


@pytest.mark.parametrize("chunked_out", [False, True])
def test_a_length_body_moves_exactly_its_bytes_and_leaves_the_rest_in_the_source(
        net: Net, mode: str, chunked_out: bool) -> None:
    body = random.Random(1).randbytes(3 << 20)

    async def main() -> None:
        for split in (0, 1000, len(body), len(body) + 5):  # the prefix may run past the end
            wire = body + TRAILING
            n, out, left, told = await through(net, wire, split, Framing("length", len(body)),
                                               chunked_out=chunked_out)
            assert n == told == len(body)
            assert (dechunk(out) if chunked_out else out) == body
            assert left == wire[max(split, len(body)):]

    run(main())


def test_an_empty_length_body_writes_nothing_and_reads_nothing(net: Net) -> None:
    async def main() -> None:
        assert await through(net, TRAILING, 0, Framing("length", 0),
                             chunked_out=True) == (0, b"", TRAILING, 0)

    run(main())


@pytest.mark.parametrize("chunked_out", [False, True])
def test_a_close_delimited_body_ends_at_the_sources_eof(net: Net, mode: str,
                                                         chunked_out: bool) -> None:
    body = random.Random(2).randbytes(2 << 20)

    async def main() -> None:
        src_w, src = net.tcp()
        dst, dst_r = net.tcp()
        reader = asyncio.create_task(read_all(dst_r))
        feeder = asyncio.create_task(feed(src_w, [body[i:i + 65536]
                                                  for i in range(5000, len(body), 65536)],
                                          end="fin"))
        n = await relay(src.fileno(), body[:5000], Framing("close"), dst.fileno(),
                        chunked_out=chunked_out)
        await feeder
        dst.shutdown(socket.SHUT_WR)
        out = await reader
        assert n == len(body)
        assert (dechunk(out) if chunked_out else out) == body

    run(main())


@pytest.mark.parametrize("chunked_out", [False, True])
def test_a_chunked_body_with_extensions_and_trailers_is_decoded(net: Net, mode: str,
                                                                  chunked_out: bool) -> None:
    chunks = [b"hello", b" ", b"x" * 70000, b"world"]
    wire = chunked(chunks, [b"X-Sum: 1", b"Expires: never"], ext=b' ;name="v a l";flag')
    run(moves_chunks_whole(net, chunks, wire, 3, chunked_out))


def test_a_chunked_body_split_between_prefix_and_socket_at_every_byte(net: Net) -> None:
    chunks = [b"a", b"bc" * 9, b"d" * 300]
    wire = chunked(chunks, [b"T: 1"], ext=b";e=1") + TRAILING
    end = len(wire) - len(TRAILING)

    async def main() -> None:
        for split in range(len(wire) + 1):
            with using(MODES[split % len(MODES)]):
                chunked_out = split % 3 == 0
                _, out, left, _ = await through(net, wire, split, Framing("chunked"),
                                                chunked_out=chunked_out)
            assert (dechunk(out) if chunked_out else out) == b"".join(chunks), split
            assert left == wire[max(split, end):], split

    run(main())


def test_a_chunked_body_resumed_where_its_frames_stopped_moves_the_rest_once(
        net: Net) -> None:
    """The upload relay of a chunked body: the front recorded ``wire[:cut]``, ``sent``
    payload bytes of it went as frames; from rawbody's resume point, with ``skip``, the
    relay moves exactly the rest, and reads nothing past the body."""
    chunks = [b"a", b"bc" * 9, b"d" * 300, b"e" * 70000]
    wire = chunked(chunks, [b"T: 1"], ext=b";e=1") + TRAILING
    payload = b"".join(chunks)
    end = len(wire) - len(TRAILING)

    async def main() -> None:
        cases = [(cut, sent) for cut in (0, 1, 4, 6, 7, 30, 33, 40, 345, 350, 5000, end)
                 for sent in {0, 1, 19, 20, 319, 320, 5000, len(payload)}]
        for i, (cut, sent) in enumerate(cases):
            total = len(payload_of(wire[:cut]))
            if sent > total:
                continue
            offset, skip = resume_point(wire[:cut], sent, total)
            with using(MODES[i % len(MODES)]):
                n, out, left, told = await through(net, wire[offset:], cut - offset,
                                                   Framing("chunked"), skip=skip)
            assert (n, told, out) == (len(payload) - sent, n, payload[sent:]), (cut, sent)
            assert left == TRAILING, (cut, sent)

    run(main())


@pytest.mark.parametrize("chunked_out", [False, True])
def test_thousands_of_tiny_chunks_arrive_whole(net: Net, mode: str, chunked_out: bool) -> None:
    """One read may hold more chunks than sendmsg takes buffers (1024)."""
    rng = random.Random(5)
    chunks = [rng.randbytes(rng.randint(1, 3)) for _ in range(5000)]
    run(moves_chunks_whole(net, chunks, chunked(chunks), 7, chunked_out))


def test_a_skip_beyond_the_prefix_is_a_broken_source(net: Net) -> None:
    async def main() -> None:
        with pytest.raises(SourceBroken, match="5 bytes to skip, 2 in the prefix"):
            await through(net, b"5\r\nhello\r\n0\r\n\r\n", 5, Framing("chunked"), skip=5)
        with pytest.raises(ValueError, match="only a chunked body"):
            await through(net, b"hello", 0, Framing("length", 5), skip=1)

    run(main())


def test_chunked_bodies_fuzzed_sizes_splits_and_segments(net: Net) -> None:
    """Random chunk sizes, extensions, trailers, a random cut between prefix and socket
    (often at a framing boundary) and random segmentation of what the socket carries."""
    rng = random.Random(20240611)
    sizes = [1, 2, 15, 16, 17, 255, 256, 4095, 4096, 4097, 65536, 65537, 300_000]

    async def main() -> None:
        for case in range(120):
            chunks = [rng.randbytes(rng.choice(sizes) if rng.random() < 0.5
                                    else rng.randint(1, 9000))
                      for _ in range(rng.randint(0, 6))]
            lines = []
            for c in chunks:
                digits = (b"0" * rng.randint(0, 3)) + b"%x" % len(c)
                lines.append(digits.upper() if rng.random() < 0.3 else digits)
            exts = [rng.choice([b"", b";a", b";a=b", b' ; n="q v"', b";" + b"e" * 500])
                    for _ in range(len(chunks) + 1)]
            wire = bytearray()
            bounds = [0]
            for digits, ext, c in zip(lines, exts, chunks, strict=False):
                wire += digits + ext + b"\r\n"
                bounds.append(len(wire))
                wire += c
                bounds.append(len(wire))
                wire += b"\r\n"
                bounds.append(len(wire))
            wire += b"0" + exts[-1] + b"\r\n"
            for t in rng.choice([[], [b"A: b"], [b"Checksum: 1234", b"X-Y: " + b"z" * 900]]):
                bounds.append(len(wire))
                wire += t + b"\r\n"
            wire += b"\r\n"
            end = len(wire)
            wire += rng.choice([b"", TRAILING, rng.randbytes(3000)])
            if rng.random() < 0.6:
                split = max(0, min(len(wire), rng.choice(bounds) + rng.randint(-2, 2)))
            else:
                split = rng.randint(0, len(wire))
            rest = bytes(wire[split:])
            cuts = sorted(rng.sample(range(1, len(rest)), min(len(rest) - 1,
                                                               rng.randint(0, 12))))
            pieces = [rest[a:b] for a, b in zip([0, *cuts], [*cuts, len(rest)], strict=True)]
            chunked_out = rng.random() < 0.5
            with using(rng.choice(MODES)):
                n, out, left, told = await through(net, bytes(wire), split, Framing("chunked"),
                                                   pieces=[p for p in pieces if p],
                                                   chunked_out=chunked_out)
            payload = b"".join(chunks)
            assert n == told == len(payload), case
            assert (dechunk(out) if chunked_out else out) == payload, case
            assert left == wire[max(split, end):], case

    run(main())


def test_a_unix_socketpair_source_and_destination(net: Net, mode: str) -> None:
    body = random.Random(3).randbytes(1 << 20)

    async def main() -> None:
        n, out, left, _ = await through(net, body + TRAILING, 10, Framing("length", len(body)),
                                        unix=True)
        assert (n, out, left) == (len(body), body, TRAILING)
        n, out, left, _ = await through(net, chunked([body]) + TRAILING, 10,
                                        Framing("chunked"), unix=True, chunked_out=True)
        assert (n, dechunk(out), left) == (len(body), body, TRAILING)

    run(main())


# -- broken sources ------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["fin", "rst"])
def test_a_length_body_cut_short_is_a_broken_source(net: Net, mode: str, end: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, dst_r = net.tcp()
        reader = asyncio.create_task(read_all(dst_r))
        await feed(src_w, [b"x" * 4000], end=end)
        with pytest.raises(SourceBroken) as e:
            await relay(src.fileno(), b"y" * 1000, Framing("length", 6000), dst.fileno())
        if end == "fin":
            assert e.value.message == "the upstream body broke off after 5000 of 6000 bytes"
        else:
            assert e.value.message.startswith("the upstream connection failed after ")
            assert e.value.message.endswith(" bytes: ECONNRESET (Connection reset by peer)")
        dst.shutdown(socket.SHUT_WR)
        assert len(await reader) <= 5000

    run(main())


def test_a_fin_in_a_length_body_says_how_far_it_got(net: Net) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, _dst_r = net.tcp()
        await feed(src_w, [b"x" * 234], end="fin")
        with pytest.raises(SourceBroken) as e:
            await relay(src.fileno(), b"y" * 1000, Framing("length", 5000), dst.fileno())
        assert e.value.message == "the upstream body broke off after 1234 of 5000 bytes"
        assert str(e.value) == e.value.message

    run(main())


def test_a_reset_close_delimited_body_is_a_broken_source(net: Net, mode: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, _dst_r = net.tcp()
        task = asyncio.create_task(relay(src.fileno(), b"", Framing("close"), dst.fileno()))
        await feed(src_w, [b"x" * 1000])
        await asyncio.sleep(0.05)
        await feed(src_w, [], end="rst")
        with pytest.raises(SourceBroken, match="ECONNRESET"):
            await asyncio.wait_for(task, 5)

    run(main())


CHUNKED = chunked([b"hello", b"world!"], [b"T: v"])


@pytest.mark.parametrize("cut", [1, 3, 5, 8, 12, 14, 18, 20, 22, 25, len(CHUNKED) - 1])
@pytest.mark.parametrize("end", ["fin", "rst"])
def test_a_chunked_body_cut_anywhere_is_a_broken_source(net: Net, mode: str, cut: int,
                                                         end: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, _dst_r = net.tcp()
        await feed(src_w, [CHUNKED[2:cut]], end=end)
        with pytest.raises(SourceBroken, match=r"broke off|ECONNRESET"):
            await asyncio.wait_for(relay(src.fileno(), CHUNKED[:2], Framing("chunked"),
                                         dst.fileno()), 5)

    run(main())


MALFORMED = {
    b"zz\r\nhello\r\n0\r\n\r\n": "malformed chunk size line 'zz'",
    b" 5\r\nhello\r\n0\r\n\r\n": "malformed chunk size line",
    b"5 \r\nhello\r\n0\r\n\r\n": "malformed chunk size line",
    b"-5\r\nhello\r\n0\r\n\r\n": "malformed chunk size line",
    b"0x5\r\nhello\r\n0\r\n\r\n": "malformed chunk size line",
    b"\r\nhello\r\n0\r\n\r\n": "malformed chunk size line",
    b"5;a\x00b\r\nhello\r\n0\r\n\r\n": "malformed chunk size line",
    b"5\nhello\r\n0\r\n\r\n": "a chunk size line does not end in CRLF",
    b"5\r\r\nhello\r\n0\r\n\r\n": "bare CR",
    b"5\r\nhelloXY0\r\n\r\n": "missing CRLF after chunk data",
    b"5\r\nhello\rX0\r\n\r\n": "missing CRLF after chunk data",
    b"5\r\nhello\n0\r\n\r\n": "missing CRLF after chunk data",
    b"4000000000000001\r\n": "chunk size 4000000000000001 is too large",
    b"1" * 5000 + b"\r\n": "a chunk size line is over 4096 bytes",
    b"5;" + b"e" * 4100 + b"\r\n": "a chunk size line is over 4096 bytes",
    b"0\r\nX: y\n\r\n": "a trailer line does not end in CRLF",
    b"0\r\nX: \x01\r\n\r\n": "malformed trailer line",
    b"0\r\n" + b"X: " + b"y" * 9000 + b"\r\n\r\n": "a trailer line is over 8192 bytes",
    b"0\r\n" + b"X: y\r\n" * 12000 + b"\r\n": "the trailer section is over 65536 bytes",
}


@pytest.mark.parametrize("in_prefix", [False, True])
@pytest.mark.parametrize("wire", list(MALFORMED), ids=range(len(MALFORMED)))
def test_malformed_chunked_framing_is_a_broken_source(net: Net, mode: str, wire: bytes,
                                                      in_prefix: bool) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, dst_r = net.tcp()
        feeder = asyncio.create_task(feed(src_w, [] if in_prefix else [wire], end="fin"))
        with pytest.raises(SourceBroken) as e:
            await asyncio.wait_for(relay(src.fileno(), wire if in_prefix else b"",
                                         Framing("chunked"), dst.fileno()), 5)
        assert MALFORMED[wire] in e.value.message
        assert "\n" not in e.value.message
        feeder.cancel()
        dst.shutdown(socket.SHUT_WR)
        assert b"X" not in await read_all(dst_r)  # the bad chunk's bytes never left

    run(main())


def test_the_largest_chunk_size_is_accepted_and_caught_by_max_bytes(net: Net,
                                                                     mode: str) -> None:
    async def main() -> None:
        _src_w, src = net.tcp()
        dst, _ = net.tcp()
        with pytest.raises(BodyTooLarge, match="over the limit of 10 bytes"):
            await relay(src.fileno(), b"4000000000000000\r\n", Framing("chunked"),
                        dst.fileno(), max_bytes=10)

    run(main())


# -- destinations, timeouts, limits --------------------------------------------------------


def test_a_destination_closed_by_its_peer_is_gone(net: Net, mode: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, dst_r = net.tcp()
        loop = asyncio.get_running_loop()
        feeder = asyncio.create_task(feed(src_w, [b"x" * (1 << 20)] * 16))
        task = asyncio.create_task(relay(src.fileno(), b"", Framing("length", 16 << 20),
                                         dst.fileno()))
        got = 0
        while got < 100_000:
            got += len(await loop.sock_recv(dst_r, 65536))
        dst_r.close()  # unread bytes: a reset
        with pytest.raises(DestinationGone, match="the client connection failed after"):
            await asyncio.wait_for(task, 5)
        feeder.cancel()

    run(main())


def test_a_destination_that_takes_nothing_times_out_and_the_source_waits(net: Net,
                                                                         mode: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp(buf=64 << 10)
        dst, _dst_r = net.tcp(buf=64 << 10)  # never read
        sent = 0

        async def produce() -> None:
            nonlocal sent
            loop = asyncio.get_running_loop()
            for _ in range(1024):
                await loop.sock_sendall(src_w, b"x" * (64 << 10))
                sent += 64 << 10

        feeder = asyncio.create_task(produce())
        t0 = time.monotonic()
        with pytest.raises(RelayTimeout, match=r"the client took nothing for 0.3 s \(after"):
            await relay(src.fileno(), b"", Framing("length", 64 << 20), dst.fileno(),
                        send_timeout=0.3)
        assert 0.3 <= time.monotonic() - t0 < 3
        assert sent <= 3 << 20  # one pipe's worth read ahead, and the socket buffers
        feeder.cancel()

    run(main())


def test_a_slow_destination_keeps_the_source_within_a_few_buffers(
        net: Net, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A destination that stalls past SLOW_WAIT makes the relay read SLOW_READ at a time
    (not its 4 MiB buffer or 1 MiB pipe), so the source's receive buffer stops growing and
    the producer stays within a few MB of the reader, not the whole body ahead. How far
    ahead exactly is the kernel's (its receive-buffer autotuning during the first, fast
    read: 0.3-3.2 MiB seen): the reads while slow are what the relay decides."""
    size = 16 << 20
    slow_seen: list[asyncio.Event] = []
    reads_while_slow: list[int] = []
    set_pace, capacity = splice._Relay._set_pace, splice._Relay.capacity

    def spy_pace(self: splice._Relay, slow: bool) -> None:
        set_pace(self, slow)
        if slow:
            slow_seen[0].set()

    def spy_capacity(self: splice._Relay) -> int:
        value = capacity.fget(self)
        if self.slow:
            reads_while_slow.append(value)
        return value

    monkeypatch.setattr(splice._Relay, "_set_pace", spy_pace)
    monkeypatch.setattr(splice._Relay, "capacity", property(spy_capacity))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        slow_seen.append(asyncio.Event())
        src_w, src = net.tcp()
        src_w.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
        dst, dst_r = net.tcp(buf=64 << 10)
        block = bytes(range(256)) * 4096
        sent = got = lead = 0

        async def produce() -> None:
            nonlocal sent
            # A first block, more than the destination's buffers take, then nothing until
            # the relay has seen the stalled reader and gone slow: what follows is the
            # slow mode's, whatever the machine's load did to the timing before it.
            await loop.sock_sendall(src_w, block)
            sent += len(block)
            await slow_seen[0].wait()
            while sent < size:
                await loop.sock_sendall(src_w, block)
                sent += len(block)

        async def slow_read() -> bytes:
            nonlocal got, lead
            out = bytearray()
            await asyncio.sleep(0.2)  # a stall: the relay sees a slow destination
            while len(out) < size:
                data = await loop.sock_recv(dst_r, 64 << 10)
                assert data
                out += data
                got = len(out)
                lead = max(lead, sent - got)
                await asyncio.sleep(0.002)
            return bytes(out)

        feeder = asyncio.create_task(produce())
        reader = asyncio.create_task(slow_read())
        async with asyncio.timeout(30):  # a relay that never goes slow would wait for ever
            n = await relay(src.fileno(), b"", Framing("length", size), dst.fileno(),
                            send_timeout=10)
        assert await reader == block * (size // len(block)) and n == size
        await feeder
        assert reads_while_slow and max(reads_while_slow) <= splice.SLOW_READ
        assert lead < 6 << 20, f"the producer got {lead / 2**20:.1f} MiB ahead"

    run(main())


def test_a_slow_destination_that_keeps_up_again_gets_full_reads_again(
        net: Net, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One stall must not leave the rest of a large body at 256 KiB reads: once the
    destination has taken FAST_AGAIN bytes without a long wait, the relay reads in full."""
    monkeypatch.setattr(splice, "FAST_AGAIN", 4 << 20)
    paces: list[tuple[bool, int]] = []
    set_pace = splice._Relay._set_pace

    def spy(self: splice._Relay, slow: bool) -> None:
        paces.append((slow, self.sent))
        set_pace(self, slow)

    monkeypatch.setattr(splice._Relay, "_set_pace", spy)
    size = 12 << 20

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src_w, src = net.tcp()
        dst, dst_r = net.tcp(buf=64 << 10)
        block = bytes(range(256)) * 4096

        async def produce() -> None:
            for _ in range(size // len(block)):
                await loop.sock_sendall(src_w, block)

        async def stall_then_read() -> int:
            await asyncio.sleep(0.2)
            got = 0
            while got < size:
                data = await loop.sock_recv(dst_r, 1 << 20)
                assert data
                got += len(data)
            return got

        feeder = asyncio.create_task(produce())
        reader = asyncio.create_task(stall_then_read())
        n = await relay(src.fileno(), b"", Framing("length", size), dst.fileno(),
                        send_timeout=10)
        assert n == await reader == size
        await feeder

    run(main())
    assert [slow for slow, _ in paces[:2]] == [True, False], paces
    assert paces[1][1] - paces[0][1] >= 4 << 20


def test_a_source_that_sends_nothing_times_out_when_asked_to(net: Net, mode: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp()
        dst, _ = net.tcp()
        await feed(src_w, [b"3\r\nab"])
        with pytest.raises(RelayTimeout, match=r"the upstream sent nothing for 0.2 s \(after 2 bytes\)"):
            await relay(src.fileno(), b"", Framing("chunked"), dst.fileno(), idle_timeout=0.2)

    run(main())


def test_max_bytes(net: Net, mode: str) -> None:
    """A body of exactly the limit passes; one byte more does not, and what went out stays
    within the limit (a length over it fails before anything is read)."""
    async def close_body(size: int, limit: int, prefix: int) -> tuple[int | None, bytes]:
        src_w, src = net.tcp()
        dst, dst_r = net.tcp()
        reader = asyncio.create_task(read_all(dst_r))
        body = random.Random(size).randbytes(size)
        feeder = asyncio.create_task(feed(src_w, [body[prefix:]], end="fin"))
        try:
            n = await relay(src.fileno(), body[:prefix], Framing("close"), dst.fileno(),
                            max_bytes=limit, chunked_out=True)
        except BodyTooLarge as e:
            assert e.message == f"the body is over the limit of {limit} bytes"
            n = None
        await feeder
        dst.shutdown(socket.SHUT_WR)
        out = dechunk(await reader)
        assert out == body[:len(out)]
        return n, out

    async def main() -> None:
        assert (await close_body(300_000, 300_000, 100))[0] == 300_000
        n, out = await close_body(300_001, 300_000, 100)
        assert n is None and len(out) <= 300_000
        n, out = await close_body(5000, 4000, 4500)  # the prefix alone is over
        assert n is None and out == b""
        _src_w, src = net.tcp()
        dst, _ = net.tcp()
        with pytest.raises(BodyTooLarge, match="the body's 101 bytes are over the limit of 100"):
            await relay(src.fileno(), b"", Framing("length", 101), dst.fileno(), max_bytes=100)
        with pytest.raises(BodyTooLarge, match="over the limit of 100 bytes"):
            await relay(src.fileno(), chunked([b"a" * 60, b"b" * 50]), Framing("chunked"),
                        dst.fileno(), max_bytes=100)

    run(main())


# -- cancellation, fds, transports ---------------------------------------------------------


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _watches() -> list[int]:
    """The fd numbers that this process's epoll instances watch. A registration that was not
    removed before its fd was closed stays there as long as a duplicate keeps the file
    open, for a number that is no longer an open fd."""
    watched = []
    for fd in os.listdir("/proc/self/fdinfo"):
        with contextlib.suppress(OSError), open(f"/proc/self/fdinfo/{fd}") as f:
            watched += [int(line.split()[1]) for line in f if line.startswith("tfd:")]
    return watched


def _stale_watches() -> list[int]:
    return [fd for fd in _watches() if not os.path.exists(f"/proc/self/fd/{fd}")]


@pytest.mark.parametrize("stall", ["source", "destination"])
def test_cancelling_a_relay_closes_its_fds_and_leaves_the_callers(net: Net, mode: str,
                                                                  stall: str) -> None:
    async def main() -> None:
        src_w, src = net.tcp(buf=64 << 10)
        dst, dst_r = net.tcp(buf=64 << 10)
        before = _fds(), len(_watches())
        told: list[int] = []
        task = asyncio.create_task(relay(src.fileno(), b"", Framing("length", 64 << 20),
                                         dst.fileno(), on_sent=told.append,
                                         chunked_out=True))
        feeder = asyncio.create_task(feed(src_w, [b"x" * 1000] if stall == "source"
                                          else [b"x" * (1 << 20)] * 8))
        last = -1
        for _ in range(100):  # until the relay waits: for src, or for dst (nobody reads it)
            await asyncio.sleep(0.05)
            if sum(told) == last >= 1000:
                break
            last = sum(told)
        assert _fds() == before[0] + (4 if mode == "splice" else 2)  # the dups and the pipe
        assert len(_watches()) == before[1] + 1 + (stall == "destination")  # +feeder
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            gc.collect()
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert (_fds(), len(_watches())) == before
        assert _stale_watches() == []
        for s in (src, dst):
            os.fstat(s.fileno())
            assert not os.get_blocking(s.fileno())
        if stall == "source":  # both connections still work
            src_w.send(b"more")
            assert await asyncio.wait_for(asyncio.get_running_loop().sock_recv(src, 9), 5) \
                == b"more"
        dst_r.setblocking(True)
        dst_r.settimeout(5)
        assert dst_r.recv(1)  # what went out is there, the connection is still open

    run(main())


def test_a_64_mib_body_through_a_slow_reader_arrives_exactly(net: Net) -> None:
    size = 64 << 20

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src_w, src = net.tcp()
        dst, dst_r = net.tcp()
        rng = random.Random(64)
        sent = hashlib.sha256()

        async def produce() -> None:
            for _ in range(size >> 20):
                block = rng.randbytes(1 << 20)
                sent.update(block)
                await loop.sock_sendall(src_w, block)
            await loop.sock_sendall(src_w, TRAILING)

        async def slow_read() -> tuple[int, bytes]:
            got, digest, mark = 0, hashlib.sha256(), 0
            while data := await loop.sock_recv(dst_r, 256 << 10):
                got += len(data)
                digest.update(data)
                if got - mark >= 1 << 20:
                    mark = got
                    await asyncio.sleep(0.003)
            return got, digest.digest()

        feeder = asyncio.create_task(produce())
        reader = asyncio.create_task(slow_read())
        n = await relay(src.fileno(), b"", Framing("length", size), dst.fileno(),
                        send_timeout=10)
        dst.shutdown(socket.SHUT_WR)
        got, digest = await reader
        await feeder
        assert n == got == size and digest == sent.digest()
        src_w.shutdown(socket.SHUT_WR)
        assert await read_all(src) == TRAILING

    run(main())


def _loops() -> list:
    factories = [None]
    with contextlib.suppress(ImportError):
        import uvloop
        factories.append(uvloop.new_event_loop)
    return factories


@pytest.mark.parametrize("loop_factory", _loops(), ids=["asyncio", "uvloop"][:len(_loops())])
def test_fds_that_belong_to_asyncio_transports_keep_working(net: Net, loop_factory) -> None:
    """dst is a stream writer's socket, src a paused stream reader's: the transports go on
    after the relay (dst writes, src reads what followed the body)."""
    body = random.Random(5).randbytes(3 << 20)

    async def main() -> None:
        received = asyncio.get_running_loop().create_future()
        go = asyncio.Event()

        async def client_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            received.set_result(await reader.read())
            writer.close()

        async def upstream_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            await go.wait()
            writer.write(body + TRAILING)
            await writer.drain()
            writer.close()

        client_server = await asyncio.start_server(client_side, "127.0.0.1", 0)
        upstream_server = await asyncio.start_server(upstream_side, "127.0.0.1", 0)
        async with client_server, upstream_server:
            _, out = await asyncio.open_connection(*client_server.sockets[0].getsockname())
            up_in, up_out = await asyncio.open_connection(
                *upstream_server.sockets[0].getsockname())
            up_out.transport.pause_reading()
            go.set()
            out.write(b"head:")
            await out.drain()
            n = await relay(up_out.get_extra_info("socket").fileno(), b"",
                            Framing("length", len(body)), out.get_extra_info("socket").fileno(),
                            send_timeout=5)
            assert n == len(body)
            await asyncio.sleep(0)  # (a loop may drop a registration on its next turn)
            assert _stale_watches() == []
            out.write(b":tail")
            await out.drain()
            out.close()
            await out.wait_closed()
            assert await asyncio.wait_for(received, 5) == b"head:" + body + b":tail"
            up_out.transport.resume_reading()
            assert await asyncio.wait_for(up_in.read(), 5) == TRAILING
            up_out.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())


def test_framing_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown body framing"):
        Framing("gzip")
    with pytest.raises(ValueError, match="length >= 0"):
        Framing("length")


@pytest.mark.skipif(not splice.HAVE_SPLICE, reason="no os.splice")
def test_the_pipe_is_grown_to_a_mib_where_the_kernel_allows() -> None:
    r, w = os.pipe()
    try:
        capacity = splice._grow_pipe(w)
    finally:
        os.close(r)
        os.close(w)
    with open("/proc/sys/fs/pipe-max-size") as f:
        allowed = int(f.read())
    assert capacity == splice.PIPE_SIZE if allowed >= splice.PIPE_SIZE else capacity <= allowed


def test_copy_buffers_are_reused_and_at_most_a_few_kept(net: Net, monkeypatch) -> None:
    buffers = splice._Buffers()
    monkeypatch.setattr(splice, "_BUFFERS", buffers)
    body = os.urandom((1 << 20) + 3)
    framing = Framing("length", len(body))

    async def go() -> None:
        # Four at once: each its own buffer; afterwards only KEEP_BUFFERS of them are kept.
        outs = await asyncio.gather(*(through(net, body, 10, framing, use_splice=False)
                                      for _ in range(4)))
        assert all(out[1] == body for out in outs)
        kept = list(buffers._free)
        assert len(kept) == splice.KEEP_BUFFERS
        # The next relay takes a kept one (no fresh mapping to fault in) and gives it back.
        out = await through(net, body, 10, framing, use_splice=False)
        assert out[1] == body
        assert {id(b) for b in buffers._free} == {id(b) for b in kept}

    run(go())
    assert all(not b.closed for b in buffers._free)


# -- the chunk parser, and what a framing-heavy body costs ---------------------------------


def parse(pieces: list[bytes], skip: int = 0) -> tuple[bytes, int, bytes]:
    """``pieces`` fed one by one to a chunk parser: (payload, chunks, the bytes after the
    last chunk's size line)."""
    parser = splice._ChunkParser(skip)
    out = splice._Payload()
    for k, piece in enumerate(pieces):
        end = parser.feed(memoryview(piece), 0, len(piece), out)
        if parser.done:
            rest = piece[end:] + b"".join(pieces[k + 1:])
            return b"".join(bytes(p) for p in out.take()), parser.chunks, rest
        assert end == len(piece)
    raise AssertionError("no last chunk")


LONGEST = b"1;" + b"e" * (splice.SIZE_LINE_LIMIT - 4) + b"\r\n"  # the limit, CRLF included


def test_the_chunk_parser_takes_a_body_split_at_every_position() -> None:
    chunks = [b"a", b"bc" * 9, b"d" * 300, b"x"]
    wire = (b"1;name=value\r\na\r\n12\r\n" + b"bc" * 9 + b"\r\n" + b"12c;e\r\n" + b"d" * 300
            + b"\r\n" + LONGEST + b"x\r\n" + b"0;end\r\nT: 1\r\n\r\n")
    assert len(LONGEST) == splice.SIZE_LINE_LIMIT
    for split in range(len(wire) + 1):
        for cut in {split // 2, split}:  # in three pieces: cut, split
            payload, n, rest = parse([wire[:cut], wire[cut:split], wire[split:]])
            assert (payload, n, rest) == (b"".join(chunks), 5, b"T: 1\r\n\r\n"), split


def test_the_chunk_parser_takes_a_line_a_byte_at_a_time_and_skips() -> None:
    wire = LONGEST + b"x\r\n5\r\nhello\r\n0\r\n\r\n"
    assert parse([wire[i:i + 1] for i in range(len(wire))]) == (b"xhello", 3, b"\r\n")
    assert parse([wire], skip=3)[0] == b"llo"


def test_the_chunk_parser_gathers_tiny_chunks_into_one_piece() -> None:
    wire = b"1\r\na\r\n2;e=1\r\nbb\r\n" * 50000 + b"0\r\n\r\n"
    parser = splice._ChunkParser()
    out = splice._Payload()
    assert parser.feed(memoryview(wire), 0, len(wire), out) == len(wire) - 2
    assert (parser.done, parser.chunks, out.size) == (True, 100001, 150000)
    pieces = out.take()
    assert len(pieces) == 1 and bytes(pieces[0]) == b"abb" * 50000


def test_the_chunk_parser_stops_where_it_is_told() -> None:
    wire = b"1\r\na\r\n" * 10 + b"0\r\n\r\n"
    parser = splice._ChunkParser()
    out = splice._Payload()
    assert parser.feed(memoryview(wire), 0, len(wire), out, until=4) == 24  # 4 chunks
    assert parser.feed(memoryview(wire), 24, len(wire), out) == len(wire) - 2
    assert bytes(out.take()[0]) == b"a" * 10


@pytest.mark.parametrize("pieces", [1, 2, "bytes"])
def test_an_over_long_chunk_line_is_refused_before_its_end_comes(pieces) -> None:
    line = b"1;" + b"e" * (splice.SIZE_LINE_LIMIT - 3) + b"\r\n"  # one byte over
    wire = line + b"x\r\n0\r\n\r\n"
    if pieces == "bytes":
        split = [wire[i:i + 1] for i in range(len(wire))]
    else:
        split = [wire[:len(line) // pieces], wire[len(line) // pieces:]]
    with pytest.raises(SourceBroken, match="a chunk size line is over 4096 bytes"):
        parse(split)
    # an endless line: refused at the limit, whatever follows
    with pytest.raises(SourceBroken, match="over 4096 bytes"):
        parse([b"1;" + b"e" * 100_000])


class CountingSocket(socket.socket):
    """A socket that counts the reads made on it (successful or not)."""

    reads = 0

    def recv_into(self, *args, **kwargs) -> int:  # type: ignore[override]
        CountingSocket.reads += 1
        return super().recv_into(*args, **kwargs)

    def recv(self, *args, **kwargs) -> bytes:  # type: ignore[override]
        CountingSocket.reads += 1
        return super().recv(*args, **kwargs)


def counting_dup(fd: int) -> socket.socket:
    s = CountingSocket(fileno=os.dup(fd))
    s.settimeout(0.0)
    return s


@pytest.mark.parametrize("shape", ["tiny", "long lines"])
def test_a_framing_heavy_body_takes_large_reads_and_gives_the_loop_turns(
        net: Net, mode: str, monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    """60,000 one-byte chunks, or 1,000 with 4 KiB size lines: read in large reads (not
    a few bytes each), every ``YIELD_CHUNKS`` chunks the event loop gets a turn, and
    nothing past the body is read."""
    if shape == "tiny":
        chunks, ext = 60000, b""
    else:
        chunks, ext = 1000, b";" + b"e" * 4000
    payload = bytes(range(256)) * (chunks // 256) + bytes(chunks % 256)
    wire = chunked([payload[i:i + 1] for i in range(chunks)], ext=ext)
    monkeypatch.setattr(splice, "_dup", counting_dup)
    monkeypatch.setattr(CountingSocket, "reads", 0)

    async def main() -> None:
        done = False
        turns = 0

        async def ticker() -> None:
            nonlocal turns
            while not done:
                await asyncio.sleep(0)
                turns += 1

        task = asyncio.create_task(ticker())
        n, out, left, _ = await through(net, wire + TRAILING, 0, Framing("chunked"))
        done = True
        await task
        assert (n, out, left) == (chunks, payload, TRAILING)
        assert CountingSocket.reads < len(wire) // 2048, CountingSocket.reads
        if shape == "tiny":
            assert turns >= chunks // splice.YIELD_CHUNKS - 1, turns

    run(main())
