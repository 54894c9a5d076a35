"""Proxied bodies through isoflow (its splice relay and its frame path) beside workerd, Deno
and Bun, one runtime at a time, in the same run.

    .venv/bin/python bench/relay.py [--sizes 100,1024] [--runs 3]
        [--runtimes isoflow,isoflow-framed,workerd,deno,bun] [--offline]

Every runtime serves bench/compare/worker.mjs; the upstream is bench/compare/upstream.py in a
process of its own. Measured for each runtime:
  1. proxied download (`/proxy`: `return fetch(upstream)`) of each size in MiB, read by curl:
     MB/s (median of --runs) and CPU per MB of all the runtime's processes (the upstream and
     the client excluded), for isoflow split between its front and its workers;
  2. forwarded upload (`/upload`: `fetch(sink, {method: "POST", body: request.body})` with the
     request's Content-Length) of the largest size, sent by curl; the sink's count is checked;
     then the same sent in chunks (no Content-Length; the script forwards it in chunks);
  3. a slow client: a 256 MiB proxied body read at --slow-rate MB/s for --slow-seconds over a
     socket with a 64 KiB receive buffer, while the RSS of the runtime's processes is sampled:
     the growth (peak - start) in MB.
"isoflow" is `isoflow serve` as it is; "isoflow-framed" adds `--no-relay` (the frame path),
measured only if `isoflow serve --help` offers it. isoflow runs with `--max-body-size 0` and
Bun with `maxRequestBodySize` raised, so that the upload is not refused (both cap bodies at
about 100 MiB by default). Prints a table and writes it to bench/relay-RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "compare"))  # run.py's helpers

from measure import TreeSampler, cpu_seconds, descendants, download_rate, median
from run import attempt, fmt, machine_facts, markdown_table, plain_table
from runtimes import PEERS, REPO, Runtime, install_peers, isoflow_runtime

from tests.processes import free_port, serving, stop_servers_on_sigterm

MB = 1e6
MIB = 1 << 20
SLOW_SIZE = 256 * MIB
TARGET_GROWTH = 8.0  # MB: isoflow's bound on the slow client's RSS growth
ISOFLOW_ARGS = ["--max-body-size", "0", "--wall-time", "300"]  # a 1 GiB upload; its head waits
NO_RELAY = "--no-relay"
OUTPUT = REPO / "bench" / "relay-RESULTS.md"
ALL = ["isoflow", "isoflow-framed", *PEERS]


@dataclass
class Variant:
    """One column: a runtime and how it is launched."""

    label: str
    runtime: Runtime


@dataclass
class Outcome:
    variant: Variant
    values: dict[str, float] = field(default_factory=dict)
    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.variant.label


# --- processes and their CPU ------------------------------------------------------------

def _argv(pid: int) -> list[str]:
    """The words of a process's command line (a worker forked by the zygote has its title
    set as one string)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.replace(b"\0", b" ").decode(errors="replace").split()


def roles(pids: list[int]) -> dict[int, str]:
    """isoflow's processes by role: "front" (the supervisor when it is the only front, or a
    front of many), "supervisor" (the main process of many fronts), "worker" (workers and
    zygotes); any other process is "process"."""
    argvs = {p: _argv(p) for p in pids}
    many_fronts = any("--front" in a for a in argvs.values())
    out = {}
    for p, argv in argvs.items():
        if any(a.startswith("isoflow.isolate_worker") for a in argv):
            out[p] = "worker"
        elif "isoflow.supervisor" in argv:
            out[p] = "front" if "--front" in argv or not many_fronts else "supervisor"
        else:
            out[p] = "process"
    return out


