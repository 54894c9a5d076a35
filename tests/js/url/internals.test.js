// META: internals
// The URL pieces the rest of the runtime uses (internals.url, for Fetch) and Punycode
// (internals.idna).

const { url: urlInternals, idna } = __internals;

test(() => {
  const record = urlInternals.parse("HTTPS://u:p@Example.com:8443/a/../b?q#f");
  assert_equals(record.scheme, "https");
  assert_equals(record.username, "u");
  assert_equals(record.password, "p");
  assert_equals(record.host, "example.com");
  assert_equals(record.port, 8443);
  assert_array_equals(record.path, ["b"]);
  assert_equals(record.query, "q");
  assert_equals(record.fragment, "f");
}, "parse returns a URL record");

test(() => {
  assert_equals(urlInternals.parse("not a url"), null);
  assert_equals(urlInternals.parse("/x", "also not a url"), null);
  assert_equals(urlInternals.parse(""), null);
}, "parse returns null for failure");

test(() => {
  const base = urlInternals.parse("https://example.com/dir/page");
  assert_equals(urlInternals.serialize(urlInternals.parse("x", base)), "https://example.com/dir/x");
  assert_equals(urlInternals.serialize(urlInternals.parse("y", "https://example.com/a/")), "https://example.com/a/y");
  assert_equals(urlInternals.serialize(urlInternals.parse("https://example.com/z", undefined)), "https://example.com/z");
}, "parse takes a base record or string");

test(() => {
  const record = urlInternals.parse("https://example.com/p?q#frag");
  assert_equals(urlInternals.serialize(record), "https://example.com/p?q#frag");
  assert_equals(urlInternals.serialize(record, true), "https://example.com/p?q");
}, "serialize can exclude the fragment");

test(() => {
  assert_equals(urlInternals.origin(urlInternals.parse("https://example.com:443/x")), "https://example.com");
  assert_equals(urlInternals.origin(urlInternals.parse("data:,x")), "null");
}, "origin serializes a record's origin");

test(() => {
  const url = new URL("https://example.com/?a=1");
  assert_true(urlInternals.isURL(url));
  assert_false(urlInternals.isURL({}));
  assert_false(urlInternals.isURL(null));
  assert_false(urlInternals.isURL("https://example.com/"));
  assert_true(urlInternals.isURLSearchParams(url.searchParams));
  assert_false(urlInternals.isURLSearchParams(url));
  assert_false(urlInternals.isURLSearchParams(undefined));
}, "isURL and isURLSearchParams check the brand");

test(() => {
  const url = new URL("https://example.com/p");
  assert_equals(urlInternals.recordOf(url).host, "example.com");
  assert_throws_js(TypeError, () => urlInternals.recordOf({}));
}, "recordOf gives a URL object's record");

test(() => {
  const pairs = urlInternals.urlencodedParse("a=1&b=x+y&&c=%C3%A9&d");
  assert_equals(JSON.stringify(pairs), '[["a","1"],["b","x y"],["c","é"],["d",""]]');
  assert_equals(urlInternals.urlencodedParse("").length, 0);
}, "urlencodedParse gives name-value pairs");

test(() => {
  assert_equals(urlInternals.urlencodedSerialize([["a b", "&"], ["é", "~"]]), "a+b=%26&%C3%A9=%7E");
  assert_equals(urlInternals.urlencodedSerialize([]), "");
  assert_equals(urlInternals.urlencodedSerialize(new URLSearchParams("x=1&y=2")), "x=1&y=2");
}, "urlencodedSerialize takes pairs or a URLSearchParams");

const punycode = [
  ["bücher", "bcher-kva"],
  ["ü", "tda"],
  ["\u2615", "53h"],
  ["日本語", "wgv71a119e"],
  ["βόλος", "nxasmm1c"],
  ["a\u00e4b-", "ab--qla"],
  ["\u{1F600}x", "x-iv3s"],
  ["\u{10FFFF}", "dn32g"],
];

for (const [decoded, encoded] of punycode) {
  test(() => {
    assert_equals(idna.punycodeEncode(decoded), encoded, "encode");
    assert_equals(idna.punycodeDecode(encoded), decoded, "decode");
  }, `punycode ${JSON.stringify(decoded)} <-> ${encoded}`);
}

test(() => {
  assert_equals(idna.punycodeDecode("a-"), "a");
  assert_equals(idna.punycodeDecode("a"), "\u0080");
  assert_equals(idna.punycodeDecode(""), "");
  for (const bad of ["zz", "-", "-a", "5", "ls8h=", "a\u00e9-b", "99999999999", "9999999999999999999"]) {
    assert_equals(idna.punycodeDecode(bad), null, JSON.stringify(bad));
  }
}, "punycode decoding rejects invalid digits, truncation and overflow");

