"""``isoflow dev``: reload the workers when a file of a script changes.

The watched files are each script, every file of its bundle and every path its resolution
looked at (a file added beside an import changes what it names: the lists the bundler keeps
in its cache, isolate_worker/bundler.py ``manifest_paths``, re-read at every poll so a new
import is watched from the reload that brings it) and the config file. They are polled:
their modification time and size, every ``interval`` seconds (no dependency, any
filesystem). A change goes through the reload SIGHUP makes (``Service.reload``): the new
version is checked and started before the old workers retire, and a script that does not
compile is logged while the old version keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from isoflow.isolate_worker import bundler

from .server import Service
from .settings import Settings

log = logging.getLogger("isoflow.dev")

INTERVAL = 0.3  # seconds between two polls
SETTLE = 0.1  # after a change, for an editor's save to finish

Snapshot = dict[Path, tuple[int, int] | None]


def watched_files(settings: Settings) -> list[Path]:
    """The config file, the scripts and the files their bundles were built from."""
    files: list[Path] = []
    if settings.config_path is not None:
        files.append(settings.config_path)
    for spec in settings.scripts.values():
        files.append(spec.path)
        if settings.cache_dir is None:
            continue
        try:
            entry = Path(os.path.realpath(spec.path))
            root = bundler.project_root(entry, spec.root)
            manifest = bundler.manifest_path(settings.cache_dir, entry, root,
                                             frozenset(spec.compatibility_flags))
            files += bundler.manifest_paths(manifest)
        except (OSError, ValueError, bundler.BundleError):
            pass  # a classic script, or not built yet
    return list(dict.fromkeys(files))


def snapshot(files: list[Path]) -> Snapshot:
    """Each file's (mtime in ns, size), None if it is gone."""
    found: Snapshot = {}
    for path in files:
        try:
            st = path.stat()
            found[path] = (st.st_mtime_ns, st.st_size)
        except OSError:
            found[path] = None
    return found


def changed(before: Snapshot, after: Snapshot) -> list[Path]:
    """Files of ``before`` that changed or went away (files new in ``after`` are not)."""
    return [path for path, state in before.items() if after.get(path, None) != state]


class Watcher:
    """Polls the files of the service's scripts; reloads the service when one changes."""

    def __init__(self, service: Service, interval: float = INTERVAL) -> None:
        self.service = service
        self.interval = interval
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        files = watched_files(self.service.settings)
        before = snapshot(files)
        while True:
            await asyncio.sleep(self.interval)
            files = watched_files(self.service.settings)
            now = snapshot(files)
            edited = changed(before, now)
            if not edited:
                before.update({p: s for p, s in now.items() if p not in before})
                continue
            await asyncio.sleep(SETTLE)
            before = snapshot(files)
            log.info("%s changed: reloading", ", ".join(p.name for p in edited[:3]) +
                     (f" and {len(edited) - 3} more" if len(edited) > 3 else ""))
            await self.service.reload()


def banner(settings: Settings, files: int) -> str:
    """What ``isoflow dev`` prints at start: where, what, and the settings that matter."""
    listener = settings.listeners[0]
    lines = [f"isoflow dev: {listener.scheme}://{listener.host}:{listener.port}/"]
    for spec in settings.scripts.values():
        limits = spec.limits
        fetch = [f"to {kind} {'allowed' if allowed else 'denied'}" for kind, allowed in
                 (("loopback", spec.allow_loopback), ("private networks", spec.allow_private))]
        hint = "" if spec.allow_loopback else " (--allow-fetch-to loopback for a local upstream)"
        lines += [
            f"  script    {spec.path}",
            f"  workers   {spec.workers}" + (f", flags {', '.join(spec.compatibility_flags)}"
                                             if spec.compatibility_flags else "")
            + (f", crons {'; '.join(spec.crons)}" if spec.crons else ""),
            f"  env       {', '.join(sorted({**spec.env, **spec.secrets})) or '(none)'}",
            f"  fetch()   {', '.join(fetch)}{hint}",
            f"  limits    cpu {limits.cpu_time:g} s, memory {limits.memory >> 20} MiB, "
            f"wall {limits.wall_time:g} s, body {_size(limits.max_body_size)}, "
            f"{limits.max_subrequests} subrequests",
        ]
    noun = "file" if files == 1 else "files"
    lines.append(f"  watching  {files} {noun}: an edit reloads the workers; Ctrl-C stops")
    return "\n".join(lines)


def _size(n: int) -> str:
    if n == 0:
        return "unlimited"
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"
