// META: internals
// Blob and File (W3C File API).

async function bytesOf(blob) {
  return Array.from(new Uint8Array(await blob.arrayBuffer()));
}

async function readStream(stream, mode) {
  const reader = stream.getReader(mode === undefined ? undefined : { mode });
  const out = [];
  const chunks = [];
  for (;;) {
    const { done, value } = mode === "byob" ? await reader.read(new Uint8Array(3)) : await reader.read();
    if (done) break;
    chunks.push(value);
    out.push(...value);
  }
  return { out, chunks };
}

// --- constructor ---------------------------------------------------------------------------------

test(() => {
  assert_equals(Blob.length, 0);
  const blob = new Blob();
  assert_true(blob instanceof Blob);
  assert_equals(String(blob), "[object Blob]");
  assert_equals(blob.size, 0);
  assert_equals(blob.type, "");
  assert_equals(new Blob(undefined).size, 0);
  assert_throws_js(TypeError, () => Blob());
}, "new Blob() is empty; Blob needs new");

test(() => {
  for (const arg of [null, true, false, 0, 1, 1.5, "FAIL", new Date(), new RegExp(), {}, { 0: "FAIL", length: 1 }]) {
    assert_throws_js(TypeError, () => new Blob(arg), format_value(arg));
  }
}, "blobParts that are not iterable objects throw TypeError");

promise_test(async () => {
  assert_equals(await new Blob(new String("xyz")).text(), "xyz");
  assert_equals(await new Blob(new Uint8Array([1, 2, 3])).text(), "123");
  assert_equals(await new Blob({ [Symbol.iterator]: Array.prototype[Symbol.iterator], 0: "PASS", length: 1 }).text(), "PASS");
  const custom = {
    [Symbol.iterator]() {
      let i = 0;
      return { next: () => [{ done: false, value: "ab" }, { done: false, value: "cde" }, { done: true }][i++] };
    },
  };
  assert_equals(new Blob(custom).size, 5);
}, "any iterable is a blobParts sequence");

test(() => {
  const received = [];
  const error = { name: "test" };
  const obj = {
    get [Symbol.iterator]() { received.push("Symbol.iterator"); return Array.prototype[Symbol.iterator]; },
    get length() { received.push("length"); return 3; },
    get 0() { received.push("0"); return { toString() { received.push("0 toString"); return "a"; } }; },
    get 1() { received.push("1"); throw error; },
    get 2() { received.push("2"); return "c"; },
  };
  assert_throws_exactly(error, () => new Blob(obj));
  assert_array_equals(received, ["Symbol.iterator", "length", "0", "0 toString", "length", "1"]);
}, "parts are read and converted in order until an exception");

promise_test(async () => {
  const blob = new Blob([null, undefined, true, false, 0, 1, new String("stringobject"), [], ["x", "y"], {},
    { 0: "FAIL", length: 1 }, { toString() { return "stringA"; } },
    { toString: undefined, valueOf() { return "stringB"; } }]);
  assert_equals(await blob.text(),
    "nullundefinedtruefalse01stringobjectx,y[object Object][object Object]stringAstringB");
}, "other parts are converted with ToString");

test(() => {
  const error = { name: "test" };
  assert_throws_exactly(error, () => new Blob([{ toString() { throw error; } }]));
  assert_throws_js(TypeError, () => new Blob([{ toString: null, valueOf: null }]));
  assert_throws_js(TypeError, () => new Blob([Symbol("s")]));
}, "part conversion errors propagate");

promise_test(async () => {
  const blob = new Blob([
    new Uint8Array([0x50, 0x41, 0x53, 0x53]),
    new Int8Array([0x50, 0x41, 0x53, 0x53]),
    new Uint16Array([0x4150, 0x5353]),
    new Int32Array([0x53534150]),
    new Float64Array([2510297372767036725005267563121821874921913208671273727396467555337665343087229079989707079680]),
    new BigUint64Array([0x5353415053534150n]),
    new DataView(new Uint8Array([0, 0x50, 0x41, 0x53, 0x53, 0]).buffer, 1, 4),
  ]);
  assert_equals(await blob.text(), "PASS".repeat(9));
}, "typed arrays and DataViews contribute their bytes (honouring offsets)");

