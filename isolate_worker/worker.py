"""One isolate worker process: its link (``link.py``) <-> protocol frames <-> the V8 bridge.

The worker connects to the supervisor's ROUTER, says HELLO, then turns frames into bridge
events and bridge actions into frames. A worker on another host (``isoflow worker``,
:class:`RemoteOptions`) connects over TCP with CURVE and says HELLO after every completed
handshake: when its link drops, it cancels its streams (the supervisor has failed them) and
ZeroMQ reconnects; when the supervisor has not PINGed it for ``heartbeat_timeout`` (it was
restarted, or dropped this worker), it says HELLO again.

Per stream it keeps the protocol's view (credit in both directions; a peer exceeding its
credit is a protocol error for that stream) and the request body chunks JavaScript has not
asked for yet: they are handed to JS only as it pulls, so a body that is forwarded untouched
(``fetch(request)``) never enters V8 at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from isoflow import protocol as p
from isoflow.protocol.frames import MAX_HEAD_BYTES

from . import handover, heap
from . import script as script_loader
from .bridge import Bridge, BridgeConfig, EvalTimeout, IsolateFailure
from .direct import (
    DIRECT_AFTER,
    DIRECT_AFTER_PUMPS,
    DIRECT_MIN_REST,
    DirectWrite,
    descriptors_to_spare,
)
from .fetch import AddressPolicy, FetchClient, Upload
from .kinds import (
    AC_COMPLETE,
    AC_CREDIT,
    AC_DATA,
    AC_DONE,
    AC_END,
    AC_ERROR,
    AC_FETCH,
    AC_FETCH_ABORT,
    AC_FETCH_CREDIT,
    AC_FETCH_DATA,
    AC_FETCH_END,
    AC_FORWARD,
    AC_HEAD,
    AC_LOG,
    AC_OP,
    AC_OP_DATA,
    ACTION_OWNERS,
    EV_CANCEL,
    EV_CREDIT,
    EV_DATA,
    EV_END,
    EV_OP_RESULT,
    EV_REQUEST,
    EV_SCHEDULED,
    EV_WS_CLOSE,
    EVENT_OWNERS,
    SOCKET_ACTIONS,
    WS_ACTIONS,
    header_pairs,
)
from .link import Link, RemoteOptions, flush_at_exit
from .ops import OpRunner
from .sockets import Sockets
from .v8 import limit_process_data, process_rss, set_data_limit, trim_malloc
from .websocket import WebSockets

log = logging.getLogger("isoflow.worker")

RELAY_MIN_UPLOAD = 1 << 20  # smaller uploads go as frames: the hand-over costs round trips
ZERO_COPY_MIN = 32 << 10  # below this, copying into ZeroMQ is cheaper than tracking a buffer
# Memory backstops beyond the isolate's own limit (heap + external, v8.py), from the worker's
# size with one fresh isolate: its RSS may exceed that by `memory` + RSS_MARGIN (checked every
# watchdog tick), its private writable memory by `memory` + DATA_MARGIN (RLIMIT_DATA: the
# kernel refuses pages past it, so one huge ArrayBuffer fails instead of filling the host).
RSS_MARGIN = 128 << 20
DATA_MARGIN = 512 << 20
# While an isolate is replaced, RLIMIT_DATA is lifted by this much: the old one is freed on a
# thread of its own (whose stack is private memory too) while a new one starts beside it, and
# an isolate that failed at the limit leaves no room for either.
RECOVERY_MARGIN = 256 << 20
CLIENT_GONE = 499  # RESPONSE_ERROR's status when a body's client left (nginx's status)
WEDGED_AFTER = 5.0  # seconds a terminated isolate has to stop before the worker exits
FETCH_CLOSE_WITHIN = 2.0  # seconds a stopping worker waits for its upstream connections
EXIT_WEDGED = 70  # the worker's exit code when its isolate could not be stopped or replaced
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
    remote: RemoteOptions | None = None
    grace: float = 5.0  # seconds to finish the streams in flight at SIGTERM
    root: Path | None = None  # the project root imports are confined to (bundler.project_root)
    compat_flags: tuple[str, ...] = ()  # the script's compatibility flags (nodejs_compat)
    handover: str | None = None  # the supervisor's hand-over socket (the splice relay)
    snapshot: Path | None = None  # the pool's pinned copy of the script (script.py)


class StreamEntry:
    """The worker's side of one stream: the protocol's view of it (:class:`StreamCore`:
    phases, outcome, credit both ways) and where its bodies go in this process."""

    __slots__ = ("body", "body_end_sent", "core", "direct", "forward", "framed", "framed_in",
                 "js_credit", "js_done", "last_pump", "length", "request_id", "upload",
                 "upload_relayed")

    def __init__(self, core: p.StreamCore, request_id: str) -> None:
        self.core = core
        self.request_id = request_id
        self.body: deque[memoryview | bytes] = deque()  # request chunks JS has not pulled
        self.body_end_sent = False
        self.js_credit = 0  # request body bytes JS asked for and has not received
        self.upload: Upload | None = None  # the request body goes to a fetch instead
        self.forward: ResponseForward | None = None  # a fetch body goes out as the response
        self.upload_relayed = False  # the rest of the request body goes socket to socket
        self.direct: DirectWrite | None = None  # the response body goes into the client socket
        self.framed = 0  # response body bytes sent as frames (-1: direct was refused)
        self.framed_in = 0  # pumps whose actions sent some of them
        self.last_pump = -1  # the latest of those pumps (Bridge.pumps)
        self.js_done = False  # JS released the stream (AC_DONE)
        self.length = -1  # the response's Content-Length (-1: none)

    @property
    def body_ended(self) -> bool:
        return self.core.request is p.Phase.ENDED


class ResponseForward:
    """Pipes an upstream fetch body into a response stream, outside V8."""

    def __init__(self, worker: Worker, sid: int, entry: StreamEntry, fid: int) -> None:
        self.worker = worker
        self.sid = sid
        self.entry = entry
        self.fid = fid  # the fetch whose body this is: aborted if the stream is cancelled
        self._waiter: asyncio.Future[None] | None = None

    def credit_granted(self) -> None:
        """The supervisor granted response credit (the stream core counts it)."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def write(self, data: bytes) -> None:
        worker, entry = self.worker, self.entry
        core = entry.core
        if entry.framed >= DIRECT_AFTER and worker.handover.answers \
                and worker._may_go_direct(entry):
            worker._ask_direct(self.sid, entry, lambda _size: self.credit_granted())
        direct = entry.direct
        if direct is not None:
            # Into the client's socket: nothing is taken before the answer (after a refusal
            # the frames must keep to the supervisor's credit), then at most a window waits.
            while not direct.done and (not direct.answered or direct.backlog >= direct.window):
                await self._wait()
            if worker.streams.get(self.sid) is not entry:
                raise asyncio.CancelledError
            if entry.direct is direct:
                worker.forwarded_bytes += len(data)
                direct.write(memoryview(data))
                return
            # Refused meanwhile: the frame path below.
        view = memoryview(data)
        while view:
            while core.peer_credit <= 0 and not core.finished:
                await self._wait()
            if worker.streams.get(self.sid) is not entry or core.finished:
                raise asyncio.CancelledError
            n = min(len(view), core.peer_credit)
            worker.forwarded_bytes += n
            if entry.framed >= 0:
                entry.framed += n
            worker._send(core.send(p.ResponseBody(self.sid, view[:n])), copy=n < ZERO_COPY_MIN)
            view = view[n:]

    def end(self) -> None:
        if self.entry.direct is not None and self.worker.streams.get(self.sid) is self.entry:
            self.entry.direct.end()  # DIRECT_END once it is all in the socket
            return
        if self.worker.streams.pop(self.sid, None) is not None:
            self.worker._send(self.entry.core.send(p.ResponseEnd(self.sid)))
            self._request_body_gone("the response ended before the request body")
            self.worker._maybe_finish_drain()

    def _request_body_gone(self, reason: str) -> None:
        """The stream is over here: a request body the script still reads (piped into the
        fetch, say) gets no more bytes, so JavaScript is told, as for a cancel."""
        bridge = self.worker.bridge
        if self.entry.core.request is p.Phase.BODY and self.entry.upload is None \
                and bridge is not None:
            bridge.send([EV_CANCEL, self.sid, reason])

    def relay(self, framing: str, length: int, prefix: bytes, fd: int) -> bool:
        """Hand the upstream socket ``fd`` to the supervisor, which moves the rest of the body
        itself (the splice relay); False (nothing sent) if it cannot take it."""
        worker = self.worker
        entry = self.entry
        if worker.streams.get(self.sid) is not entry or entry.core.finished:
            return False
        if entry.core.request is p.Phase.BODY and not entry.upload_relayed:
            # The rest of the request body still comes through this stream (as frames, to
            # the script or to a fetch): a relay ends the stream, and would cut it off.
            return False
        if not worker.handover.send(handover.RESPONSE, self.sid, fd):
            return False
        del worker.streams[self.sid]
        worker.relayed_bodies += 1
        worker._send(self.entry.core.send(p.ResponseRelay(self.sid, framing, length, prefix)))
        worker._maybe_finish_drain()
        return True

    def fail(self, message: str) -> None:
        if self.entry.direct is not None:
            self.entry.direct.close()
            self.entry.direct = None
        if self.worker.streams.pop(self.sid, None) is not None:
            self.worker._send(p.Log(self.sid, "error", self.entry.request_id, message))
            self.worker._send(self.entry.core.send(p.ResponseError(self.sid, 502, message)))
            self._request_body_gone(message)
            self.worker._maybe_finish_drain()


