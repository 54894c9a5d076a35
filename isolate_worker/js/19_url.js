// URL Standard (https://url.spec.whatwg.org/): URL records, the basic URL parser with its
// state overrides, host parsing (IPv4 number forms, IPv6, opaque hosts), percent-encoding,
// application/x-www-form-urlencoded, and the URL and URLSearchParams classes.
//
// A URL record keeps its host already serialized (a domain, "1.2.3.4", "[::1]", an opaque
// host or "") and its path as a list of segments, or as a string when the path is opaque.
// The parser follows the standard's state machine; states that consume a run of code points
// (authority, host, port, path segment, query, fragment) take the whole run at once and
// percent-encode it in one pass, which is equivalent and much cheaper.
//
// IDNA (UTS #46 ToASCII, for hosts with non-ASCII code points) lives in 19_url_idna.js, which
// loads after this file; it is reached through internals.idna at call time.
//
// Exports internals.url (parse, serialize, isURL, isURLSearchParams, urlencodedParse,
// urlencodedSerialize, ...) for Fetch, and the globals URL and URLSearchParams.

const {
  ArrayPrototypeJoin,
  ArrayPrototypePop,
  ArrayPrototypePush,
  ArrayPrototypeSlice,
  ArrayPrototypeSort,
  NumberPrototypeToString,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ReflectApply,
  ReflectOwnKeys,
  SafeMap,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeLastIndexOf,
  StringPrototypeSlice,
  StringPrototypeToLowerCase,
  StringPrototypeToWellFormed,
  SymbolIterator,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeSubarray,
  Uint8Array: Uint8ArrayCtor,
  decodeURIComponent,
} = primordials;
const { webidl } = internals;
const { converters } = webidl;

// ---------------------------------------------------------------------------------------
// Code points and percent-encode sets

const EOF = -1;

