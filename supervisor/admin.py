"""The metrics listener: ``/metrics`` (Prometheus text format), ``/healthz``, ``/readyz``.

It is separate from the HTTP listeners so that it can stay private (bind it to
127.0.0.1 or an internal address) and keeps answering while the service drains.

* ``/healthz`` (liveness): 200 whenever the supervisor's event loop answers.
* ``/readyz`` (readiness): 200 when every script that a route uses has at least one ready
  worker and the service is not stopping; otherwise 503 naming what is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from .metrics import CONTENT_TYPE, Metrics


class Admin:
    def __init__(self, metrics: Metrics, readiness: Callable[[], list[str]]) -> None:
        self.metrics = metrics
        self.readiness = readiness  # -> reasons the service is not ready; empty if ready

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, text="Use GET.\n", headers={"Allow": "GET, HEAD"})
        if request.path == "/metrics":
            return web.Response(body=self.metrics.exposition(),
                                headers={"Content-Type": CONTENT_TYPE})
        if request.path == "/healthz":
            return web.Response(text="ok\n")
        if request.path == "/readyz":
            reasons = self.readiness()
            if reasons:
                return web.Response(status=503, text="not ready: " + "; ".join(reasons) + "\n")
            return web.Response(text="ready\n")
        return web.Response(status=404, text="Try /metrics, /healthz or /readyz.\n")
