"""One isolate worker process: ZeroMQ DEALER <-> protocol frames <-> the V8 bridge.

The worker connects to the supervisor's ROUTER, says HELLO, then turns every frame into a
bridge event and every bridge action into a frame. It keeps, per stream, the protocol's
view: how much request body the supervisor may still send (credit we granted) and how much
response body we may still send (credit we were granted); a peer exceeding its credit is a
protocol error for that stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from isoflow import protocol as p

from . import script as script_loader
from .bridge import (
    AC_CREDIT,
    AC_DATA,
    AC_DONE,
    AC_END,
    AC_ERROR,
    AC_HEAD,
    AC_LOG,
    EV_CANCEL,
    EV_CREDIT,
    EV_DATA,
    EV_END,
    EV_REQUEST,
    Bridge,
    BridgeConfig,
    IsolateFailure,
)

log = logging.getLogger("isoflow.worker")

FAILURE_STATUS = {"cpu": 503, "memory": 503, "error": 500}
FAILURE_TEXT = {
    "cpu": "The script exceeded its CPU time limit.",
    "memory": "The script exceeded its memory limit.",
    "error": "The isolate failed.",
}


@dataclass
class WorkerOptions:
    endpoint: str
    worker_id: str
    script: Path
    cache_dir: Path | None = None
    bridge: BridgeConfig = field(default_factory=BridgeConfig)


class StreamEntry:
    """The worker's protocol view of one stream."""

    __slots__ = ("request", "request_id", "response_credit")

    def __init__(self, request_id: str, request_window: int, response_window: int) -> None:
        self.request_id = request_id
        self.request = p.BodyReceiver("request body", expects_head=False, window=request_window)
        self.response_credit = p.CreditWindow(response_window)


