"""The TOML config file: read it, check every value, report every problem with its line.

``load(path)`` returns a :class:`Config` (the :class:`Settings` plus where each key is) or
raises :class:`ConfigError` listing *every* problem found, each as
``FILE:LINE: key.path: what is wrong``. Nothing is started here: the only side effects
are reading the files the config names (scripts must exist, secrets are read, TLS
certificates are loaded to check them). ``docs/configuration.md`` describes every key.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
import ssl
import stat
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .cron import Cron, CronError
from .keyfile import KeyFileError, load_authorized, load_keypair
from .routing import Route
from .settings import (
    Limits,
    Listener,
    RemoteSettings,
    ScriptSettings,
    Settings,
    compat_flag_problem,
    default_workers,
)
from .tomlpos import KeyPath, Locator

_MISSING = object()

_UNITS = {
    "": 1, "b": 1,
    "k": 1 << 10, "kib": 1 << 10, "kb": 1000,
    "m": 1 << 20, "mib": 1 << 20, "mb": 1000**2,
    "g": 1 << 30, "gib": 1 << 30, "gb": 1000**3,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name
_HOST = re.compile(r"(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
                   r"|\[[0-9a-f:.]+\])")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Fields request_id_header may not name: framing, routing, hop-by-hop, content, credentials.
_NOT_AN_ID = frozenset({
    "host", "content-length", "transfer-encoding", "content-type", "content-encoding",
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect",
    "date", "server", "cookie", "set-cookie", "authorization", "location",
})
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


@dataclass(frozen=True)
class Problem:
    line: int
    key: str  # dotted key path, "" for the whole file
    message: str

    def format(self, filename: str | Path) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{filename}:{self.line}: {where}{self.message}"


class ConfigError(Exception):
    """The config cannot be used; ``problems`` says why, each with its line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(p.format(path) for p in self.problems))


@dataclass
class Config:
    settings: Settings
    path: Path
    locator: Locator

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.locator.line(path), _dotted(path), message)


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _NAME.fullmatch(part) else f'"{part}"'
            out += f".{name}" if out else name
    return out


class _Bad(Exception):
    """A value of the wrong type or out of range (the message says which)."""


# -- value kinds --------------------------------------------------------------------------


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def as_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"must be an integer, got {_type_name(value)}")
    return value


# The largest values taken: past them a number stops being a limit (a NaN turned the wall
# time off, a size of 2**70 bytes broke RLIMIT_DATA's setting in every worker).
MAX_SECONDS = 10_000_000.0  # ~115 days
MAX_SIZE = 1 << 50  # 1 PiB
# An idle worker is ~85 MiB resident (docs/performance.md, Memory): a lower recycle_rss would
# replace every worker as soon as it started.
RECYCLE_RSS_MIN = 128 << 20


def as_seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"must be a number of seconds, got {_type_name(value)}")
    seconds = float(value)
    if not -MAX_SECONDS <= seconds <= MAX_SECONDS:  # NaN fails this too
        raise _Bad(f"must be a number of seconds up to {MAX_SECONDS:.0f}, got {value}")
    return seconds


def as_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"must be true or false, got {_type_name(value)}")
    return value


def as_str(value: object) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be a string, got {_type_name(value)}")
    return value


def as_str_list(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"expected a list of strings, got {_type_name(value)}")
    return value


def valid_crons(values: list[str]) -> None:
    for text in values:
        try:
            Cron.parse(text)
        except CronError as e:
            raise _Bad(f"{text!r}: {e}") from None


def valid_compat_flags(values: list[str]) -> None:
    for flag in values:
        problem = compat_flag_problem(flag)
        if problem is not None:
            raise _Bad(f"{flag!r}: {problem}")


