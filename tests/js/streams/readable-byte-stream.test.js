// META: script=resources/helpers.js
// Readable byte streams: ReadableByteStreamController, ReadableStreamBYOBReader,
// ReadableStreamBYOBRequest, read(view, { min }), autoAllocateChunkSize.
"use strict";

const error1 = namedError("error1");

/** A byte stream whose controller is returned along with it; `extras` add source members. */
function byteStream(extras = {}, strategy = undefined) {
  let controller;
  const rs = new ReadableStream({
    type: "bytes",
    ...extras,
    start(c) {
      controller = c;
      return extras.start ? extras.start(c) : undefined;
    },
  }, strategy);
  return { rs, controller };
}

function viewBytes(view) {
  return Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

// --- construction -------------------------------------------------------------------------------

test(() => {
  let c;
  new ReadableStream({ type: "bytes", start(controller) { c = controller; } });
  assert_true(c instanceof ReadableByteStreamController);
  assert_equals(c.desiredSize, 0, "the default high water mark of a byte stream is 0");
  assert_equals(c.byobRequest, null);
}, "type 'bytes' makes a ReadableByteStreamController with a high water mark of 0");

test(() => {
  assert_throws_js(RangeError, () => new ReadableStream({ type: "bytes" }, { size() { return 1; } }));
  assert_throws_js(RangeError, () => new ReadableStream({ type: "bytes" }, { highWaterMark: -1 }));
  new ReadableStream({ type: "bytes" }, { highWaterMark: 16 });
}, "a byte stream rejects a size function and negative high water marks");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: 0 }));
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: -1 }));
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: NaN }));
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: 2 ** 53 }));
  new ReadableStream({ type: "bytes", autoAllocateChunkSize: 1.9 });
}, "autoAllocateChunkSize is an [EnforceRange] unsigned long long and must not be 0");

test(() => {
  const { rs } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  assert_true(reader instanceof ReadableStreamBYOBReader);
  assert_throws_js(TypeError, () => rs.getReader({ mode: "byob" }));
  reader.releaseLock();
  assert_true(new ReadableStreamBYOBReader(rs) instanceof ReadableStreamBYOBReader);
}, "getReader({ mode: 'byob' }) and new ReadableStreamBYOBReader() lock a byte stream");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStreamBYOBReader(new ReadableStream()));
  assert_throws_js(TypeError, () => new ReadableStreamBYOBReader({}));
  assert_throws_js(TypeError, () => new ReadableStreamBYOBReader());
}, "a BYOB reader needs a byte stream");

// --- enqueue ------------------------------------------------------------------------------------

test(() => {
  const { controller } = byteStream();
  assert_throws_js(TypeError, () => controller.enqueue());
  assert_throws_js(TypeError, () => controller.enqueue("bytes"));
  assert_throws_js(TypeError, () => controller.enqueue(new ArrayBuffer(4)));
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(0)));
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(new ArrayBuffer(0))));
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(new SharedArrayBuffer(4))));
}, "enqueue() accepts only non-empty ArrayBufferViews over an ArrayBuffer");

test(() => {
  const { controller } = byteStream();
  const buffer = new ArrayBuffer(8);
  const view = new Uint8Array(buffer, 2, 4);
  controller.enqueue(view);
  assert_equals(buffer.byteLength, 0, "the chunk's buffer is transferred (detached)");
  assert_equals(view.byteLength, 0);
  assert_equals(controller.desiredSize, -4, "desiredSize counts bytes");
  assert_throws_js(TypeError, () => controller.enqueue(view), "a detached chunk is refused");
}, "enqueue() transfers the chunk's buffer");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1, 2, 3]));
  controller.enqueue(new Uint16Array([0x0504]));
  const reader = rs.getReader();
  const r1 = await reader.read();
  assert_true(r1.value instanceof Uint8Array);
  assert_array_equals(viewBytes(r1.value), [1, 2, 3]);
  const r2 = await reader.read();
  assert_true(r2.value instanceof Uint8Array, "a default reader always gets Uint8Arrays");
  assert_array_equals(viewBytes(r2.value), [4, 5]);
}, "a default reader reads enqueued chunks as Uint8Arrays");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader();
  const read = reader.read();
  const buffer = new ArrayBuffer(10);
  controller.enqueue(new Uint8Array(buffer, 3, 4));
  const { value } = await read;
  assert_equals(value.byteOffset, 3, "the same region of the transferred buffer");
  assert_equals(value.byteLength, 4);
  assert_equals(value.buffer.byteLength, 10);
}, "a pending default read gets a view of the transferred buffer, no copy");

