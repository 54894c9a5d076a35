"""Many fronts: does a second cell (front + its workers) on a second core double requests/s?

    .venv/bin/python bench/fronts.py [--duration 10] [--runs 3] [--cores 0,1]

Runs examples/hello.js twice, every thread pinned with sched_setaffinity (what taskset -a
does):
  * one cell: ``--fronts 1 --workers 1``, every process on the first core;
  * N cells: ``--fronts N --workers N``, front i and its worker on core i (the main process
    and wrk float).
wrk (-t2) drives each for ``--duration`` seconds after a warm-up, with 50 connections per
cell (``--connections``): a cell's CPU per request depends on how many requests it has in
flight (its ZeroMQ messages and V8 pumps carry more of them at once), so N cells get N times
one cell's connections, each as loaded as the one (``--same-total`` gives them the one's
50: one cell at 25 connections spent ~20 % more CPU per request than at 50). Both setups
serve at once and their runs alternate (``--runs`` each; the run with the median
requests/s is reported), so that the machine's drift falls on both. Prints requests/s, CPU
microseconds per request of the isoflow processes and the ratio.
wrk needs CPU too: on a host with no spare core it takes its share from the cells, so the
ratio printed is a lower bound of what the cells scale by (the CPU per request says more).
Last, the machine's own ceiling: a loop of plain Python work (nothing shared, no I/O) pinned
to one core alone, then one per core at once; their summed work over the single one's is
what N independent processes get from these cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def cell_setup(cells: int, cores: list[int]) -> Iterator[tuple[str, list[int]]]:
    """``cells`` cells serving hello.js, pinned; yields (URL, the pids to count CPU of)."""
    with isoflow(HELLO, "--fronts", str(cells), workers=cells, name="hello.js") as server:
        time.sleep(1.0)  # every front listening
        pin(server["pid"], cores, cells)
        yield server["url"] + "/", descendants(server["pid"])


def drive(url: str, procs: list[int], duration: float,
          connections: int) -> tuple[float, float, float]:
    """One wrk run: (requests/s, isoflow's CPU microseconds per request, wrk's share of a
    core) with wrk keeping ``connections`` open."""
    cpu0 = sum(cpu_seconds(p) for p in procs)
    wrk0 = _children_cpu()
    result = wrk(url, duration, connections=connections)
    cpu = sum(cpu_seconds(p) for p in procs) - cpu0
    if result.errors:
        raise RuntimeError(f"{result.errors} errors under load")
    return (result.requests_per_s, cpu / result.requests * 1e6,
            (_children_cpu() - wrk0) / duration)


# Interpreter work with nothing shared: dicts, strings and calls, counted for a fixed time.
_SPIN = """
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
def step(i):
    d = {"a": i, "b": str(i)}
    return len(d["b"] + "x") + d["a"]
n, end = 0, time.perf_counter() + float(sys.argv[2])
while time.perf_counter() < end:
    for i in range(1000):
        step(i)
    n += 1000
print(n)
"""


def machine_reference(cores: list[int], seconds: float = 5.0) -> float:
    """How much two cores' worth of independent Python work this machine gives: the work
    one process pinned to a core does alone, against the work of one process per core all
    running at once (their sum, over the single one's)."""
    def spin(on: list[int]) -> list[int]:
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN, str(core), str(seconds)],
                                  stdout=subprocess.PIPE, text=True) for core in on]
        return [int(proc.communicate(timeout=seconds + 30)[0]) for proc in procs]

    alone = spin(cores[:1])[0]
    together = spin(cores)
    return sum(together) / alone


def _median_run(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The run with the median requests/s."""
    return sorted(runs)[len(runs) // 2]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cores", default="0,1", help="cores to pin cells to (0,1)")
    parser.add_argument("--connections", type=int, default=50,
                        help="wrk's connections per cell (50)")
    parser.add_argument("--same-total", action="store_true",
                        help="give N cells the one cell's connections, not N times them")
    args = parser.parse_args()
    cores = [int(c) for c in args.cores.split(",")]
    n = len(cores)
    many_connections = args.connections * (1 if args.same_total else n)
    # Both setups serve at once (the one not driven idles) and their runs alternate: this
    # shared machine's speed drifts by more than the difference being measured.
    with cell_setup(1, cores) as (one_url, one_procs), \
            cell_setup(n, cores) as (many_url, many_procs):
        wrk(one_url, 2, connections=args.connections)  # warm-up
        wrk(many_url, 2, connections=many_connections)
        ones, manys = [], []
        for _ in range(args.runs):
            ones.append(drive(one_url, one_procs, args.duration, args.connections))
            manys.append(drive(many_url, many_procs, args.duration, many_connections))
    print(f"runs, requests/s: 1 cell {', '.join(f'{r[0]:,.0f}' for r in ones)}; "
          f"{n} cells {', '.join(f'{r[0]:,.0f}' for r in manys)}")
    one, many = _median_run(ones), _median_run(manys)
    print(f"{'cells':>5} {'connections':>11} {'requests/s':>11} {'isoflow CPU us/req':>19} "
          f"{'wrk, cores':>11}")
    for cells, conns, (rate, us, wrk_cores) in ((1, args.connections, one),
                                                (n, many_connections, many)):
        print(f"{cells:>5} {conns:>11} {rate:>11,.0f} {us:>19.0f} {wrk_cores:>11.2f}")
    print(f"scaling: {many[0] / one[0]:.2f}x requests/s with {n} cells on {n} cores "
          f"(wrk took {many[2]:.2f} of those cores)")
    # What n cells would do with their cores to themselves: n x one cell's rate, scaled by
    # how the CPU per request changed.
    print(f"per-request CPU with {n} cells: {many[1] / one[1]:.2f}x one cell's; with the "
          f"load generator elsewhere {n} cells would reach {n * one[1] / many[1]:.2f}x")
    # The machine's own ceiling: a shared VM's cores are not independent (siblings of one
    # physical core, a busy host), and no cell can scale past what plain Python work does.
    print(f"the machine: {n} processes of plain Python work, one per core, do "
          f"{machine_reference(cores):.2f}x the work of one alone")


if __name__ == "__main__":
    main()
