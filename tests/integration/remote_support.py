"""Shared by the test_remote* files: keys, configs, and supervisor / remote worker processes.

No tests here. Every process is started in its own process group with its log in a file,
and :class:`Procs` stops every one it started (SIGKILL for whatever is left in a group).
``prefix`` runs a command inside a network namespace (``["ip", "netns", "exec", NS]``).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from isoflow.supervisor.keyfile import keygen
from tests.processes import ISOFLOW, LoggedProcess

# GET /stream?n=N&ms=M: N lines, one every M ms. POST /echo: the body back, streamed.
# GET /slow?ms=M (or POST): the head after M ms. Anything else: a short hello.
SCRIPT = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k, d) => Number(url.searchParams.get(k) ?? d);
    if (url.pathname === "/echo") return new Response(request.body);
    if (url.pathname === "/slow") { await sleep(q("ms", 1000)); return new Response("slow done"); }
    if (url.pathname === "/stream") {
      let i = 0;
      const n = q("n", 20), ms = q("ms", 100);
      return new Response(new ReadableStream({
        async pull(c) {
          await sleep(ms);
          if (i === n) return c.close();
          c.enqueue(new TextEncoder().encode(`part ${i++}\\n`));
        },
      }));
    }
    return new Response(`hello from ${env.NAME} at ${url.pathname}`);
  },
};
"""


async def stream(url: str) -> tuple[str, bytes]:
    """('complete' | 'aborted' | status, body) of one streamed GET."""
    body = b""
    try:
        async with aiohttp.ClientSession() as s, s.get(url) as r:
            if r.status != 200:
                return str(r.status), await r.read()
            async for chunk in r.content.iter_any():
                body += chunk
        return "complete", body
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
        return "aborted", body


def make_keys(directory: Path, *workers: str) -> Path:
    """``supervisor`` and one keypair per worker name; the workers' public keys authorized."""
    keygen(directory, "supervisor")
    authorized = directory / "authorized"
    authorized.mkdir()
    for name in workers:
        public, _ = keygen(directory, name)
        (authorized / public.name).write_bytes(public.read_bytes())
    return directory


def config(port: int, remote_host: str, remote_port: int, *, listen: str = "127.0.0.1",
           workers: int = 0, metrics: int | None = None, extra: str = "") -> str:
    metrics_table = f"[metrics]\nhost = {listen!r}\nport = {metrics}\n" if metrics else ""
    return f"""
[server]
heartbeat_interval = 0.2
heartbeat_timeout = 1.5
shutdown_grace = 2
start_timeout = 30

[log]
level = "info"

{metrics_table}
[[listeners]]
host = "{listen}"
port = {port}

[remote]
host = "{remote_host}"
port = {remote_port}
key = "keys/supervisor.key_secret"
authorized_keys = "keys/authorized"

[scripts.app]
path = "app.mjs"
workers = {workers}
remote = true
env = {{ NAME = "app" }}

[scripts.app.limits]
queue_timeout = 10
{extra}

[[routes]]
script = "app"
"""


class Proc(LoggedProcess):
    stop_timeout = 15.0

    def kill(self) -> None:
        """SIGKILL the process itself (not its group), as a crash would."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class Procs:
    """Starts supervisors and remote workers in ``tmp``; ``stop_all`` ends every one."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []

    def supervisor(self, config_text: str, prefix: list[str] = (), name: str = "sup",
                   wait: bool = True) -> Proc:
        path = self.tmp / f"{name}.toml"
        path.write_text(config_text)
        proc = Proc(self.tmp / f"{name}.log").spawn(
            [*prefix, *ISOFLOW, "serve", "--config", str(path)], cwd=self.tmp)
        self.procs.append(proc)
        return proc.wait_serving(60) if wait else proc

    def worker(self, name: str, connect: str, *, key: str | None = None,
               server_key: str = "keys/supervisor.key", config_name: str = "sup",
               prefix: list[str] = ()) -> Proc:
        proc = Proc(self.tmp / f"worker-{name}.log").spawn(
            [*prefix, *ISOFLOW, "worker", "--config", f"{config_name}.toml", "--script", "app",
             "--connect", connect, "--key", f"keys/{key or name}.key_secret",
             "--server-key", server_key, "--name", name], cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


@contextlib.contextmanager
def procs_running(tmp_path: Path) -> Iterator[Procs]:
    """Procs in ``tmp_path`` with the script written; every process stopped at the end."""
    (tmp_path / "app.mjs").write_text(SCRIPT)
    procs = Procs(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
