"""Backpressure you can see: a slow client, a big body, bounded memory, a stalled producer.

    python bench/backpressure.py [--megabytes 100] [--rate 1] [--case generated ...]

For each case a client reads the response at ``--rate`` MB/s over a raw socket with a small
receive buffer while we sample the RSS of the supervisor and the worker every 50 ms; the
producer's progress (bytes the JavaScript stream produced, or bytes the upstream handed to
its socket) is polled at the same time. Cases:

  generated   a JS ReadableStream with pull(), 64 KiB chunks
  proxied     `return fetch(upstream)` (forwarded natively, outside V8)
  transformed fetch(upstream).body piped through a JS TransformStream
  upload      the client uploads at full speed; the script reads the body at --rate MB/s

It prints, per case, the peak RSS growth of each process over its size before the transfer,
and the largest lead of the producer over the consumer: with backpressure working, both stay
bounded (a few MB) whatever the body size.
"""

from __future__ import annotations

import argparse

from _harness import isoflow

from tests.backpressure import SCRIPT, run_case
from tests.upstream import Upstream


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1.0, help="client MB/s")
    parser.add_argument("--case", action="append",
                        choices=["generated", "proxied", "transformed", "upload"])
    args = parser.parse_args()
    cases = args.case or ["generated", "proxied", "transformed", "upload"]
    size = args.megabytes << 20
    up = Upstream().start()
    try:
        # The upload case answers only once it has read the whole body: at --rate that takes
        # longer than the default 30 s wall time to the response head.
        with isoflow(SCRIPT, "--allow-fetch-to", "loopback", "--wall-time", "3600",
                     workers=1) as srv:
            for case in cases:
                r = run_case(srv["url"], srv["pid"], up, case, size, args.rate)
                growth = ", ".join(f"{k} +{v:.1f} MB" for k, v in r["growth_mb"].items())
                done = "" if r["complete"] else " (INCOMPLETE)"
                print(f"{case:12s} {r['bytes'] / 2**20:6.0f} MiB{done} at {args.rate} MB/s: "
                      f"RSS growth {growth}; producer lead at most {r['lead_mb']:.1f} MB")
    finally:
        up.stop()


if __name__ == "__main__":
    main()