test(() => {
  const { controller } = byteStream();
  controller.close();
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(1)));
  assert_throws_js(TypeError, () => controller.close());
}, "enqueue() and close() throw after close()");

test(() => {
  const { controller } = byteStream();
  controller.error(error1);
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(1)));
  assert_throws_js(TypeError, () => controller.close());
  assert_equals(controller.desiredSize, null);
}, "enqueue() and close() throw after error()");

promise_test(async () => {
  const { rs, controller } = byteStream({}, { highWaterMark: 10 });
  assert_equals(controller.desiredSize, 10);
  controller.enqueue(new Uint8Array(4));
  assert_equals(controller.desiredSize, 6);
  const reader = rs.getReader();
  await reader.read();
  assert_equals(controller.desiredSize, 10);
  controller.close();
  assert_equals(controller.desiredSize, 0);
}, "desiredSize of a byte stream is measured in bytes");

promise_test(async () => {
  let pulls = 0;
  const { rs } = byteStream({ pull(c) { pulls++; c.enqueue(new Uint8Array([pulls])); } }, { highWaterMark: 0 });
  await flushAsyncEvents();
  assert_equals(pulls, 0, "no pull with HWM 0 and no reader");
  const reader = rs.getReader();
  const { value } = await reader.read();
  assert_array_equals(viewBytes(value), [1]);
}, "pull runs on demand for a byte stream with high water mark 0");

// --- BYOB reads -----------------------------------------------------------------------------------

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const buffer = new ArrayBuffer(8);
  const read = reader.read(new Uint8Array(buffer, 1, 4));
  assert_equals(buffer.byteLength, 0, "the view's buffer is transferred at once");
  controller.enqueue(new Uint8Array([9, 8]));
  const { value, done } = await read;
  assert_false(done);
  assert_true(value instanceof Uint8Array);
  assert_equals(value.byteOffset, 1);
  assert_equals(value.byteLength, 2, "only the bytes available are reported");
  assert_equals(value.buffer.byteLength, 8, "the same memory, in a new ArrayBuffer");
  assert_array_equals(viewBytes(value), [9, 8]);
}, "a BYOB read is filled by enqueue() with a copy into the reader's buffer");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1, 2, 3, 4, 5]));
  const reader = rs.getReader({ mode: "byob" });
  const r1 = await reader.read(new Uint8Array(2));
  assert_array_equals(viewBytes(r1.value), [1, 2]);
  const r2 = await reader.read(new Uint8Array(10));
  assert_array_equals(viewBytes(r2.value), [3, 4, 5], "the rest of a partly read chunk");
}, "BYOB reads take as many queued bytes as fit");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1, 2, 3]));
  const reader = rs.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint16Array(4));
  assert_true(value instanceof Uint16Array, "the view type is preserved");
  assert_equals(value.length, 1, "only whole elements are delivered");
  const rest = await reader.read(new Uint8Array(4));
  assert_array_equals(viewBytes(rest.value), [3], "the leftover byte stays queued");
}, "a typed array read is filled in whole elements");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1, 2, 3, 4]));
  const reader = rs.getReader({ mode: "byob" });
  const { value } = await reader.read(new DataView(new ArrayBuffer(3)));
  assert_true(value instanceof DataView);
  assert_equals(value.byteLength, 3);
  assert_equals(value.getUint8(2), 3);
}, "a DataView can be read into");

for (const [Ctor, size] of [[Int16Array, 2], [Uint32Array, 4], [Float64Array, 8], [BigInt64Array, 8]]) {
  promise_test(async () => {
    const { rs, controller } = byteStream();
    controller.enqueue(new Uint8Array(size * 2 + 1).fill(1));
    const reader = rs.getReader({ mode: "byob" });
    const { value } = await reader.read(new Ctor(4));
    assert_true(value instanceof Ctor);
    assert_equals(value.length, 2);
  }, `a ${Ctor.name} read gets whole ${size}-byte elements`);
}