def as_size(value: object) -> int:
    """Bytes: an integer, or a string with a unit (``"64KiB"``, ``"10MB"``, ``"1G"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _Bad(f"must not be negative, got {value}")
        if value > MAX_SIZE:
            raise _Bad(f"must be at most 1PiB, got {value}")
        return value
    if isinstance(value, str):
        m = _SIZE.fullmatch(value)
        if m and m.group(2).lower() in _UNITS:
            size = float(m.group(1)) * _UNITS[m.group(2).lower()]
            if size > MAX_SIZE:
                raise _Bad(f"must be at most 1PiB, got {value!r}")
            return int(size)
        raise _Bad(f"{value!r} is not a size (use bytes, or a unit: \"64KiB\", \"10MB\", \"1G\")")
    raise _Bad(f"must be a size in bytes or a string like \"10MiB\", got {_type_name(value)}")


def at_least(minimum: float, what: str = "") -> Callable[[Any], None]:
    def check(value: float) -> None:
        if value < minimum:
            raise _Bad(f"must be at least {what or minimum}, got {value}")
    return check


def off_or_at_least(minimum: float, what: str) -> Callable[[Any], None]:
    """0 (off), or at least ``minimum``."""
    def check(value: float) -> None:
        if 0 < value < minimum:
            raise _Bad(f"must be 0 (off) or at least {what}, got {value}")
    return check


def positive(value: float) -> None:
    if value <= 0:
        raise _Bad(f"must be positive, got {value}")


def between(low: int, high: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if not low <= value <= high:
            raise _Bad(f"must be between {low} and {high}, got {value}")
    return check


def one_of(*choices: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value.lower() not in choices:
            raise _Bad(f"must be one of {', '.join(choices)}; got {value!r}")
    return check


# -- reading tables -----------------------------------------------------------------------


class _Reader:
    """Reads one TOML document into settings, collecting problems instead of stopping."""

    def __init__(self, locator: Locator, base: Path, environ: Mapping[str, str],
                 worker_script: str | None = None) -> None:
        self.locator = locator
        self.base = base
        self.environ = environ
        # On a remote worker's host (`isoflow worker`): read only what that script's worker
        # needs, so that host needs neither the listeners' TLS keys nor other scripts.
        self.worker_script = worker_script
        self.problems: list[Problem] = []

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.locator.line(path), _dotted(path), message))

    def path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else (self.base / path)


class _Table:
    def __init__(self, reader: _Reader, data: dict[str, Any], path: KeyPath) -> None:
        self.r = reader
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: Callable[[Any], Any], default: Any = _MISSING,
            check: Callable[[Any], None] | None = None) -> Any:
        """The value of ``key`` converted by ``kind``; ``default`` if absent or wrong."""
        self.used.add(key)
        if key not in self.data:
            if default is _MISSING:
                self.r.problem(self.path, f"missing required key {key!r}")
                return None
            return default
        try:
            value = kind(self.data[key])
            if check is not None:
                check(value)
        except _Bad as e:
            self.r.problem((*self.path, key), str(e))
            return None if default is _MISSING else default
        return value

    def table(self, key: str, required: bool = False) -> _Table | None:
        self.used.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.r.problem(self.path, f"missing required table {key!r}")
            return None
        if not isinstance(value, dict):
            self.r.problem((*self.path, key), f"must be a table, got {_type_name(value)}")
            return None
        return _Table(self.r, value, (*self.path, key))

    def tables(self, key: str) -> list[_Table]:
        """An array of tables (``[[key]]``)."""
        self.used.add(key)
        value = self.data.get(key, [])
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.r.problem((*self.path, key), f"must be an array of tables ([[{key}]])")
            return []
        return [_Table(self.r, v, (*self.path, key, i)) for i, v in enumerate(value)]

    def finish(self) -> None:
        """Report every key nobody asked for (with a suggestion when one is close)."""
        for key in self.data:
            if key not in self.used:
                close = difflib.get_close_matches(key, sorted(self.used), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.r.problem((*self.path, key), f"unknown key {key!r}{hint}")


# -- sections -----------------------------------------------------------------------------


def _limits(t: _Table | None, base: Limits) -> Limits:
    if t is None:
        return replace(base)  # a copy of its own for each script
    values: dict[str, Any] = {}
    spec: dict[str, tuple[Callable[[Any], Any], Callable[[Any], None] | None]] = {
        "cpu_time": (as_seconds, positive),
        "memory": (as_size, at_least(16 << 20, "16MiB")),
        "wall_time": (as_seconds, positive),
        "max_body_size": (as_size, None),
        "max_concurrent": (as_int, at_least(0)),
        "queue_size": (as_int, at_least(0)),
        "queue_timeout": (as_seconds, positive),
        "max_subrequests": (as_int, at_least(0)),
        "wall_time_after_response": (as_seconds, positive),
        "max_runtime_failures": (as_int, at_least(1)),
        "recycle_requests": (as_int, at_least(0)),
        "recycle_heap": (as_size, None),
        "recycle_rss": (as_size, off_or_at_least(RECYCLE_RSS_MIN, "128MiB")),
        "websocket_max_message": (as_size, at_least(1024, "1KiB")),
        "websocket_idle_timeout": (as_seconds, at_least(0)),
        "websocket_connections": (as_int, at_least(0)),
    }
    for name, (kind, check) in spec.items():
        values[name] = t.get(name, kind, getattr(base, name), check)
    limits = Limits(**values)
    if limits.recycle_heap > 0 and limits.recycle_heap >= limits.memory:
        t.r.problem((*t.path, "recycle_heap"),
                    "must be below the memory limit, or it can never trigger")
    t.finish()
    return limits


def _listener(t: _Table, default_host: str = "127.0.0.1") -> Listener | None:
    host = t.get("host", as_str, default_host)
    port = t.get("port", as_int, check=between(1, 65535))
    cert = t.get("tls_cert", as_str, None)
    key = t.get("tls_key", as_str, None)
    t.finish()
    listener = Listener(host, port or 0, t.r.path(cert) if cert else None,
                        t.r.path(key) if key else None)
    if (cert is None) != (key is None):
        t.r.problem(t.path, "tls_cert and tls_key must be given together")
        return None
    if listener.tls_cert is not None and listener.tls_key is not None:
        for name, path in (("tls_cert", listener.tls_cert), ("tls_key", listener.tls_key)):
            if not _is(path, "file"):  # a FIFO would block the start, a device never end
                what = "not a regular file" if os.path.exists(path) else "no such file"
                t.r.problem((*t.path, name), f"{_shown(path)}: {what}")
                return None
        try:
            make_ssl_context(listener)
        except (OSError, ssl.SSLError) as e:
            t.r.problem((*t.path, "tls_cert"), f"cannot load the certificate and key: {e}")
            return None
    return listener if port else None


def _secret(t: _Table, name: str) -> str | None:
    sources = [k for k in ("file", "env", "credential") if t.has(k)]
    if len(sources) != 1:
        t.r.problem(t.path, f"secret {name!r} needs exactly one of file, env or credential")
        t.used.update(("file", "env", "credential"))
        t.finish()
        return None
    source = sources[0]
    ref = t.get(source, as_str)
    t.finish()
    if ref is None:
        return None
    where = (*t.path, source)
    if source == "env":
        value = t.r.environ.get(ref)
        if value is None:
            t.r.problem(where, f"environment variable {ref!r} is not set")
        return value
    if source == "credential":
        directory = t.r.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            t.r.problem(where, "no $CREDENTIALS_DIRECTORY (systemd LoadCredential=) is set")
            return None
        file = Path(directory) / ref
    else:
        file = t.r.path(ref)
    try:
        text = _read_secret(file)
    except OSError as e:
        t.r.problem(where, f"cannot read {file}: {e.strerror}")
        return None
    except ValueError as e:
        t.r.problem(where, f"{file}: {e}")
        return None
    return text.removesuffix("\n").removesuffix("\r")


SECRET_MAX = 1 << 20  # bytes of a secret file


def _read_secret(file: Path) -> str:
    """A secret file's text: a regular file (a FIFO would block the start, /dev/zero never
    end) of at most SECRET_MAX bytes of UTF-8; ValueError says which it is not."""
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = f.read(SECRET_MAX + 1)
    if len(data) > SECRET_MAX:
        raise ValueError(f"larger than {SECRET_MAX >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


def _is(path: Path, kind: str) -> bool:
    """``path.is_file()`` or ``is_dir()``, False where the path cannot name anything (a NUL
    byte, a name too long: is_file() raises for those)."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except (OSError, ValueError):
        return False


