"""What a message's layout costs: frames sent as one ZeroMQ message, one part per head and
body (protocol version 1) or as a ``protocol.Batch`` makes it: the heads in one part
(version 2) and, since version 3, bodies up to ``INLINE_MAX`` bytes inside their heads.

    .venv/bin/python bench/batch.py

Encodes, sends over ipc, receives and decodes, all in this process, a hello batch each way
(28 ``RESPONSE_COMPLETE`` frames as a worker's pump makes them, 8 ``REQUEST_HEAD`` frames as
a turn of the front's loop does) and prints the CPU per frame of each layout (this process's
threads: ZeroMQ's I/O thread included; a message's fixed cost is shared by its frames).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable

import zmq

from isoflow import protocol as p
from isoflow.isolate_worker.link import send_parts

Layout = Callable[[list[p.Frame]], list]


def one_part_each(frames: list[p.Frame]) -> list:
    return [part for frame in frames for part in p.encode(frame)]


def heads_together(frames: list[p.Frame]) -> list:
    batch = p.Batch()
    for frame in frames:
        batch.add(frame)
    return batch.parts()


def cpu_per_frame(a: zmq.Socket, b: zmq.Socket, layout: Layout, frames: list[p.Frame],
                  n: int = 4000) -> float:
    start = time.process_time()
    for _ in range(n):
        send_parts(a, layout(frames))
        parts = b.recv_multipart(copy=False)
        got, error = p.decode_batch([f.buffer for f in parts])
        assert error is None and len(got) == len(frames)
    return (time.process_time() - start) / n / len(frames) * 1e6


def main() -> None:
    headers = [["content-type", "text/plain;charset=UTF-8"]]
    responses = [p.ResponseComplete(i + 1, 200, headers, b"Hello, world!\n") for i in range(28)]
    requests = [p.RequestHead(i + 1, f"5b73320f{i:08x}", "GET", "http://127.0.0.1:8080/",
                              [["host", "127.0.0.1:8080"], ["user-agent", "wrk"]], "127.0.0.1",
                              False, 1 << 20) for i in range(8)]
    with tempfile.TemporaryDirectory() as tmp, zmq.Context() as ctx:
        a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
        a.bind(f"ipc://{tmp}/batch.sock")
        b.connect(f"ipc://{tmp}/batch.sock")
        print("CPU µs per frame          one part each   a Batch")
        for _ in range(3):
            for name, frames in (("28 responses a message", responses),
                                 ("8 requests a message", requests)):
                old = cpu_per_frame(a, b, one_part_each, frames)
                new = cpu_per_frame(a, b, heads_together, frames)
                print(f"{name:26s}{old:10.2f}{new:18.2f}")
        a.close(0)
        b.close(0)


if __name__ == "__main__":
    main()
