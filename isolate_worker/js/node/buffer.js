// node:buffer under nodejs_compat: Buffer, a Uint8Array subclass, with Node's common API.
// Bundled on demand (isolate_worker/bundler.py) and evaluated before the user's modules, so
// the built-ins captured here are the originals. Encodings: utf8, hex, base64, base64url,
// latin1 (binary), ascii, utf16le (ucs2).
"use strict";

const Uint8ArrayCtor = Uint8Array;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const { apply: ReflectApply } = Reflect;
const taSubarray = TypedArrayPrototype.subarray;
const taSet = TypedArrayPrototype.set;
const taFill = TypedArrayPrototype.fill;
const taIndexOf = TypedArrayPrototype.indexOf;
const taLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, "length").get;
const fromBase64 = Uint8Array.fromBase64;
const toBase64 = Uint8Array.prototype.toBase64;
const toHex = Uint8Array.prototype.toHex;
const isView = ArrayBuffer.isView;
const encoder = new TextEncoder();
const encodeInto = TextEncoder.prototype.encodeInto;
const encode = TextEncoder.prototype.encode;
const utf8Decoder = new TextDecoder("utf-8");
const decode = TextDecoder.prototype.decode;
const fromCharCode = String.fromCharCode;
const { min, max, floor } = Math;
const NumberIsInteger = Number.isInteger;
const ArrayIsArray = Array.isArray;
const ArrayBufferCtor = ArrayBuffer;
const SharedArrayBufferCtor = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer : null;
const DataViewCtor = DataView;
const StringPrototypeReplace = String.prototype.replace;
const StringPrototypeToLowerCase = String.prototype.toLowerCase;

const kMaxLength = 2 ** 32;
const NOT_BASE64 = /[^A-Za-z0-9+/\-_]/g;
const NOT_HEX = /[^0-9a-fA-F]/;

function normalizeEncoding(enc) {
  if (enc === undefined || enc === null) return "utf8";
  switch (ReflectApply(StringPrototypeToLowerCase, `${enc}`, [])) {
    case "utf8": case "utf-8": return "utf8";
    case "hex": return "hex";
    case "base64": return "base64";
    case "base64url": return "base64url";
    case "latin1": case "binary": return "latin1";
    case "ascii": return "ascii";
    case "utf16le": case "utf-16le": case "ucs2": case "ucs-2": return "utf16le";
    default: return null;
  }
}

function checkEncoding(enc) {
  const found = normalizeEncoding(enc);
  if (found === null) {
    const error = new TypeError(`Unknown encoding: ${enc}`);
    error.code = "ERR_UNKNOWN_ENCODING";
    throw error;
  }
  return found;
}

function len(view) {
  return ReflectApply(taLength, view, []);
}

/** The bytes `string` encodes to, as a plain Uint8Array. */
function bytesOf(string, enc) {
  switch (checkEncoding(enc)) {
    case "utf8":
      return ReflectApply(encode, encoder, [string]);
    case "hex": {
      let n = 0;
      while (n + 1 < string.length && !NOT_HEX.test(string[n]) && !NOT_HEX.test(string[n + 1])) {
        n += 2;
      }
      const out = new Uint8ArrayCtor(n / 2);
      for (let i = 0; i < n; i += 2) out[i / 2] = parseInt(string.slice(i, i + 2), 16);
      return out;
    }
    case "base64":
    case "base64url": {
      // Node is lenient: either alphabet, padding and other characters ignored.
      let s = ReflectApply(StringPrototypeReplace, string, [NOT_BASE64, ""]);
      s = ReflectApply(StringPrototypeReplace, s, [/-/g, "+"]);
      s = ReflectApply(StringPrototypeReplace, s, [/_/g, "/"]);
      if (s.length % 4 === 1) s = s.slice(0, -1);
      return fromBase64(s, { lastChunkHandling: "loose" });
    }
    case "latin1":
    case "ascii": {
      const out = new Uint8ArrayCtor(string.length);
      for (let i = 0; i < string.length; i++) out[i] = string.charCodeAt(i) & 0xff;
      return out;
    }
    case "utf16le": {
      const out = new Uint8ArrayCtor(string.length * 2);
      for (let i = 0; i < string.length; i++) {
        const c = string.charCodeAt(i);
        out[2 * i] = c & 0xff;
        out[2 * i + 1] = c >>> 8;
      }
      return out;
    }
  }
}

