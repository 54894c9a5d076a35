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
const FORMATS = ["brotli", "deflate", "deflate-raw", "gzip"];

for (const format of FORMATS) {
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

  // The output decoded before the end of the compressed data is enqueued; only then does the
  // extra input error the stream, whether it came in the same chunk or in a later one.
  promise_test(async (t) => {
    const compressed = await pipeBytes(new CompressionStream(format), [text]);
    const withExtra = new Uint8Array(compressed.length + 2);
    withExtra.set(compressed);
    for (const chunks of [[withExtra], [compressed, new Uint8Array([7])]]) {
      const ds = new DecompressionStream(format);
      const writer = ds.writable.getWriter();
      for (const chunk of chunks) writer.write(chunk).catch(() => {});
      const reader = ds.readable.getReader();
      const got = [];
      let failure = null;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          assert_false(done, "the stream errors instead of closing");
          got.push(...value);
        }
      } catch (e) {
        failure = e;
      }
      assert_true(failure instanceof TypeError, `TypeError, not ${failure}`);
      assert_array_equals(got, text, "the whole output came before the error");
    }
  }, `${format}: input after the end gives the output, then a TypeError`);

  // A few bytes that inflate to 16 MiB are decompressed a bounded piece at a time.
  promise_test(async () => {
    const size = 16 << 20;
    const bomb = await pipeBytes(new CompressionStream(format), [new Uint8Array(size)]);
    assert_less_than(bomb.length, 100000);
    let total = 0, chunks = 0, largest = 0;
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    writer.write(bomb);
    writer.close();
    for await (const chunk of ds.readable) {
      total += chunk.length;
      chunks += 1;
      largest = Math.max(largest, chunk.length);
    }
    assert_equals(total, size);
    assert_greater_than(chunks, 8);
    assert_less_than_equal(largest, 1 << 20);
  }, `${format}: a small input that inflates a lot comes out in bounded chunks`);
}

// Each format's encoding of nothing, made by other encoders than ours.
for (const [format, bytes] of [
  ["brotli", [0x3b]],
  ["brotli", [0xa1, 0x01]],
  ["deflate", [0x78, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]],
  ["deflate-raw", [0x03, 0x00]],
  ["gzip", [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]],
]) {
  promise_test(async () => {
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    writer.write(new Uint8Array(bytes));
    writer.close();
    const { done } = await ds.readable.getReader().read();
    assert_true(done, "no chunk at all");
  }, `${format}: an empty stream [${bytes}] decompresses to no chunk`);
}

promise_test(async () => {
  // Brotli's own encoder's bytes for "isoflow" (quality 11): a format, not just our round trip.
  const hello = new Uint8Array([0x0b, 0x03, 0x80, 0x69, 0x73, 0x6f, 0x66, 0x6c, 0x6f, 0x77, 0x03]);
  const out = await pipeBytes(new DecompressionStream("brotli"), [hello]);
  assert_equals(new TextDecoder().decode(out), "isoflow");
  const compressed = await pipeBytes(new CompressionStream("brotli"), [text]);
  assert_less_than(compressed.length, text.length / 20, "brotli compresses repeated text well");
}, "brotli: decodes another encoder's bytes");

promise_test(async () => {
  const compressed = await pipeBytes(new CompressionStream("gzip"), [text]);
  assert_equals(compressed[0], 0x1f);
  assert_equals(compressed[1], 0x8b);
}, "gzip output has the gzip magic bytes");

test(() => {
  for (const format of FORMATS) {
    new CompressionStream(format);
    new DecompressionStream(format);
  }
  assert_throws_js(TypeError, () => new CompressionStream("zstd"));
  assert_throws_js(TypeError, () => new DecompressionStream("zip"));
  assert_throws_js(TypeError, () => new CompressionStream("Brotli"));
  assert_throws_js(TypeError, () => new DecompressionStream("br"));
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

for (const format of FORMATS) {
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

// A chunk bigger than one op message (and than the bridge's buffers) goes to the codec in
// pieces; incompressible bytes make the compressed chunk that big as well.
promise_test(async () => {
  const big = new Uint8Array(5 << 20);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  for (const format of FORMATS) {
    const compressed = await pipeBytes(new CompressionStream(format), [big]);
    assert_greater_than(compressed.length, 5 << 20, `${format}: incompressible`);
    const back = await pipeBytes(new DecompressionStream(format), [compressed]);
    assert_equals(back.length, big.length, format);
    assert_true(back.every((b, i) => b === big[i]), `${format}: the same bytes`);
  }
}, "chunks of several MiB round-trip in every format");
