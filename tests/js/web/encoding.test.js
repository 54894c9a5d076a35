// META: internals
// TextEncoder and TextDecoder (WHATWG Encoding standard).

const bytes = (...b) => new Uint8Array(b);
const units = (s) => Array.from(s, (c) => c.codePointAt(0).toString(16)).join(" ");

// --- labels -----------------------------------------------------------------------------------

const LABELS = {
  "utf-8": ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"],
  "ibm866": ["866", "cp866", "csibm866", "ibm866"],
  "iso-8859-2": ["csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2", "iso_8859-2:1987", "l2", "latin2"],
  "iso-8859-3": ["csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3", "iso_8859-3:1988", "l3", "latin3"],
  "iso-8859-4": ["csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4", "iso_8859-4:1988", "l4", "latin4"],
  "iso-8859-5": ["csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5", "iso88595", "iso_8859-5", "iso_8859-5:1988"],
  "iso-8859-6": ["arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic", "ecma-114", "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127", "iso8859-6", "iso88596", "iso_8859-6", "iso_8859-6:1987"],
  "iso-8859-7": ["csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7", "iso-ir-126", "iso8859-7", "iso88597", "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek"],
  "iso-8859-8": ["csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e", "iso-ir-138", "iso8859-8", "iso88598", "iso_8859-8", "iso_8859-8:1988", "visual"],
  "iso-8859-8-i": ["csiso88598i", "iso-8859-8-i", "logical"],
  "iso-8859-10": ["csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"],
  "iso-8859-13": ["iso-8859-13", "iso8859-13", "iso885913"],
  "iso-8859-14": ["iso-8859-14", "iso8859-14", "iso885914"],
  "iso-8859-15": ["csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"],
  "iso-8859-16": ["iso-8859-16"],
  "koi8-r": ["cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"],
  "koi8-u": ["koi8-ru", "koi8-u"],
  "macintosh": ["csmacintosh", "mac", "macintosh", "x-mac-roman"],
  "windows-874": ["dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"],
  "windows-1250": ["cp1250", "windows-1250", "x-cp1250"],
  "windows-1251": ["cp1251", "windows-1251", "x-cp1251"],
  "windows-1252": ["ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"],
  "windows-1253": ["cp1253", "windows-1253", "x-cp1253"],
  "windows-1254": ["cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "windows-1254", "x-cp1254"],
  "windows-1255": ["cp1255", "windows-1255", "x-cp1255"],
  "windows-1256": ["cp1256", "windows-1256", "x-cp1256"],
  "windows-1257": ["cp1257", "windows-1257", "x-cp1257"],
  "windows-1258": ["cp1258", "windows-1258", "x-cp1258"],
  "x-mac-cyrillic": ["x-mac-cyrillic", "x-mac-ukrainian"],
  "utf-16be": ["unicodefffe", "utf-16be"],
  "utf-16le": ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"],
  "x-user-defined": ["x-user-defined"],
};

for (const [name, labels] of Object.entries(LABELS)) {
  test(() => {
    for (const label of labels) {
      assert_equals(new TextDecoder(label).encoding, name, label);
      assert_equals(new TextDecoder(label.toUpperCase()).encoding, name, `${label} upper-cased`);
      assert_equals(new TextDecoder(` \t\n\f\r${label}\r\f\n\t `).encoding, name, `${label} with whitespace`);
    }
  }, `labels of ${name} (any ASCII case, surrounded by ASCII whitespace)`);
}

test(() => {
  for (const label of ["", "foo", "utf-7", "utf-32", "iso-8859-1x", "utf8 x", "utf-8\0", "\vutf-8",
    "utf-8\u00a0", "\u00a0utf-8", "\u2028utf-8", "\u212Aoi8-r", "utf-8\u0130", "replacement"]) {
    assert_throws_js(RangeError, () => new TextDecoder(label), JSON.stringify(label));
  }
}, "unknown labels and non-ASCII whitespace or case folding throw RangeError");

test(() => {
  for (const label of ["csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr"]) {
    assert_throws_js(RangeError, () => new TextDecoder(label), label);
  }
}, "labels of the replacement encoding throw RangeError");

test(() => {
  const labels = {
    gbk: "gbk", "x-gbk": "gbk", gb2312: "gbk", gb18030: "gb18030", big5: "big5",
    "big5-hkscs": "big5", "euc-jp": "euc-jp", "iso-2022-jp": "iso-2022-jp",
    shift_jis: "shift_jis", sjis: "shift_jis", "windows-31j": "shift_jis", "euc-kr": "euc-kr",
    "ks_c_5601-1987": "euc-kr",
  };
  for (const [label, name] of Object.entries(labels)) {
    assert_equals(new TextDecoder(label).encoding, name, label);
  }
}, "the legacy multi-byte encodings are supported (decoding: encoding_legacy.test.js)");

test(() => {
  const { getEncoding } = __internals.encoding;
  assert_equals(getEncoding("UTF8"), "utf-8");
  assert_equals(getEncoding("gbk"), "gbk");
  assert_equals(getEncoding("nope"), null);
}, "internals.encoding.getEncoding implements 'get an encoding'");

// --- TextDecoder basics ---------------------------------------------------------------------

test(() => {
  const d = new TextDecoder();
  assert_equals(d.encoding, "utf-8");
  assert_false(d.fatal);
  assert_false(d.ignoreBOM);
  assert_equals(new TextDecoder(undefined).encoding, "utf-8");
  const f = new TextDecoder("utf-8", { fatal: 1, ignoreBOM: "yes" });
  assert_true(f.fatal);
  assert_true(f.ignoreBOM);
}, "TextDecoder defaults and options");

test(() => {
  assert_throws_js(TypeError, () => new TextDecoder("utf-8", 5));
  assert_throws_js(TypeError, () => TextDecoder());
}, "TextDecoder validates its options and requires new");

test(() => {
  const d = new TextDecoder();
  assert_equals(d.decode(), "");
  assert_equals(d.decode(undefined), "");
  assert_equals(d.decode(new Uint8Array(0)), "");
}, "decode() with no input returns the empty string");

test(() => {
  const d = new TextDecoder();
  for (const bad of [null, 5, "abc", {}, [65]]) {
    assert_throws_js(TypeError, () => d.decode(bad), String(bad));
  }
  assert_throws_js(TypeError, () => d.decode(new Uint8Array(1), 5));
}, "decode() requires a BufferSource and an options dictionary");

test(() => {
  const d = new TextDecoder();
  const buf = new Uint8Array([0x41, 0x42, 0x43, 0x44]).buffer;
  assert_equals(d.decode(buf), "ABCD");
  assert_equals(d.decode(new DataView(buf, 1, 2)), "BC");
  assert_equals(d.decode(new Uint8Array(buf, 2)), "CD");
  assert_equals(d.decode(new Uint16Array(buf, 2, 1)), "CD");
  assert_equals(d.decode(new Int8Array(buf)), "ABCD");
  assert_equals(d.decode(new Float32Array(buf)), "ABCD");
}, "decode() accepts ArrayBuffers and every kind of view, honouring offsets");

test(() => {
  const sab = new SharedArrayBuffer(3);
  new Uint8Array(sab).set([0x68, 0x69, 0x21]);
  assert_equals(new TextDecoder().decode(sab), "hi!");
  assert_equals(new TextDecoder().decode(new Uint8Array(sab, 1)), "i!");
}, "decode() accepts SharedArrayBuffers and views on them");

test(() => {
  const buf = new ArrayBuffer(4);
  const view = new Uint8Array(buf);
  buf.transfer();
  assert_equals(new TextDecoder().decode(buf), "");
  assert_equals(new TextDecoder().decode(view), "");
}, "decode() of a detached buffer returns the empty string");

test(() => {
  const getter = Object.getOwnPropertyDescriptor(TextDecoder.prototype, "encoding").get;
  assert_throws_js(TypeError, () => getter.call({}));
  assert_throws_js(TypeError, () => TextDecoder.prototype.decode.call({}, new Uint8Array(1)));
  assert_class_string(new TextDecoder(), "TextDecoder");
  assert_class_string(new TextEncoder(), "TextEncoder");
}, "TextDecoder and TextEncoder perform brand checks and have class strings");

// --- UTF-8 -------------------------------------------------------------------------------------

test(() => {
  const s = "z\u00a2\u6c34\u{1d11e}\u{10ffff}\u0000\u007f\u0080\u07ff\u0800\uffff\u{10000}";
  const encoded = new TextEncoder().encode(s);
  assert_equals(new TextDecoder().decode(encoded), s);
}, "UTF-8 round-trips code points at every length boundary");

test(() => {
  const input = bytes(0x7a, 0xc2, 0xa2, 0xe6, 0xb0, 0xb4, 0xf0, 0x9d, 0x84, 0x9e);
  assert_equals(new TextDecoder().decode(input), "z\u00a2\u6c34\u{1d11e}");
}, "UTF-8 decodes one, two, three and four byte sequences");

const INVALID_UTF8 = [
  [[0xff], "invalid lead byte"],
  [[0xc0], "ends early"],
  [[0xe0], "ends early 2"],
  [[0xc0, 0x00], "invalid trail"],
  [[0xc0, 0xc0], "invalid trail 2"],
  [[0xe0, 0x00], "invalid trail 3"],
  [[0xe0, 0xc0], "invalid trail 4"],
  [[0xe0, 0x80, 0x00], "invalid trail 5"],
  [[0xe0, 0x80, 0xc0], "invalid trail 6"],
  [[0xfc, 0x80, 0x80, 0x80, 0x80, 0x80], "> 0x10ffff"],
  [[0xfe, 0x80, 0x80, 0x80, 0x80, 0x80], "obsolete lead byte"],
  [[0xc0, 0x80], "overlong U+0000 - 2 bytes"],
  [[0xe0, 0x80, 0x80], "overlong U+0000 - 3 bytes"],
  [[0xf0, 0x80, 0x80, 0x80], "overlong U+0000 - 4 bytes"],
  [[0xc1, 0xbf], "overlong U+007f - 2 bytes"],
  [[0xe0, 0x9f, 0xbf], "overlong U+07ff - 3 bytes"],
  [[0xf0, 0x8f, 0xbf, 0xbf], "overlong U+ffff - 4 bytes"],
  [[0xf4, 0x90, 0x80, 0x80], "U+110000"],
  [[0xed, 0xa0, 0x80], "lead surrogate"],
  [[0xed, 0xb0, 0x80], "trail surrogate"],
  [[0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80], "surrogate pair"],
  [[0x80], "lone continuation byte"],
];

for (const [input, name] of INVALID_UTF8) {
  test(() => {
    assert_throws_js(TypeError, () => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(input)));
    const replaced = new TextDecoder().decode(new Uint8Array(input));
    assert_true(replaced.includes("\ufffd"), units(replaced));
  }, `UTF-8 ${name}: fatal throws TypeError, otherwise U+FFFD`);
}