function stringOf(view, enc) {
  switch (checkEncoding(enc)) {
    case "utf8": return ReflectApply(decode, utf8Decoder, [view]);
    case "hex": return ReflectApply(toHex, view, []);
    case "base64": return ReflectApply(toBase64, view, []);
    case "base64url": return ReflectApply(toBase64, view, [{ alphabet: "base64url", omitPadding: true }]);
    case "latin1":
    case "ascii": {
      const mask = checkEncoding(enc) === "ascii" ? 0x7f : 0xff;
      let out = "";
      for (let i = 0; i < len(view); i += 4096) {
        const part = ReflectApply(taSubarray, view, [i, min(i + 4096, len(view))]);
        const codes = [];
        for (let j = 0; j < len(part); j++) codes.push(part[j] & mask);
        out += ReflectApply(fromCharCode, null, codes);
      }
      return out;
    }
    case "utf16le": {
      let out = "";
      for (let i = 0; i + 1 < len(view); i += 2) out += fromCharCode(view[i] | (view[i + 1] << 8));
      return out;
    }
  }
}

function rangeError(message, code = "ERR_OUT_OF_RANGE") {
  const error = new RangeError(message);
  error.code = code;
  return error;
}

function checkSize(size) {
  if (typeof size !== "number" || !(size >= 0) || size > kMaxLength) {
    throw rangeError(`The argument 'size' is invalid. Received ${size}`, "ERR_INVALID_ARG_VALUE");
  }
  return floor(size);
}

class Buffer extends Uint8ArrayCtor {
  /** Buffer.from(string[, encoding]) | (array) | (arrayBuffer[, byteOffset[, length]]) | (view) */
  static from(value, encodingOrOffset, length) {
    if (typeof value === "string") return fromBytes(bytesOf(value, encodingOrOffset));
    if (value instanceof ArrayBufferCtor ||
        (SharedArrayBufferCtor !== null && value instanceof SharedArrayBufferCtor)) {
      const offset = encodingOrOffset === undefined ? 0 : +encodingOrOffset;
      const size = length === undefined ? value.byteLength - offset : +length;
      return new Buffer(value, offset, size); // shares the memory, as Node does
    }
    if (isView(value)) {
      const bytes = new Uint8ArrayCtor(value.buffer, value.byteOffset, value.byteLength);
      const out = new Buffer(value.byteLength);
      ReflectApply(taSet, out, [bytes]);
      return out;
    }
    if (value !== null && typeof value === "object") {
      if (typeof value.valueOf === "function") {
        const primitive = value.valueOf();
        if (primitive !== value && primitive !== undefined && primitive !== null) {
          return Buffer.from(primitive, encodingOrOffset, length);
        }
      }
      if (value.type === "Buffer" && ArrayIsArray(value.data)) return Buffer.from(value.data);
      if (typeof value.length === "number" || ArrayIsArray(value)) {
        const out = new Buffer(value.length >>> 0);
        for (let i = 0; i < len(out); i++) out[i] = value[i];
        return out;
      }
    }
    throw new TypeError("The first argument must be of type string or an instance of Buffer, " +
                        "ArrayBuffer, or Array or an Array-like Object.");
  }

  static alloc(size, fill, encoding) {
    const out = new Buffer(checkSize(size));
    if (fill !== undefined && fill !== 0 && len(out) > 0) out.fill(fill, 0, len(out), encoding);
    return out;
  }

