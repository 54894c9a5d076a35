"""The metrics listener: ``/metrics`` (Prometheus text format), ``/healthz``, ``/readyz``.

It is separate from the HTTP listeners so that it can stay private (bind it to
127.0.0.1 or an internal address) and keeps answering while the service drains.

* ``/healthz`` (liveness): 200 whenever the supervisor's event loop answers.
* ``/readyz`` (readiness): 200 when every script that a route uses has at least one ready
  worker and the service is not stopping; otherwise 503 naming what is missing.
* ``POST /__scheduled?script=NAME&cron=EXPR``: run a script's scheduled handler now (for
  testing cron triggers, like wrangler's endpoint of the same name); 200 or 500 with the
  outcome. ``script`` defaults to the only script, ``cron`` to "* * * * *". A request a
  browser sends (with ``Origin`` or ``Sec-Fetch-Site``) is refused: 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .metrics import CONTENT_TYPE, Metrics

Trigger = Callable[[str, str], Awaitable[tuple[bool, str]]]


def from_browser(request: web.BaseRequest) -> bool:
    """Whether a browser sent ``request``: a page on this host may POST to the admin
    listener across origins (a form needs no preflight), so what runs a handler refuses it
    (curl and schedulers send neither field)."""
    return "Origin" in request.headers or "Sec-Fetch-Site" in request.headers


class Admin:
    def __init__(self, metrics: Metrics, readiness: Callable[[], list[str]],
                 trigger: Trigger | None = None, scripts: Callable[[], list[str]] | None = None,
                 ) -> None:
        self.metrics = metrics
        self.readiness = readiness  # -> reasons the service is not ready; empty if ready
        self.trigger = trigger  # runs a scheduled event: (script, cron) -> (ok, message)
        self.scripts = scripts  # -> the names of the scripts served now

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/__scheduled" and self.trigger is not None:
            return await self._scheduled(request)
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

    async def _scheduled(self, request: web.BaseRequest) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405, text="Use POST.\n", headers={"Allow": "POST"})
        if from_browser(request):
            return web.Response(status=403, text="Not from a browser.\n")
        assert self.trigger is not None
        script = request.query.get("script")
        names = self.scripts() if self.scripts is not None else []
        if script is None:
            if len(names) != 1:
                return web.Response(status=400, text="Name the script: ?script=NAME\n")
            script = names[0]
        elif self.scripts is not None and script not in names:
            return web.Response(status=404, text=f"No script named {script[:100]!r}.\n")
        cron = request.query.get("cron", "* * * * *")
        if len(cron) > 256 or not cron.isprintable():  # any text, as wrangler's: the event's
            return web.Response(status=400, text="cron: expected up to 256 printable "
                                "characters\n")
        ok, message = await self.trigger(script, cron)
        return web.Response(status=200 if ok else 500, text=message + "\n")
