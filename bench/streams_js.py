"""Pure-JS WHATWG streams throughput inside one isoflow isolate, compared with Node.

    python bench/streams_js.py [--megabytes 100] [--chunk 65536] [--min-ms 500] [--no-node]

Runs bench/streams_js.js (only Web APIs) in a fresh isolate with the whole runtime loaded,
and the same file under /usr/bin/node (its built-in web streams) in the same run, then
prints MB/s for each case, for both engines, and isoflow/Node as a ratio (1.0 = as fast as
Node; the target is >= 0.5 on every case). Each case repeats its run until --min-ms have
passed and reports the aggregate rate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from isoflow.isolate_worker.runtime import load_runtime
from isoflow.isolate_worker.v8 import V8Context

HERE = Path(__file__).parent
WORKLOAD = (HERE / "streams_js.js").read_text(encoding="utf-8")


def run_isoflow(params: dict, timeout: float) -> dict:
    v8 = V8Context()
    try:
        load_runtime(v8.eval)
        v8.eval(WORKLOAD + "\n//# sourceURL=streams_js.js")
        v8.eval(
            "globalThis.now = () => Date.now(); globalThis.__result = null;"
            f"streamsBench({json.dumps(params)}).then("
            "  (r) => { __result = JSON.stringify(r); },"
            "  (e) => { __result = JSON.stringify({ error: String(e && e.stack || e) }); }); 0"
        )
        deadline = time.monotonic() + timeout
        while True:
            result = v8.eval("__result")
            if result:
                return json.loads(result)
            if time.monotonic() > deadline:
                raise TimeoutError("the isoflow run did not finish")
            time.sleep(0.01)
    finally:
        v8.close()


def run_node(params: dict, timeout: float) -> dict | None:
    node = shutil.which("node") or "/usr/bin/node"
    if not Path(node).exists():
        return None
    with tempfile.TemporaryDirectory(prefix="isoflow-bench-") as tmp:
        script = Path(tmp) / "streams_js.mjs"
        script.write_text(
            WORKLOAD
            + "\nconst { performance } = await import('node:perf_hooks');"
            + "\nglobalThis.now = () => performance.now();"
            + f"\nconsole.log(JSON.stringify(await streamsBench({json.dumps(params)})));\n",
            encoding="utf-8",
        )
        out = subprocess.run(
            [node, str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megabytes", type=float, default=100)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--min-ms", type=float, default=500, help="time each case at least this long")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--no-node", action="store_true")
    args = ap.parse_args()
    params = {
        "totalBytes": int(args.megabytes * 1024 * 1024),
        "chunkSize": args.chunk,
        "minMs": args.min_ms,
    }
    iso = run_isoflow(params, args.timeout)
    if "error" in iso:
        raise SystemExit(f"isoflow failed: {iso['error']}")
    node = None if args.no_node else run_node(params, args.timeout)
    print(
        f"{args.megabytes:g} MiB per run in {args.chunk} B chunks,"
        f" each case timed >= {args.min_ms:g} ms"
    )
    print(f"{'case':<12}{'isoflow MB/s':>14}{'node MB/s':>12}{'ratio':>8}")
    for name, r in iso.items():
        n = node.get(name) if node else None
        node_rate = f"{n['mbPerS']:.0f}" if n else "-"
        ratio = f"{r['mbPerS'] / n['mbPerS']:.2f}" if n else "-"
        print(f"{name:<12}{r['mbPerS']:>14.0f}{node_rate:>12}{ratio:>8}")


if __name__ == "__main__":
    main()
