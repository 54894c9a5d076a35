"""The ``isoflow`` command: ``serve`` scripts, ``check`` a script or a config, ``reload``.

    isoflow serve app.js --port 8080          # one script, every path, one listener
    isoflow serve --config isoflow.toml       # listeners, routes, scripts, limits, ...
    isoflow check --config isoflow.toml       # every problem with its line; starts nothing
    isoflow reload --config isoflow.toml      # check it, then SIGHUP the running supervisor
    isoflow keygen NAME [--dir DIR]           # a CURVE keypair for the remote link
    isoflow worker --config isoflow.toml --script api --connect tcp://10.0.0.1:7700 \\
                   --key worker.key_secret --server-key supervisor.key   # on another host
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import re
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isoflow.isolate_worker.eventloop import run as run_event_loop
from isoflow.isolate_worker.malloc import keep_freed_memory

from . import config as config_file
from . import early, logsetup, pidfile, wrangler
from .keyfile import KeyFileError, keygen, load_keypair, load_public_key
from .settings import Limits, Listener, Settings, default_workers

if TYPE_CHECKING:
    from .fronts import FrontRole

log = logging.getLogger("isoflow")


def _parse_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _parse_address(text: str) -> Listener:
    host, sep, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or PORT, got {text!r}") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"the port must be 1-65535, got {number}")
    return Listener(host if sep else "127.0.0.1", number)


def _bounded(kind: type[int] | type[float], low: float, high: float, *,
             above: bool = False) -> Callable[[str], Any]:
    """An argparse type: a finite number of ``kind`` from ``low`` (exclusive if ``above``)
    to ``high``, as the config file has it (NaN, inf and out-of-range values refused)."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value > high or value < low or (above and value == low):
            least = f"above {low:g}" if above else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be {least} and at most {high:g}, got {text}")
        return value
    return parse


_SECONDS = _bounded(float, 0, config_file.MAX_SECONDS, above=True)
_COUNT = _bounded(int, 0, 1 << 31)


def _log_level(text: str) -> str:
    if text.lower() not in config_file.LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(config_file.LOG_LEVELS)}, got {text!r}")
    return text


def _parse_size(text: str) -> int:
    try:
        return config_file.as_size(int(text) if text.isdigit() else text)
    except Exception as e:
        raise argparse.ArgumentTypeError(str(e)) from None


NAME = re.compile(r"[A-Za-z0-9._-]+")  # key names, remote workers' names
DEV_SHUTDOWN_GRACE = 2.0  # seconds: a stream still open at Ctrl-C does not hold dev long

# Options that only make sense for a single script given on the command line.
SCRIPT_OPTIONS = ("host", "port", "workers", "var", "compat_flag", "wall_time", "cpu_limit",
                  "memory_limit",
                  "max_body_size", "max_subrequests", "allow_fetch_to", "shutdown_grace",
                  "wall_time_after_response", "max_runtime_failures",
                  "metrics", "log_format", "retry_idempotent")


def package_version() -> str:
    """The installed distribution's version (from its metadata)."""
    import importlib.metadata  # here: its import costs the start of every service ~20 ms

    try:
        return importlib.metadata.version("isoflow")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