class UploadHandOver:
    """Hands an untouched upload's upstream socket to the supervisor (fetch.Upload)."""

    def __init__(self, worker: Worker, sid: int, entry: StreamEntry) -> None:
        self.worker = worker
        self.sid = sid
        self.entry = entry

    def ready(self) -> bool:
        core = self.entry.core
        return (self.worker.streams.get(self.sid) is self.entry and core.granted == 0
                and core.request is p.Phase.BODY)

    def ask(self, fd: int, received: int, chunked: bool) -> bool:
        worker = self.worker
        if not self.ready() or not worker.handover.send(handover.UPLOAD, self.sid, fd):
            return False
        worker._send(self.entry.core.send(p.UploadRelay(self.sid, received, chunked)))
        self.entry.upload_relayed = True
        worker.relayed_uploads += 1
        return True


def _worth_direct(length: int, framed: int) -> bool:
    """Whether a body with ``framed`` bytes sent has enough left to pay for the hand-over of
    the client's socket: unknown (no Content-Length), or at least ``DIRECT_MIN_REST``."""
    return length < 0 or length - framed >= DIRECT_MIN_REST


def _fits_a_frame(headers: list[list[str]]) -> bool:
    """Whether a head with ``headers`` surely encodes within the protocol's head limit (at
    most 4 bytes a character, and msgpack's few bytes a string). A head that might not goes
    alone, so that its refusal fails the stream with a 500, as it always has, rather than a
    RESPONSE_COMPLETE the core has already counted as the end."""
    size = 64
    for name, value in headers:
        size += 4 * (len(name) + len(value)) + 10
    return size <= MAX_HEAD_BYTES


