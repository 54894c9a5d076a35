"""The URL the front gives a script (front.request_url) is aiohttp's ``str(request.url)``,
byte for byte, for whatever target and Host aiohttp's own parser lets through."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from unittest import mock

import pytest
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser  # the C parser where aiohttp has it
from yarl import URL

from isoflow.supervisor.front import request_url, valid_host

TARGETS = [
    "/", "/a/b?x=1&y=%20z", "/a/./b", "/a/../b", "/a/.", "/a/..", "/.", "/..", "//evil.com/x",
    "/a//b", "/%7e", "/%7E/a", "/a?b=c#frag", "/%2e%2e/x", "/a/%2E/b", "/?q=a|b", "/?q={x}",
    "/A%2fB", "/x?", "/x?#", "/x#", "/x#?", "/a?x=/../y", "/.hidden", "/a/.b", "/a..b",
    "/a/...", "/!$&'()*+,;=:@", "/x?a=1&a=2", "/a\\b", "/a%zz", "/?a=%ZZ", "/~u/x.y",
    "http://other.example/x", "http://other.example", "/a?b#c#d", "/a#b/../c",
]
HOSTS = [
    "example.com", "Example.COM", "example.com:80", "example.com:443", "example.com:080",
    "example.com:8080", "EXAMPLE.com:8080", "example.com.", "localhost", "127.0.0.1:18080",
    "[::1]:8080", "[0:0:0:0:0:0:0:1]", "xn--bcher-kva.example", "a-b.c", "a_b.example",
    "1.2.3.4:65535", "example.com:", "example.com:0",
]


@dataclass
class _Request:
    """What request_url reads of aiohttp's BaseRequest, made as BaseRequest makes it."""

    scheme: str
    host: str
    raw_path: str
    url: URL


def _parsed(target: str, host: str, scheme: str) -> _Request | None:
    loop = asyncio.new_event_loop()
    try:
        parser = HttpRequestParser(mock.Mock(), loop, 2**16, max_line_size=8190,
                                   max_field_size=8190)
        raw = f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode("latin-1")
        try:
            messages, _upgraded, _tail = parser.feed_data(raw)
        except HttpProcessingError:
            return None  # the front answers 400 before any URL is made
    finally:
        loop.close()
    message = messages[0][0]
    rel = message.url.relative() if message.url.is_absolute() else message.url
    # BaseRequest.url: URL.build(scheme=self.scheme, authority=self.host).join(self._rel_url)
    return _Request(scheme, host, message.path, URL.build(scheme=scheme, authority=host).join(rel))


def _check(target: str, host: str, scheme: str) -> None:
    request = _parsed(target, host, scheme)
    if request is None or not valid_host(host):  # both answered 400 by the front
        return
    assert request_url(request) == str(request.url), (target, host, scheme)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_known_shapes(scheme: str) -> None:
    for target in TARGETS:
        for host in HOSTS:
            _check(target, host, scheme)


def test_random_targets() -> None:
    rng = random.Random(13)
    alphabet = "abcXYZ019/./?#%&=;:@!$'()*+,~_-|{}\\^`[]"
    for _ in range(4000):
        target = "/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        _check(target, rng.choice(HOSTS), rng.choice(["http", "https"]))