const REPLACEMENTS = [
  [[0xf0, 0x80, 0x80], "\ufffd\ufffd\ufffd"],
  [[0xf0, 0x90, 0x80], "\ufffd"],
  [[0xf0, 0x90, 0x80, 0x41], "\ufffdA"],
  [[0xe2, 0x82, 0x41, 0xff, 0xf0, 0x9f], "\ufffdA\ufffd\ufffd"],
  [[0xc0, 0x80], "\ufffd\ufffd"],
  [[0xed, 0xa0, 0x80], "\ufffd\ufffd\ufffd"],
  [[0xf4, 0x90, 0x80, 0x80], "\ufffd\ufffd\ufffd\ufffd"],
  [[0x61, 0xf1, 0x80, 0x80, 0xe1, 0x80, 0xc2, 0x62, 0x80, 0x63, 0x80, 0xbf, 0x64], "a\ufffd\ufffd\ufffdb\ufffdc\ufffd\ufffdd"],
];

for (const [input, expected] of REPLACEMENTS) {
  test(() => {
    assert_equals(units(new TextDecoder().decode(new Uint8Array(input))), units(expected));
  }, `UTF-8 replaces maximal subparts: ${input.map((b) => b.toString(16)).join(" ")}`);
}

test(() => {
  assert_equals(new TextDecoder().decode(bytes(0xef, 0xbb, 0xbf, 0x41)), "A");
  assert_equals(new TextDecoder().decode(bytes(0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf)), "\ufeff");
  assert_equals(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes(0xef, 0xbb, 0xbf, 0x41)), "\ufeffA");
  assert_equals(new TextDecoder().decode(bytes(0x41, 0xef, 0xbb, 0xbf)), "A\ufeff");
}, "UTF-8 strips one leading BOM unless ignoreBOM");