def _shown(path: Path) -> str:
    """A path for a problem line: cut after 200 characters, quoted if it has controls."""
    text = str(path)
    text = text if len(text) <= 200 else text[:200] + "..."
    return text if text.isprintable() else repr(text)


def _script(t: _Table, name: str, limits: Limits, fetch: dict[str, bool]) -> ScriptSettings:
    path_text = t.get("path", as_str)
    path = t.r.path(path_text) if path_text else Path()
    found = bool(path_text) and _is(path, "file")
    if path_text and not found:
        t.r.problem((*t.path, "path"), f"{_shown(path)}: no such file")
    remote = t.get("remote", as_bool, False)
    pack = t.get("pack", as_bool, True)
    workers = t.get("workers", as_int, default_workers(), between(0 if remote else 1, 1024))
    env: dict[str, str] = {}
    env_table = t.table("env")
    if env_table is not None:
        for key in env_table.data:
            value = env_table.get(key, as_str)
            if value is not None:
                env[key] = value
    secrets: dict[str, str] = {}
    secrets_table = t.table("secrets")
    if secrets_table is not None:
        for key in list(secrets_table.data):
            sub = secrets_table.table(key)
            if sub is None:
                continue
            value = _secret(sub, key)
            if value is not None:
                secrets[key] = value
            if key in env:
                t.r.problem((*sub.path,), f"{key!r} is both an env var and a secret")
    script_limits = _limits(t.table("limits"), limits)
    fetch_table = t.table("fetch")
    policy = _fetch(fetch_table, fetch) if fetch_table is not None else dict(fetch)
    crons = t.get("crons", as_str_list, [], valid_crons) or []
    flags = t.get("compatibility_flags", as_str_list, [], valid_compat_flags) or []
    root_text = t.get("root", as_str, None)
    root = t.r.path(root_text) if root_text else None
    if root is None or not found:
        pass  # nothing to check, or the missing script is the problem
    elif not _is(root, "dir"):
        t.r.problem((*t.path, "root"), f"{_shown(root)}: no such folder")
        root = None
    else:
        root = root.resolve()
        if root not in path.resolve().parents:
            t.r.problem((*t.path, "root"), f"{root} does not contain the script {path}: a "
                        "script's imports are confined to its root")
    t.finish()
    return ScriptSettings(name, path, workers, env, secrets, script_limits, **policy,
                          crons=crons, remote=remote, pack=pack, root=root,
                          compatibility_flags=flags)



