"""The worker's malloc thresholds: freed body buffers stay mapped for the next ones."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Four 1 MiB blocks alive at once, then freed, twenty times (ZeroMQ messages of a streamed
# body do this); prints the page faults of the last nineteen rounds.
CHURN = """
import resource, sys
if sys.argv[1] == "tuned":
    from isoflow.isolate_worker.malloc import keep_freed_memory
    if not keep_freed_memory():
        sys.exit("unsupported")
def rounds(n):
    for _ in range(n):
        blocks = [bytearray(1 << 20) for _ in range(4)]
        del blocks
rounds(1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(19)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True,
                         timeout=60)
    if "unsupported" in out.stderr:
        pytest.skip("no glibc mallopt")
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_megabyte_buffers_are_reused_without_faulting_their_pages_again() -> None:
    default, tuned = faults("default"), faults("tuned")
    assert default > 19 * 4 * 100  # ~256 faults per MiB block by default: the page refaults
    assert tuned < default / 20, (tuned, default)
