// IDNA through the host parser: UTS #46 ToASCII with the URL Standard's options
// (nontransitional, CheckBidi, CheckJoiners, no STD3 rules, no DNS length check), after
// percent-decoding. Each case is [input host, expected hostname or null for failure],
// parsed as https://<host>/. Covered: mapping (case, width, compatibility), deviations kept,
// ignored and disallowed code points, NFC, leading combining marks, Punycode labels
// (valid, invalid, non-ASCII, ASCII-only, uppercase), the Bidi Rule in Bidi domain names,
// the ContextJ rules for ZWNJ and ZWJ, and empty labels.

const cases = [
  ["BÜCHER.example", "xn--bcher-kva.example"],
  ["bücher.example", "xn--bcher-kva.example"],
  ["bu\u0308cher.example", "xn--bcher-kva.example"],
  ["faß.example", "xn--fa-hia.example"],
  ["FASS.example", "fass.example"],
  ["ẞ.example", "xn--zca.example"],
  ["βόλος.example", "xn--nxasmm1c.example"],
  ["ΒΌΛΟΣ.example", "xn--nxasmq6b.example"],
  ["βόλοσ.example", "xn--nxasmq6b.example"],
  ["ＥＸＡＭＰＬＥ．ｃｏｍ", "example.com"],
  ["example。com", "example.com"],
  ["example｡com", "example.com"],
  ["ｶﾀｶﾅ.example", "xn--lcka3d1b.example"],
  ["ℌ.example", "h.example"],
  ["①.example", "1.example"],
  ["㍿.example", "xn--6oqv20b1zgzxr.example"],
  ["ﬁ.example", "fi.example"],
  ["Ⅸ.example", "ix.example"],
  ["µ.example", "xn--xxa.example"],
  ["ǅ.example", "xn--d-toa.example"],
  ["a\u00adb.example", "ab.example"],
  ["a\u200bb.example", "ab.example"],
  ["a\u034fb.example", "ab.example"],
  ["a\ufe0fb.example", "ab.example"],
  ["\u00ad.example", ".example"],
  ["a\u2060b.example", "ab.example"],
  ["�.example", null],
  ["a⒈b.example", null],
  ["\ue000.example", null],
  ["\u0378.example", null],
  ["a\u0080b.example", null],
  ["\u00a0.example", null],
  ["a\u3000b.example", null],
  ["a＃b.example", null],
  ["a／b.example", null],
  ["a℀b.example", null],
  ["\u0300a.example", null],
  ["a\u0300.example", "xn--0ca.example"],
  ["\u0903a.example", null],
  ["xn--bcher-kva.example", "xn--bcher-kva.example"],
  ["XN--BCHER-KVA.example", "xn--bcher-kva.example"],
  ["xn--bcher-kva.bücher", "xn--bcher-kva.xn--bcher-kva"],
  ["xn--bcher-kvaé.bücher", null],
  ["xn--abc.bücher", null],
  ["xn--ab-.bücher", null],
  ["xn--a-ecp.bücher", null],
  ["xn--zca.bücher", "xn--zca.xn--bcher-kva"],
  ["xn--ZCA.bücher", "xn--zca.xn--bcher-kva"],
  ["xn--.bücher", null],
  ["xn--xn--zca-.bücher", null],
  ["xn--1ug.bücher", null],
  ["xn--53h.bücher", "xn--53h.xn--bcher-kva"],
  ["xn--9a.bücher", "xn--9a.xn--bcher-kva"],
  ["אב.example", "xn--4dbc.example"],
  ["אב", "xn--4dbc"],
  ["אב.ג", "xn--4dbc.xn--6db"],
  ["א1.example", "xn--1-zhc.example"],
  ["אa.example", null],
  ["aא.example", null],
  ["א١1.example", null],
  ["ا١٢.example", "xn--mgb0jd.example"],
  ["ا12.example", "xn--12-btd.example"],
  ["א\u05b0.example", "xn--7cb7d.example"],
  ["1א.example", null],
  ["a.א", "a.xn--4db"],
  ["a-.א", null],
  ["1a.א", null],
  ["a1.א", "a1.xn--4db"],
  ["א-.example", null],
  ["א.ב-", null],
  ["١.א", null],
  ["क\u094d\u200cष.example", "xn--11b2ezcs70k.example"],
  ["क\u200cष.example", null],
  ["क\u094d\u200dष.example", "xn--11b2ezcw70k.example"],
  ["ب\u200cي.example", "xn--ngb2ev20h.example"],
  ["ب\u064b\u200c\u064bي.example", "xn--ngb2eca8704a.example"],
  ["ا\u200cب.example", null],
  ["ب\u200cا.example", "xn--mgbb899q.example"],
  ["a\u200cb.example", null],
  ["\u200d.example", null],
  ["a\u200d.example", null],
  ["☕.example", "xn--53h.example"],
  ["😀.example", "xn--e28h.example"],
  ["≠.example", "xn--1ch.example"],
  ["=\u0338.example", "xn--1ch.example"],
  ["a..example", "a..example"],
  [".example", ".example"],
  ["example.", "example."],
  ["example..", "example.."],
  ["日本語.jp", "xn--wgv71a119e.jp"],
  ["ශ\u0dca\u200dර\u0dd3.lk", "xn--10cl1a0b660p.lk"],
  ["نامه\u200cای.ir", "xn--mgba3gch31f060k.ir"],
  ["%C3%BC.example", "xn--tda.example"],
  ["%E2%98%95.example", "xn--53h.example"],
  ["%C3.example", null],
  ["%EF%BF%BD.example", null],
  ["xn--nxasmq6b.example", "xn--nxasmq6b.example"],
  ["ǆ.example", "xn--d-toa.example"],
  ["İ.example", "xn--i-9bb.example"],
  ["\u212a.example", "k.example"]

];

