"""The metrics listener: values checked against the traffic each test sends, and the probes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Iterator

import aiohttp
import pytest

from tests.conftest import run
from tests.integration.ops_support import OpsServer, get, metric

SCRIPT = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/echo") return new Response(await request.arrayBuffer());
    if (path === "/missing") return new Response("nope", { status: 404 });
    if (path === "/ignore-body") { await sleep(300); return new Response("ignored"); }
    if (path === "/spin") { while (true) {} }
    if (path === "/oom") { const a = []; while (true) a.push(new Array(100000).fill(1.5)); }
    if (path === "/big") {
      let n = 0;
      const chunk = new Uint8Array(65536).fill(120);
      return new Response(new ReadableStream({
        pull(c) { if (n++ === 256) return c.close(); c.enqueue(chunk); },
      }));
    }
    return new Response("hello");
  },
};
"""

CONFIG = """
[server]
heartbeat_interval = 0.2
response_window = "256KiB"

[[listeners]]
port = @PORT@

[metrics]
port = @METRICS@

[scripts.app]
path = "app.mjs"
workers = 1

[scripts.app.limits]
cpu_time = 0.3
memory = "64MiB"

[[routes]]
name = "main"
host = "127.0.0.1"
script = "app"

[[routes]]
name = "echo"
host = "127.0.0.1"
path = "/echo"
script = "app"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[OpsServer]:
    tmp = tmp_path_factory.mktemp("metrics")
    (tmp / "app.mjs").write_text(SCRIPT)
    srv = OpsServer(tmp, CONFIG, 0, None).start()
    yield srv
    srv.stop()


def scrape(server: OpsServer) -> str:
    status, headers, body = run(get(server.metrics_url()))
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return body.decode()


def settled(server: OpsServer) -> str:
    """A scrape taken once no request is in flight (a response's last bytes can reach the
    client a moment before its handler has counted it)."""
    for _ in range(300):
        text = scrape(server)
        if (metric(text, "isoflow_requests_in_flight", route="main") == 0
                and metric(text, "isoflow_requests_in_flight", route="echo") == 0):
            return text
        run(asyncio.sleep(0.02))
    raise AssertionError(f"requests stay in flight:\n{text}")


def wait_metric(server: OpsServer, name: str, value: float, **labels: str) -> str:
    for _ in range(300):
        text = scrape(server)
        if metric(text, name, **labels) >= value:
            return text
        run(asyncio.sleep(0.02))
    raise AssertionError(f"{name}{labels} never reached {value}:\n{text}")


def test_requests_statuses_bytes_and_latency_match_the_traffic(server):
    before = scrape(server)

    async def traffic():
        async with aiohttp.ClientSession() as s:
            for _ in range(5):
                async with s.get(server.url("/")) as r:
                    assert await r.read() == b"hello"
            for _ in range(2):
                async with s.get(server.url("/missing")) as r:
                    assert (r.status, await r.read()) == (404, b"nope")
            for size in (1000, 2000, 3000):
                async with s.post(server.url("/echo"), data=b"e" * size) as r:
                    assert len(await r.read()) == size
            async with s.get(server.url("/"), headers={"Host": "elsewhere"}) as r:
                assert r.status == 404
                await r.read()

    run(traffic())
    after = settled(server)

    def delta(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("isoflow_requests_total", route="main", status="200") == 5
    assert delta("isoflow_requests_total", route="main", status="404") == 2
    assert delta("isoflow_requests_total", route="echo", status="200") == 3
    assert delta("isoflow_requests_total", route="-", status="404") == 1
    assert delta("isoflow_requests_rejected_total", reason="no_route") == 1
    assert delta("isoflow_request_body_bytes_total", route="echo") == 6000
    assert delta("isoflow_response_body_bytes_total", route="echo") == 6000
    assert delta("isoflow_response_body_bytes_total", route="main") == 5 * 5 + 2 * 4
    assert delta("isoflow_request_duration_seconds_count", route="main") == 7
    assert delta("isoflow_request_duration_seconds_count", route="echo") == 3
    assert delta("isoflow_request_duration_seconds_bucket", route="echo", le="+Inf") == 3
    assert metric(after, "isoflow_requests_in_flight", route="main") == 0
    assert metric(after, "isoflow_streams_open") == 0
    assert metric(after, "isoflow_workers_ready", script="app") == 1


def read_slowly(server: OpsServer, version: bytes) -> int:
    """GET /big over a connection that reads nothing for half a second; bytes received."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET /big HTTP/" + version + b"\r\nHost: 127.0.0.1\r\n"
                     b"Connection: close\r\n\r\n")
        run(asyncio.sleep(0.5))  # read nothing: the socket fills, then the worker's credit
        received = 0
        while chunk := sock.recv(65536):
            received += len(chunk)
    return received


