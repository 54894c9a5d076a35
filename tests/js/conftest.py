"""Run JavaScript test files inside a real isoflow isolate, one pytest case per JS test.

The isolate is driven by the worker's real bridge on an event loop of its own (in a
background thread), so native ops (compression, crypto) work as in a worker. Files named ``*.test.js`` (our own) or ``*.any.js`` (ported web-platform-tests) under
``tests/js`` are collected. Each file runs in a fresh V8 isolate with the whole runtime
loaded, then ``harness.js`` (a testharness.js subset), then any helper scripts named by
``// META: script=relative/path.js`` lines, then the file itself. ``// META: internals``
exposes the runtime's private ``internals`` object as ``globalThis.__internals`` for unit
tests of runtime pieces that have no public surface.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from pathlib import Path

import pytest

from isoflow.isolate_worker.bridge import Bridge, BridgeConfig
from isoflow.isolate_worker.kinds import AC_LOG, AC_OP, AC_OP_DATA
from isoflow.isolate_worker.ops import OpRunner

HERE = Path(__file__).parent
HARNESS = (HERE / "harness.js").read_text(encoding="utf-8")
META = re.compile(r"^//\s*META:\s*(\w+)(?:=(.*))?$")
DEFAULT_TIMEOUT = 10.0
LONG_TIMEOUT = 60.0


class JsTestFailure(Exception):
    pass


class JsFileSession:
    """One isolate with the runtime, the harness and one test file loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        source = path.read_text(encoding="utf-8")
        scripts: list[Path] = []
        expose_internals = False
        self.timeout = DEFAULT_TIMEOUT
        for line in source.splitlines():
            m = META.match(line.strip())
            if not m:
                if line.strip() and not line.startswith("//"):
                    break
                continue
            key, value = m.group(1), (m.group(2) or "").strip()
            if key == "script":
                scripts.append((path.parent / value).resolve())
            elif key == "internals":
                expose_internals = True
            elif key == "timeout" and value == "long":
                self.timeout = LONG_TIMEOUT
        self.logs: list[str] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        extra = (("test:expose_internals.js", "globalThis.__internals = internals;"),)

        def make() -> Bridge:
            self.ops = OpRunner(lambda ev, data: self.bridge.send(ev, data))
            return Bridge(self.loop, self._on_action, lambda failure: None, BridgeConfig(),
                          extra_runtime=extra if expose_internals else ())

        self.bridge = self._call(make)
        self.eval(HARNESS + "\n//# sourceURL=harness.js")
        for script in scripts:
            self.eval(script.read_text(encoding="utf-8") + f"\n//# sourceURL={script.name}")
        self.eval(source + f"\n//# sourceURL={path.name}")
        self.names: list[str] = json.loads(self.eval("__harness.list()"))

    def _call(self, fn):
        async def run():
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result()

    def eval(self, code: str):
        return self._call(lambda: self.bridge.eval(code))

    def _on_action(self, action, data) -> None:
        if action[0] == AC_OP_DATA:
            self.ops.data(action[1], data)
        elif action[0] == AC_OP:
            self.ops.start(action[1], action[2], action[3], action[4])
        elif action[0] == AC_LOG:
            self.logs.append(f"{action[1]}: {action[3]}")

    def run(self, name: str) -> None:
        started = self.eval(f"__harness.start({json.dumps(name)})")
        if started != "started":
            raise JsTestFailure(f"test {name!r} not found")
        deadline = time.monotonic() + self.timeout
        delay = 0.0005
        while True:
            status = json.loads(self.eval(f"__harness.status({json.dumps(name)})"))
            if status["state"] == "pass":
                return
            if status["state"] == "fail":
                raise JsTestFailure(status["message"])
            if time.monotonic() > deadline:
                self.bridge.v8.terminate()
                raise JsTestFailure(f"timed out after {self.timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def close(self) -> None:
        self._call(self.bridge.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


_sessions: dict[Path, JsFileSession] = {}


def _session(path: Path) -> JsFileSession:
    s = _sessions.get(path)
    if s is None:
        s = _sessions[path] = JsFileSession(path)
    return s


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _sessions:
        _sessions.popitem()[1].close()


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    if file_path.name.endswith((".test.js", ".any.js")):
        return JsFile.from_parent(parent, path=file_path)
    return None


class JsFile(pytest.File):
    def collect(self):
        try:
            session = JsFileSession(self.path)
        except Exception as e:  # a file that does not load is one failing case, named so
            yield JsLoadError.from_parent(self, name="<load>", error=e)
            return
        try:
            self.last_name = session.names[-1] if session.names else None
            for name in session.names:
                yield JsItem.from_parent(self, name=name)
        finally:
            session.close()


class JsLoadError(pytest.Item):
    def __init__(self, *, error: Exception, **kw) -> None:
        super().__init__(**kw)
        self.error = error

    def runtest(self) -> None:
        raise JsTestFailure(f"{self.path.name} failed to load: {self.error}")

    def repr_failure(self, excinfo):  # type: ignore[override]
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}::<load>"


class JsItem(pytest.Item):
    def runtest(self) -> None:
        _session(self.path).run(self.name)

    def teardown(self) -> None:
        # Close the file's isolate after its last test.
        if self.name == getattr(self.parent, "last_name", None):
            s = _sessions.pop(self.path, None)
            if s is not None:
                s.close()

    def repr_failure(self, excinfo):  # type: ignore[override]
        if isinstance(excinfo.value, JsTestFailure):
            return f"{self.path.name} :: {self.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}::{self.name}"
