"""From a chunk's `enqueue()` in JavaScript to the client: the streaming latency a script sees.

    .venv/bin/python bench/enqueue.py [--chunks 40] [--runs 3]

A script streams chunks from timers, each holding the `Date.now()` at which it was enqueued;
a client on a raw socket notes when each arrives (the same clock: both are the system's wall
clock). `Date.now()` has millisecond resolution and truncates, so the mean of (arrival -
stamp) is over by half a millisecond: the figures printed are corrected by it, so single
values mean little, means and medians over many chunks do. Chunks 100 ms apart (every
thread on the path asleep in between), 10 ms and 1 ms, the first of each response left out;
then the first chunk alone (enqueued while the request is handled, it leaves with the
response head), one request every 100 ms on a fresh connection.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time

from _harness import isoflow

SCRIPT = """
export default {
  fetch(request) {
    const query = new URL(request.url).searchParams;
    const chunks = Number(query.get("chunks")), ms = Number(query.get("ms"));
    const encoder = new TextEncoder();
    let sent = 0;
    return new Response(new ReadableStream({
      async pull(controller) {
        if (sent === chunks) return controller.close();
        if (sent > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        controller.enqueue(encoder.encode(`${Date.now()}\\n`));
        sent += 1;
      },
    }));
  },
};
"""


def delays(port: int, chunks: int, ms: int) -> list[float]:
    """Milliseconds from each chunk's stamp to its arrival (chunked body, read raw), the
    first chunk's included."""
    out: list[float] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET /?chunks={chunks}&ms={ms} HTTP/1.1\r\nHost: bench\r\n"
                     "Connection: close\r\n\r\n".encode())
        buf = b""
        head = True
        while True:
            data = sock.recv(65536)
            now = time.time() * 1000
            if not data:
                return out
            buf += data
            if head:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                buf, head = buf[end + 4:], False
            while (line := buf.find(b"\r\n")) >= 0:
                size = int(buf[:line], 16)
                if size == 0 or len(buf) < line + 2 + size + 2:
                    break
                chunk, buf = buf[line + 2:line + 2 + size], buf[line + 4 + size:]
                out += [now - int(stamp) - 0.5 for stamp in chunk.split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=40, help="per run at 100 ms apart")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with isoflow(SCRIPT, workers=1, name="enqueue.mjs") as server:
        port = int(server["url"].rsplit(":", 1)[1])
        delays(port, 3, 1)  # warm-up
        print("chunks apart   enqueue -> client, ms: mean  median  90th percentile")
        for ms, chunks in ((100, args.chunks), (10, args.chunks * 4), (1, args.chunks * 8)):
            for _ in range(args.runs):
                show(f"{ms:>6} ms", delays(port, chunks, ms)[1:])
        for _ in range(args.runs):
            first = []
            for _ in range(args.chunks):
                time.sleep(0.1)
                first += delays(port, 2, 20)[:1]  # a second chunk keeps the body streamed
            show("the first", first)


def show(label: str, values: list[float]) -> None:
    d = sorted(values)
    print(f"{label:<14} {statistics.mean(d):24.2f} {statistics.median(d):7.2f}"
          f" {d[int(len(d) * 0.9)]:8.2f}", flush=True)


if __name__ == "__main__":
    main()
