"""``python -m isoflow.isolate_worker``: one isolate worker process (started by the supervisor).

    python -m isoflow.isolate_worker --connect ipc:///run/isoflow/w.sock --id w1 --script app.js
    python -m isoflow.isolate_worker --check app.js       # load it once, report, exit
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .bridge import BridgeConfig
from .eventloop import run as run_event_loop
from .worker import WorkerOptions, check, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="isoflow-worker")
    parser.add_argument("--connect", help="the supervisor's ZeroMQ endpoint")
    parser.add_argument("--id", default="w0", help="this worker's identity")
    parser.add_argument("--script", type=Path, help="the worker script")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--options", default="{}",
                        help="BridgeConfig fields as JSON, or '-' to read them from stdin "
                             "(the supervisor does: they may hold secrets, and a command "
                             "line is visible to every user of the host)")
    parser.add_argument("--check", type=Path, metavar="SCRIPT",
                        help="load SCRIPT once and report whether it can be served")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s %(levelname)s worker {args.id}: %(message)s",
        stream=sys.stderr,
    )
    if args.check is not None:
        error = check(args.check, args.cache_dir)
        if error is not None:
            print(error, file=sys.stderr)
            return 2
        return 0
    if args.connect is None or args.script is None:
        parser.error("--connect and --script are required")
    if args.options == "-":
        args.options = sys.stdin.read() or "{}"
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    try:
        fields = json.loads(args.options)
        config = BridgeConfig(worker_id=args.id, **fields)
    except (ValueError, TypeError) as e:
        parser.error(f"invalid --options: {e}")
    options = WorkerOptions(args.connect, args.id, args.script, args.cache_dir, config)
    return run_event_loop(serve(options))


if __name__ == "__main__":
    sys.exit(main())
