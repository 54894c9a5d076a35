"""The ``isoflow`` command line, in process."""

from __future__ import annotations

import importlib.metadata

import pytest

from isoflow.supervisor.cli import main


def test_version_prints_the_installed_distributions_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"isoflow {importlib.metadata.version('isoflow')}\n"