promise_test(async (t) => {
  const { rs } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  await promise_rejects_js(t, TypeError, reader.read(), "missing view");
  await promise_rejects_js(t, TypeError, reader.read(new ArrayBuffer(4)), "not a view");
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(0)), "empty view");
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(new ArrayBuffer(4), 4)), "zero-length view");
  await promise_rejects_js(t, TypeError, reader.read(new DataView(new ArrayBuffer(0))), "empty DataView");
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(new SharedArrayBuffer(4))), "shared memory");
  const buffer = new ArrayBuffer(4);
  const detachedView = new Uint8Array(buffer);
  buffer.transfer();
  await promise_rejects_js(t, TypeError, reader.read(detachedView), "detached");
}, "BYOB read() rejects bad views with a TypeError");

promise_test(async (t) => {
  const { rs } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  reader.releaseLock();
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(1)));
}, "read() on a released BYOB reader rejects");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.close();
  const reader = rs.getReader({ mode: "byob" });
  const view = new Uint16Array(new ArrayBuffer(8), 2, 2);
  const { value, done } = await reader.read(view);
  assert_true(done);
  assert_true(value instanceof Uint16Array);
  assert_equals(value.byteOffset, 2);
  assert_equals(value.byteLength, 0, "an empty view over the reader's memory is handed back");
  assert_equals(value.buffer.byteLength, 8);
}, "a BYOB read of a closed stream returns an empty view of the same memory");

promise_test(async (t) => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  controller.error(error1);
  await promise_rejects_exactly(t, error1, read);
  await promise_rejects_exactly(t, error1, reader.read(new Uint8Array(4)));
  await promise_rejects_exactly(t, error1, reader.closed);
}, "erroring rejects pending and later BYOB reads");

promise_test(async () => {
  let cancelReason;
  const { rs } = byteStream({ cancel(r) { cancelReason = r; } });
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  await reader.cancel("stop");
  const { value, done } = await read;
  assert_true(done);
  assert_equals(value, undefined, "a canceled read does not return the memory");
  assert_equals(cancelReason, "stop");
}, "cancel() fulfills pending BYOB reads with done and no value");

promise_test(async (t) => {
  const { rs } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  reader.releaseLock();
  await promise_rejects_js(t, TypeError, read);
  await promise_rejects_js(t, TypeError, reader.closed);
}, "releaseLock() rejects pending BYOB reads");

