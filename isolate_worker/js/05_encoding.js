// Encoding standard: TextEncoder, TextDecoder, and fast UTF-8 helpers for the runtime.
//
// Decoders: UTF-8, UTF-16LE, UTF-16BE, x-user-defined and every legacy single-byte
// encoding, with the standard's error handling (U+FFFD, or a TypeError when fatal) and
// streaming (`decode(chunk, { stream: true })` keeps incomplete sequences for the next
// call). The legacy multi-byte encodings (gbk, gb18030, big5, euc-jp, iso-2022-jp,
// shift_jis, euc-kr) are decoded by 05_encoding_legacy.js; TextDecoder throws a RangeError
// for "replacement", as it does for unknown labels.
//
// Speed: bytes are decoded in blocks into a reused Uint16Array of code units, which become
// a string through String.fromCharCode.apply in chunks; blocks that are all ASCII skip the
// decoding loop. No per-byte string concatenation anywhere.
// Exports: internals.encoding.

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetDetached,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  MathMin,
  ObjectFreeze,
  SafeMap,
  StringFromCharCode,
  StringPrototypeCharCodeAt,
  StringPrototypeReplace,
  StringPrototypeSearch,
  StringPrototypeSlice,
  SharedArrayBufferPrototypeGetByteLength,
  TypeError: TypeErrorCtor,
  RangeError: RangeErrorCtor,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSlice,
  TypedArrayPrototypeSubarray,
  Uint16Array: Uint16ArrayCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;
// fromCharCode.apply(null, codes), immune to a patched Function.prototype.apply.
const StringFromCharCodeApply = primordials.applyBind(primordials.String.fromCharCode);

// --- Labels (Encoding standard §4.2) -----------------------------------------------------

const ENCODINGS = [
  ["utf-8", ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8",
    "x-unicode20utf8"]],
  ["ibm866", ["866", "cp866", "csibm866", "ibm866"]],
  ["iso-8859-2", ["csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592",
    "iso_8859-2", "iso_8859-2:1987", "l2", "latin2"]],
  ["iso-8859-3", ["csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593",
    "iso_8859-3", "iso_8859-3:1988", "l3", "latin3"]],
  ["iso-8859-4", ["csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594",
    "iso_8859-4", "iso_8859-4:1988", "l4", "latin4"]],
  ["iso-8859-5", ["csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5",
    "iso88595", "iso_8859-5", "iso_8859-5:1988"]],
  ["iso-8859-6", ["arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic",
    "ecma-114", "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127", "iso8859-6",
    "iso88596", "iso_8859-6", "iso_8859-6:1987"]],
  ["iso-8859-7", ["csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7",
    "iso-ir-126", "iso8859-7", "iso88597", "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek"]],
  ["iso-8859-8", ["csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e",
    "iso-ir-138", "iso8859-8", "iso88598", "iso_8859-8", "iso_8859-8:1988", "visual"]],
  ["iso-8859-8-i", ["csiso88598i", "iso-8859-8-i", "logical"]],
  ["iso-8859-10", ["csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910",
    "l6", "latin6"]],
  ["iso-8859-13", ["iso-8859-13", "iso8859-13", "iso885913"]],
  ["iso-8859-14", ["iso-8859-14", "iso8859-14", "iso885914"]],
  ["iso-8859-15", ["csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15",
    "l9"]],
  ["iso-8859-16", ["iso-8859-16"]],
  ["koi8-r", ["cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"]],
  ["koi8-u", ["koi8-ru", "koi8-u"]],
  ["macintosh", ["csmacintosh", "mac", "macintosh", "x-mac-roman"]],
  ["windows-874", ["dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620",
    "windows-874"]],
  ["windows-1250", ["cp1250", "windows-1250", "x-cp1250"]],
  ["windows-1251", ["cp1251", "windows-1251", "x-cp1251"]],
  ["windows-1252", ["ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819",
    "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987",
    "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"]],
  ["windows-1253", ["cp1253", "windows-1253", "x-cp1253"]],
  ["windows-1254", ["cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9",
    "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "windows-1254", "x-cp1254"]],
  ["windows-1255", ["cp1255", "windows-1255", "x-cp1255"]],
  ["windows-1256", ["cp1256", "windows-1256", "x-cp1256"]],
  ["windows-1257", ["cp1257", "windows-1257", "x-cp1257"]],
  ["windows-1258", ["cp1258", "windows-1258", "x-cp1258"]],
  ["x-mac-cyrillic", ["x-mac-cyrillic", "x-mac-ukrainian"]],
  ["gbk", ["chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk",
    "iso-ir-58", "x-gbk"]],
  ["gb18030", ["gb18030"]],
  ["big5", ["big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"]],
  ["euc-jp", ["cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"]],
  ["iso-2022-jp", ["csiso2022jp", "iso-2022-jp"]],
  ["shift_jis", ["csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis",
    "windows-31j", "x-sjis"]],
  ["euc-kr", ["cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987",
    "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"]],
  ["replacement", ["csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext",
    "iso-2022-kr"]],
  ["utf-16be", ["unicodefffe", "utf-16be"]],
  ["utf-16le", ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16",
    "utf-16le"]],
  ["x-user-defined", ["x-user-defined"]],
];

const labelToEncoding = new SafeMap();
for (const [name, labels] of ENCODINGS) {
  for (const label of labels) labelToEncoding.set(label, name);
}

const ASCII_WHITESPACE_EDGES = new primordials.SafeRegExp(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g);
const ASCII_UPPER = new primordials.SafeRegExp(/[A-Z]/g);
const asciiLowerChar = (c) => StringFromCharCode(StringPrototypeCharCodeAt(c, 0) + 32);

/** Encoding standard "get an encoding": the encoding's name, or null for failure. */
function getEncoding(label) {
  let key = StringPrototypeReplace(`${label}`, ASCII_WHITESPACE_EDGES, "");
  key = StringPrototypeReplace(key, ASCII_UPPER, asciiLowerChar);
  const name = labelToEncoding.get(key);
  return name === undefined ? null : name;
}

// --- Single-byte indexes (Encoding standard §9) --------------------------------------------

