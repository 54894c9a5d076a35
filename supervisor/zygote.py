"""The supervisor's side of the zygote (``isolate_worker/zygote.py``): workers forked from a
process that has already imported their code, so that their Python pages are shared.

:meth:`Zygote.spawn` returns a :class:`Child` that behaves as the pool needs an
``asyncio.subprocess.Process`` to (``pid``, ``stdin``, ``stderr``, ``wait()``,
``returncode``, ``send_signal``, ``kill``): the pool does not know which way its worker was
started. If the zygote cannot be started or dies, workers are started directly again.

:func:`start_early` starts the zygote before the supervisor's own heavier imports (aiohttp,
the server), so that the zygote's imports run beside them: each takes ~0.2 s, and a start
is ~0.5 s in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

log = logging.getLogger("isoflow.supervisor.zygote")

MAX_MESSAGE = 1 << 16
_early: tuple[subprocess.Popen, socket.socket] | None = None  # start_early's, until taken


def start_early() -> None:
    """Start this process's zygote now (the first :class:`Zygote` to start takes it). If it
    cannot start, the first spawn tries again and then starts workers directly."""
    global _early
    if _early is None:
        with contextlib.suppress(OSError):
            _early = _launch()


def _launch() -> tuple[subprocess.Popen, socket.socket]:
    """The zygote process and our end of its socket."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "isoflow.isolate_worker.zygote", str(theirs.fileno()),
             str(os.getpid())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            start_new_session=True)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return process, ours


REPORT_SECONDS = 2.0  # a killed worker's exit is reported within this, or the zygote is hung


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie no one reaped has)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


class Child:
    """A worker the zygote forked: what the pool uses of an asyncio subprocess."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter,
                 stderr: asyncio.StreamReader, unreported: Callable[[], None]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stderr = stderr
        self.returncode: int | None = None
        self._exited = asyncio.get_running_loop().create_future()
        self._unreported = unreported
        self._watched = False

    def exited(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
            self._exited.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            if sig == signal.SIGKILL and not self._watched:  # its end must be reported
                self._watched = True
                asyncio.get_running_loop().call_later(REPORT_SECONDS, self._check_reported)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _check_reported(self) -> None:
        if self.returncode is None and _gone(self.pid):
            self._unreported()


class Zygote:
    """One zygote process, started on first use; it forks every worker of this supervisor."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._children: dict[int, Child] = {}
        # The spawn waiting for its pid: (future of the Child, its stdin, its stderr).
        self._pending: tuple[asyncio.Future[Child], asyncio.StreamWriter,
                             asyncio.StreamReader] | None = None
        self._lock = asyncio.Lock()
        self.failed = False  # it could not start or died: spawn workers directly

    def _start(self) -> None:
        global _early
        started, _early = _early, None
        self._process, ours = started if started is not None else _launch()
        ours.setblocking(False)
        self._sock = ours
        asyncio.get_running_loop().add_reader(ours.fileno(), self._on_readable)

    def _on_readable(self) -> None:
        sock = self._sock
        assert sock is not None
        while True:
            try:
                data = sock.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            message = json.loads(data)
            if "pid" in message:
                if self._pending is not None and not self._pending[0].done():
                    future, stdin, stderr = self._pending
                    child = self._children[message["pid"]] = Child(
                        message["pid"], stdin, stderr, self._not_reporting)
                    future.set_result(child)
            elif "exit" in message:
                child = self._children.pop(message["exit"], None)
                if child is not None:
                    child.exited(message["code"])

    def _not_reporting(self) -> None:
        """A worker ended and the zygote did not say so (it is stopped or hung): its workers
        would never be replaced. Kill it (its workers die with it) and start directly."""
        if self._process is None or self._sock is None:
            return
        log.error("the zygote process does not report its workers' exits (stopped or hung): "
                  "killing it")
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        self._lost()

    def _lost(self) -> None:
        """The zygote is gone: so are its workers (they die with it); start directly now."""
        if not self.failed:
            log.error("the zygote process ended; workers are started directly from now on")
        self.failed = True
        if self._sock is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        if self._pending is not None and not self._pending[0].done():
            self._pending[0].set_exception(ConnectionError("the zygote ended"))
        for child in self._children.values():
            child.exited(-signal.SIGKILL)
        self._children.clear()
        if self._process is not None:
            self._process.poll()  # reaped, if it has exited

    async def spawn(self, argv: list[str]) -> Child:
        """Fork a worker running ``python -m isoflow.isolate_worker ARGV`` (it dies with the
        zygote, which dies with us)."""
        async with self._lock:
            if self._sock is None:
                if self.failed:
                    raise ConnectionError("the zygote is not running")
                self._start()
            assert self._sock is not None and self._process is not None
            loop = asyncio.get_running_loop()
            stdin_r, stdin_w = os.pipe()
            stderr_r, stderr_w = os.pipe()
            try:
                # Our ends are ready before the fork: the child is registered the moment its
                # pid arrives (_on_readable), so an exit reported right after is never lost.
                stderr = asyncio.StreamReader(limit=1 << 20)
                reading, _ = await loop.connect_read_pipe(
                    lambda: asyncio.StreamReaderProtocol(stderr), os.fdopen(stderr_r, "rb", 0))
                transport, protocol = await loop.connect_write_pipe(
                    asyncio.streams.FlowControlMixin, os.fdopen(stdin_w, "wb", 0))
                stdin = asyncio.StreamWriter(transport, protocol, None, loop)
                self._pending = (loop.create_future(), stdin, stderr)
                argv = [*argv, "--parent-pid", str(self._process.pid)]
                payload = json.dumps({"argv": argv}).encode()
                socket.send_fds(self._sock, [payload], [stdin_r, stderr_w])
                try:
                    return await asyncio.wait_for(self._pending[0], 30)
                except BaseException:
                    transport.close()
                    reading.close()
                    raise
            finally:
                os.close(stdin_r)
                os.close(stderr_w)

    def close(self) -> None:
        """Stop the zygote (its workers were stopped first; any left die with it)."""
        if self._sock is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(1)  # SIGKILL: at once
