// META: script=resources/helpers.js
// TextEncoderStream and TextDecoderStream.
"use strict";

async function encodeChunks(chunks) {
  const ts = new TextEncoderStream();
  const writer = ts.writable.getWriter();
  for (const c of chunks) writer.write(c);
  writer.close();
  return readAll(ts.readable);
}

async function decodeChunks(chunks, label, options) {
  const ts = new TextDecoderStream(label, options);
  const writer = ts.writable.getWriter();
  for (const c of chunks) writer.write(c).catch(() => {});
  writer.close().catch(() => {});
  return (await readAll(ts.readable)).join("");
}

// --- TextEncoderStream ---------------------------------------------------------------------------

test(() => {
  const ts = new TextEncoderStream();
  assert_equals(ts.encoding, "utf-8");
  assert_true(ts.readable instanceof ReadableStream);
  assert_true(ts.writable instanceof WritableStream);
  assert_equals(ts.readable, ts.readable);
  assert_false(ts instanceof TransformStream, "a GenericTransformStream is not a TransformStream");
}, "TextEncoderStream has encoding, readable and writable");

promise_test(async () => {
  const chunks = await encodeChunks(["hi", "\u00e9"]);
  assert_equals(chunks.length, 2);
  assert_true(chunks[0] instanceof Uint8Array);
  assert_array_equals(Array.from(chunks[0]), [0x68, 0x69]);
  assert_array_equals(Array.from(chunks[1]), [0xc3, 0xa9]);
}, "TextEncoderStream encodes each chunk to UTF-8 Uint8Arrays");

promise_test(async () => {
  const chunks = await encodeChunks(["a\ud83d", "\ude00b"]);
  assert_array_equals(bytesOf(chunks), [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62]);
}, "a surrogate pair split across chunks is joined");

promise_test(async () => {
  const chunks = await encodeChunks(["\ud83d", "\ude00"]);
  assert_equals(chunks.length, 1, "a chunk that is only a leading surrogate produces nothing yet");
  assert_array_equals(bytesOf(chunks), [0xf0, 0x9f, 0x98, 0x80]);
}, "a chunk made of a lone leading surrogate waits for the next chunk");

promise_test(async () => {
  const chunks = await encodeChunks(["a\ud83d"]);
  assert_array_equals(bytesOf(chunks), [0x61, 0xef, 0xbf, 0xbd], "a dangling surrogate is flushed as U+FFFD");
}, "a leading surrogate at the end becomes U+FFFD on close");

promise_test(async () => {
  const chunks = await encodeChunks(["\ud83dx", "\ude00"]);
  assert_array_equals(bytesOf(chunks), [0xef, 0xbf, 0xbd, 0x78, 0xef, 0xbf, 0xbd]);
}, "lone surrogates become U+FFFD");

promise_test(async () => {
  const chunks = await encodeChunks(["", "x", ""]);
  assert_equals(chunks.length, 1, "empty strings produce no chunks");
}, "empty chunks produce no output");

promise_test(async () => {
  const chunks = await encodeChunks([1, null, undefined, { toString() { return "o"; } }]);
  assert_equals(new TextDecoder().decode(new Uint8Array(bytesOf(chunks))), "1nullundefinedo");
}, "chunks are converted with ToString");

promise_test(async (t) => {
  const ts = new TextEncoderStream();
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  reader.read().catch(() => {});
  await promise_rejects_js(t, TypeError, writer.write(Symbol("s")));
  await promise_rejects_js(t, TypeError, reader.closed);
}, "a chunk that cannot become a string errors the stream");

// --- TextDecoderStream ---------------------------------------------------------------------------

test(() => {
  const ts = new TextDecoderStream();
  assert_equals(ts.encoding, "utf-8");
  assert_false(ts.fatal);
  assert_false(ts.ignoreBOM);
  const ts2 = new TextDecoderStream("UTF-16LE", { fatal: true, ignoreBOM: true });
  assert_equals(ts2.encoding, "utf-16le");
  assert_true(ts2.fatal);
  assert_true(ts2.ignoreBOM);
  assert_equals(new TextDecoderStream(" latin1 ").encoding, "windows-1252");
}, "TextDecoderStream: encoding labels and options");

test(() => {
  assert_throws_js(RangeError, () => new TextDecoderStream("nope"));
  assert_throws_js(RangeError, () => new TextDecoderStream("replacement"));
  assert_throws_js(TypeError, () => new TextDecoderStream("utf-8", 5));
}, "TextDecoderStream: an unknown label is a RangeError");

promise_test(async () => {
  assert_equals(await decodeChunks([new Uint8Array([0x68, 0x69])]), "hi");
}, "TextDecoderStream decodes UTF-8");

