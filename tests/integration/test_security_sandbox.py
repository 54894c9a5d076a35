"""A script cannot reach the host: no Python, no file system, no processes, no internals.

Each probe runs inside a real worker (a service-worker script, the least constrained kind)
and reports what it found; the test says what it must find. Covered: Node/Deno/Bun globals,
``require`` and dynamic ``import()`` of builtins, the global object's names (only the
documented ones, plus the runtime's few ``__isoflow_*`` entry points, which expose nothing
dangerous), ``eval``/``Function`` and stack-trace call sites reaching the runtime's
internals, ``Atomics.wait`` freezing the isolate, and fetch() to ``file:``, other schemes
and every spelling of loopback, private and metadata addresses. Prototype pollution is
``test_security_pollution.py``.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import pytest

from tests.conftest import IsoflowServer, fetch, run

PROBES = r"""
const results = {};
async function probe(name, fn) {
  try { results[name] = await fn(); } catch (e) { results[name] = "threw " + e.name + ": " + e.message; }
}

async function run(request) {
  const port = new URL(request.url).port;
  await probe("typeof", () => ({
    require: typeof require, process: typeof process, Deno: typeof Deno, Bun: typeof Bun,
    global: typeof global, module: typeof module, exports: typeof exports,
    importScripts: typeof importScripts, XMLHttpRequest: typeof XMLHttpRequest,
    Worker: typeof Worker,  // (WebSocket is a Web API now: 37_websocket.js)
    internals: typeof internals, primordials: typeof primordials,
    boot: typeof __isoflow_boot, notify: typeof __isoflow_notify, gc: typeof __isoflow_gc,
  }));
  await probe("function_this", () => Function("return this")() === globalThis);
  await probe("function_reach", () => Function(
    "return [typeof internals, typeof primordials, typeof __isoflow_boot].join()")());
  await probe("eval_reach", () => eval("typeof internals + typeof primordials"));
  await probe("indirect_eval", () => (0, eval)("typeof process + typeof require"));
  await probe("constructor_chain", () => {
    const F = (() => {}).constructor.constructor;
    return F("return typeof process")();
  });
  for (const spec of ["node:fs", "fs", "child_process", "node:child_process", "os",
                      "file:///etc/passwd", "/etc/passwd", "https://example.com/x.js"]) {
    await probe("import " + spec, async () => { await import(spec); return "imported"; });
  }
  await probe("globals", () => Object.getOwnPropertyNames(globalThis));
  await probe("global_symbols", () => Object.getOwnPropertySymbols(globalThis).map(String));
  await probe("status", () => JSON.parse(__isoflow_status()));
  await probe("register_module", () => typeof __isoflow_register_module);
  await probe("pump_descriptor", () => ["__isoflow_pump", "__isoflow_collect"].map((name) => {
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    return [d.writable, d.configurable, Object.getOwnPropertyNames(d.value).sort().join()];
  }));
  await probe("pump_without_token", () => [__isoflow_pump(), __isoflow_pump("guess"),
    __isoflow_collect(), __isoflow_collect("guess")]);
  await probe("atomics_wait", () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    return "returned";
  });
  await probe("atomics_wait_async", () => typeof Atomics.waitAsync(
    new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1).value);
  await probe("call_sites", async () => {
    // Call sites of the runtime's frames must give neither their `this` nor their function.
    const old = Error.prepareStackTrace;
    const seen = [];
    let start, init;
    try {
      Error.prepareStackTrace = (e, sites) => sites;
      start = function (controller) {
        const ours = [start, Object.getOwnPropertyDescriptor(init, "a").get];
        for (const site of new Error().stack) {
          const fn = site.getFunction();
          if (ours.includes(fn)) continue;  // our own frames
          seen.push([typeof site.getThis(), typeof fn, String(site.getFunctionName())]);
        }
      };
      init = { get a() { start(); return "1"; } };
      await new ReadableStream({ start }).getReader().cancel();
      new Response(new ReadableStream({ start }));
      new Headers(init);
    } finally {
      Error.prepareStackTrace = old;
    }
    return seen.filter(([t, f]) => t !== "undefined" || f !== "undefined");
  });
  const targets = {
    file: "file:///etc/passwd", data: "data:text/plain,hi", blob: "blob:x", ftp: "ftp://x/",
    ipc: "ipc:///tmp/x.sock", javascript: "javascript:1",
    self: `http://127.0.0.1:${port}/`, localhost: `http://localhost:${port}/`,
    short: `http://127.1:${port}/`, decimal: `http://2130706433:${port}/`,
    hex: `http://0x7f000001:${port}/`, zero: `http://0.0.0.0:${port}/`,
    v6: `http://[::1]:${port}/`, mapped: `http://[::ffff:127.0.0.1]:${port}/`,
    nat64: `http://[64:ff9b::7f00:1]:${port}/`,
    metadata: "http://169.254.169.254/latest/meta-data/", alibaba: "http://100.100.100.200/",
    private: "http://10.0.0.1/", ula: "http://[fd00::1]/", linklocal6: "http://[fe80::1]/",
    multicast: "http://224.0.0.1/", broadcast: "http://255.255.255.255/",
  };
  for (const [name, url] of Object.entries(targets)) {
    await probe("fetch " + name, async () => {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return "status " + r.status;
    });
  }
  return results;
}