class CpuMeter:
    """CPU seconds used by a process tree since it was made, by role."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.before = {p: cpu_seconds(p) for p in descendants(root)}

    def split(self) -> dict[str, float]:
        pids = descendants(self.root)
        out: dict[str, float] = {}
        for p, role in roles(pids).items():
            out[role] = out.get(role, 0.0) + cpu_seconds(p) - self.before.get(p, 0.0)
        return out


def record_cpu(outcome: Outcome, key: str, split: dict[str, float], megabytes: float) -> str:
    """Stores CPU µs per MB (total, and by role for isoflow); returns them as text."""
    per_mb = {role: cpu / megabytes * 1e6 for role, cpu in split.items()}
    outcome.values[f"{key}_cpu"] = sum(per_mb.values())
    if outcome.variant.runtime.name == "isoflow":
        outcome.values[f"{key}_cpu_front"] = per_mb.get("front", 0) + per_mb.get("supervisor", 0)
        outcome.values[f"{key}_cpu_worker"] = per_mb.get("worker", 0)
    text = f"{sum(per_mb.values()):,.0f} µs CPU/MB"
    if len(per_mb) > 1:
        text += " (" + ", ".join(f"{r} {v:,.0f}" for r, v in sorted(per_mb.items())) + ")"
    return text


# --- the measures -----------------------------------------------------------------------

def proxied(outcome: Outcome, base: str, upstream: str, size_mib: int, runs: int,
            pid: int) -> None:
    size = size_mib * MIB
    url = f"{base}/proxy?upstream={upstream}/bytes%3Fn%3D{{n}}"
    timeout = 30 + size / 10e6
    warm = min(size, 128 * MIB)
    download_rate(url.format(n=warm), warm, timeout)
    meter = CpuMeter(pid)  # over all the runs: /proc counts in 10 ms ticks
    rates = [download_rate(url.format(n=size), size, timeout) for _ in range(runs)]
    key = f"down{size_mib}"
    cpu = record_cpu(outcome, key, meter.split(), runs * size / MB)
    outcome.runs[key] = rates
    outcome.values[key] = median(rates)
    print(f"  proxied {size_mib} MiB: {median(rates):,.0f} MB/s "
          f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}), {cpu}", flush=True)


def post_file(url: str, path: Path, size: int, timeout: float,
              chunked: bool = False) -> tuple[float, str]:
    """POSTs the file with its Content-Length (``chunked``: in chunks instead; curl, no
    Expect: 100-continue); checks that the answer is 200 with the count ``size``; returns
    MB/s and the sink's X-Sink-Framing."""
    framing = ["-H", "Transfer-Encoding: chunked"] if chunked else []
    out = subprocess.run(
        ["curl", "-sS", "-i", "-T", str(path), "-X", "POST", "-H", "Expect:", *framing,
         "-H", "Content-Type: application/octet-stream", "--max-time", f"{timeout:g}",
         "--speed-limit", "1024", "--speed-time", "10",
         "-w", "\n%{http_code} %{size_upload} %{time_total}", url],
        capture_output=True, timeout=timeout + 10,
    )
    answer, _, written = out.stdout.decode(errors="replace").rpartition("\n")
    head, _, body = answer.partition("\r\n\r\n")
    parts = written.split()
    sent = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else -1
    if (out.returncode != 0 or len(parts) != 3 or parts[0] != "200"
            or not (sent >= size if chunked else sent == size)  # curl counts chunk framing
            or body.strip() != str(size)):
        stderr = out.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"upload of {size} bytes to {url} failed: {written!r} {stderr!r}; "
                           f"answer {body[:200]!r} (expected 200 and the count {size})")
    framing = next((line.split(":", 1)[1].strip() for line in head.splitlines()
                    if line.lower().startswith("x-sink-framing:")), "?")
    return size / float(parts[2]) / MB, framing


def upload(outcome: Outcome, base: str, upstream: str, size_mib: int, runs: int, pid: int,
           files: Callable[[int], Path], chunked: bool = False) -> None:
    """The forwarded upload, sent with its Content-Length or (``chunked``) in chunks, which
    the script forwards in chunks."""
    key, expected = ("upc", "chunked") if chunked else ("up", "length")
    size = size_mib * MIB
    url = f"{base}/upload?upstream={upstream}/sink"
    timeout = 30 + size / 10e6
    warm = min(size, 64 * MIB)
    post_file(url, files(warm), warm, timeout, chunked)
    meter = CpuMeter(pid)
    results = [post_file(url, files(size), size, timeout, chunked) for _ in range(runs)]
    rates = [rate for rate, _ in results]
    cpu = record_cpu(outcome, key, meter.split(), runs * size / MB)
    framings = sorted({framing for _, framing in results})
    if framings != [expected]:
        outcome.notes.append(f"{key}: the sink got the body {' / '.join(framings)} "
                             f"(not {expected})")
    outcome.runs[key] = rates
    outcome.values[key] = median(rates)
    print(f"  upload {size_mib} MiB{' chunked' if chunked else ''}: {median(rates):,.0f} MB/s "
          f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}), {cpu}; the sink counted every "
          f"byte ({', '.join(framings)})", flush=True)


