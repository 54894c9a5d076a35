"""The config file end to end: check, refusal at start, routes to several pools, env and
secrets, request ids, JSON logs, TLS listeners."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.certs import make_cert
from tests.conftest import run
from tests.integration.ops_support import get
from tests.processes import isoflow

APP = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/env") {
      return Response.json({ name: env.NAME, token: env.TOKEN, password: env.PASSWORD });
    }
    if (url.pathname === "/rid") {
      const rid = request.headers.get("x-request-id");
      console.log("handling", url.pathname);
      return new Response(rid);
    }
    if (url.pathname === "/large") return new Response("y".repeat(50000));  // head + body: two parts
    return new Response(`${env.NAME} ${url.pathname}`);
  },
};
"""

TWO_SCRIPTS = """
[[listeners]]
port = @PORT@

[scripts.api]
path = "app.mjs"
workers = 1
env = { NAME = "api" }

[scripts.site]
path = "app.mjs"
workers = 1
env = { NAME = "site" }

[[routes]]
host = "api.example.com"
script = "api"

[[routes]]
path = "/api"
script = "api"

[[routes]]
host = "*.example.com"
script = "site"
"""


def test_check_prints_every_problem_with_its_line(tmp_path):
    (tmp_path / "app.mjs").write_text(APP)
    config = tmp_path / "bad.toml"
    config.write_text(
        "[[listeners]]\n"
        "port = 0\n"
        "\n"
        "[scripts.app]\n"
        "path = \"app.mjs\"\n"
        "workers = 0\n"
        "\n"
        "[[routes]]\n"
        "script = \"nope\"\n"
    )
    proc = isoflow("check", "--config", str(config))
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        f"{config}:2: listeners[0].port: must be between 1 and 65535, got 0",
        f"{config}:4: scripts.app: script 'app' is not used by any route",
        f"{config}:6: scripts.app.workers: must be between 1 and 1024, got 0",
        f"{config}:9: routes[0].script: no script named 'nope' (defined: app)",
    ]
    assert "4 problem(s)" in proc.stderr


def test_check_loads_the_scripts_and_names_the_failing_one(tmp_path):
    (tmp_path / "app.mjs").write_text(APP)
    (tmp_path / "broken.js").write_text("let a = 1;\nlet b = ;\n")
    config = tmp_path / "isoflow.toml"
    config.write_text(
        "[[listeners]]\nport = 8080\n\n"
        "[scripts.good]\npath = \"app.mjs\"\n\n"
        "[scripts.bad]\npath = \"broken.js\"\n\n"
        "[[routes]]\nscript = \"good\"\n\n"
        "[[routes]]\npath = \"/b\"\nscript = \"bad\"\n"
    )
    proc = isoflow("check", "--config", str(config))
    assert proc.returncode == 2, proc.stdout
    [line] = proc.stdout.splitlines()
    assert line.startswith(f"{config}:8: scripts.bad.path: ")
    assert f"{tmp_path / 'broken.js'}:2" in line and "SyntaxError" in line


def test_check_bounds_a_top_level_that_never_ends_and_reports_a_throwing_export(tmp_path):
    # check (and reload, which runs it) hung for ever on the first; a traceback for the second.
    (tmp_path / "loop.js").write_text("for (;;) {}\n")
    (tmp_path / "getter.mjs").write_text(
        "export default {\n  get fetch() {\n    throw new Error('no handler today');\n  },\n};\n")
    config = tmp_path / "isoflow.toml"
    config.write_text(
        "[[listeners]]\nport = 8080\n\n"
        "[scripts.loop]\npath = \"loop.js\"\n[scripts.loop.limits]\ncpu_time = 0.3\n\n"
        "[scripts.getter]\npath = \"getter.mjs\"\n\n"
        "[[routes]]\nscript = \"loop\"\n\n[[routes]]\npath = \"/g\"\nscript = \"getter\"\n"
    )
    proc = isoflow("check", "--config", str(config))
    assert proc.returncode == 2, proc.stdout
    lines = proc.stdout.splitlines()
    assert f"{tmp_path / 'loop.js'}: its top level did not finish within 0.3 s of CPU time" \
        in lines[0], lines
    assert lines[1].endswith(f"{tmp_path / 'getter.mjs'}:3: Error: no handler today"), lines
    assert "Traceback" not in proc.stdout + proc.stderr