for (const [input, expected] of cases) {
  test(() => {
    if (expected === null) {
      assert_throws_js(TypeError, () => new URL(`https://${input}/`));
      return;
    }
    const url = new URL(`https://${input}/`);
    assert_equals(url.hostname, expected, "hostname");
    assert_equals(url.href, `https://${expected}/`, "href");
  }, `host ${JSON.stringify(input)}`);
}

test(() => {
  // ASCII domains are lowercased and not checked by ToASCII (web compatibility).
  assert_equals(new URL("https://XN--A.example/").hostname, "xn--a.example");
  assert_equals(new URL("https://xn--.example/").hostname, "xn--.example");
  assert_equals(new URL("https://a-.-b.example/").hostname, "a-.-b.example");
}, "ASCII domains are only lowercased");

// URL standard "domain to ASCII" with beStrict false, since whatwg/url#914 (2026): when the
// domain is an ASCII string, a ToASCII failure is only a validation error and the result
// is the domain lowercased, so ASCII "xn--" labels that do not decode, or decode to a label
// that is not valid, are accepted as they are. (The 2023-2026 text ran ToASCII on ASCII
// domains with an "xn--" label and failed; browsers could not ship that.) Each row is one
// that the older text rejected.
const asciiPunycodeCases = [
  "xn--", // decodes to the empty label
  "xn---",
  "xn--.example",
  "example.xn--",
  "xn--a", // decodes to U+0080, disallowed
  "xn--a.com",
  "XN--A.example",
  "xn--example-", // decodes to "example": ASCII only
  "xn--1ug.example", // U+200D alone: ContextJ
  "xn--a-xbb.example", // "a" U+0301: not in NFC
  "xn--a-wbb.example", // U+0301 "a": begins with a combining mark
  "xn--8i7caa.example", // "ｗｗｗ": mapped code points
  "2.xn--mgbb", // a Bidi domain that breaks the Bidi Rule
];

for (const input of asciiPunycodeCases) {
  test(() => {
    const expected = input.toLowerCase();
    const url = new URL(`https://${input}/`);
    assert_equals(url.hostname, expected, "hostname");
    assert_true(URL.canParse(`https://${input}/`), "canParse");
    const other = new URL("https://ok.example/");
    other.hostname = input;
    assert_equals(other.hostname, expected, "hostname setter");
  }, `ASCII host ${JSON.stringify(input)} is only lowercased`);
}

test(() => {
  // The same labels beside a non-ASCII one: the domain goes through ToASCII and fails.
  for (const input of ["xn--.bücher", "xn--a.bücher", "xn--example-.bücher", "xn--8i7caa.bücher"]) {
    assert_throws_js(TypeError, () => new URL(`https://${input}/`), input);
  }
  // Valid Punycode labels stay as they are either way.
  assert_equals(new URL("https://XN--LS8H/").hostname, "xn--ls8h");
  assert_equals(new URL("https://xn--ls8h.bücher/").hostname, "xn--ls8h.xn--bcher-kva");
}, "a domain with a non-ASCII label has its xn-- labels validated");

test(() => {
  // Opaque hosts are not domains: no ToASCII, so "xn--" labels are kept as they are.
  assert_equals(new URL("sc://xn--/").hostname, "xn--");
  assert_equals(new URL("sc://XN--A/").hostname, "XN--A");
}, "opaque hosts keep xn-- labels");

test(() => {
  // Opaque hosts (non-special schemes) are percent-encoded, not IDNA-processed.
  assert_equals(new URL("sc://bücher.example/").hostname, "b%C3%BCcher.example");
  assert_equals(new URL("sc://FAß/").hostname, "FA%C3%9F");
}, "opaque hosts skip IDNA");
