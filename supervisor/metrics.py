"""Prometheus metrics: counters kept as traffic flows, gauges read from the service on scrape.

Everything lives in one private :class:`prometheus_client.CollectorRegistry` (never the
library's global one), exposed in the text format by ``admin.py``. The names and what
each counts are listed in ``docs/configuration.md`` ("Metrics").

Flow-control stalls (``isoflow_flow_control_stalls_total``) count three kinds of wait:

* ``client_drain``: a response chunk's ``write`` to the client had to wait for the
  client's socket to drain (aiohttp paused writing above its buffer's high-water mark);
* ``worker_credit``: a ``RESPONSE_BODY`` frame used the last byte of response credit the
  supervisor had granted, so the worker must wait for a ``RESPONSE_CREDIT`` to go on;
* ``upload_credit``: the supervisor had request body to forward but no credit from the
  worker, so it stopped reading the client's upload until a ``REQUEST_CREDIT`` came.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0)
# Each bucket's ``le`` as prometheus_client writes it, the last +Inf.
_BUCKET_LABELS = tuple(floatToGoString(b) for b in (*LATENCY_BUCKETS, float("inf")))


@dataclass
class WorkerSample:
    """One live worker, as the scrape sees it."""

    script: str
    worker: str
    ready: bool
    streams: int
    heap_used: int
    heap_total: int


@dataclass
class PoolSample:
    script: str
    queued: int
    in_use: int  # local workers taking new requests (packing.py)


@dataclass
class Snapshot:
    workers: list[WorkerSample]
    pools: list[PoolSample]
    streams: int


class _Live(Collector):
    """Gauges computed from the running service at scrape time (no stale labels)."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[GaugeMetricFamily]:
        snap = self.snapshot()
        ready = GaugeMetricFamily("isoflow_workers_ready", "Workers ready to take requests",
                                  labels=["script"])
        heap = GaugeMetricFamily("isoflow_isolate_heap_used_bytes",
                                 "V8 heap in use per worker (from its last PONG)",
                                 labels=["script", "worker"])
        heap_total = GaugeMetricFamily("isoflow_isolate_heap_total_bytes",
                                       "V8 heap reserved per worker (from its last PONG)",
                                       labels=["script", "worker"])
        worker_streams = GaugeMetricFamily("isoflow_worker_streams",
                                           "Streams in flight per worker",
                                           labels=["script", "worker"])
        counts: dict[str, int] = {}
        for w in snap.workers:
            counts[w.script] = counts.get(w.script, 0) + int(w.ready)
            heap.add_metric([w.script, w.worker], w.heap_used)
            heap_total.add_metric([w.script, w.worker], w.heap_total)
            worker_streams.add_metric([w.script, w.worker], w.streams)
        queued = GaugeMetricFamily("isoflow_queued_requests",
                                   "Requests waiting for a free worker", labels=["script"])
        in_use = GaugeMetricFamily("isoflow_workers_in_use",
                                   "Local workers given new requests (the rest are spare)",
                                   labels=["script"])
        for p in snap.pools:
            counts.setdefault(p.script, 0)
            queued.add_metric([p.script], p.queued)
            in_use.add_metric([p.script], p.in_use)
        for script, n in sorted(counts.items()):
            ready.add_metric([script], n)
        streams = GaugeMetricFamily("isoflow_streams_open",
                                    "Streams open between the supervisor and workers")
        streams.add_metric([], snap.streams)
        yield from (ready, heap, heap_total, worker_streams, queued, in_use, streams)


class RouteStats:
    """One route's request metrics as plain numbers: the hot path adds to them (a
    prometheus_client child takes a lock and a check per call, ~7 per request), and
    :class:`_Traffic` turns them into the families at scrape time."""

    __slots__ = ("buckets", "bytes_in", "bytes_out", "in_flight", "requests", "seconds")

    def __init__(self) -> None:
        self.requests: dict[int, int] = {}  # by status
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # durations per bucket; last: +Inf
        self.seconds = 0.0
        self.bytes_in = 0
        self.bytes_out = 0
        self.in_flight = 0  # requests routed here and not answered yet


class _Traffic(Collector):
    """The request families, from every route's :class:`RouteStats`."""

    def __init__(self, routes: dict[str, RouteStats]) -> None:
        self.routes = routes

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily("isoflow_requests", "HTTP requests answered",
                                       labels=["route", "status"])
        duration = HistogramMetricFamily("isoflow_request_duration_seconds",
                                         "Time from request to the end of its response",
                                         labels=["route"])
        in_flight = GaugeMetricFamily("isoflow_requests_in_flight",
                                      "HTTP requests being handled (queued or on a worker)",
                                      labels=["route"])
        bytes_in = CounterMetricFamily("isoflow_request_body_bytes",
                                       "Request body bytes received", labels=["route"])
        bytes_out = CounterMetricFamily("isoflow_response_body_bytes",
                                        "Response body bytes sent", labels=["route"])
        for route, stats in sorted(self.routes.items()):
            if route != "-":  # "-": requests no route matched, never in flight
                in_flight.add_metric([route], stats.in_flight)
            if not stats.requests:
                continue  # routed, not answered yet: no zero histogram
            for status, n in sorted(stats.requests.items()):
                requests.add_metric([route, str(status)], n)
            cumulative, buckets = 0, []
            for le, n in zip(_BUCKET_LABELS, stats.buckets, strict=True):
                cumulative += n
                buckets.append((le, cumulative))
            duration.add_metric([route], buckets, stats.seconds)
            bytes_in.add_metric([route], stats.bytes_in)
            bytes_out.add_metric([route], stats.bytes_out)
        yield from (requests, duration, in_flight, bytes_in, bytes_out)


