"""isoflow side by side with workerd, Deno and Bun, one runtime at a time, on 127.0.0.1.

    .venv/bin/python bench/compare/run.py [--duration 10] [--runs 5] [--runtimes ...]

Every runtime serves the same bench/compare/worker.mjs. Measured for each:
  1. hello-world requests/s, p99 latency and CPU per request (wrk -t2 -c50, after a warm-up),
  2. a generated body (a ReadableStream whose pull enqueues 64 KiB chunks), MB/s read by curl,
  3. the same size proxied from a local aiohttp upstream (`return fetch(upstream)`), MB/s,
  4. time to the first body byte of a slow stream (one chunk at once, then one per 100 ms),
  5. RSS of every process of the runtime: idle (after one request) and peak over the runs.
Prints a table with isoflow's ratio to each peer and writes it to bench/compare/RESULTS.md.
The peers are installed from npm into bench/.cache/compare-npm (pinned in runtimes.py).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from measure import (
    TreeMemory,
    TreeSampler,
    cpu_seconds,
    descendants,
    download_rate,
    first_byte,
    median,
    process_label,
    tree_cpu_seconds,
    wrk,
)
from runtimes import HERE, PEERS, REPO, Runtime, install_peers, isoflow_runtime

from tests.processes import free_port, serving, stop_servers_on_sigterm

MB = 1e6
MIB = 1 << 20


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    higher_is_better: bool
    digits: int = 0


MEASURES = [
    Measure("hello_rps", "hello: requests/s", True),
    Measure("hello_p99", "hello: p99 latency (ms)", False, 2),
    Measure("hello_cpu", "hello: CPU per request (µs, all processes)", False),
    Measure("generated", "generated {size}: MB/s", True),
    Measure("generated_cpu", "generated: CPU per MB (µs, all processes)", False),
    Measure("proxied", "proxied {size}: MB/s", True),
    Measure("proxied_cpu", "proxied: CPU per MB (µs, all processes)", False),
    Measure("ttfb", "slow stream: time to first body byte (ms)", False, 2),
    Measure("slow_total", "slow stream: whole body, {chunks} chunks (ms)", False),
    Measure("idle_rss", "idle RSS, all processes (MiB)", False),
    Measure("idle_pss", "idle PSS, all processes (MiB)", False),
    Measure("peak_rss", "peak RSS, all processes (MiB)", False),
]


@dataclass
class Result:
    runtime: Runtime
    values: dict[str, float] = field(default_factory=dict)
    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    memory: TreeMemory | None = None


# --- running one runtime ----------------------------------------------------------------

def attempt(result: Result, what: str, step: Callable[[], None]) -> None:
    """Runs one measure; a failure is noted and the next measure still runs."""
    try:
        step()
    except Exception as exc:  # a broken measure must not end the comparison
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        result.notes.append(f"{what} failed: {first_line[:300]}")
        print(f"  {what} FAILED: {exc}", flush=True)


def measure_runtime(runtime: Runtime, args: argparse.Namespace, upstream: str) -> Result:
    result = Result(runtime)
    size = args.megabytes << 20
    with tempfile.TemporaryDirectory(prefix=f"compare-{runtime.name}-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = runtime.prepare(workdir, port)
        print(f"\n== {runtime.name} {runtime.version}\n   {shlex.join(command)}", flush=True)
        with serving(command, port, workdir / "server.log", cwd=workdir) as server:
            urllib.request.urlopen(f"{base}/", timeout=30).read()
            time.sleep(1.0)
            sampler = TreeSampler(server.pid)
            sampler.snapshot_idle()
            result.memory = sampler.memory
            with sampler:
                attempt(result, "hello", lambda: hello(result, base, args, server.pid))
                attempt(result, "generated", lambda: bulk(
                    result, "generated", f"{base}/generate?bytes={{n}}", size, args.runs,
                    server.pid))
                if runtime.can_proxy:
                    attempt(result, "proxied", lambda: bulk(
                        result, "proxied", f"{base}/proxy?upstream={upstream}/bytes%3Fn%3D{{n}}",
                        size, args.runs, server.pid))
                else:
                    result.notes.append("proxied: not measured, this isoflow has no way to let "
                                        "fetch() reach loopback (no --allow-fetch-to, no --config)")
                attempt(result, "slow", lambda: slow(result, base, args))
            if server.proc.poll() is not None:
                result.notes.append("the server exited during the runs "
                                    f"(code {server.proc.returncode})")
        memory = sampler.memory
        result.values["idle_rss"] = memory.idle_total / MIB
        result.values["idle_pss"] = memory.idle_pss_total / MIB
        result.values["peak_rss"] = memory.peak_total / MIB
    return result


def hello(result: Result, base: str, args: argparse.Namespace, pid: int) -> None:
    wrk(f"{base}/", args.warmup)
    rates, p99s, cpus = [], [], []
    for _ in range(args.hello_runs):
        pids = descendants(pid)
        before = {p: cpu_seconds(p) for p in pids}
        run = wrk(f"{base}/", args.duration)
        split = {p: cpu_seconds(p) - before[p] for p in pids}
        cpu = sum(split.values())
        if run.errors:
            result.notes.append(f"hello: wrk counted {run.errors} errors in {run.requests} "
                                "requests")
        rates.append(run.requests_per_s)
        p99s.append(run.p99_ms)
        cpus.append(cpu / max(run.requests, 1) * 1e6)
        per_process = ", ".join(f"{process_label(p)} {c / max(run.requests, 1) * 1e6:.0f}"
                                for p, c in split.items())
        print(f"  hello: {run.requests_per_s:,.0f} req/s, p99 {run.p99_ms:.2f} ms, "
              f"{cpus[-1]:.0f} µs CPU/request ({per_process})", flush=True)
    if len(split) > 1:  # where the CPU goes, from the last run
        result.notes.append(f"hello: CPU µs per request by process: {per_process}")
    result.runs.update(hello_rps=rates, hello_p99=p99s, hello_cpu=cpus)
    result.values.update(hello_rps=median(rates), hello_p99=median(p99s), hello_cpu=median(cpus))


def bulk(result: Result, key: str, url: str, size: int, runs: int, pid: int) -> None:
    download_rate(url.format(n=size), size)  # warm-up (a smaller one left workerd cold)
    cpu = tree_cpu_seconds(pid)  # over all the runs: /proc counts in 10 ms ticks
    rates = [download_rate(url.format(n=size), size) for _ in range(runs)]
    cpu_per_mb = (tree_cpu_seconds(pid) - cpu) / (runs * size / MB) * 1e6
    print(f"  {key}: {median(rates):,.0f} MB/s (runs: {', '.join(f'{r:,.0f}' for r in rates)}), "
          f"{cpu_per_mb:.0f} µs CPU/MB", flush=True)
    result.runs[key] = rates
    result.values.update({key: median(rates), f"{key}_cpu": cpu_per_mb})


def slow(result: Result, base: str, args: argparse.Namespace) -> None:
    url = f"{base}/slow?chunks={args.slow_chunks}&ms={args.slow_ms}"
    first_byte(url)  # warm-up
    runs = [first_byte(url) for _ in range(args.runs)]
    ttfb = [r.ttfb_ms for r in runs]
    total = [r.total_ms for r in runs]
    print(f"  slow: first byte {median(ttfb):.2f} ms, whole body {median(total):.0f} ms",
          flush=True)
    result.runs.update(ttfb=ttfb, slow_total=total)
    result.values.update(ttfb=median(ttfb), slow_total=median(total))


# --- the report -------------------------------------------------------------------------

def fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(results: list[Result], args: argparse.Namespace) -> tuple[list[str], list[list[str]]]:
    iso = next((r for r in results if r.runtime.name == "isoflow"), None)
    peers = [r for r in results if r.runtime.name != "isoflow"]
    header = ["measure", *(r.runtime.name for r in results), "better"]
    if iso is not None:
        header += [f"isoflow ÷ {p.runtime.name}" for p in peers]
    rows = []
    for m in MEASURES:
        label = m.label.format(size=f"{args.megabytes} MiB", chunks=args.slow_chunks)
        row = [label, *(fmt(r.values.get(m.key), m.digits) for r in results),
               "higher" if m.higher_is_better else "lower"]
        if iso is not None:
            for p in peers:
                a, b = iso.values.get(m.key), p.values.get(m.key)
                row.append(f"{a / b:.2f}x" if a is not None and b else "-")
        rows.append(row)
    return header, rows


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in [header, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine_facts(start_load: tuple[float, float, float]) -> list[str]:
    cpu = "unknown CPU"
    meminfo = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    mem = f"{int(meminfo.split()[0]) / 2**20:.0f} GiB" if meminfo else "?"
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    curl_version = subprocess.run(["curl", "--version"], capture_output=True, text=True)
    load = ", ".join(f"{x:.2f}" for x in start_load)
    return [
        f"{os.cpu_count()} cores ({cpu}), {mem} memory, Linux {platform.release()}; "
        f"load average before the run {load} (1, 5, 15 min; work of others on these cores "
        "skews the figures)",
        f"Python {platform.python_version()}; "
        f"{(wrk_version.stdout or wrk_version.stderr).split(' [')[0].strip()}; "
        f"{curl_version.stdout.split(' (')[0]}",
    ]


def report(results: list[Result], args: argparse.Namespace, messages: list[str],
           upstream_direct: float | None, command: str) -> str:
    header, rows = table(results, args)
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# isoflow compared with workerd, Deno and Bun",
        "",
        f"Measured {today} with `{command}`.",
        "",
        *(f"- {fact}" for fact in machine_facts(args.start_load)),
        *(f"- {r.runtime.name} {r.runtime.version}: {r.runtime.notes}" for r in results),
        "",
        markdown_table(header, rows),
        "",
        "How it was measured: every runtime served the same `bench/compare/worker.mjs` on "
        "127.0.0.1, one runtime at a time, on the same 2 cores as the clients. "
        f"Hello: `wrk -t2 -c50 -d{args.duration:g}s` after a {args.warmup:g} s warm-up, median "
        f"of {args.hello_runs} run(s); CPU per request is the user+system time of all the "
        f"runtime's processes during the run over the requests served. Bodies: "
        f"{args.megabytes} MiB read by `curl -o /dev/null` (MB = 10^6 bytes), median of "
        f"{args.runs} runs after a warm-up; CPU per MB is taken over those runs; the proxy's "
        f"upstream is an aiohttp server in its own process"
        + (f", which curl read directly at {upstream_direct:,.0f} MB/s. " if upstream_direct
           else ". ")
        + f"Slow stream: {args.slow_chunks} chunks of 64 bytes, {args.slow_ms} ms apart, over a "
        "fresh connection; time from sending the request to the first byte of the body (not the "
        f"head), median of {args.runs}. Idle RSS: after start and one request; peak RSS: the "
        "sum over the runtime's processes of each one's peak, sampled every 10 ms.",
        "",
        "## Details",
        "",
    ]
    names = {m.key: m.label.split(" (")[0].format(size="", chunks=args.slow_chunks)
             .replace(" :", ":") for m in MEASURES}
    for r in results:
        out.append(f"- **{r.runtime.name}** runs: "
                   + "; ".join(f"{names.get(k, k)}: " + ", ".join(f"{v:,.1f}" for v in vs)
                               for k, vs in r.runs.items()))
        if r.memory is not None:
            out.append(f"  - RSS idle→peak: {r.memory.breakdown()}")
        out += [f"  - {note}" for note in r.notes]
    out += [f"- {m}" for m in messages]
    return "\n".join(out) + "\n"


# --- main -------------------------------------------------------------------------------

def main() -> None:
    stop_servers_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtimes", default="isoflow," + ",".join(PEERS),
                        help="comma-separated, in the order to run (default: all)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of wrk warm-up")
    parser.add_argument("--hello-runs", type=int, default=1, help="wrk runs (median)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each body measure (median)")
    parser.add_argument("--megabytes", type=int, default=100, help="MiB per body")
    parser.add_argument("--workers", type=int, default=2, help="isoflow worker processes")
    parser.add_argument("--slow-chunks", type=int, default=10)
    parser.add_argument("--slow-ms", type=int, default=100)
    parser.add_argument("--offline", action="store_true", help="do not call npm")
    parser.add_argument("--isoflow-arg", action="append", default=[],
                        help="extra option for `isoflow serve` (repeatable)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md",
                        help="Markdown report ('-' to skip)")
    args = parser.parse_args()
    if min(args.runs, args.hello_runs, args.megabytes, args.workers) < 1 or args.duration <= 0:
        parser.error("--runs, --hello-runs, --megabytes, --workers and --duration must be > 0")
    args.start_load = os.getloadavg()
    names = [n.strip() for n in args.runtimes.split(",") if n.strip()]
    unknown = set(names) - {"isoflow", *PEERS}
    if unknown:
        parser.error(f"unknown runtimes: {', '.join(sorted(unknown))}")
    command = "python bench/compare/run.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])

    peers, messages = install_peers([n for n in names if n in PEERS], args.offline)
    for m in messages:
        print(m, flush=True)
    by_name = {r.name: r for r in peers}
    if "isoflow" in names:
        by_name["isoflow"] = isoflow_runtime(args.workers, args.isoflow_arg)
    runtimes = [by_name[n] for n in names if n in by_name]

    results = []
    up_port = free_port()
    with tempfile.TemporaryDirectory(prefix="compare-upstream-") as tmp, serving(
        [sys.executable, str(HERE / "upstream.py"), "--port", str(up_port)], up_port,
        Path(tmp) / "upstream.log",
    ) as upstream_proc:
        upstream = f"http://127.0.0.1:{up_port}"
        direct_url = f"{upstream}/bytes?n={{n}}"
        download_rate(direct_url.format(n=8 << 20), 8 << 20)
        upstream_direct = median([download_rate(direct_url.format(n=args.megabytes << 20),
                                                args.megabytes << 20) for _ in range(3)])
        print(f"upstream read directly: {upstream_direct:,.0f} MB/s", flush=True)
        for runtime in runtimes:
            try:
                result = measure_runtime(runtime, args, upstream)
            except Exception as exc:  # it did not start: say so, go on with the others
                print(f"  {runtime.name} FAILED: {exc}", flush=True)
                result = Result(runtime, notes=[f"did not run: {str(exc)[-600:]}"])
            results.append(result)
            leftovers = [p for p in descendants(os.getpid())[1:] if p != upstream_proc.pid]
            if leftovers:
                print(f"warning: processes left behind: {leftovers}", flush=True)

    header, rows = table(results, args)
    print("\n" + plain_table(header, rows))
    for r in results:
        for note in r.notes:
            print(f"note: {r.runtime.name}: {note}")
    text = report(results, args, messages, upstream_direct, command)
    if str(args.output) != "-":
        args.output.write_text(text)
        shown = args.output.relative_to(REPO) if args.output.is_relative_to(REPO) else args.output
        print(f"\nwrote {shown}")


if __name__ == "__main__":
    main()
