"""Prototype pollution by one request does not break the runtime for the next ones.

``/pollute`` replaces dozens of built-in methods the runtime itself could have used
(Array, Promise, Object, JSON, typed arrays, strings, Map/Set, Function.prototype.call/apply,
Reflect, Atomics, TextEncoder/TextDecoder ...) with functions that throw, and adds throwing
setters on Object.prototype for common property names. The runtime captured its built-ins
before any script ran (``js/00_primordials.js``), so requests afterwards - streamed bodies,
uploads, JSON, headers, fetch refusals, crypto, timers - still work, including ones in
flight while the pollution happens. (The script's own code must avoid what it broke: a
browser would not protect a page from itself either.)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import textwrap
from collections.abc import Iterator

import aiohttp
import pytest

from tests.conftest import IsoflowServer, fetch, run

SCRIPT = r"""
const boom = function polluted() { throw new Error("polluted built-in called"); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let polluted = 0;

function pollute() {
  const targets = [
    [Array.prototype, ["push", "pop", "shift", "unshift", "slice", "splice", "map", "forEach",
                       "filter", "join", "indexOf", "includes", "concat", "at", "reduce",
                       "some", "every", "find", "sort", "reverse", "fill", "keys", "values",
                       "entries"]],
    [Array, ["from", "isArray", "of"]],
    [Promise.prototype, ["catch", "finally"]],
    [Promise, ["resolve", "reject", "all", "race", "allSettled", "any", "withResolvers"]],
    [Object, ["keys", "values", "entries", "assign", "defineProperty", "defineProperties",
              "freeze", "create", "getPrototypeOf", "setPrototypeOf", "getOwnPropertyNames",
              "getOwnPropertyDescriptor", "hasOwn", "is", "fromEntries"]],
    [Object.prototype, ["hasOwnProperty", "toString", "valueOf", "isPrototypeOf"]],
    [JSON, ["parse", "stringify"]],
    [Uint8Array.prototype, ["set", "subarray", "slice", "fill", "indexOf"]],
    [ArrayBuffer.prototype, ["slice", "resize"]],
    [DataView.prototype, ["getUint8", "setUint8", "getUint32", "setUint32"]],
    [String.prototype, ["toLowerCase", "toUpperCase", "split", "indexOf", "slice", "replace",
                        "charCodeAt", "codePointAt", "trim", "startsWith", "endsWith",
                        "includes", "padStart", "substring", "at", "normalize"]],
    [String, ["fromCharCode", "fromCodePoint"]],
    [Map.prototype, ["get", "set", "has", "delete", "forEach"]],
    [Set.prototype, ["add", "has", "delete", "forEach"]],
    [WeakMap.prototype, ["get", "set", "has", "delete"]],
    [Function.prototype, ["call", "apply", "bind"]],
    [Reflect, ["apply", "construct", "ownKeys", "get", "set", "defineProperty", "has"]],
    [Math, ["min", "max", "floor", "ceil", "random"]],
    [Number, ["isInteger", "isSafeInteger", "isNaN", "parseInt"]],
    [Atomics, ["add", "load", "store", "waitAsync", "notify", "sub"]],
    [TextEncoder.prototype, ["encode", "encodeInto"]],
    [TextDecoder.prototype, ["decode"]],
    [Symbol, ["for"]],
    [Error, ["captureStackTrace"]],
  ];
  const define = Object.defineProperty;
  const setters = ["value", "done", "status", "headers", "body", "type", "length", "id",
                   "size", "signal", "method", "url"];
  // Indexed loops: what this function breaks, it must not use itself.
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i][0], names = targets[i][1];
    for (let j = 0; j < names.length; j++) {
      try { target[names[j]] = boom; } catch {}
    }
  }
  for (let i = 0; i < setters.length; i++) {
    try {
      define(Object.prototype, setters[i], { set: boom, get: undefined, configurable: true });
    } catch {}
  }
  polluted = 1;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/pollute") { pollute(); return new Response("polluted"); }
    if (path === "/hello") return new Response("hello " + polluted);
    if (path === "/gen") {
      let k = 0;
      const chunk = new Uint8Array(65536);
      return new Response(new ReadableStream({
        async pull(c) {
          if (k === 32) { c.close(); return; }
          k++;
          await sleep(2);
          c.enqueue(new Uint8Array(65536));
        },
      }));
    }
    if (path === "/echo") return new Response(request.body);
    if (path === "/tee") {
      const [a, b] = request.body.tee();
      b.cancel();
      return new Response(a.pipeThrough(new TransformStream()));
    }
    if (path === "/json") return Response.json({ a: [1, 2, { b: "c" }] });
    if (path === "/text") return new Response((await request.text()) + "!");
    if (path === "/headers") {
      const out = new Headers();
      for (const [k, v] of request.headers) if (k[0] === "x" && k[1] === "-") out.append(k, v);
      out.set("x-count", String(polluted));
      return new Response(null, { status: 204, headers: out });
    }
    if (path === "/fetch") {
      try { await fetch("http://127.0.0.1:1/"); return new Response("fetched?"); }
      catch (e) { return new Response(e.name); }
    }
    if (path === "/crypto") {
      const digest = await crypto.subtle.digest("SHA-256", new Uint8Array([1, 2, 3]));
      return new Response(digest);
    }
    if (path === "/timers") { await sleep(20); return new Response("slept"); }
    return new Response("not found", { status: 404 });
  },
};
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[IsoflowServer]:
    tmp = tmp_path_factory.mktemp("pollution")
    script = tmp / "pollute.mjs"
    script.write_text(textwrap.dedent(SCRIPT))
    srv = IsoflowServer(script, tmp / "log.txt", workers=1).start()
    yield srv
    srv.stop()