promise_test(async () => {
  const view = new Uint8Array([0, 255, 0]);
  const blob = new Blob([view.buffer, view.buffer]);
  assert_array_equals(await bytesOf(blob), [0, 255, 0, 0, 255, 0]);
  const sab = new SharedArrayBuffer(2);
  new Uint8Array(sab).set([7, 8]);
  assert_array_equals(await bytesOf(new Blob([sab])), [7, 8]);
}, "ArrayBuffers and SharedArrayBuffers are parts");

promise_test(async () => {
  const source = new Uint8Array([1, 2, 3]);
  const blob = new Blob([source, source.buffer]);
  source[0] = 9;
  assert_array_equals(await bytesOf(blob), [1, 2, 3, 1, 2, 3]);
}, "buffer parts are copied when the Blob is made");

promise_test(async () => {
  const buffer = new ArrayBuffer(4);
  const view = new Uint8Array(buffer);
  buffer.transfer();
  const blob = new Blob([buffer, view, "x"]);
  assert_equals(blob.size, 1);
}, "detached buffers are empty parts");

promise_test(async () => {
  // Web IDL converts the whole blobParts sequence first; "process blob parts" copies the
  // bytes afterwards, so a later part's toString() can still change an earlier buffer.
  const bytes = new Uint8Array([1, 2]);
  const changed = new Blob([bytes, { toString() { bytes[0] = 7; return "!"; } }]);
  assert_array_equals(await bytesOf(changed), [7, 2, 33]);
  const buffer = new Uint8Array([3, 4]).buffer;
  const view = new DataView(buffer);
  const emptied = new Blob([buffer, view, { toString() { buffer.transfer(); return "?"; } }]);
  assert_array_equals(await bytesOf(emptied), [63], "detached while converting: no bytes");
}, "buffer parts hold their bytes as of the end of the conversion of all parts");

promise_test(async () => {
  const inner = new Blob(["fo"]);
  const blob = new Blob([new Uint8Array([0]).buffer, inner, "foo", inner]);
  assert_equals(await blob.text(), "\0fofoofo");
  assert_equals(blob.size, 8);
}, "blobs, buffers and strings mix");

