"""SIGHUP and SIGTERM that come before a serving process can act on them: held, never fatal.

A serving process (the supervisor, the main process of many fronts, a front) takes SIGHUP
(reload) and SIGTERM (stop) on its event loop, once it has started: a second or more after
it began. Until then their default action would end it: a reload asked for during a start
killed the supervisor (exit 129), or a front its main process had just restarted. So:

* the ``isoflow`` command blocks both from its first line (``run``), before its imports;
  a front starts with them blocked already (its main process blocks them between fork and
  exec);
* ``serve`` and ``dev`` then record them (``hold``), before they start any process (a
  child would inherit the blocked mask); the other commands unblock them (``unblock``) and
  keep their default action;
* once it serves, the process hands them to its loop (``release``) and acts on those that
  came meanwhile: a reload is made at once (it re-reads the config, which may have changed
  since the start read it), a stop begins at once;
* while it stops, a SIGHUP is logged and ignored (``refuse``), not fatal.

Only the interpreter's own start (a few tens of milliseconds) comes before ``run``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

log = logging.getLogger("isoflow.supervisor")

HELD = (signal.SIGHUP, signal.SIGTERM)
_came: list[int] = []  # held signals recorded since hold(), in the order they came


def block() -> None:
    """SIGHUP and SIGTERM wait (pending) until unblocked."""
    signal.pthread_sigmask(signal.SIG_BLOCK, HELD)


def unblock() -> None:
    """SIGHUP and SIGTERM as before ``block``: a pending one is delivered now."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)


def hold() -> None:
    """From now until ``release``, SIGHUP and SIGTERM (and those pending) are recorded."""
    for sig in HELD:
        signal.signal(sig, _record)
    unblock()


def _record(signum: int, _frame: object) -> None:
    if signum not in _came:
        _came.append(signum)


def release(loop: asyncio.AbstractEventLoop,
            handlers: dict[signal.Signals, Callable[[], None]]) -> None:
    """Give the signals to ``loop``'s ``handlers`` (SIGHUP and SIGTERM among them) and call
    those of the held signals that came since ``hold``."""
    for sig, handler in handlers.items():
        loop.add_signal_handler(sig, handler)
    came, _came[:] = list(_came), []
    for signum in came:
        log.info("%s came during the start; acting on it now", signal.Signals(signum).name)
        handlers[signal.Signals(signum)]()


def refuse(loop: asyncio.AbstractEventLoop, sig: signal.Signals, why: str) -> None:
    """From now on ``sig`` is logged with ``why`` and ignored (its default action would end
    the process)."""
    loop.add_signal_handler(sig, log.info, "%s ignored: %s", sig.name, why)


def run() -> None:
    """The ``isoflow`` command: ``cli.main``, with SIGHUP and SIGTERM blocked from here."""
    block()
    from .cli import main

    main()
