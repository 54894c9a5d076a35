// WebAssembly Web API: compileStreaming() and instantiateStreaming() over Responses.

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00,
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
]);
// (module (import "env" "f" (func (result i32))) (func (export "g") (result i32) call 0))
const IMPORTS = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
  0x02, 0x09, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x05, 0x01, 0x01, 0x67, 0x00, 0x01,
  0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b,
]);

const wasm = (bytes, init = {}) =>
  new Response(bytes, { headers: { "Content-Type": "application/wasm" }, ...init });

test(() => {
  for (const name of ["compileStreaming", "instantiateStreaming"]) {
    const desc = Object.getOwnPropertyDescriptor(WebAssembly, name);
    assert_equals(typeof desc.value, "function", name);
    assert_true(desc.writable && desc.enumerable && desc.configurable, name);
    assert_equals(desc.value.length, 1, name);
  }
}, "WebAssembly has compileStreaming and instantiateStreaming");

promise_test(async () => {
  const module = await WebAssembly.compileStreaming(wasm(ADD));
  assert_true(module instanceof WebAssembly.Module);
  assert_equals(WebAssembly.Module.exports(module)[0].name, "add");
  const fromPromise = await WebAssembly.compileStreaming(Promise.resolve(wasm(ADD)));
  assert_true(fromPromise instanceof WebAssembly.Module, "a promise of a Response");
}, "compileStreaming compiles a Response's body");

promise_test(async () => {
  const { module, instance } = await WebAssembly.instantiateStreaming(wasm(ADD));
  assert_true(module instanceof WebAssembly.Module);
  assert_true(instance instanceof WebAssembly.Instance);
  assert_equals(instance.exports.add(2, 3), 5);
  const imported = await WebAssembly.instantiateStreaming(wasm(IMPORTS), { env: { f: () => 42 } });
  assert_equals(imported.instance.exports.g(), 42);
  await promise_rejects_js({}, TypeError, WebAssembly.instantiateStreaming(wasm(IMPORTS)),
    "missing imports");
}, "instantiateStreaming gives { module, instance }, with the import object");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(new Response(ADD)),
    "no Content-Type");
  await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(
    new Response(ADD, { headers: { "Content-Type": "application/octet-stream" } })), "wrong type");
  await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(
    new Response(ADD, { headers: { "Content-Type": "application/wasm; charset=utf-8" } })),
    "parameters are not allowed");
  const upper = await WebAssembly.compileStreaming(
    new Response(ADD, { headers: { "Content-Type": "Application/WASM" } }));
  assert_true(upper instanceof WebAssembly.Module, "the MIME type is matched case-insensitively");
  await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(wasm(ADD, { status: 404 })),
    "not an ok status");
  await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(ADD), "not a Response");
  await promise_rejects_js(t, TypeError, WebAssembly.instantiateStreaming(null), "null");
  const used = wasm(ADD);
  await used.arrayBuffer();
  await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(used), "body already used");
  await promise_rejects_js(t, WebAssembly.CompileError,
    WebAssembly.compileStreaming(wasm(new Uint8Array([0, 1, 2, 3]))), "not a module");
  const reason = new Error("network");
  await promise_rejects_exactly(t, reason, WebAssembly.compileStreaming(Promise.reject(reason)));
}, "the application/wasm, status and body checks reject");
