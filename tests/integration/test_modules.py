"""Module workers: local imports, node_modules packages, TypeScript, JSON, source maps."""

from __future__ import annotations

import json
import textwrap

from tests.conftest import fetch, free_port, run
from tests.integration.test_scheduled import post
from tests.integration.test_serving import serve_and_expect_failure

FILES = {
    "lib/math.ts": """
        // typed helpers
        export const square = (n: number): number => n * n;
        export function fail(message: string): never {
          throw new Error(message);
        }
    """,
    "lib/data.json": '{"greeting": "hi", "n": 3}',
    "node_modules/tiny-pkg/package.json": json.dumps({
        "name": "tiny-pkg",
        "exports": {".": {"import": "./esm/index.js", "require": "./cjs/index.js"},
                    "./extra": "./extra.js"},
    }),
    "node_modules/tiny-pkg/esm/index.js": "export default function shout(s) { return s.toUpperCase() + '!'; }\n",
    "node_modules/tiny-pkg/extra.js": "export const extra = 'extra-ok';\n",
    "node_modules/legacy/package.json": json.dumps({"name": "legacy", "main": "lib/main.js"}),
    "node_modules/legacy/lib/main.js": "module.exports = { legacy: () => 'cjs-ok' };\n",
}

WORKER = """
import { square, fail } from "./lib/math";
import data from "./lib/data.json";
import shout from "tiny-pkg";
import { extra } from "tiny-pkg/extra";
import * as legacy from "legacy";

interface Env { NAME?: string }

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/stack") {
      try {
        fail("deliberate");
      } catch (e) {
        return new Response((e as Error).stack ?? "");
      }
    }
    if (path === "/reject") {
      Promise.reject(new Error("forgotten"));
      return new Response("ok");
    }
    return Response.json({
      square: square(7),
      greeting: data.greeting,
      shout: shout("hey"),
      extra,
      legacy: legacy.legacy(),
      optional: (env as any).missing?.deep ?? "default",
      bigint: String(2n ** 64n),
      self: self === globalThis && typeof self.addEventListener === "function",
    });
  },
};
"""


def test_typescript_module_graph_with_packages(serve):
    server = serve(WORKER, workers=1, name="worker.ts", files=FILES)
    status, _, body = run(fetch(server.url("/")))
    assert status == 200, body
    assert json.loads(body) == {
        "square": 49, "greeting": "hi", "shout": "HEY!", "extra": "extra-ok",
        "legacy": "cjs-ok", "optional": "default", "bigint": "18446744073709551616",
        "self": True,
    }


def test_stack_traces_point_at_the_users_files_and_lines(serve):
    server = serve(WORKER, workers=1, name="worker.ts", files=FILES)
    stack = run(fetch(server.url("/stack")))[2].decode()
    lines = stack.splitlines()
    assert lines[0] == "Error: deliberate"
    assert lines[1].strip().startswith("at fail (") and lines[1].endswith("lib/math.ts:5:11)")
    assert "worker.ts:15:" in lines[2]
    # An unhandled rejection is logged with its request and a stack in the user's files.
    assert run(fetch(server.url("/reject"), headers={"X-Request-Id": "rej-1"}))[2] == b"ok"
    m = server.wait_log(r"Uncaught \(in promise, request rej-1\) Error: forgotten\n"
                        r".*worker\.ts:(\d+):")[0]
    source_lines = textwrap.dedent(WORKER).splitlines()
    assert int(m.group(1)) == 1 + next(
        i for i, line in enumerate(source_lines) if "Promise.reject(" in line)


def test_a_missing_import_is_a_clear_start_up_error(tmp_path):
    code, err = serve_and_expect_failure(
        tmp_path, 'import { x } from "./nope";\nexport default { fetch() { return new Response(x); } };\n',
        "main.mjs",
    )
    assert code != 0
    assert "main.mjs: cannot find module './nope'" in err


