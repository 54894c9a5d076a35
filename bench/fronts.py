"""Many fronts: does a second cell (front + its workers) on a second core double requests/s?

    .venv/bin/python bench/fronts.py [--duration 10] [--runs 3] [--cores 0,1]

Runs examples/hello.js twice, every thread pinned with sched_setaffinity (what taskset -a
does):
  * one cell: ``--fronts 1 --workers 1``, every process on the first core;
  * N cells: ``--fronts N --workers N``, front i and its worker on core i (the main process
    and wrk float).
wrk (-t2 -c50) drives each for ``--duration`` seconds after a warm-up; the best of ``--runs``
is kept. Prints requests/s, CPU seconds per request of the isoflow processes, and the ratio.
wrk needs CPU too: on a host with no spare core it takes its share from the cells, so the
ratio printed is a lower bound of what the cells scale by (the CPU per request says more).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from _harness import REPO, isoflow

sys.path.insert(0, str(REPO / "bench" / "compare"))
from measure import cpu_seconds, wrk

from tests.procstats import children, descendants

HELLO = (REPO / "examples" / "hello.js").read_text()


def _pin_threads(pid: int, core: int) -> None:
    """Every thread of ``pid`` on ``core``: affinity is per thread, and the ones a process
    started already (V8's, ZeroMQ's I/O threads) keep theirs when only its pid is pinned."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {core})


def pin(main: int, cores: list[int], cells: int) -> None:
    """One cell: everything on cores[0]. Many: front i and its workers on cores[i]."""
    if cells == 1:
        for pid in descendants(main):
            _pin_threads(pid, cores[0])
        return
    for front in children(main):
        cmdline = Path(f"/proc/{front}/cmdline").read_text()
        index = int(cmdline.split("\0--front\0")[1].split("/")[0])
        for pid in descendants(front):
            _pin_threads(pid, cores[index])


def measure(cells: int, cores: list[int], duration: float,
            runs: int) -> tuple[float, float, float]:
    """(best requests/s, isoflow's CPU microseconds per request, wrk's share of a core)."""
    best = (0.0, 0.0, 0.0)
    with isoflow(HELLO, "--fronts", str(cells), workers=cells, name="hello.js") as server:
        time.sleep(1.0)  # every front listening
        pin(server["pid"], cores, cells)
        url = server["url"] + "/"
        wrk(url, 2)  # warm-up
        procs = descendants(server["pid"])
        for _ in range(runs):
            cpu0 = sum(cpu_seconds(p) for p in procs)
            wrk0 = _children_cpu()
            result = wrk(url, duration)
            cpu = sum(cpu_seconds(p) for p in procs) - cpu0
            wrk_cores = (_children_cpu() - wrk0) / duration
            if result.errors:
                raise RuntimeError(f"{result.errors} errors under load")
            if result.requests_per_s > best[0]:
                best = (result.requests_per_s, cpu / result.requests * 1e6, wrk_cores)
    return best


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cores", default="0,1", help="cores to pin cells to (0,1)")
    args = parser.parse_args()
    cores = [int(c) for c in args.cores.split(",")]
    one = measure(1, cores, args.duration, args.runs)
    many = measure(len(cores), cores, args.duration, args.runs)
    n = len(cores)
    print(f"{'cells':>5} {'requests/s':>11} {'isoflow CPU us/req':>19} {'wrk, cores':>11}")
    for cells, (rate, us, wrk_cores) in ((1, one), (n, many)):
        print(f"{cells:>5} {rate:>11,.0f} {us:>19.0f} {wrk_cores:>11.2f}")
    print(f"scaling: {many[0] / one[0]:.2f}x requests/s with {n} cells on {n} cores "
          f"(wrk took {many[2]:.2f} of those cores)")
    # What n cells would do with their cores to themselves: n x one cell's rate, scaled by
    # how the CPU per request changed.
    print(f"per-request CPU with {n} cells: {many[1] / one[1]:.2f}x one cell's; with the "
          f"load generator elsewhere {n} cells would reach {n * one[1] / many[1]:.2f}x")


if __name__ == "__main__":
    main()