test(() => {
  const d = new TextDecoder();
  assert_equals(d.decode(bytes(0xef, 0xbb), { stream: true }), "");
  assert_equals(d.decode(bytes(0xbf, 0x41), { stream: true }), "A");
  assert_equals(d.decode(bytes(0xef, 0xbb, 0xbf)), "\ufeff", "only the first BOM of a stream is dropped");
  assert_equals(d.decode(bytes(0xef, 0xbb, 0xbf, 0x42)), "B", "a new stream drops its BOM again");
}, "the BOM is dropped once per stream, even when split across chunks");

test(() => {
  assert_equals(new TextDecoder().decode(bytes(0xff, 0xfe, 0x41, 0x00)), "\ufffd\ufffdA\u0000");
}, "a UTF-16 BOM is not special in UTF-8");

test(() => {
  const s = "a\u00e9\u20ac\u{1f600}z";
  const encoded = new TextEncoder().encode(s);
  for (let size = 1; size <= encoded.length; size++) {
    const d = new TextDecoder();
    let out = "";
    for (let i = 0; i < encoded.length; i += size) {
      out += d.decode(encoded.subarray(i, i + size), { stream: true });
    }
    out += d.decode();
    assert_equals(out, s, `chunk size ${size}`);
  }
}, "UTF-8 streaming decodes sequences split at every position");

