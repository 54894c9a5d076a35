"""Response-head timeouts share one timer (supervisor/streams.py HeadDeadlines)."""

from __future__ import annotations

import asyncio

import pytest

from isoflow.supervisor.streams import HeadDeadlines, Stream


class _Worker:
    """What a Stream reads of its worker's handle."""

    request_window = 1 << 16


def _stream(sid: int, deadlines: HeadDeadlines) -> Stream:
    return Stream(sid, _Worker(), f"r{sid}", "GET", 1 << 16, None,  # type: ignore[arg-type]
                  deadlines)


def test_a_head_that_does_not_come_times_out_and_one_that_does_is_forgotten() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        deadlines = HeadDeadlines()
        late, prompt = _stream(1, deadlines), _stream(2, deadlines)
        started = loop.time()
        waiting = asyncio.ensure_future(late.head(0.2))
        answered = asyncio.ensure_future(prompt.head(0.2))
        await asyncio.sleep(0)
        sentinel = object()
        prompt._head.set_result(sentinel)  # type: ignore[arg-type]
        assert await answered is sentinel
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5):  # the deadline's own TimeoutError, long before
                await waiting
        assert not waiting.cancelled()
        assert loop.time() - started >= 0.2  # never early
        assert not deadlines._due
        await asyncio.sleep(HeadDeadlines.GRAIN * 1.5)
        assert deadlines._timer is None  # nothing waits: no timer left running

    asyncio.run(main())


def test_a_cancelled_wait_leaves_no_deadline() -> None:
    async def main() -> None:
        deadlines = HeadDeadlines()
        stream = _stream(1, deadlines)
        waiting = asyncio.ensure_future(stream.head(30))
        await asyncio.sleep(0)
        assert stream in deadlines._due
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert not deadlines._due

    asyncio.run(main())