class Worker:
    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.loop = asyncio.get_running_loop()
        self.streams: dict[int, StreamEntry] = {}
        self.max_sid = 0
        self.draining = False
        self.stopped = asyncio.Event()
        self.bridge: Bridge | None = None
        self.requests = 0
        self.terminations = {"cpu": 0, "memory": 0, "error": 0}
        self._zctx = zmq.Context.instance()
        self.sock = self._zctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.IDENTITY, options.worker_id.encode())
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self._check_scheduled = False

    # -- start-up -----------------------------------------------------------------------

    def start(self) -> None:
        """Load the script (raising ScriptError), connect and say HELLO."""
        self.bridge = self._new_bridge()
        self.sock.connect(self.options.endpoint)
        self.loop.add_reader(self.sock.getsockopt(zmq.FD), self._on_readable)
        window = self.options.bridge.request_window
        self._send(p.Hello(0, self.options.worker_id, os.getpid(), window))
        self._on_readable()

    def _new_bridge(self) -> Bridge:
        bridge = Bridge(self.loop, self._on_action, self._on_isolate_failure, self.options.bridge)
        try:
            script_loader.load(bridge.eval, self.options.script, cache_dir=self.options.cache_dir)
            script_loader.check_handler(bridge.status(), self.options.script)
        except BaseException:
            bridge.close()
            raise
        return bridge

    def fatal(self, message: str) -> None:
        """Tell the supervisor we cannot serve, for a clear error at its start-up."""
        try:
            self.sock.connect(self.options.endpoint)
            self._send(p.Fatal(0, message))
        except zmq.ZMQError:
            pass

    # -- I/O ----------------------------------------------------------------------------

    def _send(self, frame: p.Frame) -> None:
        try:
            self.sock.send_multipart(p.encode(frame), copy=True)
        except zmq.ZMQError as e:
            log.error("send failed: %s", e)
        if not self._check_scheduled:
            # The ZeroMQ fd is edge-triggered: a send can swallow a readable edge.
            self._check_scheduled = True
            self.loop.call_soon(self._on_readable)

    def _on_readable(self) -> None:
        self._check_scheduled = False
        sock = self.sock
        while not sock.closed and sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                parts = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            try:
                frame = p.decode([parts[0].bytes, *[f.buffer for f in parts[1:]]])
            except p.ProtocolError as e:
                log.warning("rejected frame from supervisor: %s", e)
                continue
            try:
                self._on_frame(frame)
            except p.ProtocolError as e:
                log.warning("stream %d: %s", frame.stream, e)
                self._abort_stream(frame.stream, 502, f"protocol error: {e}")

    # -- frames from the supervisor -------------------------------------------------------

    def _on_frame(self, frame: p.Frame) -> None:
        bridge = self.bridge
        assert bridge is not None
        sid = frame.stream
        if isinstance(frame, p.RequestHead):
            if sid in self.streams or sid == 0:
                raise p.ProtocolError(f"REQUEST_HEAD for stream {sid} which is already open")
            if self.draining:
                self._send(p.ResponseError(sid, 503, "The worker is shutting down."))
                return
            self.max_sid = max(self.max_sid, sid)
            self.requests += 1
            self.streams[sid] = StreamEntry(
                frame.request_id, self.options.bridge.request_window, frame.window
            )
            flat = [x for pair in frame.headers for x in pair]
            bridge.send([EV_REQUEST, sid, frame.request_id, frame.method, frame.url, flat,
                         frame.has_body, frame.window, frame.client])
            return
        if isinstance(frame, p.Ping):
            self._send(p.Pong(0, frame.seq, self.stats()))
            return
        if isinstance(frame, p.Shutdown):
            self._begin_drain(frame.grace)
            return
        entry = self.streams.get(sid)
        if entry is None:
            level = logging.DEBUG if 0 < sid <= self.max_sid else logging.WARNING
            log.log(level, "dropped %s for unknown stream %d", frame.TYPE.name, sid)
            return
        if isinstance(frame, p.RequestBody):
            entry.request.data(len(frame.data))
            bridge.send([EV_DATA, sid], frame.data)
        elif isinstance(frame, p.RequestEnd):
            entry.request.end()
            bridge.send([EV_END, sid])
        elif isinstance(frame, p.ResponseCredit):
            entry.response_credit.grant(frame.size)
            bridge.send([EV_CREDIT, sid, frame.size])
        elif isinstance(frame, p.Cancel):
            del self.streams[sid]
            bridge.send([EV_CANCEL, sid, frame.reason])
        else:
            raise p.ProtocolError(f"unexpected {frame.TYPE.name} from the supervisor")

    # -- actions from JavaScript --------------------------------------------------------

    def _on_action(self, action: list[Any], data: memoryview | None) -> None:
        kind = action[0]
        if kind == AC_LOG:
            _, level, sid, message = action
            entry = self.streams.get(sid)
            self._send(p.Log(sid, level, entry.request_id if entry else "", message))
            return
        sid = action[1]
        entry = self.streams.get(sid)
        if kind == AC_DONE:
            self.streams.pop(sid, None)
            self._maybe_finish_drain()
            return
        if entry is None:
            return  # cancelled by the supervisor meanwhile
        if kind == AC_DATA:
            assert data is not None
            entry.response_credit.consume(len(data))
            self._send(p.ResponseBody(sid, data))
        elif kind == AC_HEAD:
            _, _, status, flat, length = action
            headers = [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]
            self._send(p.ResponseHead(sid, status, headers, length))
        elif kind == AC_END:
            self._send(p.ResponseEnd(sid))
        elif kind == AC_ERROR:
            self._send(p.ResponseError(sid, action[2], action[3]))
        elif kind == AC_CREDIT:
            entry.request.grant(action[2])
            self._send(p.RequestCredit(sid, action[2]))

    def _abort_stream(self, sid: int, status: int, message: str) -> None:
        if self.streams.pop(sid, None) is not None:
            self._send(p.ResponseError(sid, status, message))
            if self.bridge is not None:
                self.bridge.send([EV_CANCEL, sid, message])

    # -- isolate failures -----------------------------------------------------------------

    def _on_isolate_failure(self, failure: IsolateFailure) -> None:
        log.error("worker %s: %s; replacing the isolate", self.options.worker_id, failure)
        self.terminations[failure.reason] += 1
        status = FAILURE_STATUS[failure.reason]
        text = FAILURE_TEXT[failure.reason]
        for sid, entry in list(self.streams.items()):
            self._send(p.Log(sid, "error", entry.request_id, f"{text} ({failure})"))
            self._send(p.ResponseError(sid, status, text))
        self.streams.clear()
        self.loop.call_soon(self._replace_bridge)

    def _replace_bridge(self) -> None:
        old = self.bridge
        if old is not None:
            old.close()
        try:
            self.bridge = self._new_bridge()
        except script_loader.ScriptError as e:
            log.error("cannot reload the script: %s", e)
            self.stopped.set()

    # -- shutdown -------------------------------------------------------------------------

    def _begin_drain(self, grace: float) -> None:
        if self.draining:
            return
        self.draining = True
        self.loop.call_later(max(grace, 0.0), self.stopped.set)
        self._maybe_finish_drain()

    def _maybe_finish_drain(self) -> None:
        if self.draining and not self.streams:
            self.stopped.set()

    def stats(self) -> dict[str, Any]:
        """Sent with every PONG: what the supervisor's metrics and recycling need."""
        bridge = self.bridge
        heap = bridge.heap_stats() if bridge is not None else {}
        return {
            "streams": len(self.streams),
            "requests": self.requests,
            "pumps": bridge.pumps if bridge else 0,
            "heap_used": heap.get("used_heap_size", 0),
            "heap_total": heap.get("total_heap_size", 0),
            "cpu_terminations": self.terminations["cpu"],
            "memory_terminations": self.terminations["memory"],
            "isolate_errors": self.terminations["error"],
        }

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()
            self.bridge = None
        if not self.sock.closed:
            with contextlib.suppress(zmq.ZMQError, ValueError):
                self.loop.remove_reader(self.sock.getsockopt(zmq.FD))
            self.sock.close(linger=200)


async def serve(options: WorkerOptions) -> int:
    worker = Worker(options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker._begin_drain, 5.0)
    try:
        try:
            worker.start()
        except script_loader.ScriptError as e:
            worker.fatal(str(e))
            log.error("%s", e)
            return 2
        await worker.stopped.wait()
        return 0
    finally:
        worker.close()


def check(path: Path, cache_dir: Path | None = None) -> str | None:
    """Load the script in a throwaway isolate; the error line, or None if it is servable."""

    async def run() -> str | None:
        loop = asyncio.get_running_loop()
        bridge = Bridge(loop, lambda a, d: None, lambda f: None, BridgeConfig())
        try:
            script_loader.load(bridge.eval, path, cache_dir=cache_dir)
            script_loader.check_handler(bridge.status(), path)
            return None
        except script_loader.ScriptError as e:
            return str(e)
        finally:
            bridge.close()

    return asyncio.run(run())