test(() => {
  const d = new TextDecoder();
  assert_equals(d.decode(bytes(0xf0, 0x9f), { stream: true }), "");
  assert_equals(d.decode(), "\ufffd", "flush emits U+FFFD for an incomplete sequence");
  assert_equals(d.decode(bytes(0x41)), "A", "state is reset after the flush");
}, "an incomplete UTF-8 sequence at the end of the stream becomes U+FFFD");

test(() => {
  const d = new TextDecoder();
  assert_equals(d.decode(bytes(0xe2, 0x82), { stream: true }), "");
  assert_equals(d.decode(bytes(0x41), { stream: true }), "\ufffdA");
}, "an invalid continuation in the next chunk replaces the pending bytes and is reprocessed");

test(() => {
  const d = new TextDecoder("utf-8", { fatal: true });
  assert_equals(d.decode(bytes(0xe2), { stream: true }), "");
  assert_throws_js(TypeError, () => d.decode());
  assert_equals(d.decode(bytes(0x41)), "A", "the decoder starts afresh after the error");
  assert_equals(d.decode(bytes(0xe2), { stream: true }), "");
  assert_throws_js(TypeError, () => d.decode(bytes(0x41), { stream: true }));
  assert_equals(d.decode(bytes(0x42)), "B");
}, "fatal UTF-8 errors in streaming mode throw and reset the decoder");

test(() => {
  const d = new TextDecoder();
  const src = new Uint8Array([0xe2, 0x82, 0xac]);
  const first = d.decode(src.subarray(0, 1), { stream: true });
  src[0] = 0x41;
  assert_equals(first + d.decode(src.subarray(1)), "\u20ac");
}, "bytes kept for the next chunk are not affected by later changes to the input");

// --- UTF-16 ---------------------------------------------------------------------------------------

test(() => {
  const s = "A\u00e9\u6c34\u{1d11e}";
  const le = [0x41, 0x00, 0xe9, 0x00, 0x34, 0x6c, 0x34, 0xd8, 0x1e, 0xdd];
  const be = [0x00, 0x41, 0x00, 0xe9, 0x6c, 0x34, 0xd8, 0x34, 0xdd, 0x1e];
  assert_equals(new TextDecoder("utf-16le").decode(new Uint8Array(le)), s);
  assert_equals(new TextDecoder("utf-16be").decode(new Uint8Array(be)), s);
  assert_equals(new TextDecoder("utf-16").decode(new Uint8Array(le)), s);
}, "UTF-16LE and UTF-16BE decode code units and surrogate pairs");

test(() => {
  assert_equals(new TextDecoder("utf-16le").decode(bytes(0xff, 0xfe, 0x41, 0x00)), "A");
  assert_equals(new TextDecoder("utf-16be").decode(bytes(0xfe, 0xff, 0x00, 0x41)), "A");
  assert_equals(new TextDecoder("utf-16le").decode(bytes(0xfe, 0xff, 0x41, 0x00)), "\ufffeA");
  assert_equals(new TextDecoder("utf-16le", { ignoreBOM: true }).decode(bytes(0xff, 0xfe, 0x41, 0x00)), "\ufeffA");
}, "UTF-16 strips its own BOM only");