def test_a_slow_client_counts_drain_and_credit_stalls(server):
    # HTTP/1.0 without a length: the body's end is the close, so it stays on the frame path
    # (the supervisor writes it), where the worker waits for the supervisor's credit.
    before = scrape(server)
    assert read_slowly(server, b"1.0") > 256 * 65536  # 16 MiB: more than socket buffers hold
    after = settled(server)
    for kind in ("client_drain", "worker_credit"):
        assert (metric(after, "isoflow_flow_control_stalls_total", kind=kind)
                > metric(before, "isoflow_flow_control_stalls_total", kind=kind)), kind


def test_a_slow_client_of_a_body_its_worker_writes_counts_drain_stalls(server):
    # HTTP/1.1: the worker writes the body into the client's socket itself (RESPONSE_DIRECT)
    # and counts its waits, which reach the metrics with its next PONG.
    before = scrape(server)
    assert read_slowly(server, b"1.1") > 256 * 65536
    after = settled(server)
    assert metric(after, "isoflow_direct_response_bodies_total") \
        == metric(before, "isoflow_direct_response_bodies_total") + 1
    wait_metric(server, "isoflow_flow_control_stalls_total",
                metric(before, "isoflow_flow_control_stalls_total", kind="client_drain") + 1,
                kind="client_drain")


def test_a_script_that_does_not_read_its_body_counts_upload_stalls(server):
    before = metric(scrape(server), "isoflow_flow_control_stalls_total", kind="upload_credit")
    status, _, body = run(get(server.url("/ignore-body"), method="POST", data=b"u" * (2 << 20)))
    assert (status, body) == (200, b"ignored")
    after = metric(settled(server), "isoflow_flow_control_stalls_total", kind="upload_credit")
    assert after > before


def test_cpu_and_memory_terminations_and_heap_come_from_the_workers_stats(server):
    text = scrape(server)
    cpu = metric(text, "isoflow_cpu_limit_terminations_total", script="app")
    mem = metric(text, "isoflow_memory_limit_terminations_total", script="app")
    assert run(get(server.url("/spin")))[0] == 503
    wait_metric(server, "isoflow_cpu_limit_terminations_total", cpu + 1, script="app")
    assert run(get(server.url("/oom")))[0] == 503
    text = wait_metric(server, "isoflow_memory_limit_terminations_total", mem + 1, script="app")
    assert metric(text, "isoflow_cpu_limit_terminations_total", script="app") == cpu + 1
    # The fresh isolate's heap shows in a PONG or two.
    wait_metric(server, "isoflow_isolate_heap_used_bytes", 1, script="app", worker="app/w0")


def test_healthz_and_readyz_answer_while_serving(server):
    assert run(get(server.metrics_url("/healthz")))[::2] == (200, b"ok\n")
    assert run(get(server.metrics_url("/readyz")))[::2] == (200, b"ready\n")
    assert run(get(server.metrics_url("/nothing")))[0] == 404


def test_readyz_fails_while_a_script_has_no_ready_worker_and_restarts_are_counted(ops, tmp_path):
    server = ops(CONFIG, files={"app.mjs": SCRIPT})
    pid = server.worker_pids()["app/w0"]
    assert metric(scrape(server), "isoflow_worker_restarts_total", script="app") == 0
    (tmp_path / "app.mjs").write_text("export default {;\n")  # restarts cannot load it
    os.kill(pid, signal.SIGKILL)
    wait_metric(server, "isoflow_worker_restarts_total", 1, script="app")
    status, _, body = run(get(server.metrics_url("/readyz")))
    assert status == 503 and b"script 'app' has no ready worker" in body
    assert run(get(server.metrics_url("/healthz")))[0] == 200  # alive all the same
    (tmp_path / "app.mjs").write_text(SCRIPT)
    for _ in range(300):
        if run(get(server.metrics_url("/readyz")))[0] == 200:
            break
        run(asyncio.sleep(0.05))
    assert run(get(server.metrics_url("/readyz")))[0] == 200
    assert metric(scrape(server), "isoflow_worker_restarts_total", script="app") >= 1