// For each legacy single-byte encoding, the code points of bytes 0x80..0xFF (bytes below
// 0x80 are ASCII); U+FFFD marks a byte the index does not map (a decoding error).
// Data: the standard's index-*.txt files.
const SINGLE_BYTE_INDEXES = {
  "ibm866":
    "\u0410\u0411\u0412\u0413\u0414\u0415\u0416\u0417\u0418\u0419\u041A\u041B\u041C\u041D\u041E\u041F\u0420\u0421\u0422\u0423\u0424\u0425\u0426\u0427\u0428\u0429\u042A\u042B\u042C\u042D\u042E\u042F" +
    "\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u0439\u043A\u043B\u043C\u043D\u043E\u043F\u2591\u2592\u2593\u2502\u2524\u2561\u2562\u2556\u2555\u2563\u2551\u2557\u255D\u255C\u255B\u2510" +
    "\u2514\u2534\u252C\u251C\u2500\u253C\u255E\u255F\u255A\u2554\u2569\u2566\u2560\u2550\u256C\u2567\u2568\u2564\u2565\u2559\u2558\u2552\u2553\u256B\u256A\u2518\u250C\u2588\u2584\u258C\u2590\u2580" +
    "\u0440\u0441\u0442\u0443\u0444\u0445\u0446\u0447\u0448\u0449\u044A\u044B\u044C\u044D\u044E\u044F\u0401\u0451\u0404\u0454\u0407\u0457\u040E\u045E\u00B0\u2219\u00B7\u221A\u2116\u00A4\u25A0\u00A0",
  "iso-8859-2":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0104\u02D8\u0141\u00A4\u013D\u015A\u00A7\u00A8\u0160\u015E\u0164\u0179\u00AD\u017D\u017B\u00B0\u0105\u02DB\u0142\u00B4\u013E\u015B\u02C7\u00B8\u0161\u015F\u0165\u017A\u02DD\u017E\u017C" +
    "\u0154\u00C1\u00C2\u0102\u00C4\u0139\u0106\u00C7\u010C\u00C9\u0118\u00CB\u011A\u00CD\u00CE\u010E\u0110\u0143\u0147\u00D3\u00D4\u0150\u00D6\u00D7\u0158\u016E\u00DA\u0170\u00DC\u00DD\u0162\u00DF" +
    "\u0155\u00E1\u00E2\u0103\u00E4\u013A\u0107\u00E7\u010D\u00E9\u0119\u00EB\u011B\u00ED\u00EE\u010F\u0111\u0144\u0148\u00F3\u00F4\u0151\u00F6\u00F7\u0159\u016F\u00FA\u0171\u00FC\u00FD\u0163\u02D9",
  "iso-8859-3":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0126\u02D8\u00A3\u00A4\uFFFD\u0124\u00A7\u00A8\u0130\u015E\u011E\u0134\u00AD\uFFFD\u017B\u00B0\u0127\u00B2\u00B3\u00B4\u00B5\u0125\u00B7\u00B8\u0131\u015F\u011F\u0135\u00BD\uFFFD\u017C" +
    "\u00C0\u00C1\u00C2\uFFFD\u00C4\u010A\u0108\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF\uFFFD\u00D1\u00D2\u00D3\u00D4\u0120\u00D6\u00D7\u011C\u00D9\u00DA\u00DB\u00DC\u016C\u015C\u00DF" +
    "\u00E0\u00E1\u00E2\uFFFD\u00E4\u010B\u0109\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF\uFFFD\u00F1\u00F2\u00F3\u00F4\u0121\u00F6\u00F7\u011D\u00F9\u00FA\u00FB\u00FC\u016D\u015D\u02D9",
  "iso-8859-4":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0104\u0138\u0156\u00A4\u0128\u013B\u00A7\u00A8\u0160\u0112\u0122\u0166\u00AD\u017D\u00AF\u00B0\u0105\u02DB\u0157\u00B4\u0129\u013C\u02C7\u00B8\u0161\u0113\u0123\u0167\u014A\u017E\u014B" +
    "\u0100\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u012E\u010C\u00C9\u0118\u00CB\u0116\u00CD\u00CE\u012A\u0110\u0145\u014C\u0136\u00D4\u00D5\u00D6\u00D7\u00D8\u0172\u00DA\u00DB\u00DC\u0168\u016A\u00DF" +
    "\u0101\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u012F\u010D\u00E9\u0119\u00EB\u0117\u00ED\u00EE\u012B\u0111\u0146\u014D\u0137\u00F4\u00F5\u00F6\u00F7\u00F8\u0173\u00FA\u00FB\u00FC\u0169\u016B\u02D9",
  "iso-8859-5":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0401\u0402\u0403\u0404\u0405\u0406\u0407\u0408\u0409\u040A\u040B\u040C\u00AD\u040E\u040F\u0410\u0411\u0412\u0413\u0414\u0415\u0416\u0417\u0418\u0419\u041A\u041B\u041C\u041D\u041E\u041F" +
    "\u0420\u0421\u0422\u0423\u0424\u0425\u0426\u0427\u0428\u0429\u042A\u042B\u042C\u042D\u042E\u042F\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u0439\u043A\u043B\u043C\u043D\u043E\u043F" +
    "\u0440\u0441\u0442\u0443\u0444\u0445\u0446\u0447\u0448\u0449\u044A\u044B\u044C\u044D\u044E\u044F\u2116\u0451\u0452\u0453\u0454\u0455\u0456\u0457\u0458\u0459\u045A\u045B\u045C\u00A7\u045E\u045F",
  "iso-8859-6":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\uFFFD\uFFFD\uFFFD\u00A4\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\u060C\u00AD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\u061B\uFFFD\uFFFD\uFFFD\u061F" +
    "\uFFFD\u0621\u0622\u0623\u0624\u0625\u0626\u0627\u0628\u0629\u062A\u062B\u062C\u062D\u062E\u062F\u0630\u0631\u0632\u0633\u0634\u0635\u0636\u0637\u0638\u0639\u063A\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD" +
    "\u0640\u0641\u0642\u0643\u0644\u0645\u0646\u0647\u0648\u0649\u064A\u064B\u064C\u064D\u064E\u064F\u0650\u0651\u0652\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD",
  "iso-8859-7":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u2018\u2019\u00A3\u20AC\u20AF\u00A6\u00A7\u00A8\u00A9\u037A\u00AB\u00AC\u00AD\uFFFD\u2015\u00B0\u00B1\u00B2\u00B3\u0384\u0385\u0386\u00B7\u0388\u0389\u038A\u00BB\u038C\u00BD\u038E\u038F" +
    "\u0390\u0391\u0392\u0393\u0394\u0395\u0396\u0397\u0398\u0399\u039A\u039B\u039C\u039D\u039E\u039F\u03A0\u03A1\uFFFD\u03A3\u03A4\u03A5\u03A6\u03A7\u03A8\u03A9\u03AA\u03AB\u03AC\u03AD\u03AE\u03AF" +
    "\u03B0\u03B1\u03B2\u03B3\u03B4\u03B5\u03B6\u03B7\u03B8\u03B9\u03BA\u03BB\u03BC\u03BD\u03BE\u03BF\u03C0\u03C1\u03C2\u03C3\u03C4\u03C5\u03C6\u03C7\u03C8\u03C9\u03CA\u03CB\u03CC\u03CD\u03CE\uFFFD",
  "iso-8859-8":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\uFFFD\u00A2\u00A3\u00A4\u00A5\u00A6\u00A7\u00A8\u00A9\u00D7\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00B8\u00B9\u00F7\u00BB\u00BC\u00BD\u00BE\uFFFD" +
    "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\u2017" +
    "\u05D0\u05D1\u05D2\u05D3\u05D4\u05D5\u05D6\u05D7\u05D8\u05D9\u05DA\u05DB\u05DC\u05DD\u05DE\u05DF\u05E0\u05E1\u05E2\u05E3\u05E4\u05E5\u05E6\u05E7\u05E8\u05E9\u05EA\uFFFD\uFFFD\u200E\u200F\uFFFD",
  "iso-8859-10":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0104\u0112\u0122\u012A\u0128\u0136\u00A7\u013B\u0110\u0160\u0166\u017D\u00AD\u016A\u014A\u00B0\u0105\u0113\u0123\u012B\u0129\u0137\u00B7\u013C\u0111\u0161\u0167\u017E\u2015\u016B\u014B" +
    "\u0100\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u012E\u010C\u00C9\u0118\u00CB\u0116\u00CD\u00CE\u00CF\u00D0\u0145\u014C\u00D3\u00D4\u00D5\u00D6\u0168\u00D8\u0172\u00DA\u00DB\u00DC\u00DD\u00DE\u00DF" +
    "\u0101\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u012F\u010D\u00E9\u0119\u00EB\u0117\u00ED\u00EE\u00EF\u00F0\u0146\u014D\u00F3\u00F4\u00F5\u00F6\u0169\u00F8\u0173\u00FA\u00FB\u00FC\u00FD\u00FE\u0138",
  "iso-8859-13":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u201D\u00A2\u00A3\u00A4\u201E\u00A6\u00A7\u00D8\u00A9\u0156\u00AB\u00AC\u00AD\u00AE\u00C6\u00B0\u00B1\u00B2\u00B3\u201C\u00B5\u00B6\u00B7\u00F8\u00B9\u0157\u00BB\u00BC\u00BD\u00BE\u00E6" +
    "\u0104\u012E\u0100\u0106\u00C4\u00C5\u0118\u0112\u010C\u00C9\u0179\u0116\u0122\u0136\u012A\u013B\u0160\u0143\u0145\u00D3\u014C\u00D5\u00D6\u00D7\u0172\u0141\u015A\u016A\u00DC\u017B\u017D\u00DF" +
    "\u0105\u012F\u0101\u0107\u00E4\u00E5\u0119\u0113\u010D\u00E9\u017A\u0117\u0123\u0137\u012B\u013C\u0161\u0144\u0146\u00F3\u014D\u00F5\u00F6\u00F7\u0173\u0142\u015B\u016B\u00FC\u017C\u017E\u2019",
  "iso-8859-14":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u1E02\u1E03\u00A3\u010A\u010B\u1E0A\u00A7\u1E80\u00A9\u1E82\u1E0B\u1EF2\u00AD\u00AE\u0178\u1E1E\u1E1F\u0120\u0121\u1E40\u1E41\u00B6\u1E56\u1E81\u1E57\u1E83\u1E60\u1EF3\u1E84\u1E85\u1E61" +
    "\u00C0\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF\u0174\u00D1\u00D2\u00D3\u00D4\u00D5\u00D6\u1E6A\u00D8\u00D9\u00DA\u00DB\u00DC\u00DD\u0176\u00DF" +
    "\u00E0\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF\u0175\u00F1\u00F2\u00F3\u00F4\u00F5\u00F6\u1E6B\u00F8\u00F9\u00FA\u00FB\u00FC\u00FD\u0177\u00FF",
  "iso-8859-15":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u00A1\u00A2\u00A3\u20AC\u00A5\u0160\u00A7\u0161\u00A9\u00AA\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u017D\u00B5\u00B6\u00B7\u017E\u00B9\u00BA\u00BB\u0152\u0153\u0178\u00BF" +
    "\u00C0\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF\u00D0\u00D1\u00D2\u00D3\u00D4\u00D5\u00D6\u00D7\u00D8\u00D9\u00DA\u00DB\u00DC\u00DD\u00DE\u00DF" +
    "\u00E0\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF\u00F0\u00F1\u00F2\u00F3\u00F4\u00F5\u00F6\u00F7\u00F8\u00F9\u00FA\u00FB\u00FC\u00FD\u00FE\u00FF",
  "iso-8859-16":
    "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0104\u0105\u0141\u20AC\u201E\u0160\u00A7\u0161\u00A9\u0218\u00AB\u0179\u00AD\u017A\u017B\u00B0\u00B1\u010C\u0142\u017D\u201D\u00B6\u00B7\u017E\u010D\u0219\u00BB\u0152\u0153\u0178\u017C" +
    "\u00C0\u00C1\u00C2\u0102\u00C4\u0106\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF\u0110\u0143\u00D2\u00D3\u00D4\u0150\u00D6\u015A\u0170\u00D9\u00DA\u00DB\u00DC\u0118\u021A\u00DF" +
    "\u00E0\u00E1\u00E2\u0103\u00E4\u0107\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF\u0111\u0144\u00F2\u00F3\u00F4\u0151\u00F6\u015B\u0171\u00F9\u00FA\u00FB\u00FC\u0119\u021B\u00FF",
  "koi8-r":
    "\u2500\u2502\u250C\u2510\u2514\u2518\u251C\u2524\u252C\u2534\u253C\u2580\u2584\u2588\u258C\u2590\u2591\u2592\u2593\u2320\u25A0\u2219\u221A\u2248\u2264\u2265\u00A0\u2321\u00B0\u00B2\u00B7\u00F7" +
    "\u2550\u2551\u2552\u0451\u2553\u2554\u2555\u2556\u2557\u2558\u2559\u255A\u255B\u255C\u255D\u255E\u255F\u2560\u2561\u0401\u2562\u2563\u2564\u2565\u2566\u2567\u2568\u2569\u256A\u256B\u256C\u00A9" +
    "\u044E\u0430\u0431\u0446\u0434\u0435\u0444\u0433\u0445\u0438\u0439\u043A\u043B\u043C\u043D\u043E\u043F\u044F\u0440\u0441\u0442\u0443\u0436\u0432\u044C\u044B\u0437\u0448\u044D\u0449\u0447\u044A" +
    "\u042E\u0410\u0411\u0426\u0414\u0415\u0424\u0413\u0425\u0418\u0419\u041A\u041B\u041C\u041D\u041E\u041F\u042F\u0420\u0421\u0422\u0423\u0416\u0412\u042C\u042B\u0417\u0428\u042D\u0429\u0427\u042A",
  "koi8-u":
    "\u2500\u2502\u250C\u2510\u2514\u2518\u251C\u2524\u252C\u2534\u253C\u2580\u2584\u2588\u258C\u2590\u2591\u2592\u2593\u2320\u25A0\u2219\u221A\u2248\u2264\u2265\u00A0\u2321\u00B0\u00B2\u00B7\u00F7" +
    "\u2550\u2551\u2552\u0451\u0454\u2554\u0456\u0457\u2557\u2558\u2559\u255A\u255B\u0491\u045E\u255E\u255F\u2560\u2561\u0401\u0404\u2563\u0406\u0407\u2566\u2567\u2568\u2569\u256A\u0490\u040E\u00A9" +
    "\u044E\u0430\u0431\u0446\u0434\u0435\u0444\u0433\u0445\u0438\u0439\u043A\u043B\u043C\u043D\u043E\u043F\u044F\u0440\u0441\u0442\u0443\u0436\u0432\u044C\u044B\u0437\u0448\u044D\u0449\u0447\u044A" +
    "\u042E\u0410\u0411\u0426\u0414\u0415\u0424\u0413\u0425\u0418\u0419\u041A\u041B\u041C\u041D\u041E\u041F\u042F\u0420\u0421\u0422\u0423\u0416\u0412\u042C\u042B\u0417\u0428\u042D\u0429\u0427\u042A",
  "macintosh":
    "\u00C4\u00C5\u00C7\u00C9\u00D1\u00D6\u00DC\u00E1\u00E0\u00E2\u00E4\u00E3\u00E5\u00E7\u00E9\u00E8\u00EA\u00EB\u00ED\u00EC\u00EE\u00EF\u00F1\u00F3\u00F2\u00F4\u00F6\u00F5\u00FA\u00F9\u00FB\u00FC" +
    "\u2020\u00B0\u00A2\u00A3\u00A7\u2022\u00B6\u00DF\u00AE\u00A9\u2122\u00B4\u00A8\u2260\u00C6\u00D8\u221E\u00B1\u2264\u2265\u00A5\u00B5\u2202\u2211\u220F\u03C0\u222B\u00AA\u00BA\u03A9\u00E6\u00F8" +
    "\u00BF\u00A1\u00AC\u221A\u0192\u2248\u2206\u00AB\u00BB\u2026\u00A0\u00C0\u00C3\u00D5\u0152\u0153\u2013\u2014\u201C\u201D\u2018\u2019\u00F7\u25CA\u00FF\u0178\u2044\u20AC\u2039\u203A\uFB01\uFB02" +
    "\u2021\u00B7\u201A\u201E\u2030\u00C2\u00CA\u00C1\u00CB\u00C8\u00CD\u00CE\u00CF\u00CC\u00D3\u00D4\uF8FF\u00D2\u00DA\u00DB\u00D9\u0131\u02C6\u02DC\u00AF\u02D8\u02D9\u02DA\u00B8\u02DD\u02DB\u02C7",
  "windows-874":
    "\u20AC\u0081\u0082\u0083\u0084\u2026\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
    "\u00A0\u0E01\u0E02\u0E03\u0E04\u0E05\u0E06\u0E07\u0E08\u0E09\u0E0A\u0E0B\u0E0C\u0E0D\u0E0E\u0E0F\u0E10\u0E11\u0E12\u0E13\u0E14\u0E15\u0E16\u0E17\u0E18\u0E19\u0E1A\u0E1B\u0E1C\u0E1D\u0E1E\u0E1F" +
    "\u0E20\u0E21\u0E22\u0E23\u0E24\u0E25\u0E26\u0E27\u0E28\u0E29\u0E2A\u0E2B\u0E2C\u0E2D\u0E2E\u0E2F\u0E30\u0E31\u0E32\u0E33\u0E34\u0E35\u0E36\u0E37\u0E38\u0E39\u0E3A\uFFFD\uFFFD\uFFFD\uFFFD\u0E3F" +
    "\u0E40\u0E41\u0E42\u0E43\u0E44\u0E45\u0E46\u0E47\u0E48\u0E49\u0E4A\u0E4B\u0E4C\u0E4D\u0E4E\u0E4F\u0E50\u0E51\u0E52\u0E53\u0E54\u0E55\u0E56\u0E57\u0E58\u0E59\u0E5A\u0E5B\uFFFD\uFFFD\uFFFD\uFFFD",
  "windows-1250":
    "\u20AC\u0081\u201A\u0083\u201E\u2026\u2020\u2021\u0088\u2030\u0160\u2039\u015A\u0164\u017D\u0179\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u0098\u2122\u0161\u203A\u015B\u0165\u017E\u017A" +
    "\u00A0\u02C7\u02D8\u0141\u00A4\u0104\u00A6\u00A7\u00A8\u00A9\u015E\u00AB\u00AC\u00AD\u00AE\u017B\u00B0\u00B1\u02DB\u0142\u00B4\u00B5\u00B6\u00B7\u00B8\u0105\u015F\u00BB\u013D\u02DD\u013E\u017C" +
    "\u0154\u00C1\u00C2\u0102\u00C4\u0139\u0106\u00C7\u010C\u00C9\u0118\u00CB\u011A\u00CD\u00CE\u010E\u0110\u0143\u0147\u00D3\u00D4\u0150\u00D6\u00D7\u0158\u016E\u00DA\u0170\u00DC\u00DD\u0162\u00DF" +
    "\u0155\u00E1\u00E2\u0103\u00E4\u013A\u0107\u00E7\u010D\u00E9\u0119\u00EB\u011B\u00ED\u00EE\u010F\u0111\u0144\u0148\u00F3\u00F4\u0151\u00F6\u00F7\u0159\u016F\u00FA\u0171\u00FC\u00FD\u0163\u02D9",
  "windows-1251":
    "\u0402\u0403\u201A\u0453\u201E\u2026\u2020\u2021\u20AC\u2030\u0409\u2039\u040A\u040C\u040B\u040F\u0452\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u0098\u2122\u0459\u203A\u045A\u045C\u045B\u045F" +
    "\u00A0\u040E\u045E\u0408\u00A4\u0490\u00A6\u00A7\u0401\u00A9\u0404\u00AB\u00AC\u00AD\u00AE\u0407\u00B0\u00B1\u0406\u0456\u0491\u00B5\u00B6\u00B7\u0451\u2116\u0454\u00BB\u0458\u0405\u0455\u0457" +
    "\u0410\u0411\u0412\u0413\u0414\u0415\u0416\u0417\u0418\u0419\u041A\u041B\u041C\u041D\u041E\u041F\u0420\u0421\u0422\u0423\u0424\u0425\u0426\u0427\u0428\u0429\u042A\u042B\u042C\u042D\u042E\u042F" +
    "\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u0439\u043A\u043B\u043C\u043D\u043E\u043F\u0440\u0441\u0442\u0443\u0444\u0445\u0446\u0447\u0448\u0449\u044A\u044B\u044C\u044D\u044E\u044F",
  "windows-1252":
    "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178" +
    "\u00A0\u00A1\u00A2\u00A3\u00A4\u00A5\u00A6\u00A7\u00A8\u00A9\u00AA\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00B8\u00B9\u00BA\u00BB\u00BC\u00BD\u00BE\u00BF" +
    "\u00C0\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF\u00D0\u00D1\u00D2\u00D3\u00D4\u00D5\u00D6\u00D7\u00D8\u00D9\u00DA\u00DB\u00DC\u00DD\u00DE\u00DF" +
    "\u00E0\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF\u00F0\u00F1\u00F2\u00F3\u00F4\u00F5\u00F6\u00F7\u00F8\u00F9\u00FA\u00FB\u00FC\u00FD\u00FE\u00FF",
  "windows-1253":
    "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u0088\u2030\u008A\u2039\u008C\u008D\u008E\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u0098\u2122\u009A\u203A\u009C\u009D\u009E\u009F" +
    "\u00A0\u0385\u0386\u00A3\u00A4\u00A5\u00A6\u00A7\u00A8\u00A9\uFFFD\u00AB\u00AC\u00AD\u00AE\u2015\u00B0\u00B1\u00B2\u00B3\u0384\u00B5\u00B6\u00B7\u0388\u0389\u038A\u00BB\u038C\u00BD\u038E\u038F" +
    "\u0390\u0391\u0392\u0393\u0394\u0395\u0396\u0397\u0398\u0399\u039A\u039B\u039C\u039D\u039E\u039F\u03A0\u03A1\uFFFD\u03A3\u03A4\u03A5\u03A6\u03A7\u03A8\u03A9\u03AA\u03AB\u03AC\u03AD\u03AE\u03AF" +
    "\u03B0\u03B1\u03B2\u03B3\u03B4\u03B5\u03B6\u03B7\u03B8\u03B9\u03BA\u03BB\u03BC\u03BD\u03BE\u03BF\u03C0\u03C1\u03C2\u03C3\u03C4\u03C5\u03C6\u03C7\u03C8\u03C9\u03CA\u03CB\u03CC\u03CD\u03CE\uFFFD",
  "windows-1254":
    "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u008E\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u009E\u0178" +
    "\u00A0\u00A1\u00A2\u00A3\u00A4\u00A5\u00A6\u00A7\u00A8\u00A9\u00AA\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00B8\u00B9\u00BA\u00BB\u00BC\u00BD\u00BE\u00BF" +
    "\u00C0\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF\u011E\u00D1\u00D2\u00D3\u00D4\u00D5\u00D6\u00D7\u00D8\u00D9\u00DA\u00DB\u00DC\u0130\u015E\u00DF" +
    "\u00E0\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF\u011F\u00F1\u00F2\u00F3\u00F4\u00F5\u00F6\u00F7\u00F8\u00F9\u00FA\u00FB\u00FC\u0131\u015F\u00FF",
  "windows-1255":
    "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u008A\u2039\u008C\u008D\u008E\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u009A\u203A\u009C\u009D\u009E\u009F" +
    "\u00A0\u00A1\u00A2\u00A3\u20AA\u00A5\u00A6\u00A7\u00A8\u00A9\u00D7\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00B8\u00B9\u00F7\u00BB\u00BC\u00BD\u00BE\u00BF" +
    "\u05B0\u05B1\u05B2\u05B3\u05B4\u05B5\u05B6\u05B7\u05B8\u05B9\u05BA\u05BB\u05BC\u05BD\u05BE\u05BF\u05C0\u05C1\u05C2\u05C3\u05F0\u05F1\u05F2\u05F3\u05F4\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD" +
    "\u05D0\u05D1\u05D2\u05D3\u05D4\u05D5\u05D6\u05D7\u05D8\u05D9\u05DA\u05DB\u05DC\u05DD\u05DE\u05DF\u05E0\u05E1\u05E2\u05E3\u05E4\u05E5\u05E6\u05E7\u05E8\u05E9\u05EA\uFFFD\uFFFD\u200E\u200F\uFFFD",
  "windows-1256":
    "\u20AC\u067E\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0679\u2039\u0152\u0686\u0698\u0688\u06AF\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u06A9\u2122\u0691\u203A\u0153\u200C\u200D\u06BA" +
    "\u00A0\u060C\u00A2\u00A3\u00A4\u00A5\u00A6\u00A7\u00A8\u00A9\u06BE\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00B8\u00B9\u061B\u00BB\u00BC\u00BD\u00BE\u061F" +
    "\u06C1\u0621\u0622\u0623\u0624\u0625\u0626\u0627\u0628\u0629\u062A\u062B\u062C\u062D\u062E\u062F\u0630\u0631\u0632\u0633\u0634\u0635\u0636\u00D7\u0637\u0638\u0639\u063A\u0640\u0641\u0642\u0643" +
    "\u00E0\u0644\u00E2\u0645\u0646\u0647\u0648\u00E7\u00E8\u00E9\u00EA\u00EB\u0649\u064A\u00EE\u00EF\u064B\u064C\u064D\u064E\u00F4\u064F\u0650\u00F7\u0651\u00F9\u0652\u00FB\u00FC\u200E\u200F\u06D2",
  "windows-1257":
    "\u20AC\u0081\u201A\u0083\u201E\u2026\u2020\u2021\u0088\u2030\u008A\u2039\u008C\u00A8\u02C7\u00B8\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u0098\u2122\u009A\u203A\u009C\u00AF\u02DB\u009F" +
    "\u00A0\uFFFD\u00A2\u00A3\u00A4\uFFFD\u00A6\u00A7\u00D8\u00A9\u0156\u00AB\u00AC\u00AD\u00AE\u00C6\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00F8\u00B9\u0157\u00BB\u00BC\u00BD\u00BE\u00E6" +
    "\u0104\u012E\u0100\u0106\u00C4\u00C5\u0118\u0112\u010C\u00C9\u0179\u0116\u0122\u0136\u012A\u013B\u0160\u0143\u0145\u00D3\u014C\u00D5\u00D6\u00D7\u0172\u0141\u015A\u016A\u00DC\u017B\u017D\u00DF" +
    "\u0105\u012F\u0101\u0107\u00E4\u00E5\u0119\u0113\u010D\u00E9\u017A\u0117\u0123\u0137\u012B\u013C\u0161\u0144\u0146\u00F3\u014D\u00F5\u00F6\u00F7\u0173\u0142\u015B\u016B\u00FC\u017C\u017E\u02D9",
  "windows-1258":
    "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u008A\u2039\u0152\u008D\u008E\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u009A\u203A\u0153\u009D\u009E\u0178" +
    "\u00A0\u00A1\u00A2\u00A3\u00A4\u00A5\u00A6\u00A7\u00A8\u00A9\u00AA\u00AB\u00AC\u00AD\u00AE\u00AF\u00B0\u00B1\u00B2\u00B3\u00B4\u00B5\u00B6\u00B7\u00B8\u00B9\u00BA\u00BB\u00BC\u00BD\u00BE\u00BF" +
    "\u00C0\u00C1\u00C2\u0102\u00C4\u00C5\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u0300\u00CD\u00CE\u00CF\u0110\u00D1\u0309\u00D3\u00D4\u01A0\u00D6\u00D7\u00D8\u00D9\u00DA\u00DB\u00DC\u01AF\u0303\u00DF" +
    "\u00E0\u00E1\u00E2\u0103\u00E4\u00E5\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u0301\u00ED\u00EE\u00EF\u0111\u00F1\u0323\u00F3\u00F4\u01A1\u00F6\u00F7\u00F8\u00F9\u00FA\u00FB\u00FC\u01B0\u20AB\u00FF",
  "x-mac-cyrillic":
    "\u0410\u0411\u0412\u0413\u0414\u0415\u0416\u0417\u0418\u0419\u041A\u041B\u041C\u041D\u041E\u041F\u0420\u0421\u0422\u0423\u0424\u0425\u0426\u0427\u0428\u0429\u042A\u042B\u042C\u042D\u042E\u042F" +
    "\u2020\u00B0\u0490\u00A3\u00A7\u2022\u00B6\u0406\u00AE\u00A9\u2122\u0402\u0452\u2260\u0403\u0453\u221E\u00B1\u2264\u2265\u0456\u00B5\u0491\u0408\u0404\u0454\u0407\u0457\u0409\u0459\u040A\u045A" +
    "\u0458\u0405\u00AC\u221A\u0192\u2248\u2206\u00AB\u00BB\u2026\u00A0\u040B\u045B\u040C\u045C\u0455\u2013\u2014\u201C\u201D\u2018\u2019\u00F7\u201E\u040E\u045E\u040F\u045F\u2116\u0401\u0451\u044F" +
    "\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u0439\u043A\u043B\u043C\u043D\u043E\u043F\u0440\u0441\u0442\u0443\u0444\u0445\u0446\u0447\u0448\u0449\u044A\u044B\u044C\u044D\u044E\u20AC",
};

