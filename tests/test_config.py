"""The config file (values, problems with their lines), key positions, routing, sd_notify."""

from __future__ import annotations

import os
import socket
import textwrap
import tomllib
from pathlib import Path

import pytest

from isoflow.supervisor.config import ConfigError, as_size, parse
from isoflow.supervisor.notify import Notifier
from isoflow.supervisor.routing import Route, Router, resolved_path
from isoflow.supervisor.settings import Settings
from isoflow.supervisor.tomlpos import Locator, key_lines

# -- key positions ------------------------------------------------------------------------


def lines_of(source: str) -> dict:
    source = textwrap.dedent(source).lstrip("\n")
    tomllib.loads(source)  # the scanner is only ever given valid TOML
    return key_lines(source)


def test_keys_and_tables_are_at_their_lines():
    lines = lines_of("""
        top = 1
        [server]
        pid_file = "/run/x.pid"
        [scripts.api]
        path = "a.js"
    """)
    assert lines[("top",)] == 1
    assert lines[("server",)] == 2
    assert lines[("server", "pid_file")] == 3
    assert lines[("scripts",)] == 4 and lines[("scripts", "api")] == 4
    assert lines[("scripts", "api", "path")] == 5


def test_arrays_of_tables_are_indexed_like_the_parsed_data():
    lines = lines_of("""
        [[routes]]
        script = "a"
        [[routes]]
        script = "b"
        [[routes.extra]]
        q = 1
        [[routes.extra]]
        q = 2
    """)
    assert lines[("routes", 0, "script")] == 2
    assert lines[("routes", 1)] == 3
    assert lines[("routes", 1, "script")] == 4
    assert lines[("routes", 1, "extra", 0, "q")] == 6
    assert lines[("routes", 1, "extra", 1, "q")] == 8


def test_strings_that_look_like_syntax_do_not_confuse_the_scanner():
    lines = lines_of('''
        a = "not # a comment [nor] a table"
        b = """
        [fake]
        c = 1
        """
        d = 'literal # too'
        e = \'\'\'
        [[also_fake]]\'\'\'
        f = "escaped \\" quote"
        g = 2
    ''')
    assert lines[("b",)] == 2 and lines[("d",)] == 6 and lines[("e",)] == 7
    assert lines[("f",)] == 9 and lines[("g",)] == 10
    assert ("fake",) not in lines and ("c",) not in lines and ("also_fake",) not in lines


def test_multiline_arrays_and_inline_tables_give_element_lines():
    lines = lines_of("""
        arr = [
          1,  # one
          { x = 1, y = [2,
             3] },
          "]",
        ]
        env = { A = "1", B = '2' }
        after = true
    """)
    assert lines[("arr",)] == 1
    assert lines[("arr", 0)] == 2
    assert lines[("arr", 1)] == 3 and lines[("arr", 1, "x")] == 3
    assert lines[("arr", 1, "y", 1)] == 4
    assert lines[("arr", 2)] == 5
    assert lines[("env", "B")] == 7
    assert lines[("after",)] == 8


def test_dotted_and_quoted_keys():
    lines = lines_of("""
        [server]
        a.b."c.d" = 1
        "quoted key" = 2
    """)
    assert lines[("server", "a", "b", "c.d")] == 2
    assert lines[("server", "quoted key")] == 3


def test_locator_falls_back_to_the_nearest_parent():
    locator = Locator("[scripts.api]\npath = 'x'\n")
    assert locator.line(("scripts", "api", "limits", "memory")) == 1
    assert locator.line(("nothing",)) == 1


# -- config values ------------------------------------------------------------------------

