"""Shared by the test_ops_* files: a real ``isoflow serve --config`` process, always stopped.

No tests here. Each module's ``ops`` fixture (``yield from ops_servers(tmp_path)``) gives
``ops(config_toml, files={...})``, which writes the config (``@PORT@`` and
``@METRICS@`` become free ports, ``@DIR@`` the test's directory) and the scripts, starts
the supervisor in its own process group with its log in a file, and stops it (and anything
left in its group) when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from multidict import CIMultiDict

from tests.conftest import free_port

HELLO = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return new Response(`hello from ${env.NAME ?? "?"} at ${url.pathname}`);
  },
};
"""


class OpsServer:
    def __init__(self, tmp: Path, config: str, index: int, env: dict[str, str] | None) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.metrics_port = free_port()
        self.config_path = tmp / f"isoflow-{index}.toml"
        self.log_path = tmp / f"isoflow-{index}.log"
        self.write_config(config)
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def write_config(self, config: str) -> None:
        text = textwrap.dedent(config).replace("@PORT@", str(self.port))
        text = text.replace("@METRICS@", str(self.metrics_port)).replace("@DIR@", str(self.tmp))
        self.config_path.write_text(text)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def metrics_url(self, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.metrics_port}{path}"

    def start(self, timeout: float = 60.0) -> OpsServer:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "isoflow.supervisor", "serve", "--config",
             str(self.config_path)],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"isoflow exited with {self.proc.returncode}:\n{self.log()}")
            if "isoflow serving" in self.log():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"isoflow did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 15.0, count: int = 1) -> list[re.Match]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = list(re.finditer(pattern, self.log()))
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not {count} times in the log:\n{self.log()}")

    def worker_pids(self) -> dict[str, int]:
        """The latest pid of each worker name ('w0', 'api/w1'), from the 'ready' lines."""
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"([\w/-]*w\d+) ready \(pid (\d+)\)", self.log())}

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def group_pids(self) -> set[int]:
        """Processes still in the server's process group."""
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=", "-g", str(self.proc.pid)],
                             capture_output=True, text=True)
        return {int(x) for x in out.stdout.split()}

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        return self.proc.returncode


def ops_servers(tmp_path: Path) -> Iterator:
    """The body of each module's ``ops`` fixture: ``ops(config, files={name: source},
    env={...}, start=True)`` -> an OpsServer, every one stopped at the end."""
    servers: list[OpsServer] = []

    def make(config: str, files: dict[str, str] | None = None,
             env: dict[str, str] | None = None, start: bool = True) -> OpsServer:
        for name, text in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        server = OpsServer(tmp_path, config, len(servers), env)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()


async def get(url: str, method: str = "GET", **kwargs) -> tuple[int, CIMultiDict, bytes]:
    """One request in its own session: status, headers (case-insensitive), body."""
    async with aiohttp.ClientSession() as s, s.request(method, url, **kwargs) as r:
        return r.status, r.headers.copy(), await r.read()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text output (0 if absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def make_cert(directory: Path, cert: str = "cert.pem", key: str = "key.pem") -> None:
    """A fresh self-signed certificate for 127.0.0.1 (needs the openssl command)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(directory / key), "-out", str(directory / cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )


def isoflow(*args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """Run an ``isoflow`` subcommand to completion."""
    return subprocess.run([sys.executable, "-m", "isoflow.supervisor", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
