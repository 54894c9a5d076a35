"""Cron expressions for scheduled events, evaluated in UTC as Cloudflare's cron triggers are.

Five fields - minute, hour, day of month, month, day of week - each ``*``, a number, a name
(JAN-DEC, SUN-SAT), a range ``a-b``, a step ``*/n`` or ``a-b/n``, or a comma list of those;
and the shorthands ``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``. As in
classic cron, when both day fields are restricted a day matches if either does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
          ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS))
MAX_SEARCH = timedelta(days=366 * 5)
_LONGEST = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30,
            12: 31}  # days of each month in its longest year


class CronError(ValueError):
    """An expression that is not valid cron; the message says which field and why."""


def _value(text: str, name: str, lo: int, hi: int, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise CronError(f"{name}: {text!r} is not a number" + (
            f" or one of {', '.join(names)}" if names else ""))
    value = int(text)
    if not lo <= value <= hi:
        raise CronError(f"{name}: {value} is outside {lo}-{hi}")
    return value


def _field(text: str, name: str, lo: int, hi: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{name}: empty list item in {text!r}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, name, lo, hi, names), _value(b, name, lo, hi, names)
            if start > end:
                raise CronError(f"{name}: range {base!r} runs backwards")
        else:
            start = _value(base, name, lo, hi, names)
            end = hi if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        """``expression`` (5 fields, or a shorthand such as @daily); CronError if it is not
        one, or can never fire."""
        text = SHORTHANDS.get(expression.strip().lower(), expression.strip())
        parts = text.split()
        if len(parts) != 5:
            raise CronError(f"expected 5 fields (minute hour day month weekday), got {len(parts)}")
        sets = [_field(p, *spec) for p, spec in zip(parts, FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        days_restricted, weekdays_restricted = parts[2] != "*", parts[4] != "*"
        # Days only (a weekday field of "*"): some month of the expression must have one of
        # its days ("0 0 31 2 *" parsed, then never fired and stopped the scheduler).
        if days_restricted and not weekdays_restricted and not any(
                day <= _LONGEST[month] for month in sets[3] for day in sets[2]):
            raise CronError(f"{expression!r} never matches: none of its months has its days")
        return cls(expression, sets[0], sets[1], sets[2], sets[3], weekdays,
                   days_restricted, weekdays_restricted)

    def _day_matches(self, t: datetime) -> bool:
        dom = t.day in self.days
        dow = (t.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute strictly after ``t`` (UTC)."""
        t = t.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + MAX_SEARCH
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise CronError(f"{self.expression!r} never matches")
