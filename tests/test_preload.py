"""mini-racer's library and V8's ICU data loaded before a fork (``v8.preload_library``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Preload, say how much of the library's read-only mappings stays resident, then fork a
# child that starts V8 and formats with ICU (the data the parent read).
PRELOAD = """
import asyncio, os, sys
from isoflow.isolate_worker.v8 import V8Context, preload_library

def resident_read_only_kib():
    total, counting = 0, False
    for line in open("/proc/self/smaps"):
        fields = line.split()
        if "-" in fields[0] and not fields[0].endswith(":"):
            counting = fields[-1].endswith("libmini_racer.so") and "w" not in fields[1]
        elif counting and fields[0] == "Rss:":
            total += int(fields[1])
    return total

preload_library()
print(resident_read_only_kib(), flush=True)
pid = os.fork()
if pid == 0:
    async def main():
        ctx = V8Context(asyncio.get_running_loop())
        print(ctx.eval('new Intl.NumberFormat("de-DE").format(1234.5)'), flush=True)
        ctx.close()
    asyncio.run(main())
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and fork")
def test_the_library_is_linked_once_and_its_read_pages_are_dropped_before_the_fork() -> None:
    out = subprocess.run([sys.executable, "-c", PRELOAD], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    resident_kib, formatted = out.stdout.split("\n")[:2]
    # Linking reads ~20 MB of the library's symbol tables and relocations: dropped.
    assert int(resident_kib) < 4096
    assert formatted == "1.234,5"  # V8 in the child, with the ICU data its parent read
