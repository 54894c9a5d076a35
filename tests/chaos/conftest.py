"""Fixtures of the chaos suite: a fixed seed that is printed (another one with
ISOFLOW_CHAOS_SEED=N), the supervisor from a config file (``ops``), and the upstream in a
process of its own."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.support import SCRIPT, UpstreamProcess
from tests.integration.ops_support import ops_servers

DEFAULT_SEED = "20260808"  # fixed, so that CI runs the same schedule; override to explore


@pytest.fixture
def seed(request) -> int:
    value = int(os.environ.get("ISOFLOW_CHAOS_SEED", DEFAULT_SEED))
    print(f"\nchaos seed for {request.node.name}: {value} "
          f"(replay: ISOFLOW_CHAOS_SEED={value} pytest {request.node.nodeid})")
    return value


@pytest.fixture
def rng(seed: int) -> random.Random:
    return random.Random(seed)


@pytest.fixture
def ops(tmp_path: Path) -> Iterator:
    (tmp_path / "chaos.mjs").write_text(SCRIPT)
    yield from ops_servers(tmp_path)


@pytest.fixture
def chaos_upstream() -> Iterator[UpstreamProcess]:
    up = UpstreamProcess()
    yield up
    up.stop()
