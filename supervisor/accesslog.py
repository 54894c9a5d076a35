"""The access log: one line per request, on the ``isoflow.access`` logger.

Text: ``127.0.0.1 "GET /api/x HTTP/1.1" 200 in=0 out=12 0.004s route=api worker=api/w0
id=5f2c...`` (``aborted`` is appended when the response broke off after its head).
JSON: the same as fields (``client, method, path, version, status, bytes_in, bytes_out,
duration, route, worker, request_id, aborted``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import logsetup

log = logging.getLogger("isoflow.access")


@dataclass
class AccessRecord:
    client: str
    method: str
    path: str
    version: str
    status: int
    bytes_in: int
    bytes_out: int
    duration: float
    route: str
    worker: str
    request_id: str
    aborted: bool = False

    def text(self) -> str:
        line = (f'{self.client or "-"} "{self.method} {self.path} HTTP/{self.version}" '
                f"{self.status} in={self.bytes_in} out={self.bytes_out} {self.duration:.4f}s "
                f"route={self.route or '-'} worker={self.worker or '-'} id={self.request_id}")
        return line + (" aborted" if self.aborted else "")

    def fields(self) -> dict[str, object]:
        """The record for the JSON log format (a literal: dataclasses.asdict costs 20x more)."""
        return {
            "client": self.client, "method": self.method, "path": self.path,
            "version": self.version, "status": self.status, "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out, "duration": round(self.duration, 6),
            "route": self.route, "worker": self.worker, "request_id": self.request_id,
            "aborted": self.aborted,
        }


def enabled() -> bool:
    """Whether a line would be written (the log level lets INFO through): a record is not
    worth building otherwise."""
    return log.isEnabledFor(logging.INFO)


def write(record: AccessRecord) -> None:
    if enabled():
        logsetup.info_line(log, record.text(), record.fields)
