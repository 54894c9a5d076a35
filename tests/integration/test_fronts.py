"""Many fronts (supervisor/fronts.py): one main process, fronts sharing the port."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import aiohttp
import pytest

from isoflow.supervisor.fronts import merge_metrics, split
from tests.conftest import fetch, run
from tests.processes import free_port, wait_until
from tests.procstats import alive, children, descendants

HELLO = """
addEventListener("fetch", (event) => event.respondWith(new Response("hi")));
"""


def test_workers_are_split_over_fronts_at_least_one_each():
    assert split(4, 2) == [2, 2]
    assert split(5, 2) == [3, 2]
    assert split(1, 3) == [1, 1, 1]


def test_metrics_of_fronts_add_up():
    one = ('# HELP x_total requests\n# TYPE x_total counter\nx_total{route="a"} 2.0\n'
           'x_created{route="a"} 123.0\n')
    two = '# HELP x_total requests\n# TYPE x_total counter\nx_total{route="a"} 3.0\n'
    merged = merge_metrics([one, two]).decode()
    assert 'x_total{route="a"} 5.0' in merged
    assert "x_created" not in merged


@pytest.fixture(scope="module")
def fronts(tmp_path_factory):
    from tests.conftest import IsoflowServer

    directory = tmp_path_factory.mktemp("fronts")
    script = directory / "hello.js"
    script.write_text(HELLO)
    metrics = free_port()
    server = IsoflowServer(script, directory / "isoflow.log", "--fronts", "2",
                           "--metrics", str(metrics), workers=2)
    server.metrics_port = metrics
    server.script = script
    server.start()
    yield server
    server.stop()


def test_both_fronts_serve_on_one_port_and_metrics_sum_them(fronts):
    for _ in range(40):
        status, _, body = run(fetch(fronts.url("/")))
        assert (status, body) == (200, b"hi")
    log = fronts.log()
    # One worker per front: w0 in front 0, w1 in front 1; the kernel spread the connections.
    served = set(re.findall(r"worker=(w\d)", log))
    assert served == {"w0", "w1"}, served
    status, _, text = run(fetch(f"http://127.0.0.1:{fronts.metrics_port}/metrics"))
    assert status == 200
    total = sum(float(v) for v in re.findall(
        rb'isoflow_requests_total\{route="default",status="200"\} (\S+)', text))
    assert total == 40
    assert run(fetch(f"http://127.0.0.1:{fronts.metrics_port}/readyz"))[0] == 200


def test_the_main_process_refuses_a_browsers_scheduled_trigger(fronts):
    async def go():
        async with aiohttp.ClientSession() as s, s.post(
                f"http://127.0.0.1:{fronts.metrics_port}/__scheduled",
                headers={"Origin": "http://evil.example"}) as r:
            return r.status, await r.text()
    assert run(go()) == (403, "Not from a browser.\n")


def test_a_reload_reaches_every_front(fronts):
    fronts.send_signal(signal.SIGHUP)
    fronts.wait_log(r"isoflow.supervisor.fronts: reload: reloaded")
    assert len(re.findall(r"INFO isoflow.supervisor: reloaded", fronts.log())) == 2


def test_a_script_that_does_not_load_is_refused_before_any_front_reloads(fronts):
    """The main process checks first: no front reloads what another would refuse."""
    script = fronts.script
    good = script.read_text()
    script.write_text("addEventListener('fetch', (e) => { e.respondWith(new Response(;\n")
    try:
        fronts.send_signal(signal.SIGHUP)
        fronts.wait_log(r"isoflow.supervisor.fronts: reload refused; still serving the "
                        r"previous configuration")
        assert "isoflow.supervisor: reload refused" not in fronts.log()  # no front was asked
        for _ in range(4):
            assert run(fetch(fronts.url("/")))[0] == 200
    finally:
        script.write_text(good)


def test_a_dead_front_is_restarted_and_the_port_keeps_serving(fronts):
    pids = children(fronts.pid)
    assert len(pids) == 2
    os.kill(pids[1], signal.SIGKILL)
    # Until it is back, a scrape fails and names it: a sum without its series would have
    # its counters go backwards.
    status, _, text = run(fetch(f"http://127.0.0.1:{fronts.metrics_port}/metrics"))
    assert status == 503 and b"metrics unavailable: front 1: 503 not reachable" in text, text
    fronts.wait_log(r"front \d \(pid \d+\) died")
    # The other front takes every connection meanwhile: the service stays ready (a load
    # balancer must not drop a host that serves), and says which front is down.
    seen = set()
    deadline = time.monotonic() + 30
    while len(re.findall(r"front 1/2 serving", fronts.log())) < 2:
        assert time.monotonic() < deadline, "front 1 was not started again"
        status, _, text = run(fetch(f"http://127.0.0.1:{fronts.metrics_port}/readyz"))
        assert status == 200, text
        seen.add(text)
        assert run(fetch(fronts.url("/")))[0] == 200
        time.sleep(0.05)
    assert b"ready (front 1 down)\n" in seen, seen
    for _ in range(10):
        assert run(fetch(fronts.url("/")))[0] == 200
    assert run(fetch(f"http://127.0.0.1:{fronts.metrics_port}/metrics"))[0] == 200


def test_fronts_and_workers_die_with_the_main_process(tmp_path):
    from tests.conftest import IsoflowServer

    script = tmp_path / "hello.js"
    script.write_text(HELLO)
    server = IsoflowServer(script, tmp_path / "isoflow.log", "--fronts", "2", workers=1)
    server.start()
    try:
        front_pids = children(server.pid)
        below = [p for f in front_pids for p in descendants(f) if p != f]  # zygotes, workers
        assert len(front_pids) == 2 and len(below) == 4
        # One worker asked for, two fronts: each front runs one, and the log says so.
        server.wait_log("script default: 1 workers asked for over 2 fronts: each front runs "
                        "one \\(2 in all\\)")
        server.wait_log("with 2 workers over 2 fronts")
        os.kill(server.pid, signal.SIGKILL)
        wait_until(lambda: not any(alive(p) for p in front_pids + below), timeout=5)
    finally:
        server.stop()


VERSION = 'export default { fetch() { return new Response("V"); } };\n'
PINNED_CONFIG = """
[server]
fronts = 2
pid_file = "@DIR@/isoflow.pid"

