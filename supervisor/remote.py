"""Isolate workers on other hosts: CURVE keys, the ZAP handler, the supervisor's TCP link.

Remote workers dial in (``isoflow worker --connect tcp://SUPERVISOR:PORT``; the reasons are
in ``docs/deployment.md``). The supervisor binds one ZeroMQ ROUTER on TCP next to its
private ``ipc://`` one, with CURVE: the supervisor is the CURVE server (its keypair is
``[remote] key``), every worker host a client with its own keypair, and a ZAP handler
admits exactly the public keys found in ``[remote] authorized_keys``. A worker without an
authorized key is refused during the handshake and the refusal is logged with its address
and key; a worker that does not know the supervisor's public key cannot complete the
handshake at all (CURVE checks the server key on the client side).

The link uses ZeroMQ heartbeats (ZMTP PING/PONG, answered by libzmq's I/O thread) to notice
a silent TCP connection, and the pool's own PING/PONG (answered by the worker's event loop)
to notice a worker that hangs. A ROUTER does not say which peer went away, so a
disconnection on the socket monitor makes the supervisor probe every remote worker with a
PING: with ``ROUTER_MANDATORY`` a send to a peer whose connection is gone fails at once
(``EHOSTUNREACH``), and that worker is dropped: its streams fail (502 before the response
head, an aborted connection after it) and new requests go to the other workers.

Keys are ZeroMQ certificate files (the ZPL format of ``zmq.auth``, keys in Z85):
``isoflow keygen NAME`` writes ``NAME.key`` (public: copy it to the other side) and
``NAME.key_secret`` (mode 0600: never leaves its host).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import zmq
import zmq.auth
from zmq.utils import z85

from .channel import Channel, OnFrame

log = logging.getLogger("isoflow.supervisor.remote")

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # fixed by RFC 27 (ZAP)
ZAP_DOMAIN = b"isoflow"
LOG_EVERY = 60.0  # seconds between two log lines about the same refused peer
PROBE_AFTER = (0.0, 0.05, 0.25, 1.0)  # seconds after a disconnection to probe the workers
_NAME = re.compile(r"[A-Za-z0-9._-]+")  # key names, remote workers' names


class KeyFileError(ValueError):
    """A key file is missing, unreadable or not a ZeroMQ certificate."""


# -- keys ---------------------------------------------------------------------------------


def keygen(directory: Path, name: str) -> tuple[Path, Path]:
    """Write a new CURVE keypair: ``NAME.key`` (public) and ``NAME.key_secret`` (0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    public = directory / f"{name}.key"
    secret = directory / f"{name}.key_secret"
    for path in (public, secret):
        if path.exists():
            raise FileExistsError(f"{path} exists; not overwriting a key")
    old = os.umask(0o077)
    try:
        zmq.auth.create_certificates(directory, name)
    finally:
        os.umask(old)
    public.chmod(0o644)
    secret.chmod(0o600)
    return public, secret


def _load(path: Path) -> tuple[bytes, bytes | None]:
    try:
        public, secret = zmq.auth.load_certificate(path)
    except OSError as e:
        raise KeyFileError(f"{path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(f"{path}: not a ZeroMQ certificate (make one with "
                           "`isoflow keygen NAME`)") from None
    for key in (public, secret):
        if key is not None and len(key) != 40:
            raise KeyFileError(f"{path}: a key must be 40 Z85 characters")
    return public, secret


def load_keypair(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) in Z85 from a ``.key_secret`` file."""
    public, secret = _load(path)
    if not secret:
        raise KeyFileError(f"{path}: holds no secret key (give the .key_secret file)")
    return public, secret


def load_public_key(path: Path) -> bytes:
    """The public key (Z85) from a ``.key`` (or ``.key_secret``) file."""
    return _load(path)[0]


def load_authorized(path: Path) -> dict[bytes, str]:
    """The public keys allowed in: every ``*.key`` in a directory, or one file; Z85 -> name."""
    if path.is_dir():
        files = sorted(path.glob("*.key"))
    elif path.exists():
        files = [path]
    else:
        raise KeyFileError(f"{path}: no such file or directory")
    keys: dict[bytes, str] = {}
    for file in files:
        keys[load_public_key(file)] = file.stem
    return keys


def parse_identity(identity: bytes) -> tuple[str, str] | None:
    """A remote worker's identity ``SCRIPT@LABEL.TAG`` -> (script, ``SCRIPT@LABEL``)."""
    try:
        text = identity.decode("ascii")
    except UnicodeDecodeError:
        return None
    script, at, rest = text.partition("@")
    if not at or not script or not rest:
        return None
    label = rest.rpartition(".")[0] or rest
    return script, f"{script}@{label}"


def endpoint(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


# -- ZAP ----------------------------------------------------------------------------------


class LogLimiter:
    """Says whether a line about ``what`` may be logged: once per LOG_EVERY seconds."""

    def __init__(self, every: float = LOG_EVERY) -> None:
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


class ZapHandler:
    """Answers ZAP requests (RFC 27) on the loop: CURVE clients with an authorized key only."""

    def __init__(self, context: zmq.Context, keys: dict[bytes, str]) -> None:
        self.loop = asyncio.get_running_loop()
        self.keys = keys
        self.refused = 0
        self._may_log = LogLimiter()
        self.sock = context.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(ZAP_ENDPOINT)
        self._fd = self.sock.getsockopt(zmq.FD)
        self.loop.add_reader(self._fd, self._on_readable)
        self.loop.call_soon(self._on_readable)

    def _on_readable(self) -> None:
        sock = self.sock
        while not sock.closed and sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                request = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            sock.send_multipart(self.answer(request))

    def answer(self, request: list[bytes]) -> list[bytes]:
        """The ZAP reply to one request: [version, id, status, text, user id, metadata]."""
        if len(request) < 6:
            log.error("malformed ZAP request (%d frames)", len(request))
            return [b"1.0", request[1] if len(request) > 1 else b"", b"500", b"malformed",
                    b"", b""]
        version, request_id, domain, address, _identity, mechanism, *credentials = request

        def reply(status: bytes, text: bytes, user: bytes = b"") -> list[bytes]:
            return [version, request_id, status, text, user, b""]

        where = address.decode("ascii", "replace")
        if domain != ZAP_DOMAIN:
            return reply(b"400", b"unknown domain")
        if mechanism != b"CURVE" or len(credentials) != 1 or len(credentials[0]) != 32:
            self._refuse(where, b"", f"mechanism {mechanism.decode('ascii', 'replace')} "
                                     "is not CURVE")
            return reply(b"400", b"CURVE only")
        key = z85.encode(credentials[0])
        name = self.keys.get(key)
        if name is None:
            self._refuse(where, key, f"key {key.decode()} is not in authorized_keys")
            return reply(b"400", b"key not authorized")
        log.debug("admitted a remote worker from %s with key %s", where, name)
        # The user id travels with every message of the connection ("User-Id" metadata).
        return reply(b"200", b"OK", key)

    def _refuse(self, address: str, key: bytes, why: str) -> None:
        self.refused += 1
        if self._may_log((address, key)):
            log.warning("refused a remote worker from %s: %s", address, why)

    def key_name(self, key: str | bytes | None) -> str | None:
        """The name of an admitted connection's key, if it is (still) authorized."""
        if not key:
            return None
        return self.keys.get(key.encode() if isinstance(key, str) else key)

    def close(self) -> None:
        if self.sock.closed:
            return
        with contextlib.suppress(ValueError, RuntimeError):
            self.loop.remove_reader(self._fd)
        self.sock.close(linger=0)


# -- the supervisor's TCP link ------------------------------------------------------------


class RemoteLink:
    """The TCP ROUTER remote workers connect to: CURVE server, ZAP, heartbeats, monitor.

    ``on_disconnect`` is called (on the loop) a few times after any connection drops, so
    the caller can probe its remote workers and drop those whose connection is gone.
    """

    def __init__(self, host: str, port: int, key: Path, authorized_keys: Path,
                 heartbeat_interval: float, heartbeat_timeout: float, on_frame: OnFrame,
                 on_disconnect: Callable[[], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self.endpoint = endpoint(host, port)
        self.authorized_keys = authorized_keys
        public, secret = load_keypair(key)
        keys = load_authorized(authorized_keys)
        self.public_key = public
        # A context of its own: the ZAP endpoint is per context, and the local workers'
        # ipc:// socket must not depend on it.
        self.context = zmq.Context()
        self.zap = ZapHandler(self.context, keys)
        self._on_disconnect = on_disconnect
        self._timers: list[asyncio.TimerHandle] = []
        self._may_log = LogLimiter()
        self.monitor: zmq.Socket | None = None
        ivl = max(1, int(heartbeat_interval * 1000))
        timeout = max(ivl + 1, int(min(heartbeat_timeout, 3 * heartbeat_interval) * 1000))

        def configure(sock: zmq.Socket) -> None:
            sock.setsockopt(zmq.CURVE_SERVER, 1)
            sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
            sock.setsockopt(zmq.ZAP_DOMAIN, ZAP_DOMAIN)
            sock.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a reconnecting worker takes its id over
            sock.setsockopt(zmq.HEARTBEAT_IVL, ivl)
            sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, timeout)
            sock.setsockopt(zmq.HEARTBEAT_TTL, timeout)
            sock.setsockopt(zmq.HANDSHAKE_IVL, 10_000)
            if ":" in host:
                sock.setsockopt(zmq.IPV6, 1)
            self.monitor = sock.get_monitor_socket(
                zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)

        try:
            self.channel = Channel(self.endpoint, on_frame, context=self.context,
                                   configure=configure)
        except BaseException:
            if self.monitor is not None:
                self.monitor.close(linger=0)
            self.zap.close()
            self.context.destroy(linger=0)
            raise
        assert self.monitor is not None
        self._monitor_fd = self.monitor.getsockopt(zmq.FD)
        self.loop.add_reader(self._monitor_fd, self._on_monitor)
        self.loop.call_soon(self._on_monitor)

    def reload_keys(self) -> dict[bytes, str]:
        """Re-read ``authorized_keys`` (at a reload); raises KeyFileError and keeps the old."""
        keys = load_authorized(self.authorized_keys)
        self.zap.keys = keys
        return keys

    def _on_monitor(self) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        disconnected = False
        while not monitor.closed and monitor.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                parts = monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            event = int.from_bytes(parts[0][:2], "little")
            if event == zmq.EVENT_DISCONNECTED:
                disconnected = True
            elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                           zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL) and self._may_log("handshake"):
                log.warning("a CURVE handshake on %s failed (a worker that does not have "
                            "this supervisor's public key as its --server-key?)", self.endpoint)
        if disconnected:
            for timer in self._timers:
                timer.cancel()
            self._timers = [self.loop.call_later(delay, self._on_disconnect)
                            for delay in PROBE_AFTER]

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self.monitor is not None and not self.monitor.closed:
            with contextlib.suppress(ValueError, RuntimeError):
                self.loop.remove_reader(self._monitor_fd)
            with contextlib.suppress(zmq.ZMQError):
                self.channel.sock.disable_monitor()
            self.monitor.close(linger=0)
        self.channel.close()
        self.zap.close()
        self.context.destroy(linger=0)


# -- the command line: `isoflow keygen`, `isoflow worker` ---------------------------------


def keygen_main(args: argparse.Namespace) -> int:
    """``isoflow keygen NAME [--dir DIR]``: write a keypair, print the public key."""
    if not _NAME.fullmatch(args.name):
        print(f"isoflow: a key name may only use A-Z a-z 0-9 . _ -, got {args.name!r}",
              file=sys.stderr)
        return 2
    try:
        public, secret = keygen(args.dir, args.name)
    except OSError as e:
        print(f"isoflow: {e}", file=sys.stderr)
        return 1
    print(f"public key: {public} ({load_public_key(public).decode()}): copy it to the other "
          f"side\nsecret key: {secret} (mode 0600): keep it on this host")
    return 0


def worker_main(args: argparse.Namespace) -> int:
    """``isoflow worker``: one isolate worker of a script, dialing in to a supervisor.

    The script, its env and secrets, its limits and the windows come from the config file,
    read as a worker host reads it (that script's table and the defaults only). The process
    is not the supervisor's child: its host's service manager restarts it.
    """
    from isoflow.isolate_worker.bridge import BridgeConfig
    from isoflow.isolate_worker.eventloop import run as run_event_loop
    from isoflow.isolate_worker.worker import RemoteOptions, WorkerOptions, serve

    from . import config as config_file
    from . import logsetup

    def fail(message: str) -> int:
        print(f"isoflow: {message}", file=sys.stderr)
        return 2

    if not args.connect.startswith("tcp://"):
        return fail(f"--connect must be tcp://HOST:PORT, got {args.connect!r}")
    name = args.name or socket.gethostname()
    if not _NAME.fullmatch(name) or len(name) > 100:
        return fail(f"--name may only use A-Z a-z 0-9 . _ - (at most 100), got {name!r}")
    try:
        settings = config_file.load(args.config, worker_script=args.script).settings
    except config_file.ConfigError as e:
        print(e, file=sys.stderr)
        return fail(f"{args.config}: {len(e.problems)} problem(s); not starting")
    spec = settings.scripts[args.script]
    if not spec.remote:
        return fail(f"scripts.{args.script}: remote is not true, so the supervisor would "
                    "refuse this worker")
    try:
        public, secret = load_keypair(args.key)
        server_key = load_public_key(args.server_key)
    except KeyFileError as e:
        return fail(str(e))
    logsetup.configure(args.log_level or settings.log_level, settings.log_format)
    identity = f"{args.script}@{name}.{secrets.token_hex(3)}"
    bridge = BridgeConfig(worker_id=identity, **settings.worker_options(args.script))
    remote = RemoteOptions(server_key, public, secret, settings.heartbeat_interval,
                           settings.heartbeat_timeout)
    options = WorkerOptions(args.connect, identity, spec.path, settings.cache_dir, bridge,
                            remote, settings.shutdown_grace, root=spec.root,
                            compat_flags=tuple(spec.compatibility_flags))
    log.info("isoflow worker %s@%s: serving %s for the supervisor at %s", args.script, name,
             spec.path, args.connect)
    return run_event_loop(serve(options))
