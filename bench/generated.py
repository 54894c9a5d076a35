"""A response body generated in JavaScript, 64 KiB chunks, read by a local client.

    python bench/generated.py [--megabytes 100] [--runs 3]

Prints MB/s (median of runs) and the peak RSS of the supervisor and each worker, with
the growth over their idle size: it must not grow with the body size.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from _harness import RssSampler, download, isoflow

SCRIPT = """
export default {
  fetch(request) {
    const total = Number(new URL(request.url).searchParams.get("bytes"));
    const chunk = new Uint8Array(65536).fill(120);
    let sent = 0;
    return new Response(new ReadableStream({
      type: "bytes",
      pull(controller) {
        if (sent >= total) return controller.close();
        const n = Math.min(chunk.length, total - sent);
        controller.enqueue(chunk.slice(0, n));
        sent += n;
      },
    }));
  },
};
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = args.megabytes << 20
    with isoflow(SCRIPT, workers=1) as srv:
        asyncio.run(download(f"{srv['url']}/?bytes={1 << 20}"))  # warm up
        rates = []
        with RssSampler(srv["pid"]) as mem:
            for _ in range(args.runs):
                total, elapsed = asyncio.run(download(f"{srv['url']}/?bytes={size}"))
                assert total == size, (total, size)
                rates.append(total / elapsed / 1e6)
        print(f"generated {args.megabytes} MiB: {statistics.median(rates):,.0f} MB/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
        print(f"peak RSS: {mem.report()}")


if __name__ == "__main__":
    main()
