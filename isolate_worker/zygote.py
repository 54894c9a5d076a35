"""The zygote: forks isolate workers that share its Python pages.

A worker started from scratch imports its code (asyncio, ZeroMQ, msgpack, the runtime,
the bundler, ...) and reads the runtime's JavaScript sources: about 25 MB of private memory
per process before any V8 isolate exists. The zygote does that once; each worker is then a
``fork()`` of it, so those pages stay shared (copy-on-write; ``gc.freeze()`` keeps the
collector from touching, and so copying, them). Forking is safe because nothing here has
started a thread yet: V8, ZeroMQ contexts and event loops exist only in the children.

The supervisor talks to the zygote over one ``SOCK_SEQPACKET`` Unix socket (one message a
datagram, fds alongside, ``supervisor/zygote.py``):

* ``{"argv": [...]}`` with two fds (the worker's stdin and stderr pipes): fork a worker that
  runs ``python -m isoflow.isolate_worker ARGV``; the answer is ``{"pid": N}``;
* ``{"exit": PID, "code": N}`` (zygote -> supervisor): a worker ended, with the code
  ``asyncio``'s subprocesses report (negative: killed by that signal).

The zygote dies with the supervisor (``PR_SET_PDEATHSIG``), and each worker with the zygote.
When the supervisor closes the socket the zygote exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys

import aiohttp  # noqa: F401 - the workers' fetch() client: imported here to be shared
import uvloop  # noqa: F401 - the workers' event loop
from setproctitle import setproctitle

from . import __main__ as worker_main
from .parent import die_with_parent
from .runtime import runtime_sources
from .v8 import preload_library

MAX_MESSAGE = 1 << 16


def _child(control: socket.socket, argv: list[str], fds: list[int]) -> None:
    """In the forked worker: take the pipes as stdin and stderr, then run it; never return."""
    code = 1
    try:
        control.close()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        os.setsid()  # a session of its own, as the supervisor's own spawns have
        os.dup2(fds[0], 0)
        os.dup2(fds[1], 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        for fd in (*fds, devnull):
            if fd > 2:
                os.close(fd)
        sys.argv = [sys.argv[0], *argv]
        # What `ps` shows: the command a directly spawned worker would have (its options,
        # secrets included, arrive on stdin, never here).
        setproctitle(" ".join([sys.executable, "-m", "isoflow.isolate_worker", *argv]))
        code = worker_main.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # report and exit: a forked child must never return
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)


def serve(control: socket.socket) -> None:
    """Fork a worker per request; report each worker's exit; return when the socket closes."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd does the work
    gc.collect()
    gc.freeze()  # the imported objects: never collected, so their pages are never written
    while True:
        ready, _, _ = select.select([control, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(control)
        if control in ready:
            try:
                message, fds, _flags, _addr = socket.recv_fds(control, MAX_MESSAGE, 2)
            except OSError:
                return
            if not message:
                return  # the supervisor is gone
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                _child(control, request["argv"], fds)
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"pid": pid}).encode())


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        control.send(json.dumps({"exit": pid, "code": code}).encode())


def main() -> None:
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
    die_with_parent(parent)
    runtime_sources()  # read (and wrapped) once, here: the workers share the strings
    preload_library()  # linked once, here: the workers inherit it
    control = socket.socket(fileno=fd)
    with contextlib.suppress(BrokenPipeError, ConnectionError):
        serve(control)


if __name__ == "__main__":
    main()
