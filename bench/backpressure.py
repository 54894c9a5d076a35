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
import contextlib
import json
import socket
import threading
import time

from _harness import REPO, RssSampler, isoflow  # noqa: F401 - REPO puts tests/ on the path

from tests.upstream import Upstream

SCRIPT = r"""
let produced = 0;
let consumed = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const size = Number(url.searchParams.get("size"));
    const up = url.searchParams.get("up");
    switch (url.pathname) {
      case "/progress":
        return Response.json({ produced, consumed });
      case "/generated": {
        produced = 0;
        const chunk = new Uint8Array(65536).fill(120);
        return new Response(new ReadableStream({
          type: "bytes",
          pull(c) {
            if (produced >= size) return c.close();
            c.enqueue(chunk.slice());
            produced += chunk.length;
          },
        }));
      }
      case "/proxied":
        return fetch(`${up}/stream/${size}?name=proxied`);
      case "/transformed": {
        const r = await fetch(`${up}/stream/${size}?name=transformed`);
        return new Response(r.body.pipeThrough(new TransformStream()));
      }
      case "/upload": {
        consumed = 0;
        const rate = Number(url.searchParams.get("rate")) * 1e6;
        const started = Date.now();
        const reader = request.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          consumed += value.length;
          const due = started + (consumed / rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        return new Response(String(consumed));
      }
    }
    return new Response("?", { status: 404 });
  },
};
"""


def read_slowly(port: int, path: str, size: int, rate: float, progress: list[int]) -> None:
    """GET ``path`` and read the body at ``rate`` MB/s; progress[0] counts body bytes."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    body_start = len(head.partition(b"\r\n\r\n")[2])
    total = body_start
    started = time.monotonic()
    while True:
        data = sock.recv(16 << 10)
        if not data:
            break
        total += len(data)
        progress[0] = total
        due = started + total / (rate * 1e6)
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    sock.close()


def upload_fast(port: int, path: str, size: int, progress: list[int]) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
                 "Connection: close\r\n\r\n".encode())
    block = b"u" * (64 << 10)
    sent = 0
    while sent < size:
        n = sock.send(block[: min(len(block), size - sent)])
        sent += n
        progress[0] = sent
    while sock.recv(65536):
        pass
    sock.close()


def poll_producer(base: str, case: str, up: Upstream | None) -> int:
    import urllib.request

    if case in ("proxied", "transformed"):
        assert up is not None
        return up.sent.get(case, 0)
    with urllib.request.urlopen(f"{base}/progress") as r:
        data = json.loads(r.read())
    return data["produced"] if case == "generated" else data["consumed"]


def run_case(srv: dict, up: Upstream, case: str, size: int, rate: float) -> dict:
    port = int(srv["url"].rsplit(":", 1)[1])
    progress = [0]
    path = f"/{case}?size={size}&up={up.url('')}&rate={rate}"
    if case == "upload":
        worker = threading.Thread(target=upload_fast, args=(port, path, size, progress))
    else:
        worker = threading.Thread(target=read_slowly, args=(port, path, size, rate, progress))
    lead = 0
    with RssSampler(srv["pid"], interval=0.05) as mem:
        worker.start()
        while worker.is_alive():
            time.sleep(0.25)
            with contextlib.suppress(OSError):
                producer = poll_producer(srv["url"], case, up)
                if case == "upload":  # the client produces, the script consumes
                    lead = max(lead, progress[0] - producer)
                else:
                    lead = max(lead, producer - progress[0])
        worker.join()
    growth = {name: (mem.peak[p] - mem.baseline[p]) / 2**20
              for name, p in zip(mem_names(mem), mem.pids, strict=True)}
    return {"case": case, "bytes": progress[0], "lead_mb": lead / 2**20, "growth_mb": growth}


def mem_names(mem: RssSampler) -> list[str]:
    return ["supervisor", *[f"worker{i}" for i in range(1, len(mem.pids))]]


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
        with isoflow(SCRIPT, "--allow-fetch-to", "loopback", workers=1) as srv:
            for case in cases:
                r = run_case(srv, up, case, size, args.rate)
                growth = ", ".join(f"{k} +{v:.1f} MB" for k, v in r["growth_mb"].items())
                print(f"{case:12s} {r['bytes'] / 2**20:6.0f} MiB at {args.rate} MB/s: "
                      f"RSS growth {growth}; producer lead at most {r['lead_mb']:.1f} MB")
    finally:
        up.stop()


if __name__ == "__main__":
    main()