  static allocUnsafe(size) { return new Buffer(checkSize(size)); }
  static allocUnsafeSlow(size) { return new Buffer(checkSize(size)); }

  static isBuffer(value) { return value instanceof Buffer; }

  static isEncoding(encoding) {
    return typeof encoding === "string" && encoding !== "" && normalizeEncoding(encoding) !== null;
  }

  static byteLength(value, encoding) {
    if (typeof value !== "string") {
      if (isView(value) || value instanceof ArrayBufferCtor) return value.byteLength;
      throw new TypeError("The \"string\" argument must be of type string or an instance of " +
                          "Buffer or ArrayBuffer.");
    }
    const enc = normalizeEncoding(encoding) || "utf8";
    if (enc === "utf8") return ReflectApply(encodeInto, encoder, [value, new Uint8ArrayCtor(value.length * 3)]).written;
    return len(bytesOf(value, enc));
  }

  static compare(a, b) {
    if (!(a instanceof Uint8ArrayCtor) || !(b instanceof Uint8ArrayCtor)) {
      throw new TypeError("The \"buf1\" and \"buf2\" arguments must be Buffer or Uint8Array.");
    }
    const n = min(len(a), len(b));
    for (let i = 0; i < n; i++) {
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return len(a) < len(b) ? -1 : len(a) > len(b) ? 1 : 0;
  }

  static concat(list, totalLength) {
    if (!ArrayIsArray(list)) throw new TypeError("The \"list\" argument must be an Array.");
    if (totalLength === undefined) {
      totalLength = 0;
      for (const item of list) totalLength += len(item);
    }
    const out = Buffer.alloc(totalLength);
    let offset = 0;
    for (const item of list) {
      if (!(item instanceof Uint8ArrayCtor)) {
        throw new TypeError("The \"list\" argument must contain only Buffer or Uint8Array.");
      }
      if (offset >= totalLength) break;
      const part = offset + len(item) > totalLength
        ? ReflectApply(taSubarray, item, [0, totalLength - offset]) : item;
      ReflectApply(taSet, out, [part, offset]);
      offset += len(part);
    }
    return out;
  }

  toString(encoding, start, end) {
    const n = len(this);
    start = start === undefined ? 0 : max(0, min(n, start | 0));
    end = end === undefined ? n : max(start, min(n, end | 0));
    return stringOf(ReflectApply(taSubarray, this, [start, end]), encoding);
  }

  toJSON() {
    const data = [];
    for (let i = 0; i < len(this); i++) data.push(this[i]);
    return { type: "Buffer", data };
  }

  equals(other) {
    if (!(other instanceof Uint8ArrayCtor)) {
      throw new TypeError("The \"otherBuffer\" argument must be a Buffer or Uint8Array.");
    }
    return Buffer.compare(this, other) === 0;
  }

  compare(target, targetStart = 0, targetEnd = len(target), sourceStart = 0,
          sourceEnd = len(this)) {
    return Buffer.compare(ReflectApply(taSubarray, this, [sourceStart, sourceEnd]),
                          ReflectApply(taSubarray, target, [targetStart, targetEnd]));
  }

  /** Like subarray: Node's slice shares the memory (unlike TypedArray's). */
  slice(start, end) {
    return this.subarray(start, end);
  }

  subarray(start, end) {
    const view = ReflectApply(taSubarray, this, [start, end]);
    return new Buffer(view.buffer, view.byteOffset, view.byteLength);
  }

  copy(target, targetStart = 0, sourceStart = 0, sourceEnd = len(this)) {
    sourceEnd = min(sourceEnd, len(this), sourceStart + len(target) - targetStart);
    if (sourceEnd <= sourceStart) return 0;
    const part = ReflectApply(taSubarray, this, [sourceStart, sourceEnd]);
    ReflectApply(taSet, target, [part, targetStart]);
    return len(part);
  }

  write(string, offset, length, encoding) {
    if (typeof offset === "string") { encoding = offset; offset = 0; length = undefined; }
    else if (typeof length === "string") { encoding = length; length = undefined; }
    offset = offset === undefined ? 0 : offset >>> 0;
    const room = len(this) - offset;
    length = length === undefined ? room : min(room, length >>> 0);
    const bytes = bytesOf(string, encoding);
    const n = min(length, len(bytes));
    ReflectApply(taSet, this, [ReflectApply(taSubarray, bytes, [0, n]), offset]);
    return n;
  }

  fill(value, offset = 0, end = len(this), encoding) {
    if (typeof offset === "string") { encoding = offset; offset = 0; end = len(this); }
    else if (typeof end === "string") { encoding = end; end = len(this); }
    if (typeof value === "string") {
      const bytes = bytesOf(value, encoding);
      if (len(bytes) === 0) {
        throw rangeError(`The argument 'value' is invalid. Received '${value}'`,
                         "ERR_INVALID_ARG_VALUE");
      }
      if (len(bytes) === 1) return ReflectApply(taFill, this, [bytes[0], offset, end]);
      for (let i = offset, j = 0; i < end; i++, j = (j + 1) % len(bytes)) this[i] = bytes[j];
      return this;
    }
    if (value instanceof Uint8ArrayCtor) {
      for (let i = offset, j = 0; i < end; i++, j = (j + 1) % len(value)) this[i] = value[j];
      return this;
    }
    return ReflectApply(taFill, this, [typeof value === "boolean" ? +value : value & 255, offset, end]);
  }

  indexOf(value, byteOffset = 0, encoding) {
    if (typeof value === "number") return ReflectApply(taIndexOf, this, [value & 255, byteOffset]);
    const needle = typeof value === "string" ? bytesOf(value, encoding) : value;
    if (byteOffset < 0) byteOffset = max(0, len(this) + byteOffset);
    outer: for (let i = byteOffset; i + len(needle) <= len(this); i++) {
      for (let j = 0; j < len(needle); j++) if (this[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  includes(value, byteOffset, encoding) {
    return this.indexOf(value, byteOffset, encoding) !== -1;
  }

  toLocaleString(encoding, start, end) { return this.toString(encoding, start, end); }

  get parent() { return this.buffer; }
  get offset() { return this.byteOffset; }
}

function fromBytes(bytes) {
  return new Buffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// readUInt8 ... writeDoubleBE: a DataView over the same bytes, with Node's bounds checks.
function view(buf) {
  return new DataViewCtor(buf.buffer, buf.byteOffset, buf.byteLength);
}

function checkOffset(buf, offset, size) {
  if (offset === undefined) offset = 0;
  if (typeof offset !== "number" || !NumberIsInteger(offset) || offset < 0 ||
      offset + size > len(buf)) {
    throw rangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${len(buf) - size}. Received ${offset}`);
  }
  return offset;
}

const ACCESSORS = [
  // [Node name, DataView type, size, little-endian]
  ["UInt8", "Uint8", 1, false], ["Int8", "Int8", 1, false],
  ["UInt16LE", "Uint16", 2, true], ["UInt16BE", "Uint16", 2, false],
  ["Int16LE", "Int16", 2, true], ["Int16BE", "Int16", 2, false],
  ["UInt32LE", "Uint32", 4, true], ["UInt32BE", "Uint32", 4, false],
  ["Int32LE", "Int32", 4, true], ["Int32BE", "Int32", 4, false],
  ["FloatLE", "Float32", 4, true], ["FloatBE", "Float32", 4, false],
  ["DoubleLE", "Float64", 8, true], ["DoubleBE", "Float64", 8, false],
  ["BigUInt64LE", "BigUint64", 8, true], ["BigUInt64BE", "BigUint64", 8, false],
  ["BigInt64LE", "BigInt64", 8, true], ["BigInt64BE", "BigInt64", 8, false],
];
for (const [name, type, size, little] of ACCESSORS) {
  const get = DataViewCtor.prototype[`get${type}`];
  const set = DataViewCtor.prototype[`set${type}`];
  const read = function (offset) {
    offset = checkOffset(this, offset, size);
    return ReflectApply(get, view(this), [offset, little]);
  };
  const write = function (value, offset) {
    offset = checkOffset(this, offset, size);
    ReflectApply(set, view(this), [offset, value, little]);
    return offset + size;
  };
  Buffer.prototype[`read${name}`] = read;
  Buffer.prototype[`write${name}`] = write;
  if (name.startsWith("UInt") || name.startsWith("BigUInt")) {
    const alias = name.replace("UInt", "Uint");
    Buffer.prototype[`read${alias}`] = read;
    Buffer.prototype[`write${alias}`] = write;
  }
}

// readUIntBE(offset, byteLength) and kin: 1 to 6 bytes.
function checkWidth(buf, offset, byteLength) {
  if (!NumberIsInteger(byteLength) || byteLength < 1 || byteLength > 6) {
    throw rangeError(`The value of "byteLength" is out of range. It must be >= 1 and <= 6. ` +
                     `Received ${byteLength}`);
  }
  return checkOffset(buf, offset, byteLength);
}

function readUInt(buf, offset, byteLength, little) {
  offset = checkWidth(buf, offset, byteLength);
  let value = 0;
  for (let i = 0; i < byteLength; i++) {
    value = value * 256 + buf[little ? offset + byteLength - 1 - i : offset + i];
  }
  return value;
}

function writeUInt(buf, value, offset, byteLength, little) {
  offset = checkWidth(buf, offset, byteLength);
  let rest = Math.floor(+value);
  for (let i = 0; i < byteLength; i++) {
    buf[little ? offset + i : offset + byteLength - 1 - i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return offset + byteLength;
}

for (const little of [false, true]) {
  const end = little ? "LE" : "BE";
  Buffer.prototype[`readUInt${end}`] = function (offset, byteLength) {
    return readUInt(this, offset, byteLength, little);
  };
  Buffer.prototype[`readInt${end}`] = function (offset, byteLength) {
    const value = readUInt(this, offset, byteLength, little);
    const limit = 2 ** (8 * byteLength - 1);
    return value >= limit ? value - 2 * limit : value;
  };
  Buffer.prototype[`writeUInt${end}`] = function (value, offset, byteLength) {
    return writeUInt(this, value, offset, byteLength, little);
  };
  Buffer.prototype[`writeInt${end}`] = function (value, offset, byteLength) {
    const unsigned = value < 0 ? value + 2 ** (8 * byteLength) : value;
    return writeUInt(this, unsigned, offset, byteLength, little);
  };
  Buffer.prototype[`readUint${end}`] = Buffer.prototype[`readUInt${end}`];
  Buffer.prototype[`writeUint${end}`] = Buffer.prototype[`writeUInt${end}`];
}

Buffer.prototype.lastIndexOf = function lastIndexOf(value, byteOffset, encoding) {
  const needle = typeof value === "number" ? [value & 255]
    : typeof value === "string" ? bytesOf(value, encoding) : value;
  const n = len(this);
  const start = byteOffset === undefined ? n - needle.length
    : byteOffset < 0 ? n + byteOffset : Math.min(byteOffset, n - needle.length);
  outer: for (let i = start; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
};

const constants = { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: 2 ** 29 - 24 };

function btoaCompat(data) { return btoa(data); }
function atobCompat(data) { return atob(data); }

module.exports = {
  Buffer,
  constants,
  kMaxLength,
  kStringMaxLength: constants.MAX_STRING_LENGTH,
  INSPECT_MAX_BYTES: 50,
  SlowBuffer: Buffer,
  Blob: globalThis.Blob,
  File: globalThis.File,
  atob: atobCompat,
  btoa: btoaCompat,
  isUtf8(input) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(input);
      return true;
    } catch {
      return false;
    }
  },
};
