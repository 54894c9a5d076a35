"""Workers forked from the zygote (isolate_worker/zygote.py, supervisor/zygote.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import fetch, run
from tests.procstats import alive, children

HELLO = """
addEventListener("fetch", (e) => {
  if (!e.request.url.endsWith("/intl")) return e.respondWith(new Response("hi"));
  const number = new Intl.NumberFormat("de-DE").format(1234567.891);
  const date = new Intl.DateTimeFormat("ja-JP", { timeZone: "UTC" }).format(new Date(0));
  const sorted = ["z", "\u00e4", "a"].sort(new Intl.Collator("de").compare).join("");
  e.respondWith(new Response(`${number} ${date} ${sorted}`));
});
"""
INTL = "1.234.567,891 1970/1/1 a\u00e4z".encode()


def ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def zygote_of(supervisor: int) -> int:
    (pid,) = [p for p in children(supervisor)
              if b"isolate_worker.zygote" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return pid


@pytest.fixture(scope="module")
def server(serve_module):
    return serve_module(HELLO, workers=2)


def test_workers_are_forked_by_the_zygote_and_serve(server):
    zygote = zygote_of(server.pid)
    workers = list(server.worker_pids().values())
    assert len(workers) == 2 and all(ppid(w) == zygote for w in workers)
    assert run(fetch(server.url()))[2] == b"hi"


def test_workers_inherit_the_library_linked_and_icu_data_read_by_the_zygote(server):
    """The zygote loads mini-racer's library and V8's ICU data before it forks
    (``v8.preload_library``): the workers' Intl answers come from that data."""
    zygote = zygote_of(server.pid)
    assert "libmini_racer" in Path(f"/proc/{zygote}/maps").read_text()
    assert run(fetch(server.url("/intl")))[2] == INTL


def test_a_killed_worker_is_reaped_by_the_zygote_and_replaced(server):
    before = server.worker_pids()
    os.kill(before["w0"], signal.SIGKILL)
    server.wait_log(r"w0 \(pid \d+\) died")
    server.wait_log(r"w0 ready", count=2)
    assert server.worker_pids()["w0"] != before["w0"]
    assert all(run(fetch(server.url()))[2] == b"hi" for _ in range(4))


def test_without_the_zygote_workers_are_spawned_directly(server):
    zygote = zygote_of(server.pid)
    workers = list(server.worker_pids().values())
    os.kill(zygote, signal.SIGKILL)  # its workers die with it (PR_SET_PDEATHSIG)
    server.wait_log("the zygote process ended")
    deadline = time.monotonic() + 5
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(alive(w) for w in workers)
    server.wait_log(r"w1 ready", count=2, timeout=20)
    server.wait_log(r"w0 ready", count=3, timeout=20)
    assert all(ppid(w) == server.pid for w in server.worker_pids().values())
    assert run(fetch(server.url()))[2] == b"hi"
    assert run(fetch(server.url("/intl")))[2] == INTL  # ICU data read by the worker itself


def test_the_early_zygote_is_the_one_the_supervisor_uses_and_is_reaped(monkeypatch):
    """start_early() launches the zygote at once (its imports run beside the supervisor's);
    the first Zygote takes that process rather than starting another, and closing it kills
    and reaps it."""
    from isoflow.supervisor import zygote as supervisor_zygote

    monkeypatch.setattr(supervisor_zygote, "_early", None)
    supervisor_zygote.start_early()
    process, _sock = supervisor_zygote._early
    supervisor_zygote.start_early()  # once only
    assert supervisor_zygote._early[0] is process

    async def main() -> None:
        z = supervisor_zygote.Zygote()
        z._start()
        assert z._process is process and supervisor_zygote._early is None
        z.close()

    run(main())
    assert process.returncode is not None  # killed and waited for: no zombie left
    assert not alive(process.pid)


HEARTBEAT_CONFIG = """
[server]
heartbeat_interval = 0.2
heartbeat_timeout = 1.0

[[listeners]]
port = @PORT@

[scripts.app]
path = "app.js"
workers = 1

[[routes]]
script = "app"
"""


def test_a_zygote_that_stops_reporting_exits_is_killed_and_workers_start_directly(ops):
    """A stopped (or hung) zygote reaps nothing: a worker the heartbeat killed was never
    reported gone, so never replaced, and every request waited for it."""
    server = ops(HEARTBEAT_CONFIG, files={"app.js": HELLO})
    zygote = zygote_of(server.pid)
    (worker,) = server.worker_pids().values()
    os.kill(zygote, signal.SIGSTOP)
    try:
        os.kill(worker, signal.SIGKILL)
        server.wait_log(rf"\(pid {worker}\) missed heartbeats")
        server.wait_log("the zygote process does not report its workers' exits")
        server.wait_log(r"w0 ready", count=2, timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(zygote, signal.SIGKILL)
    assert not alive(zygote)
    assert ppid(server.worker_pids()["app/w0"]) == server.pid
    assert run(fetch(server.url()))[2] == b"hi"
