"""Dying with the parent: a child process of isoflow never outlives the process that
started it, whatever killed that one (SIGKILL, the OOM killer)."""

from __future__ import annotations

import ctypes
import logging
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` when ``parent`` dies. It fires when the *thread* that
    forked this process ends: isoflow forks on its event loop's thread, its main thread,
    which ends only with the process. Exits at once if the parent died before this ran."""
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = getattr(libc, "prctl", None)  # Linux only
    if prctl is None or prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        logging.getLogger("isoflow").warning(
            "cannot ask to die with the parent process (prctl): this process may outlive it")
    if os.getppid() != parent:  # it died before the prctl took effect
        os._exit(1)
