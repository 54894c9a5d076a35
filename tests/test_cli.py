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


@pytest.mark.parametrize("option, value, message", [
    ("--wall-time", "nan", "must be above 0 and at most 1e+07, got nan"),
    ("--cpu-limit", "inf", "must be above 0 and at most 1e+07, got inf"),
    ("--wall-time", "0", "must be above 0 and at most 1e+07, got 0"),
    ("--max-subrequests", "-1", "must be at least 0 and at most 2.14748e+09, got -1"),
    ("--memory-limit", "0", "must be at least 16 and at most 1.07374e+09, got 0"),
    ("--workers", "100000", "must be at least 1 and at most 1024, got 100000"),
    ("--port", "0", "must be at least 1 and at most 65535, got 0"),
    ("--fronts", "x", "not a number: 'x'"),
    ("--log-level", "trace", "expected one of debug, info, warning, error, critical, got 'trace'"),
    ("--metrics", "99999", "the port must be 1-65535, got 99999"),
])
def test_serve_options_are_checked_as_the_config_file_checks_them(capsys, option, value,
                                                                    message) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "hello.js", option, value])
    assert exit_info.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err
