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

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0)


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
        for p in snap.pools:
            counts.setdefault(p.script, 0)
            queued.add_metric([p.script], p.queued)
        for script, n in sorted(counts.items()):
            ready.add_metric([script], n)
        streams = GaugeMetricFamily("isoflow_streams_open",
                                    "Streams open between the supervisor and workers")
        streams.add_metric([], snap.streams)
        yield from (ready, heap, heap_total, worker_streams, queued, streams)


class Metrics:
    def __init__(self) -> None:
        # Label lookups cost more than the increments: children are cached per route.
        self._children: dict[tuple[str, int], tuple] = {}
        self._in_flight: dict[str, Gauge] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("isoflow_requests", "HTTP requests answered",
                                ["route", "status"], registry=r)
        self.duration = Histogram("isoflow_request_duration_seconds",
                                  "Time from request to the end of its response",
                                  ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("isoflow_requests_in_flight",
                               "HTTP requests being handled (queued or on a worker)",
                               ["route"], registry=r)
        self.bytes_in = Counter("isoflow_request_body_bytes", "Request body bytes received",
                                ["route"], registry=r)
        self.bytes_out = Counter("isoflow_response_body_bytes", "Response body bytes sent",
                                 ["route"], registry=r)
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
        for kind in ("client_drain", "worker_credit", "upload_credit"):
            self.stalls.labels(kind)
        for direction in ("response", "upload"):
            self.relayed_bytes.labels(direction)
            for path in ("relayed", "framed"):
                self.forwarded.labels(direction, path)

    def watch(self, snapshot: Callable[[], Snapshot]) -> None:
        self.registry.register(_Live(snapshot))

    def add_script(self, script: str) -> None:
        """Make a script's counters visible (at 0) before anything happens to it."""
        self.restarts.labels(script)
        self.cpu_terminations.labels(script)
        self.memory_terminations.labels(script)

    def in_flight_of(self, route: str) -> Gauge:
        """The ``isoflow_requests_in_flight`` gauge of one route."""
        gauge = self._in_flight.get(route)
        if gauge is None:
            gauge = self._in_flight[route] = self.in_flight.labels(route)
        return gauge

    def request_done(self, route: str, status: int, seconds: float, bytes_in: int,
                     bytes_out: int) -> None:
        children = self._children.get((route, status))
        if children is None:
            children = self._children[route, status] = (
                self.requests.labels(route, str(status)), self.duration.labels(route),
                self.bytes_in.labels(route), self.bytes_out.labels(route),
            )
        requests, duration, counted_in, counted_out = children
        requests.inc()
        duration.observe(seconds)
        if bytes_in:
            counted_in.inc(bytes_in)
        if bytes_out:
            counted_out.inc(bytes_out)

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
        # Forwarded bodies the worker did not hand over went as frames.
        for direction, total, relayed in (("response", "forwards", "relayed_bodies"),
                                          ("upload", "uploads", "relayed_uploads")):
            if (n := delta(total) - delta(relayed)) > 0:
                self.forwarded.labels(direction, "framed").inc(n)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