function isASCIIAlpha(c) {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isASCIIDigit(c) {
  return c >= 0x30 && c <= 0x39;
}

function isASCIIHexDigit(c) {
  return isASCIIDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function hexValue(c) {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

function isASCIIString(s) {
  for (let i = 0; i < s.length; i++) {
    if (StringPrototypeCharCodeAt(s, i) > 0x7f) return false;
  }
  return true;
}

// Each percent-encode set is one bit; ENCODE_SET[c] holds the bits of the sets that contain
// the ASCII code point c. Every set contains all code points above U+007E.
const C0_CONTROL_SET = 1;
const FRAGMENT_SET = 2;
const QUERY_SET = 4;
const SPECIAL_QUERY_SET = 8;
const PATH_SET = 16;
const USERINFO_SET = 32;
const COMPONENT_SET = 64;
const FORM_SET = 128;

const ENCODE_SET = new Uint8ArrayCtor(128);
(function buildEncodeSets() {
  const add = (bit, chars) => {
    for (let i = 0; i < chars.length; i++) ENCODE_SET[StringPrototypeCharCodeAt(chars, i)] |= bit;
  };
  // Each set includes the previous ones, as the standard defines them.
  for (let c = 0; c < 128; c++) {
    if (c < 0x20 || c === 0x7f) ENCODE_SET[c] = 0xff;
  }
  add(FRAGMENT_SET, ' "<>`');
  add(QUERY_SET | SPECIAL_QUERY_SET | PATH_SET | USERINFO_SET | COMPONENT_SET | FORM_SET,
    ' "#<>');
  add(SPECIAL_QUERY_SET, "'");
  add(PATH_SET | USERINFO_SET | COMPONENT_SET | FORM_SET, "?^`{}");
  add(USERINFO_SET | COMPONENT_SET | FORM_SET, "/:;=@[\\]|");
  add(COMPONENT_SET | FORM_SET, "$%&+,");
  add(FORM_SET, "!'()~");
})();

/** HEX_BYTES[b] is the percent-encoded byte b: "%00" to "%FF". */
const HEX_BYTES = [];
(function buildHexBytes() {
  const digits = "0123456789ABCDEF";
  for (let b = 0; b < 256; b++) ArrayPrototypePush(HEX_BYTES, `%${digits[b >> 4]}${digits[b & 15]}`);
})();

/** Percent-encode the UTF-8 bytes of code point cp. */
function percentEncodeCodePoint(cp) {
  if (cp < 0x80) return HEX_BYTES[cp];
  if (cp < 0x800) return HEX_BYTES[0xc0 | (cp >> 6)] + HEX_BYTES[0x80 | (cp & 0x3f)];
  if (cp < 0x10000) {
    return HEX_BYTES[0xe0 | (cp >> 12)] + HEX_BYTES[0x80 | ((cp >> 6) & 0x3f)] +
      HEX_BYTES[0x80 | (cp & 0x3f)];
  }
  return HEX_BYTES[0xf0 | (cp >> 18)] + HEX_BYTES[0x80 | ((cp >> 12) & 0x3f)] +
    HEX_BYTES[0x80 | ((cp >> 6) & 0x3f)] + HEX_BYTES[0x80 | (cp & 0x3f)];
}

/**
 * UTF-8 percent-encode `input` using the percent-encode set `set` (one of the *_SET bits).
 * With spaceAsPlus (the application/x-www-form-urlencoded set) U+0020 becomes "+".
 * Lone surrogates cannot occur in scalar value strings; should one slip through it is
 * encoded as U+FFFD.
 */
function utf8PercentEncodeString(input, set, spaceAsPlus = false) {
  const length = input.length;
  let i = 0;
  // Fast path: the common case needs no encoding at all.
  for (; i < length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c >= 0x80 || (ENCODE_SET[c] & set) !== 0) break;
  }
  if (i === length) return input;
  let output = StringPrototypeSlice(input, 0, i);
  let start = i;
  for (; i < length; i++) {
    let c = StringPrototypeCharCodeAt(input, i);
    if (c < 0x80 && (ENCODE_SET[c] & set) === 0) continue;
    if (start < i) output += StringPrototypeSlice(input, start, i);
    if (c === 0x20 && spaceAsPlus) {
      output += "+";
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < length ? StringPrototypeCharCodeAt(input, i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
      output += percentEncodeCodePoint(c);
    } else {
      output += percentEncodeCodePoint(c);
    }
    start = i + 1;
  }
  if (start < length) output += StringPrototypeSlice(input, start, length);
  return output;
}

/**
 * Percent-decode bytes[start, end) into a new Uint8Array. With plusAsSpace (the
 * application/x-www-form-urlencoded parser) each "+" byte becomes 0x20 first.
 */
function percentDecodeBytes(bytes, start, end, plusAsSpace) {
  const out = new Uint8ArrayCtor(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0x2b && plusAsSpace) {
      out[o++] = 0x20;
    } else if (b === 0x25 && i + 2 < end && isASCIIHexDigit(bytes[i + 1]) &&
               isASCIIHexDigit(bytes[i + 2])) {
      out[o++] = hexValue(bytes[i + 1]) * 16 + hexValue(bytes[i + 2]);
      i += 2;
    } else {
      out[o++] = b;
    }
  }
  return TypedArrayPrototypeSubarray(out, 0, o);
}

/** Percent-decode a scalar value string and UTF-8 decode (without BOM) the bytes. */
function percentDecodeString(input) {
  if (StringPrototypeIndexOf(input, "%") === -1) return input;
  // Fast path: well-formed percent-encoded UTF-8 decodes the same way here.
  try {
    return decodeURIComponent(input);
  } catch {
    // fall through to the byte-exact algorithm
  }
  const bytes = internals.encoding.utf8Encode(input);
  return internals.encoding.utf8Decode(percentDecodeBytes(bytes, 0, bytes.length, false));
}

// ---------------------------------------------------------------------------------------
// Schemes

const SPECIAL_SCHEMES = { __proto__: null, ftp: 21, file: null, http: 80, https: 443, ws: 80, wss: 443 };

function isSpecialScheme(scheme) {
  return scheme in SPECIAL_SCHEMES;
}

function defaultPort(scheme) {
  const port = SPECIAL_SCHEMES[scheme];
  return port === undefined ? null : port;
}

// ---------------------------------------------------------------------------------------
// Hosts

// Forbidden host code points, and the forbidden domain code points that add to them.
const FORBIDDEN_HOST = 1;
const FORBIDDEN_DOMAIN = 2;
const HOST_CODE_POINTS = new Uint8ArrayCtor(128);
(function buildForbiddenSets() {
  const host = "\u0000\t\n\r #/:<>?@[\\]^|";
  for (let i = 0; i < host.length; i++) {
    HOST_CODE_POINTS[StringPrototypeCharCodeAt(host, i)] = FORBIDDEN_HOST | FORBIDDEN_DOMAIN;
  }
  for (let c = 0; c < 0x20; c++) HOST_CODE_POINTS[c] |= FORBIDDEN_DOMAIN;
  HOST_CODE_POINTS[0x25] |= FORBIDDEN_DOMAIN;
  HOST_CODE_POINTS[0x7f] |= FORBIDDEN_DOMAIN;
})();

function containsForbidden(input, kind) {
  for (let i = 0; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c < 0x80 && (HOST_CODE_POINTS[c] & kind) !== 0) return true;
  }
  return false;
}

/**
 * The host parser. Returns the serialized host (a domain, an IPv4 or bracketed IPv6
 * address, an opaque host, or the empty host) or null for failure.
 */
function parseHost(input, isOpaque) {
  if (StringPrototypeCharCodeAt(input, 0) === 0x5b) {
    if (StringPrototypeCharCodeAt(input, input.length - 1) !== 0x5d) return null;
    const address = parseIPv6(StringPrototypeSlice(input, 1, input.length - 1));
    return address === null ? null : `[${serializeIPv6(address)}]`;
  }
  if (isOpaque) return parseOpaqueHost(input);
  const domain = percentDecodeString(input);
  const asciiDomain = domainParse(domain);
  if (asciiDomain === null) return null;
  if (endsInANumber(asciiDomain)) {
    const address = parseIPv4(asciiDomain);
    return address === null ? null : serializeIPv4(address);
  }
  return asciiDomain;
}

/** The domain parser with beStrict false. */
function domainParse(domain) {
  let result;
  if (isASCIIString(domain)) {
    // For web compatibility an ASCII domain is lowercased whatever ToASCII would say.
    result = StringPrototypeToLowerCase(domain);
  } else {
    result = internals.idna.toASCII(domain);
    if (result === null) return null;
  }
  if (result === "" || containsForbidden(result, FORBIDDEN_DOMAIN)) return null;
  return result;
}

/** The ends in a number checker. */
function endsInANumber(input) {
  let end = input.length;
  if (StringPrototypeCharCodeAt(input, end - 1) === 0x2e) end--;
  const start = end === 0 ? 0 : StringPrototypeLastIndexOf(input, ".", end - 1) + 1;
  if (start >= end) return false;
  let allDigits = true;
  for (let i = start; i < end; i++) {
    if (!isASCIIDigit(StringPrototypeCharCodeAt(input, i))) {
      allDigits = false;
      break;
    }
  }
  if (allDigits) return true;
  return parseIPv4Number(StringPrototypeSlice(input, start, end)) !== -1;
}

/** The IPv4 number parser: the value, or -1 for failure. */
function parseIPv4Number(input) {
  if (input === "") return -1;
  let radix = 10;
  let i = 0;
  const second = input.length >= 2 ? StringPrototypeCharCodeAt(input, 1) : 0;
  if (StringPrototypeCharCodeAt(input, 0) === 0x30 && (second === 0x78 || second === 0x58)) {
    radix = 16;
    i = 2;
  } else if (input.length >= 2 && StringPrototypeCharCodeAt(input, 0) === 0x30) {
    radix = 8;
    i = 1;
  }
  let value = 0;
  for (; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    let digit;
    if (radix === 16) {
      if (!isASCIIHexDigit(c)) return -1;
      digit = hexValue(c);
    } else {
      if (!isASCIIDigit(c)) return -1;
      digit = c - 0x30;
      if (digit >= radix) return -1;
    }
    // Past 2^53 the value loses precision, but it is then far beyond every bound it is
    // compared with, so the outcome is unchanged.
    value = value * radix + digit;
  }
  return value;
}

/** The IPv4 parser: a 32-bit number, or null for failure. */
function parseIPv4(input) {
  const parts = [];
  let start = 0;
  for (;;) {
    const dot = StringPrototypeIndexOf(input, ".", start);
    ArrayPrototypePush(parts, StringPrototypeSlice(input, start, dot === -1 ? input.length : dot));
    if (dot === -1) break;
    start = dot + 1;
  }
  if (parts[parts.length - 1] === "" && parts.length > 1) ArrayPrototypePop(parts);
  if (parts.length > 4) return null;
  const numbers = [];
  for (let i = 0; i < parts.length; i++) {
    const n = parseIPv4Number(parts[i]);
    if (n === -1) return null;
    ArrayPrototypePush(numbers, n);
  }
  for (let i = 0; i < numbers.length - 1; i++) {
    if (numbers[i] > 255) return null;
  }
  const last = numbers[numbers.length - 1];
  if (last >= 256 ** (5 - numbers.length)) return null;
  let ipv4 = last;
  for (let i = 0; i < numbers.length - 1; i++) ipv4 += numbers[i] * 256 ** (3 - i);
  return ipv4;
}

function serializeIPv4(address) {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** The IPv6 parser: an array of eight 16-bit pieces, or null for failure. */
function parseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = null;
  let pointer = 0;
  const length = input.length;
  const at = (i) => (i < length ? StringPrototypeCharCodeAt(input, i) : EOF);

  if (at(pointer) === 0x3a) {
    if (at(pointer + 1) !== 0x3a) return null;
    pointer += 2;
    compress = ++pieceIndex;
  }
  while (at(pointer) !== EOF) {
    if (pieceIndex === 8) return null;
    if (at(pointer) === 0x3a) {
      if (compress !== null) return null;
      pointer++;
      compress = ++pieceIndex;
      continue;
    }
    let value = 0;
    let len = 0;
    while (len < 4 && isASCIIHexDigit(at(pointer))) {
      value = value * 0x10 + hexValue(at(pointer));
      pointer++;
      len++;
    }
    if (at(pointer) === 0x2e) {
      if (len === 0) return null;
      pointer -= len;
      if (pieceIndex > 6) return null;
      let numbersSeen = 0;
      while (at(pointer) !== EOF) {
        let ipv4Piece = null;
        if (numbersSeen > 0) {
          if (at(pointer) === 0x2e && numbersSeen < 4) pointer++;
          else return null;
        }
        if (!isASCIIDigit(at(pointer))) return null;
        while (isASCIIDigit(at(pointer))) {
          const number = at(pointer) - 0x30;
          if (ipv4Piece === null) ipv4Piece = number;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + number;
          if (ipv4Piece > 255) return null;
          pointer++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (at(pointer) === 0x3a) {
      pointer++;
      if (at(pointer) === EOF) return null;
    } else if (at(pointer) !== EOF) {
      return null;
    }
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const other = compress + swaps - 1;
      const tmp = address[pieceIndex];
      address[pieceIndex] = address[other];
      address[other] = tmp;
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return null;
  }
  return address;
}

/** Find the IPv6 address compressed piece index: the first longest run of 2+ zero pieces. */
function findCompressedPieceIndex(address) {
  let longestIndex = null;
  let longestSize = 1;
  let foundIndex = null;
  let foundSize = 0;
  for (let i = 0; i < 8; i++) {
    if (address[i] !== 0) {
      if (foundSize > longestSize) {
        longestIndex = foundIndex;
        longestSize = foundSize;
      }
      foundIndex = null;
      foundSize = 0;
    } else {
      if (foundIndex === null) foundIndex = i;
      foundSize++;
    }
  }
  return foundSize > longestSize ? foundIndex : longestIndex;
}

function serializeIPv6(address) {
  let output = "";
  const compress = findCompressedPieceIndex(address);
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && address[i] === 0) continue;
    ignore0 = false;
    if (compress === i) {
      output += i === 0 ? "::" : ":";
      ignore0 = true;
      continue;
    }
    output += NumberPrototypeToString(address[i], 16);
    if (i !== 7) output += ":";
  }
  return output;
}

function parseOpaqueHost(input) {
  if (containsForbidden(input, FORBIDDEN_HOST)) return null;
  return utf8PercentEncodeString(input, C0_CONTROL_SET);
}

// ---------------------------------------------------------------------------------------
// URL records

class URLRecord {
  constructor() {
    this.scheme = "";
    this.username = "";
    this.password = "";
    /** null, or the serialized host */
    this.host = null;
    this.port = null;
    /** a list of segments, or a string when the path is opaque */
    this.path = [];
    this.query = null;
    this.fragment = null;
  }
}

function hasOpaquePath(url) {
  return typeof url.path === "string";
}

function includesCredentials(url) {
  return url.username !== "" || url.password !== "";
}

function cannotHaveUsernamePasswordPort(url) {
  return url.host === null || url.host === "" || url.scheme === "file";
}

/** A Windows drive letter: an ASCII alpha followed by ":" (or "|" unless normalized). */
function isWindowsDriveLetter(s, normalizedOnly) {
  if (s.length !== 2 || !isASCIIAlpha(StringPrototypeCharCodeAt(s, 0))) return false;
  const c = StringPrototypeCharCodeAt(s, 1);
  return c === 0x3a || (!normalizedOnly && c === 0x7c);
}

/** Whether the code points of input from `from` start with a Windows drive letter. */
function startsWithWindowsDriveLetter(input, from) {
  if (input.length - from < 2) return false;
  if (!isASCIIAlpha(StringPrototypeCharCodeAt(input, from))) return false;
  const c = StringPrototypeCharCodeAt(input, from + 1);
  if (c !== 0x3a && c !== 0x7c) return false;
  if (input.length - from === 2) return true;
  const third = StringPrototypeCharCodeAt(input, from + 2);
  return third === 0x2f || third === 0x5c || third === 0x3f || third === 0x23;
}

function shortenPath(url) {
  const path = url.path;
  if (url.scheme === "file" && path.length === 1 && isWindowsDriveLetter(path[0], true)) return;
  ArrayPrototypePop(path);
}

function isSingleDot(segment) {
  return segment === "." || (segment.length === 3 && StringPrototypeToLowerCase(segment) === "%2e");
}

function isDoubleDot(segment) {
  switch (segment.length) {
    case 2:
      return segment === "..";
    case 4: {
      const s = StringPrototypeToLowerCase(segment);
      return s === ".%2e" || s === "%2e.";
    }
    case 6:
      return StringPrototypeToLowerCase(segment) === "%2e%2e";
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// The basic URL parser

const SCHEME_START = 1;
const SCHEME = 2;
const NO_SCHEME = 3;
const SPECIAL_RELATIVE_OR_AUTHORITY = 4;
const PATH_OR_AUTHORITY = 5;
const RELATIVE = 6;
const RELATIVE_SLASH = 7;
const SPECIAL_AUTHORITY_SLASHES = 8;
const SPECIAL_AUTHORITY_IGNORE_SLASHES = 9;
const AUTHORITY = 10;
const HOST = 11;
const HOSTNAME = 12;
const PORT = 13;
const FILE = 14;
const FILE_SLASH = 15;
const FILE_HOST = 16;
const PATH_START = 17;
const PATH = 18;
const OPAQUE_PATH = 19;
const QUERY = 20;
const FRAGMENT = 21;

/** Strip leading and trailing C0 controls and spaces. */
function trimControlAndSpace(input) {
  let start = 0;
  let end = input.length;
  while (start < end && StringPrototypeCharCodeAt(input, start) <= 0x20) start++;
  while (end > start && StringPrototypeCharCodeAt(input, end - 1) <= 0x20) end--;
  return start === 0 && end === input.length ? input : StringPrototypeSlice(input, start, end);
}

/** Remove every ASCII tab or newline. */
function removeTabAndNewline(input) {
  if (StringPrototypeIndexOf(input, "\t") === -1 && StringPrototypeIndexOf(input, "\n") === -1 &&
      StringPrototypeIndexOf(input, "\r") === -1) {
    return input;
  }
  let output = "";
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c === 0x09 || c === 0x0a || c === 0x0d) {
      output += StringPrototypeSlice(input, start, i);
      start = i + 1;
    }
  }
  return output + StringPrototypeSlice(input, start);
}

// --- URLs already in their serialized form ----------------------------------------------
// Most URLs a worker parses are http(s) URLs that are serialized already (request.url, a
// fetch to a fixed origin): such a string is its own serialization and its record can be
// read off it in one pass. Anything else takes the state machine: userinfo, a host other
// than lower-case ASCII letters, digits, '-' and '.' (or with an "xn--" label), an IPv4
// host not in dotted-decimal form, an empty, zero-led or default port, a missing path, a
// dot segment, a backslash, or a code point some percent-encode set would change.

const FAST_HOST = 1;
const FAST_PATH = 2;
const FAST_QUERY = 4;
const FAST_FRAGMENT = 8;
const FAST = new Uint8ArrayCtor(128);
for (let c = 0x21; c < 0x7f; c++) {
  const lowerAlnum = (c >= 0x61 && c <= 0x7a) || isASCIIDigit(c);
  FAST[c] = (lowerAlnum || c === 0x2d || c === 0x2e ? FAST_HOST : 0) |
    // A path segment ends at '/'; '\\' is one too in an http(s) URL.
    (ENCODE_SET[c] & PATH_SET || c === 0x2f || c === 0x5c ? 0 : FAST_PATH) |
    (ENCODE_SET[c] & SPECIAL_QUERY_SET ? 0 : FAST_QUERY) |
    (ENCODE_SET[c] & FRAGMENT_SET ? 0 : FAST_FRAGMENT);
}

/** Scan `input` from `i` while its code points have `bit`; the index where that stops. */
function scanFast(input, i, bit) {
  const n = input.length;
  for (; i < n; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c >= 0x80 || !(FAST[c] & bit)) break;
  }
  return i;
}

/**
 * Whether `host` is an IPv4 address as the IPv4 serializer writes it (four decimal numbers
 * 0-255 without leading zeros): the IPv4 parser would give it back unchanged.
 */
function isSerializedIPv4(host) {
  const n = host.length;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? StringPrototypeCharCodeAt(host, i) : 0x2e; // the end closes a part
    if (c === 0x2e) {
      if (digits === 0 || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
    } else if (isASCIIDigit(c) && digits < 3 && !(digits > 0 && value === 0)) {
      value = value * 10 + c - 0x30;
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** The URL record of an http(s) URL in its serialized form, or null (see above). */
function parseSerializedHTTP(input) {
  const n = input.length;
  if (n < 8 || StringPrototypeCharCodeAt(input, 0) !== 0x68 ||
      StringPrototypeCharCodeAt(input, 1) !== 0x74 || StringPrototypeCharCodeAt(input, 2) !== 0x74 ||
      StringPrototypeCharCodeAt(input, 3) !== 0x70) return null;
  let i = StringPrototypeCharCodeAt(input, 4) === 0x73 ? 5 : 4;
  if (StringPrototypeCharCodeAt(input, i) !== 0x3a || StringPrototypeCharCodeAt(input, i + 1) !== 0x2f ||
      StringPrototypeCharCodeAt(input, i + 2) !== 0x2f) return null;
  const scheme = i === 5 ? "https" : "http";
  const hostStart = i + 3;
  i = scanFast(input, hostStart, FAST_HOST);
  if (i === hostStart) return null;
  const host = StringPrototypeSlice(input, hostStart, i);
  let port = null;
  if (StringPrototypeCharCodeAt(input, i) === 0x3a) {
    const start = ++i;
    let value = 0;
    for (; i < n && i - start < 6; i++) {
      const c = StringPrototypeCharCodeAt(input, i);
      if (!isASCIIDigit(c)) break;
      value = value * 10 + c - 0x30;
    }
    if (i === start || StringPrototypeCharCodeAt(input, start) === 0x30 || value > 65535 ||
        value === SPECIAL_SCHEMES[scheme]) return null;
    port = value;
  }
  if (StringPrototypeCharCodeAt(input, i) !== 0x2f) return null;
  if (StringPrototypeIndexOf(host, "xn--") !== -1) return null;
  if (!isSerializedIPv4(host) && endsInANumber(host)) {
    const address = parseIPv4(host);
    if (address === null || serializeIPv4(address) !== host) return null;
  }
  const path = [];
  let c;
  do {
    const start = i + 1;
    i = scanFast(input, start, FAST_PATH);
    const segment = StringPrototypeSlice(input, start, i);
    if (isSingleDot(segment) || isDoubleDot(segment)) return null;
    ArrayPrototypePush(path, segment);
    c = i < n ? StringPrototypeCharCodeAt(input, i) : EOF;
  } while (c === 0x2f);
  let query = null;
  if (c === 0x3f) {
    const start = i + 1;
    i = scanFast(input, start, FAST_QUERY);
    query = StringPrototypeSlice(input, start, i);
    c = i < n ? StringPrototypeCharCodeAt(input, i) : EOF;
  }
  let fragment = null;
  if (c === 0x23) {
    const start = i + 1;
    i = scanFast(input, start, FAST_FRAGMENT);
    fragment = StringPrototypeSlice(input, start, i);
    c = i < n ? EOF - 1 : EOF;
  }
  if (c !== EOF) return null; // stopped at a code point the parser would change
  const url = new URLRecord();
  url.scheme = scheme;
  url.host = host;
  url.port = port;
  url.path = path;
  url.query = query;
  url.fragment = fragment;
  return url;
}

/**
 * The basic URL parser. Without `url` it returns a new URL record or null for failure.
 * With `url` and `stateOverride` (the setters) it modifies `url` and returns null for
 * failure, undefined otherwise; on failure `url` may be partly modified, as specified.
 */
function basicURLParse(input, base = null, url = null, stateOverride = 0) {
  if (url === null) {
    const serialized = parseSerializedHTTP(input);
    if (serialized !== null) return serialized;
    url = new URLRecord();
    input = trimControlAndSpace(input);
  }
  input = removeTabAndNewline(input);
  const length = input.length;
  let state = stateOverride || SCHEME_START;
  let buffer = "";
  let special = isSpecialScheme(url.scheme);
  const at = (i) => (i < length ? StringPrototypeCharCodeAt(input, i) : EOF);

  for (let p = 0; ; p++) {
    const c = at(p);
    switch (state) {
      case SCHEME_START:
        if (isASCIIAlpha(c)) {
          state = SCHEME;
        } else if (!stateOverride) {
          state = NO_SCHEME;
          p--;
        } else {
          return null;
        }
        break;

      case SCHEME: {
        // The scheme started one code point back, at the ASCII alpha.
        const start = p - 1;
        let i = p;
        for (; i < length; i++) {
          const d = StringPrototypeCharCodeAt(input, i);
          if (!(isASCIIAlpha(d) || isASCIIDigit(d) || d === 0x2b || d === 0x2d || d === 0x2e)) break;
        }
        if (at(i) === 0x3a) {
          buffer = StringPrototypeToLowerCase(StringPrototypeSlice(input, start, i));
          if (stateOverride) {
            const bufferSpecial = isSpecialScheme(buffer);
            if (special !== bufferSpecial) return undefined;
            if ((includesCredentials(url) || url.port !== null) && buffer === "file") return undefined;
            if (url.scheme === "file" && url.host === "") return undefined;
          }
          url.scheme = buffer;
          special = isSpecialScheme(buffer);
          if (stateOverride) {
            if (url.port === defaultPort(url.scheme)) url.port = null;
            return undefined;
          }
          buffer = "";
          p = i;
          if (url.scheme === "file") {
            state = FILE;
          } else if (special && base !== null && base.scheme === url.scheme) {
            state = SPECIAL_RELATIVE_OR_AUTHORITY;
          } else if (special) {
            state = SPECIAL_AUTHORITY_SLASHES;
          } else if (at(i + 1) === 0x2f) {
            state = PATH_OR_AUTHORITY;
            p++;
          } else {
            url.path = "";
            state = OPAQUE_PATH;
          }
        } else if (!stateOverride) {
          buffer = "";
          state = NO_SCHEME;
          p = -1; // start over from the first code point
        } else {
          return null;
        }
        break;
      }

      case NO_SCHEME:
        if (base === null || (hasOpaquePath(base) && c !== 0x23)) return null;
        if (hasOpaquePath(base) && c === 0x23) {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = "";
          special = isSpecialScheme(url.scheme);
          state = FRAGMENT;
        } else if (base.scheme !== "file") {
          state = RELATIVE;
          p--;
        } else {
          state = FILE;
          p--;
        }
        break;

      case SPECIAL_RELATIVE_OR_AUTHORITY:
        if (c === 0x2f && at(p + 1) === 0x2f) {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = RELATIVE;
          p--;
        }
        break;

      case PATH_OR_AUTHORITY:
        if (c === 0x2f) {
          state = AUTHORITY;
        } else {
          state = PATH;
          p--;
        }
        break;

      case RELATIVE:
        url.scheme = base.scheme;
        special = isSpecialScheme(url.scheme);
        if (c === 0x2f || (special && c === 0x5c)) {
          state = RELATIVE_SLASH;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = ArrayPrototypeSlice(base.path);
          url.query = base.query;
          if (c === 0x3f) {
            url.query = "";
            state = QUERY;
          } else if (c === 0x23) {
            url.fragment = "";
            state = FRAGMENT;
          } else if (c !== EOF) {
            url.query = null;
            shortenPath(url);
            state = PATH;
            p--;
          }
        }
        break;

      case RELATIVE_SLASH:
        if (special && (c === 0x2f || c === 0x5c)) {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
        } else if (c === 0x2f) {
          state = AUTHORITY;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = PATH;
          p--;
        }
        break;

      case SPECIAL_AUTHORITY_SLASHES:
        state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
        if (c === 0x2f && at(p + 1) === 0x2f) p++;
        else p--;
        break;

      case SPECIAL_AUTHORITY_IGNORE_SLASHES:
        if (c !== 0x2f && c !== 0x5c) {
          state = AUTHORITY;
          p--;
        }
        break;

      case AUTHORITY: {
        // The authority runs to the first "/", "?", "#" (or "\" when special); credentials
        // are everything before its last "@". Every "@" and every ":" after the first one
        // is in the userinfo percent-encode set, so encoding the whole run at once gives
        // what the standard's code-point-by-code-point steps give.
        let end = p;
        for (; end < length; end++) {
          const d = StringPrototypeCharCodeAt(input, end);
          if (d === 0x2f || d === 0x3f || d === 0x23 || (special && d === 0x5c)) break;
        }
        const atSign = StringPrototypeLastIndexOf(input, "@", end - 1);
        if (atSign >= p) {
          const userinfo = StringPrototypeSlice(input, p, atSign);
          const colon = StringPrototypeIndexOf(userinfo, ":");
          if (colon === -1) {
            url.username += utf8PercentEncodeString(userinfo, USERINFO_SET);
          } else {
            url.username += utf8PercentEncodeString(StringPrototypeSlice(userinfo, 0, colon), USERINFO_SET);
            url.password += utf8PercentEncodeString(StringPrototypeSlice(userinfo, colon + 1), USERINFO_SET);
          }
          if (atSign + 1 === end) return null; // host-missing
          p = atSign + 1;
        }
        state = HOST;
        p--;
        break;
      }

      case HOST:
      case HOSTNAME: {
        if (stateOverride && url.scheme === "file") {
          state = FILE_HOST;
          p--;
          break;
        }
        let insideBrackets = false;
        let i = p;
        for (; i < length; i++) {
          const d = StringPrototypeCharCodeAt(input, i);
          if (d === 0x3a && !insideBrackets) break;
          if (d === 0x2f || d === 0x3f || d === 0x23 || (special && d === 0x5c)) break;
          if (d === 0x5b) insideBrackets = true;
          else if (d === 0x5d) insideBrackets = false;
        }
        buffer = StringPrototypeSlice(input, p, i);
        if (at(i) === 0x3a) {
          if (buffer === "") return null;
          if (stateOverride === HOSTNAME) return null;
          const host = parseHost(buffer, !special);
          if (host === null) return null;
          url.host = host;
          buffer = "";
          state = PORT;
          p = i;
        } else {
          if (special && buffer === "") return null;
          if (stateOverride && buffer === "" && (includesCredentials(url) || url.port !== null)) {
            return null;
          }
          const host = parseHost(buffer, !special);
          if (host === null) return null;
          url.host = host;
          buffer = "";
          state = PATH_START;
          if (stateOverride) return undefined;
          p = i - 1;
        }
        break;
      }

      case PORT: {
        let i = p;
        let port = 0;
        for (; i < length; i++) {
          const d = StringPrototypeCharCodeAt(input, i);
          if (!isASCIIDigit(d)) break;
          port = port * 10 + (d - 0x30);
          if (port > 65535) return null; // port-out-of-range
        }
        const d = at(i);
        if (d === EOF || d === 0x2f || d === 0x3f || d === 0x23 || (special && d === 0x5c) ||
            stateOverride) {
          if (i > p) {
            url.port = port === defaultPort(url.scheme) ? null : port;
            if (stateOverride) return undefined;
          }
          if (stateOverride) return null;
          state = PATH_START;
          p = i - 1;
        } else {
          return null; // port-invalid
        }
        break;
      }

      case FILE:
        url.scheme = "file";
        special = true;
        url.host = "";
        if (c === 0x2f || c === 0x5c) {
          state = FILE_SLASH;
        } else if (base !== null && base.scheme === "file") {
          url.host = base.host;
          url.path = ArrayPrototypeSlice(base.path);
          url.query = base.query;
          if (c === 0x3f) {
            url.query = "";
            state = QUERY;
          } else if (c === 0x23) {
            url.fragment = "";
            state = FRAGMENT;
          } else if (c !== EOF) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(input, p)) shortenPath(url);
            else url.path = [];
            state = PATH;
            p--;
          }
        } else {
          state = PATH;
          p--;
        }
        break;

      case FILE_SLASH:
        if (c === 0x2f || c === 0x5c) {
          state = FILE_HOST;
        } else {
          if (base !== null && base.scheme === "file") {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(input, p) && base.path.length > 0 &&
                isWindowsDriveLetter(base.path[0], true)) {
              ArrayPrototypePush(url.path, base.path[0]);
            }
          }
          state = PATH;
          p--;
        }
        break;

      case FILE_HOST: {
        let i = p;
        for (; i < length; i++) {
          const d = StringPrototypeCharCodeAt(input, i);
          if (d === 0x2f || d === 0x5c || d === 0x3f || d === 0x23) break;
        }
        buffer = StringPrototypeSlice(input, p, i);
        p = i - 1;
        if (!stateOverride && isWindowsDriveLetter(buffer, false)) {
          // The buffer is kept: it starts the first path segment.
          state = PATH;
        } else if (buffer === "") {
          url.host = "";
          if (stateOverride) return undefined;
          state = PATH_START;
        } else {
          let host = parseHost(buffer, !special);
          if (host === null) return null;
          if (host === "localhost") host = "";
          url.host = host;
          if (stateOverride) return undefined;
          buffer = "";
          state = PATH_START;
        }
        break;
      }

      case PATH_START:
        if (special) {
          state = PATH;
          if (c !== 0x2f && c !== 0x5c) p--;
        } else if (!stateOverride && c === 0x3f) {
          url.query = "";
          state = QUERY;
        } else if (!stateOverride && c === 0x23) {
          url.fragment = "";
          state = FRAGMENT;
        } else if (c !== EOF) {
          state = PATH;
          if (c !== 0x2f) p--;
        } else if (stateOverride && url.host === null) {
          ArrayPrototypePush(url.path, "");
        }
        break;

      case PATH: {
        // One segment: up to "/" (or "\" when special), "?" or "#" (unless overridden), EOF.
        let i = p;
        for (; i < length; i++) {
          const d = StringPrototypeCharCodeAt(input, i);
          if (d === 0x2f || (special && d === 0x5c) || (!stateOverride && (d === 0x3f || d === 0x23))) {
            break;
          }
        }
        buffer += utf8PercentEncodeString(StringPrototypeSlice(input, p, i), PATH_SET);
        p = i;
        const d = at(i);
        const slash = d === 0x2f || (special && d === 0x5c);
        if (isDoubleDot(buffer)) {
          shortenPath(url);
          if (!slash) ArrayPrototypePush(url.path, "");
        } else if (isSingleDot(buffer)) {
          if (!slash) ArrayPrototypePush(url.path, "");
        } else {
          if (url.scheme === "file" && url.path.length === 0 && isWindowsDriveLetter(buffer, false)) {
            buffer = `${StringPrototypeSlice(buffer, 0, 1)}:`;
          }
          ArrayPrototypePush(url.path, buffer);
        }
        buffer = "";
        if (d === 0x3f) {
          url.query = "";
          state = QUERY;
        } else if (d === 0x23) {
          url.fragment = "";
          state = FRAGMENT;
        }
        break;
      }

      case OPAQUE_PATH: {
        let i = p;
        for (; i < length; i++) {
          const d = StringPrototypeCharCodeAt(input, i);
          if (d === 0x3f || d === 0x23) break;
        }
        // A space right before "?" or "#" is encoded, so that it cannot be lost.
        if (i < length && i > p && StringPrototypeCharCodeAt(input, i - 1) === 0x20) {
          url.path += `${utf8PercentEncodeString(StringPrototypeSlice(input, p, i - 1), C0_CONTROL_SET)}%20`;
        } else {
          url.path += utf8PercentEncodeString(StringPrototypeSlice(input, p, i), C0_CONTROL_SET);
        }
        p = i;
        if (i < length) {
          if (StringPrototypeCharCodeAt(input, i) === 0x3f) {
            url.query = "";
            state = QUERY;
          } else {
            url.fragment = "";
            state = FRAGMENT;
          }
        }
        break;
      }

      case QUERY: {
        let i = stateOverride ? length : StringPrototypeIndexOf(input, "#", p);
        if (i === -1) i = length;
        url.query += utf8PercentEncodeString(StringPrototypeSlice(input, p, i),
          special ? SPECIAL_QUERY_SET : QUERY_SET);
        p = i;
        if (i < length) {
          url.fragment = "";
          state = FRAGMENT;
        }
        break;
      }

      case FRAGMENT:
        url.fragment += utf8PercentEncodeString(StringPrototypeSlice(input, p), FRAGMENT_SET);
        p = length;
        break;

    }
    if (p >= length) break;
  }
  return url;
}

// ---------------------------------------------------------------------------------------
// Serializers

function serializePath(url) {
  const path = url.path;
  if (typeof path === "string") return path;
  if (path.length === 0) return "";
  return `/${ArrayPrototypeJoin(path, "/")}`;
}

/** The URL serializer. */
function serializeURL(url, excludeFragment = false) {
  let output = `${url.scheme}:`;
  if (url.host !== null) {
    output += "//";
    if (url.username !== "" || url.password !== "") {
      output += url.username;
      if (url.password !== "") output += `:${url.password}`;
      output += "@";
    }
    output += url.host;
    if (url.port !== null) output += `:${url.port}`;
  } else if (typeof url.path !== "string" && url.path.length > 1 && url.path[0] === "") {
    output += "/.";
  }
  output += serializePath(url);
  if (url.query !== null) output += `?${url.query}`;
  if (!excludeFragment && url.fragment !== null) output += `#${url.fragment}`;
  return output;
}

/** The serialization of a URL's origin ("null" for an opaque origin). */
function serializeOrigin(url) {
  switch (url.scheme) {
    case "blob": {
      const pathURL = basicURLParse(serializePath(url));
      if (pathURL !== null && (pathURL.scheme === "http" || pathURL.scheme === "https")) {
        return serializeOrigin(pathURL);
      }
      return "null";
    }
    case "ftp":
    case "http":
    case "https":
    case "ws":
    case "wss":
      return `${url.scheme}://${url.host}${url.port === null ? "" : `:${url.port}`}`;
    default:
      return "null";
  }
}

// ---------------------------------------------------------------------------------------
// application/x-www-form-urlencoded

/** Replace "+" with a space, then percent-decode and UTF-8 decode. */
function decodeFormComponent(s) {
  let plain = s;
  if (StringPrototypeIndexOf(s, "+") !== -1) {
    plain = "";
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      if (StringPrototypeCharCodeAt(s, i) === 0x2b) {
        plain += `${StringPrototypeSlice(s, start, i)} `;
        start = i + 1;
      }
    }
    plain += StringPrototypeSlice(s, start);
  }
  return percentDecodeString(plain);
}

