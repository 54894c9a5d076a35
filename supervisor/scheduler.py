"""Cron triggers: run a script's scheduled handler when its cron expressions fire (UTC).

Each (script, cron) pair has a task that sleeps until the next matching minute, then runs
the handler once on one worker of the script's pool (as a stream: SCHEDULED, answered by
RESPONSE_END or RESPONSE_ERROR) and logs the outcome. ``trigger`` runs one at once, for
the admin listener's ``POST /__scheduled?script=NAME&cron=EXPR`` (like wrangler's).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from isoflow import protocol as p

from .cron import Cron
from .pool import Overloaded, PoolRetired, WorkerPool
from .streams import StreamFailed, StreamTable

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger("isoflow.scheduler")


class Scheduler:
    def __init__(self, table: StreamTable,
                 active: Callable[[], tuple[Settings, dict[str, WorkerPool]]],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.table = table
        self.active = active  # -> (settings, pools) serving now
        self.clock = clock  # -> the time now, in UTC
        self._tasks: set[asyncio.Task] = set()
        self._ids = itertools.count(1)

    def start(self) -> None:
        """(Re)start one task per cron trigger of the active settings."""
        self.stop()
        settings, _ = self.active()
        loop = asyncio.get_running_loop()
        for name, spec in settings.scripts.items():
            for text in spec.crons:
                task = loop.create_task(self._loop(name, Cron.parse(text)))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    async def _loop(self, script: str, cron: Cron) -> None:
        """Each due time of ``cron``, a run of its own: a run still going when the next is
        due does not hold that one back (Workers' cron runs overlap too)."""
        loop = asyncio.get_running_loop()
        last: datetime | None = None
        while True:
            now = self.clock()
            due = cron.next_after(now if last is None else max(now, last))
            log.info("scheduled event %r of %s: next at %s UTC", cron.expression, script,
                     due.strftime("%Y-%m-%d %H:%M"))
            await asyncio.sleep(max(0.0, (due - now).total_seconds()))
            last = due
            run = loop.create_task(self._run(script, cron.expression, due))
            self._tasks.add(run)
            run.add_done_callback(self._tasks.discard)

    async def _run(self, script: str, cron: str, due: datetime) -> None:
        ok, message = await self.trigger(script, cron, due.timestamp() * 1000)
        log.log(logging.INFO if ok else logging.ERROR, "scheduled event %r of %s: %s", cron,
                script, message)

    async def trigger(self, script: str, cron: str,
                      scheduled_time: float | None = None) -> tuple[bool, str]:
        """Run the scheduled handler of ``script`` once; (succeeded, what happened)."""
        settings, pools = self.active()
        pool = pools.get(script)
        if pool is None:
            return False, f"no script named {script!r}"
        try:
            worker = await pool.acquire()
        except (Overloaded, PoolRetired) as e:
            return False, f"no worker available: {e}"
        when = scheduled_time if scheduled_time is not None else time.time() * 1000
        stream = self.table.open(worker, f"cron-{next(self._ids)}", "SCHEDULED", 0)
        started = time.monotonic()
        try:
            if not stream.send(p.Scheduled(stream.sid, cron, when)):
                return False, f"{worker.name} is not reachable"
            limit = settings.scripts[script].limits.wall_time
            async with asyncio.timeout(max(limit, 1.0) * 30):
                await stream.next_chunk()
            return True, f"done in {time.monotonic() - started:.3f} s on {worker.name}"
        except StreamFailed as e:
            return False, f"failed on {worker.name}: {e.message}"
        except TimeoutError:
            return False, f"no outcome from {worker.name} in time"
        finally:
            if stream.failure is None:
                stream.cancel("gave up")
            self.table.close(stream)
            pool.release(worker)
