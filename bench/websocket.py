"""WebSocket echo through isoflow, beside Deno and Bun (and workerd) when bench/compare has them.

    python bench/websocket.py [--seconds 5] [--workers 1] [--offline] [--peers deno,bun,workerd]

Two measures, one aiohttp client (in this process) for every runtime:

* messages/s: small text messages (16 bytes) echoed, 64 in flight on one connection;
* MB/s: 1 MiB binary messages echoed, 4 in flight; counted one way (the bytes echoed back).

With each, the CPU the runtime's processes spent (user + system, /proc) per message echoed
or per MB: the client is Python and may be the limit of a fast peer's rate, not its CPU.

isoflow and workerd run the same Workers-API script (WebSocketPair, accept()); Deno and Bun
their own upgrade APIs (Deno.upgradeWebSocket, Bun.serve's websocket handlers), each the
shortest echo. The peers come from npm through bench/compare/runtimes.py (pinned, cached in
bench/.cache); a peer that cannot be installed is skipped with a message. Prints each
runtime's figures and isoflow's ratio to each peer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from _harness import REPO, free_port, serving

sys.path.insert(0, str(REPO / "bench" / "compare"))
from measure import cpu_seconds
from runtimes import BUN_MAIN, COMPATIBILITY_DATE, PEERS, install_peers

from tests.procstats import descendants

WORKERS_API = """\
export default {
  fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => server.send(e.data));
    return new Response(null, { status: 101, webSocket: client });
  },
};
"""

DENO = """\
export default {
  fetch(request) {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  },
};
"""

BUN = """\
export default {
  fetch(request, server) {
    if (server.upgrade(request)) return;
    return new Response("not a WebSocket", { status: 400 });
  },
  websocket: { message(ws, message) { ws.send(message); } },
};
"""

WORKERD_CONFIG = """\
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "{date}",
);
"""

SMALL = "x" * 16
BIG = bytes(range(256)) * 4096  # 1 MiB


def command(name: str, binary: Path | None, workdir: Path, port: int, workers: int) -> list[str]:
    script = workdir / "worker.mjs"
    if name == "isoflow":
        script.write_text(WORKERS_API)
        return [sys.executable, "-m", "isoflow.supervisor", "serve", str(script), "--host",
                "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--log-level", "WARNING"]
    assert binary is not None
    if name == "workerd":
        script.write_text(WORKERS_API)
        config = workdir / "workerd.capnp"
        config.write_text(WORKERD_CONFIG.format(port=port, date=COMPATIBILITY_DATE))
        return [str(binary), "serve", str(config)]
    if name == "deno":
        script.write_text(DENO)
        return [str(binary), "serve", "--allow-net", "--host", "127.0.0.1", "--port",
                str(port), str(script)]
    if name == "bun":
        script.write_text(BUN)
        main = workdir / "bun-main.mjs"
        main.write_text(BUN_MAIN.format(port=port).replace(
            "fetch: worker.fetch", "fetch: worker.fetch, websocket: worker.websocket"))
        return [str(binary), str(main)]
    raise ValueError(name)


async def echo_rate(url: str, message: str | bytes, in_flight: int,
                    seconds: float) -> tuple[float, int]:
    """(Messages echoed per second, messages echoed) on one connection, ``in_flight``
    outstanding at a time."""
    import aiohttp

    async with aiohttp.ClientSession() as session, \
            session.ws_connect(url, max_msg_size=0) as ws:
        send = ws.send_bytes if isinstance(message, bytes) else ws.send_str
        for _ in range(in_flight):
            await send(message)
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            msg = await ws.receive(timeout=30)
            assert len(msg.data) == len(message), msg
            done += 1
            now = time.perf_counter()
            if now >= deadline:
                return done / (now - start), done
            await send(message)


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and the processes under it."""
    return sum(cpu_seconds(p) for p in descendants(pid))


def measure(url: str, pid: int, seconds: float) -> dict[str, float]:
    # Warm-up (JIT: V8 compiles the hot paths on its one thread at first, which the CPU
    # per message would count), both sizes.
    asyncio.run(echo_rate(url, SMALL, 64, 2.0))
    asyncio.run(echo_rate(url, BIG, 4, 1.0))
    before = tree_cpu(pid)
    rate, small = asyncio.run(echo_rate(url, SMALL, 64, seconds))
    middle = tree_cpu(pid)
    big, large = asyncio.run(echo_rate(url, BIG, 4, seconds))
    after = tree_cpu(pid)
    return {"messages/s": rate, "µs/message": (middle - before) / small * 1e6,
            "MB/s (1 MiB)": big * len(BIG) / 1e6,
            "µs/MB": (after - middle) / (large * len(BIG) / 1e6) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--peers", default="deno,bun,workerd")
    parser.add_argument("--offline", action="store_true", help="do not install peers")
    args = parser.parse_args()
    wanted = [p for p in args.peers.split(",") if p]
    unknown = [p for p in wanted if p not in PEERS]
    if unknown:
        parser.error(f"--peers: no peer named {', '.join(unknown)} (known: {', '.join(PEERS)}; "
                     "an empty --peers runs isoflow alone)")
    peers, messages = install_peers(wanted, offline=args.offline) if wanted else ([], [])
    for m in messages:
        print(m)
    runs: list[tuple[str, Path | None]] = [("isoflow", None)]
    runs += [(r.name, r.binary) for r in peers]
    results: dict[str, dict[str, float]] = {}
    for name, binary in runs:
        with tempfile.TemporaryDirectory(prefix=f"ws-bench-{name}-") as directory:
            workdir = Path(directory)
            port = free_port()
            cmd = command(name, binary, workdir, port, args.workers)
            with serving(cmd, port, workdir / "log.txt") as server:
                time.sleep(0.3)
                results[name] = measure(f"http://127.0.0.1:{port}/", server.pid,
                                        args.seconds)
        r = results[name]
        print(f"{name:8} {r['messages/s']:>10,.0f} messages/s at {r['µs/message']:5.1f} µs "
              f"of CPU each   {r['MB/s (1 MiB)']:>8,.0f} MB/s (1 MiB messages) at "
              f"{r['µs/MB']:,.0f} µs of CPU per MB", flush=True)
    iso = results["isoflow"]
    for name in results:
        if name != "isoflow":
            peer = results[name]
            print(f"isoflow / {name}: messages/s {iso['messages/s'] / peer['messages/s']:.2f}x "
                  f"(CPU per message {iso['µs/message'] / peer['µs/message']:.2f}x), "
                  f"MB/s {iso['MB/s (1 MiB)'] / peer['MB/s (1 MiB)']:.2f}x "
                  f"(CPU per MB {iso['µs/MB'] / peer['µs/MB']:.2f}x)")


if __name__ == "__main__":
    main()