/** The application/x-www-form-urlencoded string parser: a list of [name, value] pairs. */
function urlencodedParse(input) {
  const output = [];
  let start = 0;
  const length = input.length;
  while (start <= length) {
    let end = StringPrototypeIndexOf(input, "&", start);
    if (end === -1) end = length;
    if (end > start) {
      const sequence = StringPrototypeSlice(input, start, end);
      const eq = StringPrototypeIndexOf(sequence, "=");
      const name = eq === -1 ? sequence : StringPrototypeSlice(sequence, 0, eq);
      const value = eq === -1 ? "" : StringPrototypeSlice(sequence, eq + 1);
      ArrayPrototypePush(output, [decodeFormComponent(name), decodeFormComponent(value)]);
    }
    start = end + 1;
  }
  return output;
}

/** The application/x-www-form-urlencoded serializer (UTF-8). */
function urlencodedSerialize(tuples) {
  let output = "";
  for (let i = 0; i < tuples.length; i++) {
    const tuple = tuples[i];
    if (i > 0) output += "&";
    output += `${utf8PercentEncodeString(tuple[0], FORM_SET, true)}=${
      utf8PercentEncodeString(tuple[1], FORM_SET, true)}`;
  }
  return output;
}

// ---------------------------------------------------------------------------------------
// The URL class

