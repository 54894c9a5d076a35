// META: script=resources/helpers.js
// IdentityTransformStream and FixedLengthStream (Cloudflare Workers' byte-only identity
// transforms): bytes pass through unchanged and unqueued, BYOB reads work, a
// FixedLengthStream checks its byte count and gives a body its length.

const bytes = (...values) => new Uint8Array(values);

test(() => {
  const t = new IdentityTransformStream();
  assert_true(t instanceof TransformStream);
  assert_true(t.readable instanceof ReadableStream);
  assert_true(t.writable instanceof WritableStream);
  assert_equals(Object.prototype.toString.call(t), "[object IdentityTransformStream]");
  const f = new FixedLengthStream(3);
  assert_true(f instanceof IdentityTransformStream && f instanceof TransformStream);
  assert_equals(Object.prototype.toString.call(f), "[object FixedLengthStream]");
  assert_equals(f.readable, f.readable, "[SameObject]");
}, "the classes, their sides and their brands");

promise_test(async () => {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const source = bytes(1, 2, 3);
  const written = [writer.write(source), writer.write(new Uint16Array([0x0504]).buffer),
    writer.write(new DataView(bytes(9, 6, 7).buffer, 1)), writer.close()];
  assert_array_equals(bytesOf(await readAll(readable)), [1, 2, 3, 4, 5, 6, 7]);
  await Promise.all(written);
}, "bytes of every BufferSource pass through as written");

promise_test(async () => {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  let done = false;
  const first = writer.write(bytes(1, 2)).then(() => { done = true; });
  await new Promise((r) => setTimeout(r, 5));
  assert_false(done, "a write waits until a read takes its chunk");
  const reader = readable.getReader();
  assert_array_equals([...(await reader.read()).value], [1, 2]);
  await first;
  assert_true(done);
  // A read already waiting takes the next chunk at once: the write is done.
  const pending = reader.read();
  await writer.write(bytes(3));
  assert_array_equals([...(await pending).value], [3]);
}, "no queue: a write resolves once a read has taken its chunk");

promise_test(async () => {
  const { readable, writable } = new IdentityTransformStream({ highWaterMark: 4 });
  const writer = writable.getWriter();
  await writer.write(bytes(1, 2)); // within the high water mark: done without a read
  await writer.write(bytes(3, 4));
  let third = false;
  writer.write(bytes(5)).then(() => { third = true; });
  await new Promise((r) => setTimeout(r, 5));
  assert_false(third, "past the high water mark a write waits");
  writer.close();
  assert_array_equals(bytesOf(await readAll(readable)), [1, 2, 3, 4, 5]);
}, "a highWaterMark lets writes run ahead by that many bytes");

promise_test(async () => {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  writer.write(bytes(1, 2, 3, 4, 5));
  writer.close();
  const reader = readable.getReader({ mode: "byob" });
  const first = await reader.read(new Uint8Array(2));
  assert_array_equals([...first.value], [1, 2]);
  const second = await reader.read(new Uint8Array(8));
  assert_array_equals([...second.value], [3, 4, 5]);
  assert_true((await reader.read(new Uint8Array(1))).done);
}, "the readable side is a byte stream: BYOB reads");

promise_test(async (t) => {
  const writer = new IdentityTransformStream().writable.getWriter();
  await promise_rejects_js(t, TypeError, writer.write("text"));
  const other = new IdentityTransformStream().writable.getWriter();
  await promise_rejects_js(t, TypeError, other.write({ length: 1 }));
}, "a chunk that is not bytes is a TypeError");

promise_test(async (t) => {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const write = writer.write(bytes(1));
  await readable.cancel(new RangeError("enough"));
  await promise_rejects_js(t, RangeError, write);
  await promise_rejects_js(t, RangeError, writer.closed);
  const other = new IdentityTransformStream();
  other.writable.abort(new RangeError("gone"));
  await promise_rejects_js(t, RangeError, other.readable.getReader().read());
}, "cancel and abort cross to the other side");

promise_test(async (t) => {
  const { readable, writable } = new FixedLengthStream(4);
  const writer = writable.getWriter();
  const reading = readAll(readable);
  await writer.write(bytes(1, 2));
  await promise_rejects_js(t, TypeError, writer.write(bytes(3, 4, 5)));
  await promise_rejects_js(t, TypeError, reading);
  const short = new FixedLengthStream(4n);
  const shortWriter = short.writable.getWriter();
  const shortReading = readAll(short.readable);
  await shortWriter.write(bytes(1));
  await promise_rejects_js(t, TypeError, shortWriter.close());
  await promise_rejects_js(t, TypeError, shortReading);
  const exact = new FixedLengthStream(2);
  const exactWriter = exact.writable.getWriter();
  exactWriter.write(bytes(7, 8));
  exactWriter.close();
  assert_array_equals(bytesOf(await readAll(exact.readable)), [7, 8]);
}, "FixedLengthStream: more or fewer bytes than its length error both sides");

test(() => {
  for (const bad of [-1, 1.5, NaN, 2 ** 53, "3", undefined, -1n, 2n ** 53n]) {
    assert_throws_js(TypeError, () => new FixedLengthStream(bad), String(bad));
  }
  new FixedLengthStream(0);
  new FixedLengthStream(2 ** 53 - 1);
}, "FixedLengthStream's length: a whole number of bytes up to 2^53 - 1");

promise_test(async () => {
  const { readable, writable } = new FixedLengthStream(5);
  const response = new Response(readable);
  const writer = writable.getWriter();
  writer.write(new TextEncoder().encode("hello"));
  writer.close();
  assert_equals(await response.text(), "hello");
  const request = new Request("https://example.com/", {
    method: "POST", body: new FixedLengthStream(0).readable, duplex: "half",
  });
  assert_true(request.body instanceof ReadableStream);
}, "its readable side is a body");

promise_test(async (t) => {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  writer.write(new Uint8Array([1, 2]));
  writer.write(new Uint8Array([3, 4, 5]));
  writer.close();
  const reader = readable.getReader({ mode: "byob" });
  const { value } = await reader.readAtLeast(4, new Uint8Array(8));
  assert_array_equals([...value], [1, 2, 3, 4, 5], "reads on until 4 bytes are in");
  const wide = await reader.readAtLeast(2, new Uint16Array(2));
  assert_true(wide.done);
  const other = new IdentityTransformStream().readable.getReader({ mode: "byob" });
  await promise_rejects_js(t, TypeError, other.readAtLeast(0, new Uint8Array(4)));
  await promise_rejects_js(t, RangeError, other.readAtLeast(5, new Uint8Array(4)));
}, "ReadableStreamBYOBReader.readAtLeast (a Workers extension) fills at least that many bytes");