def _fetch(t: _Table, base: dict[str, bool]) -> dict[str, bool]:
    policy = {k: t.get(k, as_bool, base[k]) for k in ("allow_private", "allow_loopback")}
    t.finish()
    return policy


def _route(t: _Table, scripts: dict[str, Any]) -> Route | None:
    host = t.get("host", as_str, "*")
    if host is not None and not _HOST.fullmatch(host.lower()):
        t.r.problem((*t.path, "host"),
                    f"{host!r} is not a host name, '*.' wildcard or '*'")
    path = t.get("path", as_str, "/")
    if path is not None and not path.startswith("/"):
        t.r.problem((*t.path, "path"), f"must start with '/', got {path!r}")
    script = t.get("script", as_str)
    if script is not None and script not in scripts:
        known = ", ".join(sorted(scripts)) or "none"
        t.r.problem((*t.path, "script"), f"no script named {script!r} (defined: {known})")
    wall_time = t.get("wall_time", as_seconds, None, positive)
    name = t.get("name", as_str, None)
    t.finish()
    if host is None or path is None or script is None:
        return None
    return Route(name or f"{host}{path}", script, host.lower(), path, wall_time)


def _remote(t: _Table) -> RemoteSettings | None:
    """``[remote]``: the TCP endpoint for remote workers and its CURVE keys (checked now)."""
    host = t.get("host", as_str, "0.0.0.0")
    port = t.get("port", as_int, check=between(1, 65535))
    key = t.get("key", as_str)
    authorized = t.get("authorized_keys", as_str)
    t.finish()
    if port is None or key is None or authorized is None:
        return None
    remote = RemoteSettings(port, t.r.path(key), t.r.path(authorized), host)
    try:
        load_keypair(remote.key)
    except KeyFileError as e:
        t.r.problem((*t.path, "key"), str(e))
    try:
        load_authorized(remote.authorized_keys)
    except KeyFileError as e:
        t.r.problem((*t.path, "authorized_keys"), str(e))
    return remote


