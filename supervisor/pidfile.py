"""The pid file that lets ``isoflow reload`` find the running supervisor.

Where it is: ``[server] pid_file`` in the config, or ``isoflow.pid`` in ``runtime_dir``
when that is set (under systemd, ``RuntimeDirectory=isoflow`` gives ``/run/isoflow``),
or ``--pid-file`` on the command line. It is written once the service listens and removed
when it stops (only if it still names this process). The process that wrote it holds a lock
on it (``flock``) while it runs: a pid file nobody holds is stale, whatever process has its
pid now (a reused pid is not signalled).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from .settings import Settings

NAME = "isoflow.pid"


def location(settings: Settings) -> Path | None:
    if settings.pid_file is not None:
        return settings.pid_file
    if settings.runtime_dir is not None:
        return settings.runtime_dir / NAME
    return None


_held: dict[Path, int] = {}  # our pid files: the descriptor that holds each one's lock


def write(path: Path) -> None:
    """Write our pid atomically (a reader never sees a half-written file), locked by us from
    the moment it appears until :func:`remove` (or our exit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        tmp.replace(path)
    except BaseException:
        os.close(fd)
        raise
    old = _held.pop(path, None)
    if old is not None:
        os.close(old)
    _held[path] = fd


def remove(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text().strip()) == os.getpid():
            path.unlink()
            remove_status(path)
    fd = _held.pop(path, None)
    if fd is not None:
        os.close(fd)


def _held_by_someone(path: Path) -> bool:
    """Whether a process holds ``path``'s lock (the supervisor that wrote it runs)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # a lock we took goes with it
    return False


def read(path: Path) -> int:
    """The pid of a running isoflow supervisor, or raise LookupError saying why not."""
    try:
        pid = int(path.read_text().strip())
    except FileNotFoundError:
        raise LookupError(f"{path}: no such pid file (is isoflow running?)") from None
    except (OSError, ValueError) as e:
        raise LookupError(f"{path}: not a pid file ({e})") from None
    try:
        held = _held_by_someone(path)
    except OSError as e:
        raise LookupError(f"{path}: cannot read its lock ({e.strerror})") from None
    if not held:
        raise LookupError(f"{path}: no isoflow holds it: process {pid} is not the supervisor "
                          "that wrote it (stale pid file)")
    return pid


# -- reload outcome -------------------------------------------------------------------------
# Next to the pid file, ``<name>.reload`` holds the outcome of the latest reload as JSON
# ``{"count": N, "ok": bool, "message": str}`` so that ``isoflow reload`` can wait for it.


def status_path(pid_path: Path) -> Path:
    return pid_path.with_suffix(".reload")


def write_status(pid_path: Path, count: int, ok: bool, message: str) -> None:
    path = status_path(pid_path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"count": count, "ok": ok, "message": message}) + "\n")
    tmp.replace(path)


def read_status(pid_path: Path) -> dict | None:
    try:
        return json.loads(status_path(pid_path).read_text())
    except (OSError, ValueError):
        return None


def remove_status(pid_path: Path) -> None:
    with contextlib.suppress(OSError):
        status_path(pid_path).unlink()
