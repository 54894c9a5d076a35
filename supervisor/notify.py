"""systemd's readiness protocol (``sd_notify``), in the few lines it takes.

With ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``, a unix datagram socket (a path, or
an abstract name written with a leading ``@``). The service sends newline-separated
``KEY=VALUE`` assignments: ``READY=1`` once it serves, ``RELOADING=1`` with
``MONOTONIC_USEC=`` when a reload begins (``READY=1`` again when it ends), ``STOPPING=1``
when it begins to stop, ``STATUS=...`` for ``systemctl status``. Without the variable
every call is a no-op. The variable is taken out of the environment so that worker
processes never see it (they are not the service's main process).
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("isoflow.supervisor.notify")


class Notifier:
    def __init__(self, environ: dict[str, str] | os._Environ[str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.pop("NOTIFY_SOCKET", None) or None
        if address is not None and address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines as one datagram; False if there is nobody to tell."""
        if self.address is None:
            return False
        message = "\n".join(assignments).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.connect(self.address)
                s.sendall(message)
        except OSError as e:
            log.warning("cannot notify systemd at %r: %s", self.address, e)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")