def test_check_accepts_a_good_config(tmp_path):
    (tmp_path / "app.mjs").write_text(APP)
    config = tmp_path / "isoflow.toml"
    config.write_text(TWO_SCRIPTS.replace("@PORT@", "8080"))
    proc = isoflow("check", "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == f"{config}: ok (2 scripts, 3 routes, 1 listeners)"


def test_the_shipped_example_config_is_valid():
    from isoflow.supervisor.config import parse

    path = Path(__file__).parents[2] / "deploy" / "isoflow.toml"
    text = path.read_text()
    # The example names files under /etc: check its structure with the paths pointed here.
    with pytest.raises(Exception) as info:
        parse(text, path, {})
    messages = str(info.value)
    for line in messages.splitlines():
        assert ("no such file" in line or "cannot read" in line or "is not set" in line
                or "CREDENTIALS_DIRECTORY" in line or "cannot load the certificate" in line), line


def test_serve_refuses_a_bad_config_and_says_why(tmp_path):
    config = tmp_path / "isoflow.toml"
    config.write_text("[[listeners]]\nport = 8080\n\n[scripts.app]\npath = \"missing.js\"\n\n"
                      "[[routes]]\nscript = \"app\"\n")
    proc = isoflow("serve", "--config", str(config))
    assert proc.returncode == 2
    assert f"{config}:5: scripts.app.path: {tmp_path / 'missing.js'}: no such file" in proc.stderr
    assert "not starting" in proc.stderr


def test_routes_send_each_request_to_its_scripts_pool(ops):
    server = ops(TWO_SCRIPTS, files={"app.mjs": APP})

    async def scenario():
        async def body(path, host):
            status, _, data = await get(server.url(path), headers={"Host": host})
            return status, data.decode()

        return [
            await body("/x", "api.example.com"),
            await body("/x", "www.example.com"),
            await body("/api/users", "www.example.com"),  # the host is more specific
            await body("/api/users", "other.org"),
            await body("/x", "other.org"),
        ]

    assert run(scenario()) == [
        (200, "api /x"),
        (200, "site /x"),
        (200, "site /api/users"),
        (200, "api /api/users"),
        (404, "No route matches this host and path.\n"),
    ]
    assert {"api/w0", "site/w0"} <= set(server.worker_pids())
    # Dot segments are resolved for routing as the script's URL resolves them: a prefix
    # cannot be stepped around (the /api route's script answers what it sees as /api).
    for target in ("/x/../api/users", "/x/%2e%2E/api/users", "/x/./../api/users"):
        assert raw_get(server.port, target, "other.org").endswith(b"\r\n\r\napi /api/users")
    assert raw_get(server.port, "/api/../x", "other.org").startswith(b"HTTP/1.1 404")


def raw_get(port: int, target: str, host: str) -> bytes:
    """GET ``target`` exactly as written (an HTTP client would resolve its dot segments)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while got := sock.recv(65536):
            data += got
    return data


def test_env_and_secrets_reach_the_script_but_no_command_line_or_log(ops, tmp_path):
    (tmp_path / "token").write_text("file-secret-123\n")
    server = ops(
        """
        [[listeners]]
        port = @PORT@

        [scripts.app]
        path = "app.mjs"
        workers = 1
        env = { NAME = "plain" }
        secrets.TOKEN = { file = "token" }
        secrets.PASSWORD = { env = "ISOFLOW_TEST_PASSWORD" }

        [[routes]]
        script = "app"
        """,
        files={"app.mjs": APP},
        env={"ISOFLOW_TEST_PASSWORD": "env-secret-456"},
    )
    status, _, body = run(get(server.url("/env")))
    assert status == 200
    assert json.loads(body) == {"name": "plain", "token": "file-secret-123",
                                "password": "env-secret-456"}
    # ww: whole command lines (piped, ps cuts them at 80 columns: a long checkout path cut
    # the worker's arguments off).
    ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    assert "isoflow.isolate_worker --options -" in ps  # the workers are there...
    assert "file-secret-123" not in ps and "env-secret-456" not in ps  # ...without secrets
    assert "file-secret-123" not in server.log() and "env-secret-456" not in server.log()


def test_request_id_is_generated_passed_to_the_script_and_logged(ops):
    server = ops(
        """
        [[listeners]]
        port = @PORT@

        [scripts.app]
        path = "app.mjs"
        workers = 1

        [[routes]]
        name = "main"
        script = "app"
        """,
        files={"app.mjs": APP},
    )
    status, headers, body = run(get(server.url("/rid")))
    assert status == 200
    rid = body.decode()
    assert len(rid) == 16 and headers["X-Request-Id"] == rid
    server.wait_log(rf"app/w0 \[{rid}\] handling /rid")
    server.wait_log(rf'"GET /rid HTTP/1.1" 200 in=0 out=16 [0-9.]+s route=main worker=app/w0 id={rid}')
    # A client's own id is kept.
    status, headers, body = run(get(server.url("/rid"), headers={"X-Request-Id": "client-id-1"}))
    assert body == b"client-id-1" and headers["X-Request-Id"] == "client-id-1"


def test_the_request_id_header_name_is_configurable(ops):
    server = ops(
        """
        [server]
        request_id_header = "X-Trace"

        [[listeners]]
        port = @PORT@

        [scripts.app]
        path = "app.mjs"
        workers = 1

        [[routes]]
        script = "app"
        """,
        files={"app.mjs": APP.replace('"x-request-id"', '"x-trace"')},
    )
    _, headers, body = run(get(server.url("/rid"), headers={"X-Trace": "abc"}))
    assert body == b"abc" and headers["X-Trace"] == "abc"
    _, headers, body = run(get(server.url("/rid")))
    assert len(body) == 16 and headers["X-Trace"] == body.decode()


def test_json_logs_carry_access_and_console_lines_as_fields(ops):
    server = ops(
        """
        [log]
        format = "json"

        [[listeners]]
        port = @PORT@

        [scripts.app]
        path = "app.mjs"
        workers = 1

        [[routes]]
        script = "app"
        """,
        files={"app.mjs": APP},
    )
    _, _, body = run(get(server.url("/rid")))
    rid = body.decode()
    server.wait_log(r'"logger": "isoflow.access"')
    server.wait_log(r'"logger": "isoflow.console"')
    records = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    access = [r for r in records if r["logger"] == "isoflow.access"]
    console = [r for r in records if r["logger"] == "isoflow.console"]
    assert access[0]["request_id"] == rid and access[0]["status"] == 200
    assert access[0]["route"] == "*/" and access[0]["worker"] == "app/w0"
    assert access[0]["bytes_out"] == 16 and access[0]["path"] == "/rid"
    assert console[0]["request_id"] == rid and console[0]["worker"] == "app/w0"
    assert "handling /rid" in console[0]["message"]
    # Every line is JSON, the workers' own log lines included.
    assert any(r["logger"] == "isoflow.supervisor.pool" for r in records)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_tls_listener_serves_https(ops, tmp_path):
    make_cert(tmp_path)
    server = ops(
        """
        [server]
        header_timeout = 1

        [[listeners]]
        port = @PORT@
        tls_cert = "cert.pem"
        tls_key = "key.pem"

        [scripts.app]
        path = "app.mjs"
        workers = 1
        env = { NAME = "tls" }

        [[routes]]
        script = "app"
        """,
        files={"app.mjs": APP},
    )
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

    async def fetch_tls():
        async with aiohttp.ClientSession() as s:
            answers = []
            for path in ("/secure", "/large", "/secure"):  # one connection, kept open
                async with s.get(f"https://127.0.0.1:{server.port}{path}", ssl=context) as r:
                    answers.append((r.status, await r.text()))
            return answers

    assert run(fetch_tls()) == [(200, "tls /secure"), (200, "y" * 50000), (200, "tls /secure")]
    assert f"https://127.0.0.1:{server.port}" in server.log()
    # A client that never starts its handshake is let go at header_timeout (was 60 s).
    with socket.create_connection(("127.0.0.1", server.port)) as idle:
        idle.settimeout(15)
        assert idle.recv(1) == b""
