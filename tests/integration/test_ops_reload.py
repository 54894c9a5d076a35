"""Reload (SIGHUP, ``isoflow reload``): new workers take new requests, old ones finish their
streams; no request is refused meanwhile; a bad config or script is refused and the running
one keeps serving."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import ssl
import time

import aiohttp
import pytest

from tests.certs import make_cert
from tests.conftest import run
from tests.integration.ops_support import get
from tests.processes import isoflow

VERSION = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/stream") {
      let i = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          await sleep(100);
          if (i === 12) return c.close();
          c.enqueue(new TextEncoder().encode(`VERSION part ${i++}\\n`));
        },
      }));
    }
    return new Response("VERSION");
  },
};
"""

CONFIG = """
[server]
pid_file = "@DIR@/isoflow.pid"
shutdown_grace = 10

[[listeners]]
port = @PORT@

[scripts.app]
path = "app.mjs"
workers = 1

[[routes]]
script = "app"
"""


def start(ops):
    return ops(CONFIG, files={"app.mjs": VERSION.replace("VERSION", "v1")})


def test_reload_under_a_steady_stream_of_requests_fails_none(ops, tmp_path):
    server = start(ops)
    old_pid = server.worker_pids()["app/w0"]

    async def scenario():
        results: list[tuple[int, str]] = []
        stop = asyncio.Event()

        async def client():
            async with aiohttp.ClientSession() as s:
                while not stop.is_set():
                    try:
                        async with s.get(server.url("/")) as r:
                            results.append((r.status, await r.text()))
                    except aiohttp.ClientError as e:
                        results.append((0, repr(e)))

        clients = [asyncio.ensure_future(client()) for _ in range(4)]
        await asyncio.sleep(0.3)
        (tmp_path / "app.mjs").write_text(VERSION.replace("VERSION", "v2"))
        os.kill(server.pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        # Keep the load on until the new version has answered for a while.
        while time.monotonic() < deadline and sum(1 for _, b in results if b == "v2") < 50:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*clients)
        return results

    results = run(scenario())
    failures = [r for r in results if r[0] != 200]
    assert failures == []
    bodies = [body for _, body in results]
    assert bodies[0] == "v1" and bodies[-1] == "v2"
    first_v2 = bodies.index("v2")
    assert "v1" not in bodies[first_v2 + 8:]  # four clients may have had one v1 in flight each
    server.wait_log(r"reloaded: serving")
    new_pid = server.worker_pids()["app/w0"]
    assert new_pid != old_pid
    server.wait_log(rf"app/w0 ready \(pid {new_pid}\)")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(old_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the old worker did not exit")


def test_a_stream_in_flight_during_a_reload_completes_on_the_old_worker(ops, tmp_path):
    server = start(ops)

    async def scenario():
        async with aiohttp.ClientSession() as s, s.get(server.url("/stream")) as r:
            first = await r.content.readline()
            (tmp_path / "app.mjs").write_text(VERSION.replace("VERSION", "v2"))
            os.kill(server.pid, signal.SIGHUP)
            rest = await r.read()
        return first + rest

    body = run(scenario())
    assert body.decode() == "".join(f"v1 part {i}\n" for i in range(12))
    server.wait_log(r"reloaded: serving")
    assert run(get(server.url("/")))[2] == b"v2"


def test_isoflow_reload_finds_the_supervisor_and_reports_the_outcome(ops, tmp_path):
    server = start(ops)
    (tmp_path / "app.mjs").write_text(VERSION.replace("VERSION", "v2"))
    proc = isoflow("reload", "--config", str(server.config_path))
    assert proc.returncode == 0, proc.stderr
    assert "reloaded: serving 1 scripts (app)" in proc.stdout
    assert run(get(server.url("/")))[2] == b"v2"


def test_a_new_config_can_add_a_script_and_a_route(ops, tmp_path):
    server = start(ops)
    (tmp_path / "admin.mjs").write_text(VERSION.replace("VERSION", "admin"))
    server.write_config(CONFIG + """
[scripts.admin]
path = "admin.mjs"
workers = 1

[[routes]]
path = "/admin"
script = "admin"
""")
    proc = isoflow("reload", "--pid-file", str(tmp_path / "isoflow.pid"))
    assert proc.returncode == 0, proc.stderr
    assert run(get(server.url("/admin/x")))[2] == b"admin"
    assert run(get(server.url("/x")))[2] == b"v1"


def test_a_bad_config_at_reload_is_refused_and_the_old_one_keeps_serving(ops, tmp_path):
    server = start(ops)
    server.write_config(CONFIG.replace("workers = 1", "workers = -1"))
    # `isoflow reload --config` checks first and signals nothing.
    proc = isoflow("reload", "--config", str(server.config_path))
    assert proc.returncode == 2
    assert "scripts.app.workers: must be between 1 and 1024, got -1" in proc.stdout
    # A SIGHUP all the same: the supervisor refuses and says why.
    proc = isoflow("reload", "--pid-file", str(tmp_path / "isoflow.pid"))
    assert proc.returncode == 1
    assert "refused, still serving the previous configuration" in proc.stderr
    assert "must be between 1 and 1024, got -1" in proc.stderr
    server.wait_log(r"isoflow-0\.toml:11: scripts\.app\.workers: must be between 1 and 1024")
    server.wait_log(r"reload refused")
    assert run(get(server.url("/")))[:3:2] == (200, b"v1")


def test_a_script_that_no_longer_loads_is_refused_at_reload(ops, tmp_path):
    server = start(ops)
    pid = server.worker_pids()["app/w0"]
    (tmp_path / "app.mjs").write_text("export default {\n  fetch() { return new Response(; }\n};\n")
    proc = isoflow("reload", "--pid-file", str(tmp_path / "isoflow.pid"))
    assert proc.returncode == 1
    assert f"{tmp_path / 'app.mjs'}:2" in proc.stderr
    assert run(get(server.url("/")))[:3:2] == (200, b"v1")
    assert server.worker_pids()["app/w0"] == pid
    # "Still serving the previous configuration" holds for the workers started later too:
    # a worker restarted now serves what the pool loaded, not the broken file.
    os.kill(pid, signal.SIGKILL)
    server.wait_log(r"app/w0 \(pid \d+\) died \(signal 9\)")
    for _ in range(200):
        if server.worker_pids().get("app/w0", pid) != pid:
            break
        time.sleep(0.05)
    assert run(get(server.url("/")))[:3:2] == (200, b"v1")
    # Mended, the script is taken at the next reload (a new pool, a new pinned copy).
    (tmp_path / "app.mjs").write_text(VERSION.replace("VERSION", "v2"))
    proc = isoflow("reload", "--pid-file", str(tmp_path / "isoflow.pid"))
    assert proc.returncode == 0, proc.stderr
    assert run(get(server.url("/")))[:3:2] == (200, b"v2")


def test_a_new_start_does_not_serve_what_a_killed_one_pinned(ops, tmp_path):
    """The pinned copies in a configured runtime_dir are the pools' of one run: after a
    supervisor killed by SIGKILL, the next start loads the script as it is."""
    config = CONFIG.replace("[server]", f'[server]\nruntime_dir = "{tmp_path / "run"}"')
    server = ops(config, files={"app.mjs": VERSION.replace("VERSION", "v1")})
    assert run(get(server.url("/")))[:3:2] == (200, b"v1")
    assert list((tmp_path / "run").glob("script-*.pinned.json"))
    server.stop(signal.SIGKILL)
    (tmp_path / "app.mjs").write_text(VERSION.replace("VERSION", "v2"))
    again = ops(config)
    assert run(get(again.url("/")))[:3:2] == (200, b"v2")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_reload_picks_up_a_renewed_certificate(ops, tmp_path):
    make_cert(tmp_path)
    old_ca = (tmp_path / "cert.pem").read_text()
    server = ops(CONFIG.replace("port = @PORT@", 'port = @PORT@\ntls_cert = "cert.pem"\n'
                                                 'tls_key = "key.pem"'),
                 files={"app.mjs": VERSION.replace("VERSION", "v1")})

    async def fetch_with(ca: str) -> str:
        context = ssl.create_default_context(cadata=ca)
        async with aiohttp.ClientSession() as s, \
                s.get(f"https://127.0.0.1:{server.port}/", ssl=context) as r:
            return await r.text()

    assert run(fetch_with(old_ca)) == "v1"
    make_cert(tmp_path)  # renewed in place, as certbot does
    new_ca = (tmp_path / "cert.pem").read_text()
    proc = isoflow("reload", "--pid-file", str(tmp_path / "isoflow.pid"))
    assert proc.returncode == 0, proc.stderr
    server.wait_log(rf"reload: certificate for 127.0.0.1:{server.port} reloaded")
    assert run(fetch_with(new_ca)) == "v1"
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        run(fetch_with(old_ca))