test(() => {
  const cases = [
    [[0x00, 0xd8], "\ufffd"],
    [[0x00, 0xdc], "\ufffd"],
    [[0x00, 0xd8, 0x41, 0x00], "\ufffdA"],
    [[0x00, 0xdc, 0x00, 0xd8], "\ufffd\ufffd"],
    [[0x00, 0xd8, 0x00, 0xd8, 0x00, 0xdc], "\ufffd\ud800\udc00"],
    [[0x41, 0x00, 0x42], "A\ufffd"],
  ];
  for (const [input, expected] of cases) {
    assert_equals(units(new TextDecoder("utf-16le").decode(new Uint8Array(input))), units(expected),
      input.join(","));
    assert_throws_js(TypeError, () => new TextDecoder("utf-16le", { fatal: true }).decode(new Uint8Array(input)));
  }
}, "UTF-16 lone surrogates and odd byte counts are errors");

test(() => {
  const s = "x\u{1f600}\u00e9\u{10ffff}y";
  const le = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    le.push(c & 0xff, c >> 8);
  }
  const encoded = new Uint8Array(le);
  for (let size = 1; size <= encoded.length; size++) {
    const d = new TextDecoder("utf-16le");
    let out = "";
    for (let i = 0; i < encoded.length; i += size) {
      out += d.decode(encoded.subarray(i, i + size), { stream: true });
    }
    out += d.decode();
    assert_equals(out, s, `chunk size ${size}`);
  }
}, "UTF-16 streaming handles code units and pairs split at every position");

test(() => {
  const decoder = new TextDecoder("utf-16le", { fatal: true });
  const odd = bytes(0x00);
  const even = bytes(0x00, 0x00);
  assert_equals(decoder.decode(odd, { stream: true }), "");
  assert_equals(decoder.decode(odd), "\u0000");
  assert_throws_js(TypeError, () => {
    decoder.decode(even, { stream: true });
    decoder.decode(odd);
  });
  assert_throws_js(TypeError, () => {
    decoder.decode(odd, { stream: true });
    decoder.decode(even);
  });
  assert_equals(decoder.decode(even, { stream: true }), "\u0000");
  assert_equals(decoder.decode(even), "\u0000");
}, "fatal UTF-16 streaming with odd byte counts");

// --- single-byte encodings -------------------------------------------------------------------

