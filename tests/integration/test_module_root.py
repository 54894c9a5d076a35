"""A script's imports stay in its project root, end to end (``isoflow check --config``).

The resolution rules themselves are tested in-process in ``tests/test_bundler.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

from isoflow.supervisor import config as config_file
from tests.conftest import fetch, run, write_files
from tests.processes import ISOFLOW, free_port, isoflow, serving

DEPLOY = Path(__file__).parents[2] / "deploy" / "isoflow.toml"
PASSWORD = "s3cret-pw"


def test_the_shipped_config_keeps_each_script_out_of_the_others_files(tmp_path):
    """deploy/isoflow.toml's layout under tmp_path: scripts in /srv/isoflow/NAME, secrets
    in /etc/isoflow/secrets. Neither the secret file nor another script's folder loads."""
    text = DEPLOY.read_text()
    for old in ("/srv/isoflow", "/etc/isoflow", "/var/cache/isoflow", "/run/isoflow"):
        text = text.replace(old, f"{tmp_path}{old}")
    text = re.sub(r"\[\[listeners\]\]\nhost = \"0.0.0.0\"\nport = 443\n.*?\n\n", "", text,
                  flags=re.S)  # no TLS files here
    config = tmp_path / "isoflow.toml"
    config.write_text(text)
    write_files(tmp_path, {
        "etc/isoflow/secrets/db_password": PASSWORD,
        "creds/api_token": "token",
        "srv/isoflow/api/settings.json": '{"ok": true}',
        "srv/isoflow/api/worker.mjs":  # its own files still load
            "import s from './settings.json';\n"
            "export default { fetch() { return Response.json(s); } };\n",
        "srv/isoflow/site/worker.js":
            "import pw from '../../../etc/isoflow/secrets/db_password';\n"
            "export default { fetch() { return new Response(pw); } };\n",
        "srv/isoflow/uploads/worker.mjs": "import api from '../api/worker.mjs';\n"
                                          "export default api;\n",
    })
    proc = isoflow("check", "--config", str(config),
                   env={"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    site, uploads = proc.stdout.splitlines()
    srv = tmp_path / "srv/isoflow"
    assert site.endswith(
        f"scripts.site.path: import '../../../etc/isoflow/secrets/db_password' from "
        f"{srv}/site/worker.js is outside the project root {srv}/site: imports are "
        "confined to it")
    assert uploads.endswith(f"from {srv}/uploads/worker.mjs is outside the project root "
                            f"{srv}/uploads: imports are confined to it")
    assert PASSWORD not in proc.stdout + proc.stderr


def test_a_configured_root_is_where_imports_may_reach(tmp_path):
    write_files(tmp_path, {
        "proj/lib/name.mjs": "export const name = 'from-lib';\n",
        "proj/node_modules/dep/index.js": "export default 'dep';\n",
        "proj/src/index.mjs": "import { name } from '../lib/name.mjs';\nimport dep from 'dep';\n"
                              "export default { fetch() { return new Response(name + dep); } };\n",
    })
    config = tmp_path / "isoflow.toml"
    port = free_port()
    config.write_text(f'[[listeners]]\nport = {port}\n\n[scripts.app]\n'
                      'path = "proj/src/index.mjs"\nroot = "proj"\nworkers = 1\n\n'
                      '[[routes]]\nscript = "app"\n')
    with serving([*ISOFLOW, "serve", "--config", str(config)], port, tmp_path / "log"):
        status, _, body = run(fetch(f"http://127.0.0.1:{port}/"))
    assert (status, body) == (200, b"from-libdep")


def test_the_root_key_must_be_a_folder_holding_the_script(tmp_path):
    write_files(tmp_path, {"a/main.mjs": "", "b/x": ""})
    for root, problem in (("b", "does not contain the script"), ("nope", "no such folder")):
        source = f'[[listeners]]\nport = 8080\n\n[scripts.s]\npath = "a/main.mjs"\nroot = "{root}"\n\n[[routes]]\nscript = "s"\n'
        try:
            config_file.parse(source, tmp_path / "isoflow.toml")
        except config_file.ConfigError as e:
            [line] = str(e).splitlines()
            assert line.startswith(f"{tmp_path / 'isoflow.toml'}:6: scripts.s.root: ")
            assert problem in line
        else:
            raise AssertionError(f"root = {root!r} was accepted")
    good = '[[listeners]]\nport = 8080\n\n[scripts.s]\npath = "a/main.mjs"\nroot = "."\n\n[[routes]]\nscript = "s"\n'
    settings = config_file.parse(good, tmp_path / "isoflow.toml").settings
    assert settings.scripts["s"].root == tmp_path.resolve()

