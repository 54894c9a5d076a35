"""Hostile scripts against the isolate limits: memory V8's heap limit does not see
(ArrayBuffers, WebAssembly.Memory), a runaway starved of CPU by other processes, and a
supervisor killed under its workers. One server (two workers) serves the limit tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isoflow.supervisor.runtimedir import PREFIX, SOCKET, RuntimeDir, RuntimeDirInUse, sweep_stale
from tests.conftest import IsoflowServer, fetch, run
from tests.procstats import RssSampler, alive, children, descendants, role, rss

MEMORY_MIB = 64
# The documented bound (docs/security.md): a worker's RSS stays below its RSS at start plus
# `memory` plus RSS_MARGIN (isolate_worker/worker.py).
RSS_MARGIN_MIB = 128

SCRIPT = """
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/buffers") {  // 1 GiB of filled ArrayBuffers, all kept
      const keep = [];
      for (let i = 0; i < 1024; i++) { const b = new Uint8Array(1 << 20); b.fill(7); keep.push(b); }
      return new Response(String(keep.length));
    }
    if (path === "/wasm") {  // a WebAssembly.Memory grown and filled to 1 GiB
      const memory = new WebAssembly.Memory({ initial: 1 });
      for (let i = 0; i < 1024; i++) { memory.grow(16); new Uint8Array(memory.buffer).fill(7); }
      return new Response(String(memory.buffer.byteLength));
    }
    if (path === "/one-buffer") {  // 1 GiB in one allocation, filled by one builtin call
      const b = new Uint8Array(1 << 30);
      b.fill(7);
      return new Response(String(b[12345]));
    }
    if (path === "/spin") { while (true) {} }
    if (path.startsWith("/files/")) {  // segment wildcards, backtracking on a run of dashes
      const match = new URLPattern({ pathname: "/files/:a-:b-:c-:d.:ext" }).exec(request.url);
      return new Response(match ? match.pathname.groups.ext : "no match");
    }
    if (path === "/nested") {  // a script's own catastrophic regexp
      return new Response(String(/^(a+)+$/.test(`${"a".repeat(40)}b`)));
    }
    globalThis.count = (globalThis.count ?? 0) + 1;
    return new Response(`alive ${globalThis.count}`);
  },
};
"""


def _pin_to_cpu0() -> None:
    os.sched_setaffinity(0, {0})


def pin(pids: list[int], cpus: set[int]) -> None:
    """Every thread of ``pids`` on ``cpus`` (V8's thread included: affinity is per thread)."""
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(tid), cpus)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[IsoflowServer]:
    tmp = tmp_path_factory.mktemp("security-limits")
    script = tmp / "limits.mjs"
    script.write_text(SCRIPT)
    srv = IsoflowServer(script, tmp / "isoflow.log", "--memory-limit", str(MEMORY_MIB),
                        "--cpu-limit", "0.3", workers=2)
    srv.start()
    yield srv
    srv.stop()


def healthy(server: IsoflowServer) -> bool:
    status, _, body = run(fetch(server.url("/")))
    return status == 200 and body.startswith(b"alive")


def bomb(server: IsoflowServer, path: str) -> tuple[int, bytes, RssSampler]:
    with RssSampler(server.pid, interval=0.002) as sampler:
        status, _, body = run(fetch(server.url(path)))
    return status, body, sampler


def assert_bounded(sampler: RssSampler) -> None:
    """No worker's RSS passed the bound, and each is back near its start (the replaced
    isolate is freed on a thread of its own, just after the answer)."""
    assert sampler.workers, sampler.report()  # a worker is the zygote's child: sampled too
    for pid in sampler.workers:
        bound = sampler.baseline[pid] + (MEMORY_MIB + RSS_MARGIN_MIB) * 2**20
        assert sampler.peak[pid] < bound, sampler.report()
    print(f"peak RSS: {sampler.report()}")
    deadline = time.monotonic() + 5
    while any(rss(pid) > sampler.baseline[pid] + 32 * 2**20 for pid in sampler.workers):
        assert time.monotonic() < deadline, [rss(pid) >> 20 for pid in sampler.pids]
        time.sleep(0.02)


@pytest.mark.parametrize("path", ["/buffers", "/wasm"])
def test_external_memory_counts_against_the_memory_limit(server, path):
    status, body, sampler = bomb(server, path)
    assert status == 503 and b"memory limit" in body, (status, body)
    assert_bounded(sampler)
    assert healthy(server)


@pytest.mark.parametrize(("path", "answer"), [
    (f"/files/{'-' * 400}", b"no match"),  # tens of seconds of backtracking, unbounded
    ("/files/a-b-c-d.txt", b"txt"),
    ("/nested", b"false"),
])
def test_a_backtracking_regexp_is_answered_within_the_cpu_limit(server, path, answer):
    # V8 reruns a regexp that backtracks too long on its linear-time engine (V8_FLAGS), and
    # URLPattern compiles a pattern without regexp groups so that it can (19_urlpattern.js).
    status, _, body = run(fetch(server.url(path)))
    assert (status, body) == (200, answer)
    assert healthy(server)


