"""node: built-ins under ``compatibility_flags = ["nodejs_compat"]``, in a real isolate with
the whole runtime (in-process: the worker's bridge on an event loop of the test's own)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from isoflow.isolate_worker import script
from isoflow.isolate_worker.bridge import Bridge, BridgeConfig
from tests.conftest import write_files

NODEJS = ("nodejs_compat",)


def run_project(root: Path, files: dict[str, str], flags=NODEJS, env=None) -> object:
    """Write ``files`` under ``root``, load ``src/index.ts`` and return ``JSON`` of the
    ``globalThis.__result`` its top level (and microtasks) set."""
    write_files(root, files)

    async def scenario() -> str:
        loop = asyncio.get_running_loop()
        bridge = Bridge(loop, lambda action, data: None, lambda failure: None,
                        BridgeConfig(env=env or {}))
        try:
            script.load(bridge.eval, root / "src/index.ts", compat_flags=flags)
            await asyncio.sleep(0)
            return bridge.eval("JSON.stringify(globalThis.__result)")
        finally:
            bridge.close()

    return json.loads(asyncio.run(scenario()))


def load_error(root: Path, files: dict[str, str], flags=NODEJS) -> str:
    with pytest.raises(script.ScriptError) as info:
        run_project(root, files, flags)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_buffer(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": """
        import { Buffer } from 'node:buffer';
        import { Buffer as Bare } from 'buffer';
        const b = Buffer.from('héllo wörld', 'utf8');
        const w = Buffer.alloc(8);
        w.writeUInt16BE(0x1234, 0); w.writeUInt32LE(0xdeadbeef, 2);
        const s = b.subarray(0, 5); s[0] = 72;  // shares b's memory, as slice() does
        globalThis.__result = {
          same: Bare === Buffer, isU8: b instanceof Uint8Array, isBuffer: Buffer.isBuffer(b),
          utf8: b.toString(), hex: b.toString('hex'), base64: b.toString('base64'),
          base64url: Buffer.from([251, 255, 191]).toString('base64url'),
          fromB64: Buffer.from('aGk/Pw', 'base64url').toString(),
          latin1: Buffer.from('ÿé', 'latin1').toString('hex'),
          byteLength: [Buffer.byteLength('héllo'), Buffer.byteLength('aGk=', 'base64')],
          concat: Buffer.concat([Buffer.from('ab'), Buffer.from([99])]).toString(),
          compare: [Buffer.compare(Buffer.from('a'), Buffer.from('b')),
                    Buffer.from('x').equals(Buffer.from('x'))],
          shared: b.toString('utf8', 0, 2), sliceIsBuffer: Buffer.isBuffer(b.slice(1)),
          ints: [w.readUInt16BE(0), w.readUInt32LE(2), w.readUInt8(2), w.toString('hex')],
          alloc: Buffer.alloc(4, 'ab').toString(), json: JSON.stringify(Buffer.from('hi')),
          range: (() => { try { w.readUInt32BE(6); } catch (e) { return e.code; } })(),
          wide: (() => { const v = Buffer.alloc(6); v.writeUIntBE(0x123456789a, 0, 5);
                         v.writeIntLE(-2, 5, 1);
                         return [v.readUIntBE(0, 5), v.readUIntLE(0, 3), v.readIntLE(5, 1),
                                 v.lastIndexOf(0x34), Buffer.from('abcabc').lastIndexOf('bc')]; })(),
        };
    """})
    text = "héllo wörld".encode()
    assert result == {
        "same": True, "isU8": True, "isBuffer": True, "utf8": "Héllo wörld",
        "hex": (b"H" + text[1:]).hex(), "base64": base64.b64encode(b"H" + text[1:]).decode(),
        "base64url": "-_-_", "fromB64": "hi??", "latin1": "ffe9", "byteLength": [6, 2],
        "concat": "abc", "compare": [-1, True], "shared": "H\ufffd", "sliceIsBuffer": True,
        "ints": [0x1234, 0xdeadbeef, 0xef, "1234efbeadde0000"], "alloc": "abab",
        "json": '{"type":"Buffer","data":[104,105]}', "range": "ERR_OUT_OF_RANGE",
        "wide": [0x123456789a, 0x563412, -2, 1, 4],
    }


def test_events(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": """
        import EventEmitter, { once } from 'node:events';
        const events = require('events');
        class Bus extends EventEmitter {}
        const bus = new Bus();
        const seen: string[] = [];
        bus.on('x', (v) => seen.push('on:' + v));
        bus.prependListener('x', (v) => seen.push('first:' + v));
        bus.once('x', (v) => seen.push('once:' + v));
        bus.emit('x', 1); bus.emit('x', 2);
        const off = (v) => seen.push('off:' + v);
        bus.on('y', off); bus.off('y', off);
        const noListener = bus.emit('y', 3);
        let thrown = '';
        try { bus.emit('error', new Error('boom')); } catch (e) { thrown = e.message; }
        bus.on('error', (e) => seen.push('handled:' + e.message));
        bus.emit('error', new Error('ok'));
        const counts = [bus.listenerCount('x'), bus.eventNames().length];
        bus.removeAllListeners();
        once(bus, 'z').then((args) => { globalThis.__result.once = args; });
        bus.emit('z', 'a', 'b');
        globalThis.__result = { seen, noListener, thrown, counts, after: bus.listenerCount('x'),
          sameClass: events === EventEmitter && events.EventEmitter === EventEmitter };
    """})
    assert result == {
        "seen": ["first:1", "on:1", "once:1", "first:2", "on:2", "handled:ok"],
        "noListener": False, "thrown": "boom", "counts": [2, 2], "after": 0,
        "sameClass": True, "once": ["a", "b"],
    }


def test_crypto_hashes_hmac_and_random(tmp_path):
    data = "the quick brown fox " * 20  # several blocks
    result = run_project(tmp_path, {"src/index.ts": f"""
        import {{ createHash, createHmac, timingSafeEqual, randomBytes, randomUUID }}
          from 'node:crypto';
        import {{ Buffer }} from 'node:buffer';
        const algorithms = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
        const data = {json.dumps(data)};
        globalThis.__result = {{
          hashes: algorithms.map((a) => createHash(a).update(data.slice(0, 7))
                                                    .update(data.slice(7)).digest('hex')),
          empty: createHash('sha256').digest('base64'),
          hmacs: algorithms.map((a) => createHmac(a, 'k'.repeat(200)).update(data).digest('hex')),
          buffer: createHash('sha1').update(Buffer.from([1, 2, 3])).digest().length,
          safe: [timingSafeEqual(Buffer.from('ab'), Buffer.from('ab')),
                 timingSafeEqual(Buffer.from('ab'), Buffer.from('ac'))],
          unequal: (() => {{ try {{ timingSafeEqual(Buffer.from('a'), Buffer.from('ab')); }}
                             catch (e) {{ return e.code; }} }})(),
          random: [randomBytes(40).length, randomBytes(8).equals(randomBytes(8))],
          uuid: /^[0-9a-f-]{{36}}$/.test(randomUUID()),
          bad: (() => {{ try {{ createHash('whirlpool'); }} catch (e) {{ return e.code; }} }})(),
          copied: (() => {{ const h = createHash('sha256').update('ab');
                            const c = h.copy().update('c');
                            return [h.digest('hex'), c.digest('hex')]; }})(),
          twice: (() => {{ const h = createHmac('sha256', 'k'); h.digest();
                           try {{ h.update('x'); }} catch (e) {{ return e.code; }} }})(),
        }};
    """})
    algorithms = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
    assert result["hashes"] == [hashlib.new(a, data.encode()).hexdigest() for a in algorithms]
    assert result["copied"] == [hashlib.sha256(b"ab").hexdigest(), hashlib.sha256(b"abc").hexdigest()]
    assert result["twice"] == "ERR_CRYPTO_HASH_FINALIZED"
    assert result["hmacs"] == [hmac.new(b"k" * 200, data.encode(), a).hexdigest()
                               for a in algorithms]
    assert result["empty"] == base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert result["buffer"] == 20
    assert result["safe"] == [True, False]
    assert result["unequal"] == "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH"
    assert result["random"] == [40, False] and result["uuid"] is True
    assert result["bad"] == "ERR_CRYPTO_INVALID_DIGEST"


def test_util_path_and_process(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": """
        import util from 'node:util';
        import path from 'path';
        import process from 'node:process';
        import utilTypes from 'node:util/types';
        const { promisify, format, inspect, types } = require('util');
        const later = promisify((x, cb) => cb(null, x * 2));
        later(21).then((v) => { globalThis.__result.promisified = v; });
        process.nextTick((a) => { globalThis.__result.tick = a; }, 'ticked');
        function Base() {} function Child() {}
        util.inherits(Child, Base);
        globalThis.__result = {
          format: format('%s=%d %j %%', 'a', 42, { b: 1 }, 'extra'),
          inspect: inspect({ a: [1, 'x', { deep: { deeper: { deepest: 1 } } }], m: new Map([[1, 2]]) }),
          types: [types.isPromise(Promise.resolve()), types.isUint8Array(new Uint8Array()),
                  types.isDate(new Date()), types.isRegExp(/x/)],
          inherits: new Child() instanceof Base,
          encoder: new util.TextEncoder().encode('é').length,
          path: [path.join('/a/b', '../c', './d.js'), path.resolve('x', '/y', 'z'),
                 path.dirname('/a/b/c'), path.basename('/a/b.txt', '.txt'), path.extname('x.tar.gz'),
                 path.relative('/a/b/c', '/a/d'), path.normalize('a//b/../c/'), path.isAbsolute('/x')],
          env: [process.env.GREETING, process.env.TOKEN], platform: process.platform,
          version: process.version.startsWith('v'),
          utilTypes: [utilTypes === types, require('util/types').isDate(new Date())],
        };
    """}, env={"GREETING": "hello", "TOKEN": "t0k"})
    assert result == {
        "format": 'a=42 {"b":1} % extra',
        "inspect": "{ a: [ 1, 'x', { deep: [Object] } ], m: Map(1) { 1 => 2 } }",
        "types": [True, True, True, True], "inherits": True, "encoder": 2,
        "path": ["/a/c/d.js", "/y/z", "/a/b", "b", ".gz", "../../d", "a/c/", True],
        "env": ["hello", "t0k"], "platform": "linux", "version": True,
        "promisified": 42, "tick": "ticked", "utilTypes": [True, True],
    }


def test_without_the_flag_a_builtin_fails_naming_module_and_flag(tmp_path):
    message = load_error(tmp_path, {"src/index.ts": "import { Buffer } from 'node:buffer';\n"
                                    "globalThis.__result = Buffer;\n"}, flags=())
    assert message == (f"{tmp_path / 'src/index.ts'}: module 'node:buffer' is a Node built-in: "
                       'it needs the nodejs_compat flag: compatibility_flags = ["nodejs_compat"] '
                       "in the script's config, or --compat-flag nodejs_compat")
    message = load_error(tmp_path, {"src/index.ts": "import { EventEmitter } from 'events';\n"
                                    "new EventEmitter();\n"}, flags=())
    assert message.endswith("it is a Node built-in: it needs the nodejs_compat flag: "
                            'compatibility_flags = ["nodejs_compat"] in the script\'s config, '
                            "or --compat-flag nodejs_compat")
    message = load_error(tmp_path, {"src/index.ts": "import fs from 'node:fs';\nfs.x;\n"})
    assert message.startswith(f"{tmp_path / 'src/index.ts'}: module 'node:fs' is not provided "
                              "by isoflow's nodejs_compat (it has node:assert, node:assert/strict, "
                              "node:async_hooks, node:buffer")


def test_builtins_capture_the_original_globals(tmp_path):
    """The built-ins run before the script's first line: a script that patches a global
    first does not change how Buffer encodes."""
    result = run_project(tmp_path, {
        "src/patch.ts": "(TextEncoder.prototype as any).encode = () => new Uint8Array([0]);\n"
                        "(Uint8Array.prototype as any).toHex = () => 'patched';\n",
        "src/index.ts": "import './patch';\nimport { Buffer } from 'node:buffer';\n"
                        "globalThis.__result = Buffer.from('ab').toString('hex');\n",
    })
    assert result == "6162"


ALS_PROJECT = {
    "package.json": "{}",
    "node_modules/lib/index.js": """
        // a package keeping per-request state, as Hono's contextStorage() does
        const { AsyncLocalStorage } = require('node:async_hooks');
        const storage = new AsyncLocalStorage();
        exports.storage = storage;
        exports.current = () => storage.getStore();
        exports.later = async (ms) => { await new Promise((r) => setTimeout(r, ms)); return storage.getStore(); };
    """,
    "src/index.ts": """
        import { storage, current, later } from 'lib';
        const log: string[] = [];
        const tick = () => new Promise<void>((r) => queueMicrotask(r));
        async function handle(id: string, delay: number) {
          return storage.run({ id }, async () => {
            log.push(`start ${id}:${current()?.id}`);
            await tick();
            log.push(`after-await ${id}:${current()?.id}`);
            const fromTimer = await new Promise<string>((resolve) =>
              setTimeout(() => resolve(current()?.id), delay));
            log.push(`timer ${id}:${fromTimer}`);
            log.push(`package ${id}:${(await later(delay))?.id}`);
            const viaThen = await Promise.resolve().then(() => current()?.id);
            log.push(`then ${id}:${viaThen}`);
            return current()?.id;
          });
        }
        // two "requests" interleaved: each keeps its own store across every await
        Promise.all([handle('a', 20), handle('b', 5)]).then((ids) => {
          globalThis.__result = { ids, log, outside: current() === undefined };
        });
    """,
}


def test_async_local_storage_survives_await_timers_and_then(tmp_path):
    async def scenario() -> object:
        write_files(tmp_path, ALS_PROJECT)
        loop = asyncio.get_running_loop()
        bridge = Bridge(loop, lambda action, data: None, lambda failure: None, BridgeConfig())
        try:
            script.load(bridge.eval, tmp_path / "src/index.ts", compat_flags=NODEJS)
            for _ in range(200):  # the isolate's timers run on this loop
                await asyncio.sleep(0.01)
                result = bridge.eval("JSON.stringify(globalThis.__result)")
                if isinstance(result, str):
                    return json.loads(result)
            raise AssertionError("no result")
        finally:
            bridge.close()

    result = asyncio.run(scenario())
    assert result["ids"] == ["a", "b"] and result["outside"] is True
    for step in ("start", "after-await", "timer", "package", "then"):
        assert f"{step} a:a" in result["log"] and f"{step} b:b" in result["log"], result["log"]


def test_async_hooks_scheduler_wrappers_keep_the_globals_idl_shape(tmp_path):
    """node:async_hooks wraps setTimeout, setInterval and queueMicrotask to carry the store:
    the wrappers pass their arguments on as given (so a call with none still throws the
    runtime's TypeError), have the original's name and length, and leave each global's
    property attributes as they were: the runtime's regular operations of the global scope
    (writable, enumerable, configurable), or whatever the embedder gave it."""
    write_files(tmp_path, {"src/index.ts": """
        import { AsyncLocalStorage } from 'node:async_hooks';
        const shape = (name: string) => {
          const d = Object.getOwnPropertyDescriptor(globalThis, name)!;
          return [d.writable, d.enumerable, d.configurable, d.value.name, d.value.length];
        };
        const names = ['setTimeout', 'setInterval', 'queueMicrotask'];
        const shapes = names.map(shape);
        const throws = names.map((name) => {
          try { (globalThis as any)[name](); return 'no error'; }
          catch (e) { return (e as Error).constructor.name; }
        });
        const storage = new AsyncLocalStorage();
        const id = storage.run('store', () => setTimeout(() => {}, 0));
        globalThis.__result = { shapes, throws, id: typeof id,
                                wrapped: setTimeout.toString().includes('als.bind') };
    """})

    async def scenario() -> object:
        loop = asyncio.get_running_loop()
        bridge = Bridge(loop, lambda action, data: None, lambda failure: None, BridgeConfig())
        try:
            # an embedder's own attributes for one of them: kept by the wrapper
            bridge.eval("Object.defineProperty(globalThis, 'setInterval', "
                        "{ enumerable: false, writable: false }); 0")
            script.load(bridge.eval, tmp_path / "src/index.ts", compat_flags=NODEJS)
            await asyncio.sleep(0)
            return json.loads(bridge.eval("JSON.stringify(globalThis.__result)"))
        finally:
            bridge.close()

    result = asyncio.run(scenario())
    assert result["wrapped"] is True, "node:async_hooks did not wrap setTimeout"
    assert result["shapes"] == [[True, True, True, "setTimeout", 1],
                                [False, False, True, "setInterval", 1],
                                [True, True, True, "queueMicrotask", 1]]
    assert result["throws"] == ["TypeError", "TypeError", "TypeError"]
    assert result["id"] == "number"
