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

Admission is here too: a remote worker that says HELLO joins its script's pool as a
:class:`RemoteWorker` if its identity is ``SCRIPT@NAME``, the key it connected with is (still)
authorized and that script takes remote workers (``remote = true``); a reload moves the
remote workers to the new pools and drops those whose key or script no longer admits them.

Key files are read by ``keyfile.py``; ``isoflow keygen`` and ``isoflow worker`` are in
``cli.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import zmq
from zmq.utils import z85

from isoflow import protocol as p
from isoflow.isolate_worker.link import EdgeReader

from .channel import Channel
from .keyfile import KeyFileError, load_authorized, load_keypair
from .logsetup import LogLimiter
from .workers import WorkerHandle

if TYPE_CHECKING:
    from .pool import WorkerPool
    from .streams import StreamTable

log = logging.getLogger("isoflow.supervisor.remote")

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # fixed by RFC 27 (ZAP)
ZAP_DOMAIN = b"isoflow"
PROBE_AFTER = (0.0, 0.05, 0.25, 1.0)  # seconds after a disconnection to probe the workers


# What `isoflow worker` sends: a script name, its --name and a random tag (nothing a log
# line could be forged with: no space, no line break).
_IDENTITY = re.compile(rb"[A-Za-z0-9_-]+@[A-Za-z0-9._-]+")


def parse_identity(identity: bytes) -> tuple[str, str] | None:
    """A remote worker's identity ``SCRIPT@LABEL.TAG`` -> (script, ``SCRIPT@LABEL``)."""
    if len(identity) > 255 or not _IDENTITY.fullmatch(identity):
        return None
    script, _, rest = identity.decode("ascii").partition("@")
    label = rest.rpartition(".")[0] or rest
    return script, f"{script}@{label}"


