"""ZeroMQ from asyncio: the one edge-triggered read loop, and the worker's link to its supervisor.

:class:`EdgeReader` is how every ZeroMQ socket of isoflow is read from an event loop (the
supervisor's ROUTERs, its ZAP handler and monitors, the worker's DEALER and monitor): the fd
ZeroMQ gives out is *edge-triggered*, readable only when the socket's state changed, so a
reader must take every message there is (``EVENTS & POLLIN``) each time it wakes, and a
send, which also reads the socket's state, can swallow an edge: after a send the socket is
read once more on the next turn of the loop (:meth:`EdgeReader.sent`).

:class:`Link` is the worker's end of the IPC: one DEALER socket with the worker's identity,
batching (the frames a pump's actions make leave as one message), and for a worker on
another host (:class:`RemoteOptions`) CURVE, ZeroMQ heartbeats, the socket monitor (HELLO
after every completed handshake, the streams cancelled when the connection drops) and the
watch for a supervisor that stopped PINGing (HELLO again). It knows frames, not streams:
the worker (``worker.py``) is told of frames, of a HELLO that is due and of a lost link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zmq

from isoflow import protocol as p

log = logging.getLogger("isoflow.worker")

# How long a closing link may take to deliver what it queued (ms): a drained worker's last
# frames; longer for a FATAL, sent on a connection that is only being made.
CLOSE_LINGER_MS = 200
FATAL_LINGER_MS = 2000
FATAL_MAX = 16384  # characters of a FATAL message (a load error a script made megabytes long)
READ_BATCH = 64  # messages an EdgeReader takes before the loop's other work runs


# pyzmq's options and flags are enums: every use converts. The hot paths use their ints
# (recv_multipart and send_multipart convert per part: ~3 and ~1.5 µs a message).
_EVENTS, _RCVMORE = int(zmq.EVENTS), int(zmq.RCVMORE)
_POLLIN, _NOBLOCK, _SNDMORE = int(zmq.POLLIN), int(zmq.NOBLOCK), int(zmq.SNDMORE)


def send_parts(sock: zmq.Socket, parts: list[Any], flags: int = 0, *, copy: bool = True) -> None:
    """``sock.send_multipart(parts, flags, copy=copy)`` without its per-part conversions.
    ZeroMQ takes a multipart message whole or not at all once its first part is in."""
    send = sock.send
    last = len(parts) - 1
    more = flags | _SNDMORE
    for i, part in enumerate(parts):
        send(part, more if i < last else flags, copy=copy)


class EdgeReader:
    """Reads a ZeroMQ socket on the loop: ``on_message(parts)`` for every message, as they
    come. ``copy=False`` gives ``zmq.Frame`` parts (their ``.buffer`` is not copied)."""

    __slots__ = ("_check_scheduled", "_copy", "_fd", "_on_message", "_reading", "loop",
                 "sock")

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: zmq.Socket,
                 on_message: Callable[[list[Any]], None], *, copy: bool = False) -> None:
        self.loop = loop
        self.sock = sock
        self._on_message = on_message
        self._copy = copy
        self._check_scheduled = False
        self._reading = False
        self._fd = sock.getsockopt(zmq.FD)
        loop.add_reader(self._fd, self.read)

    def read(self) -> None:
        """Take the messages the socket has, at most READ_BATCH before the loop's other
        work runs (a worker flooding its link must not hold the front's loop: the rest is
        read on the next turn). A call from inside ``on_message`` (a handler that wants the
        socket's news first) returns at once: the outer call goes on."""
        self._check_scheduled = False
        if self._reading:
            return
        self._reading = True
        sock = self.sock
        on_message = self._on_message
        copy = self._copy
        recv = sock.recv
        budget = READ_BATCH
        try:
            while not sock.closed and sock.get(_EVENTS) & _POLLIN:
                if budget == 0:  # the edge is spent: look again on the loop's next turn
                    self.sent()
                    break
                budget -= 1
                try:
                    part = recv(_NOBLOCK, copy=copy)
                except zmq.Again:
                    break
                parts = [part]
                if copy:
                    while sock.get(_RCVMORE):
                        parts.append(recv(_NOBLOCK, copy=True))
                else:  # a Frame says itself whether more follow: no option call per part
                    while part.more:
                        part = recv(_NOBLOCK, copy=False)
                        parts.append(part)
                on_message(parts)
        finally:
            self._reading = False

    def sent(self) -> None:
        """A send happened: it can swallow a readable edge, so look again soon."""
        if not self._check_scheduled:
            self._check_scheduled = True
            self.loop.call_soon(self.read)

    def close(self) -> None:
        """Stop watching the fd (the socket is its owner's to close)."""
        with contextlib.suppress(ValueError, RuntimeError):
            self.loop.remove_reader(self._fd)


@dataclass
class RemoteOptions:
    """A worker on another host: CURVE keys (Z85) and the supervisor's heartbeat timing."""

    server_key: bytes  # the supervisor's public key: CURVE refuses any other server
    public_key: bytes  # this worker's keypair (the supervisor authorizes the public half)
    secret_key: bytes
    heartbeat_interval: float = 1.0
    heartbeat_timeout: float = 10.0


class Link:
    """The worker's DEALER socket to the supervisor.

    ``on_frames(frames)`` gets the frames of each message; ``on_hello_due()`` is called when
    the worker should say HELLO (at once for a local worker; after every completed handshake,
    and when the supervisor has not PINGed for ``heartbeat_timeout``, for a remote one);
    ``on_lost()`` when a remote worker's connection dropped.
    """

    def __init__(self, endpoint: str, identity: str, remote: RemoteOptions | None,
                 on_frames: Callable[[list[p.Frame]], None],
                 on_hello_due: Callable[[], None], on_lost: Callable[[], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self.endpoint = endpoint
        self.remote = remote
        self._on_frames = on_frames
        self._on_hello_due = on_hello_due
        self._on_lost = on_lost
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.IDENTITY, identity.encode())
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self._reader: EdgeReader | None = None
        self._batch: p.Batch | None = None  # frames made by a pump's actions, unsent yet
        self._flags = 0  # send flags: NOBLOCK for a remote worker (nothing queued offline)
        self.connected = False  # remote: a CURVE handshake completed and the link is up
        self._epoch = 0  # remote: connections lost so far
        self.last_ping = time.monotonic()
        self._monitor: zmq.Socket | None = None
        self._monitor_reader: EdgeReader | None = None
        self._watchdog: asyncio.Task | None = None
        self._logged: dict[str, float] = {}
        self._close_linger = CLOSE_LINGER_MS
        if remote is not None:
            self._configure_remote(remote)

    def _configure_remote(self, remote: RemoteOptions) -> None:
        sock = self.sock
        sock.setsockopt(zmq.CURVE_SERVERKEY, remote.server_key)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, remote.public_key)
        sock.setsockopt(zmq.CURVE_SECRETKEY, remote.secret_key)
        ivl = max(1, int(remote.heartbeat_interval * 1000))
        timeout = max(ivl + 1, int(min(remote.heartbeat_timeout,
                                       3 * remote.heartbeat_interval) * 1000))
        sock.setsockopt(zmq.HEARTBEAT_IVL, ivl)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, timeout)
        sock.setsockopt(zmq.HEARTBEAT_TTL, timeout)
        sock.setsockopt(zmq.HANDSHAKE_IVL, 10_000)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        sock.setsockopt(zmq.IMMEDIATE, 1)  # queue nothing for a connection that is not up
        if self.endpoint.startswith("tcp://["):
            sock.setsockopt(zmq.IPV6, 1)
        self._flags = zmq.NOBLOCK
        self._monitor = sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED
            | zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_CONNECT_RETRIED)

    def start(self) -> None:
        """Connect; say HELLO at once (local) or after the handshake (remote)."""
        self.sock.connect(self.endpoint)
        self._reader = EdgeReader(self.loop, self.sock, self._on_message)
        if self._monitor is None:
            self._hello_due()
        else:
            self._monitor_reader = EdgeReader(self.loop, self._monitor, self._on_monitor_event,
                                              copy=True)
            self.loop.call_soon(self._monitor_reader.read)
            self._watchdog = self.loop.create_task(self._watch())
        self._reader.read()

    def send_fatal(self, message: str) -> None:
        """Tell the supervisor we cannot serve (before start: the script did not load)."""
        self._close_linger = FATAL_LINGER_MS  # the one frame that says why: let it out
        if len(message) > FATAL_MAX:  # within a frame's limit, whatever produced it
            message = f"{message[:FATAL_MAX]}... ({len(message):,} characters)"
        with contextlib.suppress(zmq.ZMQError):
            self.sock.connect(self.endpoint)
            self.send(p.Fatal(0, message))

    # -- sending ------------------------------------------------------------------------

    def send(self, frame: p.Frame, *, copy: bool = True) -> bool:
        """Send a frame; ``copy=False`` hands ZeroMQ the body without a copy (only for
        immutable bytes: memory of V8's shared buffers is reused by the next pump).

        A remote worker first takes the link's news: a stream frame made before a
        disconnection it had not heard of yet is dropped, so that no frame of a stream can
        reach the supervisor on a new connection after earlier ones were lost with the old
        one (``IMMEDIATE`` drops what the old connection had queued). Nothing is queued
        while there is no connection (the supervisor has failed those streams anyway).
        """
        if self._monitor_reader is not None:
            epoch = self._epoch
            self._monitor_reader.read()
            if self._epoch != epoch and frame.stream != 0:
                return False
        if self._batch is not None:
            # Inside a pump's actions: every frame they make leaves in one message, sent
            # when the pump's actions are done (before the next pump can reuse outBin).
            self._batch.add(frame)
            return True
        return self._send_parts(p.encode(frame), copy, frame.TYPE.name)

    def begin_batch(self) -> None:
        """Frames sent from now until :meth:`flush_batch` leave as one message."""
        if self._batch is None:
            self._batch = p.Batch()

    def flush_batch(self) -> None:
        """Send the frames a pump's actions made, as one message (the bridge calls this)."""
        batch, self._batch = self._batch, None
        if batch:
            self._send_parts(batch.parts(), True, "batch")

    def _send_parts(self, parts: list, copy: bool, what: str) -> bool:
        sent = True
        try:
            send_parts(self.sock, parts, self._flags, copy=copy)
        except zmq.Again:
            log.debug("dropped %s: not connected to the supervisor", what)
            sent = False
        except zmq.ZMQError as e:
            log.error("send failed: %s", e)
            sent = False
        if self._reader is not None:
            self._reader.sent()
        return sent

    # -- receiving ----------------------------------------------------------------------

    def _on_message(self, parts: list[zmq.Frame]) -> None:
        frames, error = p.decode_batch([f.buffer for f in parts])
        if error is not None:
            log.warning("rejected frame from supervisor: %s", error)
        self._on_frames(frames)

    # -- the link of a remote worker ------------------------------------------------------

    def _on_monitor_event(self, parts: list[bytes]) -> None:
        event = int.from_bytes(parts[0][:2], "little")
        value = int.from_bytes(parts[0][2:6], "little")
        endpoint = self.endpoint
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            log.info("connected to the supervisor at %s", endpoint)
            self.connected = True
            self._logged.clear()
            self._hello_due()
        elif event == zmq.EVENT_DISCONNECTED:
            if self.connected:
                self.connected = False
                self._epoch += 1
                self._on_lost()
        elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            self._log_once("auth", "the supervisor at %s refused this worker's key "
                           "(status %d): its public key must be in the supervisor's "
                           "authorized_keys", endpoint, value)
        elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                       zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
            self._log_once("handshake", "the CURVE handshake with %s failed: is the "
                           "server key the supervisor's public key?", endpoint)
        elif event == zmq.EVENT_CONNECT_RETRIED and not self.connected:
            self._log_once("retry", "cannot reach the supervisor at %s; retrying",
                           endpoint, level=logging.WARNING)

    def _log_once(self, what: str, message: str, *args: object,
                  level: int = logging.ERROR) -> None:
        """Log a link problem once a minute at most (ZeroMQ retries every few seconds)."""
        now = time.monotonic()
        if now - self._logged.get(what, -60.0) >= 60.0:
            self._logged[what] = now
            log.log(level, message, *args)

    async def _watch(self) -> None:
        """Say HELLO again when the supervisor stops PINGing (it restarted, or dropped us)."""
        remote = self.remote
        assert remote is not None
        while True:
            await asyncio.sleep(remote.heartbeat_interval)
            silent = time.monotonic() - self.last_ping
            if self.connected and silent > remote.heartbeat_timeout:
                self._log_once("silent", "no PING from the supervisor for %.1f s; saying "
                               "HELLO again (and so every %.0f s until it answers)", silent,
                               remote.heartbeat_timeout, level=logging.WARNING)
                self._hello_due()

    def _hello_due(self) -> None:
        self.last_ping = time.monotonic()  # the supervisor's silence counts from the HELLO
        self._on_hello_due()

    # -- closing ------------------------------------------------------------------------

    def stop_watching(self) -> None:
        """No more link events (the worker is closing); frames may still be sent."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._monitor is not None and not self._monitor.closed:
            if self._monitor_reader is not None:
                self._monitor_reader.close()
                self._monitor_reader = None
            with contextlib.suppress(zmq.ZMQError):
                self.sock.disable_monitor()
            self._monitor.close(linger=0)

    def close(self) -> None:
        """Say GOODBYE (the last frame: the supervisor waits for it at the worker's exit),
        unless it cannot be queued at once, and close the socket; what it queued leaves
        within its linger, once the context is terminated (:func:`flush_at_exit`)."""
        self.stop_watching()
        if not self.sock.closed:
            with contextlib.suppress(zmq.ZMQError):  # no peer, or a full queue
                send_parts(self.sock, p.encode(p.Goodbye(0)), _NOBLOCK)
            if self._reader is not None:
                self._reader.close()
            self.sock.close(linger=self._close_linger)


def flush_at_exit() -> None:
    """Terminate ZeroMQ's context, so that closed sockets deliver what they queued (within
    their linger) before the process ends: a forked worker leaves by ``os._exit``, which
    would drop them (a FATAL lost: the supervisor never said why the worker could not
    serve). Sockets still open are closed at once."""
    zmq.Context.instance().destroy(linger=0)
