// META: script=resources/util.js
// Cloudflare Workers extras: crypto.subtle.timingSafeEqual and crypto.DigestStream.

test(() => {
  const eq = crypto.subtle.timingSafeEqual.bind(crypto.subtle);
  assert_true(eq(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])));
  assert_false(eq(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])));
  assert_true(eq(new ArrayBuffer(0), new Uint8Array(0)));
  assert_true(eq(new Uint16Array([0x0201]).buffer, new Uint8Array([1, 2])), "bytes, whatever the view");
  assert_throws_js(TypeError, () => eq(new Uint8Array(2), new Uint8Array(3)), "lengths differ");
  assert_throws_js(TypeError, () => eq("ab", "ab"), "strings are not buffers");
  assert_throws_js(TypeError, () => crypto.subtle.timingSafeEqual.call({}, new Uint8Array(1), new Uint8Array(1)));
}, "timingSafeEqual compares bytes and demands equal lengths");

promise_test(async () => {
  const stream = new crypto.DigestStream("SHA-256");
  assert_true(stream instanceof WritableStream);
  const writer = stream.getWriter();
  await writer.write(utf8("a"));
  await writer.write(new Uint8Array([0x62]).buffer);
  await writer.write("c");
  await writer.close();
  assert_equals(hex(await stream.digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}, "DigestStream hashes what is written to it");

promise_test(async () => {
  const data = new Uint8Array(3 * 1048576);
  for (let i = 0; i < data.length; i++) data[i] = i * 7;
  const stream = new crypto.DigestStream({ name: "SHA-512" });
  await new Blob([data]).stream().pipeTo(stream);
  assert_equals(hex(await stream.digest), hex(await crypto.subtle.digest("SHA-512", data)));
}, "DigestStream takes a piped body and agrees with digest()");

promise_test(async (t) => {
  assert_throws_dom("NotSupportedError", () => new crypto.DigestStream("MD5"));
  assert_throws_js(TypeError, () => new crypto.DigestStream());
  const stream = new crypto.DigestStream("SHA-1");
  const writer = stream.getWriter();
  await writer.write(new Uint8Array(4));
  const reason = new Error("stop");
  await writer.abort(reason);
  await promise_rejects_exactly(t, reason, stream.digest);
  const bad = new crypto.DigestStream("SHA-1");
  await promise_rejects_js(t, TypeError, bad.getWriter().write(42));
}, "DigestStream errors");
