"""What the supervisor needs to know to run: listeners, the script, the pool, the limits.

Built from the command line (``isoflow serve SCRIPT --port ...``). Every field has a
default that works on one host; sizes are in bytes and times in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_workers() -> int:
    """One worker per core this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass
class Settings:
    script: Path
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = field(default_factory=default_workers)
    env: dict[str, str] = field(default_factory=dict)

    # flow control
    chunk_size: int = 64 << 10  # largest request body chunk read from a client at once
    request_window: int = 256 << 10  # request body bytes a worker accepts before granting
    response_window: int = 1 << 20  # response body bytes a worker may send before a grant

    # limits
    wall_time: float = 30.0  # seconds from request to response head
    cpu_limit: float = 30.0  # seconds of uninterrupted JavaScript in one isolate
    memory_limit: int = 512 << 20  # V8 heap per isolate
    shutdown_grace: float = 10.0

    # process management
    heartbeat_interval: float = 1.0
    heartbeat_timeout: float = 10.0
    start_timeout: float = 60.0
    runtime_dir: Path | None = None  # private 0700 directory for IPC sockets; made if None
    cache_dir: Path | None = None  # compiled module bundles
    log_level: str = "INFO"

    def validate(self) -> list[str]:
        """Every problem with these settings, as sentences; empty if they are usable."""
        problems = []
        if not 0 < self.port < 65536:
            problems.append(f"port must be between 1 and 65535, got {self.port}")
        if self.workers < 1:
            problems.append(f"workers must be at least 1, got {self.workers}")
        for name in ("chunk_size", "request_window", "response_window"):
            value = getattr(self, name)
            if not (1024 <= value <= 64 << 20):
                problems.append(f"{name} must be between 1 KiB and 64 MiB, got {value}")
        for name in ("wall_time", "cpu_limit", "shutdown_grace", "heartbeat_interval",
                     "heartbeat_timeout"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if self.memory_limit < 16 << 20:
            problems.append("memory_limit must be at least 16 MiB")
        return problems

    def worker_options(self) -> dict[str, object]:
        """The isolate worker's BridgeConfig fields derived from these settings."""
        return {
            "request_window": self.request_window,
            "max_chunk": min(self.response_window, 256 << 10),
            "env": self.env,
            "cpu_limit": self.cpu_limit,
            "memory_limit": self.memory_limit,
        }
