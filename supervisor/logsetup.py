"""Log output: plain text lines or JSON lines, the same records either way.

Records may carry structured fields in ``extra={"fields": {...}}``, or a callable returning
them so that a hot path builds them only when the JSON format asks (the access log, the
scripts' console lines); the JSON format puts them at the top level of the line, the text
format prints the message alone (those messages already say what the fields hold).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What a text line's message may not carry as it is: controls (C0 but tab, DEL, C1) and the
# Unicode line separators. A script's console output and a request's path reach the log.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
CONTINUATION = "\n    "  # a line break in a message: the next line indented (never a new record)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return CONTINUATION
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text_safe(message: str) -> str:
    """``message`` as a text log line may carry it: a line break continues on an indented
    line, other controls are written as \\xNN escapes (a CR, an ANSI escape, a NUL would forge a
    record or reach the operator's terminal)."""
    return message if message.isprintable() else _UNSAFE.sub(_escaped, message)


class TextFormatter(logging.Formatter):
    """The text format, its messages made :func:`text_safe` (tracebacks stay as they are)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = text_safe(record.message)
        return super().formatMessage(record)


class LogLimiter:
    """Says whether a line about ``what`` may be logged: once per ``every`` seconds (what a
    peer can make us say again and again is said once a minute)."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last: dict[object, float] = {}

    def __call__(self, what: object) -> bool:
        now = time.monotonic()
        if now - self._last.get(what, -self.every) < self.every:
            return False
        if len(self._last) > 10_000:
            self._last.clear()
        self._last[what] = now
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        if callable(fields):
            fields = fields()
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return json_line(record.created, record.levelname, record.name, record.getMessage(),
                         fields if isinstance(fields, dict) else None, exception)


def json_line(created: float, level: str, logger: str, message: str,
              fields: dict[str, object] | None, exception: str | None = None) -> str:
    """One JSON log line: time, level, logger, message, then the fields."""
    line: dict[str, object] = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level.lower(),
        "logger": logger,
        "message": message,
    }
    if fields:
        line.update(fields)
    if exception is not None:
        line["exception"] = exception
    return json.dumps(line, ensure_ascii=False, default=str)


class BatchedStreamHandler(logging.StreamHandler):
    """A stream handler that, on the event loop's thread, writes the lines of one loop turn
    with one write: at thousands of requests a second the access log's write-and-flush per
    line cost more than serving the requests. Warnings and worse are written at once, and
    anything pending is written before the process exits (``flush``)."""

    def __init__(self, stream: object = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or record.levelno >= logging.WARNING:
            self._write_pending()
            super().emit(record)
            return
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add_line(line, loop)

    def add_line(self, line: str, loop: asyncio.AbstractEventLoop) -> None:
        """A formatted line for this loop turn's write (:meth:`emit`, :func:`info_line`)."""
        self._pending.append(line + self.terminator)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._write_pending)

    def _write_pending(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # like StreamHandler: logging must never take the service down
            pass

    def flush(self) -> None:
        self._write_pending()
        super().flush()


class _Clock:
    """``asctime`` as logging's default Formatter writes it, the seconds part made once a
    second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def asctime(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return f"{self._text},{int((now - second) * 1000):03d}"


_batched: BatchedStreamHandler | None = None  # the root's handler, as configure() set it
_json = False
_clock = _Clock()


def info_line(logger: logging.Logger, message: str,
              fields: Callable[[], dict[str, object]]) -> None:
    """Log ``message`` at INFO on ``logger`` as :func:`configure`'s handler would write it,
    without a LogRecord (its caller lookup, formatting and locks cost the access log ~7 µs a
    line). Anything else in the way (another handler, a filter, no running loop) takes the
    logging module's own path."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _batched
    root = logging.root
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if (handler is None or loop is None or logger.handlers or logger.filters
            or not logger.propagate or root.handlers != [handler] or root.filters
            or handler.filters or handler.level > logging.INFO):
        logger.info("%s", message, extra={"fields": fields})
        return
    now = time.time()
    if _json:
        line = json_line(now, "INFO", logger.name, message, fields())
    else:
        line = f"{_clock.asctime(now)} INFO {logger.name}: {text_safe(message)}"
    handler.add_line(line, loop)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """(Re)configure the root logger: stderr, the given level and format."""
    global _batched, _json
    handler = BatchedStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    _batched, _json = handler, fmt == "json"
    root = logging.getLogger()
    for old in list(root.handlers):
        old.flush()
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