// --- byobRequest ------------------------------------------------------------------------------

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(new ArrayBuffer(16), 4, 8));
  const request = controller.byobRequest;
  assert_true(request instanceof ReadableStreamBYOBRequest);
  assert_equals(controller.byobRequest, request, "the same object until responded to");
  const view = request.view;
  assert_true(view instanceof Uint8Array, "the request view is always a Uint8Array");
  assert_equals(view.byteOffset, 4);
  assert_equals(view.byteLength, 8);
  assert_equals(view.buffer.byteLength, 16);
}, "byobRequest describes the region the pending read wants filled");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  const request = controller.byobRequest;
  request.view.set([7, 6]);
  request.respond(2);
  assert_equals(request.view, null, "a responded request has no view");
  assert_equals(controller.byobRequest, null);
  const { value } = await read;
  assert_array_equals(viewBytes(value), [7, 6]);
}, "respond(n) delivers the n bytes written into the view");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(4));
  const request = controller.byobRequest;
  assert_throws_js(RangeError, () => request.respond(5), "more than the view holds");
  assert_throws_js(TypeError, () => request.respond(0), "0 on a readable stream");
  assert_throws_js(TypeError, () => request.respond(-1), "EnforceRange");
  assert_throws_js(TypeError, () => request.respond(NaN), "EnforceRange");
  assert_throws_js(TypeError, () => request.respond(), "required");
  request.respond(1);
  assert_throws_js(TypeError, () => request.respond(1), "an invalidated request");
}, "respond() validates bytesWritten");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(8));
  const request = controller.byobRequest;
  request.view.buffer.transfer();
  assert_throws_js(TypeError, () => request.respond(1), "the request's buffer was detached");
  controller.error(error1);
  await read.catch(() => {});
}, "respond() after the view's buffer was detached is a TypeError");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint16Array(4));
  const request = controller.byobRequest;
  request.view.set([1, 0, 2]);
  request.respond(3);
  const { value } = await read;
  assert_equals(value.length, 1, "one whole element");
  assert_equals(value[0], 1);
  const next = await reader.read(new Uint8Array(2));
  assert_array_equals(viewBytes(next.value), [2], "the odd byte is kept for the next read");
}, "respond() with a partial element delivers whole elements and keeps the rest");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(new ArrayBuffer(10), 2, 6));
  const request = controller.byobRequest;
  const newView = new Uint8Array(request.view.buffer, request.view.byteOffset, 3);
  newView.set([4, 5, 6]);
  request.respondWithNewView(newView);
  const { value } = await read;
  assert_equals(value.byteOffset, 2);
  assert_array_equals(viewBytes(value), [4, 5, 6]);
}, "respondWithNewView() delivers a view over the same memory");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(new ArrayBuffer(10), 2, 6));
  const request = controller.byobRequest;
  const { buffer } = request.view;
  assert_throws_js(RangeError, () => request.respondWithNewView(new Uint8Array(buffer, 3, 2)), "offset mismatch");
  assert_throws_js(RangeError, () => request.respondWithNewView(new Uint8Array(new ArrayBuffer(11), 2, 2)), "capacity mismatch");
  assert_throws_js(RangeError, () => request.respondWithNewView(new Uint8Array(buffer, 2, 7)), "too long");
  assert_throws_js(TypeError, () => request.respondWithNewView(new Uint8Array(buffer, 2, 0)), "empty while readable");
  assert_throws_js(TypeError, () => request.respondWithNewView("x"), "not a view");
  request.respondWithNewView(new Uint8Array(new ArrayBuffer(10), 2, 1));
}, "respondWithNewView() checks the new view's offset, capacity and length");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  controller.close();
  assert_equals(controller.byobRequest.view.byteLength, 4, "the request survives close()");
  assert_throws_js(TypeError, () => controller.byobRequest.respond(1), "only 0 once closed");
  controller.byobRequest.respond(0);
  const { value, done } = await read;
  assert_true(done);
  assert_equals(value.byteLength, 0);
  assert_equals(value.buffer.byteLength, 4);
}, "after close(), respond(0) finishes a pending BYOB read with done");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  controller.close();
  const view = controller.byobRequest.view;
  controller.byobRequest.respondWithNewView(new Uint8Array(view.buffer, 0, 0));
  assert_true((await read).done);
}, "after close(), respondWithNewView() of an empty view finishes the read");

promise_test(async (t) => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint16Array(2));
  controller.byobRequest.view[0] = 1;
  controller.byobRequest.respond(1);
  assert_throws_js(TypeError, () => controller.close(), "a partial element cannot be closed on");
  await promise_rejects_js(t, TypeError, read);
  await promise_rejects_js(t, TypeError, reader.closed);
}, "close() with a partially filled element errors the stream");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read1 = reader.read(new Uint8Array(2));
  const read2 = reader.read(new Uint8Array(3));
  assert_equals(controller.byobRequest.view.byteLength, 2, "the request is for the first read");
  controller.enqueue(new Uint8Array([1, 2, 3, 4]));
  assert_array_equals(viewBytes((await read1).value), [1, 2]);
  assert_array_equals(viewBytes((await read2).value), [3, 4], "one enqueue can serve several reads");
}, "an enqueue fills several pending BYOB reads in order");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  const oldRequest = controller.byobRequest;
  controller.enqueue(new Uint8Array([5]));
  assert_equals(oldRequest.view, null, "enqueue() invalidates the request");
  assert_array_equals(viewBytes((await read).value), [5]);
}, "enqueue() while a BYOB request is outstanding invalidates it");

promise_test(async () => {
  const { rs } = byteStream({
    pull(c) {
      const request = c.byobRequest;
      request.view[0] = 42;
      request.respond(1);
    },
  });
  const reader = rs.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(8));
  assert_array_equals(viewBytes(value), [42]);
}, "pull() sees the byobRequest of a pending BYOB read");

promise_test(async () => {
  let pulls = 0;
  const { rs, controller } = byteStream({ pull() { pulls++; } });
  await flushAsyncEvents();
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(1));
  assert_equals(pulls, 1, "a BYOB read on an empty started stream pulls");
  controller.byobRequest.respond(1);
}, "a BYOB read pulls when nothing is queued");