/** The API URL parser: a URL record, or null for failure. */
function apiURLParse(url, base) {
  let parsedBase = null;
  if (base !== undefined) {
    parsedBase = basicURLParse(base);
    if (parsedBase === null) return null;
  }
  return basicURLParse(url, parsedBase);
}

function invalidURL(prefix, url, base) {
  const withBase = base === undefined ? "" : ` with base ${base}`;
  return new TypeErrorCtor(`${prefix}: Invalid URL: ${url}${withBase}`);
}

function illegalInvocation(name) {
  return new TypeErrorCtor(`Illegal invocation: '${name}' called on an object that is not a URL`);
}

// Accessors to the classes' private slots, assigned by their static blocks.
let urlRecordOf; // (URL object, member name) -> its URL record, with a brand check
let isURL;
let setURLRecord; // (URL object, record) -> void
let newURLFromRecord; // (record) -> a new URL object
let resetQueryObject; // (URL object) -> its query object's list := parse(query)
let queryObjectOf; // (URL object) -> its URLSearchParams, made on first use
let isURLSearchParams;
let newSearchParamsForURL; // (URL object, query) -> a URLSearchParams bound to it
let setSearchParamsList; // (URLSearchParams, list) -> void
let listOf; // (URLSearchParams, member name) -> its list, with a brand check
let update; // the URLSearchParams "update" steps