addEventListener("fetch", (event) => {
  const path = new URL(event.request.url).pathname;
  if (path === "/probes") event.respondWith(run(event.request).then((r) => Response.json(r)));
  else event.respondWith(new Response("hello"));
});
"""

def _words(text: str) -> list[str]:
    return text.split()


# What a script may see on its global object: ECMAScript's globals, the Web APIs in the
# README's table, and the runtime's entry points (see docs/security.md).
ECMASCRIPT = _words("""
AggregateError Array ArrayBuffer AsyncDisposableStack Atomics BigInt BigInt64Array
BigUint64Array Boolean DataView Date DisposableStack Error EvalError FinalizationRegistry
Float16Array Float32Array Float64Array Function Infinity Int16Array Int32Array Int8Array
Intl Iterator JSON Map Math NaN Number Object Promise Proxy RangeError ReferenceError
Reflect RegExp Set SharedArrayBuffer String SuppressedError Symbol SyntaxError Temporal
TypeError URIError Uint16Array Uint32Array Uint8Array Uint8ClampedArray WeakMap WeakRef
WeakSet WebAssembly decodeURI decodeURIComponent encodeURI encodeURIComponent escape eval
globalThis isFinite isNaN parseFloat parseInt undefined unescape
""")
WEB = _words("""
AbortController AbortSignal Blob ByteLengthQueuingStrategy CompressionStream
CountQueuingStrategy Crypto CryptoKey CustomEvent DOMException DecompressionStream
ErrorEvent Event EventTarget File FormData Headers Navigator Performance PerformanceEntry
PerformanceMark PerformanceMeasure PerformanceObserver PerformanceObserverEntryList
QuotaExceededError ReadableByteStreamController
ReadableStream ReadableStreamBYOBReader ReadableStreamBYOBRequest
ReadableStreamDefaultController ReadableStreamDefaultReader Request Response SubtleCrypto
TextDecoder TextDecoderStream TextEncoder TextEncoderStream TransformStream
TransformStreamDefaultController URL URLSearchParams WritableStream
WritableStreamDefaultController WritableStreamDefaultWriter addEventListener atob btoa
clearInterval clearTimeout console crypto dispatchEvent fetch navigator performance
queueMicrotask removeEventListener reportError setInterval setTimeout structuredClone
MessageChannel MessageEvent MessagePort PromiseRejectionEvent URLPattern self onerror
onunhandledrejection onrejectionhandled CloseEvent WebSocket WebSocketPair scheduler
IdentityTransformStream FixedLengthStream Cache CacheStorage caches EventSource
""")
RUNTIME = ["__isoflow_pump", "__isoflow_collect", "__isoflow_status", "__isoflow_gc", "__isoflow_register_module"]


@pytest.fixture(scope="module")
def probes(tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("sandbox")
    script = tmp / "probes.js"
    script.write_text(textwrap.dedent(PROBES))
    server = IsoflowServer(script, tmp / "log.txt", "--cpu-limit", "5", workers=1).start()
    try:
        status, _, body = run(fetch(server.url("/probes")))
        assert status == 200, body
        yield json.loads(body) | {"_log": server.log(), "_server": server}
    finally:
        server.stop()


def test_no_node_deno_or_host_objects(probes):
    assert set(probes["typeof"].values()) == {"undefined"}, probes["typeof"]


def test_eval_and_function_reach_nothing_private(probes):
    assert probes["function_this"] is True  # the script's own global, as everywhere
    assert probes["function_reach"] == "undefined,undefined,undefined"
    assert probes["eval_reach"] == "undefinedundefined"
    assert probes["indirect_eval"] == "undefinedundefined"
    assert probes["constructor_chain"] == "undefined"


@pytest.mark.parametrize("spec", ["node:fs", "fs", "child_process", "node:child_process", "os",
                                  "file:///etc/passwd", "/etc/passwd",
                                  "https://example.com/x.js"])
def test_dynamic_import_of_builtins_files_and_urls_fails(probes, spec):
    assert probes[f"import {spec}"].startswith("threw "), probes[f"import {spec}"]


def test_the_global_object_holds_only_documented_names(probes):
    own = {"probe", "run"}  # the probe script's own top-level functions
    extra = set(probes["globals"]) - set(ECMASCRIPT) - set(WEB) - set(RUNTIME) - own
    assert not extra, f"undocumented globals: {sorted(extra)}"
    assert probes["global_symbols"] in ([], ["Symbol(Symbol.toStringTag)"])


def test_scripts_cannot_pump_without_the_bridges_token(probes):
    assert probes["pump_without_token"] == [0, 0, "[0]", "[0]"]


def test_the_runtime_entry_points_expose_nothing_dangerous(probes):
    # __isoflow_status: counters only (and, while a module loads, what its own top-level
    # await failed with); __isoflow_pump: a frozen plain function (its misuse can only
    # disturb the script's own requests, see docs/security.md).
    status = dict(probes["status"])
    assert status.pop("failure") is None and status.pop("loading") is False
    assert set(status) <= {"module", "fetch", "scheduled", "live", "v8BytesIn",
                           "v8BytesOut", "waitUntil", "timers"}
    assert all(isinstance(v, bool | int) for v in status.values())
    for writable, configurable, props in probes["pump_descriptor"]:
        assert (writable, configurable) == (False, False)
        assert props == "length,name,prototype"  # a plain function, nothing hidden on it
    assert probes["typeof"]["notify"] == probes["typeof"]["gc"] == "undefined"


def test_call_sites_do_not_hand_out_runtime_functions_or_receivers(probes):
    assert probes["call_sites"] == [], probes["call_sites"]


def test_atomics_wait_cannot_freeze_the_isolate(probes):
    assert probes["atomics_wait"] == \
        "threw TypeError: Atomics.wait cannot be called in this context"
    assert probes["atomics_wait_async"] in ("object", "string")  # waitAsync still works


@pytest.mark.parametrize("name", ["file", "blob", "ftp", "ipc", "javascript"])
def test_fetch_of_other_schemes_fails(probes, name):
    assert probes[f"fetch {name}"].startswith("threw TypeError"), probes[f"fetch {name}"]


def test_a_data_url_is_answered_in_the_isolate(probes):
    # The Fetch standard's data: URL processor: no network, no file, nothing outside V8.
    assert probes["fetch data"] == "status 200", probes["fetch data"]


@pytest.mark.parametrize("name", ["self", "localhost", "short", "decimal", "hex", "zero", "v6",
                                  "mapped", "nat64", "metadata", "alibaba", "private", "ula",
                                  "linklocal6", "multicast", "broadcast"])
def test_fetch_to_loopback_private_and_metadata_addresses_is_refused(probes, name):
    result = probes[f"fetch {name}"]
    assert result.startswith("threw TypeError") and "not allowed" in result, result


def test_the_worker_survived_every_probe(probes):
    server = probes["_server"]
    assert run(fetch(server.url("/")))[2] == b"hello"
    assert "died" not in probes["_log"]