const SINGLE_BYTE_SAMPLES = [
  ["ibm866", [[0x80, 0x0410], [0x9F, 0x042F], [0xA4, 0x0434], [0xC0, 0x2514], [0xD7, 0x256B], [0xE9, 0x0449], [0xFF, 0x00A0]], null],
  ["iso-8859-2", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x00A4], [0xC0, 0x0154], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x02D9]], null],
  ["iso-8859-3", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x00A4], [0xC0, 0x00C0], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x02D9]], 0xA5],
  ["iso-8859-4", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x00A4], [0xC0, 0x0100], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x02D9]], null],
  ["iso-8859-5", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x0404], [0xC0, 0x0420], [0xD7, 0x0437], [0xE9, 0x0449], [0xFF, 0x045F]], null],
  ["iso-8859-6", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x00A4], [0xD7, 0x0637], [0xE9, 0x0649]], 0xA1],
  ["iso-8859-7", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x20AC], [0xC0, 0x0390], [0xD7, 0x03A7], [0xE9, 0x03B9]], 0xAE],
  ["iso-8859-8", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x00A4], [0xE9, 0x05D9]], 0xA1],
  ["iso-8859-8-i", [[0x80, 0x0080], [0xA4, 0x00A4], [0xE9, 0x05D9]], 0xA1],
  ["iso-8859-10", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x012A], [0xC0, 0x0100], [0xD7, 0x0168], [0xE9, 0x00E9], [0xFF, 0x0138]], null],
  ["iso-8859-13", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x00A4], [0xC0, 0x0104], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x2019]], null],
  ["iso-8859-14", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x010A], [0xC0, 0x00C0], [0xD7, 0x1E6A], [0xE9, 0x00E9], [0xFF, 0x00FF]], null],
  ["iso-8859-15", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x20AC], [0xC0, 0x00C0], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x00FF]], null],
  ["iso-8859-16", [[0x80, 0x0080], [0x9F, 0x009F], [0xA4, 0x20AC], [0xC0, 0x00C0], [0xD7, 0x015A], [0xE9, 0x00E9], [0xFF, 0x00FF]], null],
  ["koi8-r", [[0x80, 0x2500], [0x9F, 0x00F7], [0xA4, 0x2553], [0xC0, 0x044E], [0xD7, 0x0432], [0xE9, 0x0418], [0xFF, 0x042A]], null],
  ["koi8-u", [[0x80, 0x2500], [0x9F, 0x00F7], [0xA4, 0x0454], [0xAE, 0x045E], [0xBE, 0x040E], [0xC0, 0x044E], [0xFF, 0x042A]], null],
  ["macintosh", [[0x80, 0x00C4], [0x9F, 0x00FC], [0xA4, 0x00A7], [0xC0, 0x00BF], [0xD7, 0x25CA], [0xE9, 0x00C8], [0xFF, 0x02C7]], null],
  ["windows-874", [[0x80, 0x20AC], [0x81, 0x0081], [0xA4, 0x0E04], [0xC0, 0x0E20], [0xD7, 0x0E37], [0xE9, 0x0E49]], 0xDB],
  ["windows-1250", [[0x80, 0x20AC], [0x81, 0x0081], [0x9F, 0x017A], [0xA4, 0x00A4], [0xC0, 0x0154], [0xD7, 0x00D7], [0xFF, 0x02D9]], null],
  ["windows-1251", [[0x80, 0x0402], [0x98, 0x0098], [0x9F, 0x045F], [0xA4, 0x00A4], [0xC0, 0x0410], [0xD7, 0x0427], [0xFF, 0x044F]], null],
  ["windows-1252", [[0x80, 0x20AC], [0x81, 0x0081], [0x9F, 0x0178], [0xA4, 0x00A4], [0xC0, 0x00C0], [0xD7, 0x00D7], [0xFF, 0x00FF]], null],
  ["windows-1253", [[0x80, 0x20AC], [0x81, 0x0081], [0xA4, 0x00A4], [0xC0, 0x0390], [0xD7, 0x03A7], [0xE9, 0x03B9]], 0xAA],
  ["windows-1254", [[0x80, 0x20AC], [0x81, 0x0081], [0x9F, 0x0178], [0xA4, 0x00A4], [0xC0, 0x00C0], [0xD7, 0x00D7], [0xFF, 0x00FF]], null],
  ["windows-1255", [[0x80, 0x20AC], [0x81, 0x0081], [0xA4, 0x20AA], [0xC0, 0x05B0], [0xD7, 0x05F3], [0xE9, 0x05D9]], 0xD9],
  ["windows-1256", [[0x80, 0x20AC], [0x9F, 0x06BA], [0xA4, 0x00A4], [0xC0, 0x06C1], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x06D2]], null],
  ["windows-1257", [[0x80, 0x20AC], [0x81, 0x0081], [0xA4, 0x00A4], [0xC0, 0x0104], [0xD7, 0x00D7], [0xE9, 0x00E9], [0xFF, 0x02D9]], 0xA1],
  ["windows-1258", [[0x80, 0x20AC], [0x81, 0x0081], [0x9F, 0x0178], [0xA4, 0x00A4], [0xC0, 0x00C0], [0xD7, 0x00D7], [0xFF, 0x00FF]], null],
  ["x-mac-cyrillic", [[0x80, 0x0410], [0x9F, 0x042F], [0xA4, 0x00A7], [0xC0, 0x0458], [0xD7, 0x201E], [0xE9, 0x0439], [0xFF, 0x20AC]], null],
];

for (const [name, samples, unmapped] of SINGLE_BYTE_SAMPLES) {
  test(() => {
    const input = new Uint8Array([0x41, ...samples.map((s) => s[0]), 0x7f]);
    const expected = "A" + String.fromCharCode(...samples.map((s) => s[1])) + "\x7f";
    assert_equals(units(new TextDecoder(name).decode(input)), units(expected));
    assert_equals(units(new TextDecoder(name, { fatal: true }).decode(input)), units(expected));
    if (unmapped !== null) {
      assert_equals(new TextDecoder(name).decode(bytes(unmapped)), "\ufffd");
      assert_throws_js(TypeError, () => new TextDecoder(name, { fatal: true }).decode(bytes(unmapped)));
    }
  }, `single-byte ${name} decodes its index${unmapped === null ? "" : " and rejects unmapped bytes"}`);
}

