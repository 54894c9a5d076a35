"""Process management: restart with backoff and crash-loop detection, heartbeat kills of a hung
worker, recycling by requests and by heap, draining at SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import time

import aiohttp
import pytest

from tests.conftest import run
from tests.integration.ops_support import get
from tests.procstats import alive

SCRIPT = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let keep = [];
addEventListener("fetch", (event) => event.respondWith((async () => {
  const url = new URL(event.request.url);
  const path = url.pathname;
  if (path === "/slow") { await sleep(Number(url.searchParams.get("ms") ?? 1000)); return new Response("slow done"); }
  if (path === "/hold") { keep.push(new Uint8Array(Number(url.searchParams.get("mib")) << 20).fill(1)); return new Response("held"); }
  if (path === "/grow") { for (let i = 0; i < 40; i++) keep.push(new Array(100000).fill(i + 0.5)); return new Response("grown"); }
  if (path === "/stream") {
    let i = 0;
    return new Response(new ReadableStream({
      async pull(c) {
        await sleep(100);
        if (i === 15) return c.close();
        c.enqueue(new TextEncoder().encode(`part ${i++}\\n`));
      },
    }));
  }
  return new Response("ok");
})()));
"""


def config(limits: str = "", server: str = "") -> str:
    return f"""
    [server]
    heartbeat_interval = 0.2
    heartbeat_timeout = 1.0
    shutdown_grace = 10
    {server}

    [[listeners]]
    port = @PORT@

    [scripts.app]
    path = "app.js"
    workers = 1

    [scripts.app.limits]
    queue_timeout = 20
    {limits}

    [[routes]]
    script = "app"
    """


def pid_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):  # a zombie is gone for our purpose: it no longer runs
            return True
        time.sleep(0.05)
    return False


