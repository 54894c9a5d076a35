"""What the supervisor needs to know to run: listeners, scripts and their pools, routes, limits.

Built either from the command line (``isoflow serve SCRIPT --port ...``: one script, one
listener, one catch-all route) or from a TOML file (``config.py``). Every field has a
default that works on one host; sizes are in bytes and times in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .cron import Cron, CronError
from .routing import Route

DEFAULT_SCRIPT = "default"  # the script's name when it comes from the command line


def default_cache_dir() -> Path:
    """Where compiled bundles live unless configured: ``$XDG_CACHE_HOME/isoflow``, else
    ``~/.cache/isoflow``. Keyed by content and compiler version, so it is never stale."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "isoflow"


# The compatibility flags isoflow honours (Workers has many more: a wrangler project's
# others are listed at start as not honoured, supervisor/wrangler.py).
COMPAT_FLAGS = ("nodejs_compat", "nodejs_compat_v2")


def compat_flag_problem(flag: str) -> str | None:
    """Why ``flag`` cannot be a script's compatibility flag, or None."""
    if flag in COMPAT_FLAGS:
        return None
    return f"isoflow honours only {', '.join(COMPAT_FLAGS)}"


def default_fronts() -> int:
    """Half the cores this process may use, at least one: per hello request a front spends a
    little more CPU than the workers (~65 against ~48 µs), and heavier handlers move the
    balance to the workers. On two cores one front serves as many requests/s as two, at
    less CPU per request (docs/performance.md, *Many fronts*)."""
    return max(1, _cores() // 2)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """One worker per core this process may run on."""
    return _cores()


@dataclass
class Limits:
    """Per-script limits (``[limits]`` gives the defaults, ``[scripts.X.limits]`` overrides)."""

    cpu_time: float = 30.0  # seconds of uninterrupted JavaScript in one isolate
    memory: int = 512 << 20  # V8 heap per isolate, bytes
    wall_time: float = 30.0  # seconds from dispatch to the response head (routes may override)
    max_body_size: int = 100 << 20  # request body bytes; more gets 413 (0: no limit)
    max_concurrent: int = 128  # requests in flight on one worker (0: no limit)
    queue_size: int = 1024  # requests waiting for a worker of this script; more get 503
    queue_timeout: float = 10.0  # seconds a request may wait in that queue before a 503
    max_subrequests: int = 50  # fetch() calls per request (enforced by the worker)
    wall_time_after_response: float = 30.0  # seconds a request's timers/waitUntil run on after it
    max_runtime_failures: int = 10  # consecutive runtime failures before an isolate is replaced
    recycle_requests: int = 0  # replace a worker after this many requests (0: never)
    recycle_heap: int = 0  # replace a worker once its V8 heap uses this many bytes (0: never)
    recycle_rss: int = 0  # replace a worker once its process is this many bytes resident (0: never)
    websocket_max_message: int = 1 << 20  # bytes of one WebSocket message; more: close 1009
    websocket_idle_timeout: float = 300.0  # seconds without a message either way (0: none)
    websocket_connections: int = 1000  # open WebSockets and TCP sockets per worker


@dataclass
class ScriptSettings:
    """One worker script and the pool of processes that runs it."""

    name: str
    path: Path
    workers: int = field(default_factory=default_workers)
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # never logged
    limits: Limits = field(default_factory=Limits)
    allow_private: bool = False  # may fetch() reach private addresses?
    allow_loopback: bool = False  # may fetch() reach loopback addresses?
    crons: list[str] = field(default_factory=list)  # scheduled-event triggers (UTC)
    remote: bool = False  # may workers on other hosts join this script's pool?
    pack: bool = True  # new requests to as few workers as keep up (packing.py)?
    root: Path | None = None  # the folder its imports are confined to (None: the default)
    compatibility_flags: list[str] = field(default_factory=list)  # "nodejs_compat": node: built-ins
    first_slot: int = 0  # its first worker's number (with many fronts: numbered across them)


@dataclass
class Listener:
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert is not None else "http"


@dataclass
class RemoteSettings:
    """``[remote]``: where workers on other hosts connect, and the CURVE keys (remote.py)."""

    port: int
    key: Path  # the supervisor's keypair (a .key_secret file)
    authorized_keys: Path  # a directory of workers' public .key files, or one such file
    host: str = "0.0.0.0"


@dataclass
class Settings:
    scripts: dict[str, ScriptSettings]
    routes: list[Route]
    listeners: list[Listener] = field(default_factory=lambda: [Listener()])
    metrics: Listener | None = None  # the /metrics, /healthz, /readyz listener
    remote: RemoteSettings | None = None  # the TCP endpoint for workers on other hosts

    # logging
    log_level: str = "INFO"
    log_format: str = "text"  # or "json"
    access_log: bool = True
    request_id_header: str = "X-Request-Id"

    # HTTP parser limits (aiohttp's; they apply before a request is routed)
    max_line_size: int = 8190  # the request line
    max_field_size: int = 8190  # one header field: 431 over it
    max_headers: int = 128  # header fields per request
    max_header_size: int = 64 << 10  # all header fields together: 431 over it (front.py)

    # slow clients (docs/security.md): seconds, see docs/configuration.md
    header_timeout: float = 75.0  # to receive a whole request head (and idle keep-alive)
    body_timeout: float = 60.0  # between two pieces of a request body
    send_timeout: float = 60.0  # for one response chunk to be taken by the client
    retry_idempotent: bool = True  # GET/HEAD without a body, worker died before the head

    # flow control
    chunk_size: int = 64 << 10  # largest request body chunk read from a client at once
    request_window: int = 256 << 10  # request body bytes a worker accepts before granting
    response_window: int = 1 << 20  # response body bytes a worker may send before a grant
    relay: bool = True  # untouched forwarded bodies move socket to socket (relays.py)
    relay_mode: str = "copy"  # "copy" (a 4 MiB buffer) or "splice" (os.splice; splice.py)

    # process management
    fronts: int = field(default_factory=default_fronts)  # HTTP front processes (fronts.py)
    shutdown_grace: float = 10.0
    heartbeat_interval: float = 1.0
    heartbeat_timeout: float = 10.0
    start_timeout: float = 60.0
    runtime_dir: Path | None = None  # private 0700 directory for IPC sockets; made if None
    cache_dir: Path | None = field(default_factory=default_cache_dir)  # compiled bundles
    pid_file: Path | None = None  # written at start for `isoflow reload`
    config_path: Path | None = None  # the TOML file these settings came from, if any
    config_text: str | None = field(default=None, repr=False, compare=False)  # its text

    @classmethod
    def single_script(cls, script: Path, *, host: str = "127.0.0.1", port: int = 8080,
                      workers: int | None = None, env: dict[str, str] | None = None,
                      limits: Limits | None = None, crons: list[str] | None = None,
                      compatibility_flags: list[str] | None = None,
                      **kwargs: object) -> Settings:
        """The command line's settings: one script served on one listener for every path."""
        spec = ScriptSettings(DEFAULT_SCRIPT, script, workers or default_workers(),
                              dict(env or {}), limits=limits or Limits(), crons=list(crons or []),
                              compatibility_flags=list(compatibility_flags or []))
        route = Route(name=DEFAULT_SCRIPT, script=DEFAULT_SCRIPT)
        return cls({DEFAULT_SCRIPT: spec}, [route], [Listener(host, port)], **kwargs)

    def validate(self) -> list[str]:
        """Problems the config loader cannot see (command-line values), as sentences."""
        problems = []
        for listener in self.listeners:
            if not 0 < listener.port < 65536:
                problems.append(f"port must be between 1 and 65535, got {listener.port}")
        if self.fronts < 1:
            problems.append(f"fronts must be at least 1, got {self.fronts}")
        for spec in self.scripts.values():
            if self.fronts > 1 and spec.workers < 1:
                problems.append(f"script {spec.name!r}: with more than one front, every "
                                "script needs local workers (remote workers join front 0)")
            if spec.workers < (0 if spec.remote else 1):
                problems.append(f"workers must be at least 1, got {spec.workers}")
            if spec.limits.memory < 16 << 20:
                problems.append("memory_limit must be at least 16 MiB")
            for name in ("wall_time", "cpu_time", "wall_time_after_response"):
                if getattr(spec.limits, name) <= 0:
                    problems.append(f"{name} must be positive")
            problems += [f"compatibility flag {f!r}: {why}" for f in spec.compatibility_flags
                         if (why := compat_flag_problem(f)) is not None]
            for text in spec.crons:
                try:
                    Cron.parse(text)
                except CronError as e:
                    problems.append(f"cron {text!r}: {e}")
        for name in ("chunk_size", "request_window", "response_window"):
            value = getattr(self, name)
            if not (1024 <= value <= 64 << 20):
                problems.append(f"{name} must be between 1 KiB and 64 MiB, got {value}")
        for name in ("shutdown_grace", "heartbeat_interval", "heartbeat_timeout",
                     "header_timeout", "body_timeout", "send_timeout"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        return problems

    def worker_options(self, script: str) -> dict[str, object]:
        """The isolate worker's BridgeConfig fields for one script (its ``--options``)."""
        spec = self.scripts[script]
        limits = spec.limits
        return {
            "request_window": self.request_window,
            "max_chunk": min(self.response_window, 256 << 10),
            "env": {**spec.env, **spec.secrets},
            "cpu_limit": limits.cpu_time,
            "memory_limit": limits.memory,
            "max_subrequests": limits.max_subrequests,
            "wall_time_after_response": limits.wall_time_after_response,
            "max_runtime_failures": limits.max_runtime_failures,
            "allow_private": spec.allow_private,
            "allow_loopback": spec.allow_loopback,
            "websocket_max_message": limits.websocket_max_message,
            "websocket_connections": limits.websocket_connections,
        }
