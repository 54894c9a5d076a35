"""The ``isoflow`` command: ``serve`` a worker script, ``check`` that it loads."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from isoflow.isolate_worker.eventloop import run as run_event_loop

from .settings import Settings, default_workers


def _parse_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isoflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve a worker script over HTTP")
    serve.add_argument("script", type=Path, help="the worker script (.js, .mjs, .ts)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (8080)")
    serve.add_argument("--workers", type=int, default=default_workers(),
                       help="isolate worker processes (one per core)")
    serve.add_argument("--var", action="append", type=_parse_var, default=[],
                       metavar="NAME=VALUE", help="an env binding for the script (repeatable)")
    serve.add_argument("--wall-time", type=float, default=30.0,
                       help="seconds a request may wait for its response head (30)")
    serve.add_argument("--cpu-limit", type=float, default=30.0,
                       help="seconds of uninterrupted JavaScript before the isolate is reset")
    serve.add_argument("--memory-limit", type=int, default=512,
                       help="V8 heap limit per isolate, in MiB (512)")
    serve.add_argument("--log-level", default="INFO")

    check = sub.add_parser("check", help="check that a worker script loads")
    check.add_argument("script", type=Path)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "check":
        from isoflow.isolate_worker.worker import check

        error = check(args.script)
        if error is not None:
            print(f"isoflow: {error}", file=sys.stderr)
            sys.exit(2)
        print(f"{args.script}: ok")
        return
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings(
        script=args.script.resolve(), host=args.host, port=args.port, workers=args.workers,
        env=dict(args.var), wall_time=args.wall_time, cpu_limit=args.cpu_limit,
        memory_limit=args.memory_limit << 20, log_level=args.log_level,
    )
    problems = settings.validate()
    if problems:
        for problem in problems:
            print(f"isoflow: {problem}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_event_loop(_serve(settings)))


async def _serve(settings: Settings) -> int:
    from .server import serve

    return await serve(settings)
