"""SIGHUP and SIGTERM that come before a process can act on them (supervisor/early.py): during
the start of the supervisor or of the main process of many fronts, while a front is being
restarted, and during a stop. None of them may end a process by its default action."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import aiohttp
import pytest

from tests.conftest import run
from tests.integration.ops_support import get
from tests.processes import ISOFLOW
from tests.procstats import children

QUICK = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request) {
    if (new URL(request.url).pathname !== "/stream") return new Response("quick");
    const body = new TransformStream();
    const writer = body.writable.getWriter();
    const text = new TextEncoder();
    (async () => {
      await writer.write(text.encode("first\\n"));
      await sleep(2000);
      await writer.write(text.encode("last\\n"));
      await writer.close();
    })();
    return new Response(body.readable);
  },
};
"""

# Its workers take 1.5 s to load: the quick script's are ready well before the start ends.
SLOW = """
await new Promise((r) => setTimeout(r, 1500));
export default { fetch() { return new Response("slow"); } };
"""

CONFIG = """
[server]
fronts = @FRONTS@
pid_file = "@DIR@/isoflow.pid"

[[listeners]]
port = @PORT@

[scripts.quick]
path = "quick.mjs"
workers = @FRONTS@

[[routes]]
script = "quick"
"""

SLOW_CONFIG = """
[scripts.slow]
path = "slow.mjs"
workers = @FRONTS@

[[routes]]
script = "slow"
path = "/slow"
"""


def _spawn(ops, fronts: int, slow: bool = False):
    """A server of the quick script (and the slow one) over ``fronts`` fronts, started but
    not waited for."""
    config = (CONFIG + (SLOW_CONFIG if slow else "")).replace("@FRONTS@", str(fronts))
    server = ops(config, files={"quick.mjs": QUICK, "slow.mjs": SLOW}, start=False)
    return server.spawn([*ISOFLOW, "serve", "--config", str(server.config_path)],
                        env=server.env)


def _front_pids(server, index: int) -> list[int]:
    out = []
    for pid in children(server.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f"--front {index}/2".encode() in f.read().replace(b"\0", b" "):
                    out.append(pid)
        except OSError:
            pass
    return out


@pytest.mark.parametrize("fronts", [1, 2])
def test_a_sighup_during_the_start_is_a_reload_once_it_serves(ops, fronts):
    """SIGHUP while the slow script's workers still load (the supervisor, or the main
    process of two fronts, has not taken SIGHUP on its loop yet): it used to die of it
    (exit 129); now the reload is made once it serves."""
    server = _spawn(ops, fronts, slow=True)
    server.wait_log(r"quick/w\d+ ready", timeout=60)
    assert "isoflow serving" not in server.log()
    server.send_signal(signal.SIGHUP)
    server.wait_serving()
    server.wait_log(r"SIGHUP came during the start; acting on it now")
    server.wait_log(r"reload: reloaded" if fronts > 1 else r"reloaded: serving", timeout=60)
    assert server.proc.poll() is None
    assert run(get(server.url("/")))[:3:2] == (200, b"quick")


def test_a_sigterm_during_the_start_stops_the_service_once_it_serves(ops):
    """SIGTERM during the start: a clean stop (exit 0) once started, not a death by it."""
    server = _spawn(ops, 1, slow=True)
    server.wait_log(r"quick/w\d+ ready", timeout=60)
    assert "isoflow serving" not in server.log()
    server.send_signal(signal.SIGTERM)
    assert server.proc.wait(60) == 0, server.log()
    log = server.log()
    assert "SIGTERM came during the start; acting on it now" in log
    assert "shutting down: finishing requests in flight" in log


def test_a_reload_while_a_front_restarts_reaches_it_once_it_serves(ops, tmp_path):
    """``isoflow reload`` while a front is being restarted: the main process used to SIGHUP
    the new front before it had taken the signal (it died of it, and the reload waited
    120 s for "no outcome from front(s) 1"). It now signals a front once it serves. The new
    front is held (SIGSTOP) early in its start while the main process takes the reload."""
    server = _spawn(ops, 2).wait_serving()
    (old,) = _front_pids(server, 1)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not (new := [p for p in _front_pids(server, 1) if p != old]):
        assert time.monotonic() < deadline, "front 1 was not started again"
        time.sleep(0.01)
    os.kill(new[0], signal.SIGSTOP)
    reload = subprocess.Popen([*ISOFLOW, "reload", "--pid-file", str(tmp_path / "isoflow.pid"),
                               "--timeout", "60"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        time.sleep(4)  # the main process checks the config and signals what it may
        os.kill(new[0], signal.SIGCONT)
        out, err = reload.communicate(timeout=90)
    finally:
        if reload.poll() is None:
            reload.kill()
            reload.wait()
    assert reload.returncode == 0, (out, err, server.log())
    assert "reloaded: serving" in out
    assert "exit code -1" not in server.log()  # no front died of SIGHUP
    assert server.proc.poll() is None
    assert run(get(server.url("/")))[0] == 200


def test_a_sighup_during_a_stop_is_ignored(ops):
    """SIGHUP while the supervisor drains (its SIGHUP handler used to be removed, so the
    signal ended it): logged, and the request in flight still completes."""
    server = _spawn(ops, 1).wait_serving()

    async def scenario() -> bytes:
        async with aiohttp.ClientSession() as s, s.get(server.url("/stream")) as r:
            first = await r.content.readline()
            server.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            while "shutting down" not in server.log():
                assert time.monotonic() < deadline, server.log()
                await asyncio.sleep(0.05)
            server.send_signal(signal.SIGHUP)
            return first + await asyncio.wait_for(r.read(), 30)

    assert run(scenario()) == b"first\nlast\n"
    assert server.proc.wait(30) == 0, server.log()
    assert "SIGHUP ignored: the service is stopping" in server.log()