const singleByteTables = new SafeMap(); // name -> Uint16Array(128), built on first use

function singleByteTable(name) {
  let table = singleByteTables.get(name);
  if (table === undefined) {
    // ISO-8859-8-I differs from ISO-8859-8 only in its direction, which decoding ignores.
    const source = SINGLE_BYTE_INDEXES[name === "iso-8859-8-i" ? "iso-8859-8" : name];
    table = new Uint16ArrayCtor(128);
    for (let i = 0; i < 128; i++) table[i] = StringPrototypeCharCodeAt(source, i);
    singleByteTables.set(name, table);
  }
  return table;
}

// --- Turning code units into strings ----------------------------------------------------------

const APPLY_CHUNK = 16384; // arguments per String.fromCharCode.apply call (measured fastest)
const BLOCK = 65536; // bytes decoded per block into the shared code unit buffer
let unitBuffer = new Uint16ArrayCtor(BLOCK + 8);

function unitsFor(length) {
  if (unitBuffer.length < length) unitBuffer = new Uint16ArrayCtor(length);
  return unitBuffer;
}

/** The string of `units[0, length)` (code units, or bytes for Latin-1/ASCII). */
function codeUnitsToString(units, start, end) {
  if (end - start <= APPLY_CHUNK) {
    return StringFromCharCodeApply(null, TypedArrayPrototypeSubarray(units, start, end));
  }
  let s = "";
  for (let i = start; i < end; i += APPLY_CHUNK) {
    const stop = MathMin(i + APPLY_CHUNK, end);
    s += StringFromCharCodeApply(null, TypedArrayPrototypeSubarray(units, i, stop));
  }
  return s;
}