// --- min ---------------------------------------------------------------------------------------

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  let settled = false;
  const read = reader.read(new Uint8Array(6), { min: 4 }).then((r) => { settled = true; return r; });
  controller.enqueue(new Uint8Array([1, 2]));
  await flushAsyncEvents();
  assert_false(settled, "two bytes are not enough");
  controller.enqueue(new Uint8Array([3, 4, 5]));
  const { value } = await read;
  assert_array_equals(viewBytes(value), [1, 2, 3, 4, 5], "everything available up to the view's size");
}, "read(view, { min }) waits for at least min elements");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint16Array(4), { min: 2 });
  controller.enqueue(new Uint8Array([1, 0, 2]));
  await flushAsyncEvents();
  controller.enqueue(new Uint8Array([0, 3]));
  const { value } = await read;
  assert_equals(value.length, 2);
  assert_array_equals(Array.from(value), [1, 2]);
  const rest = await reader.read(new Uint8Array(4));
  assert_array_equals(viewBytes(rest.value), [3]);
}, "min counts elements of the view's type");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(8), { min: 8 });
  controller.byobRequest.view.set([1, 2, 3]);
  controller.byobRequest.respond(3);
  assert_equals(controller.byobRequest.view.byteLength, 5, "the request continues where it stopped");
  assert_equals(controller.byobRequest.view.byteOffset, 3);
  controller.byobRequest.view.set([4, 5, 6, 7, 8]);
  controller.byobRequest.respond(5);
  assert_array_equals(viewBytes((await read).value), [1, 2, 3, 4, 5, 6, 7, 8]);
}, "with min, respond() below the minimum keeps the request open");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(8), { min: 8 });
  controller.enqueue(new Uint8Array([1, 2, 3]));
  controller.close();
  controller.byobRequest.respond(0);
  const { value, done } = await read;
  assert_true(done, "a close before min is reached ends the read");
  assert_array_equals(viewBytes(value), [1, 2, 3], "with what had been read");
}, "with min, closing the stream delivers the partial fill with done");

promise_test(async (t) => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1, 2]));
  controller.close();
  const reader = rs.getReader({ mode: "byob" });
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(4), { min: 4 }),
    "a closing stream cannot satisfy min from its queue");
  await promise_rejects_js(t, TypeError, reader.closed);
}, "with min, a queue that cannot reach min before close errors the stream");

promise_test(async (t) => {
  const { rs } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(4), { min: 0 }));
  await promise_rejects_js(t, RangeError, reader.read(new Uint8Array(4), { min: 5 }));
  await promise_rejects_js(t, RangeError, reader.read(new Uint16Array(4), { min: 5 }), "elements, not bytes");
  await promise_rejects_js(t, RangeError, reader.read(new DataView(new ArrayBuffer(4)), { min: 5 }));
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(4), { min: -1 }));
  await promise_rejects_js(t, TypeError, reader.read(new Uint8Array(4), 5), "options must be a dictionary");
}, "read() rejects an out-of-range min");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1, 2, 3, 4]));
  const reader = rs.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(4), { min: 4 });
  assert_array_equals(viewBytes(value), [1, 2, 3, 4]);
}, "with min, a read served entirely from the queue resolves at once");

// --- autoAllocateChunkSize --------------------------------------------------------------------

promise_test(async () => {
  let seenLength;
  const { rs } = byteStream({
    autoAllocateChunkSize: 16,
    pull(c) {
      const view = c.byobRequest.view;
      seenLength = view.byteLength;
      view.set([1, 2, 3]);
      c.byobRequest.respond(3);
    },
  });
  const reader = rs.getReader();
  const { value } = await reader.read();
  assert_equals(seenLength, 16, "a buffer of autoAllocateChunkSize bytes");
  assert_true(value instanceof Uint8Array);
  assert_array_equals(viewBytes(value), [1, 2, 3]);
  assert_equals(value.buffer.byteLength, 16, "the same allocation is handed to the reader");
}, "autoAllocateChunkSize gives default reads a byobRequest");

promise_test(async () => {
  const { rs } = byteStream({
    autoAllocateChunkSize: 4,
    pull(c) { c.enqueue(new Uint8Array([8, 9])); },
  });
  const { value } = await rs.getReader().read();
  assert_array_equals(viewBytes(value), [8, 9]);
}, "with autoAllocateChunkSize the source may still enqueue()");

