"""Idle memory of an isoflow service by process kind, and what each added worker costs.

    .venv/bin/python bench/memory.py [--workers 1,2,3,4] [--script examples/hello.js]

For each worker count: serve the script, send a few requests (every worker answers some),
wait for the service to settle, then read ``/proc/PID/smaps_rollup`` of every process:
RSS (counts shared pages in every process), PSS (shared pages split between the processes
that share them: summed, the service's real footprint) and private memory (pages no other
process maps: what the process alone costs). Workers are forked from the zygote, so most of
their Python is shared with it and with each other. The last lines give the total PSS for
each worker count and the PSS each added worker costs (#13's target: <= 30 MB).
"""

from __future__ import annotations

import argparse
import time
import urllib.request
from pathlib import Path

from _harness import REPO, isoflow

from tests.procstats import descendants

MB = 1 << 20
FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty")


def smaps(pid: int) -> dict[str, int]:
    """Rss, Pss and Private (clean + dirty) of one process, in bytes."""
    out = dict.fromkeys(FIELDS, 0)
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in out:
            out[name] = int(rest.split()[0]) * 1024
    return out


def kind(pid: int, root: int) -> str:
    """supervisor, front, zygote or worker, from the command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if "isolate_worker.zygote" in argv:
        return "zygote"
    if "isolate_worker" in argv:
        return "worker"
    if "--front" in argv:
        return "front"
    return "supervisor" if pid == root else "other"


def measure(script: Path, workers: int, settle: float) -> dict[str, list[dict[str, int]]]:
    """The memory of every process of a service with ``workers`` workers, by kind."""
    with isoflow(script.read_text(), workers=workers, name=script.name) as server:
        for _ in range(workers * 4):
            urllib.request.urlopen(server["url"] + "/", timeout=10).read()
        time.sleep(settle)
        by_kind: dict[str, list[dict[str, int]]] = {}
        for pid in descendants(server["pid"]):
            by_kind.setdefault(kind(pid, server["pid"]), []).append(smaps(pid))
        return by_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,3,4", help="worker counts, comma-separated")
    parser.add_argument("--script", type=Path, default=REPO / "examples" / "hello.js")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before reading")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    totals: dict[int, tuple[float, float]] = {}
    for n in counts:
        by_kind = measure(args.script, n, args.settle)
        print(f"\n{n} worker(s): MiB per process (RSS / PSS / private)")
        rss = pss = 0.0
        for name, rows in sorted(by_kind.items()):
            for row in rows:
                private = row["Private_Clean"] + row["Private_Dirty"]
                print(f"  {name:10} {row['Rss'] / MB:6.1f} / {row['Pss'] / MB:6.1f} / "
                      f"{private / MB:6.1f}")
                rss += row["Rss"] / MB
                pss += row["Pss"] / MB
        print(f"  {'all':10} {rss:6.1f} / {pss:6.1f}")
        totals[n] = (rss, pss)
    print("\nworkers  RSS (MiB)  PSS (MiB)  PSS added by the last worker (MiB)")
    previous = None
    for n in counts:
        rss, pss = totals[n]
        added = "" if previous is None else f"{(pss - totals[previous][1]) / (n - previous):.1f}"
        print(f"{n:7}  {rss:9.1f}  {pss:9.1f}  {added}")
        previous = n


if __name__ == "__main__":
    main()
