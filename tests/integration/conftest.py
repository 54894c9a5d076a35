"""Fixtures of the integration tests (besides tests/conftest.py's ``serve`` and ``upstream``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.ops_support import ops_servers


@pytest.fixture
def ops(tmp_path: Path) -> Iterator:
    """``ops(config_toml, files={...}, env={...}, start=True)`` -> an OpsServer; see
    ops_support.py."""
    yield from ops_servers(tmp_path)