promise_test(async () => {
  assert_array_equals(await bytesOf(new Blob(["é€😀"])), [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  assert_array_equals(await bytesOf(new Blob(["\ud800"])), [0xef, 0xbf, 0xbd]);
}, "strings are UTF-8 encoded, lone surrogates as U+FFFD");

const TYPES = [
  ["", ""], ["a", "a"], ["A", "a"], ["text/html", "text/html"], ["TEXT/HTML", "text/html"],
  ["text/plain;charset=utf-8", "text/plain;charset=utf-8"], ["\u00E5", ""], ["\uD801\uDC7E", ""],
  [" image/gif ", " image/gif "], ["\timage/gif\t", ""], ["image/gif;\u007f", ""],
  ["\u0130mage/gif", ""], ["\u0131mage/gif", ""], ["image/gif\u0000", ""],
  ["unknown/unknown", "unknown/unknown"],
];

for (const [type, expected] of TYPES) {
  test(() => {
    assert_equals(new Blob([], { type }).type, expected);
    assert_equals(new Blob(["x"]).slice(0, 1, type).type, expected, "slice contentType");
    assert_equals(new File([], "f", { type }).type, expected, "File type");
  }, `type ${format_value(type)} becomes ${format_value(expected)}`);
}

test(() => {
  const accessed = [];
  new Blob([], {
    get type() { accessed.push("type"); return ""; },
    get endings() { accessed.push("endings"); return undefined; },
  });
  assert_array_equals(accessed, ["endings", "type"]);
  const error = { name: "e" };
  assert_throws_exactly(error, () => new Blob([{ toString() { throw error; } }], {
    get type() { throw new Error("type read first"); },
  }));
}, "options are read in lexicographic order, after the parts");

promise_test(async () => {
  for (const options of [null, undefined, {}, { unrecognized: true }, /regex/, function () {}]) {
    const blob = new Blob(["\na\r\nb\n\rc\r"], options);
    assert_equals(blob.type, "");
    assert_equals(await blob.text(), "\na\r\nb\n\rc\r");
  }
  for (const options of [123, 123.4, true, "abc"]) {
    assert_throws_js(TypeError, () => new Blob([], options), String(options));
  }
}, "options: null, undefined and objects use defaults; other values throw");

promise_test(async () => {
  const input = "\na\r\nb\n\rc\r";
  assert_equals(await new Blob([input], { endings: "transparent" }).text(), input);
  assert_equals(await new Blob([input], { endings: "native" }).text(), "\na\nb\n\nc\n");
  assert_equals(await new File([input], "f", { endings: "native" }).text(), "\na\nb\n\nc\n");
  const bytes = new TextEncoder().encode("x\r\ny");
  assert_equals(await new Blob([bytes], { endings: "native" }).text(), "x\r\ny", "bytes are untouched");
  assert_throws_js(TypeError, () => new Blob([], { endings: "invalid" }));
  assert_throws_js(TypeError, () => new Blob([], { endings: "NATIVE" }));
}, "endings: native converts line breaks in strings to LF");

// --- slice ------------------------------------------------------------------------------------------

const SLICES = [
  [[], "abcdefgh"], [[0], "abcdefgh"], [[3], "defgh"], [[-3], "fgh"], [[-100], "abcdefgh"],
  [[100], ""], [[2, 5], "cde"], [[2, -2], "cdef"], [[-5, -2], "def"], [[5, 2], ""],
  [[0, 100], "abcdefgh"], [[undefined, 3], "abc"], [[NaN, 2], "ab"], [[1.9, 3.1], "c"],
  [[-1.5], "gh"], [[2.5, 3.5], "cd"], [[2 ** 70], ""], [[-(2 ** 70)], "abcdefgh"], [["2", "4"], "cd"],
];

for (const [args, expected] of SLICES) {
  promise_test(async () => {
    const blob = new Blob(["abc", "def", new Uint8Array([0x67, 0x68])], { type: "text/plain" });
    const slice = blob.slice(...args);
    assert_equals(slice.size, expected.length);
    assert_equals(await slice.text(), expected);
    assert_equals(slice.type, "", "slice type defaults to empty");
  }, `slice(${args.map(String).join(", ")}) is ${JSON.stringify(expected)}`);
}

promise_test(async () => {
  const blob = new Blob(["0123456789"]);
  const a = blob.slice(2, 8);
  const b = a.slice(1, -1);
  const c = b.slice(-2);
  assert_equals(await b.text(), "3456");
  assert_equals(await c.text(), "56");
  const file = new File(["abc"], "f.txt", { type: "text/plain" });
  const fileSlice = file.slice(1);
  assert_false(fileSlice instanceof File, "a slice of a File is a Blob");
  assert_equals(await fileSlice.text(), "bc");
}, "slices of slices and of Files");

// --- reading --------------------------------------------------------------------------------------------

promise_test(async () => {
  const blob = new Blob(["héllo"]);
  const p = blob.text();
  assert_true(p instanceof Promise);
  assert_equals(await p, "héllo");
  assert_equals(await new Blob([new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0xff])]).text(), "A\ufffd");
}, "text() decodes UTF-8, dropping a BOM and replacing errors");

promise_test(async () => {
  const blob = new Blob(["abc"]);
  const ab = await blob.arrayBuffer();
  assert_true(ab instanceof ArrayBuffer);
  assert_array_equals(Array.from(new Uint8Array(ab)), [97, 98, 99]);
  const again = await blob.arrayBuffer();
  assert_not_equals(again, ab, "each call gives a new buffer");
  new Uint8Array(ab)[0] = 0;
  assert_equals(await blob.text(), "abc", "the blob is not affected");
}, "arrayBuffer() returns a new copy each time");

