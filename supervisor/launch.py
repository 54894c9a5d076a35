"""``python -m isoflow.supervisor.launch ARGS``: an isolate worker whose options come on stdin.

The worker takes its BridgeConfig as ``--options JSON``. Those options carry the script's
env and *secrets*, and a command line is readable by every user of the host (``ps``), so
the supervisor writes them to this launcher's stdin instead; the launcher reads them and
runs the worker's own ``main`` in this same process, with the options in its argv list
but never in the process's command line.
"""

from __future__ import annotations

import os
import sys


def run() -> int:
    options = sys.stdin.read()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    from isoflow.isolate_worker.__main__ import main

    return main([*sys.argv[1:], "--options", options or "{}"])


if __name__ == "__main__":
    sys.exit(run())