[[listeners]]
port = @PORT@

[scripts.app]
path = "app.mjs"
workers = 2

[[routes]]
script = "app"
"""


def test_a_front_restarted_after_a_refused_reload_serves_what_the_others_do(ops, tmp_path):
    """A front restarted later gets the config the main process last accepted and the
    scripts its generation pinned, not the files as they are by then: after a refused
    reload (a broken script, then a broken config), a killed front comes back serving."""
    server = ops(PINNED_CONFIG, files={"app.mjs": VERSION.replace("V", "v1")})
    (tmp_path / "app.mjs").write_text(VERSION.replace("V", "v2"))
    server.send_signal(signal.SIGHUP)
    server.wait_log(r"isoflow.supervisor.fronts: reload: reloaded")
    assert {run(fetch(server.url("/")))[2] for _ in range(8)} == {b"v2"}
    (tmp_path / "app.mjs").write_text("export default { fetch() { return new Response(; } };\n")
    server.send_signal(signal.SIGHUP)
    server.wait_log(r"reload refused; still serving the previous configuration")
    server.write_config("[server\n")  # and the config broken too
    (pid,) = [p for p in children(server.pid) if "--front 1/2" in _cmdline(p)]
    os.kill(pid, signal.SIGKILL)
    server.wait_log(r"front 1/2 serving", count=2)
    answers = {run(fetch(server.url("/")))[:3:2] for _ in range(8)}
    assert answers == {(200, b"v2")}, answers


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


HEARTBEAT_CONFIG = """
[server]
fronts = 2
heartbeat_interval = 0.5
heartbeat_timeout = @TIMEOUT@

[metrics]
port = @METRICS@

[[listeners]]
port = @PORT@

[scripts.app]
path = "app.mjs"
workers = 2

[[routes]]
script = "app"
"""


def _front_pid(server, index: int) -> int:
    (pid,) = [p for p in children(server.pid) if f"--front {index}/2" in _cmdline(p)]
    return pid


def _resume(server, pid: int) -> None:
    """SIGCONT ``pid`` if it is still a process of ``server``'s (a failed test's cleanup)."""
    if pid in descendants(server.pid):
        os.kill(pid, signal.SIGCONT)


def test_a_stopped_front_is_named_by_readyz_then_killed_and_restarted(ops):
    """A front that does not answer (SIGSTOP) keeps its SO_REUSEPORT socket: the kernel would
    hand it about half the new connections for ever. /readyz names it within its bounded
    wait; the main process kills it after heartbeat_timeout and starts it again, and then
    every connection is served."""
    server = ops(HEARTBEAT_CONFIG.replace("@TIMEOUT@", "5"), files={"app.mjs": VERSION})
    server.wait_log(r"front 1/2 serving")  # logged in the loop turn after it said ready
    stopped = _front_pid(server, 1)
    os.kill(stopped, signal.SIGSTOP)
    try:
        began = time.monotonic()
        status, _, text = run(fetch(server.metrics_url("/readyz")))
        took = time.monotonic() - began
        assert status == 503, text
        assert f"front 1: not answering (pid {stopped}".encode() in text, text
        assert took < 8, f"/readyz took {took:.1f} s"  # 2 s per front (10 s before)
        server.wait_log(rf"front 1 \(pid {stopped}\) has not answered for [\d.]+ s; "
                        r"killing it", timeout=30)
        server.wait_log(r"front 1/2 serving", count=2, timeout=60)
    finally:
        _resume(server, stopped)
    for _ in range(20):  # each its own connection, spread by the kernel over both fronts
        assert run(asyncio.wait_for(fetch(server.url("/")), 10))[0] == 200
    assert run(fetch(server.metrics_url("/readyz")))[:3:2] == (200, b"ready\n")


def test_a_main_process_held_longer_than_the_timeout_kills_no_front(ops):
    """The time the main process's own loop was held (stopped here for over twice
    heartbeat_timeout) is not counted against the fronts, which answered all along."""
    server = ops(HEARTBEAT_CONFIG.replace("@TIMEOUT@", "3"), files={"app.mjs": VERSION})
    fronts = [_front_pid(server, 0), _front_pid(server, 1)]
    os.kill(server.pid, signal.SIGSTOP)
    try:
        time.sleep(7)
    finally:
        os.kill(server.pid, signal.SIGCONT)
    # Its answer takes turns of the loop, the first of which runs the heartbeat's overdue
    # tick; then a few more ticks.
    assert run(fetch(server.metrics_url("/readyz")))[0] == 200
    time.sleep(2)
    assert "has not answered" not in server.log()
    assert [_front_pid(server, 0), _front_pid(server, 1)] == fronts
    assert run(fetch(server.url("/")))[0] == 200
