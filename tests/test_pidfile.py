"""The pid file ``isoflow reload`` signals (supervisor/pidfile.py): only a live supervisor's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from isoflow.supervisor import pidfile


def test_a_pid_file_is_read_while_its_writer_holds_it(tmp_path):
    path = tmp_path / "isoflow.pid"
    pidfile.write(path)
    try:
        assert pidfile.read(path) == os.getpid()
    finally:
        pidfile.remove(path)
    assert not path.exists()


def test_a_pid_file_nobody_holds_is_stale_whatever_has_its_pid_now(tmp_path):
    # A supervisor killed with SIGKILL leaves its pid file; the pid may now be anything's,
    # even a process whose command line says "isoflow" (a log viewer): it is not signalled.
    path = tmp_path / "isoflow.pid"
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                                 "tail -f /var/log/isoflow.log"])
    try:
        path.write_text(f"{stranger.pid}\n")
        with pytest.raises(LookupError, match="stale pid file"):
            pidfile.read(path)
    finally:
        stranger.kill()
        stranger.wait()
