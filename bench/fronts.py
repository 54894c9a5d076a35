"""Many fronts: does a second cell (front + its workers) on a second core double requests/s?

    .venv/bin/python bench/fronts.py [--duration 10] [--runs 3] [--cores 0,1]

Runs examples/hello.js twice, pinned with sched_setaffinity (what taskset does):
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
import sys
import time
from pathlib import Path

from _harness import REPO, isoflow

sys.path.insert(0, str(REPO / "bench" / "compare"))
from measure import cpu_seconds, wrk

from tests.procstats import children, descendants

HELLO = (REPO / "examples" / "hello.js").read_text()


def pin(main: int, cores: list[int], cells: int) -> None:
    """One cell: everything on cores[0]. Many: front i and its workers on cores[i]."""
    if cells == 1:
        for pid in descendants(main):
            os.sched_setaffinity(pid, {cores[0]})
        return
    for front in children(main):
        cmdline = Path(f"/proc/{front}/cmdline").read_text()
        index = int(cmdline.split("\0--front\0")[1].split("/")[0])
        for pid in descendants(front):
            os.sched_setaffinity(pid, {cores[index]})


def measure(cells: int, cores: list[int], duration: float, runs: int) -> tuple[float, float]:
    """(best requests/s, CPU microseconds per request) for ``cells`` cells."""
    best = (0.0, 0.0)
    with isoflow(HELLO, "--fronts", str(cells), workers=cells, name="hello.js") as server:
        time.sleep(1.0)  # every front listening
        pin(server["pid"], cores, cells)
        url = server["url"] + "/"
        wrk(url, 2)  # warm-up
        procs = descendants(server["pid"])
        for _ in range(runs):
            cpu0 = sum(cpu_seconds(p) for p in procs)
            result = wrk(url, duration)
            cpu = sum(cpu_seconds(p) for p in procs) - cpu0
            if result.errors:
                raise RuntimeError(f"{result.errors} errors under load")
            if result.requests_per_s > best[0]:
                best = (result.requests_per_s, cpu / result.requests * 1e6)
    return best


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
    print(f"{'cells':>5} {'requests/s':>11} {'CPU us/req':>11}")
    print(f"{1:>5} {one[0]:>11,.0f} {one[1]:>11.0f}")
    print(f"{len(cores):>5} {many[0]:>11,.0f} {many[1]:>11.0f}")
    print(f"scaling: {many[0] / one[0]:.2f}x requests/s with {len(cores)} cells on "
          f"{len(cores)} cores")


if __name__ == "__main__":
    main()
