"""Many fronts (supervisor/fronts.py): one main process, fronts sharing the port."""

from __future__ import annotations

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
