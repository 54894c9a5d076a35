"""Shared by the test_ops_* files: a real ``isoflow serve --config`` process, always stopped.

No tests here. The ``ops`` fixture (``yield from ops_servers(tmp_path)``, in
tests/integration/conftest.py and tests/chaos/conftest.py) gives
``ops(config_toml, files={...})``, which writes the config (``@PORT@`` and
``@METRICS@`` become free ports, ``@DIR@`` the test's directory) and the scripts, starts
the supervisor in its own process group with its log in a file, and stops it (and anything
left in its group) when the test ends.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import fetch, write_files
from tests.processes import ISOFLOW, LoggedProcess, free_port

HELLO = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return new Response(`hello from ${env.NAME ?? "?"} at ${url.pathname}`);
  },
};
"""


class OpsServer(LoggedProcess):
    stop_timeout = 30.0

    def __init__(self, tmp: Path, config: str, index: int, env: dict[str, str] | None) -> None:
        super().__init__(tmp / f"isoflow-{index}.log")
        self.tmp = tmp
        self.port = free_port()
        self.metrics_port = free_port()
        self.config_path = tmp / f"isoflow-{index}.toml"
        self.write_config(config)
        self.env = {**os.environ, **(env or {})}

    def write_config(self, config: str) -> None:
        text = textwrap.dedent(config).replace("@PORT@", str(self.port))
        text = text.replace("@METRICS@", str(self.metrics_port)).replace("@DIR@", str(self.tmp))
        self.config_path.write_text(text)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def metrics_url(self, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.metrics_port}{path}"

    def start(self, timeout: float = 60.0) -> OpsServer:
        return self.spawn([*ISOFLOW, "serve", "--config", str(self.config_path)],
                          env=self.env).wait_serving(timeout)


def ops_servers(tmp_path: Path) -> Iterator:
    """The body of each module's ``ops`` fixture: ``ops(config, files={name: source},
    env={...}, start=True)`` -> an OpsServer, every one stopped at the end."""
    servers: list[OpsServer] = []

    def make(config: str, files: dict[str, str] | None = None,
             env: dict[str, str] | None = None, start: bool = True) -> OpsServer:
        write_files(tmp_path, files)
        server = OpsServer(tmp_path, config, len(servers), env)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()


get = fetch  # the name the ops, remote and chaos tests call it by


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text output (0 if absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