class Metrics:
    def __init__(self) -> None:
        self._routes: dict[str, RouteStats] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        r.register(_Traffic(self._routes))
        self.rejected = Counter("isoflow_requests_rejected",
                                "Requests refused by a limit before reaching a script",
                                ["reason"], registry=r)
        self.stalls = Counter("isoflow_flow_control_stalls",
                              "Waits for the other side of a stream (see the docs)",
                              ["kind"], registry=r)
        self.restarts = Counter("isoflow_worker_restarts",
                                "Worker processes restarted after they died or hung",
                                ["script"], registry=r)
        self.recycles = Counter("isoflow_worker_recycles",
                                "Worker processes replaced by the recycling limits",
                                ["script", "reason"], registry=r)
        self.cpu_terminations = Counter("isoflow_cpu_limit_terminations",
                                        "Isolates terminated at the CPU time limit",
                                        ["script"], registry=r)
        self.memory_terminations = Counter("isoflow_memory_limit_terminations",
                                           "Isolates terminated at the V8 heap limit",
                                           ["script"], registry=r)
        self.reloads = Counter("isoflow_reloads", "Configuration reloads", ["result"],
                               registry=r)
        self.forwarded = Counter("isoflow_forwarded_bodies",
                                 "Bodies a script forwarded untouched, by the path they took: "
                                 "relayed (socket to socket, splice) or framed (frames "
                                 "through the worker)", ["direction", "path"], registry=r)
        self.relayed_bytes = Counter("isoflow_relayed_body_bytes",
                                     "Body bytes moved by the splice relay", ["direction"],
                                     registry=r)
        self.direct = Counter("isoflow_direct_response_bodies",
                              "Response bodies that their worker wrote into the client's "
                              "connection itself", registry=r)
        for kind in ("client_drain", "worker_credit", "upload_credit"):
            self.stalls.labels(kind)
        for direction in ("response", "upload"):
            self.relayed_bytes.labels(direction)
            for path in ("relayed", "framed"):
                self.forwarded.labels(direction, path)
        self.forwarded.labels("response", "direct")

    def watch(self, snapshot: Callable[[], Snapshot]) -> None:
        self.registry.register(_Live(snapshot))

    def add_script(self, script: str) -> None:
        """Make a script's counters visible (at 0) before anything happens to it."""
        self.restarts.labels(script)
        self.cpu_terminations.labels(script)
        self.memory_terminations.labels(script)

    def route(self, route: str) -> RouteStats:
        """One route's numbers (``in_flight`` is counted by the front directly)."""
        stats = self._routes.get(route)
        if stats is None:
            stats = self._routes[route] = RouteStats()
        return stats

    def request_done(self, route: str, status: int, seconds: float, bytes_in: int,
                     bytes_out: int) -> None:
        stats = self.route(route)
        stats.requests[status] = stats.requests.get(status, 0) + 1
        stats.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        stats.seconds += seconds
        stats.bytes_in += bytes_in
        stats.bytes_out += bytes_out

    def stall(self, kind: str) -> None:
        self.stalls.labels(kind).inc()

    def relayed(self, direction: str, size: int) -> None:
        """A body the relay moved (``direction``: "response" or "upload")."""
        self.forwarded.labels(direction, "relayed").inc()
        self.relayed_bytes.labels(direction).inc(size)

    def pong(self, script: str, previous: dict, stats: dict) -> None:
        """Add what a worker's PONG stats counted since its previous PONG."""
        def delta(key: str) -> int:
            return int(stats.get(key, 0)) - int(previous.get(key, 0))

        for key, counter in (("cpu_terminations", self.cpu_terminations),
                             ("memory_terminations", self.memory_terminations)):
            if (n := delta(key)) > 0:
                counter.labels(script).inc(n)
        if (n := delta("direct_stalls")) > 0:  # bodies a worker writes to the client itself
            self.stalls.labels("client_drain").inc(n)
        if (n := delta("direct_forwards")) > 0:
            self.forwarded.labels("response", "direct").inc(n)
        # Forwarded bodies the worker did not hand over (nor write itself) went as frames.
        for direction, total, others in (("response", "forwards",
                                          ("relayed_bodies", "direct_forwards")),
                                         ("upload", "uploads", ("relayed_uploads",))):
            if (n := delta(total) - sum(delta(key) for key in others)) > 0:
                self.forwarded.labels(direction, "framed").inc(n)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
