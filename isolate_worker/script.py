"""Load the user's worker script into an isolate, with errors that name file and line.

A ``.js`` file is first evaluated as a classic script (the service-worker style). If V8's
parser says it uses module syntax (``import``/``export``), or it uses CommonJS (``require()``,
``module.exports``, ``exports.x``), it is compiled as a module graph instead
(:mod:`.bundler`); ``.mjs``, ``.ts``, ``.mts``, ``.cjs`` and ``.tsx`` always are. Its imports
are confined to its project root: nothing outside it is ever opened.

A *snapshot* pins what a pool serves: the first of its workers to load the script writes
what it evaluated there (the classic script's source, or the module graph's bundle), and
every worker started later (a restart, a recycle, a replaced isolate) evaluates that, not
the files as they are by then: a script edited into a broken state after a reload was
refused must not take down the workers restarted meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import bundler
from .v8 import JSEvalException

_MODULE_SYNTAX = (
    "Cannot use import statement outside a module",
    "Unexpected token 'export'",
    "Cannot use 'import.meta' outside a module",
    "await is only valid in async functions and the top level bodies of modules",
)
# A module's marks, for a syntax error V8 words otherwise: in a classic script `await` is
# a name, so `f(await 1)` is "missing ) after argument list", found before any `export`.
_MODULE_HINT = re.compile(r"^\s*(?:import|export)\b|\bawait\b", re.M)
SETTLE_SECONDS = 2.0  # how long a module's top-level await may take to settle at load
_FRAME = re.compile(r"^\s+at (?:.*? \()?(?P<file>[^()\s]+?):(?P<line>\d+):\d+\)?$", re.M)
BUNDLE_URL = "isoflow-bundle:"  # a module worker's bundle's sourceURL, then the entry's name
_LOCATION = re.compile(r"^(?P<file>.*?):(?P<line>\d+): (?P<rest>.*)$", re.S)


class ScriptError(Exception):
    """The script cannot be served. ``str()`` is one clear line: file, line, reason."""


MESSAGE_MAX = 2000  # characters of an error's message kept: a script may throw megabytes


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    if len(line) <= MESSAGE_MAX:
        return line
    return f"{line[:MESSAGE_MAX]}... ({len(line):,} characters)"


def _describe(error: JSEvalException, path: Path, bundle: bundler.Bundle | None) -> str:
    text = str(error)
    m = _LOCATION.match(text)
    if m is None:
        return f"{path}: {_first_line(text)}"
    rest = _first_line(m.group("rest"))
    line = int(m.group("line"))
    ours = f"{BUNDLE_URL}{path.name}" if bundle is not None else str(path)
    compiled = m.group("file") == "<anonymous>" and rest.startswith("SyntaxError") \
        and _FRAME.search(text) is None  # the script itself did not compile: its line
    if m.group("file") != ours and not compiled:
        # V8 placed the error in other source (JSON.parse's text, an eval): the first
        # frame of the stack in the script says where it was thrown from.
        frames = [f for f in _FRAME.finditer(text) if f.group("file") == ours]
        if not frames:
            return f"{path}: {rest}"
        line = int(frames[0].group("line"))
    if bundle is not None:
        where = bundle.locate(line)
        if where is not None:
            return f"{where[0]}:{where[1]}: {rest}"
        return f"{path}: {rest}"
    return f"{path}:{line}: {rest}"


def load(
    evaluate: Callable[[str], Any],
    path: Path,
    *,
    cache_dir: Path | None = None,
    root: Path | None = None,
    compat_flags: Iterable[str] = (),
    snapshot: Path | None = None,
) -> bundler.Bundle | None:
    """Evaluate the script at ``path``; returns the bundle for module workers.

    ``root``: the project root its imports are confined to (default:
    :func:`bundler.project_root`). ``compat_flags``: the script's compatibility flags.
    ``snapshot``: evaluate what it holds if it exists; else load the script and write what
    was evaluated there.
    """
    path = path.resolve()
    if snapshot is not None and snapshot.is_file():
        return _load_snapshot(evaluate, path, snapshot)
    bundle, source = _load(evaluate, path, cache_dir, root, compat_flags)
    if snapshot is not None:
        _pin(snapshot, {"bundle": bundle.to_json()} if bundle is not None
             else {"classic": source or ""})
    return bundle


def _load_snapshot(evaluate: Callable[[str], Any], path: Path,
                   snapshot: Path) -> bundler.Bundle | None:
    try:
        pinned = json.loads(snapshot.read_text(encoding="utf-8"))
        bundle = bundler.Bundle.from_json(pinned["bundle"]) if "bundle" in pinned else None
        source = pinned["classic"] if bundle is None else None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ScriptError(f"{path}: the pinned copy {snapshot} cannot be read: {e}") from None
    if bundle is not None:
        _evaluate_bundle(evaluate, path, bundle)
        return bundle
    try:
        evaluate(f"{source}\n//# sourceURL={path}\n")
    except JSEvalException as e:
        raise ScriptError(_describe(e, path, None)) from None
    return None


def _pin(snapshot: Path, pinned: dict[str, str]) -> None:
    """Write ``snapshot`` unless a worker of the pool did first (its copy stays)."""
    tmp = snapshot.with_name(f"{snapshot.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(pinned), encoding="utf-8")
        os.link(tmp, snapshot)  # fails if it exists: the first copy is the pool's
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _load(evaluate: Callable[[str], Any], path: Path, cache_dir: Path | None,
          root: Path | None, compat_flags: Iterable[str],
          ) -> tuple[bundler.Bundle | None, str | None]:
    """Evaluate the script at ``path``: (its bundle, None) for a module graph, (None, its
    source) for a classic script."""
    if not path.is_file():
        raise ScriptError(f"{path}: no such file")
    classic = not bundler.is_module_path(path)
    if classic:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ScriptError(f"{path}: cannot read: {e}") from None
        classic = not bundler.COMMONJS.search(source)
    if classic:
        try:
            evaluate(f"{source}\n//# sourceURL={path}\n")
            return None, source
        except JSEvalException as e:
            if not _module_syntax(str(e), source):
                raise ScriptError(_describe(e, path, None)) from None
    try:
        bundle = bundler.build(path, cache_dir=cache_dir, root=root, compat_flags=compat_flags)
    except bundler.BundleError as e:
        raise ScriptError(str(e)) from None
    _evaluate_bundle(evaluate, path, bundle)
    return bundle, None


def _module_syntax(error: str, source: str) -> bool:
    """Whether a classic script's load error says it is a module (to be bundled)."""
    if any(marker in error for marker in _MODULE_SYNTAX):
        return True
    return "SyntaxError:" in error and _MODULE_HINT.search(source) is not None


