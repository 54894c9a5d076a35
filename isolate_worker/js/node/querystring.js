// node:querystring under nodejs_compat: parse/decode, stringify/encode, escape, unescape and
// unescapeBuffer, with Node's parsing (one pass; maxKeys, multi-character separators) and
// its hooks: parse and stringify call the module's current escape/unescape, so a script may
// replace them, as in Node.
"use strict";

const { Buffer } = require("node:buffer");
const { codedError } = require("node:util")[Symbol.for("isoflow.node.internals")];

const { apply: ReflectApply } = Reflect;
const ArrayIsArray = Array.isArray;
const ObjectKeys = Object.keys;
const NumberIsFinite = Number.isFinite;
const MathAbs = Math.abs;
const StringPrototypeCharCodeAt = String.prototype.charCodeAt;
const StringPrototypeSlice = String.prototype.slice;
const decodeURIComponentOriginal = decodeURIComponent;
const bufferToString = Buffer.prototype.toString;
const bufferAlloc = Buffer.alloc;
const taSubarray = Object.getPrototypeOf(Uint8Array.prototype).subarray;

const charCodeAt = (string, i) => ReflectApply(StringPrototypeCharCodeAt, string, [i]);
const slice = (string, start, end) => ReflectApply(StringPrototypeSlice, string, [start, end]);

/** A hex digit's value, or -1. */
function unhex(code) {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 70) return code - 55; // A-F
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

// Which ASCII characters querystring.escape keeps: A-Z a-z 0-9 - . _ ~ ! ' ( ) *
const noEscape = new Int8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!'()*") {
  noEscape[charCodeAt(c, 0)] = 1;
}
const hexTable = [];
for (let i = 0; i < 256; ++i) hexTable.push(`%${i < 16 ? "0" : ""}${i.toString(16).toUpperCase()}`);

/** Node's encodeStr: UTF-8 percent-encoding of what `noEscape` does not keep. As Node's, a
 * surrogate takes the next code unit as its pair whatever it is; one at the end is
 * ERR_INVALID_URI. */
function encodeStr(str) {
  const len = str.length;
  let out = "";
  let lastPos = 0;
  for (let i = 0; i < len; i++) {
    let c = charCodeAt(str, i);
    if (c < 0x80) {
      if (noEscape[c] !== 1) {
        if (lastPos < i) out += slice(str, lastPos, i);
        lastPos = i + 1;
        out += hexTable[c];
      }
      continue;
    }
    if (lastPos < i) out += slice(str, lastPos, i);
    if (c < 0x800) {
      lastPos = i + 1;
      out += hexTable[0xC0 | (c >> 6)] + hexTable[0x80 | (c & 0x3F)];
      continue;
    }
    if (c < 0xD800 || c >= 0xE000) {
      lastPos = i + 1;
      out += hexTable[0xE0 | (c >> 12)] + hexTable[0x80 | ((c >> 6) & 0x3F)] +
        hexTable[0x80 | (c & 0x3F)];
      continue;
    }
    ++i;
    if (i >= len) throw codedError(URIError, "ERR_INVALID_URI", "URI malformed");
    const c2 = charCodeAt(str, i) & 0x3FF;
    lastPos = i + 1;
    c = 0x10000 + (((c & 0x3FF) << 10) | c2);
    out += hexTable[0xF0 | (c >> 18)] + hexTable[0x80 | ((c >> 12) & 0x3F)] +
      hexTable[0x80 | ((c >> 6) & 0x3F)] + hexTable[0x80 | (c & 0x3F)];
  }
  if (lastPos === 0) return str;
  return lastPos < len ? out + slice(str, lastPos) : out;
}

/** querystring.escape(str): percent-encodes what encodeURIComponent does. */
function qsEscape(str) {
  if (typeof str !== "string") {
    if (typeof str === "object") str = String(str);
    else str += "";
  }
  return encodeStr(str);
}

/** querystring.unescapeBuffer(str[, decodeSpaces]): %XX sequences as bytes (others kept as
 * they are), "+" as a space when `decodeSpaces`. */
