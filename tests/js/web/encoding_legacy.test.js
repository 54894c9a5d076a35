// The Encoding standard's legacy multi-byte decoders (§10-§13): gb18030/gbk, Big5, EUC-JP,
// ISO-2022-JP, Shift_JIS and EUC-KR, with their error handling (U+FFFD, bytes put back
// into the stream, TypeError when fatal) and streaming.

const decode = (label, bytes, options) => new TextDecoder(label, options).decode(new Uint8Array(bytes));

const cases = [
  // [label, bytes, expected, what]
  ["gb18030", [0xc4, 0xe3, 0xba, 0xc3], "你好", "two-byte sequences"],
  ["gbk", [0xc4, 0xe3, 0xba, 0xc3], "你好", "gbk decodes as gb18030"],
  ["gb18030", [0x80], "€", "0x80 is U+20AC"],
  ["gb18030", [0xa6, 0xd9, 0xa6, 0xf3, 0xfe, 0x59, 0xfe, 0xa0], "\ufe10\ufe19\u9fb4\u9fbb",
    "GB18030-2022: sequences that mapped to Private Use code points"],
  ["gbk", [0xa6, 0xd9, 0xfe, 0x59], "\ufe10\u9fb4", "GB18030-2022 applies to gbk too"],
  ["gb18030", [0xa3, 0xa0], "\u3000", "0xA3 0xA0 is U+3000 (deployed content), not U+E5E5"],
  ["gb18030", [0xa8, 0xbc], "\u1e3f", "0xA8 0xBC is U+1E3F (GB18030-2005)"],
  ["gbk", [0x80], "€", "0x80 is U+20AC in gbk too"],
  ["gb18030", [0x81, 0x30, 0x81, 0x30], "\u0080", "four bytes: the first range"],
  ["gb18030", [0x84, 0x31, 0xa4, 0x39], "\uffff", "pointer 39419: the last BMP range"],
  ["gb18030", [0x90, 0x30, 0x81, 0x30], "\u{10000}", "pointer 189000: U+10000"],
  ["gb18030", [0xe3, 0x32, 0x9a, 0x35], "\u{10ffff}", "pointer 1237575: U+10FFFF"],
  ["gb18030", [0x81, 0x35, 0xf4, 0x37], "\ue7c7", "pointer 7457 is U+E7C7"],
  ["gb18030", [0x84, 0x31, 0xa5, 0x30], "\ufffd", "pointer 39420 has no code point"],
  ["gb18030", [0xe3, 0x32, 0x9a, 0x36], "\ufffd", "pointers past 1237575 have none"],
  ["gb18030", [0x81, 0x30, 0x20], "\ufffd0 ", "a bad third byte puts the second and itself back"],
  ["gb18030", [0x81, 0x30, 0x81, 0x20], "\ufffd0\ufffd ", "a bad fourth byte puts three back"],
  ["gb18030", [0x81, 0x20], "\ufffd ", "an ASCII trail byte is put back"],
  ["gb18030", [0xff], "\ufffd", "0xFF is an error"],
  ["gb18030", [0xc4], "\ufffd", "a lead byte at the end"],
  ["big5", [0xa4, 0x40], "一", "two bytes"],
  ["big5", [0x88, 0x62, 0x88, 0x64], "\u00ca\u0304\u00ca\u030c", "pointers 1133 and 1135: two code points"],
  ["big5", [0x88, 0xa3, 0x88, 0xa5], "\u00ea\u0304\u00ea\u030c", "pointers 1164 and 1166"],
  ["big5", [0x87, 0x45], "\u{27267}", "a code point outside the BMP"],
  ["big5", [0xa4, 0x20], "\ufffd ", "an ASCII trail byte is put back"],
  ["big5", [0x80], "\ufffd", "0x80 is an error"],
  ["euc-jp", [0xa4, 0xa2], "あ", "JIS X 0208"],
  ["euc-jp", [0xc6, 0xfc, 0xcb, 0xdc], "日本", "JIS X 0208 kanji"],
  ["euc-jp", [0x8e, 0xb1], "ｱ", "0x8E: half-width katakana"],
  ["euc-jp", [0x8f, 0xb0, 0xa1], "丂", "0x8F: JIS X 0212"],
  ["euc-jp", [0xa4, 0x41], "\ufffdA", "an ASCII trail byte is put back"],
  ["euc-jp", [0x8e], "\ufffd", "a lead byte at the end"],
  ["shift_jis", [0x82, 0xa0], "あ", "two bytes"],
  ["shift_jis", [0x93, 0xfa, 0x96, 0x7b], "日本", "kanji"],
  ["shift_jis", [0xb1, 0x5c, 0x7e], "ｱ\\~", "half-width katakana; 0x5C and 0x7E are ASCII"],
  ["shift_jis", [0x80], "\u0080", "0x80 is U+0080"],
  ["shift_jis", [0xf0, 0x40, 0xf9, 0xfc], "\ue000\ue757", "user-defined pointers 8836..10715"],
  ["shift_jis", [0x82, 0x20], "\ufffd ", "an ASCII trail byte is put back"],
  ["shift_jis", [0xa0], "\ufffd", "0xA0 is an error"],
  ["euc-kr", [0xb0, 0xa1], "가", "two bytes"],
  ["euc-kr", [0xc7, 0xd1, 0xb1, 0xdb], "한글", "Hangul"],
  ["euc-kr", [0xb0, 0x20], "\ufffd ", "an ASCII trail byte is put back"],
  ["euc-kr", [0x80], "\ufffd", "0x80 is an error"],
  ["iso-2022-jp", [0x1b, 0x24, 0x42, 0x24, 0x22, 0x1b, 0x28, 0x42, 0x41], "あA", "ESC $ B, ESC ( B"],
  ["iso-2022-jp", [0x1b, 0x24, 0x40, 0x46, 0x7c, 0x4b, 0x5c], "日本", "ESC $ @"],
  ["iso-2022-jp", [0x1b, 0x28, 0x4a, 0x5c, 0x7e, 0x41], "¥‾A", "ESC ( J: JIS X 0201 Roman"],
  ["iso-2022-jp", [0x1b, 0x28, 0x49, 0x31], "ｱ", "ESC ( I: katakana"],
  ["iso-2022-jp", [0x1b, 0x28, 0x42, 0x1b, 0x28, 0x42, 0x41], "\ufffdA", "two escapes in a row: an error"],
  ["iso-2022-jp", [0x1b, 0x28, 0x5a], "\ufffd(Z", "an unknown escape puts its bytes back"],
  ["iso-2022-jp", [0x1b], "\ufffd", "ESC at the end"],
  ["iso-2022-jp", [0x1b, 0x24, 0x42, 0x24], "\ufffd", "a lead byte at the end"],
  ["iso-2022-jp", [0x0e, 0x41], "\ufffdA", "SO is an error"],
  ["iso-2022-jp", [0x80], "\ufffd", "non-ASCII bytes are errors"],
];