/** Index of the first byte >= 0x80 in bytes[start, end), or end. */
function asciiPrefixEnd(bytes, start, end) {
  let i = start;
  // Eight bytes at a time while they are all ASCII.
  while (i + 8 <= end &&
         ((bytes[i] | bytes[i + 1] | bytes[i + 2] | bytes[i + 3] |
           bytes[i + 4] | bytes[i + 5] | bytes[i + 6] | bytes[i + 7]) & 0x80) === 0) {
    i += 8;
  }
  while (i < end && bytes[i] < 0x80) i++;
  return i;
}

function decodingError(name) {
  return new TypeErrorCtor(`The encoded data was not valid for encoding ${name}`);
}

// --- UTF-8 decoder (Encoding standard §8.1.1) -------------------------------------------------

class Utf8Decoder {
  constructor(fatal) {
    this.fatal = fatal;
    this.reset();
  }

  reset() {
    this.codePoint = 0;
    this.bytesSeen = 0;
    this.bytesNeeded = 0;
    this.lowerBoundary = 0x80;
    this.upperBoundary = 0xbf;
  }

  /** Decode `bytes` (a Uint8Array); `flush` ends the stream. */
  decode(bytes, flush) {
    const n = TypedArrayPrototypeGetLength(bytes);
    let result = "";
    for (let start = 0; start < n; start += BLOCK) {
      const end = MathMin(n, start + BLOCK);
      if (this.bytesNeeded === 0 && asciiPrefixEnd(bytes, start, end) === end) {
        result += codeUnitsToString(bytes, start, end);
        continue;
      }
      const units = unitsFor(end - start + 8);
      const count = this.decodeBlock(bytes, start, end, units);
      result += codeUnitsToString(units, 0, count);
    }
    if (flush && this.bytesNeeded !== 0) {
      this.reset();
      if (this.fatal) throw decodingError("utf-8");
      result += "\uFFFD";
    }
    return result;
  }