function unescapeBuffer(s, decodeSpaces) {
  s = `${s}`;
  const out = bufferAlloc(s.length);
  let index = 0;
  let outIndex = 0;
  const maxLength = s.length - 2;
  while (index < s.length) {
    let currentChar = charCodeAt(s, index);
    if (currentChar === 43 /* + */ && decodeSpaces) {
      out[outIndex++] = 32;
      index++;
      continue;
    }
    if (currentChar === 37 /* % */ && index < maxLength) {
      const hexHigh = unhex(charCodeAt(s, ++index));
      if (hexHigh < 0) {
        out[outIndex++] = 37;
        continue;
      }
      const hexLow = unhex(charCodeAt(s, ++index));
      if (hexLow < 0) {
        out[outIndex++] = 37;
        index--;
        continue;
      }
      currentChar = hexHigh * 16 + hexLow;
    }
    out[outIndex++] = currentChar; // as Node's: a code unit above 0xFF keeps its low byte
    index++;
  }
  return ReflectApply(taSubarray, out, [0, outIndex]);
}

/** querystring.unescape(str): decodeURIComponent, or for malformed input unescapeBuffer's
 * bytes as UTF-8. */
function qsUnescape(s, decodeSpaces) {
  try {
    return decodeURIComponentOriginal(s);
  } catch {
    return ReflectApply(bufferToString, querystring.unescapeBuffer(s, decodeSpaces), []);
  }
}

function stringifyPrimitive(v) {
  if (typeof v === "string") return v;
  if (typeof v === "number" && NumberIsFinite(v)) return `${v}`;
  if (typeof v === "bigint") return `${v}`;
  if (typeof v === "boolean") return v ? "true" : "false";
  return "";
}

function encodeStringified(v, encode) {
  if (typeof v === "string") return v.length ? encode(v) : "";
  if (typeof v === "number" && NumberIsFinite(v)) {
    // 1e21 and above are written with a "+" that needs escaping
    return MathAbs(v) < 1e21 ? `${v}` : encode(`${v}`);
  }
  if (typeof v === "bigint") return `${v}`;
  if (typeof v === "boolean") return v ? "true" : "false";
  return "";
}

function encodeStringifiedCustom(v, encode) {
  return encode(stringifyPrimitive(v));
}

/** querystring.stringify(obj[, sep[, eq[, options]]]): own enumerable keys; arrays repeat the
 * key; values that are not strings, finite numbers, bigints or booleans become "". */
function stringify(obj, sep, eq, options) {
  sep ||= "&";
  eq ||= "=";
  let encode = querystring.escape;
  if (options && typeof options.encodeURIComponent === "function") {
    encode = options.encodeURIComponent;
  }
  const convert = encode === qsEscape ? encodeStringified : encodeStringifiedCustom;
  if (obj === null || typeof obj !== "object") return "";
  let fields = "";
  for (const k of ObjectKeys(obj)) {
    const v = obj[k];
    const ks = `${convert(k, encode)}${eq}`;
    if (ArrayIsArray(v)) {
      if (v.length === 0) continue;
      if (fields) fields += sep;
      for (let j = 0; j < v.length; ++j) {
        if (j) fields += sep;
        fields += ks + convert(v[j], encode);
      }
    } else {
      if (fields) fields += sep;
      fields += ks + convert(v, encode);
    }
  }
  return fields;
}

function charCodes(str) {
  const codes = [];
  for (let i = 0; i < str.length; ++i) codes.push(charCodeAt(str, i));
  return codes;
}

function decodeStr(s, decoder) {
  try {
    return decoder(s);
  } catch {
    return querystring.unescape(s, true);
  }
}

function addKeyVal(obj, key, value, keyEncoded, valEncoded, decode) {
  if (key.length > 0 && keyEncoded) key = decodeStr(key, decode);
  if (value.length > 0 && valEncoded) value = decodeStr(value, decode);
  if (obj[key] === undefined) {
    obj[key] = value;
  } else {
    const current = obj[key];
    if (ArrayIsArray(current)) current[current.length] = value;
    else obj[key] = [current, value];
  }
}

/** querystring.parse(str[, sep[, eq[, options]]]): an object without prototype; a repeated
 * key collects its values in an array; at most options.maxKeys pairs (1000; 0: no limit).
 * Keys and values are decoded only where they hold "+" or a valid %XX. */
