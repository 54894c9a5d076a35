// META: internals
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

// (module (import "wasm:js-string" "length" (func (param externref) (result i32)))
//   (func (export "len") (param externref) (result i32) local.get 0 call 0))
const STRING_LENGTH = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x6f, 0x01, 0x7f,
  0x02, 0x19, 0x01, 0x0e, 0x77, 0x61, 0x73, 0x6d, 0x3a, 0x6a, 0x73, 0x2d, 0x73, 0x74, 0x72,
  0x69, 0x6e, 0x67, 0x06, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x00, 0x00,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x07, 0x01, 0x03, 0x6c, 0x65, 0x6e, 0x00, 0x01,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b,
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

promise_test(async (t) => {
  // Web IDL converts every argument first: a bad importObject rejects the call before the
  // source is looked at, so the Response's body is left unread.
  const sourceError = new Error("the source failed");
  for (const importObject of [null, false, "imports", 7, Symbol("s")]) {
    const rejected = Promise.reject(sourceError);
    rejected.catch(() => {});
    await promise_rejects_js(t, TypeError,
      WebAssembly.instantiateStreaming(rejected, importObject), String(importObject));
  }
  const response = wasm(ADD);
  await promise_rejects_js(t, TypeError, WebAssembly.instantiateStreaming(response, null));
  assert_false(response.bodyUsed, "the body was not consumed");
  const { instance } = await WebAssembly.instantiateStreaming(response, undefined);
  assert_equals(instance.exports.add(1, 1), 2, "the same Response still compiles");
}, "instantiateStreaming rejects a non-object importObject before reading the source");

promise_test(async () => {
  // Without builtins the module has an ordinary import; with them it has none.
  const plain = await WebAssembly.compileStreaming(wasm(STRING_LENGTH));
  assert_equals(WebAssembly.Module.imports(plain).length, 1, "no options");
  const withBuiltins = await WebAssembly.compileStreaming(wasm(STRING_LENGTH),
    { builtins: ["js-string"] });
  assert_array_equals(WebAssembly.Module.imports(withBuiltins), [], "builtins: js-string");
  const { instance } = await WebAssembly.instantiateStreaming(wasm(STRING_LENGTH), {},
    { builtins: new Set(["js-string"]) });
  assert_equals(instance.exports.len("four"), 4, "instantiateStreaming's third argument");
}, "compileStreaming and instantiateStreaming pass WebAssemblyCompileOptions to the compiler");

promise_test(async (t) => {
  // The dictionary is read while the call runs, members in lexicographic order.
  const reads = [];
  const options = {
    get importedStringConstants() { reads.push("importedStringConstants"); return null; },
    get builtins() { reads.push("builtins"); return ["js-string"]; },
  };
  const pending = WebAssembly.compileStreaming(wasm(STRING_LENGTH), options);
  assert_array_equals(reads, ["builtins", "importedStringConstants"]);
  await pending;
  for (const [bad, label] of [[5, "a number"], [{ builtins: "js-string" }, "builtins not a sequence"]]) {
    const response = wasm(ADD);
    await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(response, bad), label);
    assert_false(response.bodyUsed, `${label}: the body was not consumed`);
  }
  const thrown = new Error("getter");
  await promise_rejects_exactly(t, thrown, WebAssembly.instantiateStreaming(wasm(ADD), {},
    { get builtins() { throw thrown; } }));
}, "compile options are converted synchronously and bad ones reject the call");

promise_test(async (t) => {
  // The CORS-same-origin step on its own: an opaque response that otherwise passes.
  const { response: responses, headers } = __internals;
  for (const type of ["opaque", "opaqueredirect"]) {
    const carrier = wasm(ADD);
    const opaque = responses.make({
      type, status: 200,
      headers: headers.fromList(["Content-Type", "application/wasm"], "immutable"),
      body: responses.body(carrier),
    });
    await promise_rejects_js(t, TypeError, WebAssembly.compileStreaming(opaque), type);
  }
}, "a response that is not CORS-same-origin is rejected");