promise_test(async () => {
  let request = "unset";
  const { rs } = byteStream({ pull(c) { request = c.byobRequest; c.enqueue(new Uint8Array(1)); } });
  await rs.getReader().read();
  assert_equals(request, null, "no byobRequest for a default read without autoAllocateChunkSize");
}, "without autoAllocateChunkSize a default read has no byobRequest");

// --- releasing a reader with a pending pull-into --------------------------------------------------

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  const request = controller.byobRequest;
  reader.releaseLock();
  await read.catch(() => {});
  assert_not_equals(request.view, null, "the request stays valid after the reader is released");
  request.view.set([5, 6]);
  request.respond(2);
  const reader2 = rs.getReader();
  const { value } = await reader2.read();
  assert_array_equals(viewBytes(value), [5, 6], "the bytes written are kept for the next reader");
}, "bytes written for a released BYOB reader are queued for the next reader");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader({ mode: "byob" });
  reader.read(new Uint8Array(4)).catch(() => {});
  reader.releaseLock();
  const reader2 = rs.getReader({ mode: "byob" });
  const read2 = reader2.read(new Uint8Array(2));
  controller.enqueue(new Uint8Array([1, 2, 3]));
  const { value } = await read2;
  assert_array_equals(viewBytes(value), [1, 2]);
}, "an enqueue after a released BYOB read serves the next reader");

// --- cancel and errors ---------------------------------------------------------------------------

promise_test(async () => {
  let reason;
  const { rs, controller } = byteStream({ cancel(r) { reason = r; } });
  controller.enqueue(new Uint8Array(4));
  await rs.cancel("bye");
  assert_equals(reason, "bye");
  assert_equals(controller.byobRequest, null);
}, "cancel() of a byte stream discards its queue and calls the source");

promise_test(async (t) => {
  const { rs } = byteStream({ pull() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.getReader({ mode: "byob" }).read(new Uint8Array(1)));
}, "an exception from pull() errors a byte stream");

promise_test(async (t) => {
  const { rs } = byteStream({ start() { return Promise.reject(error1); } });
  await promise_rejects_exactly(t, error1, rs.getReader().closed);
}, "a rejected start() errors a byte stream");

test(() => {
  const { controller } = byteStream();
  const proto = ReadableByteStreamController.prototype;
  assert_throws_js(TypeError, () => proto.enqueue.call({}, new Uint8Array(1)));
  assert_throws_js(TypeError, () => proto.close.call(controller.byobRequest));
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(proto, "byobRequest").get.call({}));
  assert_throws_js(TypeError, () => ReadableStreamBYOBRequest.prototype.respond.call({}, 1));
  assert_throws_js(TypeError, () => new ReadableByteStreamController());
  assert_throws_js(TypeError, () => new ReadableStreamBYOBRequest());
}, "byte stream controller and BYOB request methods check their this value");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const reader = rs.getReader();
  const r1 = reader.read();
  const r2 = reader.read();
  controller.enqueue(new Uint8Array([1]));
  controller.enqueue(new Uint8Array([2]));
  assert_array_equals(viewBytes((await r1).value), [1]);
  assert_array_equals(viewBytes((await r2).value), [2]);
  controller.close();
  assert_true((await reader.read()).done);
}, "pending default reads of a byte stream are served in order");

promise_test(async () => {
  const { rs, controller } = byteStream();
  controller.enqueue(new Uint8Array([1]));
  controller.close();
  const reader = rs.getReader();
  assert_array_equals(viewBytes((await reader.read()).value), [1]);
  assert_true((await reader.read()).done);
  await reader.closed;
}, "a byte stream closes once its queue is drained");

promise_test(async () => {
  const chunks = [];
  const { rs } = byteStream({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array([i]));
      c.close();
    },
  });
  for await (const chunk of rs) chunks.push(...viewBytes(chunk));
  assert_array_equals(chunks, [0, 1, 2, 3, 4]);
}, "a byte stream can be async-iterated");

promise_test(async (t) => {
  const { rs, controller } = byteStream();
  const resizable = () => new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }));
  assert_throws_js(TypeError, () => controller.enqueue(resizable()));
  const reader = rs.getReader({ mode: "byob" });
  await promise_rejects_js(t, TypeError, reader.read(resizable()));
}, "views over resizable ArrayBuffers are refused (ArrayBufferView without [AllowResizable])");