promise_test(async () => {
  const bytes = await new Blob(["ab", "c"]).bytes();
  assert_true(bytes instanceof Uint8Array);
  assert_array_equals(Array.from(bytes), [97, 98, 99]);
  assert_equals((await new Blob().bytes()).length, 0);
}, "bytes() returns a Uint8Array");

promise_test(async (t) => {
  const text = Blob.prototype.text;
  await promise_rejects_js(t, TypeError, text.call({}));
  await promise_rejects_js(t, TypeError, Blob.prototype.arrayBuffer.call(null));
  await promise_rejects_js(t, TypeError, Blob.prototype.bytes.call(Object.create(Blob.prototype)));
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(Blob.prototype, "size").get.call({}));
  assert_throws_js(TypeError, () => Blob.prototype.slice.call({}));
  assert_throws_js(TypeError, () => Blob.prototype.stream.call({}));
}, "Blob methods brand-check (promise methods reject)");

promise_test(async () => {
  const blob = new Blob(["hello ", "world"]);
  const stream = blob.stream();
  assert_true(stream instanceof ReadableStream);
  const { out } = await readStream(stream);
  assert_equals(String.fromCharCode(...out), "hello world");
}, "stream() yields the blob's bytes");

promise_test(async () => {
  const big = new Uint8Array(200000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const blob = new Blob([big.subarray(0, 70000), big.subarray(70000)]);
  const { out, chunks } = await readStream(blob.stream());
  assert_equals(out.length, big.length);
  assert_greater_than(chunks.length, 1, "more than one chunk");
  for (const c of chunks) assert_less_than_equal(c.length, 65536);
  for (let i = 0; i < big.length; i += 997) assert_equals(out[i], big[i]);
}, "stream() of a large blob comes in chunks of at most 64 KiB");

promise_test(async () => {
  const input = [8, 241, 48, 123, 151, 1, 2];
  const { out } = await readStream(new Blob([new Uint8Array(input)]).stream(), "byob");
  assert_array_equals(out, input);
}, "stream() supports BYOB readers");

promise_test(async () => {
  const { out } = await readStream(new Blob().stream());
  assert_equals(out.length, 0);
}, "stream() of an empty blob closes at once");

promise_test(async () => {
  const blob = new Blob(["abc"]);
  const stream = blob.stream();
  const reader = stream.getReader();
  await reader.cancel();
  assert_equals(await blob.text(), "abc", "the blob can still be read");
  const s1 = blob.stream();
  const s2 = blob.stream();
  assert_not_equals(s1, s2);
}, "each stream() is independent");

// --- File ----------------------------------------------------------------------------------------------

test(() => {
  assert_equals(File.length, 2);
  assert_throws_js(TypeError, () => new File());
  assert_throws_js(TypeError, () => new File(["x"]));
  assert_throws_js(TypeError, () => new File("x", "name"), "fileBits must be a sequence");
  assert_throws_js(TypeError, () => File([], "x"));
}, "File needs its bits and a name");

promise_test(async () => {
  const before = Date.now();
  const file = new File(["ab", new Uint8Array([0x63])], "name.txt", { type: "Text/Plain" });
  assert_true(file instanceof File);
  assert_true(file instanceof Blob);
  assert_equals(file.name, "name.txt");
  assert_equals(file.type, "text/plain");
  assert_equals(file.size, 3);
  assert_greater_than_equal(file.lastModified, before);
  assert_less_than_equal(file.lastModified, Date.now());
  assert_equals(file.webkitRelativePath, "");
  assert_equals(await file.text(), "abc");
  assert_class_string(file, "File");
}, "File has a name, a type, a size and lastModified (default now)");

test(() => {
  assert_equals(new File([], "f", { lastModified: 42 }).lastModified, 42);
  assert_equals(new File([], "f", { lastModified: -1 }).lastModified, -1);
  assert_equals(new File([], "f", { lastModified: 1.9 }).lastModified, 1);
  assert_equals(new File([], "f", { lastModified: NaN }).lastModified, 0);
  assert_equals(new File([], "f", { lastModified: new Date(5) }).lastModified, 5);
}, "lastModified is converted as a long long");

test(() => {
  const read = [];
  const options = {};
  for (const key of ["lastModified", "type", "endings"]) {
    Object.defineProperty(options, key, {
      get() {
        read.push(key);
        return undefined;
      },
    });
  }
  new File([], "f", options);
  // FilePropertyBag inherits BlobPropertyBag: the inherited members come first.
  assert_array_equals(read, ["endings", "type", "lastModified"]);
}, "File options: BlobPropertyBag members are read before lastModified");

test(() => {
  assert_equals(new File([], "a/b\\c").name, "a/b\\c", "slashes are kept");
  assert_equals(new File([], "\ud800").name, "\ufffd", "USVString");
  assert_equals(new File([], null).name, "null");
  assert_equals(new File([], "").name, "");
}, "File names are USVStrings, kept as given");

test(() => {
  const getter = Object.getOwnPropertyDescriptor(File.prototype, "name").get;
  assert_throws_js(TypeError, () => getter.call(new Blob()));
  assert_equals(Object.getPrototypeOf(File), Blob);
  assert_equals(Object.getPrototypeOf(File.prototype), Blob.prototype);
}, "File inherits from Blob and brand-checks its own members");

// --- structured clone ----------------------------------------------------------------------------------------

promise_test(async () => {
  const blob = new Blob(["data"], { type: "text/x" });
  const copy = structuredClone(blob);
  assert_true(copy instanceof Blob);
  assert_not_equals(copy, blob);
  assert_equals(copy.type, "text/x");
  assert_equals(await copy.text(), "data");
}, "Blobs are serializable");

promise_test(async () => {
  const file = new File(["data"], "f.bin", { type: "a/b", lastModified: 7 });
  const copy = structuredClone({ file, again: file });
  assert_true(copy.file instanceof File);
  assert_equals(copy.file, copy.again);
  assert_equals(copy.file.name, "f.bin");
  assert_equals(copy.file.lastModified, 7);
  assert_equals(await copy.file.text(), "data");
}, "Files are serializable with name and lastModified");

test(() => {
  class MyBlob extends Blob {}
  const copy = structuredClone(new MyBlob(["x"]));
  assert_equals(Object.getPrototypeOf(copy), Blob.prototype);
}, "a Blob subclass is cloned as a Blob");

test(() => {
  const blob = new Blob();
  assert_throws_dom("DataCloneError", () => structuredClone(blob, { transfer: [blob] }));
}, "Blobs are not transferable");

// --- internals ------------------------------------------------------------------------------------------------

test(() => {
  const { blob: api } = __internals;
  const b = new Blob(["abc", "def"]);
  assert_true(api.isBlob(b));
  assert_false(api.isBlob({}));
  assert_false(api.isFile(b));
  assert_true(api.isFile(new File([], "x")));
  assert_array_equals(Array.from(api.getBytes(b)), [97, 98, 99, 100, 101, 102]);
  assert_array_equals(Array.from(api.getRange(b, 2, 4)), [99, 100]);
  const made = api.createBlob([new Uint8Array([1, 2])], 2, "x/y");
  assert_equals(made.size, 2);
  assert_equals(made.type, "x/y");
  const file = api.createFile([new Uint8Array([1])], 1, "", "n", 3);
  assert_equals(file.name, "n");
  assert_equals(file.lastModified, 3);
}, "internals.blob helpers");

test(() => {
  for (const name of ["Blob", "File"]) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_true(desc.writable && desc.configurable && !desc.enumerable, name);
  }
  for (const key of ["size", "type", "slice", "stream", "text", "arrayBuffer", "bytes"]) {
    assert_true(Object.getOwnPropertyDescriptor(Blob.prototype, key).enumerable, key);
  }
}, "Blob and File are exposed as IDL interfaces");
