"""What `pip install .` (the deployment's install, not the README's editable one) puts in
the wheel: every file of the runtime's JavaScript."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_javascript_file_of_the_runtime_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["isoflow.isolate_worker"]
    base = ROOT / "isolate_worker"
    shipped = {path for pattern in patterns for path in base.glob(pattern)}
    files = {path for path in (base / "js").rglob("*") if path.is_file()}
    assert len(files) > 50
    assert sorted(str(p.relative_to(base)) for p in files - shipped) == []