def test_a_missing_package_is_a_clear_start_up_error(tmp_path):
    code, err = serve_and_expect_failure(
        tmp_path, 'import p from "left-pad";\nexport default { fetch() { return new Response(p); } };\n',
        "main.mjs",
    )
    assert code != 0
    assert "cannot find package 'left-pad'" in err


def test_a_type_error_in_typescript_syntax_names_the_line(tmp_path):
    code, err = serve_and_expect_failure(
        tmp_path, "export default {\n  fetch(): Response {\n    return new Response(;\n  },\n};\n",
        "main.ts",
    )
    assert code != 0
    assert "main.ts:3" in err


def test_a_module_graph_with_top_level_await_is_served(serve):
    """The workers wait for the entry's top-level await (and its imports') before serving;
    a stack trace still points at the user's lines."""
    server = serve(
        "import { table } from './config.ts';\n"
        "const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,7,1,96,2,127,127,1,127,3,2,1,0,7,"
        "7,1,3,97,100,100,0,0,10,9,1,7,0,32,0,32,1,106,11]);\n"
        "const { instance } = await WebAssembly.instantiate(bytes);\n"
        "export default { fetch() {\n"
        "  return Response.json({ table, sum: instance.exports.add(40, 2),"
        " stack: new Error('here').stack.split('\\n')[1] });\n"
        "} };\n",
        workers=1, name="worker.mjs", files={
            "config.ts": "const rows: string[] = await Promise.all([Promise.resolve('a'), 'b']);\n"
                         "export const table = rows.join('');\n",
        })
    status, _, body = run(fetch(server.url("/")))
    assert status == 200, body
    answer = json.loads(body)
    assert answer["table"] == "ab" and answer["sum"] == 42
    assert "/worker.mjs:5:" in answer["stack"], answer["stack"]


def test_a_load_error_megabytes_long_stops_the_start_with_one_line(tmp_path):
    # Its FATAL frame was over the protocol's limit: the worker crashed into a restart loop.
    code, err = serve_and_expect_failure(
        tmp_path, "throw new Error('x'.repeat(2e6));\nexport default {};\n", "main.mjs")
    assert code != 0
    assert "main.mjs:1: Error: xxx" in err and "... (2,000,007 characters)" in err
    assert len(err) < 100_000


def test_a_class_entrypoint_from_cloudflare_workers_is_served(serve):
    """`export default class extends WorkerEntrypoint`: an instance per request with (ctx,
    env); cloudflare:workers also gives `env` and `waitUntil` (no compatibility flag)."""
    server = serve(
        """
        import { WorkerEntrypoint, DurableObject, env, waitUntil } from "cloudflare:workers";
        export class Counter extends DurableObject {}  // declared, never run
        let made = 0;
        let cron = null;
        export default class extends WorkerEntrypoint {
          constructor(ctx, env) { super(ctx, env); made++; }
          async fetch(request) {
            waitUntil(Promise.resolve());
            return Response.json({ own: this.env.NAME, imported: env.NAME, made, cron,
              ctx: typeof this.ctx.waitUntil, path: new URL(request.url).pathname });
          }
          scheduled(controller) {
            this.ctx.waitUntil(Promise.resolve());
            cron = `${controller.cron} ${this.env.NAME}`;
          }
        }
        """,
        "--var", "NAME=isoflow", "--metrics", str(metrics := free_port()), workers=1,
        name="entry.mjs")
    for made in (1, 2):
        status, _, body = run(fetch(server.url("/x")))
        assert status == 200, body
        assert json.loads(body) == {"own": "isoflow", "imported": "isoflow", "made": made,
                                    "cron": None, "ctx": "function", "path": "/x"}
    status, text = run(post(f"http://127.0.0.1:{metrics}/__scheduled?cron=0+*+*+*+*"))
    assert status == 200, text
    assert json.loads(run(fetch(server.url("/x")))[2])["cron"] == "0 * * * * isoflow"
