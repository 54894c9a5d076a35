"""Interleaved A/B: this checkout against another commit, round after round.

    .venv/bin/python bench/ab.py --base REV [--measure hello] [--rounds 3] [--workers 1]
                                 [--base-workers N] [--fronts N] [--base-fronts N]

Single runs on this shared machine move by 10-30 %, so a change worth a few per cent shows
only when both sides run alternately on the same machine state (which side goes first
alternates from round to round). The base is checked out in
a temporary git worktree and run by this checkout's Python with ``PYTHONPATH`` naming that
worktree as the ``isoflow`` package (its zygote and workers inherit it). Each round serves
``bench/compare/worker.mjs`` with each side in turn and prints per side:

  hello      ``wrk -t2 -c50`` (--connections) for --seconds after a 2 s warm-up (on --path,
             "/" by default):
             requests/s, CPU µs per request of the front (the supervisor and its zygote)
             and of the workers, and wrk's 99th percentile latency;
  generated  curl reading ``/generate`` (--megabytes) --runs times: the median MB/s, CPU µs
             per MB of every isoflow process, and the workers' page faults per MB.

``--base-workers`` gives the base side another worker count: ``--base HEAD --workers 1
--base-workers 2`` on a clean checkout compares one worker with two at the same code
(``--fronts``/``--base-fronts`` likewise the front processes; "front" is then every process
but the workers: the main process, the fronts and their zygotes);
``--base HEAD --log-level INFO --base-log-level WARNING`` the access log on and off;
``--base HEAD --base-python /path/to/venv/bin/python`` this code under another Python (that
venv needs isoflow's dependencies: ``pip install -e .`` in it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _harness import ISOFLOW, REPO, free_port, serving

from tests.procstats import descendants

SCRIPT = REPO / "bench" / "compare" / "worker.mjs"


@contextlib.contextmanager
def base_checkout(rev: str) -> Iterator[str]:
    """A worktree of ``rev``; yields the PYTHONPATH under which ``isoflow`` is that tree."""
    tmp = Path(tempfile.mkdtemp(prefix="isoflow-ab-"))
    tree = tmp / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree),
                    rev], check=True)
    try:
        (tmp / "path").mkdir()
        (tmp / "path" / "isoflow").symlink_to(tree)
        yield str(tmp / "path")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def _stat(pid: int) -> tuple[int, int, bool]:
    """(CPU ticks, minor page faults, is a worker) of one process; zeros if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return 0, 0, False
    fields = stat[stat.rindex(")") + 2:].split()
    worker = b"isoflow.isolate_worker --" in cmdline.replace(b"\0", b" ")
    return int(fields[11]) + int(fields[12]), int(fields[7]), worker


def _sample(pid: int) -> dict[str, int]:
    """CPU ticks of the front and the workers, and the workers' page faults."""
    totals = {"front": 0, "workers": 0, "faults": 0}
    for p in descendants(pid):
        ticks, faults, worker = _stat(p)
        totals["workers" if worker else "front"] += ticks
        if worker:
            totals["faults"] += faults
    return totals


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}


def hello(url: str, pid: int, args: argparse.Namespace) -> str:
    url += args.path.lstrip("/")
    load = ["-t2", f"-c{args.connections}"] if args.connections > 1 else ["-t1", "-c1"]
    subprocess.run(["wrk", *load, "-d2s", url], capture_output=True, check=True)
    before = _sample(pid)
    out = subprocess.run(["wrk", *load, "--latency", f"-d{args.seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    used = _delta(_sample(pid), before)
    found = re.search(r"(\d+) requests in", out)
    n = int(found.group(1)) if found else 0
    p99 = re.search(r"^\s*99%\s+(\S+)\s*$", out, re.M)
    tick = 1e6 / os.sysconf("SC_CLK_TCK") / max(n, 1)  # µs per request of one tick
    return (f"{n / args.seconds:9,.0f} requests/s  front {used['front'] * tick:5.1f} µs  "
            f"workers {used['workers'] * tick:5.1f} µs per request  "
            f"p99 {p99.group(1) if p99 else '?'}")


def generated(url: str, pid: int, args: argparse.Namespace) -> str:
    size = args.megabytes << 20
    body = f"{url}generate?bytes={size}"
    subprocess.run(["curl", "-s", "-o", "/dev/null", body], check=True)  # warm-up
    before = _sample(pid)
    rates = [float(subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}",
                                   body], capture_output=True, text=True, check=True).stdout)
             for _ in range(args.runs)]
    used = _delta(_sample(pid), before)
    mb = args.runs * size / 1e6
    ticks = used["front"] + used["workers"]
    return (f"{statistics.median(rates) / 1e6:7,.0f} MB/s  "
            f"{ticks * 1e6 / os.sysconf('SC_CLK_TCK') / mb:6,.0f} µs of CPU per MB  "
            f"{used['faults'] / (args.runs * args.megabytes):5.0f} worker page faults per MiB")


MEASURES = {"hello": hello, "generated": generated}


def run_side(pythonpath: str | None, workers: int, fronts: int, log_level: str, python: str,
             args: argparse.Namespace) -> str:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="isoflow-ab-") as directory, \
            serving([python, *ISOFLOW[1:], "serve", str(SCRIPT), "--port", str(port),
                     "--workers", str(workers), "--fronts", str(fronts), "--log-level",
                     log_level], port, Path(directory) / "log.txt", env=env) as server:
        return MEASURES[args.measure](f"http://127.0.0.1:{port}/", server.pid, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--measure", choices=sorted(MEASURES), default="hello")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--base-workers", type=int, help="the base side's (default: --workers)")
    parser.add_argument("--fronts", type=int, default=1, help="front processes")
    parser.add_argument("--base-fronts", type=int, help="the base side's (default: --fronts)")
    parser.add_argument("--log-level", default="WARNING",
                        help="INFO writes the access log (to a file), WARNING does not")
    parser.add_argument("--base-log-level", help="the base side's (default: --log-level)")
    parser.add_argument("--python", default=sys.executable, help="the Python to run with")
    parser.add_argument("--base-python", help="the base side's (default: --python)")
    parser.add_argument("--seconds", type=int, default=6, help="of each wrk run (hello)")
    parser.add_argument("--connections", type=int, default=50, help="wrk's (hello)")
    parser.add_argument("--path", default="/", help="what wrk requests (hello), e.g. "
                        "'/generate?bytes=300000' for a mid-size streamed body")
    parser.add_argument("--megabytes", type=int, default=200, help="MiB per body (generated)")
    parser.add_argument("--runs", type=int, default=7, help="bodies per side (generated)")
    args = parser.parse_args()
    base_workers = args.workers if args.base_workers is None else args.base_workers
    base_level = args.log_level if args.base_log_level is None else args.base_log_level
    base_python = args.python if args.base_python is None else args.base_python
    base_fronts = args.fronts if args.base_fronts is None else args.base_fronts
    sides = [("this checkout", False, args.workers, args.fronts, args.log_level, args.python),
             (args.base, True, base_workers, base_fronts, base_level, base_python)]
    with base_checkout(args.base) as base_path:
        for i in range(1, args.rounds + 1):
            # Which side goes first alternates: the machine's speed drifts within a round too.
            for name, is_base, workers, fronts, level, python in (sides if i % 2
                                                                  else sides[::-1]):
                result = run_side(base_path if is_base else None, workers, fronts, level,
                                  python, args)
                print(f"round {i}  {name:>13}: {result}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