test(() => {
  const all = new Uint8Array(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  for (const name of Object.keys(LABELS)) {
    if (name.startsWith("utf")) continue;
    const text = new TextDecoder(name).decode(all);
    assert_equals(text.length, 256, name);
    for (let i = 0; i < 128; i++) assert_equals(text.charCodeAt(i), i, `${name} byte ${i}`);
  }
}, "every single-byte encoding maps ASCII bytes to themselves, one code unit per byte");

test(() => {
  const d = new TextDecoder("windows-1252");
  assert_equals(d.decode(bytes(0xef, 0xbb, 0xbf, 0x41)), "\u00ef\u00bb\u00bfA");
}, "single-byte encodings do not strip a BOM");

test(() => {
  const d = new TextDecoder("x-user-defined");
  assert_equals(units(d.decode(bytes(0x41, 0x80, 0xff))), units("A\uf780\uf7ff"));
}, "x-user-defined maps high bytes to U+F780..U+F7FF");

// --- large inputs ---------------------------------------------------------------------------------

test(() => {
  let s = "";
  const parts = [];
  for (let i = 0; i < 200000; i++) {
    const r = (i * 7919) % 1000;
    if (r < 700) parts.push(String.fromCharCode(32 + (r % 90)));
    else if (r < 850) parts.push(String.fromCharCode(0xa0 + r));
    else if (r < 980) parts.push(String.fromCharCode(0x4e00 + r));
    else parts.push(String.fromCodePoint(0x1f300 + r));
  }
  s = parts.join("");
  const encoded = new TextEncoder().encode(s);
  assert_equals(new TextDecoder().decode(encoded), s);
  assert_equals(new TextDecoder("utf-8", { fatal: true }).decode(encoded), s);
}, "a large mixed text round-trips through UTF-8 (blocks and fast paths agree)");

test(() => {
  const big = new Uint8Array(300000).fill(0x61);
  big[150000] = 0xc3;
  big[150001] = 0xa9;
  const text = new TextDecoder().decode(big);
  assert_equals(text.length, 299999);
  assert_equals(text[150000], "\u00e9");
  assert_equals(text[299998], "a");
}, "a large mostly-ASCII input with one non-ASCII sequence decodes exactly");

test(() => {
  const big = new Uint8Array(65536 * 2 + 1).fill(0x61);
  big[65535] = 0xe2;
  big[65536] = 0x82;
  big[65537] = 0xac;
  const text = new TextDecoder().decode(big);
  assert_equals(text.charCodeAt(65535), 0x20ac);
  assert_equals(text.length, big.length - 2);
}, "a sequence spanning two internal decoding blocks decodes exactly");

// --- TextEncoder -----------------------------------------------------------------------------------

test(() => {
  const e = new TextEncoder();
  assert_equals(e.encoding, "utf-8");
  assert_array_equals(e.encode(), []);
  assert_array_equals(e.encode(undefined), []);
  assert_array_equals(e.encode(""), []);
  assert_array_equals(e.encode(null), [0x6e, 0x75, 0x6c, 0x6c]);
  assert_array_equals(e.encode(12), [0x31, 0x32]);
  assert_true(e.encode("x") instanceof Uint8Array);
}, "TextEncoder.encode converts its argument to a string (default empty)");

test(() => {
  const e = new TextEncoder();
  assert_array_equals(e.encode("\u00a2\u20ac\u{10348}"), [0xc2, 0xa2, 0xe2, 0x82, 0xac, 0xf0, 0x90, 0x8d, 0x88]);
}, "TextEncoder.encode produces UTF-8");

test(() => {
  const e = new TextEncoder();
  const cases = [
    ["\ud800", [0xef, 0xbf, 0xbd]],
    ["\udc00", [0xef, 0xbf, 0xbd]],
    ["a\ud800b", [0x61, 0xef, 0xbf, 0xbd, 0x62]],
    ["\udc00\ud800", [0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd]],
    ["\ud834\udd1e", [0xf0, 0x9d, 0x84, 0x9e]],
  ];
  for (const [input, expected] of cases) assert_array_equals(e.encode(input), expected, units(input));
}, "TextEncoder.encode replaces lone surrogates with U+FFFD");

test(() => {
  assert_throws_js(TypeError, () => new TextEncoder().encode(Symbol("x")));
  assert_equals(new TextEncoder().encode({ toString: () => "ok" }).length, 2);
}, "TextEncoder.encode uses string conversion");

const ENCODE_INTO = [
  ["Hi", 0, 0, []],
  ["A", 10, 1, [0x41]],
  ["\u{1D306}", 4, 2, [0xf0, 0x9d, 0x8c, 0x86]],
  ["\u{1D306}A", 3, 0, []],
  ["\uD834A\uDF06A\u00a5Hi", 10, 5, [0xef, 0xbf, 0xbd, 0x41, 0xef, 0xbf, 0xbd, 0x41, 0xc2, 0xa5]],
  ["A\uDF06", 4, 2, [0x41, 0xef, 0xbf, 0xbd]],
  ["\u00a5\u00a5", 3, 1, [0xc2, 0xa5]],
];

for (const [input, size, read, written] of ENCODE_INTO) {
  test(() => {
    const buffer = new ArrayBuffer(size + 4);
    const view = new Uint8Array(buffer, 2, size);
    const result = new TextEncoder().encodeInto(input, view);
    assert_equals(result.read, read);
    assert_equals(result.written, written.length);
    assert_array_equals(Array.from(view.subarray(0, written.length)), written);
    const all = new Uint8Array(buffer);
    for (let i = 0; i < all.length; i++) {
      if (i < 2 || i >= 2 + written.length) assert_equals(all[i], 0, `byte ${i} untouched`);
    }
  }, `encodeInto(${units(input)}) into ${size} bytes reads ${read}, writes ${written.length}`);
}

test(() => {
  const result = new TextEncoder().encodeInto("abc", new Uint8Array(8));
  assert_equals(Object.getPrototypeOf(result), Object.prototype);
  assert_array_equals(Object.keys(result), ["read", "written"]);
}, "encodeInto returns a plain { read, written } dictionary");

test(() => {
  const e = new TextEncoder();
  for (const View of [DataView, Int8Array, Int16Array, Int32Array, Uint16Array, Uint32Array,
    Uint8ClampedArray, Float32Array, Float64Array, BigInt64Array]) {
    assert_throws_js(TypeError, () => e.encodeInto("", new View(new ArrayBuffer(8))), View.name);
  }
  assert_throws_js(TypeError, () => e.encodeInto("", new ArrayBuffer(8)));
  assert_throws_js(TypeError, () => e.encodeInto("", [0, 0]));
  assert_throws_js(TypeError, () => e.encodeInto(""));
}, "encodeInto requires a Uint8Array destination");

test(() => {
  const view = new Uint8Array(new SharedArrayBuffer(4));
  const result = new TextEncoder().encodeInto("hé", view);
  assert_equals(result.written, 3);
  assert_array_equals(Array.from(view), [0x68, 0xc3, 0xa9, 0]);
}, "encodeInto writes into a Uint8Array on a SharedArrayBuffer");

test(() => {
  const buffer = new ArrayBuffer(10);
  const view = new Uint8Array(buffer);
  buffer.transfer();
  const result = new TextEncoder().encodeInto("hello", view);
  assert_equals(result.read, 0);
  assert_equals(result.written, 0);
}, "encodeInto a detached buffer reads and writes nothing");

test(() => {
  const { utf8Encode, utf8Decode, decode, isomorphicDecode } = __internals.encoding;
  assert_array_equals(utf8Encode("é"), [0xc3, 0xa9]);
  assert_equals(utf8Decode(bytes(0xef, 0xbb, 0xbf, 0x41, 0xff)), "\ufeffA\ufffd");
  assert_equals(decode(bytes(0xef, 0xbb, 0xbf, 0x41)), "A");
  assert_equals(decode(bytes(0xff, 0xfe, 0x41, 0x00), "windows-1252"), "A", "a BOM overrides the encoding");
  assert_equals(decode(bytes(0xe9), "windows-1252"), "\u00e9");
  assert_equals(isomorphicDecode(bytes(0x41, 0xe9, 0xff)), "A\u00e9\u00ff");
}, "internals.encoding helpers");

test(() => {
  const saved = String.prototype.charCodeAt;
  const savedApply = Function.prototype.apply;
  String.prototype.charCodeAt = () => 0;
  Function.prototype.apply = () => "patched";
  try {
    assert_array_equals(new TextEncoder().encode("hé"), [0x68, 0xc3, 0xa9]);
    assert_equals(new TextDecoder().decode(bytes(0x68, 0xc3, 0xa9)), "hé");
  } finally {
    String.prototype.charCodeAt = saved;
    Function.prototype.apply = savedApply;
  }
}, "encoding and decoding are immune to patched built-ins");