for (const [label, bytes, expected, what] of cases) {
  test(() => {
    assert_equals(decode(label, bytes), expected);
  }, `${label}: ${what}`);
}

test(() => {
  for (const [label, bytes] of [["shift_jis", [0x82]], ["euc-kr", [0xb0, 0x20]], ["big5", [0x80]],
    ["gb18030", [0x84, 0x31, 0xa5, 0x30]], ["euc-jp", [0x8e]], ["iso-2022-jp", [0x1b]]]) {
    assert_throws_js(TypeError, () => decode(label, bytes, { fatal: true }), label);
  }
  assert_equals(decode("shift_jis", [0x82, 0xa0], { fatal: true }), "あ");
}, "fatal decoders throw a TypeError on the first error");

test(() => {
  const d = new TextDecoder("gb18030");
  assert_equals(d.decode(new Uint8Array([0xc4]), { stream: true }), "");
  assert_equals(d.decode(new Uint8Array([0xe3, 0x90, 0x30]), { stream: true }), "你");
  assert_equals(d.decode(new Uint8Array([0x81]), { stream: true }), "");
  assert_equals(d.decode(new Uint8Array([0x30])), "\u{10000}");
  const j = new TextDecoder("iso-2022-jp");
  assert_equals(j.decode(new Uint8Array([0x1b, 0x24]), { stream: true }), "");
  assert_equals(j.decode(new Uint8Array([0x42, 0x24]), { stream: true }), "");
  assert_equals(j.decode(new Uint8Array([0x22])), "あ");
  assert_equals(j.decode(new Uint8Array([0x24, 0x22])), "$\"", "a new decode starts in ASCII");
  const s = new TextDecoder("shift_jis");
  assert_equals(s.decode(new Uint8Array([0x82]), { stream: true }), "");
  assert_equals(s.decode(), "\ufffd", "the end of the stream flushes the pending lead byte");
}, "streaming keeps partial sequences and state between calls");

promise_test(async () => {
  const stream = new Blob([new Uint8Array([0xc7, 0xd1, 0xb1, 0xdb])]).stream()
    .pipeThrough(new TextDecoderStream("euc-kr"));
  let text = "";
  for await (const chunk of stream) text += chunk;
  assert_equals(text, "한글");
}, "TextDecoderStream decodes the legacy encodings too");
