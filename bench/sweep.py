"""Sweep the credit windows: throughput and memory for each, to choose the defaults.

    python bench/sweep.py [--megabytes 100] [--windows 16K,64K,256K,1M,4M]

For every response window (the credit a supervisor grants a worker per stream; the request
window follows it) it serves one script through a config file and measures, over one
worker, a generated 64 KiB-chunk stream and a proxied upstream body: median MB/s and the
peak RSS growth of the supervisor and the worker. The chunk a worker sends at once is
min(window, 256 KiB).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from _harness import ISOFLOW, RssSampler, download, free_port, serving, upstream

SCRIPT = """
export default {
  fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    if (url.pathname === "/proxied") return fetch(`${url.searchParams.get("up")}/bytes?n=${n}`);
    const chunk = new Uint8Array(65536).fill(120);
    let sent = 0;
    return new Response(new ReadableStream({
      type: "bytes",
      pull(c) {
        if (sent >= n) return c.close();
        c.enqueue(chunk.slice(0, Math.min(65536, n - sent)));
        sent += 65536;
      },
    }));
  },
};
"""

CONFIG = """
[server]
response_window = {window}
request_window = {window}

[log]
level = "warning"
access_log = false

[fetch]
allow_loopback = true

[[listeners]]
host = "127.0.0.1"
port = {port}

[scripts.bench]
path = "bench.mjs"
workers = 1

[[routes]]
script = "bench"
"""


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


async def rate(url: str) -> float:
    total, seconds = await download(url)
    return total / seconds / 1e6


def measure(window: int, size: int, upstream: str, runs: int) -> dict[str, tuple[float, str]]:
    with tempfile.TemporaryDirectory(prefix="isoflow-sweep-") as directory:
        return measure_in(Path(directory), window, size, upstream, runs)


def measure_in(tmp: Path, window: int, size: int, upstream: str,
               runs: int) -> dict[str, tuple[float, str]]:
    (tmp / "bench.mjs").write_text(SCRIPT)
    port = free_port()
    (tmp / "isoflow.toml").write_text(CONFIG.format(window=window, port=port))
    out: dict[str, tuple[float, str]] = {}
    with serving([*ISOFLOW, "serve", "--config", str(tmp / "isoflow.toml")], port,
                 tmp / "log.txt") as server:
        time.sleep(0.5)
        base = f"http://127.0.0.1:{port}"
        for case in ("generated", "proxied"):
            url = f"{base}/{case}?n={size}&up={upstream}"
            asyncio.run(rate(f"{base}/{case}?n={1 << 20}&up={upstream}"))
            with RssSampler(server.pid) as mem:
                rates = [asyncio.run(rate(url)) for _ in range(runs)]
            growth = "/".join(f"+{g:.1f}" for g in mem.growth_mb().values())
            out[case] = (statistics.median(rates), growth)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--windows", default="16K,64K,256K,1M,4M")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with upstream() as up:
        print(f"{'window':>8} | {'generated MB/s':>14} | {'RSS growth MB':>13} | "
              f"{'proxied MB/s':>12} | {'RSS growth MB':>13}")
        for text in args.windows.split(","):
            r = measure(parse_size(text), args.megabytes << 20, up, args.runs)
            print(f"{text:>8} | {r['generated'][0]:>14,.0f} | {r['generated'][1]:>13} | "
                  f"{r['proxied'][0]:>12,.0f} | {r['proxied'][1]:>13}")


if __name__ == "__main__":
    main()
