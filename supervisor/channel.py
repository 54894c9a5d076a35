"""The supervisor's end of the IPC: one ZeroMQ ROUTER socket, frames in and out.

Workers connect DEALER sockets with their identity; every message from them arrives here
prefixed with that identity. Frames are decoded and validated (``isoflow.protocol``); a
malformed frame is logged and dropped, never raised into the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import zmq

from isoflow import protocol as p
from isoflow.isolate_worker.link import EdgeReader, send_parts
from isoflow.protocol import frames

log = logging.getLogger("isoflow.supervisor.channel")
REJECT_LOG_WINDOW = 10.0  # seconds
REJECT_LOG_LINES = 20  # rejected frames logged one by one per window

OnFrame = Callable[[bytes, p.Frame], None]
MAX_PART = max(frames.MAX_HEAD_BYTES, p.MAX_BODY_CHUNK)  # bytes of one ZeroMQ message part


class Channel:
    def __init__(self, endpoint: str, on_frame: OnFrame, *, context: zmq.Context | None = None,
                 configure: Callable[[zmq.Socket], None] | None = None,
                 on_unreachable: Callable[[bytes], None] | None = None) -> None:
        """Bind a ROUTER on ``endpoint``; ``configure`` sets further options before the bind
        (the remote link's CURVE and heartbeats, ``remote.py``).

        With ``on_unreachable`` the channel *batches*: the frames of streams sent to one
        worker during one turn of the event loop leave as one message (a ZeroMQ send wakes
        its I/O thread, once per message), and a worker found unreachable when they are
        flushed is reported through ``on_unreachable(identity)`` instead of ``send``'s
        return value. Frames of no stream (PING, SHUTDOWN) are always sent at once.
        """
        self.loop = asyncio.get_running_loop()
        self.endpoint = endpoint
        self._on_frame = on_frame
        self._on_unreachable = on_unreachable
        self._pending: dict[bytes, p.Batch] = {}  # identity -> frames to send
        self._flush_scheduled = False
        self._zctx = context if context is not None else zmq.Context.instance()
        self.sock = self._zctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        # No part of a message is larger than a body frame (decode_batch refuses it anyway):
        # a peer announcing more is disconnected before libzmq buffers it. On the remote
        # link this bounds what a peer without a key makes it hold during the CURVE
        # handshake too (a command frame announcing 700 MiB was read in whole).
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_PART)
        try:
            if configure is not None:
                configure(self.sock)
            self.sock.bind(endpoint)
        except BaseException:
            self.sock.close(linger=0)
            raise
        self._reader = EdgeReader(self.loop, self.sock, self._on_message)
        self.rejected = 0  # frames dropped as malformed, for metrics and tests
        self._warned_at = 0.0  # start of the current warning window
        self._warned = 0  # warnings logged in it
        self._suppressed = 0  # rejections not logged in it
        # While on_frame runs: the message's first ZeroMQ frame, whose metadata says who
        # sent it on an authenticated link (``get("User-Id")``, ``get("Peer-Address")``).
        self.message: zmq.Frame | None = None

    def send(self, identity: bytes, frame: p.Frame) -> bool:
        """Send a frame to one worker; False if that worker is not connected (a batched
        frame is reported later, through ``on_unreachable``)."""
        if self._on_unreachable is not None:
            pending = self._pending.get(identity)
            if frame.stream != 0:
                if pending is None:
                    pending = p.Batch()
                    pending.add(frame)  # raises (a head over the limit) before it is kept
                    self._pending[identity] = pending
                else:
                    pending.add(frame)
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    self.loop.call_soon(self._flush)
                return True
            if pending is not None:  # keep the order: earlier stream frames go first
                self._flush_one(identity, self._pending.pop(identity).parts())
        return self._send_parts(identity, p.encode(frame))

    def _send_parts(self, identity: bytes, parts: list[Any]) -> bool:
        try:
            send_parts(self.sock, [identity, *parts])
        except zmq.ZMQError as e:
            if e.errno != zmq.EHOSTUNREACH:
                log.error("send to %r failed: %s", identity, e)
            return False
        finally:
            self._reader.sent()
        return True

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, {}
        for identity, batch in pending.items():
            self._flush_one(identity, batch.parts())

    def _flush_one(self, identity: bytes, parts: list[Any]) -> None:
        if not self._send_parts(identity, parts) and self._on_unreachable is not None:
            self._on_unreachable(identity)

    def _on_message(self, parts: list[zmq.Frame]) -> None:
        """One message from a worker (read by the shared EdgeReader): identity, frames."""
        identity = parts[0].bytes
        # A worker batches the frames it produces at once into one message.
        frames, error = p.decode_batch([f.buffer for f in parts[1:]])
        if error is not None:
            self.rejected += 1
            self._warn_rejected(identity, error)
        self.message = parts[1] if len(parts) > 1 else None
        on_frame = self._on_frame
        try:
            for frame in frames:
                try:
                    on_frame(identity, frame)
                except Exception:  # a bug in a handler must not kill the loop
                    log.exception("error handling %s from %r", frame.TYPE.name, identity)
        finally:
            self.message = None

    def _warn_rejected(self, identity: bytes, error: p.ProtocolError) -> None:
        """Log a rejected frame; a flood is summarised (at most 20 lines per 10 s)."""
        now = time.monotonic()
        if now - self._warned_at >= REJECT_LOG_WINDOW:
            if self._suppressed:
                log.warning("%d more malformed frames rejected (not logged one by one)",
                            self._suppressed)
            self._warned_at, self._warned, self._suppressed = now, 0, 0
        if self._warned < REJECT_LOG_LINES:
            self._warned += 1
            log.warning("rejected frame from worker %r: %s", identity, error)
        else:
            self._suppressed += 1

    def drain(self) -> None:
        """Handle now every message already waiting (e.g. a worker's last frames, before
        its exit is handled)."""
        self._reader.read()

    def close(self) -> None:
        if self.sock.closed:
            return
        self._reader.close()
        self.sock.close(linger=0)
