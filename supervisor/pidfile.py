"""The pid file that lets ``isoflow reload`` find the running supervisor.

Where it is: ``[server] pid_file`` in the config, or ``isoflow.pid`` in ``runtime_dir``
when that is set (under systemd, ``RuntimeDirectory=isoflow`` gives ``/run/isoflow``),
or ``--pid-file`` on the command line. It is written once the service listens and removed
when it stops (only if it still names this process).
"""

from __future__ import annotations

import contextlib
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


def write(path: Path) -> None:
    """Write our pid atomically (a reader never sees a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(f"{os.getpid()}\n")
    tmp.replace(path)


def remove(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text().strip()) == os.getpid():
            path.unlink()
            remove_status(path)


def read(path: Path) -> int:
    """The pid of a running isoflow supervisor, or raise LookupError saying why not."""
    try:
        pid = int(path.read_text().strip())
    except FileNotFoundError:
        raise LookupError(f"{path}: no such pid file (is isoflow running?)") from None
    except (OSError, ValueError) as e:
        raise LookupError(f"{path}: not a pid file ({e})") from None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        raise LookupError(f"{path}: process {pid} is not running (stale pid file)") from None
    except OSError:
        cmdline = b""
    if cmdline and b"isoflow" not in cmdline:
        raise LookupError(f"{path}: process {pid} is not isoflow (stale pid file)")
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
