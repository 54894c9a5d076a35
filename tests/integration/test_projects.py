"""A Workers project as ``wrangler dev`` runs it, end to end: ``isoflow serve PROJECT_DIR``.

The project (written by the test): ``wrangler.toml`` with vars, crons, a CPU limit, the
nodejs_compat flag and keys isoflow does not honour; secrets in ``.dev.vars``; the entry
in ``src/index.ts`` with ``node_modules`` at the project root holding packages written the
way published ones are (CommonJS with ``exports``, a dual ESM/CJS package, ``export * as``).
The resolution and interop rules themselves are tested in-process (tests/test_bundler.py,
tests/test_node_compat.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from tests.conftest import IsoflowServer, fetch, run, write_files

PROJECT = {
    "wrangler.toml": """
        name = "demo"
        main = "src/index.ts"
        compatibility_date = "2025-01-01"
        compatibility_flags = ["nodejs_compat", "streams_enable_constructors"]

        [vars]
        GREETING = "hello"
        API_KEY = "overridden by .dev.vars"

        [triggers]
        crons = ["*/7 * * * *"]

        [limits]
        cpu_ms = 5000

        [[kv_namespaces]]
        binding = "CACHE"
        id = "abc"
    """,
    ".dev.vars": "# secrets for wrangler dev\nAPI_KEY=\"s3cret\"\n",
    "package.json": json.dumps({"name": "demo", "private": True, "type": "module"}),
    # CommonJS, with conditional exports, as many published packages are
    "node_modules/cjs-lib/package.json": json.dumps({
        "name": "cjs-lib", "exports": {".": {"require": "./lib/index.js",
                                             "default": "./lib/index.js"}}}),
    "node_modules/cjs-lib/lib/index.js": """
        'use strict';
        const { EventEmitter } = require('events');
        const util = require('./util');
        class Counter extends EventEmitter {
          constructor() { super(); this.n = 0; }
          bump() { this.n++; this.emit('bump', this.n); return this; }
        }
        module.exports = { Counter, shout: util.shout };
    """,
    "node_modules/cjs-lib/lib/util.js": "exports.shout = (s) => s.toUpperCase() + '!';\n",
    # dual package: ESM for import, CJS for require
    "node_modules/dual/package.json": json.dumps({"name": "dual", "exports": {
        ".": {"import": "./esm/index.mjs", "require": "./cjs/index.cjs"}}}),
    "node_modules/dual/esm/index.mjs": "export * as shapes from './shapes.mjs';\n"
                                       "export const flavour = 'esm';\n",
    "node_modules/dual/esm/shapes.mjs": "export const square = (x) => x * x;\n",
    "node_modules/dual/cjs/index.cjs": "exports.flavour = 'cjs';\n",
    "src/index.ts": """
        import { Buffer } from 'node:buffer';
        import { createHash } from 'node:crypto';
        import process from 'node:process';
        import { AsyncLocalStorage } from 'node:async_hooks';
        import { shapes, flavour } from 'dual';
        const { Counter, shout } = require('cjs-lib');

        interface Env { GREETING: string; API_KEY: string }
        const storage = new AsyncLocalStorage<{ id: string }>();
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        async function whoAmI(ms: number) {
          await sleep(ms);
          return storage.getStore()?.id;
        }
        export default {
          async fetch(request: Request, env: Env): Promise<Response> {
            const url = new URL(request.url);
            if (url.pathname === '/als') {
              const id = url.searchParams.get('id')!;
              return storage.run({ id }, async () => {
                const seen = [await whoAmI(Number(url.searchParams.get('ms')))];
                seen.push(await Promise.resolve().then(() => storage.getStore()?.id));
                return Response.json(seen);
              });
            }
            if (url.pathname === '/enter') {
              storage.enterWith({ id: 'entered' });
              await sleep(1);
              return new Response(storage.getStore()?.id);
            }
            if (url.pathname === '/peek') return new Response(String(storage.getStore()));
            const seen: number[] = [];
            const counter = new Counter();
            counter.on('bump', (n: number) => seen.push(n));
            counter.bump().bump();
            return Response.json({
              greeting: shout(env.GREETING), secret: env.API_KEY === 's3cret',
              processEnv: process.env.GREETING, seen, flavour, square: shapes.square(7),
              b64: Buffer.from('isoflow').toString('base64'),
              sha256: createHash('sha256').update('isoflow').digest('hex'),
            });
          },
          async scheduled() {},
        };
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("project")
    write_files(root, PROJECT)
    server = IsoflowServer(root, root / "isoflow.log", workers=1).start()
    yield server, root
    server.stop()


def test_a_wrangler_project_runs_unchanged(project):
    server, _ = project
    status, _, body = run(fetch(server.url("/")))
    assert status == 200, body
    assert json.loads(body) == {
        "greeting": "HELLO!", "secret": True, "processEnv": "hello", "seen": [1, 2],
        "flavour": "esm", "square": 49, "b64": "aXNvZmxvdw==",
        "sha256": hashlib.sha256(b"isoflow").hexdigest(),
    }


def test_async_local_storage_keeps_each_request_s_store(project):
    server, _ = project

    async def concurrent() -> list[bytes]:
        slow = fetch(server.url("/als?id=slow&ms=60"))
        fast = fetch(server.url("/als?id=fast&ms=5"))
        return [r[2] for r in await asyncio.gather(slow, fast)]

    assert run(concurrent()) == [b'["slow","slow"]', b'["fast","fast"]']
    assert run(fetch(server.url("/enter")))[2] == b"entered"
    assert run(fetch(server.url("/peek")))[2] == b"undefined"  # not the other request's


def test_crons_and_keys_not_honoured_are_reported_once(project):
    _, root = project
    log = (root / "isoflow.log").read_text()
    assert "scheduled event '*/7 * * * *' of default: next at" in log
    lines = [line for line in log.splitlines() if "not honoured by isoflow" in line]
    assert len(lines) == 1, log
    assert lines[0].endswith("wrangler.toml: not honoured by isoflow: compatibility_flags "
                             "'streams_enable_constructors', kv_namespaces")
    assert "s3cret" not in log