def _evaluate_bundle(evaluate: Callable[[str], Any], path: Path, bundle: bundler.Bundle) -> None:
    """Evaluate a module graph's bundle; its errors name the user's file and line."""
    try:
        evaluate(f"{bundle.code}//# sourceURL={BUNDLE_URL}{path.name}\n")
    except JSEvalException as e:
        raise ScriptError(_describe(e, path, bundle)) from None


def check_loaded(status: Callable[[], dict[str, Any]], path: Path,
                 bundle: bundler.Bundle | None) -> None:
    """The loaded script registered a handler; ScriptError if not, or if looking at its
    exports ran code of its own that threw (a getter, a Proxy's trap). A module with
    top-level await is waited for (up to :data:`SETTLE_SECONDS`) and must not reject."""
    try:
        found = status()
        deadline = time.monotonic() + SETTLE_SECONDS
        while found.get("loading") and time.monotonic() < deadline:
            time.sleep(0.002)  # V8's thread runs what it has queued (WebAssembly's compiles)
            found = status()
    except JSEvalException as e:
        raise ScriptError(_describe(e, path, bundle)) from None
    if found.get("loading"):
        raise ScriptError(
            f"{path}: its top-level await did not settle within {SETTLE_SECONDS:g} s: a "
            "module's top level may await promises and imports, not I/O or timers (do "
            "those in a handler)")
    if found.get("failure") is not None:
        raise ScriptError(_describe_failure(str(found["failure"]), path, bundle))
    check_handler(found, path)


def _describe_failure(stack: str, path: Path, bundle: bundler.Bundle | None) -> str:
    """What a module's top-level await rejected with, at the first frame in the script's
    files (the runtime maps the bundle's frames to them)."""
    first = _first_line(stack)
    for frame in _FRAME.finditer(stack):
        file, line = frame.group("file"), int(frame.group("line"))
        if bundle is not None and file == f"{BUNDLE_URL}{path.name}":
            where = bundle.locate(line)
            if where is not None:
                return f"{where[0]}:{where[1]}: {first}"
        elif file.startswith("/"):
            return f"{file}:{line}: {first}"
    return f"{path}: {first}"


def check_handler(status: dict[str, Any], path: Path) -> None:
    if not status.get("fetch") and not status.get("scheduled"):
        if status.get("module"):
            raise ScriptError(f"{path}: the module's default export has no fetch() method")
        raise ScriptError(
            f"{path}: no fetch handler: call addEventListener('fetch', ...) "
            "or export default { fetch(request, env, ctx) { ... } } (or a scheduled handler)"
        )
