"""A pool's pinned copy of its script (isolate_worker/script.py, ``snapshot``): the first
load writes what it evaluated, every later load evaluates that, whatever the file holds by
then. No V8 here: ``evaluate`` records the code it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoflow.isolate_worker.script import ScriptError, load


def test_later_loads_evaluate_the_first_loads_source_not_the_file(tmp_path: Path) -> None:
    path, pinned = tmp_path / "worker.js", tmp_path / "pinned.json"
    path.write_text("addEventListener('fetch', () => {}); // v1\n")
    seen: list[str] = []
    assert load(seen.append, path, snapshot=pinned) is None
    assert pinned.is_file() and "v1" in seen[0]
    path.write_text("addEventListener('fetch', () => { // v2, broken\n")
    load(seen.append, path, snapshot=pinned)
    assert "v1" in seen[1] and "v2" not in seen[1]
    assert seen[1].endswith(f"//# sourceURL={path.resolve()}\n")  # errors name the file
    assert set(tmp_path.iterdir()) == {path, pinned}  # no temporary file left


def test_the_first_copy_stays(tmp_path: Path) -> None:
    path, pinned = tmp_path / "worker.js", tmp_path / "pinned.json"
    path.write_text("// v1\n")
    load(lambda code: None, path, snapshot=pinned)
    first = pinned.read_bytes()
    pinned.unlink()
    path.write_text("// v2\n")
    pinned.write_bytes(first)  # another worker pinned v1 meanwhile: a later load keeps it
    seen: list[str] = []
    load(seen.append, path, snapshot=pinned)
    assert "v1" in seen[0] and pinned.read_bytes() == first


def test_a_pinned_copy_that_cannot_be_read_is_a_script_error(tmp_path: Path) -> None:
    path, pinned = tmp_path / "worker.js", tmp_path / "pinned.json"
    path.write_text("// v1\n")
    pinned.write_text("{not json")
    with pytest.raises(ScriptError, match=r"the pinned copy .* cannot be read"):
        load(lambda code: None, path, snapshot=pinned)