class HeldResponse:
    """A response head held back while one pump's actions are handled, with at most one
    chunk: if the response's end follows in the same pump (a short streamed body often does;
    known bytes come whole, as AC_COMPLETE), the three leave as one RESPONSE_COMPLETE frame,
    which costs each side one frame instead of three. Anything else sends them as they were,
    before it (and the pump's end does)."""

    __slots__ = ("data", "entry", "headers", "length", "sid", "status")

    def __init__(self, sid: int, entry: StreamEntry, status: int, headers: list[list[str]],
                 length: int) -> None:
        self.sid = sid
        self.entry = entry
        self.status = status
        self.headers = headers
        self.length = length
        self.data: memoryview | None = None  # shared memory of this pump: sent before the next


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
        self.forwarded_bytes = 0
        self.forwards = 0  # response bodies forwarded untouched (relayed, direct or framed)
        self.relayed_bodies = 0  # ... of them handed to the supervisor with their socket
        self.uploads = 0  # request bodies forwarded untouched into a fetch
        self.relayed_uploads = 0  # ... of them spliced in by the supervisor
        self.direct_stalls = 0  # times a body written into a client's socket waited for it
        self.direct_forwards = 0  # forwarded bodies written into the client's socket here
        self.terminations = {"cpu": 0, "memory": 0, "error": 0}
        self.rss_base = 0  # the RSS with one fresh isolate, measured at start
        self.rss_limit = 0  # the RSS backstop (RSS_MARGIN)
        self.wants_recycle = False  # its memory did not come back: the pool should replace it
        self.data_limit = 0  # RLIMIT_DATA's soft limit (DATA_MARGIN), once set
        self._freeing: set[asyncio.Task] = set()  # old isolates being freed
        self.runtime_failures = 0  # requests the JS runtime failed in a row (AC_ERROR flag)
        self._held: HeldResponse | None = None
        self._ask_direct_for: dict[int, StreamEntry] = {}  # streams to ask for at pump end
        cfg = options.bridge
        # Remote workers have no hand-over: their bodies always take the frame path.
        self.handover = handover.Handover(options.handover if options.remote is None
                                          else None)
        self.fetch = FetchClient(
            self._emit, policy=AddressPolicy(cfg.allow_private, cfg.allow_loopback),
            upload_window=cfg.request_window, relay=self.handover.available,
        )
        self.ops = OpRunner(self._emit)
        self.websockets = WebSockets(self)
        self.sockets = Sockets(self)  # cloudflare:sockets' TCP connections
        self.link = Link(options.endpoint, options.worker_id, options.remote, self._on_frames,
                         self._hello, self._on_link_lost)
        # Sending is the link's (websocket.py and ResponseForward send through this too).
        self._send = self.link.send

    # -- start-up -----------------------------------------------------------------------

    def start(self) -> None:
        """Load the script (raising ScriptError), connect and say HELLO."""
        self.bridge = self._new_bridge()
        trim_malloc()  # what compiling a module freed (the compiler's isolate, its texts)
        self.rss_base = process_rss()
        self.rss_limit = self.rss_base + self.options.bridge.memory_limit + RSS_MARGIN
        self.bridge.rss_limit = self.rss_limit
        self.link.start()
        if self.handover.available:
            self.handover.listen(self._on_direct_answer)
        heap.settle()

    def _hello(self) -> None:
        if self.options.remote is not None:
            # A new session: whatever ran before belongs to streams the supervisor failed.
            self._cancel_all("the connection to the supervisor was reset")
        window = self.options.bridge.request_window
        if not self._send(p.Hello(0, self.options.worker_id, os.getpid(), window)):
            return  # the link dropped again: the next handshake says HELLO
        if self.draining and self.options.remote is not None:
            self._send(p.Fatal(0, "its host is stopping it"))

    def _on_link_lost(self) -> None:
        """A remote worker's connection dropped: the supervisor has failed its streams."""
        log.warning("lost the connection to the supervisor at %s; %d stream(s) cancelled; "
                    "reconnecting", self.options.endpoint, len(self.streams))
        self._cancel_all("the connection to the supervisor was lost")

    def _new_bridge(self) -> Bridge:
        options = self.options
        bridge = Bridge(self.loop, self._on_action, self._on_isolate_failure, options.bridge,
                        on_batch_end=self._on_batch_end, on_refused=self._on_refused)
        try:
            load_script(bridge, options.script, options.bridge.cpu_limit,
                        cache_dir=options.cache_dir, root=options.root,
                        compat_flags=options.compat_flags, snapshot=options.snapshot)
        except BaseException:
            bridge.close()
            raise
        return bridge

    def fatal(self, message: str) -> None:
        """Tell the supervisor we cannot serve, for a clear error at its start-up."""
        self.link.send_fatal(message)

    # -- I/O ----------------------------------------------------------------------------

    def _emit(self, event: list[Any], payload: bytes | None) -> None:
        if self.bridge is not None:
            self.bridge.send(event, payload)

    def _on_frames(self, frames: list[p.Frame]) -> None:
        """The frames of one message from the supervisor (link.py); its requests ride in one
        pump (``Bridge.hold``)."""
        bridge = self.bridge
        if bridge is not None:
            bridge.hold()
        try:
            for frame in frames:
                try:
                    self._on_frame(frame)
                except p.ProtocolError as e:
                    log.warning("stream %d: %s", frame.stream, e)
                    self._abort_stream(frame.stream, 502, f"protocol error: {e}")
                except Exception as e:  # one stream's failure never stops this loop
                    log.exception("stream %d: cannot handle %s", frame.stream,
                                  frame.TYPE.name)
                    self._abort_stream(frame.stream, 500, f"internal error: {e}")
        finally:
            if bridge is not None:
                bridge.release()

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
            core = p.StreamCore.opened(p.Role.WORKER, frame,
                                       request_window=self.options.bridge.request_window)
            self.streams[sid] = StreamEntry(core, frame.request_id)
            flat = [x for pair in frame.headers for x in pair]
            bridge.send([EV_REQUEST, sid, frame.request_id, frame.method, frame.url, flat,
                         frame.has_body, frame.window, frame.client], batch=True)
            return
        if isinstance(frame, p.Scheduled):
            if sid in self.streams or sid == 0:
                raise p.ProtocolError(f"SCHEDULED for stream {sid} which is already open")
            self.max_sid = max(self.max_sid, sid)
            core = p.StreamCore.opened(p.Role.WORKER, frame, request_window=0)
            self.streams[sid] = StreamEntry(core, f"cron:{frame.cron}")
            bridge.send([EV_SCHEDULED, sid, frame.cron, frame.scheduled_time])
            return
        if isinstance(frame, p.Ping):
            self.link.last_ping = time.monotonic()
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
        if isinstance(frame, p.WsMessage | p.WsClose):
            self.websockets.on_frame(sid, entry, frame)
            return
        event = entry.core.receive(frame)  # checked against the stream's phase and credit
        if event is None:
            return  # late: it crossed the end of the stream
        if isinstance(frame, p.ResponseCredit) and self.websockets.credit(sid, frame.size):
            return
        if isinstance(frame, p.RequestBody):
            entry.upload_relayed = False  # body frames after UPLOAD_RELAY: it was declined
            if entry.upload is not None:
                entry.upload.feed(frame.data)  # the received frame itself: no copy
            else:
                entry.body.append(frame.data)
                self._deliver_body(sid, entry)
        elif isinstance(frame, p.RequestEnd):
            if entry.upload is not None:
                entry.upload.end()
            else:
                self._deliver_body(sid, entry)
        elif isinstance(frame, p.ResponseCredit):
            if entry.forward is not None:
                entry.forward.credit_granted()
            else:
                bridge.send([EV_CREDIT, sid, frame.size])
        elif isinstance(frame, p.Cancel):
            self._cancel_stream(sid, entry, frame.reason)
            self._maybe_finish_drain()
        else:
            raise p.ProtocolError(f"unexpected {frame.TYPE.name} from the supervisor")

    def _cancel_stream(self, sid: int, entry: StreamEntry, reason: str) -> None:
        """Forget a stream the supervisor no longer wants; JS and its fetches stop."""
        self.streams.pop(sid, None)
        if entry.direct is not None:
            entry.direct.close()
            entry.direct = None
        if entry.forward is not None:
            self.fetch.abort(entry.forward.fid)
        if entry.upload is not None:
            entry.upload.fail(ConnectionError(f"the client went away: {reason}"))
        self.websockets.stream_gone(sid, reason)
        if self.bridge is not None:
            self.bridge.send([EV_CANCEL, sid, reason])

    def _cancel_all(self, reason: str) -> None:
        for sid, entry in list(self.streams.items()):
            self._cancel_stream(sid, entry, reason)
        self._maybe_finish_drain()

    def _deliver_body(self, sid: int, entry: StreamEntry) -> None:
        """Hand JS the request body it asked for; grant the supervisor what JS took."""
        assert self.bridge is not None
        taken = 0
        while entry.body and entry.js_credit > 0:
            chunk = entry.body.popleft()
            if len(chunk) > entry.js_credit:
                entry.body.appendleft(chunk[entry.js_credit :])
                chunk = chunk[: entry.js_credit]
            entry.js_credit -= len(chunk)
            taken += len(chunk)
            self.bridge.send([EV_DATA, sid], chunk)
        if taken:
            self._consumed(entry, taken)
        if entry.body_ended and not entry.body and not entry.body_end_sent:
            entry.body_end_sent = True
            self.bridge.send([EV_END, sid])

    def _consumed(self, entry: StreamEntry, size: int) -> None:
        """The script (or a forwarded upload) took ``size`` bytes of request body: credit
        goes back to the supervisor as the stream core's grant policy says."""
        credit = entry.core.consumed(size)
        if credit is not None:
            self._send(credit)

    # -- actions from JavaScript --------------------------------------------------------

    def _on_batch_end(self) -> None:
        """A pump's actions are handled: what is held goes, then the batch leaves (with the
        RESPONSE_DIRECT of every stream whose body goes on past this pump)."""
        self._release_held()
        if self._ask_direct_for:
            for sid, entry in self._ask_direct_for.items():
                if self.streams.get(sid) is entry and not entry.core.finished \
                        and self._may_go_direct(entry):
                    self._ask_direct(sid, entry)
            self._ask_direct_for.clear()
        self.link.flush_batch()

    def _complete(self, sid: int, status: int, flat: list[str], data: memoryview) -> None:
        """AC_COMPLETE: a response's head, whole body and end, as one RESPONSE_COMPLETE
        frame (or the three frames if the head might not fit one); JS has released the
        stream too (no AC_DONE follows)."""
        entry = self.streams.get(sid)
        if entry is None:
            return  # cancelled by the supervisor meanwhile
        entry.js_done = True
        core = entry.core
        if status == 101:  # the runtime sends a WebSocket's 101 otherwise (AC_WS_ACCEPT)
            self._bad_gateway(sid, entry, "The script answered status 101 with a body.")
            return
        self.runtime_failures = 0
        headers = header_pairs(flat)
        entry.length = len(data)
        if _fits_a_frame(headers):
            self._send(core.send(p.ResponseComplete(sid, status, headers, data)))
        else:
            self._send(core.send(p.ResponseHead(sid, status, headers, len(data))))
            if data:
                self._send(core.send(p.ResponseBody(sid, data)))
            self._send(core.send(p.ResponseEnd(sid)))
        self._forget_if_done(sid, entry)

    def _bad_gateway(self, sid: int, entry: StreamEntry, message: str) -> None:
        """A response the client could not make sense of: the script's log says why, the
        client gets a 502 and the stream is cancelled."""
        self._send(p.Log(sid, "warn", entry.request_id, message))
        self._fail_response(entry, 502, message)
        self._cancel_stream(sid, entry, message)

    def _release_held(self) -> None:
        """Send the held head (and its chunk) as they were (see :class:`HeldResponse`)."""
        held, self._held = self._held, None
        if held is None or self.streams.get(held.sid) is not held.entry:
            return
        core = held.entry.core
        try:
            self._send(core.send(p.ResponseHead(held.sid, held.status, held.headers,
                                                held.length)))
            if held.data is not None:
                self._send(core.send(p.ResponseBody(held.sid, held.data)))
        except Exception as e:  # as the bridge would have for the actions themselves
            log.exception("stream %d: cannot send its response head", held.sid)
            self._on_refused([AC_HEAD, held.sid], e, event=False)

    def _on_action(self, action: list[Any], data: memoryview | None) -> None:
        self.link.begin_batch()
        kind = action[0]
        held = self._held
        if held is not None and (kind not in (AC_DATA, AC_END) or action[1] != held.sid):
            self._release_held()
            held = None
        if kind == AC_LOG:
            _, level, sid, message = action
            entry = self.streams.get(sid)
            self._send(p.Log(sid, level, entry.request_id if entry else "", message))
            return
        if kind == AC_OP_DATA:
            assert data is not None
            self.ops.data(action[1], data)
            return
        if kind == AC_OP:
            self.ops.start(action[1], action[2], action[3], action[4])
            return
        if kind in WS_ACTIONS:
            self.websockets.on_action(action, data)
            return
        if kind in SOCKET_ACTIONS:
            self.sockets.on_action(action, data)
            return
        if kind == AC_COMPLETE:
            assert data is not None
            self._complete(action[1], action[4], action[5], data)
            return
        if kind >= AC_FETCH:
            self._on_fetch_action(action, data)
            return
        sid = action[1]
        entry = self.streams.get(sid)
        if kind == AC_DONE:
            self.websockets.released(sid)
            if entry is not None:
                entry.js_done = True
                self._forget_if_done(sid, entry)
            return
        if entry is None:
            return  # cancelled by the supervisor meanwhile
        core = entry.core
        if kind == AC_DATA:
            assert data is not None
            if held is not None:
                if held.data is None and len(data) == held.length:
                    held.data = data  # the whole body, it seems: its end may follow
                    return
                self._release_held()
            direct = entry.direct
            if direct is not None:
                direct.write(data)
                return
            framed = entry.framed
            pump = self.bridge.pumps if self.bridge is not None else -1
            if pump != entry.last_pump:
                entry.last_pump = pump
                entry.framed_in += 1
            if framed >= 0 and self.handover.answers and (
                    framed < DIRECT_AFTER <= framed + len(data)
                    or entry.framed_in == DIRECT_AFTER_PUMPS):
                # Long enough, or drip-fed over enough pumps (a timer's chunks, an event
                # stream), to be worth the socket's hand-over: asked at the pump's end,
                # unless the body ends in this pump anyway.
                self._ask_direct_for[sid] = entry
            if framed >= 0:
                entry.framed = framed + len(data)
            self._send(core.send(p.ResponseBody(sid, data)))
        elif kind == AC_HEAD:
            _, _, status, flat, length = action
            if status == 101 and not core.upgradable:
                # A 101 (an upstream's, forwarded) answering no WebSocket upgrade: the client
                # could not make sense of it. A bad gateway, as the front says of 99 or 999.
                self._bad_gateway(sid, entry, f"The script answered status {status} to a "
                                              "request that is not a WebSocket upgrade.")
                return
            headers = header_pairs(flat)
            entry.length = length
            if status != 101 and length >= 0 and _fits_a_frame(headers):
                self._held = HeldResponse(sid, entry, status, headers, length)
                return
            self._send(core.send(p.ResponseHead(sid, status, headers, length)))
        elif kind == AC_END:
            self.runtime_failures = 0
            if held is not None:
                body = held.data if held.data is not None else b""
                if len(body) == held.length:
                    self._held = None
                    self._send(core.send(p.ResponseComplete(sid, held.status, held.headers,
                                                            body)))
                    return
                self._release_held()
            if entry.direct is not None:
                entry.direct.end()
                return
            self._ask_direct_for.pop(sid, None)
            self._send(core.send(p.ResponseEnd(sid)))
        elif kind == AC_ERROR:
            self._fail_response(entry, action[2], action[3])
            if action[4]:  # the runtime's failure, not the script's (90_serve.js)
                self.streams.pop(sid, None)  # answered: not failed again if replaced now
                self._count_runtime_failure()
                self._maybe_finish_drain()
        elif kind == AC_CREDIT:
            entry.js_credit += action[2]
            self._deliver_body(sid, entry)

    def _on_fetch_action(self, action: list[Any], data: memoryview | None) -> None:
        kind, fid = action[0], action[1]
        fetch = self.fetch
        if kind == AC_FETCH:
            _, _, method, url, headers, body, length, redirect = action
            upload = None
            if isinstance(body, list) and body[0] == "request":
                upload = self._divert_request_body(fid, body[1])
                if upload is None:
                    fetch.emit_error(fid, "the request body is no longer available")
                    return
                length = self._declared_length(body[1])  # the client's, as parsed
            fetch.start(fid, method, url, headers, body, length, redirect, upload)
        elif kind == AC_FETCH_DATA:
            assert data is not None
            fetch.upload_data(fid, data)
        elif kind == AC_FETCH_END:
            fetch.upload_end(fid)
        elif kind == AC_FETCH_CREDIT:
            fetch.grant(fid, action[2])
        elif kind == AC_FETCH_ABORT:
            fetch.abort(fid)
        elif kind == AC_FORWARD:
            sid, fid = action[1], action[2]  # [AC_FORWARD, stream id, fetch id]
            entry = self.streams.get(sid)
            if entry is None:
                fetch.abort(fid)
                return
            entry.forward = ResponseForward(self, sid, entry, fid)
            self.forwards += 1
            if not fetch.forward(fid, entry.forward):
                entry.forward.fail("the upstream response is no longer available")

    def _declared_length(self, sid: int) -> int:
        """The Content-Length of stream ``sid``'s request as the supervisor parsed it (its
        body has exactly that many bytes), -1 for a chunked body."""
        entry = self.streams.get(sid)
        head = entry.core.head if entry is not None else None
        length = _content_length(head) if head is not None else None
        return -1 if length is None else length

    def _divert_request_body(self, fid: int, sid: int) -> Upload | None:
        """Send stream ``sid``'s request body to fetch ``fid`` directly (not through V8)."""
        entry = self.streams.get(sid)
        if entry is None or entry.upload is not None:
            return None

        def consumed(size: int) -> None:
            if sid in self.streams:
                self._consumed(entry, size)

        upload = Upload(consumed)
        self.uploads += 1
        if self._splicable(entry):
            upload.splice = UploadHandOver(self, sid, entry)
        while entry.body:
            chunk = entry.body.popleft()
            # Bytes the supervisor sent before JS asked: consumed from its credit already.
            upload.feed(chunk)
        if entry.body_ended:
            upload.end()
        entry.upload = upload
        return upload

    def _splicable(self, entry: StreamEntry) -> bool:
        """Whether an upload may be handed over: a local worker, a plain-HTTP client, and a
        body whose known length goes at least RELAY_MIN_UPLOAD beyond what the window lets
        in first, or a chunked one (asked for only if it outlasts the first window)."""
        head = entry.core.head
        if not self.handover.available or head is None or entry.body_ended:
            return False
        if not head.url.startswith("http:"):
            return False  # a TLS client: the supervisor cannot relay what TLS wraps
        length = _content_length(head)
        if length is not None:
            return length - self.options.bridge.request_window >= RELAY_MIN_UPLOAD
        codings = [value for name, value in head.headers if name.lower() == "transfer-encoding"]
        return bool(codings) and codings[-1].lower().rstrip(" \t").endswith("chunked")

    # -- response bodies written into the client's socket (direct.py) ---------------------

    def _ask_direct(self, sid: int, entry: StreamEntry,
                    on_credit: Callable[[int], None] | None = None) -> DirectWrite:
        """Ask the supervisor for the client's socket (RESPONSE_DIRECT); the body's chunks
        wait in the returned writer for the answer. Its credit goes to JS (an EV_CREDIT), or
        to ``on_credit`` (a forwarded upstream body)."""
        assert self.bridge is not None
        bridge = self.bridge

        def credit(size: int) -> None:
            if self.bridge is bridge and self.streams.get(sid) is entry:
                bridge.send([EV_CREDIT, sid, size])

        def ended(written: int, failure: str | None) -> None:
            self._direct_ended(sid, entry, direct, written, failure)

        def stalled() -> None:
            self.direct_stalls += 1

        window = entry.core.head.window if entry.core.head is not None else 0
        limit = max(entry.length - entry.framed, 0) if entry.length >= 0 else -1
        direct = entry.direct = DirectWrite(window, on_credit or credit, ended, stalled, limit)
        self._send(entry.core.send(p.ResponseDirect(sid)))
        return direct

    def _may_go_direct(self, entry: StreamEntry) -> bool:
        """Whether ``entry``'s response body may go on into the client's socket, asked for
        now: not asked yet, in its body, with enough left to pay for the hand-over, and a
        descriptor to spare for the socket."""
        return entry.direct is None and entry.core.response is p.Phase.BODY \
            and _worth_direct(entry.length, entry.framed) \
            and descriptors_to_spare(self._sockets_coming())

    def _sockets_coming(self) -> int:
        """Client sockets asked for (RESPONSE_DIRECT) and not answered yet."""
        return sum(1 for entry in self.streams.values()
                   if entry.direct is not None and not entry.direct.answered)

    def _on_direct_answer(self, sid: int, client: Any, chunked: bool,
                          send_timeout: float) -> None:
        """The supervisor's answer to RESPONSE_DIRECT (handover.py): the client's socket, or
        None: it keeps it, and the body goes on as frames."""
        entry = self.streams.get(sid)
        direct = entry.direct if entry is not None else None
        if entry is None or direct is None or direct.answered:
            if isinstance(client, socket.socket):
                client.close()  # its stream was cancelled meanwhile
            return
        if isinstance(client, OSError):  # handed over, but lost on its way: the stream fails
            direct.close()
            self._direct_ended(sid, entry, direct, 0, str(client))
        elif client is not None:
            direct.granted(client, chunked, send_timeout)
            if entry.forward is not None:
                self.direct_forwards += 1
        else:
            self._direct_refused(sid, entry, direct)
        if entry.forward is not None:
            entry.forward.credit_granted()  # its writer waits for the answer

    def _direct_refused(self, sid: int, entry: StreamEntry, direct: DirectWrite) -> None:
        """The supervisor keeps the client's socket: what was kept for it goes as frames."""
        entry.direct = None
        entry.framed = -1  # not asked again
        core = entry.core
        core.direct_refused()
        for chunk in direct.refused():
            self._send(core.send(p.ResponseBody(sid, chunk)))
        if direct.ending:
            self._send(core.send(p.ResponseEnd(sid)))
            self._forget_if_done(sid, entry)

    def _direct_ended(self, sid: int, entry: StreamEntry, direct: DirectWrite, written: int,
                      failure: str | None) -> None:
        """The body is in the client's socket (DIRECT_END), or cannot be (the stream fails:
        RESPONSE_ERROR, 499 if the client left, and JS is told as for a cancel)."""
        entry.direct = None
        if self.streams.get(sid) is not entry:
            return
        if failure is not None:
            self._fail_response(entry, CLIENT_GONE if direct.client_gone else 502, failure)
            self._cancel_stream(sid, entry, failure)
            self._maybe_finish_drain()
        else:
            self._send(entry.core.send(p.DirectEnd(sid, written)))
            if entry.forward is not None:  # the forward's end waited for this
                self.streams.pop(sid, None)
                entry.forward._request_body_gone("the response ended before the request body")
                self._maybe_finish_drain()
            else:
                self._forget_if_done(sid, entry)

    def _forget_if_done(self, sid: int, entry: StreamEntry) -> None:
        """Forget a stream once JS has released it and nothing else writes its body (a
        forwarded fetch body, or a body going into the client's socket, keeps it)."""
        if entry.js_done and entry.forward is None and entry.direct is None:
            self.streams.pop(sid, None)
            self._maybe_finish_drain()

    def _abort_stream(self, sid: int, status: int, message: str) -> None:
        """Answer a stream the supervisor broke with an error, then cancel it like any other."""
        entry = self.streams.get(sid)
        if entry is not None:
            self._fail_response(entry, status, message)
            self._cancel_stream(sid, entry, message)

    def _fail_response(self, entry: StreamEntry, status: int, message: str) -> None:
        """Send RESPONSE_ERROR for a stream whose response has not ended (a stream that has
        ended, or was cancelled, has nothing left to fail)."""
        if entry.direct is not None:  # nothing more goes into the client's socket
            entry.direct.close()
            entry.direct = None
        core = entry.core
        if not core.finished and core.response is not p.Phase.ENDED:
            self._send(core.send(p.ResponseError(core.sid, status, message)))

    def _on_refused(self, item: Any, error: Exception, *, event: bool) -> None:
        """The bridge could not hand JS an event or take an action (a malformed one among
        them): fail what it belongs to, as kinds.py names the owner of its kind."""
        if type(item) is not list or len(item) < 2 or type(item[0]) is not int or \
                type(item[1]) is not int:
            return  # it names nothing that could be failed (the bridge logged it)
        kind, ident = item[0], item[1]
        owner = (EVENT_OWNERS if event else ACTION_OWNERS).get(kind)
        message = f"internal error: {error}"
        if owner == "websocket" and ident <= 0:  # an outbound socket
            self.websockets.forget(ident)
            self._emit([EV_WS_CLOSE, ident, 1006, message[:123], 0], None)
        elif owner in ("stream", "websocket"):
            self._abort_stream(ident, 500, message)
        elif owner == "socket":
            self.sockets.fail(ident, message)
        elif owner == "fetch":
            self.fetch.abort(ident)
            self.fetch.emit_error(ident, f"fetch failed: {message}")
        elif owner == "op":
            self._emit([EV_OP_RESULT, ident, False, {"name": "TypeError", "message": message},
                        False], None)

    # -- isolate failures -----------------------------------------------------------------

    def _count_runtime_failure(self) -> None:
        """The runtime (not the script's handler) failed a request: after
        ``max_runtime_failures`` in a row the isolate is wedged (e.g. a script patched what
        the runtime needs), so it is replaced rather than left answering 500 forever."""
        self.runtime_failures += 1
        limit = self.options.bridge.max_runtime_failures
        if self.runtime_failures >= limit and self.bridge is not None and not self.bridge.closed:
            self.runtime_failures = 0
            self._on_isolate_failure(IsolateFailure(
                "error", f"the runtime failed {limit} requests in a row"))

    def _on_isolate_failure(self, failure: IsolateFailure) -> None:
        log.error("worker %s: %s; replacing the isolate", self.options.worker_id, failure)
        self.terminations[failure.reason] += 1
        status = FAILURE_STATUS[failure.reason]
        text = FAILURE_TEXT[failure.reason]
        for sid, entry in list(self.streams.items()):
            self._send(p.Log(sid, "error", entry.request_id, f"{text} ({failure})"))
            self._fail_response(entry, status, text)  # a direct body's writer stops too
        self.streams.clear()
        self.websockets.reset()
        self.sockets.reset()
        for fid in list(self.fetch.fetches):
            self.fetch.abort(fid)
        self.ops.reset()
        # At once, not on a later turn of the loop: a frame read in between would go to
        # the failed isolate and be lost with it.
        self._replace_bridge()

    def _replace_bridge(self) -> None:
        """A new isolate for the failed one. Where that cannot be done (no thread, no memory
        for one), the process exits: a worker without an isolate would take requests and
        answer none, and the supervisor replaces a worker that exits."""
        try:
            old = self.bridge
            if old is not None:
                if self.data_limit:
                    set_data_limit(self.data_limit + RECOVERY_MARGIN)
                # Off the loop: a V8 thread that ignores its termination must not block it.
                freed = old.close(wait=False)
                if freed is not None:
                    task = self.loop.create_task(self._await_freed(freed))
                    self._freeing.add(task)
                    task.add_done_callback(self._freeing.discard)
            # The log budget is the worker's: a replacement does not bring a full one.
            self.options.bridge.log_budget_full = False
            self.bridge = self._new_bridge()
            self.bridge.rss_limit = self.rss_limit
        except script_loader.ScriptError as e:
            log.error("cannot reload the script: %s", e)
            self.stopped.set()
        except Exception as e:
            self._exit_wedged(f"cannot replace its isolate ({e!r})")

    def _exit_wedged(self, why: str) -> NoReturn:
        log.critical("worker %s: %s; exiting so that the worker is replaced",
                     self.options.worker_id, why)
        os._exit(EXIT_WEDGED)

    async def _await_freed(self, freed: threading.Event) -> None:
        """A replaced isolate must stop and give its memory back, or the worker goes."""
        try:
            stopped = await asyncio.to_thread(freed.wait, WEDGED_AFTER)
        except RuntimeError as e:  # no thread to wait on
            self._exit_wedged(f"cannot wait for the replaced isolate ({e!r})")
        if not stopped:
            # V8 ignores TerminateExecution (or is blocked): only the process can end it.
            self._exit_wedged(f"the replaced isolate did not stop within {WEDGED_AFTER:.0f} s")
        if self.data_limit and len(self._freeing) <= 1:  # the last one being freed: this one
            set_data_limit(self.data_limit)
        trim_malloc()
        rss = process_rss()
        if self.rss_base and rss > self.rss_base + RSS_MARGIN and not self.draining:
            if self.options.remote is None:
                # The pool replaces it (its PONG stats ask): the replacement starts first,
                # and this one serves until then (a drain would refuse what it is still sent).
                log.error("worker %s: %d MiB resident after its isolate was replaced (%d MiB "
                          "at start): asking to be replaced", self.options.worker_id,
                          rss >> 20, self.rss_base >> 20)
                self.wants_recycle = True
                return
            log.error("worker %s: %d MiB resident after its isolate was replaced (%d MiB at "
                      "start): restarting the worker", self.options.worker_id, rss >> 20,
                      self.rss_base >> 20)
            self._begin_drain(self.options.grace)

    # -- shutdown -------------------------------------------------------------------------

    def _begin_drain(self, grace: float) -> None:
        if self.draining:
            return
        self.draining = True
        if self.options.remote is not None and self.link.connected:
            # Not the supervisor's child: tell it to send no more requests here.
            self._send(p.Fatal(0, "its host is stopping it"))
        self.loop.call_later(max(grace, 0.0), self._end_drain)
        self._maybe_finish_drain()

    def _end_drain(self) -> None:
        """The grace is over: WebSockets still open are told 1001, TCP sockets are closed,
        then the worker stops."""
        self.websockets.going_away()
        self.sockets.going_away()
        self.stopped.set()

    def open_connections(self) -> int:
        """WebSockets (served and outbound) and TCP sockets open: what the
        ``websocket_connections`` limit counts."""
        ws = self.websockets
        return len(ws.served) + len(ws.outbound) + self.sockets.count()

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
            "fetches": len(self.fetch.fetches),
            "forwarded_bytes": self.forwarded_bytes,
            "forwards": self.forwards,
            "relayed_bodies": self.relayed_bodies,
            "uploads": self.uploads,
            "relayed_uploads": self.relayed_uploads,
            "direct_stalls": self.direct_stalls,
            "direct_forwards": self.direct_forwards,
            "heap_used": heap.get("used_heap_size", 0),
            "heap_total": heap.get("total_heap_size", 0),
            "heap_external": heap.get("external_memory", 0),
            "rss": process_rss(),
            "cpu_terminations": self.terminations["cpu"],
            "memory_terminations": self.terminations["memory"],
            "isolate_errors": self.terminations["error"],
            "recycle": int(self.wants_recycle),
        }

    async def close(self) -> None:
        self.link.stop_watching()
        self.websockets.reset()
        self.sockets.reset()
        # Bounded: closing waits for each connection's buffered bytes to leave, and a peer
        # that reads nothing (an outbound WebSocket's) kept a draining worker up for good.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FETCH_CLOSE_WITHIN):
                await self.fetch.close()
        self.handover.close()
        if self.bridge is not None:
            self.bridge.close()
            self.bridge = None
        self.link.close()


