"""Proxy a large body from a local upstream through isoflow: MB/s, CPU per MB and peak RSS.

    python bench/proxy.py [--megabytes 100] [--runs 3] [--tls] [--no-relay]

The worker does `return fetch(upstream)`: the body is forwarded natively (it never enters
V8). The upstream is bench/compare/upstream.py in a process of its own; the client reads
and discards. Prints the median MB/s, the CPU µs per MB of isoflow's processes, and each
process's peak RSS and growth.

``--tls``: the upstream speaks HTTPS (a fresh self-signed certificate, which isoflow is told
to trust with ``SSL_CERT_FILE``), so the relay cannot take the body: the worker decrypts it
and, past 128 KiB, writes it into the client's socket itself. ``--no-relay`` turns both
off (every byte as frames): run with and without it to compare the paths.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from _harness import RssSampler, download, isoflow, upstream

from tests.certs import make_cert
from tests.procstats import descendants

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """User + system CPU ticks of ``pid`` and its descendants."""
    total = 0
    for p in descendants(pid):  # pid first
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


SCRIPT = """
export default {
  fetch(request) {
    const url = new URL(request.url);
    return fetch(`${url.searchParams.get("up")}/bytes?n=${url.searchParams.get("n")}`);
  },
};
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tls", action="store_true", help="an HTTPS upstream")
    parser.add_argument("--no-relay", action="store_true", help="isoflow's --no-relay")
    args = parser.parse_args()
    size = args.megabytes << 20
    with tempfile.TemporaryDirectory(prefix="isoflow-bench-") as directory:
        tls = None
        if args.tls:
            make_cert(Path(directory))
            tls = Path(directory) / "cert.pem", Path(directory) / "key.pem"
        measure(args, size, tls)


def measure(args: argparse.Namespace, size: int, tls: tuple[Path, Path] | None) -> None:
    env = {"SSL_CERT_FILE": str(tls[0])} if tls else None
    extra = ["--no-relay"] if args.no_relay else []
    with upstream(tls) as up, isoflow(SCRIPT, "--allow-fetch-to", "loopback", *extra,
                                      workers=args.workers, env=env) as srv:
        url = f"{srv['url']}/?n={size}&up={up}"
        asyncio.run(download(f"{srv['url']}/?n={1 << 20}&up={up}"))
        rates = []
        ticks = cpu_ticks(srv["pid"])
        with RssSampler(srv["pid"]) as mem:
            for _ in range(args.runs):
                total, elapsed = asyncio.run(download(url))
                assert total == size, (total, size)
                rates.append(total / elapsed / 1e6)
        used = (cpu_ticks(srv["pid"]) - ticks) / TICK
        what = ("from a TLS upstream" if tls else "") + (" as frames" if args.no_relay else "")
        print(f"proxied {args.megabytes} MiB{' ' + what.strip() if what else ''}: "
              f"{statistics.median(rates):,.0f} MB/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}), "
              f"{used * 1e6 / (args.runs * size / 1e6):,.0f} µs of isoflow's CPU per MB")
        print(f"peak RSS: {mem.report()}")


if __name__ == "__main__":
    main()
