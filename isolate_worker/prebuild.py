"""Compile a module worker into the bundle cache before the workers need it.

    python -m isoflow.isolate_worker.prebuild SCRIPT --cache-dir DIR [--root R] [--compat-flag F]

``isoflow serve`` starts one per script that looks like a module (:func:`start`), beside
the zygote and while the supervisor imports its server. It compiles under the cache entry's
lock (``bundler.build``), so the workers find the bundle ready, or wait for the lock and
then read it: none of them loads the compiler (a worker that compiled kept ~20 MB of its
memory for good), and the compile starts ~0.3 s sooner. It reports nothing: a script that
does not compile fails in the workers as before, with their error line (FATAL). If it has
not taken the lock by the time a worker needs the bundle, that worker compiles, as before.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

_ESM = re.compile(r"^[ \t]*(?:import|export)\b", re.M)
_HEAD = 1 << 20  # bytes of a .js file looked at


def looks_like_module(path: Path) -> bool:
    """A module graph to compile: a TypeScript or .mjs/.cjs file, or a .js file with
    CommonJS (script.py's own tests) or a line starting with import/export (script.py has
    the final word there, by evaluating it)."""
    from . import bundler  # light: its compiler (V8) loads only when it compiles

    if bundler.is_module_path(path):
        return True
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD).decode("latin-1")
    except OSError:
        return False
    return bool(_ESM.search(head) or bundler.COMMONJS.search(head))


def start(script: Path, cache_dir: Path, root: Path | None,
          compat_flags: Iterable[str]) -> subprocess.Popen | None:
    """Compile ``script`` into ``cache_dir`` in a process of its own, if it looks like a
    module that was not built before (a cache entry whose files changed since is rebuilt
    by the workers, as without this); the process is reaped by a thread when it ends."""
    from . import bundler

    if not looks_like_module(script):
        return None
    flags = list(compat_flags)  # read twice below: an iterator would be empty the second time
    try:
        entry = script.resolve()
        real_root = bundler.project_root(entry, root)
        manifest = bundler.manifest_path(cache_dir, entry, real_root, frozenset(flags))
        if manifest.is_file():
            return None
    except (OSError, bundler.BundleError):
        return None
    argv = [sys.executable, "-m", "isoflow.isolate_worker.prebuild", str(script),
            "--cache-dir", str(cache_dir)]
    if root is not None:
        argv += ["--root", str(root)]
    for flag in flags:
        argv += ["--compat-flag", flag]
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    except OSError:
        return None
    threading.Thread(target=process.wait, name="isoflow-prebuild", daemon=True).start()
    return process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--compat-flag", dest="compat_flags", action="append", default=[])
    args = parser.parse_args(argv)
    from . import bundler

    with contextlib.suppress(Exception):  # the workers report what went wrong
        bundler.build(args.script.resolve(), cache_dir=args.cache_dir, root=args.root,
                      compat_flags=args.compat_flags)
    return 0


if __name__ == "__main__":
    sys.exit(main())
