"""Backpressure, measured: a slow consumer, bounded memory, a stalled producer.

Shared by tests/integration/test_backpressure.py (scaled down) and bench/backpressure.py
(100 MB at 1 MB/s). A case serves SCRIPT's path for it while a client reads slowly (or
uploads at full speed to a script that reads slowly), sampling the RSS of the supervisor
and the worker and polling how far the producer got.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request

from tests.procstats import RssSampler
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
        return fetch(`${up}/stream/${size}?name=proxied&sndbuf=65536`);
      case "/transformed": {
        const r = await fetch(`${up}/stream/${size}?name=transformed&sndbuf=65536`);
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
    """POST ``size`` bytes as fast as the server takes them; the response goes to
    ``progress[1]``."""
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
    response = b""
    while chunk := sock.recv(65536):
        response += chunk
    progress[1:] = [response]
    sock.close()


def poll_producer(base: str, case: str, up: Upstream | None) -> int:
    if case in ("proxied", "transformed"):
        assert up is not None
        return up.sent.get(case, 0)
    with urllib.request.urlopen(f"{base}/progress") as r:
        data = json.loads(r.read())
    return data["produced"] if case == "generated" else data["consumed"]


def run_case(base: str, pid: int, up: Upstream, case: str, size: int, rate: float) -> dict:
    """Run one case against the isoflow at ``base`` (supervisor pid ``pid``).

    A 1 MB run of the same case comes first, at full speed: memory is measured from the
    steady state, not from a worker that has yet to load the code of that path (aiohttp's
    client is imported on the first fetch()).
    """
    port = int(base.rsplit(":", 1)[1])
    warm_up = f"/{case}?size={1 << 20}&up={up.url('')}&rate=1000"
    if case == "upload":
        upload_fast(port, warm_up, 1 << 20, [0])
    else:
        read_slowly(port, warm_up, 1 << 20, 1000.0, [0])
    progress = [0]
    path = f"/{case}?size={size}&up={up.url('')}&rate={rate}"
    if case == "upload":
        worker = threading.Thread(target=upload_fast, args=(port, path, size, progress))
    else:
        worker = threading.Thread(target=read_slowly, args=(port, path, size, rate, progress))
    lead = 0
    with RssSampler(pid, interval=0.05) as mem:
        worker.start()
        while worker.is_alive():
            time.sleep(0.25)
            with contextlib.suppress(OSError):
                producer = poll_producer(base, case, up)
                if case == "upload":  # the client produces, the script consumes
                    lead = max(lead, progress[0] - producer)
                else:
                    lead = max(lead, producer - progress[0])
        worker.join()
    # An upload is complete when the script says it consumed every byte.
    complete = (progress[0] >= size if case != "upload"
                else len(progress) > 1 and progress[1].endswith(str(size).encode()))
    return {"case": case, "bytes": progress[0], "complete": complete, "lead_mb": lead / 2**20,
            "growth_mb": mem.growth_mb()}
