"""The worker's writer of a body into the client's socket (isolate_worker/direct.py)."""

from __future__ import annotations

import asyncio
import socket

from isoflow.isolate_worker.direct import DirectWrite
from tests.conftest import run

WINDOW = 1 << 20


class Recorder:
    """A DirectWrite with what it told its owner."""

    def __init__(self, window: int = WINDOW) -> None:
        self.credit = 0
        self.ends: list[tuple[int, str | None]] = []
        self.stalls = 0
        self.direct = DirectWrite(window, self._credit, self._end, self._stall)

    def _credit(self, n: int) -> None:
        self.credit += n

    def _end(self, written: int, failure: str | None) -> None:
        self.ends.append((written, failure))

    def _stall(self) -> None:
        self.stalls += 1


def client_pair(sndbuf: int = 0) -> tuple[socket.socket, socket.socket]:
    """(the worker's copy of a client connection, the client's end) over TCP loopback."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        ours, _ = server.accept()
    if sndbuf:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    return ours, client


def read_all(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = bytearray()
    while chunk := sock.recv(1 << 16):
        data += chunk
    return bytes(data)


def test_chunks_go_out_framed_and_credit_comes_back_as_they_reach_the_kernel():
    async def go() -> None:
        ours, client = client_pair()
        rec = Recorder()
        rec.direct.granted(ours, True, 5.0)
        buf = bytearray(b"hello")
        rec.direct.write(memoryview(buf))
        buf[:] = b"world"  # the caller's memory is reused: what went out stays
        rec.direct.write(memoryview(buf))
        rec.direct.write(memoryview(b""))  # an empty chunk would end the body: skipped
        assert rec.credit == 10 and rec.stalls == 0
        rec.direct.end()
        assert rec.ends == [(10, None)]
        assert ours.fileno() == -1  # our copy is closed; the connection is not
        client.shutdown(socket.SHUT_WR)
        assert client.recv(100) == b"5\r\nhello\r\n5\r\nworld\r\n"
        client.close()

    run(go())


def test_chunks_made_before_the_answer_are_copies_sent_first_or_handed_back():
    async def go() -> None:
        rec = Recorder()
        buf = bytearray(b"early")
        rec.direct.write(memoryview(buf))
        buf[:] = b"xxxxx"
        rec.direct.end()  # the end may come before the answer too
        assert not rec.direct.answered and rec.ends == []
        ours, client = client_pair()
        rec.direct.granted(ours, False, 5.0)
        assert rec.ends == [(5, None)]
        assert read_all(client) == b"early"
        client.close()

        refused = Recorder()
        refused.direct.write(memoryview(buf))
        buf[:] = b"later"
        assert refused.direct.refused() == [b"xxxxx"]
        assert refused.direct.answered and refused.credit == 0

    run(go())


def test_a_slow_client_holds_the_rest_and_its_credit_until_it_reads():
    async def go() -> None:
        ours, client = client_pair(sndbuf=16384)
        rec = Recorder(window=256 << 10)
        rec.direct.granted(ours, False, 5.0)
        body = bytes(range(256)) * 1024  # 256 KiB in 64 KiB chunks: more than the buffers
        for i in range(0, len(body), 65536):
            rec.direct.write(memoryview(body)[i:i + 65536])
        rec.direct.end()
        assert rec.stalls == 1 and rec.ends == []
        assert rec.credit < len(body)  # what waits here is not granted back
        loop = asyncio.get_running_loop()
        reading = loop.run_in_executor(None, read_all, client)
        for _ in range(500):
            if rec.ends:
                break
            await asyncio.sleep(0.01)
        assert rec.ends == [(len(body), None)] and rec.credit == len(body)
        client.shutdown(socket.SHUT_WR)
        assert await reading == body
        client.close()

    run(go())


def test_a_client_that_takes_nothing_fails_the_body_after_the_send_timeout():
    async def go() -> None:
        ours, client = client_pair(sndbuf=16384)
        rec = Recorder()
        rec.direct.granted(ours, False, 0.2)
        rec.direct.write(memoryview(b"x" * (1 << 20)))
        await asyncio.sleep(0.5)
        assert len(rec.ends) == 1 and rec.ends[0][1] == "the client took nothing for 0.2 s"
        assert not rec.direct.client_gone and ours.fileno() == -1
        client.close()

    run(go())


def test_a_client_that_left_fails_the_body_and_says_so():
    async def go() -> None:
        ours, client = client_pair()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        client.close()  # a reset
        await asyncio.sleep(0.05)
        rec = Recorder()
        rec.direct.granted(ours, True, 5.0)
        rec.direct.write(memoryview(b"x" * 1000))
        rec.direct.write(memoryview(b"x" * 1000))
        assert rec.direct.client_gone
        assert len(rec.ends) == 1 and rec.ends[0][1].startswith("the client went away")

    run(go())


def test_a_closed_writer_says_nothing_more_and_closes_its_copy():
    async def go() -> None:
        ours, client = client_pair(sndbuf=16384)
        rec = Recorder()
        rec.direct.granted(ours, False, 0.1)
        rec.direct.write(memoryview(b"x" * (1 << 20)))  # waits for the client
        rec.direct.close()
        rec.direct.end()
        rec.direct.write(memoryview(b"more"))
        await asyncio.sleep(0.3)  # past the send timeout
        assert rec.ends == [] and ours.fileno() == -1
        late, other = client_pair()
        rec.direct.granted(late, False, 1.0)  # an answer after the close: closed at once
        assert late.fileno() == -1
        for sock in (client, other):
            sock.close()

    run(go())


def test_a_body_past_its_content_length_fails_before_a_byte_too_many_is_written():
    async def go() -> None:
        ours, client = client_pair()
        rec = Recorder()
        rec.direct.limit = 10
        rec.direct.write(memoryview(b"held"))  # before the answer: counted once
        rec.direct.granted(ours, False, 5.0)
        rec.direct.write(memoryview(b"123456"))  # exactly the length
        rec.direct.write(memoryview(b"!"))  # one too many: the body fails, nothing written
        assert rec.ends == [(10, "the body is longer than its Content-Length (10 bytes were "
                                 "left)")]
        assert read_all(client) == b"held123456"
        client.close()

    run(go())