GOOD = """
[server]
shutdown_grace = 5
request_id_header = "X-Trace"

[log]
format = "json"
level = "debug"

[metrics]
port = 9100

[[listeners]]
port = 8080

[[listeners]]
host = "0.0.0.0"
port = 8081

[limits]
memory = "256MiB"
max_body_size = "1MB"

[fetch]
allow_loopback = true

[scripts.api]
path = "api.js"
workers = 3
pack = false
env = { GREETING = "hi" }
secrets.TOKEN = { file = "token.txt" }
secrets.PASSWORD = { env = "TEST_PASSWORD" }

[scripts.api.limits]
cpu_time = 0.5
max_subrequests = 7
recycle_requests = 1000

[scripts.site]
path = "/abs/site.js"

[[routes]]
host = "api.example.com"
script = "api"
wall_time = 5

[[routes]]
path = "/"
script = "site"
"""


def write_config(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> Path:
    for name, content in (files or {"api.js": "x", "token.txt": "s3cret\n"}).items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "isoflow.toml"
    path.write_text(text)
    return path


def load_ok(tmp_path: Path, text: str = GOOD, environ=None) -> Settings:
    path = write_config(tmp_path, text)
    environ = {"TEST_PASSWORD": "pw"} if environ is None else environ
    return parse(path.read_text(), path, environ).settings


def problems(tmp_path: Path, text: str, environ=None, files=None) -> list[str]:
    path = write_config(tmp_path, textwrap.dedent(text).lstrip("\n"), files)
    with pytest.raises(ConfigError) as info:
        parse(path.read_text(), path, environ or {})
    return [p.format("c.toml") for p in info.value.problems]


def test_a_full_config_gives_the_settings_it_says(tmp_path):
    good = GOOD.replace('"/abs/site.js"', f'"{tmp_path}/api.js"')
    s = load_ok(tmp_path, good)
    assert [(lst.host, lst.port) for lst in s.listeners] == [("127.0.0.1", 8080), ("0.0.0.0", 8081)]
    assert s.metrics is not None and s.metrics.port == 9100
    assert s.log_format == "json" and s.log_level == "DEBUG"
    assert s.shutdown_grace == 5 and s.request_id_header == "X-Trace"
    api = s.scripts["api"]
    assert api.path == tmp_path / "api.js"  # relative to the config file
    assert api.workers == 3
    assert not api.pack and s.scripts["site"].pack  # packing is on unless a script says no
    assert api.env == {"GREETING": "hi"}
    assert api.secrets == {"TOKEN": "s3cret", "PASSWORD": "pw"}
    assert api.limits.cpu_time == 0.5 and api.limits.max_subrequests == 7
    assert api.limits.memory == 256 << 20  # inherited from [limits]
    assert api.limits.max_body_size == 1_000_000
    assert api.limits.recycle_requests == 1000
    assert api.allow_loopback and not api.allow_private
    assert s.scripts["site"].limits.cpu_time == 30.0  # the default
    assert [r.script for r in s.routes] == ["api", "site"]
    assert s.routes[0].wall_time == 5 and s.routes[0].name == "api.example.com/"


def test_worker_options_carry_limits_fetch_policy_and_secrets(tmp_path):
    good = GOOD.replace('"/abs/site.js"', f'"{tmp_path}/api.js"')
    options = load_ok(tmp_path, good).worker_options("api")
    assert options["max_subrequests"] == 7
    assert options["cpu_limit"] == 0.5 and options["memory_limit"] == 256 << 20
    assert options["allow_loopback"] is True and options["allow_private"] is False
    assert options["env"] == {"GREETING": "hi", "TOKEN": "s3cret", "PASSWORD": "pw"}


def test_worker_options_are_all_bridge_config_fields():
    from dataclasses import fields

    from isoflow.isolate_worker.bridge import BridgeConfig

    options = Settings.single_script(Path("x.js")).worker_options("default")
    assert set(options) <= {f.name for f in fields(BridgeConfig)}
    assert BridgeConfig().max_subrequests == 50


def test_secrets_never_appear_in_the_settings_repr(tmp_path):
    good = GOOD.replace('"/abs/site.js"', f'"{tmp_path}/api.js"')
    text = repr(load_ok(tmp_path, good))
    assert "s3cret" not in text and "'pw'" not in text


def test_a_secret_may_come_from_a_systemd_credential(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "token").write_text("from-credential")
    text = GOOD.replace('{ file = "token.txt" }', '{ credential = "token" }')
    text = text.replace('"/abs/site.js"', f'"{tmp_path}/api.js"')
    s = load_ok(tmp_path, text, {"TEST_PASSWORD": "pw", "CREDENTIALS_DIRECTORY": str(creds)})
    assert s.scripts["api"].secrets["TOKEN"] == "from-credential"


@pytest.mark.parametrize("text, size", [
    (1234, 1234), ("64KiB", 64 << 10), ("64K", 64 << 10), ("10MB", 10_000_000),
    ("1.5MiB", 3 << 19), ("2G", 2 << 30), (" 7 b ", 7),
])
def test_sizes_take_bytes_or_units(text, size):
    assert as_size(text) == size


# -- config problems, each with its line --------------------------------------------------

MINIMAL = """[[listeners]]
port = 8080

[scripts.app]
path = "api.js"

[[routes]]
script = "app"
"""


def test_the_minimal_config_is_accepted(tmp_path):
    s = load_ok(tmp_path, MINIMAL)
    assert s.routes[0].host == "*" and s.routes[0].path == "/"


def test_a_wrong_type_names_the_key_and_its_line(tmp_path):
    found = problems(tmp_path, MINIMAL.replace('path = "api.js"', 'path = "api.js"\nworkers = "four"'))
    assert found == ["c.toml:6: scripts.app.workers: must be an integer, got a string"]


def test_pack_is_true_or_false(tmp_path):
    found = problems(tmp_path, MINIMAL.replace('path = "api.js"', 'path = "api.js"\npack = 1'))
    assert found == ["c.toml:6: scripts.app.pack: must be true or false, got an integer"]


def test_an_unknown_key_is_reported_with_a_suggestion(tmp_path):
    found = problems(tmp_path, MINIMAL.replace('path = "api.js"', 'path = "api.js"\nwokers = 2'))
    assert found == ["c.toml:6: scripts.app.wokers: unknown key 'wokers' (did you mean 'workers'?)"]


def test_a_missing_key_points_at_its_table(tmp_path):
    found = problems(tmp_path, MINIMAL.replace('[[listeners]]\nport = 8080', '[[listeners]]\nhost = "::1"'))
    assert found == ["c.toml:1: listeners[0]: missing required key 'port'"]


def test_a_route_to_an_unknown_script(tmp_path):
    found = problems(tmp_path, MINIMAL.replace('script = "app"', 'script = "ap"'))
    assert "c.toml:8: routes[0].script: no script named 'ap' (defined: app)" in found
    assert "c.toml:4: scripts.app: script 'app' is not used by any route" in found


def test_every_problem_is_reported_at_once_in_line_order(tmp_path):
    text = """
    [server]
    shutdown_grace = -1

    [[listeners]]
    port = 70000

    [[listeners]]
    port = 8080
    tls_cert = "cert.pem"

    [limits]
    memory = "1MiB"
    max_body_size = "lots"

    [scripts.app]
    path = "missing.js"
    secrets.KEY = { env = "NOT_SET" }
    env = { N = 1 }

    [[routes]]
    path = "no-slash"
    script = "app"
    """
    found = problems(tmp_path, text)
    assert found == [
        "c.toml:2: server.shutdown_grace: must be positive, got -1.0",
        "c.toml:5: listeners[0].port: must be between 1 and 65535, got 70000",
        "c.toml:7: listeners[1]: tls_cert and tls_key must be given together",
        "c.toml:12: limits.memory: must be at least 16MiB, got 1048576",
        "c.toml:13: limits.max_body_size: 'lots' is not a size (use bytes, or a unit: \"64KiB\", \"10MB\", \"1G\")",
        f"c.toml:16: scripts.app.path: {tmp_path}/missing.js: no such file",
        "c.toml:17: scripts.app.secrets.KEY.env: environment variable 'NOT_SET' is not set",
        "c.toml:18: scripts.app.env.N: must be a string, got an integer",
        "c.toml:21: routes[0].path: must start with '/', got 'no-slash'",
    ]


def test_numbers_that_would_turn_a_limit_off_are_refused(tmp_path):
    """A NaN wall time disabled the 504; a memory of 2**70 bytes broke every worker's
    RLIMIT_DATA at start (and a reload to it took the service down)."""
    found = problems(tmp_path, MINIMAL + '\n[limits]\nwall_time = nan\ncpu_time = inf\n'
                                         'memory = "99999999999999999999GiB"\n')
    assert [line.split(": ", 2)[1:] for line in found] == [
        ["limits.wall_time", "must be a number of seconds up to 10000000, got nan"],
        ["limits.cpu_time", "must be a number of seconds up to 10000000, got inf"],
        ["limits.memory", "must be at most 1PiB, got '99999999999999999999GiB'"],
    ]


def test_a_config_nested_too_deeply_is_a_problem_not_a_crash(tmp_path):
    found = problems(tmp_path, MINIMAL + "deep = " + "[" * 5000 + "]" * 5000 + "\n")
    assert found == ["c.toml:1: not valid TOML: nested too deeply"]


def test_invalid_toml_reports_the_parser_line(tmp_path):
    found = problems(tmp_path, MINIMAL.replace("port = 8080", "port = = 8080"))
    assert len(found) == 1 and found[0].startswith("c.toml:2: not valid TOML")


def test_duplicate_listeners_and_routes(tmp_path):
    text = MINIMAL + "\n[[listeners]]\nport = 8080\n\n[[routes]]\nscript = \"app\"\n"
    found = problems(tmp_path, text)
    assert "c.toml:11: listeners[1].port: 127.0.0.1:8080 is already listeners[0]" in found
    assert "c.toml:13: routes[1]: host '*' and path '/' are already routes[0]" in found
    assert len(found) == 2


def test_an_unreadable_secret_file(tmp_path):
    text = MINIMAL.replace('path = "api.js"', 'path = "api.js"\nsecrets.K = { file = "nope" }')
    found = problems(tmp_path, text)
    assert found == [f"c.toml:6: scripts.app.secrets.K.file: cannot read {tmp_path}/nope: "
                     "No such file or directory"]


def test_a_secret_needs_exactly_one_source(tmp_path):
    text = MINIMAL.replace('path = "api.js"', 'path = "api.js"\nsecrets.K = { file = "a", env = "B" }')
    found = problems(tmp_path, text)
    assert found == ["c.toml:6: scripts.app.secrets.K: secret 'K' needs exactly one of file, env or credential"]


def test_recycle_heap_must_be_below_the_memory_limit(tmp_path):
    text = MINIMAL + '\n[scripts.app.limits]\nmemory = "64MiB"\nrecycle_heap = "64MiB"\n'
    found = problems(tmp_path, text)
    assert found == ["c.toml:12: scripts.app.limits.recycle_heap: must be below the memory limit, or it can never trigger"]


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Host", "Connection"])
def test_request_id_header_may_not_be_a_field_http_gives_a_meaning(tmp_path, name):
    found = problems(tmp_path, MINIMAL + f'\n[server]\nrequest_id_header = "{name}"\n')
    assert found == [f"c.toml:11: server.request_id_header: {name!r} has a meaning of its own "
                     "in HTTP: the id would replace the client's field and be added to every "
                     "response"]


@pytest.mark.parametrize("change, problem", [
    (('script = "app"', "script = []"), "routes[0].script: must be a string, got an array"),
    (('path = "api.js"', f'path = "{"a" * 10000}"'), ": no such file"),
    (('path = "api.js"', 'path = "a\\u0000b.js"'), "a\\x00b.js': no such file"),
])
def test_values_that_cannot_name_anything_are_problems_not_tracebacks(tmp_path, change,
                                                                      problem):
    found = problems(tmp_path, MINIMAL.replace(*change))
    assert any(problem in line for line in found), found


@pytest.mark.parametrize("make, problem", [
    (lambda path: os.mkfifo(path), "not a regular file"),  # blocked the start for good
    (lambda path: path.symlink_to("/dev/zero"), "not a regular file"),  # never ended
    (lambda path: path.write_bytes(b"\xff\xfe"), "not UTF-8 text"),  # was a traceback
    (lambda path: path.write_bytes(b"x" * (2 << 20)), "larger than 1 MiB"),
])
def test_a_secret_file_must_be_a_small_regular_text_file(tmp_path, make, problem):
    make(tmp_path / "s")
    text = MINIMAL.replace('path = "api.js"', 'path = "api.js"\nsecrets.K = { file = "s" }')
    assert problems(tmp_path, text) == [f"c.toml:6: scripts.app.secrets.K.file: "
                                        f"{tmp_path / 's'}: {problem}"]


def test_recycle_rss_is_off_or_at_least_128_mib(tmp_path):
    text = MINIMAL + '\n[scripts.app.limits]\nrecycle_rss = "100MiB"\n'
    found = problems(tmp_path, text)
    assert found == ["c.toml:11: scripts.app.limits.recycle_rss: must be 0 (off) or at least "
                     "128MiB, got 104857600"]
    for value, expected in (('"0"', 0), ('"1GiB"', 1 << 30)):
        s = load_ok(tmp_path, MINIMAL + f"\n[scripts.app.limits]\nrecycle_rss = {value}\n")
        assert s.scripts["app"].limits.recycle_rss == expected


def test_a_certificate_that_is_not_a_regular_file_is_reported(tmp_path):
    os.mkfifo(tmp_path / "c.pem")  # loading it blocked the start for good
    text = MINIMAL.replace("port = 8080", 'port = 8080\ntls_cert = "c.pem"\ntls_key = "k.pem"')
    found = problems(tmp_path, text, files={"api.js": "x", "k.pem": "junk"})
    assert found == [f"c.toml:3: listeners[0].tls_cert: {tmp_path / 'c.pem'}: not a regular file"]


def test_a_bad_certificate_is_reported(tmp_path):
    text = MINIMAL.replace("port = 8080", 'port = 8080\ntls_cert = "c.pem"\ntls_key = "k.pem"')
    found = problems(tmp_path, text, files={"api.js": "x", "c.pem": "junk", "k.pem": "junk"})
    assert len(found) == 1
    assert found[0].startswith("c.toml:3: listeners[0].tls_cert: cannot load the certificate and key")


def test_the_metrics_port_may_not_be_a_listener_port(tmp_path):
    found = problems(tmp_path, MINIMAL + "\n[metrics]\nport = 8080\n")
    assert found == ["c.toml:11: metrics.port: port 8080 is also an HTTP listener"]


def test_bad_enum_values(tmp_path):
    found = problems(tmp_path, MINIMAL + '\n[log]\nformat = "xml"\n')
    assert found == ["c.toml:11: log.format: must be one of text, json; got 'xml'"]


def test_an_unused_script_is_a_problem(tmp_path):
    found = problems(tmp_path, MINIMAL + '\n[scripts.spare]\npath = "api.js"\n')
    assert found == ["c.toml:10: scripts.spare: script 'spare' is not used by any route"]


# -- routing ------------------------------------------------------------------------------

ROUTES = Router([
    Route("any", "site"),
    Route("api", "api", host="api.example.com", path="/"),
    Route("api-v2", "v2", host="api.example.com", path="/v2"),
    Route("wild", "tenants", host="*.example.com"),
    Route("deep-wild", "eu", host="*.eu.example.com"),
    Route("static", "static", path="/static/"),
])


@pytest.mark.parametrize("host, path, name", [
    ("api.example.com", "/users", "api"),
    ("API.Example.com:8443", "/users", "api"),  # case and port do not matter
    ("api.example.com", "/v2", "api-v2"),
    ("api.example.com", "/v2/users", "api-v2"),
    ("api.example.com", "/v2x", "api"),  # prefixes match whole segments
    ("shop.example.com", "/", "wild"),
    ("a.eu.example.com", "/", "deep-wild"),  # the longer wildcard wins
    ("example.com", "/", "any"),  # "*.example.com" needs a subdomain
    ("other.org", "/static/app.css", "static"),
    ("other.org", "/static", "static"),
    ("other.org", "/staticx", "any"),
    ("shop.example.com", "/static/x", "wild"),  # the host is more specific than the path
])
def test_the_most_specific_route_wins(host, path, name):
    route = ROUTES.match(host, path)
    assert route is not None and route.name == name


def test_a_router_remembers_its_answers_within_a_bound():
    router = Router([Route("api", "api", host="api.example.com"), Route("any", "a")])
    for _ in range(2):  # the second time from what it remembers
        assert router.match("API.example.com:80", "/x").name == "api"
        assert router.match("other", "/x").name == "any"
    for i in range(5000):  # a client's many paths: remembered up to the bound, then afresh
        assert router.match("api.example.com", f"/{i}").name == "api"
    assert 0 < len(router._seen) <= 4096


def test_no_route_matches():
    router = Router([Route("api", "api", host="api.example.com")])
    assert router.match("other.example.com", "/") is None


def test_routes_of_equal_rank_keep_file_order():
    router = Router([Route("first", "a", path="/x"), Route("second", "b", path="/x")])
    assert router.match("h", "/x").name == "first"


@pytest.mark.parametrize("path, resolved", [
    ("/x/../admin", "/admin"), ("/x/./../admin", "/admin"), ("/x\\..\\admin", "/admin"),
    ("/..", "/"), ("/a/..", "/"), ("/a/b/..", "/a/"), ("/a/.", "/a/"), ("/a/./b/", "/a/b/"),
    ("/a.b/c..d/...", "/a.b/c..d/..."), ("/a/b", "/a/b"), ("*", "*"),
])
def test_dot_segments_are_resolved_as_the_url_standard_resolves_them(path, resolved):
    assert resolved_path(path) == resolved


def test_a_route_cannot_be_stepped_around_with_dot_segments():
    router = Router([Route("admin", "adm", path="/admin"), Route("rest", "b")])
    assert [router.match("h", p).name for p in ("/x/../admin/users", "/admin/../x")] == [
        "admin", "rest"]


# -- sd_notify ----------------------------------------------------------------------------


def test_notifier_sends_datagrams_and_hides_the_socket_from_children(tmp_path):
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        environ = {"NOTIFY_SOCKET": path}
        notifier = Notifier(environ)
        assert "NOTIFY_SOCKET" not in environ
        assert notifier.ready("serving")
        assert sock.recv(1024) == b"READY=1\nSTATUS=serving"
        assert notifier.reloading()
        lines = sock.recv(1024).decode().split("\n")
        assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=")
        assert int(lines[1].split("=")[1]) > 0
        assert notifier.stopping()
        assert sock.recv(1024) == b"STOPPING=1"


def test_notifier_without_a_socket_does_nothing():
    assert not Notifier({}).ready()


def test_crons_are_read_and_validated_with_their_line(tmp_path):
    settings = load_ok(tmp_path, """
[[listeners]]
port = 8080

[scripts.api]
path = "api.js"
crons = ["*/5 * * * *", "@daily"]

[[routes]]
script = "api"
""")
    assert settings.scripts["api"].crons == ["*/5 * * * *", "@daily"]
    found = problems(tmp_path, """
        [[listeners]]
        port = 8080

        [scripts.api]
        path = "api.js"
        crons = ["*/5 * * * *", "0 25 * * *"]

        [[routes]]
        script = "api"
        """)
    assert found == ["c.toml:6: scripts.api.crons: '0 25 * * *': hour: 25 is outside 0-23"]


def test_compatibility_flags_are_read_and_validated_with_their_line(tmp_path):
    settings = load_ok(tmp_path, """
[[listeners]]
port = 8080

[scripts.api]
path = "api.js"
compatibility_flags = ["nodejs_compat"]

[[routes]]
script = "api"
""")
    assert settings.scripts["api"].compatibility_flags == ["nodejs_compat"]
    found = problems(tmp_path, """
        [[listeners]]
        port = 8080

        [scripts.api]
        path = "api.js"
        compatibility_flags = ["nodejs_compat", "streams_enable_constructors"]

        [[routes]]
        script = "api"
        """)
    assert found == ["c.toml:6: scripts.api.compatibility_flags: 'streams_enable_constructors': "
                     "isoflow honours only nodejs_compat, nodejs_compat_v2"]


def test_work_after_the_response_and_runtime_failures_are_limits(tmp_path):
    text = """
    [[listeners]]
    port = 8080
    [limits]
    wall_time_after_response = 2.5
    max_runtime_failures = 4
    [scripts.app]
    path = "api.js"
    [scripts.app.limits]
    max_runtime_failures = 0
    [[routes]]
    script = "app"
    """
    assert problems(tmp_path, text) == [
        "c.toml:9: scripts.app.limits.max_runtime_failures: must be at least 1, got 0"]
    s = load_ok(tmp_path, textwrap.dedent(text).replace("max_runtime_failures = 0", ""))
    options = s.worker_options("app")
    assert options["wall_time_after_response"] == 2.5 and options["max_runtime_failures"] == 4


def test_websocket_limits_are_checked_and_reach_the_worker(tmp_path):
    text = """
    [[listeners]]
    port = 8080
    [limits]
    websocket_max_message = "256KiB"
    websocket_idle_timeout = 30
    [scripts.app]
    path = "api.js"
    [scripts.app.limits]
    websocket_connections = -1
    websocket_max_message = 10
    [[routes]]
    script = "app"
    """
    assert problems(tmp_path, text) == [
        "c.toml:9: scripts.app.limits.websocket_connections: must be at least 0, got -1",
        "c.toml:10: scripts.app.limits.websocket_max_message: must be at least 1KiB, got 10"]
    ok = "\n".join(line for line in textwrap.dedent(text).splitlines()
                   if "websocket_connections" not in line and "= 10" not in line)
    s = load_ok(tmp_path, ok + "\n")
    limits = s.scripts["app"].limits
    assert (limits.websocket_max_message, limits.websocket_idle_timeout,
            limits.websocket_connections) == (256 << 10, 30.0, 1000)
    options = s.worker_options("app")
    assert options["websocket_max_message"] == 256 << 10
    assert options["websocket_connections"] == 1000


def test_the_relay_keys_are_read_and_validated_with_their_line(tmp_path):
    base = """
        [server]
        {line}

        [[listeners]]
        port = 8080

        [scripts.api]
        path = "api.js"

        [[routes]]
        script = "api"
        """
    settings = load_ok(tmp_path, textwrap.dedent(base.format(
        line='relay = false\nrelay_mode = "splice"')).lstrip("\n"))
    assert (settings.relay, settings.relay_mode) == (False, "splice")
    assert load_ok(tmp_path, textwrap.dedent(base.format(line="")).lstrip("\n")).relay_mode \
        == "copy"
    for line, key in (('relay_mode = "zero"', "relay_mode"), ('relay = "yes"', "relay"),
                      ("relay_mode = 1", "relay_mode")):
        found = problems(tmp_path, base.format(line=line))
        assert len(found) == 1 and found[0].startswith(f"c.toml:2: server.{key}:"), found
