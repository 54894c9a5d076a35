"""The scheduler's clock (in process): a cron trigger fires at its due time, and again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from isoflow.supervisor.cron import Cron
from isoflow.supervisor.scheduler import Scheduler


def test_a_trigger_fires_at_each_due_minute():
    async def main() -> list[tuple[str, str, float]]:
        # Each time the loop looks at the clock, it is 50 ms before the next minute.
        start = datetime(2026, 11, 25, 13, 37, 59, 950_000, tzinfo=UTC)
        times = (start + timedelta(minutes=i) for i in range(10))
        scheduler = Scheduler(None, lambda: (None, {}), clock=lambda: next(times))  # type: ignore[arg-type]
        fired: list[tuple[str, str, float]] = []
        done = asyncio.Event()

        async def trigger(script: str, cron: str, when: float | None = None):
            fired.append((script, cron, when))
            if len(fired) == 2:
                done.set()
            return True, "done"

        scheduler.trigger = trigger  # type: ignore[method-assign]
        task = asyncio.ensure_future(scheduler._loop("api", Cron.parse("* * * * *")))
        await asyncio.wait_for(done.wait(), 5)
        task.cancel()
        return fired

    fired = asyncio.run(main())
    first = datetime(2026, 11, 25, 13, 38, tzinfo=UTC).timestamp() * 1000
    assert fired[0] == ("api", "* * * * *", first)
    assert fired[1] == ("api", "* * * * *", first + 60_000)


def test_a_run_that_never_ends_does_not_hold_the_next_one_back():
    """The next run was computed after the previous one ended: a handler that never settles
    silently skipped every run due meanwhile (up to 30x its wall time)."""
    async def main() -> int:
        start = datetime(2026, 11, 25, 13, 37, 59, 950_000, tzinfo=UTC)
        times = (start + timedelta(minutes=i) for i in range(10))
        scheduler = Scheduler(None, lambda: (None, {}), clock=lambda: next(times))  # type: ignore[arg-type]
        started = 0
        two = asyncio.Event()

        async def trigger(script: str, cron: str, when: float | None = None):
            nonlocal started
            started += 1
            if started == 2:
                two.set()
            await asyncio.Event().wait()  # never ends
            return True, "done"

        scheduler.trigger = trigger  # type: ignore[method-assign]
        scheduler._tasks.add(asyncio.ensure_future(
            scheduler._loop("api", Cron.parse("* * * * *"))))
        await asyncio.wait_for(two.wait(), 5)
        scheduler.stop()
        return started

    assert asyncio.run(main()) == 2
