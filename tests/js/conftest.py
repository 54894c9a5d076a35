"""Run JavaScript test files inside a real isoflow isolate, one pytest case per JS test.

Files named ``*.test.js`` (our own) or ``*.any.js`` (ported web-platform-tests) under
``tests/js`` are collected. Each file runs in a fresh V8 isolate with the whole runtime
loaded, then ``harness.js`` (a testharness.js subset), then any helper scripts named by
``// META: script=relative/path.js`` lines, then the file itself. ``// META: internals``
exposes the runtime's private ``internals`` object as ``globalThis.__internals`` for unit
tests of runtime pieces that have no public surface.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from isoflow.isolate_worker.runtime import load_runtime
from isoflow.isolate_worker.v8 import V8Context

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
        self.v8 = V8Context()
        extra = (("test:expose_internals.js", "globalThis.__internals = internals;"),)
        load_runtime(self.v8.eval, extra=extra if expose_internals else ())
        self.v8.eval(HARNESS)
        for script in scripts:
            self.v8.eval(script.read_text(encoding="utf-8") + f"\n//# sourceURL={script.name}")
        self.v8.eval(source + f"\n//# sourceURL={path.name}")
        self.names: list[str] = json.loads(self.v8.eval("__harness.list()"))

    def run(self, name: str) -> None:
        started = self.v8.eval(f"__harness.start({json.dumps(name)})")
        if started != "started":
            raise JsTestFailure(f"test {name!r} not found")
        deadline = time.monotonic() + self.timeout
        delay = 0.0005
        while True:
            status = json.loads(self.v8.eval(f"__harness.status({json.dumps(name)})"))
            if status["state"] == "pass":
                return
            if status["state"] == "fail":
                raise JsTestFailure(status["message"])
            if time.monotonic() > deadline:
                self.v8.terminate()
                raise JsTestFailure(f"timed out after {self.timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def close(self) -> None:
        self.v8.close()


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
