"""Idempotent requests whose worker died before answering are retried once elsewhere.

Only a GET or HEAD without a body, only before any response byte, only once; everything
else gets its 502 (or its broken body). ``[server] retry_idempotent`` and
``--[no-]retry-idempotent`` switch it (on by default; see docs/configuration.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from isoflow.supervisor import cli, config
from tests.chaos.support import config as chaos_config
from tests.chaos.support import wait_until
from tests.conftest import run
from tests.procstats import alive


async def _request(base: str, method: str, path: str, data: bytes | None = None):
    async with aiohttp.ClientSession() as s:
        try:
            async with s.request(method, base + path, data=data) as r:
                return r.status, await r.read()
        except aiohttp.ClientPayloadError:
            return r.status, "broken"


def _ready_w0(server, not_pid: int | None = None) -> int:
    """The pid of a live, ready w0 (another one than ``not_pid``)."""
    return wait_until(lambda: (p := server.worker_pids().get("app/w0")) and p != not_pid
                      and alive(p) and p, 20, "a ready w0")


def test_only_idempotent_requests_without_a_body_are_retried_once(ops):
    server = ops(chaos_config(9, workers=1))
    base = server.url("").rstrip("/")

    async def scenario():
        pid = _ready_w0(server)
        calls = [
            _request(base, "GET", "/wait?ms=1500"),
            _request(base, "HEAD", "/wait?ms=1500"),
            _request(base, "POST", "/wait?ms=1500", b"body"),
            _request(base, "GET", "/wait?ms=1500", b"a GET with a body"),
            _request(base, "DELETE", "/wait?ms=1500"),
            _request(base, "GET", "/gen?n=300&delay=10"),  # its head is out: not retried
        ]
        tasks = [asyncio.ensure_future(c) for c in calls]
        await asyncio.sleep(0.6)
        os.kill(pid, signal.SIGKILL)
        return await asyncio.gather(*tasks)

    (get, head, post, get_body, delete, stream) = run(scenario())
    assert get[0] == 200 and get[1].startswith(b"waited"), get
    assert head[0] == 200, head
    for status, body in (post, get_body, delete):
        assert status == 502 and b"died" in body
    assert stream == (200, "broken")
    assert len(server.wait_log(r"app/w0 died before answering; retrying on another worker",
                               count=2)) == 2

    # Once only: the worker taking the retry dies as well -> 502.
    async def twice():
        first = _ready_w0(server)
        task = asyncio.ensure_future(_request(base, "GET", "/wait?ms=4000"))
        await asyncio.sleep(0.5)
        os.kill(first, signal.SIGKILL)
        second = await asyncio.to_thread(_ready_w0, server, first)
        await asyncio.sleep(0.5)
        os.kill(second, signal.SIGKILL)
        return await task

    status, body = run(twice())
    assert status == 502 and b"died" in body


def test_the_retry_option(tmp_path: Path):
    script = tmp_path / "w.js"
    script.write_text("addEventListener('fetch', e => e.respondWith(new Response('x')));")
    parse = cli.build_parser().parse_args
    assert cli._serve_settings(cli.build_parser(), parse(["serve", str(script)])) \
        .retry_idempotent is True
    off = parse(["serve", str(script), "--no-retry-idempotent"])
    assert cli._serve_settings(cli.build_parser(), off).retry_idempotent is False
    toml = tmp_path / "c.toml"
    body = f"""
[server]
retry_idempotent = false
header_timeout = 5
body_timeout = 7.5
send_timeout = 9

[[listeners]]
port = 8080

[scripts.app]
path = "{script}"

[[routes]]
script = "app"
"""
    toml.write_text(body)
    settings = config.load(toml).settings
    assert settings.retry_idempotent is False
    assert (settings.header_timeout, settings.body_timeout, settings.send_timeout) == (5, 7.5, 9)
    toml.write_text(body.replace("retry_idempotent = false", "retry_idempotent = 1")
                    .replace("send_timeout = 9", "send_timeout = -1"))
    with pytest.raises(config.ConfigError) as e:
        config.load(toml)
    assert "server.retry_idempotent: must be true or false" in str(e.value)
    assert "server.send_timeout: must be positive" in str(e.value)
    with pytest.raises(SystemExit):
        cli._serve_settings(cli.build_parser(),
                            parse(["serve", "--config", str(toml), "--retry-idempotent"]))
