"""Instant start: from ``isoflow serve`` to the first answered request.

    .venv/bin/python bench/start.py [--runs 3]

Measures, each the best of ``--runs`` starts with 2 workers:
  * examples/hello.js (a classic script: nothing to compile);
  * a Hono app in TypeScript (``src/index.ts``, Hono from npm, installed once into
    bench/.cache/start-hono with npm) with an empty bundle cache (cold: compiled once, by
    one worker, while the others wait for it) and with the cache of the run before (warm).
Without npm, the Hono rows are skipped. isoflow's Python modules are compiled first, as
every start after the first finds them (see docs/performance.md, *Instant start*).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from _harness import ISOFLOW, REPO, free_port

from tests.processes import LoggedProcess

CACHE = REPO / "bench" / ".cache" / "start-hono"
HONO_APP = """
import { Hono } from "hono";
import { streamText } from "hono/streaming";

const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));
app.get("/stream", (c) => streamText(c, async (s) => { await s.writeln("tick"); }));
export default app;
"""


def time_to_first_answer(script: Path, env: dict[str, str] | None = None) -> float:
    """Seconds from starting ``isoflow serve SCRIPT`` to its first 200."""
    port = free_port()
    directory = tempfile.mkdtemp(prefix="isoflow-bench-")
    proc = LoggedProcess(Path(directory) / "log.txt")
    start = time.perf_counter()
    proc.spawn([*ISOFLOW, "serve", str(script), "--port", str(port), "--workers", "2",
                "--log-level", "WARNING"], env=env)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                if proc.proc is not None and proc.proc.poll() is not None:
                    raise RuntimeError(f"isoflow exited:\n{proc.log()}") from None
                if time.perf_counter() - start > 60:
                    raise RuntimeError(f"no answer within 60 s:\n{proc.log()}") from None
                time.sleep(0.005)
    finally:
        proc.stop()
        shutil.rmtree(directory, ignore_errors=True)


def hono_project() -> Path | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    if not (CACHE / "node_modules" / "hono").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text('{"name": "start-hono", "private": true}\n')
        subprocess.run([npm, "install", "--silent", "hono@4"], cwd=CACHE, check=True,
                       timeout=300)
    (CACHE / "src").mkdir(exist_ok=True)
    (CACHE / "src" / "index.ts").write_text(HONO_APP)
    return CACHE / "src" / "index.ts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    # A start after the first: Python has compiled isoflow's modules (an editable install
    # under PYTHONDONTWRITEBYTECODE never would: every start compiled them, ~0.08 s more).
    for package in ("supervisor", "isolate_worker", "protocol"):
        compileall.compile_dir(REPO / package, quiet=1)
    rows = [("examples/hello.js", min(time_to_first_answer(REPO / "examples" / "hello.js")
                                      for _ in range(args.runs)))]
    app = hono_project()
    if app is not None:
        colds, warms = [], []
        for _ in range(args.runs):
            cache = tempfile.mkdtemp(prefix="isoflow-bench-cache-")
            env = {**os.environ, "XDG_CACHE_HOME": cache}
            colds.append(time_to_first_answer(app, env))
            warms.append(time_to_first_answer(app, env))
            shutil.rmtree(cache, ignore_errors=True)
        rows += [("Hono app (TypeScript), cold cache", min(colds)),
                 ("Hono app (TypeScript), warm cache", min(warms))]
    for name, seconds in rows:
        print(f"{name:<36} {seconds:6.2f} s to the first answer")


if __name__ == "__main__":
    main()