function parse(qs, sep, eq, options) {
  const obj = { __proto__: null };
  if (typeof qs !== "string" || qs.length === 0) return obj;
  const sepCodes = !sep ? [38] : charCodes(String(sep));
  const eqCodes = !eq ? [61] : charCodes(String(eq));
  const sepLen = sepCodes.length;
  const eqLen = eqCodes.length;
  let pairs = 1000;
  if (options && typeof options.maxKeys === "number") {
    pairs = options.maxKeys > 0 ? options.maxKeys : -1; // -1: no limit
  }
  let decode = querystring.unescape;
  if (options && typeof options.decodeURIComponent === "function") {
    decode = options.decodeURIComponent;
  }
  const customDecode = decode !== qsUnescape;

  let lastPos = 0;
  let sepIdx = 0;
  let eqIdx = 0;
  let key = "";
  let value = "";
  let keyEncoded = customDecode;
  let valEncoded = customDecode;
  const plusChar = customDecode ? "%20" : " ";
  let encodeCheck = 0;
  for (let i = 0; i < qs.length; ++i) {
    const code = charCodeAt(qs, i);
    if (code === sepCodes[sepIdx]) {
      if (++sepIdx === sepLen) {
        // the end of a key/value pair
        const end = i - sepIdx + 1;
        if (eqIdx < eqLen) {
          // no (whole) "=": what there is makes the key
          if (lastPos < end) {
            key += slice(qs, lastPos, end);
          } else if (key.length === 0) {
            // nothing between two separators
            if (--pairs === 0) return obj;
            lastPos = i + 1;
            sepIdx = eqIdx = 0;
            continue;
          }
        } else if (lastPos < end) {
          value += slice(qs, lastPos, end);
        }
        addKeyVal(obj, key, value, keyEncoded, valEncoded, decode);
        if (--pairs === 0) return obj;
        keyEncoded = valEncoded = customDecode;
        key = value = "";
        encodeCheck = 0;
        lastPos = i + 1;
        sepIdx = eqIdx = 0;
      }
      continue;
    }
    sepIdx = 0;
    if (eqIdx < eqLen) {
      // still in the key
      if (code === eqCodes[eqIdx]) {
        if (++eqIdx === eqLen) {
          const end = i - eqIdx + 1;
          if (lastPos < end) key += slice(qs, lastPos, end);
          encodeCheck = 0;
          lastPos = i + 1;
        }
        continue;
      }
      eqIdx = 0;
      if (!keyEncoded) {
        // one valid %XX is enough to decode the key
        if (code === 37 /* % */) {
          encodeCheck = 1;
          continue;
        } else if (encodeCheck > 0) {
          if (unhex(code) >= 0) {
            if (++encodeCheck === 3) keyEncoded = true;
            continue;
          }
          encodeCheck = 0;
        }
      }
      if (code === 43 /* + */) {
        if (lastPos < i) key += slice(qs, lastPos, i);
        key += plusChar;
        lastPos = i + 1;
        continue;
      }
    }
    if (code === 43 /* + */) {
      if (lastPos < i) value += slice(qs, lastPos, i);
      value += plusChar;
      lastPos = i + 1;
    } else if (!valEncoded) {
      if (code === 37 /* % */) {
        encodeCheck = 1;
      } else if (encodeCheck > 0) {
        if (unhex(code) >= 0) {
          if (++encodeCheck === 3) valEncoded = true;
        } else {
          encodeCheck = 0;
        }
      }
    }
  }

  // what is left after the last separator
  if (lastPos < qs.length) {
    if (eqIdx < eqLen) key += slice(qs, lastPos);
    else if (sepIdx < sepLen) value += slice(qs, lastPos);
  } else if (eqIdx === 0 && key.length === 0) {
    return obj; // it ended on an empty pair
  }
  addKeyVal(obj, key, value, keyEncoded, valEncoded, decode);
  return obj;
}

const querystring = module.exports = {
  unescapeBuffer,
  unescape: qsUnescape,
  escape: qsEscape,
  stringify,
  encode: stringify,
  parse,
  decode: parse,
};