def _settings(r: _Reader, data: dict[str, Any]) -> Settings:
    root = _Table(r, data, ())
    kwargs: dict[str, Any] = {}
    worker_script = r.worker_script

    server = root.table("server")
    if server is not None:
        for key, kind, check in (
            ("shutdown_grace", as_seconds, positive),
            ("heartbeat_interval", as_seconds, positive),
            ("heartbeat_timeout", as_seconds, positive),
            ("start_timeout", as_seconds, positive),
            ("max_line_size", as_size, between(256, 1 << 20)),
            ("max_field_size", as_size, between(256, 1 << 20)),
            ("max_header_size", as_size, between(256, 1 << 20)),
            ("max_headers", as_int, between(1, 10000)),
            ("chunk_size", as_size, between(1024, 64 << 20)),
            ("request_window", as_size, between(1024, 64 << 20)),
            ("response_window", as_size, between(1024, 64 << 20)),
            ("header_timeout", as_seconds, positive),
            ("body_timeout", as_seconds, positive),
            ("send_timeout", as_seconds, positive),
            ("retry_idempotent", as_bool, None),
            ("relay", as_bool, None),
            ("relay_mode", as_str, one_of("copy", "splice")),
            ("fronts", as_int, between(1, 1024)),
        ):
            value = server.get(key, kind, None, check)
            if value is not None:
                kwargs[key] = value
        header = server.get("request_id_header", as_str, None)
        if header is not None:
            if not _TOKEN.fullmatch(header):
                r.problem(("server", "request_id_header"), f"{header!r} is not a header name")
            elif header.lower() in _NOT_AN_ID:
                r.problem(("server", "request_id_header"),
                          f"{header!r} has a meaning of its own in HTTP: the id would replace "
                          "the client's field and be added to every response")
            else:
                kwargs["request_id_header"] = header
        for key in ("runtime_dir", "cache_dir", "pid_file"):
            value = server.get(key, as_str, None)
            if value is not None:
                kwargs[key] = r.path(value)
        server.finish()
        interval = kwargs.get("heartbeat_interval", Settings.heartbeat_interval)
        if kwargs.get("heartbeat_timeout", Settings.heartbeat_timeout) <= interval:
            r.problem(("server", "heartbeat_timeout"), "must be longer than heartbeat_interval")

    log_table = root.table("log")
    if log_table is not None:
        fmt = log_table.get("format", as_str, "text", one_of("text", "json"))
        level = log_table.get("level", as_str, "info", one_of(*LOG_LEVELS))
        kwargs["log_format"] = fmt.lower()
        kwargs["log_level"] = level.upper()
        kwargs["access_log"] = log_table.get("access_log", as_bool, True)
        log_table.finish()

    metrics_table = root.table("metrics")
    if metrics_table is not None:
        metrics = _listener(metrics_table)
        if metrics is not None and metrics.tls_cert is not None:
            r.problem(("metrics", "tls_cert"), "the metrics listener does not serve TLS")
        kwargs["metrics"] = metrics

    remote_table = root.table("remote") if worker_script is None else None
    if remote_table is not None:
        kwargs["remote"] = _remote(remote_table)

    listeners = []
    seen: dict[tuple[str, int], int] = {}
    listener_tables = root.tables("listeners") if worker_script is None else []
    if not listener_tables and worker_script is None:
        r.problem((), "no [[listeners]]: add at least one (host and port)")
    for i, t in enumerate(listener_tables):
        listener = _listener(t)
        if listener is None:
            continue
        where = (listener.host, listener.port)
        if where in seen:
            r.problem(("listeners", i, "port"),
                      f"{listener.host}:{listener.port} is already listeners[{seen[where]}]")
        seen[where] = i
        listeners.append(listener)
    metrics = kwargs.get("metrics")
    if metrics is not None and any(lst.port == metrics.port for lst in listeners):
        r.problem(("metrics", "port"), f"port {metrics.port} is also an HTTP listener")
    kwargs["listeners"] = listeners

    limits = _limits(root.table("limits"), Limits())
    fetch_table = root.table("fetch")
    fetch = {"allow_private": False, "allow_loopback": False}
    if fetch_table is not None:
        fetch = _fetch(fetch_table, fetch)

    scripts: dict[str, ScriptSettings] = {}
    scripts_table = root.table("scripts", required=True)
    if scripts_table is not None:
        if not scripts_table.data:
            r.problem(("scripts",), "no scripts: add a [scripts.NAME] table")
        for name in list(scripts_table.data):
            if not _NAME.fullmatch(name):
                r.problem(("scripts", name), f"script name {name!r} may only use A-Z a-z 0-9 _ -")
            if worker_script is not None and name != worker_script:
                scripts_table.used.add(name)
                continue
            t = scripts_table.table(name)
            if t is not None:
                scripts[name] = _script(t, name, limits, fetch)
                if scripts[name].remote and worker_script is None and \
                        remote_table is None:
                    r.problem(("scripts", name, "remote"),
                              "remote workers need a [remote] table (port and keys)")
        if worker_script is not None and worker_script not in scripts_table.data:
            known = ", ".join(sorted(scripts_table.data)) or "none"
            r.problem(("scripts",), f"no script named {worker_script!r} (defined: {known})")

    routes: list[Route] = []
    route_tables = root.tables("routes") if worker_script is None else []
    if worker_script is not None:
        root.used.update(("listeners", "routes", "remote"))
    if not route_tables and scripts and worker_script is None:
        r.problem((), "no [[routes]]: add at least one (host, path, script)")
    places: dict[tuple[str, str], int] = {}
    names: dict[str, int] = {}
    for i, t in enumerate(route_tables):
        route = _route(t, scripts)
        if route is None:
            continue
        routes.append(route)
        if (route.host, route.path) in places:
            r.problem(("routes", i), f"host {route.host!r} and path {route.path!r} are "
                                     f"already routes[{places[route.host, route.path]}]")
            continue
        places[route.host, route.path] = i
        if route.name in names:
            r.problem(("routes", i, "name"), f"route name {route.name!r} is already used")
        names.setdefault(route.name, i)
    used = {t.data.get("script") for t in route_tables if isinstance(t.data.get("script"), str)}
    for name in scripts:
        if name not in used and route_tables:
            r.problem(("scripts", name), f"script {name!r} is not used by any route")
    root.finish()
    return Settings(scripts, routes, **kwargs)