promise_test(async () => {
  const euro = [0xe2, 0x82, 0xac];
  assert_equals(await decodeChunks([new Uint8Array(euro.slice(0, 1)), new Uint8Array(euro.slice(1))]), "\u20ac");
  const ts = new TextDecoderStream();
  const writer = ts.writable.getWriter();
  writer.write(new Uint8Array([0xe2, 0x82]));
  writer.write(new Uint8Array([0xac]));
  writer.close();
  const chunks = await readAll(ts.readable);
  assert_array_equals(chunks, ["\u20ac"], "no chunk is produced for an incomplete sequence");
}, "a character split across chunks is decoded once complete");

promise_test(async () => {
  assert_equals(await decodeChunks([new Uint8Array([0xef, 0xbb, 0xbf, 0x61])]), "a");
  assert_equals(await decodeChunks([new Uint8Array([0xef, 0xbb]), new Uint8Array([0xbf, 0x61])]), "a");
  assert_equals(await decodeChunks([new Uint8Array([0xef, 0xbb, 0xbf, 0x61])], "utf-8", { ignoreBOM: true }), "\ufeffa");
}, "a leading BOM is dropped unless ignoreBOM");

promise_test(async () => {
  assert_equals(await decodeChunks([new Uint8Array([0x61, 0xe2])]), "a\ufffd", "an incomplete tail is U+FFFD");
  assert_equals(await decodeChunks([new Uint8Array([0xff])]), "\ufffd");
}, "invalid bytes become U+FFFD when not fatal");

promise_test(async (t) => {
  const ts = new TextDecoderStream("utf-8", { fatal: true });
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  reader.read().catch(() => {});
  await promise_rejects_js(t, TypeError, writer.write(new Uint8Array([0xff])));
  await promise_rejects_js(t, TypeError, reader.closed);
}, "fatal: invalid bytes error the stream with a TypeError");

promise_test(async (t) => {
  const ts = new TextDecoderStream("utf-8", { fatal: true });
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  reader.read().catch(() => {});
  writer.write(new Uint8Array([0xe2]));
  const close = writer.close();
  await promise_rejects_js(t, TypeError, close, "an incomplete sequence at close is an error");
  await promise_rejects_js(t, TypeError, reader.closed);
}, "fatal: an incomplete sequence at the end errors the stream");

promise_test(async () => {
  const buffer = new Uint8Array([0x61, 0x62, 0x63]).buffer;
  assert_equals(await decodeChunks([buffer]), "abc", "ArrayBuffer");
  assert_equals(await decodeChunks([new DataView(buffer, 1)]), "bc", "DataView");
  assert_equals(await decodeChunks([new Uint16Array([0x6261])]), "ab", "other typed arrays");
  const shared = new Uint8Array(new SharedArrayBuffer(1));
  shared[0] = 0x7a;
  assert_equals(await decodeChunks([shared]), "z", "shared memory is allowed");
}, "TextDecoderStream accepts any BufferSource, shared or not");

promise_test(async (t) => {
  for (const bad of ["text", 1, {}, null, undefined]) {
    const ts = new TextDecoderStream();
    const writer = ts.writable.getWriter();
    const reader = ts.readable.getReader();
    reader.read().catch(() => {});
    await promise_rejects_js(t, TypeError, writer.write(bad), String(bad));
  }
}, "a chunk that is not a BufferSource errors the stream with a TypeError");

promise_test(async () => {
  const bytes = new Uint8Array([0x3d, 0xd8, 0x00, 0xde]);
  assert_equals(await decodeChunks([bytes.slice(0, 1), bytes.slice(1, 3), bytes.slice(3)], "utf-16le"), "\u{1F600}");
}, "UTF-16LE across chunk boundaries");

promise_test(async () => {
  assert_equals(await decodeChunks([new Uint8Array([0xe9, 0x80])], "windows-1252"), "\u00e9\u20ac");
}, "a single-byte encoding");

promise_test(async () => {
  const text = "héllo wörld \u{1F600} ".repeat(50);
  const encoded = new TextEncoder().encode(text);
  const source = new ReadableStream({
    start(c) {
      for (let i = 0; i < encoded.length; i += 7) c.enqueue(encoded.slice(i, i + 7));
      c.close();
    },
  });
  const out = await readAll(source.pipeThrough(new TextDecoderStream()));
  assert_equals(out.join(""), text);
  const roundTrip = await readAll(
    new ReadableStream({ start(c) { c.enqueue(text); c.close(); } })
      .pipeThrough(new TextEncoderStream())
      .pipeThrough(new TextDecoderStream()),
  );
  assert_equals(roundTrip.join(""), text);
}, "pipeThrough(TextDecoderStream) of text cut at arbitrary byte boundaries");

test(() => {
  const ts = new TextDecoderStream();
  const getEncoding = Object.getOwnPropertyDescriptor(TextDecoderStream.prototype, "encoding").get;
  assert_throws_js(TypeError, () => getEncoding.call(new TextEncoderStream()));
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(TextEncoderStream.prototype, "readable").get.call(ts));
}, "the two classes do not accept each other as this");