async def _checks(base: str) -> dict[str, object]:
    out: dict[str, object] = {}
    payload = bytes(range(256)) * 4096  # 1 MiB
    async with aiohttp.ClientSession() as s:
        async def body(method, path, **kw):
            async with s.request(method, base + path, **kw) as r:
                return r.status, r.headers, await r.read()

        results = await asyncio.gather(
            body("GET", "/hello"), body("GET", "/gen"), body("POST", "/echo", data=payload),
            body("POST", "/tee", data=payload), body("GET", "/json"),
            body("POST", "/text", data="héllo".encode()),
            body("GET", "/headers", headers={"X-A": "1", "X-B": "2"}), body("GET", "/fetch"),
            body("GET", "/crypto"), body("GET", "/timers"),
        )
    (hello, gen, echo, tee, js, text, headers, fetch, crypto, timers) = results
    out["hello"] = hello[2]
    out["gen"] = (gen[0], len(gen[2]))
    out["echo"] = (echo[0], hashlib.sha256(echo[2]).hexdigest() ==
                   hashlib.sha256(payload).hexdigest())
    out["tee"] = (tee[0], tee[2] == payload)
    out["json"] = json.loads(js[2])
    out["text"] = text[2].decode()
    out["headers"] = (headers[0], headers[1].get("x-a"), headers[1].get("x-b"),
                      headers[1].get("x-count"))
    out["fetch"] = fetch[2]
    out["crypto"] = crypto[2]
    out["timers"] = timers[2]
    return out


def test_prototype_pollution_does_not_break_the_runtime(server):
    base = server.base
    before = run(_checks(base))

    async def pollute_while_streaming():
        streaming = asyncio.ensure_future(_checks(base))
        await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as s, s.get(base + "/pollute") as r:
            assert await r.read() == b"polluted"
        return await streaming

    during = run(pollute_while_streaming())
    after = run(_checks(base))
    assert before["hello"] == b"hello 0" and after["hello"] == b"hello 1"
    for result in (during, after):
        assert result["gen"] == (200, 32 * 65536)
        assert result["echo"] == (200, True)
        assert result["tee"] == (200, True)
        assert result["json"] == {"a": [1, 2, {"b": "c"}]}
        assert result["text"] == "héllo!"
        assert result["headers"][0] == 204 and result["headers"][1:3] == ("1", "2")
        assert result["fetch"] == b"TypeError"
        assert result["crypto"] == hashlib.sha256(bytes([1, 2, 3])).digest()
        assert result["timers"] == b"slept"
    assert "polluted built-in called" not in server.log()


# -- section 9 of issue 11: one attack per isolate ----------------------------------------

