"""What the chaos tests share: the script, the expected bodies, a client that classifies
every response, the killer, and the checks made once the dust settles.

Every response must be one of:

* ``ok``      - 200 and exactly the expected bytes (checked by length and sha256);
* ``failed``  - a 5xx before any body byte (502: the worker died; 503: no worker free);
* ``broken``  - the connection broke or the body ended without its chunked terminator or
  short of its Content-Length: the client *sees* that it is incomplete.

``bad`` (a 200 whose body completed normally but is wrong or short) and ``hung`` (no
outcome within the client's timeout) fail the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import aiohttp

from tests.integration.ops_support import OpsServer, metric
from tests.procstats import alive
from tests.upstream import PERIOD

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 16384

SCRIPT = r"""
const CHUNK = 16384;
const BLOCK = new Uint8Array(CHUNK);
for (let i = 0; i < CHUNK; i++) BLOCK[i] = (i * 131 + (i >> 7)) & 255;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ID = crypto.randomUUID();

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k, d) => Number(url.searchParams.get(k) ?? d);
    const up = () => `${env.UPSTREAM}/paced/${q("n", 0)}?chunk=${q("chunk", CHUNK)}` +
      `&delay=${q("delay", 0)}&cl=${q("cl", 0)}`;
    switch (url.pathname) {
      case "/gen": {  // n chunks of BLOCK, the first 4 bytes of chunk k set to k
        const n = q("n", 16), delay = q("delay", 0);
        let k = 0;
        return new Response(new ReadableStream({
          async pull(c) {
            if (k === n) return c.close();
            if (delay) await sleep(delay);
            const chunk = BLOCK.slice();
            new DataView(chunk.buffer).setUint32(0, k, true);
            k++;
            c.enqueue(chunk);
          },
        }));
      }
      case "/proxy":  // forwarded natively, never enters V8
        return fetch(up());
      case "/proxy-js": {  // every byte goes through a JS TransformStream
        const r = await fetch(up());
        return new Response(r.body.pipeThrough(new TransformStream()), { status: r.status });
      }
      case "/echo":
        return new Response(request.body);
      case "/wait":
        await sleep(q("ms", 500));
        return new Response("waited " + ID);
      case "/status":
        return Response.json({ id: ID, status: JSON.parse(__isoflow_status()) });
      default:
        return new Response("hello");
    }
  },
};
"""

CONFIG = """
[server]
heartbeat_interval = @HB_INTERVAL@
heartbeat_timeout = @HB_TIMEOUT@
shutdown_grace = 2

[log]
access_log = false

[[listeners]]
port = @PORT@

[metrics]
port = @METRICS@

[fetch]
allow_loopback = true

[scripts.app]
path = "chaos.mjs"
workers = @WORKERS@
env = { UPSTREAM = "http://127.0.0.1:@UPSTREAM@" }