def test_one_huge_allocation_is_refused_without_growing_the_worker(server):
    status, body, sampler = bomb(server, "/one-buffer")
    assert status in (500, 503), (status, body)  # RangeError, or the limit at the next GC
    assert_bounded(sampler)
    assert healthy(server)


FILL = """
export default {
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/fill") {
      new Uint8Array(+url.searchParams.get("n")).fill(7);
      return new Response("filled");
    }
    return new Response("alive");
  },
};
"""


def data_room(pid: int) -> int:
    """Bytes of private writable memory ``pid`` may still map: RLIMIT_DATA less VmData."""
    limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
    soft = next(int(line.split()[3]) for line in limits if line.startswith("Max data size"))
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return soft - next(int(line.split()[1]) << 10 for line in status
                       if line.startswith("VmData:"))


def test_an_isolate_that_fails_at_the_data_limit_is_still_replaced(tmp_path):
    """One buffer leaves the worker less private memory than a thread's stack: the memory
    limit trips, and the replacement needs a thread (to free the old isolate) and a new
    isolate. It once failed there ("can't start new thread") and left the worker without an
    isolate, every later request waiting for its wall time."""
    script = tmp_path / "fill.mjs"
    script.write_text(FILL)
    srv = IsoflowServer(script, tmp_path / "isoflow.log", "--memory-limit", str(MEMORY_MIB),
                        "--wall-time", "3", workers=1)
    srv.start()
    try:
        worker = next(pid for pid in descendants(srv.pid) if role(pid) == "worker")
        status, _, body = run(fetch(srv.url(f"/fill?n={data_room(worker) - (2 << 20)}")))
        assert status in (500, 503), (status, body)
        deadline = time.monotonic() + 20
        while (answer := run(fetch(srv.url("/"))))[0] != 200:
            assert time.monotonic() < deadline, (answer, srv.log_path.read_text()[-2000:])
            time.sleep(0.2)
        assert answer[2] == b"alive"
    finally:
        srv.stop()


def test_a_runaway_starved_of_cpu_is_still_terminated(server):
    """Four busy processes share the workers' core: the runaway gets about a fifth of it,
    which the old watchdog took for idling (it never terminated it). Its own CPU clock
    reaches the 0.3 s limit after about 1.5 s of wall time."""
    workers = descendants(server.pid)[1:]  # the zygote and the workers it forked
    pin(workers, {0})
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             preexec_fn=_pin_to_cpu0, start_new_session=True)
            for _ in range(4)]
    try:
        start = time.monotonic()
        status, _, body = run(fetch(server.url("/spin")))
        took = time.monotonic() - start
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        pin(workers, os.sched_getaffinity(0))
    assert status == 503 and b"CPU time limit" in body, (status, body)
    assert took < 10, took
    print(f"runaway terminated after {took:.2f} s with 4 CPU hogs on its core")
    assert healthy(server)


def test_workers_die_with_their_supervisor_and_its_stale_runtime_dir_is_cleaned(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    script = tmp_path / "hello.mjs"
    script.write_text(SCRIPT)
    first = IsoflowServer(script, tmp_path / "first.log", workers=2)
    second = IsoflowServer(script, tmp_path / "second.log", workers=1)
    try:
        first.spawn(first.args, env=env).wait_serving(60)
        workers = list(first.worker_pids().values())  # forked by the zygote, its child
        assert len(workers) == 2
        workers += children(first.pid)  # and the zygote itself
        (stale,) = list(tmpdir.glob("isoflow-*"))
        first.proc.kill()  # SIGKILL: no cleanup of any kind
        first.proc.wait()
        deadline = time.monotonic() + 2
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not [pid for pid in workers if alive(pid)], "workers outlived their supervisor"
        assert stale.exists()
        second.spawn(second.args, env=env).wait_serving(60)
        assert not stale.exists()
        assert len(list(tmpdir.glob("isoflow-*"))) == 1  # its own
        assert healthy(second)
    finally:
        for srv in (first, second):
            srv.stop(signal.SIGTERM)


def test_a_runtime_dir_in_use_is_refused(tmp_path):
    path = tmp_path / "run"
    held = RuntimeDir(path)
    try:
        with pytest.raises(RuntimeDirInUse):
            RuntimeDir(path)
    finally:
        held.release()
    RuntimeDir(path).release()  # free again once released


def test_a_stale_socket_in_a_configured_runtime_dir_is_removed(tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    (path / SOCKET).write_text("")
    runtime = RuntimeDir(path)
    try:
        assert not (path / SOCKET).exists()
    finally:
        runtime.release()
    assert path.exists()  # configured: kept


def test_a_temporary_runtime_dir_of_a_live_supervisor_is_not_swept(tmp_path):
    live = tmp_path / f"{PREFIX}live"
    runtime = RuntimeDir(live)
    legacy = tmp_path / f"{PREFIX}legacy"  # no lock file: not ours to judge
    legacy.mkdir()
    try:
        assert sweep_stale(tmp_path) == []
        assert live.exists() and legacy.exists()
    finally:
        runtime.release()
    (live / "supervisor.lock").write_text("1\n")  # as a killed supervisor leaves it
    assert sweep_stale(tmp_path) == [live]
