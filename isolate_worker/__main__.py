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
from .malloc import keep_freed_memory
from .parent import die_with_parent
from .worker import WorkerOptions, check, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="isoflow-worker")
    parser.add_argument("--connect", help="the supervisor's ZeroMQ endpoint")
    parser.add_argument("--id", default="w0", help="this worker's identity")
    parser.add_argument("--script", type=Path, help="the worker script")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--root", type=Path, default=None,
                        help="the project root the script's imports are confined to")
    parser.add_argument("--compat-flag", action="append", default=[], dest="compat_flags",
                        help="a compatibility flag of the script (nodejs_compat)")
    parser.add_argument("--options", default="{}",
                        help="BridgeConfig fields as JSON, or '-' to read them from stdin "
                             "(the supervisor does: they may hold secrets, and a command "
                             "line is visible to every user of the host)")
    parser.add_argument("--check", type=Path, metavar="SCRIPT",
                        help="load SCRIPT once and report whether it can be served")
    parser.add_argument("--cpu-limit", type=float, default=None,
                        help="with --check: CPU seconds its top level may use (the script's "
                             "cpu_time)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--handover", default=None,
                        help="the supervisor's hand-over socket (the splice relay)")
    parser.add_argument("--snapshot", type=Path, default=None,
                        help="the pool's pinned copy of the script: evaluated if it exists, "
                             "else written by the first worker that loads the script")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="exit as soon as this process (the supervisor) dies")
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        die_with_parent(args.parent_pid)
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s %(levelname)s worker {args.id}: %(message)s",
        stream=sys.stderr,
    )
    if args.check is not None:
        limit = {} if args.cpu_limit is None else {"cpu_limit": args.cpu_limit}
        error = check(args.check, args.cache_dir, args.root, tuple(args.compat_flags), **limit)
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
    keep_freed_memory()
    options = WorkerOptions(args.connect, args.id, args.script, args.cache_dir, config,
                            root=args.root, compat_flags=tuple(args.compat_flags),
                            handover=args.handover, snapshot=args.snapshot)
    return run_event_loop(serve(options))


if __name__ == "__main__":
    sys.exit(main())
