// HTML §2.7.3 StructuredSerializeInternal: a platform object that is not a serializable
// object throws a "DataCloneError" DOMException (step 25: "Otherwise, if value is a
// platform object, then throw"), wherever it sits in the value; serializable ones
// (Blob, File, DOMException, CryptoKey) and the ECMAScript built-ins are cloned.

const notSerializable = {
  URL: () => new URL("https://example.com/"),
  URLSearchParams: () => new URLSearchParams("a=1"),
  Headers: () => new Headers({ a: "1" }),
  Request: () => new Request("https://example.com/"),
  Response: () => new Response("x"),
  ReadableStream: () => new ReadableStream(),
  WritableStream: () => new WritableStream(),
  TransformStream: () => new TransformStream(),
  ReadableStreamDefaultReader: () => new ReadableStream().getReader(),
  TextEncoder: () => new TextEncoder(),
  TextDecoder: () => new TextDecoder(),
  TextEncoderStream: () => new TextEncoderStream(),
  CompressionStream: () => new CompressionStream("gzip"),
  AbortController: () => new AbortController(),
  AbortSignal: () => AbortSignal.abort(),
  Event: () => new Event("x"),
  CustomEvent: () => new CustomEvent("x", { detail: 1 }),
  EventTarget: () => new EventTarget(),
  FormData: () => new FormData(),
  ByteLengthQueuingStrategy: () => new ByteLengthQueuingStrategy({ highWaterMark: 1 }),
  Crypto: () => crypto,
  SubtleCrypto: () => crypto.subtle,
  Performance: () => performance,
  Navigator: () => navigator,
};

for (const [name, make] of Object.entries(notSerializable)) {
  test(() => {
    assert_throws_dom("DataCloneError", () => structuredClone(make()));
  }, `structuredClone(${name}) throws DataCloneError`);
}

test(() => {
  const url = new URL("https://example.com/");
  assert_throws_dom("DataCloneError", () => structuredClone({ a: [1, { url }] }));
  assert_throws_dom("DataCloneError", () => structuredClone(new Map([[1, new Headers()]])));
  assert_throws_dom("DataCloneError", () => structuredClone(new Set([new TextEncoder()])));
}, "a platform object nested in a value makes the whole clone fail");

test(() => {
  class MyURL extends URL {}
  assert_throws_dom("DataCloneError", () => structuredClone(new MyURL("https://a.example/")));
  class MyHeaders extends Headers {}
  assert_throws_dom("DataCloneError", () => structuredClone(new MyHeaders()));
}, "instances of subclasses of platform interfaces are platform objects too");

test(() => {
  const buffer = new ArrayBuffer(8);
  assert_throws_dom("DataCloneError",
    () => structuredClone({ buffer, url: new URL("https://a.example/") }, { transfer: [buffer] }));
  assert_equals(buffer.byteLength, 8, "the transfer list is not detached when cloning fails");
}, "a failed clone does not transfer");

test(() => {
  assert_throws_dom("DataCloneError",
    () => structuredClone(null, { transfer: [new ReadableStream()] }));
}, "streams are not transferable (no MessagePort to carry them)");

promise_test(async () => {
  const blob = structuredClone(new Blob(["abc"], { type: "text/plain" }));
  assert_true(blob instanceof Blob);
  assert_equals(await blob.text(), "abc");
  const file = structuredClone(new File(["x"], "f.txt"));
  assert_true(file instanceof File);
  assert_equals(file.name, "f.txt");
  const e = structuredClone(new DOMException("m", "DataCloneError"));
  assert_true(e instanceof DOMException);
  assert_equals(e.name, "DataCloneError");
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  const copy = structuredClone(key);
  assert_true(copy instanceof CryptoKey);
  assert_equals(copy.algorithm.name, "HMAC");
}, "serializable platform objects (Blob, File, DOMException, CryptoKey) are still cloned");

test(() => {
  const date = new Date(5);
  const value = {
    date, re: /a/g, map: new Map([[1, 2]]), set: new Set([3]), error: new RangeError("r"),
    bytes: new Uint8Array([1, 2]), buffer: new ArrayBuffer(2), boxed: new String("s"),
  };
  const copy = structuredClone(value);
  assert_equals(copy.date.getTime(), 5);
  assert_equals(copy.re.flags, "g");
  assert_equals(copy.map.get(1), 2);
  assert_true(copy.set.has(3));
  assert_true(copy.error instanceof RangeError);
  assert_array_equals(copy.bytes, [1, 2]);
  assert_equals(copy.buffer.byteLength, 2);
  assert_equals(String(copy.boxed), "s");
}, "ECMAScript built-ins stay serializable");

test(() => {
  // Interface prototype objects and the constructors' plain data are not instances.
  const proto = structuredClone(Object.getPrototypeOf({ a: 1 }));
  assert_equals(typeof proto, "object");
  assert_equals(structuredClone({ href: "https://a.example/" }).href, "https://a.example/");
}, "ordinary objects are still cloned");
