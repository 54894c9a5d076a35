"""An upstream server for the chaos tests, in a process of its own so a test can SIGKILL it.

    python -m tests.chaos.upstream_main      # prints its port on stdout, then serves

``GET /paced/{n}?chunk=C&delay=MS&cl=1``: the first n bytes of ``tests.upstream.PERIOD``
(n at most 8 MiB) in chunks of C bytes, MS milliseconds apart, chunked unless ``cl=1``
(then with a Content-Length). ``GET /active``: how many /paced bodies are being sent now.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from tests.upstream import PERIOD

_active = 0


async def paced(request: web.Request) -> web.StreamResponse:
    global _active
    n = int(request.match_info["n"])
    chunk = int(request.query.get("chunk", 16384))
    delay = float(request.query.get("delay", 0)) / 1000
    if not 0 <= n <= len(PERIOD) or chunk < 1:
        return web.Response(status=400, text="bad size\n")
    resp = web.StreamResponse()
    if request.query.get("cl") == "1":
        resp.content_length = n
    await resp.prepare(request)
    view = memoryview(PERIOD)
    _active += 1
    try:
        sent = 0
        while sent < n:
            size = min(chunk, n - sent)
            await resp.write(view[sent : sent + size])
            sent += size
            if delay:
                await asyncio.sleep(delay)
        await resp.write_eof()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        _active -= 1
    return resp


async def active(request: web.Request) -> web.Response:
    return web.json_response({"active": _active})


async def main() -> None:
    app = web.Application()
    app.router.add_get("/paced/{n}", paced)
    app.router.add_get("/active", active)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
