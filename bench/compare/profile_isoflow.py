"""Where isoflow spends its time on hello-world: py-spy on the supervisor and one worker.

    .venv/bin/python bench/compare/profile_isoflow.py [--duration 10] [--path /]

Serves bench/compare/worker.mjs, drives it with `wrk -t2 -c50` and records each process with
`py-spy record` twice (the two runs follow each other): once as a flame graph (SVG) and once
as collapsed stacks, from which it prints the top frames by own time and by total time.
Everything goes to bench/.cache/compare-profile/. py-spy must be installed
(`.venv/bin/pip install py-spy`); it samples without pausing the process
(--nonblocking), so what it shows is close to an unprofiled run. Only Python threads are
sampled: time spent in V8 on mini-racer's own thread shows up only as waits in Python.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from measure import cpu_seconds, descendants, process_label, wrk
from runtimes import CACHE, isoflow_runtime

from tests.processes import free_port, serving, stop_servers_on_sigterm

OUT = CACHE / "compare-profile"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        sys.exit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def record(targets: dict[str, int], fmt: str, duration: float, rate: int, url: str,
           native: bool) -> list[Path]:
    """Runs py-spy on every target during one wrk run; returns the files written."""
    suffix = {"flamegraph": "svg", "raw": "txt"}[fmt]
    files = []
    spies = []
    for name, pid in targets.items():
        path = OUT / f"{name}.{suffix}"
        cmd = [py_spy(), "record", "-p", str(pid), "-o", str(path), "-f", fmt, "-r", str(rate),
               "-d", str(int(duration) + 1)]
        cmd += ["--native"] if native else ["--nonblocking"]
        spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        files.append(path)
    time.sleep(0.5)  # let py-spy attach
    result = {}
    runner = threading.Thread(target=lambda: result.update(run=wrk(url, duration)))
    runner.start()
    runner.join()
    for spy in spies:
        _, err = spy.communicate(timeout=60)
        if spy.returncode:
            print(f"py-spy failed: {err.decode(errors='replace').strip()}", file=sys.stderr)
    run = result["run"]
    print(f"  wrk during the {fmt} recording: {run.requests_per_s:,.0f} req/s, "
          f"p99 {run.p99_ms:.2f} ms")
    return files


def summarize(path: Path, top: int) -> str:
    """Top frames by own samples and by total samples, from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    lines = [f"{path.stem}: {samples} samples (busy Python threads only)", "  own time:"]
    lines += [f"    {n / samples:6.1%}  {short(f)}" for f, n in own.most_common(top)]
    lines.append("  total time (frame on the stack):")
    lines += [f"    {n / samples:6.1%}  {short(f)}" for f, n in total.most_common(top)]
    return "\n".join(lines)


def short(frame: str) -> str:
    """'func (/long/path/to/file.py:12)' -> 'func (to/file.py:12)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    parts = where.split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if where else name


def main() -> None:
    stop_servers_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of each wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--path", default="/", help="request path (default hello-world)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--native", action="store_true",
                        help="include native frames (pauses the process while sampling)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    runtime = isoflow_runtime(args.workers, [])
    with tempfile.TemporaryDirectory(prefix="compare-profile-") as tmp:
        port = free_port()
        command = runtime.prepare(Path(tmp), port)
        url = f"http://127.0.0.1:{port}{args.path}"
        with serving(command, port, Path(tmp) / "server.log", cwd=tmp) as proc:
            urllib.request.urlopen(url, timeout=30).read()
            pids = descendants(proc.pid)
            labels = {p: process_label(p) for p in pids}
            workers = [p for p in pids if labels[p] == "isoflow worker"]
            targets = {"supervisor": proc.pid}
            if workers:
                targets["worker"] = workers[0]
            print(f"isoflow {runtime.version}: supervisor {proc.pid}, workers {workers}")
            wrk(url, 2)  # warm-up
            cpu0 = {p: cpu_seconds(p) for p in pids}
            svgs = record(targets, "flamegraph", args.duration, args.rate, url, args.native)
            cpu = {p: cpu_seconds(p) - cpu0[p] for p in pids}
            raws = record(targets, "raw", args.duration, args.rate, url, args.native)
    busy = ", ".join(f"{labels[p]} {p}: "
                     f"{c / args.duration:.0%} of a core" for p, c in cpu.items())
    text = "\n\n".join([f"CPU during the first recording: {busy}",
                        *(summarize(p, args.top) for p in raws if p.exists())])
    (OUT / "summary.txt").write_text(text + "\n")
    print(f"\n{text}\n\nflame graphs: {', '.join(str(p) for p in svgs)}\n"
          f"summary: {OUT / 'summary.txt'}")


if __name__ == "__main__":
    main()
