"""systemd: the shipped unit passes ``systemd-analyze verify``; the supervisor's sd_notify
messages arrive on a test-owned NOTIFY_SOCKET at start, reload and stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.ops_support import HELLO

UNIT = Path(__file__).parents[2] / "deploy" / "isoflow.service"

CONFIG = """
[[listeners]]
port = @PORT@

[scripts.app]
path = "app.mjs"
workers = 1

[[routes]]
script = "app"
"""


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed on this machine")
def test_the_unit_file_passes_systemd_analyze_verify(tmp_path):
    isoflow_bin = Path(sys.executable).parent / "isoflow"
    assert isoflow_bin.exists()
    unit = tmp_path / "isoflow.service"
    unit.write_text(UNIT.read_text().replace("/opt/isoflow/bin/isoflow", str(isoflow_bin)))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # verify only warns (exit 0) about unknown keys: any output is a problem.
    assert proc.stdout + proc.stderr == ""


def test_the_unit_is_a_hardened_notify_service():
    s = unit_settings()
    assert s["Type"] == ["notify"] and s["KillMode"] == ["mixed"]
    assert s["User"] == ["isoflow"] and s["RuntimeDirectory"] == ["isoflow"]
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    assert "MemoryDenyWriteExecute" not in s  # V8's JIT needs W+X pages
    assert any("isoflow reload" in v for v in s["ExecReload"])


def recv(sock: socket.socket, timeout: float = 30.0) -> list[str]:
    sock.settimeout(timeout)
    return sock.recv(4096).decode().split("\n")


def test_sd_notify_ready_reloading_and_stopping(ops, tmp_path):
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        server = ops(CONFIG, files={"app.mjs": HELLO}, env={"NOTIFY_SOCKET": path})
        ready = recv(sock)
        assert ready[0] == "READY=1"
        assert ready[1].startswith("STATUS=serving ")
        # The workers never see the socket (only the main process may notify).
        worker = server.worker_pids()["app/w0"]
        assert b"NOTIFY_SOCKET" not in Path(f"/proc/{worker}/environ").read_bytes()

        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        os.kill(server.pid, signal.SIGHUP)
        reloading = recv(sock)
        assert reloading[0] == "RELOADING=1"
        key, _, usec = reloading[1].partition("=")
        assert key == "MONOTONIC_USEC" and before <= int(usec)
        assert int(usec) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert recv(sock)[0] == "READY=1"  # after the reload
        server.wait_log("reloaded: serving")

        server.send_signal(signal.SIGTERM)
        assert recv(sock) == ["STOPPING=1"]
        assert server.proc.wait(30) == 0


def test_sd_notify_reaches_an_abstract_socket(ops, tmp_path):
    name = f"isoflow-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        ops(CONFIG, files={"app.mjs": HELLO}, env={"NOTIFY_SOCKET": "@" + name})
        assert recv(sock)[0] == "READY=1"