def wait_new_pid(server, name: str, old: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = server.worker_pids().get(name)
        if pid is not None and pid != old:
            return pid
        time.sleep(0.05)
    raise AssertionError(f"{name} was not replaced:\n{server.log()}")


def test_a_crashing_worker_restarts_with_doubling_backoff_and_a_crash_loop_is_logged(ops, tmp_path):
    server = ops(config(server=f'runtime_dir = "{tmp_path / "run"}"'), files={"app.js": SCRIPT})
    pid = server.worker_pids()["app/w0"]
    # What the pool's workers evaluate is its pinned copy of the script (an edited file
    # does not reach them): broken there, every restart fails to load.
    (pinned,) = (tmp_path / "run").glob("script-*.pinned.json")
    good = pinned.read_text()
    pinned.write_text(json.dumps({"classic": "let broken = ;\n"}))
    os.kill(pid, signal.SIGKILL)
    server.wait_log(r"app/w0 is crash-looping: 5 restarts in 30 s", timeout=30)
    delays = [float(m.group(1)) for m in re.finditer(r"app/w0 \(pid \d+\) died .*; restarting in ([\d.]+) s",
                                                     server.log())]
    assert delays[:5] == [0.1, 0.2, 0.4, 0.8, 1.6]
    # Every failed start said why, though the worker left at once (its FATAL is flushed
    # before it exits), and its stderr reached the log.
    log = server.log()
    failed = log.count("died (exit code 2) before it was ready")
    assert failed >= 4 and log.count("app/w0 cannot serve: ") == failed, log
    assert log.count("isoflow.worker: app/w0: ") >= failed and "SyntaxError" in log
    pinned.write_text(good)  # fixed: the next attempt comes up
    wait_new_pid(server, "app/w0", pid, timeout=30)
    assert run(get(server.url("/")))[2] == b"ok"


def test_a_hung_worker_is_killed_by_heartbeat_and_replaced(ops):
    server = ops(config(), files={"app.js": SCRIPT})
    pid = server.worker_pids()["app/w0"]
    os.kill(pid, signal.SIGSTOP)
    try:
        server.wait_log(rf"app/w0 \(pid {pid}\) missed heartbeats for [\d.]+ s; killing it")
        new = wait_new_pid(server, "app/w0", pid)
        assert pid_gone(pid)
        assert new != pid
        assert run(get(server.url("/")))[2] == b"ok"
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def test_a_supervisor_held_past_the_heartbeat_timeout_kills_no_worker(ops):
    """A stopped (or starved, or paused) supervisor sends no PING and reads no PONG: on its
    return every worker looked hung, and all were killed with their requests in flight."""
    server = ops(config(), files={"app.js": SCRIPT})
    pid = server.worker_pids()["app/w0"]
    os.kill(server.pid, signal.SIGSTOP)
    try:
        time.sleep(2.0)  # twice the heartbeat timeout
    finally:
        os.kill(server.pid, signal.SIGCONT)
    time.sleep(1.0)  # several heartbeats after it
    assert run(get(server.url("/")))[2] == b"ok"
    assert server.worker_pids()["app/w0"] == pid
    assert "missed heartbeats" not in server.log()


def test_workers_are_recycled_after_n_requests_without_failing_any(ops):
    server = ops(config("recycle_requests = 3"), files={"app.js": SCRIPT})
    first = server.worker_pids()["app/w0"]

    async def sequential(n):
        out = []
        async with aiohttp.ClientSession() as s:
            for _ in range(n):
                async with s.get(server.url("/")) as r:
                    out.append((r.status, await r.read()))
                await asyncio.sleep(0.05)
        return out

    results = run(sequential(4))
    assert results == [(200, b"ok")] * 4
    server.wait_log(rf"app/w0 \(pid {first}\) is recycled after 3 requests")
    second = wait_new_pid(server, "app/w0", first)
    server.wait_log(rf"app/w0 \(pid {first}\) replaced by pid {second}")
    assert pid_gone(first)
    assert run(sequential(2)) == [(200, b"ok")] * 2


def test_a_recycled_worker_finishes_its_in_flight_request(ops):
    server = ops(config("recycle_requests = 1"), files={"app.js": SCRIPT})
    first = server.worker_pids()["app/w0"]
    # Recycling starts as the request is handed out; the replacement is up well before 3 s.
    status, _, body = run(get(server.url("/slow?ms=3000")))
    assert (status, body) == (200, b"slow done")
    server.wait_log(rf"app/w0 \(pid {first}\) replaced by pid \d+; it finishes its 1 streams")
    assert pid_gone(first)


def test_workers_are_recycled_when_their_heap_passes_the_limit(ops):
    server = ops(config('memory = "128MiB"\n    recycle_heap = "20MiB"'), files={"app.js": SCRIPT})
    first = server.worker_pids()["app/w0"]
    assert run(get(server.url("/grow")))[2] == b"grown"  # ~32 MB kept alive
    m = server.wait_log(rf"app/w0 \(pid {first}\) is recycled with (\d+) MiB of heap")[0]
    assert int(m.group(1)) >= 20
    wait_new_pid(server, "app/w0", first)
    assert run(get(server.url("/")))[2] == b"ok"


def test_workers_are_recycled_when_their_resident_memory_passes_the_limit(ops):
    server = ops(config('memory = "512MiB"\n    recycle_rss = "192MiB"'), files={"app.js": SCRIPT})
    first = server.worker_pids()["app/w0"]
    assert run(get(server.url("/hold?mib=160")))[2] == b"held"  # filled: resident
    m = server.wait_log(rf"app/w0 \(pid {first}\) is recycled with (\d+) MiB resident")[0]
    assert int(m.group(1)) >= 192
    wait_new_pid(server, "app/w0", first)
    assert run(get(server.url("/")))[2] == b"ok"


def test_sigterm_lets_an_in_flight_stream_finish_and_refuses_new_connections(ops):
    server = ops(config(), files={"app.js": SCRIPT})
    pids = set(server.worker_pids().values())

    async def scenario():
        async with aiohttp.ClientSession() as s, s.get(server.url("/stream")) as r:
            first = await r.content.readline()
            server.send_signal(signal.SIGTERM)
            refused = False
            for _ in range(100):  # the listening socket closes at once
                try:
                    socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                except ConnectionRefusedError:
                    refused = True
                    break
                await asyncio.sleep(0.02)
            rest = await r.read()
            return first + rest, refused

    body, refused = run(scenario())
    assert body.decode() == "".join(f"part {i}\n" for i in range(15))  # complete
    assert refused
    assert server.proc.wait(20) == 0
    assert "shutting down: finishing requests in flight" in server.log()
    for pid in pids:
        assert pid_gone(pid)


def test_sigterm_cancels_what_outlives_the_grace_period(ops):
    server = ops(config(server="shutdown_grace = 0.5").replace("shutdown_grace = 10\n", ""),
                 files={"app.js": SCRIPT})

    async def scenario():
        async with aiohttp.ClientSession() as s, s.get(server.url("/stream")) as r:
            await r.content.readline()
            server.send_signal(signal.SIGTERM)
            with pytest.raises(aiohttp.ClientPayloadError):
                await r.read()  # broken off, never a silently complete body

    run(scenario())
    assert server.proc.wait(20) == 0