[[routes]]
script = "app"
"""


def config(upstream_port: int, workers: int = 3, hb_interval: float = 0.25,
           hb_timeout: float = 5.0) -> str:
    return (CONFIG.replace("@UPSTREAM@", str(upstream_port))
            .replace("@WORKERS@", str(workers))
            .replace("@HB_INTERVAL@", str(hb_interval))
            .replace("@HB_TIMEOUT@", str(hb_timeout)))


# -- expected bodies ----------------------------------------------------------------------

BLOCK = bytes((i * 131 + (i >> 7)) & 255 for i in range(CHUNK))


def gen_chunk(k: int) -> bytes:
    return struct.pack("<I", k) + BLOCK[4:]


@cache
def gen_digest(n: int) -> tuple[int, str]:
    h = hashlib.sha256()
    for k in range(n):
        h.update(gen_chunk(k))
    return n * CHUNK, h.hexdigest()


@cache
def period_digest(n: int) -> tuple[int, str]:
    return n, hashlib.sha256(PERIOD[:n]).hexdigest()


@dataclass
class Req:
    """One request of a wave: what to send and what must come back."""

    kind: str
    method: str
    path: str
    expect: tuple[int, str]  # length and sha256 of the right body
    upload: int = 0  # chunks of gen_chunk() to upload (echo)
    pace: float = 0.0  # seconds between uploaded chunks


def make_wave(rng: random.Random, n: int = 200, kinds: dict[str, int] | None = None) -> list[Req]:
    """n requests mixing generated, proxied, echoed and waiting ones (by weight)."""
    kinds = kinds or {"gen": 30, "proxy": 25, "echo": 25, "wait": 20}
    names, weights = zip(*kinds.items(), strict=True)
    wave = []
    for _ in range(n):
        kind = rng.choices(names, weights)[0]
        if kind == "gen":
            count = rng.randint(8, 48)
            wave.append(Req(kind, "GET", f"/gen?n={count}&delay={rng.randint(5, 25)}",
                            gen_digest(count)))
        elif kind == "proxy":
            size = rng.randint(8, 48) * CHUNK - rng.randint(0, 100)
            route = rng.choice(["/proxy", "/proxy-js"])
            wave.append(Req(kind, "GET", f"{route}?n={size}&delay={rng.randint(5, 25)}"
                                         f"&cl={rng.randint(0, 1)}", period_digest(size)))
        elif kind == "echo":
            count = rng.randint(8, 40)
            wave.append(Req(kind, "POST", "/echo", gen_digest(count), upload=count,
                            pace=rng.uniform(0, 0.01)))
        else:
            wave.append(Req(kind, "GET", f"/wait?ms={rng.randint(100, 1200)}", (0, "")))
    return wave


# -- the client ---------------------------------------------------------------------------


@dataclass
class Outcome:
    req: Req
    result: str  # ok, failed, broken, bad, hung
    status: int = 0
    detail: str = ""


async def _upload(req: Req):
    for k in range(req.upload):
        yield gen_chunk(k)
        if req.pace:
            await asyncio.sleep(req.pace)


async def one(session: aiohttp.ClientSession, base: str, req: Req, timeout: float) -> Outcome:
    status = 0
    try:
        async with asyncio.timeout(timeout):
            data = _upload(req) if req.upload else None
            async with session.request(req.method, base + req.path, data=data) as r:
                status = r.status
                if status != 200:
                    text = (await r.read())[:200].decode("latin-1")
                    ok = status in (502, 503)
                    return Outcome(req, "failed" if ok else "bad", status, text)
                h = hashlib.sha256()
                size = 0
                async for chunk in r.content.iter_any():
                    h.update(chunk)
                    size += len(chunk)
                if req.kind == "wait":
                    return Outcome(req, "ok", status)
                if (size, h.hexdigest()) == req.expect:
                    return Outcome(req, "ok", status)
                return Outcome(req, "bad", status,
                               f"complete body of {size} bytes, expected {req.expect[0]}")
    except TimeoutError:
        return Outcome(req, "hung", status, f"no outcome within {timeout} s")
    except (aiohttp.ClientError, ConnectionError) as e:  # payload, disconnect, reset
        return Outcome(req, "broken", status, f"{type(e).__name__}: {e}"[:200])


async def run_wave(base: str, wave: list[Req], timeout: float = 40.0,
                   during=None) -> list[Outcome]:
    """Send the whole wave at once; ``during`` (a coroutine function) runs alongside."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=None)) as session:
        tasks = [asyncio.ensure_future(one(session, base, r, timeout)) for r in wave]
        side = asyncio.ensure_future(during(tasks)) if during is not None else None
        outcomes = await asyncio.gather(*tasks)
        if side is not None:
            await side
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    counts = Counter(f"{o.req.kind}:{o.result}" for o in outcomes)
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def assert_no_silent_failure(outcomes: list[Outcome], seed: int) -> None:
    wrong = [o for o in outcomes if o.result in ("bad", "hung")]
    assert not wrong, (f"seed {seed}: {len(wrong)} silent or hung responses, e.g. "
                       f"{[(o.req.path, o.status, o.detail) for o in wrong[:5]]}; "
                       f"{summary(outcomes)}")