def read_slowly(port: int, path: str, rate: float, seconds: float) -> int:
    """GETs ``path`` over a socket with a 64 KiB receive buffer and reads its body at ``rate``
    MB/s for ``seconds`` (or to its end), then closes; returns the body bytes read."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        sock.settimeout(15)
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
            raise RuntimeError(f"slow client: no 200 from {path}: {head[:200]!r}")
        total = len(head.partition(b"\r\n\r\n")[2])
        start = time.monotonic()
        deadline = start + seconds
        while (now := time.monotonic()) < deadline:
            wait = start + total / (rate * MB) - now
            if wait > 0:
                time.sleep(min(wait, deadline - now))
                continue
            data = sock.recv(16 << 10)
            if not data:
                break
            total += len(data)
    return total


def slow_client(outcome: Outcome, port: int, upstream: str, pid: int,
                args: argparse.Namespace) -> None:
    path = f"/proxy?upstream={upstream}/bytes%3Fn%3D{SLOW_SIZE}"
    time.sleep(0.5)  # the memory of the transfer before settles
    sampler = TreeSampler(pid, interval=0.02, rescan=0.25)
    sampler.snapshot_idle()
    with sampler:
        got = read_slowly(port, path, args.slow_rate, args.slow_seconds)
    memory = sampler.memory
    growth = (memory.peak_total - memory.idle_total) / MB
    expected = args.slow_rate * MB * args.slow_seconds
    if got < 0.5 * expected:
        outcome.notes.append(f"slow client: read only {got / MB:.1f} MB of the "
                             f"{expected / MB:.0f} MB it was paced for")
    outcome.values["slow_growth"] = growth
    grown: dict[str, float] = {}
    for p, role in roles(list(memory.peak)).items():
        name = memory.labels.get(p, str(p)) if role == "process" else role
        grown[name] = grown.get(name, 0.0) + (memory.peak[p] - memory.idle.get(p, 0)) / MB
    by_process = ", ".join(f"{name} +{mb:.1f}" for name, mb in grown.items())
    outcome.notes.append(f"slow client: read {got / MB:.0f} MB; RSS growth by process (MB): "
                         f"{by_process}")
    target = ""
    if outcome.variant.runtime.name == "isoflow":
        target = f"; target < {TARGET_GROWTH:g} MB " + ("met" if growth < TARGET_GROWTH
                                                         else "MISSED")
    print(f"  slow client: read {got / MB:.0f} MB in {args.slow_seconds:g} s, RSS growth "
          f"{growth:.1f} MB ({by_process}){target}", flush=True)


# --- one runtime ------------------------------------------------------------------------

BUN_MAIN = """\
import worker from "./worker.mjs";
Bun.serve({{ hostname: "127.0.0.1", port: {port}, fetch: worker.fetch,
             maxRequestBodySize: 2 ** 40 }});
