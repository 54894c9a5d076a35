"""HTTP header text as bytes, with latin-1 semantics (as browsers, Fetch and workerd have it).

A header value is a sequence of bytes; the runtime holds it as a ByteString (one code unit
per byte, U+0000-U+00FF). So bytes 0x80-0xFF must leave as the same single bytes, never
re-encoded as UTF-8. aiohttp writes header text as UTF-8 (client and server alike);
:func:`serialize_head` replaces its serializer (``install``), keeping its check against
header injection. Text beyond U+00FF (never a ByteString; the runtime refuses it) is sent as
UTF-8, as before. This module does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# RFC 9110 §5.5: no CR, LF, NUL or other controls but tab in a field (nor in a status line).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def serialize_head(status_line: str, headers: Mapping[str, str]) -> bytes:
    """``status_line`` and ``headers`` as the bytes of an HTTP/1.1 head (with the blank
    line); raises ValueError for a control character (header injection)."""
    if _ascii_serializer is not None:  # aiohttp's own (C): right whenever it writes ASCII
        head = _ascii_serializer(status_line, headers)
        if head.isascii():
            return head
    return encode_head([status_line, *(f"{k}: {v}" for k, v in headers.items())])


def encode_head(lines: list[str]) -> bytes:
    """A status line and its ``name: value`` lines as the bytes of a head (with the blank
    line); raises ValueError for a control character in any of them (header injection)."""
    if has_control(lines):
        raise ValueError("Forbidden control character detected in headers. "
                         "Potential header injection attack.")
    return _bytes("\r\n".join(lines) + "\r\n\r\n")


def has_control(texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` holds a control character (tab aside) a head cannot carry."""
    joined = "".join(texts)
    # Every forbidden character is a control (Unicode Cc), which isprintable() refuses: a
    # printable head (nearly all) needs no search (0.36 against 0.61 µs a response head).
    return not joined.isprintable() and _FORBIDDEN.search(joined) is not None


def field_tokens(values: Iterable[str]) -> frozenset[str]:
    """The (lowercased) tokens of a comma-separated list field (``Connection``, ``Upgrade``)
    over all its values. For ``Connection`` they name the hop-by-hop fields that a proxy
    must not forward (RFC 9110 §7.6.1)."""
    return frozenset(t.strip().lower() for v in values for t in v.split(",") if t.strip())


_ascii_serializer: Any = None


def install(http_writer: Any) -> None:
    """Make aiohttp's ``http_writer`` module write header bytes with latin-1 semantics."""
    global _ascii_serializer
    if http_writer._serialize_headers is not serialize_head:
        _ascii_serializer = http_writer._serialize_headers
        http_writer._serialize_headers = serialize_head