class URL {
  #url;
  /** The query object, made on first use of searchParams (it would equal parse(query)). */
  #query = null;

  constructor(url, base = undefined) {
    const prefix = "Failed to construct 'URL'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = converters.USVString(url, prefix, "Argument 1");
    if (base !== undefined) base = converters.USVString(base, prefix, "Argument 2");
    const record = apiURLParse(url, base);
    if (record === null) throw invalidURL(prefix, url, base);
    this.#url = record;
  }

  static parse(url, base = undefined) {
    const prefix = "Failed to execute 'parse' on 'URL'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = converters.USVString(url, prefix, "Argument 1");
    if (base !== undefined) base = converters.USVString(base, prefix, "Argument 2");
    const record = apiURLParse(url, base);
    return record === null ? null : newURLFromRecord(record);
  }

  static canParse(url, base = undefined) {
    const prefix = "Failed to execute 'canParse' on 'URL'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = converters.USVString(url, prefix, "Argument 1");
    if (base !== undefined) base = converters.USVString(base, prefix, "Argument 2");
    return apiURLParse(url, base) !== null;
  }

  static {
    urlRecordOf = (self, name) => {
      if (typeof self !== "object" || self === null || !(#url in self)) throw illegalInvocation(name);
      return self.#url;
    };
    isURL = (x) => typeof x === "object" && x !== null && #url in x;
    setURLRecord = (self, record) => {
      self.#url = record;
    };
    newURLFromRecord = (record) => {
      // Constructing from a fixed valid string is the cheapest way to get the slots.
      const u = new URL("about:blank");
      u.#url = record;
      return u;
    };
    resetQueryObject = (self) => {
      if (self.#query !== null) {
        const query = self.#url.query;
        setSearchParamsList(self.#query, query === null ? [] : urlencodedParse(query));
      }
    };
    queryObjectOf = (self) => {
      if (self.#query === null) self.#query = newSearchParamsForURL(self, self.#url.query);
      return self.#query;
    };
  }

  get href() {
    return serializeURL(urlRecordOf(this, "href"));
  }

  set href(value) {
    urlRecordOf(this, "href");
    const prefix = "Failed to set the 'href' property on 'URL'";
    value = converters.USVString(value, prefix, "Value");
    const parsed = basicURLParse(value);
    if (parsed === null) throw invalidURL(prefix, value);
    setURLRecord(this, parsed);
    resetQueryObject(this);
  }

  get origin() {
    return serializeOrigin(urlRecordOf(this, "origin"));
  }

  get protocol() {
    return `${urlRecordOf(this, "protocol").scheme}:`;
  }

  set protocol(value) {
    const url = urlRecordOf(this, "protocol");
    value = converters.USVString(value, "Failed to set the 'protocol' property on 'URL'", "Value");
    basicURLParse(`${value}:`, null, url, SCHEME_START);
  }

  get username() {
    return urlRecordOf(this, "username").username;
  }

  set username(value) {
    const url = urlRecordOf(this, "username");
    value = converters.USVString(value, "Failed to set the 'username' property on 'URL'", "Value");
    if (cannotHaveUsernamePasswordPort(url)) return;
    url.username = utf8PercentEncodeString(value, USERINFO_SET);
  }

  get password() {
    return urlRecordOf(this, "password").password;
  }

  set password(value) {
    const url = urlRecordOf(this, "password");
    value = converters.USVString(value, "Failed to set the 'password' property on 'URL'", "Value");
    if (cannotHaveUsernamePasswordPort(url)) return;
    url.password = utf8PercentEncodeString(value, USERINFO_SET);
  }

  get host() {
    const url = urlRecordOf(this, "host");
    if (url.host === null) return "";
    if (url.port === null) return url.host;
    return `${url.host}:${url.port}`;
  }

  set host(value) {
    const url = urlRecordOf(this, "host");
    value = converters.USVString(value, "Failed to set the 'host' property on 'URL'", "Value");
    if (hasOpaquePath(url)) return;
    basicURLParse(value, null, url, HOST);
  }

  get hostname() {
    const url = urlRecordOf(this, "hostname");
    return url.host === null ? "" : url.host;
  }

  set hostname(value) {
    const url = urlRecordOf(this, "hostname");
    value = converters.USVString(value, "Failed to set the 'hostname' property on 'URL'", "Value");
    if (hasOpaquePath(url)) return;
    basicURLParse(value, null, url, HOSTNAME);
  }

  get port() {
    const url = urlRecordOf(this, "port");
    return url.port === null ? "" : `${url.port}`;
  }

  set port(value) {
    const url = urlRecordOf(this, "port");
    value = converters.USVString(value, "Failed to set the 'port' property on 'URL'", "Value");
    if (cannotHaveUsernamePasswordPort(url)) return;
    if (value === "") url.port = null;
    else basicURLParse(value, null, url, PORT);
  }

  get pathname() {
    return serializePath(urlRecordOf(this, "pathname"));
  }

  set pathname(value) {
    const url = urlRecordOf(this, "pathname");
    value = converters.USVString(value, "Failed to set the 'pathname' property on 'URL'", "Value");
    if (hasOpaquePath(url)) return;
    url.path = [];
    basicURLParse(value, null, url, PATH_START);
  }

  get search() {
    const query = urlRecordOf(this, "search").query;
    return query === null || query === "" ? "" : `?${query}`;
  }

  set search(value) {
    const url = urlRecordOf(this, "search");
    value = converters.USVString(value, "Failed to set the 'search' property on 'URL'", "Value");
    if (value === "") {
      url.query = null;
    } else {
      const input = StringPrototypeCharCodeAt(value, 0) === 0x3f ? StringPrototypeSlice(value, 1) : value;
      url.query = "";
      basicURLParse(input, null, url, QUERY);
    }
    resetQueryObject(this);
  }

  get searchParams() {
    urlRecordOf(this, "searchParams");
    return queryObjectOf(this);
  }

  get hash() {
    const fragment = urlRecordOf(this, "hash").fragment;
    return fragment === null || fragment === "" ? "" : `#${fragment}`;
  }

  set hash(value) {
    const url = urlRecordOf(this, "hash");
    value = converters.USVString(value, "Failed to set the 'hash' property on 'URL'", "Value");
    if (value === "") {
      url.fragment = null;
      return;
    }
    const input = StringPrototypeCharCodeAt(value, 0) === 0x23 ? StringPrototypeSlice(value, 1) : value;
    url.fragment = "";
    basicURLParse(input, null, url, FRAGMENT);
  }

  toJSON() {
    return serializeURL(urlRecordOf(this, "toJSON"));
  }

  toString() {
    return serializeURL(urlRecordOf(this, "toString"));
  }
}

// ---------------------------------------------------------------------------------------
// The URLSearchParams class

/** Convert URLSearchParams' init argument: (sequence<sequence<USVString>> or record or USVString). */
function convertSearchParamsInit(init, prefix) {
  if (init === undefined) return "";
  if (webidl.type(init) === "Object") {
    const method = init[SymbolIterator];
    if (method !== undefined && method !== null) {
      if (typeof method !== "function") {
        throw new TypeErrorCtor(`${prefix}: The provided value cannot be converted to a sequence.`);
      }
      return convertPairSequence(init, method, prefix);
    }
    return convertRecord(init, prefix);
  }
  return converters.USVString(init, prefix, "Argument 1");
}

function convertPairSequence(init, method, prefix) {
  const pairs = [];
  const iterator = ReflectApply(method, init, []);
  const nextMethod = iterator.next;
  for (;;) {
    const next = ReflectApply(nextMethod, iterator, []);
    if (webidl.type(next) !== "Object") {
      throw new TypeErrorCtor(`${prefix}: iterator result is not an object.`);
    }
    if (next.done) break;
    const inner = next.value;
    if (webidl.type(inner) !== "Object" || typeof inner[SymbolIterator] !== "function") {
      throw new TypeErrorCtor(`${prefix}: The provided value cannot be converted to a sequence.`);
    }
    const pair = [];
    for (const item of inner) ArrayPrototypePush(pair, converters.USVString(item, prefix, "Argument 1"));
    if (pair.length !== 2) {
      throw new TypeErrorCtor(`${prefix}: Each query pair must be an iterable [name, value] tuple.`);
    }
    ArrayPrototypePush(pairs, pair);
  }
  return pairs;
}

function convertRecord(init, prefix) {
  // An ordered map: a key converted twice to the same string keeps its first position.
  const map = new SafeMap();
  const keys = ReflectOwnKeys(init);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const desc = ObjectGetOwnPropertyDescriptor(init, key);
    if (desc === undefined || !desc.enumerable) continue;
    const name = converters.USVString(key, prefix, "Argument 1");
    map.set(name, converters.USVString(init[key], prefix, "Argument 1"));
  }
  const pairs = [];
  map.forEach((value, name) => ArrayPrototypePush(pairs, [name, value]));
  return pairs;
}

class URLSearchParams {
  /** The list of [name, value] tuples. */
  #list = [];
  /** The URL object whose query this is, or null. */
  #url = null;

  constructor(init = undefined) {
    const prefix = "Failed to construct 'URLSearchParams'";
    init = convertSearchParamsInit(init, prefix);
    if (typeof init === "string") {
      if (StringPrototypeCharCodeAt(init, 0) === 0x3f) init = StringPrototypeSlice(init, 1);
      this.#list = urlencodedParse(init);
    } else {
      this.#list = init;
    }
  }

  static {
    isURLSearchParams = (x) => typeof x === "object" && x !== null && #list in x;
    newSearchParamsForURL = (urlObject, query) => {
      const params = new URLSearchParams();
      if (query !== null) params.#list = urlencodedParse(query);
      params.#url = urlObject;
      return params;
    };
    setSearchParamsList = (params, list) => {
      params.#list = list;
    };
    listOf = (self, name) => {
      if (!isURLSearchParams(self)) {
        throw new TypeErrorCtor(
          `Illegal invocation: '${name}' called on an object that is not a URLSearchParams`);
      }
      return self.#list;
    };
    update = (self) => {
      const urlObject = self.#url;
      if (urlObject === null) return;
      const serialized = urlencodedSerialize(self.#list);
      urlRecordOf(urlObject, "searchParams").query = serialized === "" ? null : serialized;
    };
  }

  get size() {
    return listOf(this, "size").length;
  }

  append(name, value) {
    const list = listOf(this, "append");
    const prefix = "Failed to execute 'append' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    value = converters.USVString(value, prefix, "Argument 2");
    ArrayPrototypePush(list, [name, value]);
    update(this);
  }

  delete(name, value = undefined) {
    const list = listOf(this, "delete");
    const prefix = "Failed to execute 'delete' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    if (value !== undefined) value = converters.USVString(value, prefix, "Argument 2");
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const tuple = list[i];
      if (tuple[0] === name && (value === undefined || tuple[1] === value)) continue;
      list[j++] = tuple;
    }
    list.length = j;
    update(this);
  }

  get(name) {
    const list = listOf(this, "get");
    const prefix = "Failed to execute 'get' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) return list[i][1];
    }
    return null;
  }

  getAll(name) {
    const list = listOf(this, "getAll");
    const prefix = "Failed to execute 'getAll' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    const values = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) ArrayPrototypePush(values, list[i][1]);
    }
    return values;
  }

  has(name, value = undefined) {
    const list = listOf(this, "has");
    const prefix = "Failed to execute 'has' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    if (value !== undefined) value = converters.USVString(value, prefix, "Argument 2");
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name && (value === undefined || list[i][1] === value)) return true;
    }
    return false;
  }

  set(name, value) {
    const list = listOf(this, "set");
    const prefix = "Failed to execute 'set' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    value = converters.USVString(value, prefix, "Argument 2");
    let found = false;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const tuple = list[i];
      if (tuple[0] === name) {
        if (found) continue;
        found = true;
        tuple[1] = value;
      }
      list[j++] = tuple;
    }
    list.length = j;
    if (!found) ArrayPrototypePush(list, [name, value]);
    update(this);
  }

  sort() {
    const list = listOf(this, "sort");
    // Array.prototype.sort is stable; "<" on strings compares code units, as specified.
    ArrayPrototypeSort(list, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    update(this);
  }

  forEach(callback, thisArg = undefined) {
    listOf(this, "forEach");
    const prefix = "Failed to execute 'forEach' on 'URLSearchParams'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (typeof callback !== "function") {
      throw new TypeErrorCtor(`${prefix}: parameter 1 is not of type 'Function'.`);
    }
    // The list is read again after every call: the callback may change it.
    pairIterator.forEach(this, callback, thisArg);
  }

  keys() {
    listOf(this, "keys");
    return pairIterator.keys(this);
  }

  values() {
    listOf(this, "values");
    return pairIterator.values(this);
  }

  entries() {
    listOf(this, "entries");
    return pairIterator.entries(this);
  }

  toString() {
    return urlencodedSerialize(listOf(this, "toString"));
  }
}

