"""Proxy a large body from a local upstream through isoflow: MB/s and peak RSS per process.

    python bench/proxy.py [--megabytes 100] [--runs 3]

The worker does `return fetch(upstream)`: the body is forwarded natively (it never enters
V8). The upstream is bench/compare/upstream.py in a process of its own; the client reads
and discards. Prints the median MB/s and each process's peak RSS and growth.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from _harness import RssSampler, download, isoflow, upstream

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
    args = parser.parse_args()
    size = args.megabytes << 20
    with upstream() as up, isoflow(SCRIPT, "--allow-fetch-to", "loopback",
                                   workers=args.workers) as srv:
        url = f"{srv['url']}/?n={size}&up={up}"
        asyncio.run(download(f"{srv['url']}/?n={1 << 20}&up={up}"))
        rates = []
        with RssSampler(srv["pid"]) as mem:
            for _ in range(args.runs):
                total, elapsed = asyncio.run(download(url))
                assert total == size, (total, size)
                rates.append(total / elapsed / 1e6)
        print(f"proxied {args.megabytes} MiB: {statistics.median(rates):,.0f} MB/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
        print(f"peak RSS: {mem.report()}")


if __name__ == "__main__":
    main()
