// CompressionStream / DecompressionStream: round trips, errors, IDL shape.

async function collect(readable) {
  const chunks = [];
  for await (const c of readable) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

async function pipeBytes(stream, inputs) {
  const writer = stream.writable.getWriter();
  const done = collect(stream.readable);
  for (const i of inputs) await writer.write(i);
  await writer.close();
  return done;
}

const text = new TextEncoder().encode("isoflow streams bytes ".repeat(500));

for (const format of ["gzip", "deflate", "deflate-raw"]) {
  promise_test(async () => {
    const compressed = await pipeBytes(new CompressionStream(format), [text.subarray(0, 100), text.subarray(100)]);
    assert_less_than(compressed.length, text.length / 5, "compresses");
    const restored = await pipeBytes(new DecompressionStream(format), [compressed]);
    assert_array_equals(restored, text);
  }, `${format}: round trip`);

  promise_test(async () => {
    const compressed = await pipeBytes(new CompressionStream(format), [text]);
    const pieces = [];
    for (let i = 0; i < compressed.length; i += 7) pieces.push(compressed.subarray(i, i + 7));
    const restored = await pipeBytes(new DecompressionStream(format), pieces);
    assert_array_equals(restored, text);
  }, `${format}: decompresses input split into tiny chunks`);

  promise_test(async (t) => {
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    writer.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])).catch(() => {});
    writer.close().catch(() => {});
    await promise_rejects_js(t, TypeError, collect(ds.readable));
  }, `${format}: invalid data errors the stream with a TypeError`);

  promise_test(async (t) => {
    const compressed = await pipeBytes(new CompressionStream(format), [text]);
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    writer.write(compressed.subarray(0, compressed.length - 4)).catch(() => {});
    writer.close().catch(() => {});
    await promise_rejects_js(t, TypeError, collect(ds.readable));
  }, `${format}: truncated data errors the stream at the end`);

  promise_test(async (t) => {
    const compressed = await pipeBytes(new CompressionStream(format), [text]);
    const junk = new Uint8Array(compressed.length + 3);
    junk.set(compressed);
    junk.set([1, 2, 3], compressed.length);
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    writer.write(junk).catch(() => {});
    writer.close().catch(() => {});
    await promise_rejects_js(t, TypeError, collect(ds.readable));
  }, `${format}: trailing junk errors the stream`);

  promise_test(async () => {
    const out = await pipeBytes(new CompressionStream(format), []);
    const back = await pipeBytes(new DecompressionStream(format), [out]);
    assert_equals(back.length, 0);
  }, `${format}: empty input`);
}

promise_test(async () => {
  const compressed = await pipeBytes(new CompressionStream("gzip"), [text]);
  assert_equals(compressed[0], 0x1f);
  assert_equals(compressed[1], 0x8b);
}, "gzip output has the gzip magic bytes");

test(() => {
  assert_throws_js(TypeError, () => new CompressionStream("brotli"));
  assert_throws_js(TypeError, () => new DecompressionStream("zip"));
  assert_throws_js(TypeError, () => new CompressionStream());
  assert_throws_js(TypeError, () => CompressionStream());
}, "unsupported formats and missing arguments throw TypeError");

promise_test(async (t) => {
  const cs = new CompressionStream("gzip");
  const writer = cs.writable.getWriter();
  writer.write("a string").catch(() => {});
  await promise_rejects_js(t, TypeError, collect(cs.readable));
}, "non-BufferSource chunks error the stream");

promise_test(async () => {
  const cs = new CompressionStream("deflate");
  const view = new DataView(text.buffer, 10, 50);
  const out = await pipeBytes(cs, [view, text.buffer.slice(0, 10)]);
  const back = await pipeBytes(new DecompressionStream("deflate"), [out]);
  assert_array_equals(back, [...text.subarray(10, 60), ...text.subarray(0, 10)]);
}, "DataView and ArrayBuffer chunks are accepted");

test(() => {
  const cs = new CompressionStream("gzip");
  assert_true(cs.readable instanceof ReadableStream);
  assert_true(cs.writable instanceof WritableStream);
  assert_equals(String(cs), "[object CompressionStream]");
  const desc = Object.getOwnPropertyDescriptor(CompressionStream.prototype, "readable");
  assert_true(desc.enumerable && typeof desc.get === "function");
  assert_throws_js(TypeError, () => desc.get.call({}));
}, "IDL shape: readable/writable getters, brand checks, toStringTag");

promise_test(async () => {
  const response = new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")));
  const back = await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  assert_equals(back.byteLength, text.length);
}, "works in a pipeThrough chain with Response bodies");

// A chunk whose buffer was transferred away still is an ArrayBuffer or a view: its bytes are
// the empty byte sequence (Web IDL "get a copy of the bytes held by the buffer source"), so
// it adds nothing to the stream instead of erroring it.
function detachedChunks() {
  const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
  const chunks = [new Uint8Array(buffer, 1, 2), new DataView(buffer), buffer];
  structuredClone(buffer, { transfer: [buffer] });
  return chunks;
}

for (const format of ["gzip", "deflate", "deflate-raw"]) {
  promise_test(async () => {
    const hello = new TextEncoder().encode("hello");
    const compressed = await pipeBytes(new CompressionStream(format),
      [...detachedChunks(), hello, ...detachedChunks()]);
    const back = await pipeBytes(new DecompressionStream(format), [compressed]);
    assert_array_equals(back, hello);
  }, `${format}: detached chunks add no input when compressing`);

  promise_test(async () => {
    const compressed = await pipeBytes(new CompressionStream(format), [text]);
    const back = await pipeBytes(new DecompressionStream(format),
      [...detachedChunks(), compressed, ...detachedChunks()]);
    assert_array_equals(back, text);
  }, `${format}: detached chunks add no input when decompressing`);
}

promise_test(async (t) => {
  for (const Stream of [CompressionStream, DecompressionStream]) {
    const stream = new Stream("deflate");
    const writer = stream.writable.getWriter();
    const shared = new WebAssembly.Memory({ shared: true, initial: 1, maximum: 1 }).buffer;
    const written = writer.write(new DataView(shared, 0, 8));
    const read = stream.readable.getReader().read();
    await promise_rejects_js(t, TypeError, written);
    await promise_rejects_js(t, TypeError, read);
  }
}, "a DataView on a SharedArrayBuffer is not a BufferSource and errors the stream");
