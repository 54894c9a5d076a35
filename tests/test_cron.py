"""Cron expressions for scheduled events (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from isoflow.supervisor.cron import Cron, CronError

T0 = datetime(2026, 11, 25, 13, 37, 20, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("* * * * *", datetime(2026, 11, 25, 13, 38, tzinfo=UTC)),
        ("*/15 * * * *", datetime(2026, 11, 25, 13, 45, tzinfo=UTC)),
        ("0 * * * *", datetime(2026, 11, 25, 14, 0, tzinfo=UTC)),
        ("30 9 * * *", datetime(2026, 11, 26, 9, 30, tzinfo=UTC)),
        ("0 0 1 * *", datetime(2026, 12, 1, tzinfo=UTC)),
        ("0 0 * * MON", datetime(2026, 11, 30, tzinfo=UTC)),
        ("0 12 * * 1-5", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
        ("0 0 29 2 *", datetime(2028, 2, 29, tzinfo=UTC)),
        ("@daily", datetime(2026, 11, 26, tzinfo=UTC)),
        ("@yearly", datetime(2027, 1, 1, tzinfo=UTC)),
        ("0 0 1 JAN,JUL *", datetime(2027, 1, 1, tzinfo=UTC)),
        ("0 0 13 * 5", datetime(2026, 11, 27, tzinfo=UTC)),  # Friday OR the 13th
        ("0 0 * * 7", datetime(2026, 11, 29, tzinfo=UTC)),  # 7 is Sunday too
        ("5-10/5 13 * * *", datetime(2026, 11, 26, 13, 5, tzinfo=UTC)),
    ],
)
def test_next_after(expr, expected):
    assert Cron.parse(expr).next_after(T0) == expected


@pytest.mark.parametrize(
    "expr, message",
    [
        ("* * * *", "expected 5 fields"),
        ("60 * * * *", "minute: 60 is outside 0-59"),
        ("* 24 * * *", "hour: 24"),
        ("* * 0 * *", "day of month: 0"),
        ("* * * 13 *", "month: 13"),
        ("* * * * FUNDAY", "day of week: 'FUNDAY' is not a number"),
        ("*/0 * * * *", "step '0'"),
        ("5-1 * * * *", "runs backwards"),
        ("1,,2 * * * *", "empty list item"),
    ],
)
def test_invalid_expressions(expr, message):
    with pytest.raises(CronError, match=message):
        Cron.parse(expr)


@pytest.mark.parametrize("expr", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_an_impossible_date_is_refused_when_parsed(expr):
    # It parsed, then never fired: the scheduler's task died with an unretrieved error.
    with pytest.raises(CronError, match="never matches"):
        Cron.parse(expr)


@pytest.mark.parametrize("expr", ["0 0 29 2 *", "0 0 31 2 MON", "0 0 30,31 1-3 *"])
def test_a_rare_date_or_a_weekday_alternative_is_kept(expr):
    assert Cron.parse(expr).next_after(T0) > T0
