// The percent-encode sets, observed through each URL component: for every ASCII code point,
// does the component keep it or write %XX? (C0 controls and U+007F are always encoded; tab
// and newlines are removed by the parser before anything else, so they are skipped.)

const hex = (c) => `%${c.toString(16).toUpperCase().padStart(2, "0")}`;

function checkComponent(name, printableEncoded, skip, encode) {
  test(() => {
    for (let c = 0; c < 0x80; c++) {
      const ch = String.fromCharCode(c);
      if (c === 0x09 || c === 0x0a || c === 0x0d || skip.includes(ch)) continue;
      const encoded = c < 0x20 || c === 0x7f || printableEncoded.includes(ch);
      assert_equals(encode(ch), encoded ? hex(c) : ch, `U+${c.toString(16).padStart(4, "0")}`);
    }
    assert_equals(encode("é"), "%C3%A9", "non-ASCII is UTF-8 percent-encoded");
    assert_equals(encode("\u{1F4A9}"), "%F0%9F%92%A9", "astral code point");
    assert_equals(encode("%"), "%", "% is kept (it may start a percent-encoded byte)");
  }, `${name} percent-encode set`);
}

const between = (s, start, end) => s.slice(start.length, s.length - end.length);

checkComponent("fragment", ' "<>`', "", (ch) => between(new URL(`https://h/#a${ch}b`).hash, "#a", "b"));

checkComponent("special-query", " \"#<>'", "#", (ch) => between(new URL(`https://h/?a${ch}b`).search, "?a", "b"));

checkComponent("query (not special)", ' "#<>', "#", (ch) => between(new URL(`sc://h/?a${ch}b`).search, "?a", "b"));

checkComponent("path", ' "#<>?^`{}', "/\\?#", (ch) => between(new URL(`https://h/a${ch}b`).pathname, "/a", "b"));

checkComponent("userinfo", ' "#<>?^`{}/:;=@[\\]|', "", (ch) => {
  const url = new URL("https://h/");
  url.username = `a${ch}b`;
  return between(url.username, "a", "b");
});

checkComponent("C0 control (opaque path)", "", "?#", (ch) => between(new URL(`sc:a${ch}b`).pathname, "a", "b"));

test(() => {
  const keep = "*-._";
  for (let c = 0; c < 0x80; c++) {
    const ch = String.fromCharCode(c);
    const alnum = /[A-Za-z0-9]/.test(ch);
    let expected = hex(c);
    if (alnum || keep.includes(ch)) expected = ch;
    if (ch === " ") expected = "+";
    assert_equals(new URLSearchParams([["k", ch]]).toString(), `k=${expected}`, `U+${c.toString(16)}`);
  }
  assert_equals(new URLSearchParams([["k", "é"]]).toString(), "k=%C3%A9");
}, "application/x-www-form-urlencoded percent-encode set");

test(() => {
  assert_equals(new URL("https://h/%zz%4g%").pathname, "/%zz%4g%");
  assert_equals(new URL("https://h/%41").pathname, "/%41", "not decoded either");
}, "stray % signs in a path are kept as they are");

test(() => {
  // Forbidden host code points fail in opaque hosts; the others are C0-control encoded.
  for (const ch of " <>[\\]^|") {
    assert_throws_js(TypeError, () => new URL(`sc://a${ch}b/`), JSON.stringify(ch));
  }
  assert_equals(new URL("sc://a\u0001b\u007f/").hostname, "a%01b%7F");
  assert_equals(new URL("sc://a%b\"/").hostname, "a%b\"");
  assert_equals(new URL("sc://[::1]/").hostname, "[::1]", "brackets only around an IPv6 address");
}, "opaque hosts reject forbidden host code points");