  error() {
    if (this.fatal) {
      this.reset();
      throw decodingError("utf-8");
    }
    return 0xfffd;
  }

  /** Decode bytes[start, end) into units; returns the number of code units written. */
  decodeBlock(bytes, start, end, units) {
    let o = 0;
    let i = start;
    while (i < end) {
      const b = bytes[i];
      if (this.bytesNeeded === 0) {
        if (b < 0x80) {
          units[o++] = b;
          i++;
          continue;
        }
        // Fast paths: a whole, valid sequence inside this block.
        if (b >= 0xc2 && b <= 0xdf && i + 1 < end) {
          const b1 = bytes[i + 1];
          if ((b1 & 0xc0) === 0x80) {
            units[o++] = ((b & 0x1f) << 6) | (b1 & 0x3f);
            i += 2;
            continue;
          }
        } else if (b >= 0xe0 && b <= 0xef && i + 2 < end) {
          const b1 = bytes[i + 1];
          const b2 = bytes[i + 2];
          const lower = b === 0xe0 ? 0xa0 : 0x80;
          const upper = b === 0xed ? 0x9f : 0xbf;
          if (b1 >= lower && b1 <= upper && (b2 & 0xc0) === 0x80) {
            units[o++] = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
            i += 3;
            continue;
          }
        } else if (b >= 0xf0 && b <= 0xf4 && i + 3 < end) {
          const b1 = bytes[i + 1];
          const b2 = bytes[i + 2];
          const b3 = bytes[i + 3];
          const lower = b === 0xf0 ? 0x90 : 0x80;
          const upper = b === 0xf4 ? 0x8f : 0xbf;
          if (b1 >= lower && b1 <= upper && (b2 & 0xc0) === 0x80 && (b3 & 0xc0) === 0x80) {
            const cp = (((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) |
              (b3 & 0x3f)) - 0x10000;
            units[o++] = 0xd800 + (cp >> 10);
            units[o++] = 0xdc00 + (cp & 0x3ff);
            i += 4;
            continue;
          }
        }
        // The standard's state machine, one byte at a time: a lead byte.
        i++;
        if (b >= 0xc2 && b <= 0xdf) {
          this.bytesNeeded = 1;
          this.codePoint = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) this.lowerBoundary = 0xa0;
          if (b === 0xed) this.upperBoundary = 0x9f;
          this.bytesNeeded = 2;
          this.codePoint = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) this.lowerBoundary = 0x90;
          if (b === 0xf4) this.upperBoundary = 0x8f;
          this.bytesNeeded = 3;
          this.codePoint = b & 0x07;
        } else {
          units[o++] = this.error();
        }
        continue;
      }
      // A continuation byte is expected.
      if (b < this.lowerBoundary || b > this.upperBoundary) {
        // Error; the byte is processed again as the start of something new.
        this.reset();
        units[o++] = this.error();
        continue;
      }
      i++;
      this.lowerBoundary = 0x80;
      this.upperBoundary = 0xbf;
      this.codePoint = (this.codePoint << 6) | (b & 0x3f);
      if (++this.bytesSeen === this.bytesNeeded) {
        const cp = this.codePoint;
        this.reset();
        if (cp > 0xffff) {
          units[o++] = 0xd800 + ((cp - 0x10000) >> 10);
          units[o++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
        } else {
          units[o++] = cp;
        }
      }
    }
    return o;
  }
}