ATTACKS = r"""
const define = Reflect.defineProperty;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const boom = function polluted() { throw new Error("polluted built-in called"); };
// Every name the runtime's per-request records use, and index keys.
const NAMES = ["sid", "requestId", "finished", "cancelled", "cancelReason", "signal", "body",
  "out", "job", "id", "credit", "waiter", "stream", "onError", "onFinish", "pending", "pullResolve",
  "done", "error", "onCancel", "outstanding", "window", "creditKind", "dataKind", "endKind",
  "owner", "upload", "bodyRef", "abortHandle", "settled", "request", "resolve", "reject",
  "value", "bytes", "kind", "then", "ctx", "timers", "expires", "expired", "fetches",
  "waits", "label", "deadline", "subrequests", "state", "0", "1", "2", "3", "4"];
const seen = Object.setPrototypeOf([], null);  // what the accessors saw (writes: no setter)
let attacked = "";

function capture(name) {
  return {
    __proto__: null,
    get() {
      // An async handler's Response is resolved as a promise's value: looking up its `then`
      // is the language's doing (and the Response is the script's own object).
      if (!(name === "then" && this instanceof Response)) {
        seen[seen.length] = `${name}@${Object.prototype.toString.call(this)}`;
      }
      return undefined;
    },
    set(v) {
      seen[seen.length] = `${name}@${Object.prototype.toString.call(this)}`;
      // Forge: a runtime action array or record would be rewritten here.
      define(this, name, { __proto__: null, value: v, writable: true, enumerable: true,
                           configurable: true });
    },
    configurable: true,
  };
}

const attacks = {
  capture() {
    for (let i = 0; i < NAMES.length; i++) {
      define(Object.prototype, NAMES[i], capture(NAMES[i]));
      define(Array.prototype, NAMES[i], capture(NAMES[i]));
    }
    define(Array.prototype, "toJSON", capture("toJSON"));
  },
  throwing() {
    for (let i = 0; i < NAMES.length; i++) {
      if (NAMES[i] === "then") continue; // would break every async function (the script's too)
      define(Object.prototype, NAMES[i], { __proto__: null, get: boom, set: boom, configurable: true });
    }
    define(Array.prototype, "toJSON", { __proto__: null, get: boom, configurable: true });
  },
  iterator() {
    const protos = [Object.getPrototypeOf([][Symbol.iterator]()),
      Object.getPrototypeOf(new Map().values()), Object.getPrototypeOf(new Set().values())];
    Array.prototype[Symbol.iterator] = boom;
    for (let i = 0; i < protos.length; i++) protos[i].next = boom;
  },
  then() {
    Promise.prototype.then = boom;
    Promise.prototype.catch = boom;
    Promise.prototype.finally = boom;
  },
  exec() {
    RegExp.prototype.exec = boom;
    RegExp.prototype[Symbol.replace] = boom;
    RegExp.prototype[Symbol.split] = boom;
    RegExp.prototype[Symbol.match] = boom;
    RegExp.prototype.test = boom;
  },
};

export default {
  async fetch(request, env) {
    const url = request.url;
    const path = url.slice(url.indexOf("/", 8) + env.ATTACK.length + 1);
    if (path === "/attack") { attacks[env.ATTACK](); attacked = env.ATTACK; return new Response("done"); }
    if (path === "/seen") return new Response(Array.prototype.join.call(seen, ","));
    if (path === "/hello") return new Response("hello " + attacked);
    if (path === "/echo") return new Response(request.body);
    if (path === "/text") return new Response((await request.text()) + "!");
    if (path === "/gen") {
      let k = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          if (k === 8) { c.close(); return; }
          k++;
          await sleep(1);
          c.enqueue(new Uint8Array(65536));
        },
      }), { headers: { "x-gen": "8" } });
    }
    return new Response("not found", { status: 404 });
  },
};
"""

ATTACK_NAMES = ("capture", "throwing", "iterator", "then", "exec")


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> Iterator[str]:
    """One supervisor, one single-worker script (one isolate) per attack, at /NAME/..."""
    from tests.integration.ops_support import OpsServer

    tmp = tmp_path_factory.mktemp("attacks")
    (tmp / "attack.mjs").write_text(ATTACKS)
    config = "[[listeners]]\nport = @PORT@\n"
    for name in ATTACK_NAMES:
        config += (f'[scripts.{name}]\npath = "attack.mjs"\nworkers = 1\n'
                   f'env = {{ ATTACK = "{name}" }}\n'
                   f'[[routes]]\npath = "/{name}"\nscript = "{name}"\n')
    srv = OpsServer(tmp, config, 0, None).start()
    yield srv
    srv.stop()


async def _attack_checks(base: str) -> list[object]:
    payload = bytes(range(256)) * 1024  # 256 KiB, streamed both ways
    async with aiohttp.ClientSession() as s:
        async def one(method, path, **kw):
            async with s.request(method, base + path, **kw) as r:
                return r.status, await r.read()

        echo, text, gen, hello = await asyncio.gather(
            one("POST", "/echo", data=payload), one("POST", "/text", data="héllo".encode()),
            one("GET", "/gen"), one("GET", "/hello"))
    return [echo[0], echo[1] == payload, text, gen[0], len(gen[1]), hello]


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_runtime_internals_survive_the_attack(attacked, name):
    """Setters and getters on Object.prototype/Array.prototype see no runtime record and
    cannot break it; patched iterators, then and exec do not break the request path."""
    base = attacked.url(f"/{name}")
    assert run(fetch(base + "/attack"))[2] == b"done"
    for _ in range(2):
        got = run(_attack_checks(base))
        assert got == [200, True, (200, "héllo!".encode()), 200, 8 * 65536,
                       (200, f"hello {name}".encode())], got
    if name == "capture":
        assert run(fetch(base + "/seen"))[2] == b""