"""


def launch(variant: Variant, workdir: Path, port: int) -> list[str]:
    command = variant.runtime.prepare(workdir, port)
    if variant.runtime.name == "bun":  # its 128 MiB default refuses the upload
        (workdir / "bun-main.mjs").write_text(BUN_MAIN.format(port=port))
    return command


def measure_variant(variant: Variant, args: argparse.Namespace, upstream: str,
                    files: Callable[[int], Path]) -> Outcome:
    outcome = Outcome(variant)
    runtime = variant.runtime
    with tempfile.TemporaryDirectory(prefix=f"relay-{variant.label}-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = launch(variant, workdir, port)
        print(f"\n== {variant.label} {runtime.version}\n   {shlex.join(command)}", flush=True)
        with serving(command, port, workdir / "server.log", cwd=workdir) as server:
            urllib.request.urlopen(f"{base}/", timeout=30).read()
            time.sleep(0.5)
            pid = server.pid
            for size in args.sizes:
                attempt(outcome, f"proxied {size} MiB", lambda size=size: proxied(
                    outcome, base, upstream, size, args.runs, pid))
            attempt(outcome, "slow client", lambda: slow_client(
                outcome, port, upstream, pid, args))
            attempt(outcome, "upload", lambda: upload(
                outcome, base, upstream, args.upload, args.runs, pid, files))
            attempt(outcome, "chunked upload", lambda: upload(
                outcome, base, upstream, args.upload, args.runs, pid, files, chunked=True))
            if server.proc.poll() is not None:
                outcome.notes.append("the server exited during the runs "
                                     f"(code {server.proc.returncode})")
    return outcome


# --- the report -------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    key: str
    label: str
    higher_is_better: bool
    digits: int = 0
    floor: float = 0.0  # no ratio when a value is below it (noise)


def rows_for(args: argparse.Namespace) -> list[Row]:
    rows = []
    for size in args.sizes:
        k = f"down{size}"
        rows += [Row(k, f"proxied {size} MiB: MB/s", True),
                 Row(f"{k}_cpu", f"proxied {size} MiB: CPU per MB (µs, all processes)", False),
                 Row(f"{k}_cpu_front", "  of which isoflow's front", False),
                 Row(f"{k}_cpu_worker", "  of which isoflow's workers", False)]
    rows += [Row("up", f"upload {args.upload} MiB: MB/s", True),
             Row("up_cpu", f"upload {args.upload} MiB: CPU per MB (µs, all processes)", False),
             Row("up_cpu_front", "  of which isoflow's front", False),
             Row("up_cpu_worker", "  of which isoflow's workers", False),
             Row("upc", f"upload {args.upload} MiB, chunked: MB/s", True),
             Row("upc_cpu", f"upload {args.upload} MiB, chunked: CPU per MB (µs, all "
                 "processes)", False),
             Row("upc_cpu_front", "  of which isoflow's front", False),
             Row("upc_cpu_worker", "  of which isoflow's workers", False),
             Row("slow_growth", f"slow client ({args.slow_rate:g} MB/s, "
                 f"{args.slow_seconds:g} s): RSS growth (MB)", False, 1, 1.0)]
    return rows


def table(outcomes: list[Outcome], args: argparse.Namespace) -> tuple[list[str], list[list[str]]]:
    by = {o.label: o for o in outcomes}
    iso, framed = by.get("isoflow"), by.get("isoflow-framed")
    peers = [o for o in outcomes if o.variant.runtime.name != "isoflow"]
    header = ["measure", *(o.label for o in outcomes), "better"]
    if iso and peers:
        header.append("isoflow ÷ best peer")
    if iso and framed:
        header.append("isoflow ÷ isoflow-framed")
    rows = []
    for r in rows_for(args):
        row = [r.label, *(fmt(o.values.get(r.key), r.digits) for o in outcomes),
               "higher" if r.higher_is_better else "lower"]
        a = iso.values.get(r.key) if iso else None
        a = None if a is None or a < r.floor else a
        if iso and peers:
            known = [(o.values[r.key], o.label) for o in peers if o.values.get(r.key)]
            best = (max if r.higher_is_better else min)(known, default=None)
            row.append(f"{a / best[0]:.2f}x ({best[1]})"
                       if a is not None and best and best[0] >= r.floor else "-")
        if iso and framed:
            b = framed.values.get(r.key)
            row.append(f"{a / b:.2f}x" if a is not None and b and b >= r.floor else "-")
        rows.append(row)
    return header, rows


def facts(args: argparse.Namespace) -> list[str]:
    try:
        return machine_facts(args.start_load)
    except OSError:  # wrk (which run.py's facts name) is not installed
        load = ", ".join(f"{x:.2f}" for x in args.start_load)
        return [f"{os.cpu_count()} cores; load average before the run {load}"]


def report(outcomes: list[Outcome], args: argparse.Namespace, messages: list[str],
           direct: dict[str, float], command: str) -> str:
    header, rows = table(outcomes, args)
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    directly = "; ".join(f"{k} {v:,.0f} MB/s" for k, v in direct.items())
    out = [
        "# Proxied bodies: isoflow's relay beside workerd, Deno and Bun",
        "",
        f"Measured {today} with `{command}`.",
        "",
        *(f"- {fact}" for fact in facts(args)),
        *(f"- {o.label} {o.variant.runtime.version}: {o.variant.runtime.notes}"
          + (f"; `{shlex.join(o.variant.runtime.extra_args)}`"
             if o.variant.runtime.extra_args else "") for o in outcomes),
        f"- the upstream (bench/compare/upstream.py, aiohttp, its own process) by curl "
        f"directly: {directly or 'not measured'}",
        "",
        markdown_table(header, rows),
        "",
        "How it was measured: every runtime served the same `bench/compare/worker.mjs` on "
        "127.0.0.1, one at a time, on the same cores as the upstream and the client. Proxied: "
        "`/proxy`, `return fetch(upstream)`, read by `curl -o /dev/null` (MB = 10^6 bytes), "
        f"median of {args.runs} run(s) after a warm-up; CPU per MB is the user+system time of "
        "all the runtime's processes over those runs (the upstream and curl excluded). Upload: "
        f"`/upload`, {args.upload} MiB POSTed by `curl -T` with its Content-Length to a script "
        "that forwards `request.body` to the upstream's `/sink`, which counts it (checked). "
        f"Slow client: a {SLOW_SIZE >> 20} MiB proxied body read at {args.slow_rate:g} MB/s "
        f"for {args.slow_seconds:g} s through a 64 KiB receive buffer, then closed; RSS growth "
        "is the sum over the runtime's processes of each one's peak (sampled every 20 ms) "
        f"minus its RSS before the request (isoflow's target: under {TARGET_GROWTH:g} MB).",
        "",
        "## Details",
        "",
    ]
    names = {r.key: r.label.split(":")[0] for r in rows_for(args)}
    for o in outcomes:
        runs = "; ".join(f"{names.get(k, k)}: " + ", ".join(f"{v:,.0f}" for v in vs)
                         for k, vs in o.runs.items())
        out.append(f"- **{o.label}** MB/s by run: {runs or 'none'}")
        out += [f"  - {note}" for note in o.notes]
    out += [f"- {m}" for m in messages]
    return "\n".join(out) + "\n"


# --- main -------------------------------------------------------------------------------

def relay_switch() -> bool:
    """Whether this isoflow's `serve` has ``--no-relay`` (the frame path, switchable)."""
    try:
        out = subprocess.run([sys.executable, "-m", "isoflow.supervisor", "serve", "--help"],
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False
    return NO_RELAY in out.stdout


def variants(names: list[str], args: argparse.Namespace) -> tuple[list[Variant], list[str]]:
    """The columns to measure, in the order asked; messages about those left out."""
    peers, messages = install_peers([n for n in names if n in PEERS], args.offline)
    found = {r.name: Variant(r.name, r) for r in peers}
    if {"isoflow", "isoflow-framed"} & set(names):
        iso = isoflow_runtime(args.workers, [*ISOFLOW_ARGS, *args.isoflow_arg])
        if iso.fetch_mode != "flag":
            messages.append("skipping isoflow: this isoflow has no --allow-fetch-to, its fetch() "
                            "cannot reach the loopback upstream with these options")
        else:
            found["isoflow"] = Variant("isoflow", iso)
            if relay_switch():
                framed = dataclasses.replace(iso, extra_args=[*iso.extra_args, NO_RELAY])
                found["isoflow-framed"] = Variant("isoflow-framed", framed)
            elif "isoflow-framed" in names:
                messages.append(f"isoflow-framed not measured: `isoflow serve` has no "
                                f"{NO_RELAY} yet (no relay to switch off), so the one isoflow "
                                "measured is today's frame path")
    return [found[n] for n in names if n in found], messages


def sparse_files(folder: Path) -> Callable[[int], Path]:
    """Files of N zero bytes (sparse: no disk written), made once each and read once, so that
    curl reads them from the page cache (the first read of a hole costs the reader 3-5x)."""
    def get(size: int) -> Path:
        path = folder / f"zeros-{size}"
        if not path.exists():
            with open(path, "wb") as f:
                f.truncate(size)
            with open(path, "rb", buffering=0) as f:
                block = bytearray(MIB)
                while f.readinto(block):
                    pass
        return path
    return get


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1024", help="MiB of the proxied bodies")
    parser.add_argument("--runs", type=int, default=3, help="runs of each transfer (median)")
    parser.add_argument("--runtimes", default=",".join(ALL),
                        help="comma-separated, in the order to run (default: all)")
    parser.add_argument("--offline", action="store_true", help="do not call npm")
    parser.add_argument("--upload", type=int, help="MiB uploaded (default: the largest size)")
    parser.add_argument("--slow-rate", type=float, default=8.0, help="slow client's MB/s")
    parser.add_argument("--slow-seconds", type=float, default=10.0, help="slow client's time")
    parser.add_argument("--workers", type=int, default=2, help="isoflow worker processes")
    parser.add_argument("--isoflow-arg", action="append", default=[],
                        help="extra option for `isoflow serve` (repeatable)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="Markdown report ('-' to skip)")
    args = parser.parse_args()
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes: comma-separated whole MiB")
    args.upload = args.upload or max(args.sizes, default=0)
    if (not args.sizes or min(args.sizes) < 1 or args.runs < 1 or args.workers < 1
            or args.upload < 1 or args.slow_rate <= 0 or not 0 < args.slow_seconds <= 60):
        parser.error("sizes, --runs, --workers, --upload, --slow-rate must be > 0, "
                     "--slow-seconds in (0, 60]")
    args.names = [n.strip() for n in args.runtimes.split(",") if n.strip()]
    unknown = set(args.names) - set(ALL)
    if unknown:
        parser.error(f"unknown runtimes: {', '.join(sorted(unknown))} (known: {', '.join(ALL)})")
    args.start_load = os.getloadavg()
    return args


def main() -> None:
    stop_servers_on_sigterm()
    args = parse_args()
    command = "python bench/relay.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    chosen, messages = variants(args.names, args)
    for m in messages:
        print(m, flush=True)

    outcomes: list[Outcome] = []
    direct: dict[str, float] = {}
    up_port = free_port()
    with tempfile.TemporaryDirectory(prefix="relay-") as tmp, serving(
        [sys.executable, str(REPO / "bench" / "compare" / "upstream.py"), "--port", str(up_port)],
        up_port, Path(tmp) / "upstream.log",
    ) as upstream_proc:
        upstream = f"http://127.0.0.1:{up_port}"
        files = sparse_files(Path(tmp))
        try:
            for size in args.sizes:
                n = size * MIB
                direct[f"GET {size} MiB"] = median(
                    [download_rate(f"{upstream}/bytes?n={n}", n) for _ in range(3)])
            n = args.upload * MIB
            post_file(f"{upstream}/sink", files(8 * MIB), 8 * MIB, 60)  # warm-up
            direct[f"POST {args.upload} MiB"] = median(
                [post_file(f"{upstream}/sink", files(n), n, 30 + n / 10e6)[0] for _ in range(3)])
            shown = "; ".join(f"{k} {v:,.0f} MB/s" for k, v in direct.items())
            print(f"upstream directly: {shown}", flush=True)
        except Exception as exc:  # the figures of the runtimes still mean something
            messages.append(f"the upstream measured directly failed: {exc}")
        for variant in chosen:
            try:
                outcome = measure_variant(variant, args, upstream, files)
            except Exception as exc:  # it did not start: say so, go on with the others
                print(f"  {variant.label} FAILED: {exc}", flush=True)
                lines = str(exc).strip().splitlines() or [type(exc).__name__]
                why = lines[0][:200] + (f" ... {lines[-1][:300]}" if len(lines) > 1 else "")
                outcome = Outcome(variant, notes=[f"did not run: {why}"])
            outcomes.append(outcome)
            leftovers = [p for p in descendants(os.getpid())[1:] if p != upstream_proc.pid]
            if leftovers:
                print(f"warning: processes left behind: {leftovers}", flush=True)

    header, rows = table(outcomes, args)
    print("\n" + plain_table(header, rows))
    for o in outcomes:
        for note in o.notes:
            print(f"note: {o.label}: {note}")
    for m in messages:
        print(f"note: {m}")
    if str(args.output) != "-":
        args.output.write_text(report(outcomes, args, messages, direct, command))
        shown = args.output.relative_to(REPO) if args.output.is_relative_to(REPO) else args.output
        print(f"\nwrote {shown}")


if __name__ == "__main__":
    main()