// --- UTF-16 decoders (Encoding standard §14.2) ------------------------------------------------

class Utf16Decoder {
  constructor(bigEndian, fatal) {
    this.bigEndian = bigEndian;
    this.fatal = fatal;
    this.name = bigEndian ? "utf-16be" : "utf-16le";
    this.reset();
  }

  reset() {
    this.leadByte = -1;
    this.leadSurrogate = -1;
  }

  error() {
    if (this.fatal) {
      this.reset();
      throw decodingError(this.name);
    }
    return 0xfffd;
  }

  decode(bytes, flush) {
    const n = TypedArrayPrototypeGetLength(bytes);
    let result = "";
    for (let start = 0; start < n; start += BLOCK) {
      const end = MathMin(n, start + BLOCK);
      const units = unitsFor(((end - start) >> 1) + 8);
      const count = this.decodeBlock(bytes, start, end, units);
      result += codeUnitsToString(units, 0, count);
    }
    if (flush && (this.leadByte !== -1 || this.leadSurrogate !== -1)) {
      this.reset();
      if (this.fatal) throw decodingError(this.name);
      result += "\uFFFD";
    }
    return result;
  }

  decodeBlock(bytes, start, end, units) {
    const big = this.bigEndian;
    let o = 0;
    let i = start;
    if (this.leadByte !== -1 && i < end) {
      const unit = big ? (this.leadByte << 8) | bytes[i] : this.leadByte | (bytes[i] << 8);
      this.leadByte = -1;
      i++;
      o = this.decodeUnit(unit, units, o);
    }
    for (; i + 1 < end; i += 2) {
      const unit = big ? (bytes[i] << 8) | bytes[i + 1] : bytes[i] | (bytes[i + 1] << 8);
      if (this.leadSurrogate === -1 && (unit < 0xd800 || unit > 0xdfff)) {
        units[o++] = unit;
      } else {
        o = this.decodeUnit(unit, units, o);
      }
    }
    if (i < end) this.leadByte = bytes[i];
    return o;
  }

