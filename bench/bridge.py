"""The Python <-> V8 bridge on its own: no sockets, no supervisor, one isolate.

    python bench/bridge.py [--requests 20000] [--megabytes 200]

Prints
* requests/s: N request events handed to the bridge at once (they ride in as few pumps as
  the buffers allow); a trivial handler answers each; counted until every response ended;
* MB/s: one request whose body (64 KiB chunks) is echoed back by `new Response(request.body)`,
  with request credit and response credit granted as the protocol would; bytes in + out.
"""

from __future__ import annotations

import argparse
import asyncio
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
