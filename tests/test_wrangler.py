"""Reading a Workers project's wrangler file and .dev.vars (supervisor/wrangler.py)."""

from __future__ import annotations

import json

import pytest

from isoflow.supervisor import wrangler
from tests.conftest import write_files


def test_jsonc_comments_and_trailing_commas_outside_strings():
    text = ('{\n  // a comment "with quotes"\n  "url": "http://x//y /* kept */", /* block\n'
            '  */ "list": [1, 2, /* c */ ],\n  "s": "a\\" //, }",\n}\n')
    plain = wrangler.strip_jsonc(text)
    assert json.loads(plain) == {"url": "http://x//y /* kept */", "list": [1, 2],
                                 "s": 'a" //, }'}
    assert plain.count("\n") == text.count("\n")  # errors keep their line


def test_dev_vars():
    assert wrangler.parse_dev_vars(
        "# comment\nA=1\nexport B = two words # note\nC=\"line\\nnext\"\nD='$literal'\n"
        "bad line\nE=\n") == {"A": "1", "B": "two words", "C": "line\nnext",
                              "D": "$literal", "E": ""}


def test_dev_vars_are_read_as_dotenv_reads_them():
    # A quoted value followed by a comment kept its quotes; a quoted value over lines was
    # cut at its first line, its opening quote kept.
    assert wrangler.parse_dev_vars(
        'SECRET="a b" # the token\nM="multi\nline"\nR="cr\\r"\nK: v\r\nB=`tick`\n') == {
        "SECRET": "a b", "M": "multi\nline", "R": "cr\r", "K": "v", "B": "tick"}


def test_a_jsonc_project_and_what_is_not_honoured(tmp_path):
    write_files(tmp_path, {
        "wrangler.jsonc": """{
          // as wrangler init writes it
          "$schema": "node_modules/wrangler/config-schema.json",
          "name": "x", "main": "src/worker.js", "compatibility_date": "2025-01-01",
          "compatibility_flags": ["nodejs_compat", "global_fetch_strictly_public"],
          "vars": { "A": "a", "N": 1 },
          "triggers": { "crons": ["0 * * * *"] },
          "limits": { "cpu_ms": 100, "subrequests": 10 },
          "dev": { "port": 9999, "ip": "localhost", "local_protocol": "https" },
          "observability": { "enabled": true },
          "d1_databases": [],
        }""",
        "wrangler.toml": 'main = "other.js"\n',  # wrangler.jsonc comes first
        "src/worker.js": "export default {};\n",
        ".dev.vars": "A=secret-a\nTOKEN=t\n",
    })
    project = wrangler.load(wrangler.find(tmp_path))
    assert project.main == tmp_path / "src/worker.js"
    assert (project.vars, project.secrets) == ({}, {"A": "secret-a", "TOKEN": "t"})
    assert project.compatibility_flags == ["nodejs_compat"]
    assert (project.crons, project.cpu_ms, project.port, project.host) == \
        (["0 * * * *"], 100, 9999, "127.0.0.1")
    assert project.ignored == [
        "vars.N (only string values)", "compatibility_flags 'global_fetch_strictly_public'",
        "limits.subrequests", "dev.local_protocol", "observability", "d1_databases"]
    assert project.root == tmp_path


@pytest.mark.parametrize(("files", "error"), [
    ({"wrangler.toml": 'name = "x"\n'}, "wrangler.toml: no main: the Worker's entry"),
    ({"wrangler.toml": 'main = "nope.ts"\n'}, "nope.ts: no such file"),
    ({"wrangler.json": '{\n  "main": "a.js"\n  "x": 1\n}'}, "wrangler.json:3: Expecting ','"),
    ({"wrangler.toml": 'main = \n'}, "wrangler.toml: Invalid value (at line 1, column 8)"),
    # The folder is the project's root: an entry outside it (or not a module) was run, and
    # a file that is not JavaScript quoted back in the SyntaxError.
    ({"wrangler.toml": 'main = "../outside.js"\n'}, "main: ../outside.js is outside the "
                                                     "project's folder"),
    ({"wrangler.toml": 'main = "/etc/passwd"\n'}, "main: /etc/passwd is outside"),
    ({"wrangler.toml": 'main = "secret.env"\n', "secret.env": "KEY=x\n"},
     "main: secret.env is not a module"),
    # Settings serve refused (or failed on with a traceback) while check said ok.
    ({"wrangler.json": '{"main": "i\\u0000.js"}'}, "main: 'i\\x00.js' is not a usable path"),
    ({"wrangler.toml": 'main = "a.js"\nvars = "hello"\n', "a.js": ""},
     'vars: expected a table of NAME = "value"'),
    ({"wrangler.toml": 'main = "a.js"\n[dev]\nport = true\n', "a.js": ""},
     "dev.port: expected a port 1-65535, got True"),
    ({"wrangler.toml": 'main = "a.js"\n[dev]\nport = 99999\n', "a.js": ""},
     "dev.port: expected a port 1-65535, got 99999"),
    ({"wrangler.toml": 'main = "a.js"\n[triggers]\ncrons = ["61 * * * *"]\n', "a.js": ""},
     "triggers.crons: '61 * * * *': "),
])
def test_a_project_that_cannot_run_is_one_line(tmp_path, files, error):
    write_files(tmp_path, files)
    with pytest.raises(wrangler.WranglerError) as info:
        wrangler.load(wrangler.find(tmp_path))
    assert error in str(info.value) and "\n" not in str(info.value)


def test_a_script_path_is_not_a_project(tmp_path):
    write_files(tmp_path, {"app.ts": ""})
    assert wrangler.find(tmp_path / "app.ts") is None
    with pytest.raises(wrangler.WranglerError, match=r"a folder with no wrangler\.json"):
        wrangler.find(tmp_path)