  /** The standard's handler for one code unit; returns the new output length. */
  decodeUnit(unit, units, o) {
    if (this.leadSurrogate !== -1) {
      const lead = this.leadSurrogate;
      this.leadSurrogate = -1;
      if (unit >= 0xdc00 && unit <= 0xdfff) {
        units[o++] = lead;
        units[o++] = unit;
        return o;
      }
      // An unpaired lead surrogate; the unit is processed again below.
      units[o++] = this.error();
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      this.leadSurrogate = unit;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      units[o++] = this.error();
    } else {
      units[o++] = unit;
    }
    return o;
  }
}

// --- Single-byte decoders (Encoding standard §9.1, §14.5) ---------------------------------------

class SingleByteDecoder {
  constructor(name, fatal) {
    this.name = name;
    this.fatal = fatal;
    this.table = name === "x-user-defined" ? null : singleByteTable(name);
  }

  decode(bytes, _flush) {
    const n = TypedArrayPrototypeGetLength(bytes);
    const table = this.table;
    let result = "";
    for (let start = 0; start < n; start += BLOCK) {
      const end = MathMin(n, start + BLOCK);
      if (asciiPrefixEnd(bytes, start, end) === end) {
        result += codeUnitsToString(bytes, start, end);
        continue;
      }
      const units = unitsFor(end - start);
      let o = 0;
      for (let i = start; i < end; i++) {
        const b = bytes[i];
        if (b < 0x80) {
          units[o++] = b;
        } else if (table === null) {
          units[o++] = 0xf780 + b - 0x80; // x-user-defined
        } else {
          const cp = table[b - 0x80];
          if (cp === 0xfffd && this.fatal) throw decodingError(this.name);
          units[o++] = cp;
        }
      }
      result += codeUnitsToString(units, 0, o);
    }
    return result;
  }
}

// The legacy multi-byte encodings are decoded by 05_encoding_legacy.js.
const UNSUPPORTED = new SafeMap([["replacement", true]]);

/** A decoder object ({ decode(bytes, flush) -> string }) for a supported encoding name. */
function createDecoder(name, fatal) {
  switch (name) {
    case "utf-8":
      return new Utf8Decoder(fatal);
    case "utf-16le":
      return new Utf16Decoder(false, fatal);
    case "utf-16be":
      return new Utf16Decoder(true, fatal);
    default:
      if (internals.legacyEncoding.has(name)) return internals.legacyEncoding.createDecoder(name, fatal);
      return new SingleByteDecoder(name, fatal);
  }
}

// --- Byte access -------------------------------------------------------------------------------

const EMPTY = new Uint8ArrayCtor(0);

/**
 * A Uint8Array over the bytes of an AllowSharedBufferSource (no copy), or null when `value`
 * is not one. Detached buffers give an empty array.
 */
function bytesOfBufferSource(value) {
  if (ArrayBufferIsView(value)) {
    if (TypedArrayPrototypeGetSymbolToStringTag(value) !== undefined) {
      if (TypedArrayPrototypeGetSymbolToStringTag(value) === "Uint8Array") return value;
      // A view on a detached buffer has length 0 (and its buffer cannot be viewed again).
      if (TypedArrayPrototypeGetByteLength(value) === 0) return EMPTY;
      return new Uint8ArrayCtor(
        TypedArrayPrototypeGetBuffer(value),
        TypedArrayPrototypeGetByteOffset(value),
        TypedArrayPrototypeGetByteLength(value),
      );
    }
    if (ArrayBufferPrototypeGetDetached(DataViewPrototypeGetBuffer(value))) return EMPTY;
    return new Uint8ArrayCtor(
      DataViewPrototypeGetBuffer(value),
      DataViewPrototypeGetByteOffset(value),
      DataViewPrototypeGetByteLength(value),
    );
  }
  try {
    if (ArrayBufferPrototypeGetDetached(value)) return EMPTY;
    return new Uint8ArrayCtor(value);
  } catch {
    // Not an ArrayBuffer.
  }
  try {
    SharedArrayBufferPrototypeGetByteLength(value);
    return new Uint8ArrayCtor(value);
  } catch {
    return null;
  }
}

// --- TextDecoder -----------------------------------------------------------------------------

const convertTextDecoderOptions = webidl.createDictionaryConverter("TextDecoderOptions", [
  { key: "fatal", converter: converters.boolean, defaultValue: false },
  { key: "ignoreBOM", converter: converters.boolean, defaultValue: false },
]);

const convertDecodeOptions = webidl.createDictionaryConverter("TextDecodeOptions", [
  { key: "stream", converter: converters.boolean, defaultValue: false },
]);

/**
 * The encoding of `label` for the TextDecoder and TextDecoderStream constructors: a
 * RangeError when the label names none, or names one that is not supported.
 */
function decoderEncoding(label, prefix) {
  const encoding = getEncoding(label);
  if (encoding === null || encoding === "replacement") {
    throw new RangeErrorCtor(`${prefix}: The encoding label provided ('${label}') is invalid.`);
  }
  if (UNSUPPORTED.has(encoding)) {
    throw new RangeErrorCtor(`${prefix}: The encoding '${encoding}' is not supported.`);
  }
  return encoding;
}

/**
 * TextDecoderCommon's "serialize I/O queue" for `common` ({ encoding, ignoreBOM, bomSeen }, a
 * TextDecoder's or a TextDecoderStream's): the leading BOM of the UTF encodings is dropped once.
 */
function serializeIOQueue(common, text) {
  if (common.ignoreBOM || common.bomSeen || text.length === 0) return text;
  const enc = common.encoding;
  if (enc !== "utf-8" && enc !== "utf-16le" && enc !== "utf-16be") return text;
  common.bomSeen = true;
  return StringPrototypeCharCodeAt(text, 0) === 0xfeff ? StringPrototypeSlice(text, 1) : text;
}

class TextDecoder {
  #common; // { encoding, fatal, ignoreBOM, bomSeen }
  #decoder = null;
  #doNotFlush = false;

  constructor(label = "utf-8", options = undefined) {
    const prefix = "Failed to construct 'TextDecoder'";
    label = converters.DOMString(label, prefix, "Argument 1");
    const opts = convertTextDecoderOptions(options, prefix, "Argument 2");
    const encoding = decoderEncoding(label, prefix);
    this.#common = { encoding, fatal: opts.fatal, ignoreBOM: opts.ignoreBOM, bomSeen: false };
  }

  static #check(self, member) {
    if (self === null || typeof self !== "object" || !(#common in self)) {
      throw new TypeErrorCtor(`Failed to execute '${member}' on 'TextDecoder': Illegal invocation`);
    }
  }

  get encoding() {
    TextDecoder.#check(this, "encoding");
    return this.#common.encoding;
  }

  get fatal() {
    TextDecoder.#check(this, "fatal");
    return this.#common.fatal;
  }