def endpoint(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


# -- ZAP ----------------------------------------------------------------------------------


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
        self._reader = EdgeReader(self.loop, self.sock, self._on_request, copy=True)
        self.loop.call_soon(self._reader.read)

    def _on_request(self, request: list[bytes]) -> None:
        self.sock.send_multipart(self.answer(request))

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
        self._reader.close()
        self.sock.close(linger=0)


# -- the supervisor's TCP link ------------------------------------------------------------


class RemoteWorker(WorkerHandle):
    """A worker on another host, admitted on the link: no slot, not ours to stop; dropped
    when it goes silent or its connection is gone."""

    def __init__(self, pool: WorkerPool, link: RemoteLink, identity: bytes, name: str,
                 key: str) -> None:
        super().__init__(pool, pool.next_serial(), link.channel, link.workers)
        self.identity = identity
        self.name = name
        self.key = key  # the CURVE public key it connected with (Z85)

    # drain, wait_exit and kill are the base's: nothing (its host stops it; a draining
    # remote worker just gets no new requests).

    def heartbeat(self, now: float, timeout: float) -> None:
        if now - self.last_pong > timeout:
            self.pool.drop_remote(self, f"missed heartbeats for {now - self.last_pong:.1f} s")
            return
        self.ping_seq += 1
        if not self.send(p.Ping(0, self.ping_seq)):
            self.pool.drop_remote(self, "its connection is gone")

    def fatal(self, message: str) -> None:
        # Its host is stopping it: no new requests; it finishes its streams, then goes.
        log.warning("remote worker %s takes no more requests: %s", self.name, message)
        self.stopping = True
        self.pool.ready_changed()


class RemoteLink:
    """The TCP ROUTER remote workers connect to: CURVE server, ZAP, heartbeats, monitor,
    and admission. A stream's frames go to ``table``; ``pools()`` are the scripts' pools
    serving now, ``stopping()`` says the service stops (no one is admitted any more)."""

    def __init__(self, host: str, port: int, key: Path, authorized_keys: Path,
                 heartbeat_interval: float, heartbeat_timeout: float, table: StreamTable,
                 pools: Callable[[], dict[str, WorkerPool]],
                 stopping: Callable[[], bool]) -> None:
        self.loop = asyncio.get_running_loop()
        self.endpoint = endpoint(host, port)
        self.authorized_keys = authorized_keys
        public, secret = load_keypair(key)
        keys = load_authorized(authorized_keys)
        self.public_key = public
        self.table = table
        self._pools = pools
        self._stopping = stopping
        self.workers: dict[bytes, RemoteWorker] = {}  # admitted workers, by routing id
        # A context of its own: the ZAP endpoint is per context, and the local workers'
        # ipc:// socket must not depend on it.
        self.context = zmq.Context()
        self.zap = ZapHandler(self.context, keys)
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
            self.channel = Channel(self.endpoint, self._on_frame, context=self.context,
                                   configure=configure)
        except BaseException:
            if self.monitor is not None:
                self.monitor.close(linger=0)
            self.zap.close()
            self.context.destroy(linger=0)
            raise
        assert self.monitor is not None
        self._monitor_reader = EdgeReader(self.loop, self.monitor, self._on_monitor_event,
                                          copy=True)
        self.loop.call_soon(self._monitor_reader.read)

    # -- admission ----------------------------------------------------------------------

    def _sender_key(self) -> str | None:
        """The CURVE key (Z85) the message being handled came with."""
        message = self.channel.message
        return message.get("User-Id") if message is not None else None

    def _on_frame(self, identity: bytes, frame: p.Frame) -> None:
        if isinstance(frame, p.Hello):
            self._admit(identity, frame)
            return
        worker = self.workers.get(identity)
        if worker is None:  # frames queued before a reconnection, or a worker that was dropped
            log.debug("dropped %s from remote %r, which has not said HELLO", frame.TYPE.name,
                      identity)
        elif (key := self._sender_key()) != worker.key:
            # Another key's connection took the worker's id over (ROUTER_HANDOVER): what it
            # sends is not the worker's.
            if self._may_log((identity, "key")):
                log.warning("dropped frames for remote worker %s that came with another key "
                            "(%s)", worker.name, self.zap.key_name(key))
        else:
            self.table.on_frame(worker, frame)

    def _admit(self, identity: bytes, frame: p.Hello) -> None:
        """A remote worker (re)connected: it joins its script's pool, afresh."""
        message = self.channel.message
        key = self._sender_key()
        address = message.get("Peer-Address") if message is not None else "?"
        old = self.workers.get(identity)
        parsed = parse_identity(identity)
        key_name = self.zap.key_name(key)
        name = parsed[1] if parsed is not None else repr(identity)

        def refuse(why: str) -> None:
            if self._may_log((identity, why)):
                log.warning("refused remote worker %s from %s: %s", name, address, why)

        if old is not None:
            if old.key != key:
                # Its id now routes to this connection: the worker is dropped (it reconnects
                # and takes the id back), the newcomer is not admitted under it.
                old.pool.drop_remote(old, "a connection with another key took its id")
                return refuse(f"its id is that of a worker with another key ({key_name})")
            old.pool.drop_remote(old, "it said HELLO again (a new connection)")
        if parsed is None:
            return refuse("its id is not SCRIPT@NAME")
        if key is None or key_name is None:
            return refuse("its key is not in authorized_keys")
        pool = self._pools().get(parsed[0])
        if self._stopping():
            return refuse("the service is stopping")
        if pool is None or not pool.spec.remote:
            return refuse(f"no script named {parsed[0]!r} takes remote workers "
                          "(remote = true)")
        worker = RemoteWorker(pool, self, identity, name, key)
        pool.add_remote(worker)
        log.info("%s ready (remote, pid %d on %s, key %s)", name, frame.pid, address, key_name)
        pool.on_frame(worker, frame)
        return None

    def _probe(self) -> None:
        """A connection dropped: drop each remote worker a send can no longer reach."""
        for worker in list(self.workers.values()):
            if not worker.send(p.Ping(0, worker.ping_seq)):
                worker.pool.drop_remote(worker, "its connection is gone")

    def move(self, old: dict[str, WorkerPool], new: dict[str, WorkerPool]) -> None:
        """At a reload: remote workers join the new pool of their script, and the
        authorized keys are re-read (a worker whose key is gone is dropped)."""
        for old_pool in old.values():
            new_pool = new.get(old_pool.script)
            for worker in list(old_pool.remotes.values()):
                if new_pool is not None and new_pool.spec.remote:
                    new_pool.adopt(worker)
                else:
                    old_pool.drop_remote(worker, f"script {old_pool.script!r} takes no remote "
                                                 "workers any more")
        try:
            keys = load_authorized(self.authorized_keys)
        except KeyFileError as e:
            log.error("reload: [remote] authorized_keys: %s; keeping the previous keys", e)
            return
        self.zap.keys = keys
        for worker in list(self.workers.values()):
            if self.zap.key_name(worker.key) is None:
                worker.pool.drop_remote(worker, "its key was removed from authorized_keys")
        log.info("reload: %d authorized keys for remote workers", len(keys))

    def _on_monitor_event(self, parts: list[bytes]) -> None:
        event = int.from_bytes(parts[0][:2], "little")
        if event == zmq.EVENT_DISCONNECTED:
            for timer in self._timers:
                timer.cancel()
            self._timers = [self.loop.call_later(delay, self._probe)
                            for delay in PROBE_AFTER]
        elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                       zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL) and self._may_log("handshake"):
            log.warning("a CURVE handshake on %s failed (a worker that does not have "
                        "this supervisor's public key as its --server-key?)", self.endpoint)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self.monitor is not None and not self.monitor.closed:
            self._monitor_reader.close()
            with contextlib.suppress(zmq.ZMQError):
                self.channel.sock.disable_monitor()
            self.monitor.close(linger=0)
        self.channel.close()
        self.zap.close()
        self.context.destroy(linger=0)
