"""The access log's fast path writes what the logging module would, in both formats."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from isoflow.supervisor import accesslog, logsetup

RECORD = accesslog.AccessRecord("127.0.0.1", "GET", "/a?b=c", "1.1", 200, 3, 14, 0.0012,
                                "main", "app/w0", "bb8d989800000001")
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A stream for configure()'s handler; the logging setup is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved = logsetup._batched, logsetup._json
    yield io.StringIO()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logsetup._batched, logsetup._json = saved


def configure(level: str, fmt: str, out: io.StringIO) -> None:
    logsetup.configure(level, fmt)
    logging.getLogger().handlers[0].setStream(out)  # type: ignore[attr-defined]


async def _log_both() -> None:
    accesslog.write(RECORD)  # the fast path: the handler is configure()'s own
    log = accesslog.log
    log.info("%s", RECORD.text(), extra={"fields": RECORD.fields})  # the logging module's
    await asyncio.sleep(0)  # the batched lines are written at the end of the loop turn


def test_a_text_access_line_is_the_logging_modules_line(stream):
    configure("INFO", "text", stream)
    asyncio.run(_log_both())
    fast, slow = stream.getvalue().splitlines()
    assert STAMP.match(fast) and STAMP.match(slow)
    assert STAMP.sub("", fast) == STAMP.sub("", slow)
    assert fast.endswith('INFO isoflow.access: 127.0.0.1 "GET /a?b=c HTTP/1.1" 200 in=3 out=14 '
                         "0.0012s route=main worker=app/w0 id=bb8d989800000001")


def test_a_text_line_cannot_be_forged_or_carry_terminal_controls(stream):
    # A script's console output and a request's (decoded) path reach the text log: a line
    # break continues on an indented line, other controls are escaped, by both paths.
    configure("INFO", "text", stream)
    forged = "x\n2026-12-07 00:00:00,000 ERROR isoflow.supervisor: FORGED\r\x1b[31m\x00\u2028"
    logging.getLogger("isoflow.console").warning("%s", forged)
    record = accesslog.AccessRecord("127.0.0.1", "GET", "/" + forged, "1.1", 200, 0, 0, 0.0,
                                    "main", "app/w0", "id")

    async def access() -> None:
        accesslog.write(record)
        await asyncio.sleep(0)

    asyncio.run(access())
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and lines[1].startswith("    2026") and lines[3].startswith("    2026")
    assert all(STAMP.match(line) for line in lines[::2])
    assert lines[1].endswith("FORGED\\x0d\\x1b[31m\\x00\\u2028")
    assert all(line.isprintable() for line in lines)


def test_a_json_access_line_is_the_logging_modules_line(stream):
    configure("INFO", "json", stream)
    asyncio.run(_log_both())
    fast, slow = (json.loads(line) for line in stream.getvalue().splitlines())
    del fast["time"], slow["time"]
    assert fast == slow
    assert fast["logger"] == "isoflow.access" and fast["status"] == 200


def test_another_handler_or_a_higher_level_takes_the_logging_modules_path(stream):
    configure("INFO", "text", stream)
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        asyncio.run(_log_both())
    finally:
        logging.getLogger().removeHandler(handler)
    assert len(seen) == 2 and seen[0].getMessage() == RECORD.text()
    configure("WARNING", "text", stream)
    asyncio.run(_log_both())
    assert len(stream.getvalue().splitlines()) == 2  # the two lines of the first run only


def test_no_record_is_built_below_the_access_logs_level(stream):
    """The front builds an access record only when a line would be written."""
    configure("WARNING", "text", stream)
    assert not accesslog.enabled()
    configure("INFO", "text", stream)
    assert accesslog.enabled()