test(() => {
  assert_equals(idna.toASCII("Bücher.EXAMPLE"), "xn--bcher-kva.example");
  assert_equals(idna.toASCII("\u200d.example"), null);
  assert_equals(idna.toASCII(""), "");
}, "toASCII maps, validates and encodes");

// An http(s) URL already in its serialized form is read in one pass (parseSerializedHTTP);
// every other string goes through the state machine. The two must agree on every input:
// a leading space sends any string to the state machine (which trims it), so parse(s) and
// parse(" " + s) are compared over URLs built from pieces near each shortcut's edges.
{
  const pick = (rand, list) => list[Math.floor(rand() * list.length)];
  let seed = 20261207;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const SCHEMES = ["http://", "https://", "HTTP://", "http:/", "http:", "https:\\\\", "httpx://",
    "ws://", "http://u@", "http://u:p@", "http:///"];
  const HOSTS = ["example.com", "a.b-c.d", "127.0.0.1", "127.1", "0x7f.0.0.1", "1.2.3.256",
    "255.255.255.255", "010.0.0.1", "a..b", "a.", ".", "x.0x", "x.09", "xn--bcher-kva.de",
    "xn--zz", "EXAMPLE.com", "ex_ample", "a%41", "[::1]", "1.2.3.4.5", "4294967295", "a.1e1",
    "b\u00fccher.de", "", "a b", "-", "0", "99.99", "0.0.0.0", "1.2.3.04", "1.2.3.4.",
    "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4x", "1111.2.3.4", "1.2..4", "9.99.199.249"];
  const PORTS = ["", "", ":80", ":443", ":8080", ":0", ":08080", ":65535", ":65536", ":",
    ":1a", ":123456", ":007"];
  const SEGMENTS = ["", "a", "b.c", ".", "..", "%2e", "%2E", ".%2e", "%2e%2E", "...", "a%20b",
    "a b", "é", "x\\y", "^", "{}", "|", "~", "'", "`", "%", "%zz", "a\tb", ";=@:", "\u0000",
    "\u007f", "a&b=c", "!$()*+,"];
  const TAILS = ["", "", "?", "?q", "?a=1&b=2", "?'", "?\"", "?x y", "?é", "?#", "#", "#f",
    "#a#b", "#`", "#<", "?q#f", "?`{}^|", "#x y", "\n", " ", "?a\u0001"];
  const fields = (r) => r === null ? null
    : [r.scheme, r.username, r.password, r.host, r.port, JSON.stringify(r.path), r.query,
      r.fragment];
  test(() => {
    for (let n = 0; n < 6000; n++) {
      let path = "";
      const segments = Math.floor(rand() * 4);
      for (let k = 0; k < segments; k++) path += "/" + pick(rand, SEGMENTS);
      const input = pick(rand, SCHEMES) + pick(rand, HOSTS) + pick(rand, PORTS) +
        (segments === 0 && rand() < 0.5 ? "" : path || "/") + pick(rand, TAILS);
      assert_equals(JSON.stringify(fields(urlInternals.parse(input))),
        JSON.stringify(fields(urlInternals.parse(" " + input))), JSON.stringify(input));
    }
  }, "a serialized http(s) URL parses as the state machine parses it");

  test(() => {
    // Every piece in its serialized form but one: each host (and port, and tail) is read
    // by the one-pass reader whenever it can be, not only when the random pieces allow.
    for (const scheme of ["http://", "https://"]) {
      for (const host of HOSTS) {
        for (const port of ["", ":8080", ...PORTS]) {
          for (const rest of ["/", "/a/b", "/?q", "/#f", ...TAILS.map((t) => "/x" + t)]) {
            const input = scheme + host + port + rest;
            assert_equals(JSON.stringify(fields(urlInternals.parse(input))),
              JSON.stringify(fields(urlInternals.parse(" " + input))), JSON.stringify(input));
          }
        }
      }
    }
  }, "a serialized http(s) URL parses as the state machine parses it, piece by piece");

  test(() => {
    const r = urlInternals.parse("https://api.example.com:8443/v1/items/?page=2&q=x%20y#top");
    assert_array_equals(fields(r), ["https", "", "", "api.example.com", 8443,
      '["v1","items",""]', "page=2&q=x%20y", "top"]);
    assert_array_equals(fields(urlInternals.parse("http://127.0.0.1/")),
      ["http", "", "", "127.0.0.1", null, '[""]', null, null]);
    assert_equals(urlInternals.serialize(urlInternals.parse("http://a:80/x/./y/../z")),
      "http://a/x/z");
  }, "serialized URLs: their records");
}
