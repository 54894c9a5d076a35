"""Backpressure end to end, scaled down from bench/backpressure.py (100 MB at 1 MB/s).

A client reads 24 MB at 8 MB/s (or uploads 24 MB to a script reading at 8 MB/s): the RSS of
the supervisor and of the worker must not grow by 8 MB or more, and the producer (the JS
stream's pull(), the upstream server, the uploading client) must stay within a few MB of
the consumer - it stalls while the consumer is slow instead of buffering the body.
"""

from __future__ import annotations

import pytest

from tests.backpressure import SCRIPT, run_case

SIZE = 24 << 20
RATE = 8.0  # MB/s
MAX_GROWTH_MB = 8
# A worker's V8 keeps its young generation (two semi-spaces of up to 4 MB, v8.py) and a
# window of chunks: it settles 5-8 MB above idle whatever the body's size (24 or 96 MB).
MAX_WORKER_GROWTH_MB = 16
MAX_LEAD_MB = 16  # window + socket buffers on both sides; the body is 24 MB


@pytest.fixture
def service(serve):
    return serve(SCRIPT, "--allow-fetch-to", "loopback", workers=1, name="bp.mjs")


@pytest.mark.parametrize("case", ["generated", "proxied", "transformed", "upload"])
def test_a_slow_consumer_bounds_memory_and_stalls_the_producer(service, upstream, case):
    result = run_case(service.base, service.proc.pid, upstream, case, SIZE, RATE)
    assert result["bytes"] >= SIZE and result["complete"], result
    assert any(name.startswith("worker") for name in result["growth_mb"]), result
    for process, growth in result["growth_mb"].items():
        bound = MAX_WORKER_GROWTH_MB if process.startswith("worker") else MAX_GROWTH_MB
        assert growth < bound, f"{process} grew by {growth:.1f} MB: {result}"
    assert result["lead_mb"] < MAX_LEAD_MB, result
