"""One request's bookkeeping in the front (:class:`Exchange`) and its request id."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

CLIENT_GONE = 499  # nginx's status for "the client closed the connection first"
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")  # visible ASCII, as a client may send it

# Request ids need to be unique, not secret: a per-process random prefix and a counter,
# which costs no system call per request (secrets.token_hex costs one).
_ID_PREFIX = secrets.token_hex(4)
_ids = itertools.count(1)


def request_id(headers: Mapping[str, str], header: str) -> str:
    """The request id the client sent in ``header`` if it is valid, else a new one."""
    given = headers.get(header, "")
    return given if given and _REQUEST_ID.fullmatch(given) else _new_request_id()


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFF:08x}"


@dataclass(slots=True)
class Exchange:
    """One request's bookkeeping, for the access log and the metrics."""

    request_id: str
    route: str = ""
    worker: str = ""
    status: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    aborted: bool = False
    finished: bool = False  # the whole response went to the client
    close_connection: bool = False  # its upload was relayed: aiohttp's parser is behind
    continue_due: bool = False  # the client waits for a 100 Continue before its body