class _Version(argparse.Action):
    """``--version``: the version read from the metadata only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"isoflow {package_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isoflow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    # serve's options, dev's too (dev: serve with one front and one worker by default,
    # reloading when a file of the script changes)
    serve = argparse.ArgumentParser(add_help=False)
    serve.add_argument("script", type=Path, nargs="?",
                       help="the worker script (.js, .mjs, .ts), or a Workers project: a "
                            "folder with a wrangler.toml/.json/.jsonc, or that file")
    serve.add_argument("--config", type=Path, help="a TOML config file (instead of a script)")
    serve.add_argument("--host", help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=_bounded(int, 1, 65535), help="port to bind (8080)")
    serve.add_argument("--workers", type=_bounded(int, 1, 1024),
                       help="isolate worker processes (one per core)")
    serve.add_argument("--var", action="append", type=_parse_var, metavar="NAME=VALUE",
                       help="an env binding for the script (repeatable)")
    serve.add_argument("--wall-time", type=_SECONDS,
                       help="seconds a request may wait for its response head (30)")
    serve.add_argument("--cpu-limit", type=_SECONDS,
                       help="CPU seconds one task (request, timer) may use before the isolate is "
                            "reset (30)")
    serve.add_argument("--memory-limit", type=_bounded(int, 16, config_file.MAX_SIZE >> 20),
                       help="memory per isolate (V8 heap + ArrayBuffers, wasm), in MiB (512)")
    serve.add_argument("--max-body-size", type=_parse_size,
                       help="largest request body, e.g. 10MiB (100MiB; 0: no limit)")
    serve.add_argument("--cron", action="append", metavar="EXPR",
                       help="run the script's scheduled handler on this cron schedule, UTC "
                            "(repeatable)")
    serve.add_argument("--max-subrequests", type=_COUNT,
                       help="fetch() calls one request may make (50)")
    serve.add_argument("--wall-time-after-response", type=_SECONDS,
                       help="seconds a request's timers and waitUntil work may run after its "
                            "response (30)")
    serve.add_argument("--max-runtime-failures", type=_bounded(int, 1, 1 << 31),
                       help="requests the runtime fails in a row before the isolate is "
                            "replaced (10)")
    serve.add_argument("--compat-flag", action="append", metavar="FLAG",
                       help="a Workers compatibility flag: nodejs_compat brings node:buffer, "
                            "node:events, node:crypto, ... (repeatable)")
    serve.add_argument("--allow-fetch-to", action="append", choices=("private", "loopback"),
                       help="let fetch() reach private or loopback addresses (repeatable)")
    serve.add_argument("--shutdown-grace", type=_SECONDS,
                       help="seconds in-flight requests get to finish at a stop (10)")
    serve.add_argument("--metrics", type=_parse_address, metavar="[HOST:]PORT",
                       help="serve /metrics, /healthz, /readyz there")
    serve.add_argument("--log-format", choices=("text", "json"))
    serve.add_argument("--retry-idempotent", action=argparse.BooleanOptionalAction,
                       help="retry a GET or HEAD without a body once on another worker when "
                            "its worker died before answering (default: on)")
    serve.add_argument("--pid-file", type=Path, help="write the supervisor's pid there")
    serve.add_argument("--relay", action=argparse.BooleanOptionalAction,
                       help="move an untouched forwarded body socket to socket in the kernel "
                            "(splice), not through the worker (default: on)")
    serve.add_argument("--relay-mode", choices=("copy", "splice"),
                       help="how the relay moves bytes: copy (a 4 MiB buffer, the default) or "
                            "splice (os.splice through a pipe: no copy in userland)")
    serve.add_argument("--fronts", type=_bounded(int, 1, 1024),
                       help="HTTP front processes sharing the port (half the cores)")
    # How the main process of many fronts starts each front (fronts.py); not for people.
    serve.add_argument("--front", help=argparse.SUPPRESS)
    serve.add_argument("--front-dir", type=Path, help=argparse.SUPPRESS)
    serve.add_argument("--front-fd", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--pinned-config", type=Path, help=argparse.SUPPRESS)
    serve.add_argument("--log-level", type=_log_level,
                       help="debug, info (default), warning, error")
    sub.add_parser("serve", parents=[serve], help="serve worker scripts over HTTP")
    sub.add_parser("dev", parents=[serve],
                   help="serve one script or Workers project for development: one worker, "
                        "a banner, and a reload whenever one of its files changes")

    check = sub.add_parser("check", help="check that a script loads, or a whole config")
    check.add_argument("script", type=Path, nargs="?")
    check.add_argument("--compat-flag", action="append", metavar="FLAG",
                       help="a compatibility flag of the script (nodejs_compat)")
    check.add_argument("--config", type=Path, help="check this TOML config and its scripts")

    reload = sub.add_parser("reload", help="make the running supervisor reload (SIGHUP)")
    reload.add_argument("--config", type=Path,
                        help="check this config, then signal the supervisor it names")
    reload.add_argument("--pid-file", type=Path, help="the supervisor's pid file")
    reload.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for the outcome (120; 0: do not wait)")

    keygen = sub.add_parser("keygen", help="write a CURVE keypair for the remote link")
    keygen.add_argument("name", help="the key's name: NAME.key (public), NAME.key_secret")
    keygen.add_argument("--dir", type=Path, default=Path("."),
                        help="where to write the two files (the current directory)")

    worker = sub.add_parser("worker", help="run one isolate worker for a remote supervisor")
    worker.add_argument("--config", type=Path, required=True,
                        help="the config file: the script's path, env, secrets and limits "
                             "are read from it")
    worker.add_argument("--script", required=True, metavar="NAME",
                        help="the script to serve (a [scripts.NAME] with remote = true)")
    worker.add_argument("--connect", required=True, metavar="tcp://HOST:PORT",
                        help="the supervisor's [remote] address")
    worker.add_argument("--key", type=Path, required=True,
                        help="this worker's keypair (NAME.key_secret from isoflow keygen)")
    worker.add_argument("--server-key", type=Path, required=True,
                        help="the supervisor's public key (its NAME.key)")
    worker.add_argument("--name", help="how the supervisor names this worker "
                                       "(SCRIPT@NAME; default: the host name)")
    worker.add_argument("--log-level", type=_log_level,
                        help="debug, info, warning, error (the config's)")
    return parser


def fail(message: str, code: int = 2) -> None:
    print(f"isoflow: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in ("serve", "dev"):
        early.unblock()  # SIGHUP and SIGTERM keep their default action (early.py)
    if args.command == "check":
        sys.exit(_check(parser, args))
    if args.command == "reload":
        sys.exit(_reload(args))
    if args.command == "keygen":
        sys.exit(_keygen(args))
    if args.command == "worker":
        sys.exit(_worker(args))
    settings = _serve_settings(parser, args)
    if args.command == "dev":
        _dev_settings(settings, args)
    early.hold()  # a SIGHUP or SIGTERM from now waits until the service can act on it
    logsetup.configure(settings.log_level, settings.log_format)
    if (args.front is not None or settings.fronts == 1) and any(
            spec.workers > 0 for spec in settings.scripts.values()):
        from .zygote import start_early

        start_early()  # its imports run while this process imports the server's
    if args.front is None and settings.cache_dir is not None:
        from isoflow.isolate_worker import prebuild

        for spec in settings.scripts.values():  # modules compile beside the start, once
            if spec.workers > 0:
                prebuild.start(spec.path, settings.cache_dir, spec.root,
                               spec.compatibility_flags)
    project = getattr(args, "wrangler", None)
    if project is not None and project.ignored and args.front is None:
        log.warning("%s: not honoured by isoflow: %s", project.path.name,
                    ", ".join(project.ignored))
    keep_freed_memory()  # a front copies big bodies and messages too (malloc.py)
    if args.front is not None:
        from .fronts import FrontRole

        index, _, count = args.front.partition("/")
        role = FrontRole(int(index), int(count), args.front_dir)
        role.shape(settings)
        sys.exit(run_event_loop(_serve(settings, role, args.front_fd)))
    if settings.fronts > 1:
        serve_argv = list(sys.argv[1:] if argv is None else argv)
        sys.exit(run_event_loop(_serve_many(settings, serve_argv)))
    sys.exit(run_event_loop(_serve(settings, watch=args.command == "dev")))


def _dev_settings(settings: Settings, args: argparse.Namespace) -> None:
    """``dev``: one front (the watcher reloads it), one worker per script and a short
    shutdown grace unless given."""
    if (args.fronts or 1) > 1:
        fail("dev runs one front: drop --fronts")
    settings.fronts = 1
    if args.workers is None:
        for spec in settings.scripts.values():
            spec.workers = min(spec.workers, 1) if spec.workers else spec.workers
    if args.shutdown_grace is None:
        settings.shutdown_grace = DEV_SHUTDOWN_GRACE


# Service-wide flags, given with a script or with --config (they override the file); `dev`
# has only some of them.
_SERVICE_FLAGS = ("fronts", "relay", "relay_mode")


def _apply_service_flags(settings: Settings, args: argparse.Namespace) -> None:
    for name in _SERVICE_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)


def _serve_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Settings:
    if (args.script is None) == (args.config is None):
        parser.error("serve needs a script or --config FILE (not both)")
    if args.config is not None:
        extra = [f"--{name.replace('_', '-')}" for name in SCRIPT_OPTIONS
                 if getattr(args, name) is not None]
        if extra:
            parser.error(f"with --config, set {', '.join(extra)} in the config file")
        try:
            if getattr(args, "pinned_config", None) is not None:
                # A front: the config the main process last accepted, read as if it were
                # the file (its relative paths are the file's), not the file as it is now.
                settings = config_file.parse(args.pinned_config.read_text(), args.config).settings
            else:
                settings = config_file.load(args.config).settings
        except config_file.ConfigError as e:
            print(e, file=sys.stderr)
            fail(f"{args.config}: {len(e.problems)} problem(s); not starting")
        if args.log_level:
            settings.log_level = args.log_level.upper()
        if args.pid_file:
            settings.pid_file = args.pid_file.resolve()
        _apply_service_flags(settings, args)
        problems = settings.validate()
        if problems:
            for problem in problems:
                print(f"isoflow: {problem}", file=sys.stderr)
            sys.exit(2)
        return settings
    try:
        found = wrangler.find(args.script)
        project = wrangler.load(found) if found is not None else None
    except wrangler.WranglerError as e:
        fail(str(e))
    args.wrangler = project
    script = project.main if project is not None else args.script.resolve()
    defaults = Limits()
    cpu_default = defaults.cpu_time
    if project is not None and project.cpu_ms is not None:
        cpu_default = project.cpu_ms / 1000
    limits = Limits(
        cpu_time=args.cpu_limit or cpu_default,
        memory=(args.memory_limit << 20) if args.memory_limit else defaults.memory,
        wall_time=args.wall_time or defaults.wall_time,
        max_body_size=defaults.max_body_size if args.max_body_size is None
        else args.max_body_size,
        max_subrequests=defaults.max_subrequests if args.max_subrequests is None
        else args.max_subrequests,
        wall_time_after_response=args.wall_time_after_response
        or defaults.wall_time_after_response,
        max_runtime_failures=args.max_runtime_failures or defaults.max_runtime_failures,
    )
    host, port = "127.0.0.1", 8080
    env: dict[str, str] = {}
    crons: list[str] = []
    flags: list[str] = []
    if project is not None:  # the wrangler file's, then the command line's on top
        host, port = project.host or host, project.port or wrangler.DEV_PORT
        env, crons, flags = dict(project.vars), list(project.crons), project.compatibility_flags
    env.update(args.var or [])
    settings = Settings.single_script(
        script, host=args.host or host, port=args.port or port,
        workers=args.workers or default_workers(), env=env, limits=limits,
        log_level=(args.log_level or "INFO").upper(), log_format=args.log_format or "text",
        metrics=args.metrics,
        pid_file=args.pid_file.resolve() if args.pid_file else None,
        crons=crons + (args.cron or []),
        compatibility_flags=list(dict.fromkeys(flags + (args.compat_flag or []))),
    )
    spec = settings.scripts["default"]
    if project is not None:
        spec.secrets = dict(project.secrets)
        spec.root = project.root
    allowed = set(args.allow_fetch_to or ())
    spec.allow_private = "private" in allowed
    spec.allow_loopback = "loopback" in allowed
    if args.shutdown_grace is not None:
        settings.shutdown_grace = args.shutdown_grace
    if args.retry_idempotent is not None:
        settings.retry_idempotent = args.retry_idempotent
    _apply_service_flags(settings, args)
    problems = settings.validate()
    if not script.is_file():
        problems.insert(0, f"{args.script}: no such file")
    if problems:
        for problem in problems:
            print(f"isoflow: {problem}", file=sys.stderr)
        sys.exit(2)
    return settings


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if (args.script is None) == (args.config is None):
        parser.error("check needs a script or --config FILE (not both)")
    if args.script is not None:
        from isoflow.isolate_worker.worker import check

        try:
            found = wrangler.find(args.script)
            project = wrangler.load(found) if found is not None else None
        except wrangler.WranglerError as e:
            print(f"isoflow: {e}", file=sys.stderr)
            return 2
        flags = tuple(args.compat_flag or ())
        if project is None:
            error = check(args.script, compat_flags=flags)
        else:
            limit = {} if project.cpu_ms is None else {"cpu_limit": project.cpu_ms / 1000}
            error = check(project.main, root=project.root,
                          compat_flags=tuple(project.compatibility_flags) + flags, **limit)
        if error is not None:
            print(f"isoflow: {error}", file=sys.stderr)
            return 2
        print(f"{args.script}: ok")
        return 0
    try:
        cfg = config_file.load(args.config)
    except config_file.ConfigError as e:
        print(e)
        print(f"{args.config}: {len(e.problems)} problem(s)", file=sys.stderr)
        return 2
    problems = asyncio.run(config_file.check_scripts(cfg))
    if problems:
        for problem in problems:
            print(problem.format(args.config))
        print(f"{args.config}: {len(problems)} problem(s)", file=sys.stderr)
        return 2
    s = cfg.settings
    print(f"{args.config}: ok ({len(s.scripts)} scripts, {len(s.routes)} routes, "
          f"{len(s.listeners)} listeners)")
    return 0


def _reload(args: argparse.Namespace) -> int:
    path = args.pid_file
    if args.config is not None:
        try:
            cfg = config_file.load(args.config)
        except config_file.ConfigError as e:
            print(e)
            print(f"isoflow: {args.config} has {len(e.problems)} problem(s); not reloading",
                  file=sys.stderr)
            return 2
        problems = asyncio.run(config_file.check_scripts(cfg))
        if problems:
            for problem in problems:
                print(problem.format(args.config))
            print("isoflow: a script does not load; not reloading", file=sys.stderr)
            return 2
        path = path or pidfile.location(cfg.settings)
    if path is None:
        runtime = os.environ.get("RUNTIME_DIRECTORY")
        path = Path(runtime) / pidfile.NAME if runtime else None
    if path is None:
        print("isoflow: cannot find the supervisor: give --pid-file, or a --config whose "
              "[server] sets pid_file or runtime_dir", file=sys.stderr)
        return 2
    before = pidfile.read_status(path)
    try:
        pid = pidfile.read(path)
        os.kill(pid, signal.SIGHUP)
    except (LookupError, OSError) as e:
        print(f"isoflow: {e}", file=sys.stderr)
        return 1
    if before is None or args.timeout <= 0:
        print(f"isoflow: asked the supervisor (pid {pid}) to reload; its log says how it went")
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        status = pidfile.read_status(path)
        if status is not None and status.get("count", 0) > before.get("count", 0):
            print(f"isoflow: {status.get('message', '')}",
                  file=sys.stdout if status.get("ok") else sys.stderr)
            return 0 if status.get("ok") else 1
        time.sleep(0.1)
    print(f"isoflow: no outcome from the supervisor (pid {pid}) within {args.timeout:.0f} s",
          file=sys.stderr)
    return 1


async def _serve(settings: Settings, front: FrontRole | None = None,
                 ready_fd: int | None = None, watch: bool = False) -> int:
    from .server import serve

    return await serve(settings, front, ready_fd, watch)


async def _serve_many(settings: Settings, argv: list[str]) -> int:
    from .fronts import serve_many

    return await serve_many(settings, argv, settings.fronts)


# -- on a worker host: `isoflow keygen`, `isoflow worker` ----------------------------


def _keygen(args: argparse.Namespace) -> int:
    """``isoflow keygen NAME [--dir DIR]``: write a keypair, print the public key."""
    if not NAME.fullmatch(args.name):
        print(f"isoflow: a key name may only use A-Z a-z 0-9 . _ -, got {args.name!r}",
              file=sys.stderr)
        return 2
    try:
        public, secret = keygen(args.dir, args.name)
    except OSError as e:
        print(f"isoflow: {e}", file=sys.stderr)
        return 1
    print(f"public key: {public} ({load_public_key(public).decode()}): copy it to the other "
          f"side\nsecret key: {secret} (mode 0600): keep it on this host")
    return 0


def _worker(args: argparse.Namespace) -> int:
    """``isoflow worker``: one isolate worker of a script, dialing in to a supervisor.

    The script, its env and secrets, its limits and the windows come from the config file,
    read as a worker host reads it (that script's table and the defaults only). The process
    is not the supervisor's child: its host's service manager restarts it.
    """
    from isoflow.isolate_worker.bridge import BridgeConfig
    from isoflow.isolate_worker.link import RemoteOptions
    from isoflow.isolate_worker.worker import WorkerOptions, serve

    def refuse(message: str) -> int:
        print(f"isoflow: {message}", file=sys.stderr)
        return 2

    if not args.connect.startswith("tcp://"):
        return refuse(f"--connect must be tcp://HOST:PORT, got {args.connect!r}")
    name = args.name or socket.gethostname()
    if not NAME.fullmatch(name) or len(name) > 100:
        return refuse(f"--name may only use A-Z a-z 0-9 . _ - (at most 100), got {name!r}")
    try:
        settings = config_file.load(args.config, worker_script=args.script).settings
    except config_file.ConfigError as e:
        print(e, file=sys.stderr)
        return refuse(f"{args.config}: {len(e.problems)} problem(s); not starting")
    spec = settings.scripts[args.script]
    if not spec.remote:
        return refuse(f"scripts.{args.script}: remote is not true, so the supervisor would "
                    "refuse this worker")
    try:
        public, secret = load_keypair(args.key)
        server_key = load_public_key(args.server_key)
    except KeyFileError as e:
        return refuse(str(e))
    logsetup.configure(args.log_level or settings.log_level, settings.log_format)
    # The tag makes the id unguessable: another key's connection cannot take it over.
    identity = f"{args.script}@{name}.{secrets.token_hex(16)}"
    bridge = BridgeConfig(worker_id=identity, **settings.worker_options(args.script))
    remote = RemoteOptions(server_key, public, secret, settings.heartbeat_interval,
                           settings.heartbeat_timeout)
    options = WorkerOptions(args.connect, identity, spec.path, settings.cache_dir, bridge,
                            remote, settings.shutdown_grace, root=spec.root,
                            compat_flags=tuple(spec.compatibility_flags))
    logging.getLogger("isoflow.supervisor.remote").info(
        "isoflow worker %s@%s: serving %s for the supervisor at %s", args.script, name,
        spec.path, args.connect)
    return run_event_loop(serve(options))