  get ignoreBOM() {
    TextDecoder.#check(this, "ignoreBOM");
    return this.#common.ignoreBOM;
  }

  decode(input = undefined, options = undefined) {
    TextDecoder.#check(this, "decode");
    const prefix = "Failed to execute 'decode' on 'TextDecoder'";
    let bytes = EMPTY;
    if (input !== undefined) {
      bytes = bytesOfBufferSource(input);
      if (bytes === null) {
        throw new TypeErrorCtor(
          `${prefix}: The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.`,
        );
      }
    }
    const { stream } = convertDecodeOptions(options, prefix, "Argument 2");
    const common = this.#common;
    if (!this.#doNotFlush || this.#decoder === null) {
      this.#decoder = createDecoder(common.encoding, common.fatal);
      common.bomSeen = false;
    }
    this.#doNotFlush = stream;
    let text;
    try {
      text = this.#decoder.decode(bytes, !stream);
    } catch (e) {
      // A fatal error ends the stream: the next call starts afresh.
      this.#doNotFlush = false;
      throw e;
    }
    return serializeIOQueue(common, text);
  }
}

webidl.configureInterface(TextDecoder);

// --- UTF-8 encoding -----------------------------------------------------------------------------

const NON_ASCII = new primordials.SafeRegExp(/[^\x00-\x7f]/);

/** Number of UTF-8 bytes of `s` (from `from`, the first non-ASCII index), U+FFFD for lone surrogates. */
function utf8Length(s, from) {
  const n = s.length;
  let length = n;
  for (let i = from; i < n; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      length += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = StringPrototypeCharCodeAt(s, i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        length += 2; // four bytes for two code units
        i++;
      } else {
        length += 2;
      }
    } else {
      length += 2;
    }
  }
  return length;
}

/** UTF-8 encode `s` (USVString semantics: lone surrogates become U+FFFD). */
function utf8Encode(s) {
  const n = s.length;
  // A native search finds the ASCII prefix, which is copied without any further checks.
  const firstNonAscii = StringPrototypeSearch(s, NON_ASCII);
  const asciiEnd = firstNonAscii === -1 ? n : firstNonAscii;
  const out = new Uint8ArrayCtor(asciiEnd === n ? n : utf8Length(s, asciiEnd));
  for (let i = 0; i < asciiEnd; i++) out[i] = StringPrototypeCharCodeAt(s, i);
  if (asciiEnd < n) utf8EncodeRange(s, asciiEnd, out, asciiEnd);
  return out;
}

/** Encode as much of `s` as fits into `dest` (whole code points only): { read, written }. */
function utf8EncodeInto(s, dest) {
  return utf8EncodeRange(s, 0, dest, 0);
}

/**
 * Encode s[read, ...) into dest[written, ...) as far as whole code points fit (lone
 * surrogates become U+FFFD): { read, written }, where each stopped.
 */
function utf8EncodeRange(s, read, dest, written) {
  const n = s.length;
  const capacity = TypedArrayPrototypeGetLength(dest);
  while (read < n) {
    let c = StringPrototypeCharCodeAt(s, read);
    if (c < 0x80) {
      if (written >= capacity) break;
      dest[written++] = c;
      read++;
    } else if (c < 0x800) {
      if (written + 2 > capacity) break;
      dest[written++] = 0xc0 | (c >> 6);
      dest[written++] = 0x80 | (c & 0x3f);
      read++;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = read + 1 < n ? StringPrototypeCharCodeAt(s, read + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          if (written + 4 > capacity) break;
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          dest[written++] = 0xf0 | (cp >> 18);
          dest[written++] = 0x80 | ((cp >> 12) & 0x3f);
          dest[written++] = 0x80 | ((cp >> 6) & 0x3f);
          dest[written++] = 0x80 | (cp & 0x3f);
          read += 2;
          continue;
        }
        c = 0xfffd;
      }
      if (written + 3 > capacity) break;
      dest[written++] = 0xe0 | (c >> 12);
      dest[written++] = 0x80 | ((c >> 6) & 0x3f);
      dest[written++] = 0x80 | (c & 0x3f);
      read++;
    }
  }
  return { read, written };
}

// --- TextEncoder -----------------------------------------------------------------------------

class TextEncoder {
  #brand = true;

  static #check(self, member) {
    if (self === null || typeof self !== "object" || !(#brand in self)) {
      throw new TypeErrorCtor(`Failed to execute '${member}' on 'TextEncoder': Illegal invocation`);
    }
  }

  get encoding() {
    TextEncoder.#check(this, "encoding");
    return "utf-8";
  }

  encode(input = "") {
    TextEncoder.#check(this, "encode");
    // USVString conversion happens inside utf8Encode (lone surrogates -> U+FFFD).
    return utf8Encode(converters.DOMString(input, "Failed to execute 'encode' on 'TextEncoder'"));
  }

  encodeInto(source, destination) {
    TextEncoder.#check(this, "encodeInto");
    const prefix = "Failed to execute 'encodeInto' on 'TextEncoder'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    source = converters.DOMString(source, prefix, "Argument 1");
    if (!ArrayBufferIsView(destination) ||
        TypedArrayPrototypeGetSymbolToStringTag(destination) !== "Uint8Array") {
      throw new TypeErrorCtor(`${prefix}: parameter 2 is not of type 'Uint8Array'.`);
    }
    return utf8EncodeInto(source, destination);
  }
}

webidl.configureInterface(TextEncoder);

// --- Runtime helpers --------------------------------------------------------------------------

const utf8Replacing = new Utf8Decoder(false);

/** UTF-8 decode with replacement; a BOM is kept (callers that must drop it do so). */
function utf8Decode(bytes) {
  utf8Replacing.reset();
  return utf8Replacing.decode(bytes, true);
}

/**
 * Decode all of `bytes` in the encoding `name` (from getEncoding), as the Encoding
 * standard's "decode" does: a BOM picks UTF-8/UTF-16 and is removed; errors become U+FFFD.
 */
function decode(bytes, name = "utf-8") {
  let encoding = name;
  let start = 0;
  const n = TypedArrayPrototypeGetLength(bytes);
  if (n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    encoding = "utf-8";
    start = 3;
  } else if (n >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    encoding = "utf-16be";
    start = 2;
  } else if (n >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    encoding = "utf-16le";
    start = 2;
  }
  if (UNSUPPORTED.has(encoding)) encoding = "utf-8";
  const view = start === 0 ? bytes : TypedArrayPrototypeSubarray(bytes, start);
  return createDecoder(encoding, false).decode(view, true);
}

internals.encoding = ObjectFreeze({
  utf8Encode,
  utf8EncodeInto,
  utf8Decode,
  decode,
  getEncoding,
  createDecoder,
  decoderEncoding,
  serializeIOQueue,
  bytesOfBufferSource,
  /** A copy of the bytes of a BufferSource (a written chunk the writer may reuse), or null
   * for anything else. */
  copyOfBufferSource(value) {
    const bytes = typeof value === "object" && value !== null ? bytesOfBufferSource(value) : null;
    return bytes === null ? null : TypedArrayPrototypeSlice(bytes);
  },
  /** Latin-1 ("isomorphic") decode: each byte is one code unit. */
  isomorphicDecode: (bytes) => codeUnitsToString(bytes, 0, TypedArrayPrototypeGetLength(bytes)),
});

internals.exposeGlobals({ TextEncoder, TextDecoder });