// URLSearchParams iterators (Web IDL pair iterators), live over the list.
const pairIterator = webidl.createPairIterator(
  "URLSearchParams", (params) => listOf(params, "next"),
  "next called on an object that is not a URLSearchParams Iterator",
);

webidl.configureInterface(URL);
webidl.configureInterface(URLSearchParams);
ObjectDefineProperty(URLSearchParams.prototype, SymbolIterator, {
  value: URLSearchParams.prototype.entries, writable: true, enumerable: false, configurable: true,
});

// ---------------------------------------------------------------------------------------
// Exports

internals.url = {
  /**
   * Parse `input` against `base` (undefined/null, a string or a URL record) with the basic
   * URL parser: a URL record ({scheme, username, password, host, port, path, query,
   * fragment}; treat it as read-only), or null for failure.
   */
  parse(input, base = null) {
    if (typeof base === "string") {
      base = basicURLParse(base);
      if (base === null) return null;
    } else if (base === undefined) {
      base = null;
    }
    return basicURLParse(`${input}`, base);
  },
  /** The URL serializer. */
  serialize: (record, excludeFragment = false) => serializeURL(record, excludeFragment),
  /** The serialization of the record's origin ("null" when opaque). */
  origin: (record) => serializeOrigin(record),
  isURL: (x) => isURL(x),
  isURLSearchParams: (x) => isURLSearchParams(x),
  /** The URL record of a URL object (read-only). */
  recordOf: (urlObject) => urlRecordOf(urlObject, "recordOf"),
  /** The application/x-www-form-urlencoded string parser: [[name, value], ...]. */
  urlencodedParse: (input) => urlencodedParse(StringPrototypeToWellFormed(`${input}`)),
  /** The application/x-www-form-urlencoded serializer of [[name, value], ...] (or a URLSearchParams). */
  urlencodedSerialize: (tuples) =>
    urlencodedSerialize(isURLSearchParams(tuples) ? listOf(tuples, "toString") : tuples),
  /**
   * The URL Pattern standard's canonicalization of one component: the component as the
   * URL parser makes it (a dummy https URL, the component's state override), or null when
   * the parser fails. `kind` names the component; "port" takes the dummy URL's scheme from
   * `scheme`, the empty string when none is given (whatwg/urlpattern#286: the "443" of a
   * pattern "443*" is no default port to drop).
   */
  canonicalizeComponent(kind, value, scheme = undefined) {
    if (kind === "protocol") {
      const parsed = basicURLParse(`${value}://dummy.invalid/`);
      return parsed === null ? null : parsed.scheme;
    }
    if (kind === "username" || kind === "password") {
      return utf8PercentEncodeString(value, USERINFO_SET);
    }
    const url = basicURLParse("https://dummy.invalid/");
    switch (kind) {
      case "hostname":
        if (basicURLParse(value, null, url, HOSTNAME) === null) return null;
        return url.host === null ? "" : url.host;
      case "port":
        url.scheme = scheme === undefined ? "" : scheme;
        if (basicURLParse(value, null, url, PORT) === null) return null;
        return url.port === null ? "" : `${url.port}`;
      case "pathname":
        url.path = [];
        if (basicURLParse(value, null, url, PATH_START) === null) return null;
        return serializePath(url);
      case "opaque pathname":
        url.path = "";
        url.host = null;
        if (basicURLParse(value, null, url, OPAQUE_PATH) === null) return null;
        return url.path;
      case "search":
        url.query = "";
        if (basicURLParse(value, null, url, QUERY) === null) return null;
        return url.query;
      case "hash":
        url.fragment = "";
        if (basicURLParse(value, null, url, FRAGMENT) === null) return null;
        return url.fragment;
      default:
        throw new TypeErrorCtor(`unknown URL component ${kind}`);
    }
  },
  isSpecialScheme,
  defaultPort,
  serializePath,
  /** Building blocks, for tests and for the IDNA file. */
  percentDecodeString,
  percentDecodeBytes,
  utf8PercentEncodeString,
  parseHost,
};

internals.exposeGlobals({ URL, URLSearchParams });
