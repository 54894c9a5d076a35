// atob() and btoa() (HTML standard, forgiving-base64).

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A straightforward reading of forgiving-base64 decode, as an oracle: string or null. */
function referenceAtob(input) {
  let s = String(input).replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/==?$/, "");
  if (s.length % 4 === 1 || !/^[A-Za-z0-9+/]*$/.test(s)) return null;
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const ch of s) {
    buffer = (buffer << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 0xff);
    }
  }
  return out;
}

test(() => {
  assert_equals(atob.length, 1);
  assert_equals(btoa.length, 1);
  assert_throws_js(TypeError, () => atob());
  assert_throws_js(TypeError, () => btoa());
}, "atob and btoa take one required argument");

const ATOB_INPUTS = [
  "", "abcd", " abcd", "abcd ", "abcd===", " abcd===", "abcd=== ", "abcd ===", "a", "ab", "abc",
  "abcde", "\ud800\udc00", "=", "==", "===", "====", "=====", "a=", "a==", "a===", "a====",
  "ab=", "ab==", "ab===", "ab====", "abc=", "abc==", "abc===", "abcd=", "abcd==", "abcd====",
  "abcde=", "abcde==", "=a", "=a=", "a=b", "a=b=", "ab=c", "ab=c=", "abc=d", "abc=d=",
  "ab\ncd", "ab\tcd", "ab\fcd", "ab\rcd", "ab\vcd", "ab\u00a0cd", "ab = =", "A", "/A", "//A", "///A", "////A",
  "/", "A/", "AA/", "AAAA/", "AAA/", "\0", "\0nonsense", "abcd\0nonsense", "YQ", "YR", "YWI",
  "YWJj", "-_-_", "ab-c", "ab_c",
];

for (const input of ATOB_INPUTS) {
  test(() => {
    const expected = referenceAtob(input);
    if (expected === null) {
      assert_throws_dom("InvalidCharacterError", () => atob(input));
    } else {
      assert_equals(atob(input), expected);
    }
  }, `atob(${JSON.stringify(input)})`);
}

test(() => {
  for (const value of [undefined, null, 7, 12, 1.5, true, false, NaN, Infinity, -Infinity, 0, -0]) {
    const expected = referenceAtob(String(value));
    if (expected === null) assert_throws_dom("InvalidCharacterError", () => atob(value), String(value));
    else assert_equals(atob(value), expected, String(value));
  }
  assert_equals(atob({ toString: () => "abcd" }), atob("abcd"));
  assert_throws_js(TypeError, () => atob(Symbol("s")));
}, "atob converts its argument with DOMString rules");

test(() => {
  const e = (() => {
    try {
      atob("a");
    } catch (err) {
      return err;
    }
    return null;
  })();
  assert_true(e instanceof DOMException);
  assert_equals(e.code, 5);
}, "atob failures are InvalidCharacterError DOMExceptions (code 5)");

const BTOA_INPUTS = ["עברית", "", "a", "ab", "abc", "abcd", "abcde", "\xff\xff\xc0", "\0", "\0a", "a\0b"];

for (const input of BTOA_INPUTS) {
  test(() => {
    if ([...input].some((c) => c.charCodeAt(0) > 255)) {
      assert_throws_dom("InvalidCharacterError", () => btoa(input));
      return;
    }
    const encoded = btoa(input);
    const bytes = Uint8Array.from(input, (c) => c.charCodeAt(0));
    assert_equals(encoded, bytes.toBase64());
    assert_equals(atob(encoded), input);
  }, `btoa(${JSON.stringify(input)}) round-trips`);
}

test(() => {
  let all = "";
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  const encoded = btoa(all);
  assert_equals(encoded.length, 344);
  assert_equals(atob(encoded), all);
}, "btoa of every Latin-1 code point round-trips");

test(() => {
  for (const s of ["\u0100", "a\u20acb", "\ud800\udc00", "\uffff", String.fromCharCode(10000)]) {
    assert_throws_dom("InvalidCharacterError", () => btoa(s), JSON.stringify(s));
  }
}, "btoa rejects code units above U+00FF");

test(() => {
  assert_equals(btoa(undefined), "dW5kZWZpbmVk");
  assert_equals(btoa(null), "bnVsbA==");
  assert_equals(btoa(12), "MTI=");
  assert_equals(btoa(true), "dHJ1ZQ==");
  assert_equals(btoa({ toString: () => "foo" }), "Zm9v");
}, "btoa converts its argument with DOMString rules");

test(() => {
  const big = "x".repeat(3 * 100000 + 1);
  assert_equals(atob(btoa(big)), big);
}, "large inputs round-trip");

test(() => {
  for (const name of ["atob", "btoa"]) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_true(desc.writable);
    assert_true(desc.enumerable); // a regular operation of the global: enumerable
    assert_true(desc.configurable);
  }
}, "atob and btoa are exposed like Web IDL operations");