# -- entry points -------------------------------------------------------------------------


def parse(source: str, path: Path, environ: Mapping[str, str] | None = None,
          worker_script: str | None = None) -> Config:
    """Settings from TOML text; ``path`` names it in messages and anchors relative paths.

    ``worker_script``: read the file as a remote worker's host does (``isoflow worker``):
    ``[server]``, ``[log]``, ``[limits]``, ``[fetch]`` and that one script only.
    """
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        line = int(m.group(1)) if m else 1
        raise ConfigError(path, [Problem(line, "", f"not valid TOML: {e}")]) from None
    except RecursionError:
        raise ConfigError(path, [Problem(1, "", "not valid TOML: nested too deeply")]) from None
    locator = Locator(source)
    reader = _Reader(locator, path.parent.resolve(),
                     os.environ if environ is None else environ, worker_script)
    settings = _settings(reader, data)
    if reader.problems:
        raise ConfigError(path, reader.problems)
    settings.config_path = path.resolve()
    settings.config_text = source  # what a restarted front is given (fronts.py)
    return Config(settings, path, locator)


def load(path: Path, environ: Mapping[str, str] | None = None,
         worker_script: str | None = None) -> Config:
    try:
        source = path.read_text()
    except OSError as e:
        raise ConfigError(path, [Problem(0, "", f"cannot read the config: {e.strerror}")]) \
            from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, [Problem(0, "", f"not UTF-8 text: {e}")]) from None
    return parse(source, path, environ, worker_script)


def make_ssl_context(listener: Listener) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    assert listener.tls_cert is not None
    context.load_cert_chain(listener.tls_cert, listener.tls_key)
    return context


async def check_script(path: Path, cache_dir: Path | None = None, root: Path | None = None,
                       compat_flags: list[str] | None = None,
                       cpu_limit: float | None = None) -> str | None:
    """Load a script once in a throwaway worker process; its error line, or None."""
    args = [sys.executable, "-m", "isoflow.isolate_worker", "--check", str(path)]
    if cpu_limit is not None:
        args += ["--cpu-limit", repr(cpu_limit)]
    for flag in compat_flags or ():
        args += ["--compat-flag", flag]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    if root is not None:
        args += ["--root", str(root)]
    proc = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        text = err.decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else f"the script check failed ({proc.returncode})"
    return None


async def script_errors(settings: Settings) -> dict[str, str]:
    """Check every script of ``settings`` (concurrently): name -> error line of each that fails."""
    names = list(settings.scripts)
    errors = await asyncio.gather(*(check_script(settings.scripts[n].path, settings.cache_dir,
                                                 settings.scripts[n].root,
                                                 settings.scripts[n].compatibility_flags,
                                                 settings.scripts[n].limits.cpu_time)
                                    for n in names))
    return {n: error for n, error in zip(names, errors, strict=True) if error is not None}


async def check_scripts(config: Config) -> list[Problem]:
    """Load every script of a config; a problem at its ``path`` line for each that fails."""
    errors = await script_errors(config.settings)
    return [config.problem(("scripts", n, "path"), error) for n, error in errors.items()]
