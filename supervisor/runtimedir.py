"""The supervisor's private runtime directory (the workers' IPC socket, the bundle cache).

Made private (0700) at start and locked (``flock`` on ``supervisor.lock``) for the whole
life of the supervisor; the lock ends with the process, however it dies. So a directory
whose lock is free was left by a supervisor that is gone (SIGKILL, OOM killer, power cut):
the next start removes the stale temporary directories it finds, and in a configured
``runtime_dir`` it removes the stale socket. A configured ``runtime_dir`` whose lock is held
belongs to a running supervisor: starting a second one on it is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "isoflow-"  # temporary runtime directories: /tmp/isoflow-XXXXXXXX
LOCK = "supervisor.lock"
SOCKET = "workers.sock"


class RuntimeDirInUse(Exception):
    """The configured runtime directory belongs to a running supervisor."""


def _try_lock(path: Path) -> int | None:
    """An fd holding the exclusive lock on ``path``, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def sweep_stale(parent: Path) -> list[Path]:
    """Remove the temporary runtime directories under ``parent`` whose supervisor is gone:
    ours (same user), with a lock file that names a pid (a directory being set up has an
    empty one) and that no process holds. Returns what was removed."""
    removed = []
    uid = os.getuid()
    for path in parent.glob(PREFIX + "*"):
        lock = path / LOCK
        with contextlib.suppress(OSError):
            if path.is_symlink() or path.stat().st_uid != uid or not lock.is_file():
                continue
            fd = _try_lock(lock)
            if fd is None:
                continue  # its supervisor runs
            try:
                if os.pread(fd, 32, 0).strip():
                    shutil.rmtree(path)
                    removed.append(path)
            finally:
                os.close(fd)
    return removed


class RuntimeDir:
    """The runtime directory of this supervisor: ``configured``, or a fresh temporary one."""

    def __init__(self, configured: Path | None) -> None:
        self.owned = configured is None  # a temporary directory, removed at stop
        if configured is None:
            sweep_stale(Path(tempfile.gettempdir()))
            self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        else:
            self.path = configured
            self.path.mkdir(parents=True, exist_ok=True)
        self.path.chmod(0o700)
        fd = _try_lock(self.path / LOCK)
        if fd is None:
            raise RuntimeDirInUse(f"runtime_dir {self.path} is in use by another running "
                                  "isoflow supervisor")
        self._fd: int | None = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        if not self.owned:  # what a killed supervisor left (ZeroMQ would replace it anyway)
            with contextlib.suppress(FileNotFoundError):
                (self.path / SOCKET).unlink()
            # and the scripts its pools pinned (script.py): this start pins them afresh
            for stale in (*self.path.glob("script-*.pinned.json"), *self.path.glob("pinned/*")):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def release(self) -> None:
        """At stop: remove a temporary directory; unlock a configured one."""
        if self._fd is None:
            return
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                (self.path / LOCK).unlink()
        os.close(self._fd)
        self._fd = None