# -- processes ----------------------------------------------------------------------------


class UpstreamProcess:
    """tests/chaos/upstream_main.py in a process of its own."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.upstream_main"], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip():
            self.stop()
            raise RuntimeError("the chaos upstream did not start")
        self.port = int(line)

    def active(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/active", timeout=5) as r:
            return json.loads(r.read())["active"]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()


def scrape(server: OpsServer) -> str:
    with urllib.request.urlopen(server.metrics_url(), timeout=5) as r:
        return r.read().decode()


def live_pids(server: OpsServer) -> dict[str, int]:
    return {name: pid for name, pid in server.worker_pids().items() if alive(pid)}


@dataclass
class Killer:
    """Sends ``sig`` to a random live, ready worker at random moments."""

    server: OpsServer
    rng: random.Random
    sig: int = signal.SIGKILL
    start: float = 0.3
    gap: tuple[float, float] = (0.2, 0.6)
    max_kills: int = 10
    duration: float = 4.0
    victims: list[int] = field(default_factory=list)
    wave_only: bool = True  # stop once the wave is done (else: until max_kills or duration)

    async def __call__(self, tasks: list[asyncio.Future]) -> None:
        await asyncio.sleep(self.start)
        deadline = time.monotonic() + self.duration
        while (len(self.victims) < self.max_kills and time.monotonic() < deadline
               and not (self.wave_only and all(t.done() for t in tasks))):
            pids = sorted(pid for pid in live_pids(self.server).values()
                          if pid not in self.victims)
            if pids:
                victim = self.rng.choice(pids)
                os.kill(victim, self.sig)
                self.victims.append(victim)
            await asyncio.sleep(self.rng.uniform(*self.gap))


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def settled(server: OpsServer, script: str, workers: int, victims: list[int],
            timeout: float = 30.0) -> str:
    """Wait until every victim is gone and replaced and no stream is left; the metrics."""

    def check() -> str | None:
        for pid in victims:
            if alive(pid):
                return None
        pids = live_pids(server)
        if len(pids) != workers or set(pids.values()) & set(victims):
            return None
        text = scrape(server)
        if metric(text, "isoflow_workers_ready", script=script) != workers:
            return None
        if metric(text, "isoflow_streams_open") != 0:
            return None
        return text

    return wait_until(check, timeout, f"{workers} fresh workers and an empty stream table")


def assert_idle(text: str, script: str) -> None:
    """The supervisor holds nothing: no stream, nothing in flight, queued or per worker."""
    from prometheus_client.parser import text_string_to_metric_families

    assert metric(text, "isoflow_streams_open") == 0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("isoflow_requests_in_flight", "isoflow_worker_streams",
                               "isoflow_queued_requests"):
                assert sample.value == 0, (sample, script)


def assert_untouched(server: OpsServer, pids: dict[str, int]) -> None:
    """Once no stream is left: the supervisor holds nothing, and no worker was restarted or
    replaced (``pids``: the server's worker_pids() from before)."""
    text = wait_until(lambda: (t := scrape(server)) and
                      metric(t, "isoflow_streams_open") == 0 and t, 10, "no streams")
    assert_idle(text, "app")
    assert metric(text, "isoflow_worker_restarts_total", script="app") == 0
    assert server.worker_pids() == pids


async def worker_live_counts(base: str, workers: int) -> dict[str, int]:
    """Each worker's count of live JS streams (1: the /status request itself)."""
    seen: dict[str, int] = {}
    async with aiohttp.ClientSession() as session:
        for _ in range(workers * 6):
            async with session.get(base + "/status") as r:
                data = await r.json()
            seen[data["id"]] = data["status"]["live"]
            if len(seen) == workers:
                break
    return seen
