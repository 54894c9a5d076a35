"""A rogue process on the supervisor's IPC socket cannot disturb real traffic.

The socket lives in a private 0700 runtime directory, so only processes of the same user
can connect (docs/security.md): this test is that user. While real requests stream, rogue
DEALER sockets send garbage, hostile msgpack, and well-formed frames for the streams in
flight - under an identity of their own, under the identities of the real workers, and
under a reserved one. Every such frame is rejected or dropped with a log line, nothing
crashes, and every real response arrives complete and correct.
"""

from __future__ import annotations

import asyncio
import random
import re
import time

import msgpack
import zmq

from isoflow import protocol as p
from tests.chaos.support import (
    SCRIPT,
    assert_untouched,
    config,
    make_wave,
    run_wave,
    summary,
)
from tests.conftest import run
from tests.integration.ops_support import get


def _hostile_messages(rng: random.Random, max_sid: int) -> list[list[bytes]]:
    out: list[list[bytes]] = [
        [], [b""], [b"\xc1"], [b"\x91" * 50_000], [b"\xdd\xff\xff\xff\xff"],
        [msgpack.packb({"a": 1})], [msgpack.packb([2, 21, 1, 200, [], -1])],
        [msgpack.packb([1, 99, 1])], [msgpack.packb([1, 21, -1, 200, [], -1])],
        [msgpack.packb([1, 22, 1])],  # a body frame without its body
        [msgpack.packb([1, 21, 1, "200", [], -1])],
        [msgpack.packb([1, True, 1])],
    ]
    out += [[rng.randbytes(rng.randint(1, 64)) for _ in range(rng.randint(1, 3))]
            for _ in range(100)]
    for sid in range(1, max_sid):
        for frame in (p.ResponseHead(sid, 200, [["x-rogue", "1"]], 5),
                      p.ResponseBody(sid, b"ROGUE"), p.ResponseEnd(sid),
                      p.ResponseError(sid, 500, "rogue"), p.RequestCredit(sid, 1 << 30)):
            out.append(p.encode(frame))
    out += [p.encode(f) for f in (p.Hello(0, "rogue", 1, 1 << 30), p.Pong(0, 1, {"x": 1}),
                                  p.Fatal(0, "rogue says stop"), p.Log(0, "error", "", "hi"))]
    return out


def _rogues(endpoint: str, identities: list[bytes], seed: int, stop_at: float,
            max_sid: int) -> tuple[int, int]:
    """Send hostile messages from each identity until ``stop_at``; (sent, received)."""
    rng = random.Random(seed)
    ctx = zmq.Context()
    socks = []
    for identity in identities:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, identity)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(endpoint)
        socks.append(sock)
    sent = received = 0
    try:
        while time.monotonic() < stop_at:
            for sock in socks:
                for message in _hostile_messages(rng, max_sid):
                    if not message:  # ZeroMQ cannot send an empty message: one empty part
                        message = [b""]
                    sock.send_multipart([bytes(m) for m in message])
                    sent += 1
                while sock.poll(0):  # the supervisor must never answer a rogue
                    sock.recv_multipart()
                    received += 1
            time.sleep(0.05)
    finally:
        for sock in socks:
            sock.close(0)
        ctx.term()
    return sent, received


def test_rogue_dealers_cannot_disturb_streams_in_flight(ops, tmp_path):
    rng = random.Random(20260808)
    server = ops(config(9, workers=2).replace(
        "shutdown_grace = 2", f'shutdown_grace = 2\nruntime_dir = "{tmp_path / "run"}"'),
        files={"chaos.mjs": SCRIPT})
    run_dir = tmp_path / "run"
    assert run_dir.stat().st_mode & 0o777 == 0o700
    sockets = list(run_dir.glob("*.sock"))
    assert sockets, list(run_dir.iterdir())
    endpoint = f"ipc://{sockets[0]}"
    base = server.url("").rstrip("/")
    pids = server.worker_pids()
    # The real workers' identities are NAME.SERIAL with serials counting from 1.
    identities = [b"rogue", b"app/w0.1", b"app/w1.2", b"\x00reserved", b"app/w0.3"]
    wave = make_wave(rng, 80, {"gen": 1, "echo": 1, "wait": 1})

    async def scenario():
        stop_at = time.monotonic() + 2.5
        rogue = asyncio.ensure_future(asyncio.to_thread(
            _rogues, endpoint, identities, rng.randrange(1 << 30), stop_at, 200))
        await asyncio.sleep(0.3)
        outcomes = await run_wave(base, wave, timeout=30.0)
        return outcomes, await rogue

    outcomes, (sent, received) = run(scenario())
    assert {o.result for o in outcomes} == {"ok"}, summary(outcomes)
    assert sent > 5000 and received == 0
    log = server.log()
    assert re.search(r"rejected frame from worker b'rogue': ", log)
    # Logged once a minute per sender, not once a frame (a flood of log lines starved the
    # loop: the real workers' heartbeats went unanswered and they were killed).
    assert len(re.findall(r"dropped [A-Z_]+ from unknown worker b'rogue'", log)) == 1
    assert "missed heartbeats" not in log
    assert "Traceback" not in log
    assert server.proc.poll() is None
    assert_untouched(server, pids)
    assert run(get(server.url("/")))[2] == b"hello"
