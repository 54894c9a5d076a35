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
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if callable(fields):
            fields = fields()
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
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
            self._pending.append(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
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


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """(Re)configure the root logger: stderr, the given level and format."""
    handler = BatchedStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        old.flush()
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