async def serve(options: WorkerOptions) -> int:
    worker = Worker(options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker._begin_drain, options.grace)
    try:
        try:
            worker.start()
        except script_loader.ScriptError as e:
            worker.fatal(str(e))
            log.error("%s", e)
            return 2
        except Exception as e:  # a bug of ours loading it: one clear line, not a crash loop
            log.exception("cannot load %s", options.script)
            worker.fatal(_internal_error(options.script, e))
            return 2
        worker.data_limit = limit_process_data(options.bridge.memory_limit + DATA_MARGIN)
        await worker.stopped.wait()
        return 0
    finally:
        await worker.close()
        flush_at_exit()


def _content_length(head: p.RequestHead) -> int | None:
    """A request head's Content-Length as the supervisor's parser took it (its body has
    exactly that many bytes): None if it has none (a chunked body), -1 if not digits."""
    for name, value in head.headers:
        if name.lower() == "content-length":
            return int(value) if value.isdigit() else -1
    return None


def load_script(bridge: Bridge, path: Path, cpu_limit: float, **options: Any) -> None:
    """Load the script into ``bridge`` (``script.load``'s options) and check that it has a
    handler, its top level and the look at its exports bounded by ``cpu_limit`` seconds of
    V8's CPU (as a request is): ScriptError if it cannot serve."""
    try:
        bundle = script_loader.load(lambda code: bridge.eval(code, cpu_limit), path, **options)
        script_loader.check_loaded(lambda: bridge.status(cpu_limit), path, bundle)
    except EvalTimeout as e:
        raise script_loader.ScriptError(
            f"{path}: its top level {e} (the script's cpu_time limit)") from None


def _internal_error(path: Path | None, error: Exception) -> str:
    return f"{path}: cannot load the script (an internal error: {type(error).__name__}: {error})"


def check(path: Path, cache_dir: Path | None = None, root: Path | None = None,
          compat_flags: tuple[str, ...] = (), cpu_limit: float = BridgeConfig.cpu_limit,
          ) -> str | None:
    """Load the script in a throwaway isolate; the error line, or None if it is servable."""

    async def run() -> str | None:
        loop = asyncio.get_running_loop()
        bridge = Bridge(loop, lambda a, d: None, lambda f: None, BridgeConfig())
        try:
            load_script(bridge, path, cpu_limit, cache_dir=cache_dir, root=root,
                        compat_flags=compat_flags)
            return None
        except script_loader.ScriptError as e:
            return str(e)
        except Exception as e:
            log.exception("cannot load %s", path)
            return _internal_error(path, e)
        finally:
            bridge.close()

    return asyncio.run(run())
