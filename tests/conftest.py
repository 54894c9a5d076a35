"""Shared fixtures: a real isoflow server on a free port, always stopped afterwards."""

from __future__ import annotations

import asyncio
import atexit
import compileall
import os
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict

from tests.processes import ISOFLOW, LoggedProcess, free_port
from tests.upstream import upstream  # noqa: F401 - the fixture, for every test

# Every isoflow the tests start shares one bundle cache, made for this run and removed after
# it: a module script compiled once serves every test that uses it, and the user's own cache
# (~/.cache/isoflow) is never touched.
_CACHE = tempfile.mkdtemp(prefix="isoflow-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


def pytest_configure(config: pytest.Config) -> None:
    """Compile isoflow's modules once, before any test starts a server. This checkout is an
    editable install, which pip does not compile, and where ``PYTHONDONTWRITEBYTECODE`` is
    set every supervisor, zygote and worker a test starts compiled them anew (~0.3 s of CPU
    each: a sixth of the suite's time). Python reads the compiled files whatever that
    setting says; they are checked against their sources as usual."""
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller has done it
    root = Path(__file__).resolve().parents[1]
    for package in ("supervisor", "isolate_worker", "protocol"):
        compileall.compile_dir(root / package, quiet=1)


def run(coro):
    """Run a coroutine to completion in a fresh event loop (tests are plain functions)."""
    return asyncio.run(coro)


async def fetch(url: str, method: str = "GET", **kwargs) -> tuple[int, CIMultiDict, bytes]:
    """One request in its own session: status, headers (case-insensitive), body."""
    async with aiohttp.ClientSession() as s, s.request(method, url, **kwargs) as r:
        return r.status, r.headers.copy(), await r.read()


def write_files(directory: Path, files: dict[str, str] | None) -> None:
    """Write ``{relative path: text}`` under ``directory`` (the text dedented)."""
    for rel, text in (files or {}).items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


class IsoflowServer(LoggedProcess):
    """``isoflow serve SCRIPT`` on a free port, in its own process group, logging to a file."""

    wait_timeout = 10.0

    def __init__(self, script: Path, log_path: Path, *args: str, workers: int = 2) -> None:
        super().__init__(log_path)
        self.port = free_port()
        self.args = [*ISOFLOW, "serve", str(script), "--port", str(self.port),
                     "--workers", str(workers), *args]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def start(self, timeout: float = 60.0) -> IsoflowServer:
        return self.spawn(self.args).wait_serving(timeout)


def _servers(directory: Path) -> Iterator:
    """The ``serve`` factory over ``directory``; stops every server it started after."""
    servers: list[IsoflowServer] = []

    def start(source: str, *args: str, workers: int = 2, name: str = "worker.js",
              files: dict[str, str] | None = None) -> IsoflowServer:
        write_files(directory, files)
        script = directory / name
        script.write_text(textwrap.dedent(source))
        server = IsoflowServer(script, directory / f"isoflow-{len(servers)}.log", *args,
                               workers=workers)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """``serve(js_source, *args, workers=2, name='worker.js')`` -> a started IsoflowServer."""
    yield from _servers(tmp_path)


@pytest.fixture(scope="module")
def serve_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """``serve``, for servers that every test of a module shares (one start, not one per
    test): tests that use one must not depend on its state."""
    yield from _servers(tmp_path_factory.mktemp("shared"))
