"""The Python <-> V8 bridge on its own: no sockets, no supervisor, one isolate.

    python bench/bridge.py [--requests 20000] [--megabytes 200]

Prints
* a V8 round trip: one ``post`` of a trivial call at a time, µs of wall time and of CPU;
  compare with ``taskset -c 0`` (both threads on one core): waking the V8 thread, and the
  loop's after it, is most of it when the other core is idle;
* batches: k hello requests at a time, each batch answered before the next (two pumps: the
  first request's, then the rest's): CPU µs per request for k = 1, 5, 10, 50;
* requests/s: N request events handed to the bridge at once (they ride in as few pumps as
  the buffers allow); a trivial handler answers each; counted until every response ended;
* MB/s: one request whose body (64 KiB chunks) is echoed back by `new Response(request.body)`,
  with request credit and response credit granted as the protocol would; bytes in + out.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from isoflow.isolate_worker import script
from isoflow.isolate_worker.bridge import Bridge, BridgeConfig
from isoflow.isolate_worker.kinds import (
    AC_COMPLETE,
    AC_CREDIT,
    AC_DATA,
    AC_END,
    AC_ERROR,
    EV_CREDIT,
    EV_DATA,
    EV_END,
    EV_REQUEST,
)
from isoflow.isolate_worker.v8 import V8Context

HELLO = """
const body = new Uint8Array(12).fill(65);
addEventListener("fetch", (e) => e.respondWith(new Response(body)));
"""
ECHO = """
addEventListener("fetch", (e) => e.respondWith(new Response(e.request.body)));
"""


def make_bridge(source: str, on_action) -> Bridge:
    loop = asyncio.get_running_loop()
    bridge = Bridge(loop, on_action, lambda f: print("isolate failed:", f), BridgeConfig())
    with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as f:
        f.write(source)
    script.load(bridge.eval, Path(f.name))
    return bridge


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def round_trip(n: int = 5000) -> tuple[float, float]:
    """µs of wall time and of CPU per ``post`` of a trivial call, one at a time."""
    loop = asyncio.get_running_loop()
    v8 = V8Context(loop)
    v8.eval("globalThis.f = () => 1")
    cpu, start = _cpu(), time.perf_counter()
    for _ in range(n):
        fut = loop.create_future()
        v8.post("f()", lambda value, error, fut=fut: fut.set_result(value))
        await fut
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    v8.close()
    return wall / n * 1e6, cpu / n * 1e6


async def batches(k: int, n: int = 10000) -> float:
    """CPU µs per request when hello requests come k at a time."""
    loop = asyncio.get_running_loop()
    waiting: dict[int, asyncio.Future] = {}

    def on_action(action, data):
        if action[0] in (AC_END, AC_ERROR, AC_COMPLETE):
            fut = waiting.pop(action[1], None)
            if fut is not None:
                fut.set_result(None)

    bridge = make_bridge(HELLO, on_action)
    headers = ["host", "bench", "user-agent", "bench/1"]
    cpu, sid = _cpu(), 0
    for _ in range(n // k):
        for _ in range(k):
            sid += 1
            waiting[sid] = loop.create_future()
            bridge.send([EV_REQUEST, sid, f"r{sid}", "GET", "http://bench/", headers, False,
                         1 << 20, "127.0.0.1"])
        await asyncio.gather(*waiting.values())
    cpu = _cpu() - cpu
    bridge.close()
    return cpu / (n // k * k) * 1e6


async def requests_per_second(n: int) -> float:
    done = asyncio.get_running_loop().create_future()
    ended = 0

    def on_action(action, data):
        nonlocal ended
        if action[0] in (AC_END, AC_ERROR, AC_COMPLETE):  # COMPLETE: head, body and end
            ended += 1
            if ended == n:
                done.set_result(None)

    bridge = make_bridge(HELLO, on_action)
    headers = ["host", "bench", "user-agent", "bench/1"]
    start = time.perf_counter()
    for sid in range(1, n + 1):
        bridge.send([EV_REQUEST, sid, f"r{sid}", "GET", "http://bench/", headers, False,
                     1 << 20, "127.0.0.1"])
    await done
    elapsed = time.perf_counter() - start
    pumps = bridge.pumps
    bridge.close()
    print(f"  {n} requests in {elapsed:.3f} s over {pumps} pumps "
          f"({n / pumps:.0f} per pump)")
    return n / elapsed


async def echo_megabytes_per_second(total: int, chunk: int = 64 << 10) -> float:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    received = 0
    credit = 0
    payload = bytes(chunk)
    sent = 0
    bridge: Bridge | None = None

    def push() -> None:
        nonlocal credit, sent
        assert bridge is not None
        while credit >= chunk and sent < total:
            bridge.send([EV_DATA, 1], payload)
            credit -= chunk
            sent += chunk
        if sent >= total and credit >= 0:
            bridge.send([EV_END, 1])
            credit = -1 << 60

    def on_action(action, data):
        nonlocal received, credit
        kind = action[0]
        if kind == AC_DATA:
            received += len(data)
            bridge.send([EV_CREDIT, 1, len(data)])
        elif kind == AC_CREDIT:
            credit += action[2]
            push()
        elif kind in (AC_END, AC_ERROR):
            done.set_result(kind)

    bridge = make_bridge(ECHO, on_action)
    credit = bridge.config.request_window
    start = time.perf_counter()
    bridge.send([EV_REQUEST, 1, "r1", "POST", "http://bench/", [], True, 1 << 20, ""])
    push()
    kind = await done
    elapsed = time.perf_counter() - start
    pumps = bridge.pumps
    bridge.close()
    assert kind == AC_END and received == total, (kind, received, total)
    print(f"  {total >> 20} MiB echoed in {elapsed:.3f} s over {pumps} pumps")
    return 2 * total / elapsed / 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    wall, cpu = await round_trip()
    print(f"a V8 round trip: {wall:.1f} µs wall, {cpu:.1f} µs CPU")
    costs = [f"k={k}: {await batches(k):.0f}" for k in (1, 5, 10, 50)]
    print(f"hello requests k at a time, CPU µs per request: {', '.join(costs)}")
    rps = await requests_per_second(args.requests)
    print(f"bridge requests/s: {rps:,.0f}")
    mbps = await echo_megabytes_per_second(args.megabytes << 20)
    print(f"bridge echo MB/s (in + out): {mbps:,.0f}")


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
