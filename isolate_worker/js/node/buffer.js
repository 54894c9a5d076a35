// node:buffer under nodejs_compat: Buffer, a Uint8Array subclass, with Node's common API.
// Bundled on demand (isolate_worker/bundler.py) and evaluated before the user's modules, so
// the built-ins captured here are the originals. Encodings: utf8, hex, base64, base64url,
// latin1 (binary), ascii, utf16le (ucs2).
"use strict";

const Uint8ArrayCtor = Uint8Array;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const { apply: ReflectApply, ownKeys: ReflectOwnKeys } = Reflect;
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

const {
  invalidArgType, outOfRange, invalidArgValue, codedError, validateNumber, normalizeEncoding,
} = require("node:util")[Symbol.for("isoflow.node.internals")];
const { isAnyArrayBuffer } = require("node:util").types;
const taByteLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, "byteLength").get;
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const MathTrunc = Math.trunc;
const NumberIsNaN = Number.isNaN;

// V8's largest typed array on 64-bit hosts, as Node 22 reports it.
const kMaxLength = 2 ** 53 - 1;
const NOT_BASE64 = /[^A-Za-z0-9+/\-_]/g;
const NOT_HEX = /[^0-9a-fA-F]/;
let INSPECT_MAX_BYTES = 50;

function unknownEncoding(enc) {
  return codedError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
}

function checkEncoding(enc) {
  const found = normalizeEncoding(enc);
  if (found === null) throw unknownEncoding(enc);
  return found;
}

function len(view) {
  return ReflectApply(taLength, view, []);
}

function isUint8Array(value) {
  return ReflectApply(typedArrayTag, value, []) === "Uint8Array";
}

/** The bytes `string` encodes to, as a plain Uint8Array. */
function bytesOf(string, enc) {
  return encodeAs(string, checkEncoding(enc));
}

/** bytesOf for an encoding normalizeEncoding has already named. */
function encodeAs(string, enc) {
  switch (enc) {
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
      // Node is lenient: either alphabet, other characters ignored; the first "=" ends the data.
      const padding = string.indexOf("=");
      let s = padding === -1 ? string : string.slice(0, padding);
      s = ReflectApply(StringPrototypeReplace, s, [NOT_BASE64, ""]);
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

function bufferOutOfBounds(name) {
  return codedError(RangeError, "ERR_BUFFER_OUT_OF_BOUNDS", name
    ? `"${name}" is outside of buffer bounds` : "Attempt to access memory outside buffer bounds");
}

/** Node's validateOffset: an integer number in [min, max]. */
function validateOffset(value, name, low = 0, high = kMaxLength) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if (!NumberIsInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < low || value > high) throw outOfRange(name, `>= ${low} && <= ${high}`, value);
}

function checkSize(size) {
  validateNumber(size, "size", 0, kMaxLength);
  return size;
}

/** Node's toInteger for copy(): a safe integer (floored), else `fallback`. */
function toInteger(n, fallback) {
  n = +n;
  if (!NumberIsNaN(n) && n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) {
    return n % 1 === 0 ? n : floor(n);
  }
  return fallback;
}

/** Where a search starts (node_buffer.cc IndexOfOffset); -1: nothing to find. */
function searchStart(length, offset, needleLength, forward) {
  if (offset < 0) {
    if (offset + length >= 0) return length + offset;
    return forward || needleLength === 0 ? 0 : -1;
  }
  if (offset + needleLength <= length) return offset;
  if (needleLength === 0) return length;
  return forward ? -1 : length - 1;
}

/** The first (or, backwards, last) match of `needle` starting at or after (before)
 * `offset`; `step` 2 keeps utf16le matches on code-unit boundaries. */
function search(haystack, needle, offset, forward, step) {
  const n = len(haystack), m = len(needle);
  const from = searchStart(n, offset, m, forward);
  if (m === 0) return from;
  if (n === 0 || from <= -1 || m > n || (forward && from + m > n)) return -1;
  if (step === 2 && (n < 2 || m < 2)) return -1;
  const first = needle[0];
  if (forward) {
    let i = step === 2 ? from - (from % 2) : from;
    if (i < from) i += 2;
    for (; i + m <= n; i += step) {
      if (haystack[i] !== first) continue;
      let j = 1;
      while (j < m && haystack[i + j] === needle[j]) j++;
      if (j === m) return i;
    }
  } else {
    let i = min(from, n - m);
    if (step === 2) i -= i % 2;
    for (; i >= 0; i -= step) {
      if (haystack[i] !== first) continue;
      let j = 1;
      while (j < m && haystack[i + j] === needle[j]) j++;
      if (j === m) return i;
    }
  }
  return -1;
}

/** Node's bidirectionalIndexOf (indexOf, lastIndexOf, includes). */
function indexOfImpl(buffer, value, byteOffset, encoding, forward) {
  if (!isView(buffer)) throw invalidArgType("buffer", ["Buffer", "TypedArray", "DataView"], buffer);
  if (typeof byteOffset === "string") {
    encoding = byteOffset;
    byteOffset = undefined;
  } else if (byteOffset > 0x7fffffff) {
    byteOffset = 0x7fffffff;
  } else if (byteOffset < -0x80000000) {
    byteOffset = -0x80000000;
  }
  byteOffset = +byteOffset; // null and [] are 0; undefined, "foo" and {} search it all
  if (NumberIsNaN(byteOffset)) byteOffset = forward ? 0 : len(buffer);
  byteOffset = MathTrunc(byteOffset);
  if (typeof value === "number") {
    const from = searchStart(len(buffer), byteOffset, 1, forward);
    if (from <= -1 || len(buffer) === 0) return -1;
    const byte = (value >>> 0) & 255;
    if (forward) return ReflectApply(taIndexOf, buffer, [byte, from]);
    for (let i = from; i >= 0; i--) if (buffer[i] === byte) return i;
    return -1;
  }
  const enc = encoding === undefined ? "utf8" : normalizeEncoding(encoding);
  if (typeof value === "string") {
    if (enc === null) throw unknownEncoding(encoding);
    return search(buffer, encodeAs(value, enc), byteOffset, forward, enc === "utf16le" ? 2 : 1);
  }
  if (isUint8Array(value)) {
    return search(buffer, value, byteOffset, forward, enc === "utf16le" ? 2 : 1);
  }
  throw invalidArgType("value", ["number", "string", "Buffer", "Uint8Array"], value);
}

/** Node's _fill (fill, and alloc with a fill value). */
function fillImpl(buf, value, offset, end, encoding) {
  let enc;
  if (typeof value === "string") {
    if (offset === undefined || typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = len(buf);
    } else if (typeof end === "string") {
      encoding = end;
      end = len(buf);
    }
    enc = normalizeEncoding(encoding);
    if (enc === null) {
      if (typeof encoding !== "string") throw invalidArgType("encoding", "string", encoding);
      throw unknownEncoding(encoding);
    }
    if (value.length === 0) {
      value = 0; // as Node 10+: an empty string fills with zeroes
    } else if (value.length === 1) {
      const code = value.charCodeAt(0);
      if ((enc === "utf8" && code < 128) || enc === "latin1") value = code;
    }
  }
  if (offset === undefined) {
    offset = 0;
    end = len(buf);
  } else {
    validateOffset(offset, "offset");
    if (end === undefined) end = len(buf);
    else validateOffset(end, "end", 0, len(buf));
    if (offset >= end) return buf;
  }
  if (typeof value === "number") {
    if (end - offset + offset > len(buf)) throw bufferOutOfBounds();
    ReflectApply(taFill, buf, [value, offset, end]);
    return buf;
  }
  let bytes;
  if (typeof value === "string") {
    bytes = encodeAs(value, enc);
  } else if (isView(value)) {
    bytes = new Uint8ArrayCtor(value.buffer, value.byteOffset, value.byteLength);
  } else {
    ReflectApply(taFill, buf, [(typeof value === "boolean" ? +value : value >>> 0) & 255, offset, end]);
    return buf;
  }
  if (len(bytes) === 0) throw invalidArgValue("value", value);
  if (offset > len(buf) || end > len(buf)) throw bufferOutOfBounds();
  if (len(bytes) === 1) return ReflectApply(taFill, buf, [bytes[0], offset, end]);
  const n = end - offset;
  const first = min(len(bytes), n);
  ReflectApply(taSet, buf, [ReflectApply(taSubarray, bytes, [0, first]), offset]);
  for (let done = first; done < n; done *= 2) { // doubles what is written each round
    const chunk = min(done, n - done);
    ReflectApply(taSet, buf, [ReflectApply(taSubarray, buf, [offset, offset + chunk]), offset + done]);
  }
  return buf;
}

/** Node's copy(): bytes of any view, clamped to both ends. */
function copyImpl(source, target, targetStart, sourceStart, sourceEnd) {
  if (!isView(target)) throw invalidArgType("target", ["Buffer", "Uint8Array"], target);
  const sourceLength = source.byteLength, targetLength = target.byteLength;
  if (targetStart === undefined) {
    targetStart = 0;
  } else {
    targetStart = NumberIsInteger(targetStart) ? targetStart : toInteger(targetStart, 0);
    if (targetStart < 0) throw outOfRange("targetStart", ">= 0", targetStart);
  }
  if (sourceStart === undefined) {
    sourceStart = 0;
  } else {
    sourceStart = NumberIsInteger(sourceStart) ? sourceStart : toInteger(sourceStart, 0);
    if (sourceStart < 0 || sourceStart > sourceLength) {
      throw outOfRange("sourceStart", `>= 0 && <= ${sourceLength}`, sourceStart);
    }
  }
  if (sourceEnd === undefined) {
    sourceEnd = sourceLength;
  } else {
    sourceEnd = NumberIsInteger(sourceEnd) ? sourceEnd : toInteger(sourceEnd, 0);
    if (sourceEnd < 0) throw outOfRange("sourceEnd", ">= 0", sourceEnd);
  }
  if (targetStart >= targetLength || sourceStart >= sourceEnd) return 0;
  return copyBytes(source, target, targetStart, sourceStart, sourceEnd);
}

function copyBytes(source, target, targetStart, sourceStart, sourceEnd) {
  if (sourceEnd - sourceStart > target.byteLength - targetStart) {
    sourceEnd = sourceStart + target.byteLength - targetStart;
  }
  const n = min(sourceEnd - sourceStart, source.byteLength - sourceStart);
  if (n <= 0) return 0;
  const from = new Uint8ArrayCtor(source.buffer, source.byteOffset + sourceStart, n);
  const to = new Uint8ArrayCtor(target.buffer, target.byteOffset + targetStart, n);
  ReflectApply(taSet, to, [from]); // memmove: overlapping ranges are copied as if through a temporary
  return n;
}

/** byteLength of a string in an encoding, without encoding it where Node does not. */
function stringByteLength(string, encoding) {
  const n = string.length;
  if (n === 0) return 0;
  let enc = "utf8";
  if (encoding && encoding !== "utf8") enc = normalizeEncoding(encoding) || "utf8";
  switch (enc) {
    case "utf8": return ReflectApply(encodeInto, encoder, [string, new Uint8ArrayCtor(n * 3)]).written;
    case "latin1": case "ascii": return n;
    case "utf16le": return n * 2;
    case "hex": return n >>> 1;
    default: { // base64, base64url: padding dropped, 3 bytes per 4 characters
      let bytes = n;
      if (string.charCodeAt(bytes - 1) === 0x3d) bytes--;
      if (bytes > 1 && string.charCodeAt(bytes - 1) === 0x3d) bytes--;
      return (bytes * 3) >>> 2;
    }
  }
}

/** Writes what fits of `string` at `offset` (whole utf8 characters, whole utf16 units). */
function writeImpl(buf, string, offset, length, enc) {
  const room = ReflectApply(taSubarray, buf, [offset, offset + length]);
  if (enc === "utf8") return ReflectApply(encodeInto, encoder, [string, room]).written;
  const bytes = encodeAs(string, enc);
  let count = min(len(room), len(bytes));
  if (enc === "utf16le") count -= count % 2;
  ReflectApply(taSet, room, [ReflectApply(taSubarray, bytes, [0, count])]);
  return count;
}

/** Buffer.from(arrayBuffer[, byteOffset[, length]]): shares the memory, as Node does. */
function fromArrayBuffer(value, byteOffset, length) {
  if (byteOffset === undefined) {
    byteOffset = 0;
  } else {
    byteOffset = +byteOffset;
    if (NumberIsNaN(byteOffset)) byteOffset = 0;
  }
  const maxLength = value.byteLength - byteOffset;
  if (maxLength < 0) throw bufferOutOfBounds("offset");
  if (length === undefined) {
    length = maxLength;
  } else {
    length = +length;
    if (length > 0) {
      if (length > maxLength) throw bufferOutOfBounds("length");
    } else {
      length = 0;
    }
  }
  return new FastBuffer(value, byteOffset, length);
}

/** An array-like's elements, each as a byte (a Uint16Array's 256 is 0, as in Node). */
function fromArrayLike(value) {
  const n = value.length;
  if (!(n > 0)) return new FastBuffer();
  const out = new FastBuffer(n);
  if (isView(value)) {
    ReflectApply(taSet, out, [value]);
  } else {
    for (let i = 0; i < n; i++) out[i] = value[i];
  }
  return out;
}

/** Buffer.from(string[, encoding]): a non-string encoding is utf8, as in Node. */
function fromString(string, encoding) {
  if (typeof encoding !== "string" || encoding.length === 0) {
    if (string.length === 0) return new FastBuffer();
    return fromBytes(ReflectApply(encode, encoder, [string]));
  }
  const enc = encoding === "utf8" ? "utf8" : normalizeEncoding(encoding);
  if (enc === null) throw unknownEncoding(encoding);
  if (string.length === 0) return new FastBuffer();
  return fromBytes(encodeAs(string, enc));
}

// FastBuffer is the class every Buffer is an instance of; `Buffer` itself is a function, as in
// Node, so that the deprecated `Buffer(size)` and `new Buffer(string)` work (Buffer.prototype is
// FastBuffer.prototype: `instanceof Buffer` holds).
class FastBuffer extends Uint8ArrayCtor {}

/** Buffer(arg[, encodingOrOffset[, length]]): Node's deprecated constructor. */
function Buffer(arg, encodingOrOffset, length) {
  if (typeof arg === "number") {
    if (typeof encodingOrOffset === "string") throw invalidArgType("string", "string", arg);
    return Buffer.alloc(arg);
  }
  return Buffer.from(arg, encodingOrOffset, length);
}
Object.defineProperty(Buffer, "prototype", { value: FastBuffer.prototype, writable: false });
Object.defineProperty(FastBuffer.prototype, "constructor", {
  value: Buffer, writable: true, enumerable: false, configurable: true,
});
Object.setPrototypeOf(Buffer, Uint8ArrayCtor);
Object.defineProperty(Buffer, Symbol.species, { get() { return FastBuffer; }, configurable: true });

const bufferStatics = {
  /** Buffer.from(string[, encoding]) | (array) | (arrayBuffer[, byteOffset[, length]]) | (view) */
  from(value, encodingOrOffset, length) {
    if (typeof value === "string") {
      if (encodingOrOffset === undefined && value.length !== 0) { // the common case, first
        return fromBytes(ReflectApply(encode, encoder, [value]));
      }
      return fromString(value, encodingOrOffset);
    }
    if (typeof value === "object" && value !== null) {
      if (isAnyArrayBuffer(value)) return fromArrayBuffer(value, encodingOrOffset, length);
      const primitive = typeof value.valueOf === "function" ? value.valueOf() : undefined;
      if (primitive !== null && primitive !== undefined && primitive !== value &&
          (typeof primitive === "string" || typeof primitive === "object")) {
        return Buffer.from(primitive, encodingOrOffset, length);
      }
      if (value.length !== undefined || isAnyArrayBuffer(value.buffer)) {
        if (typeof value.length !== "number") return new FastBuffer();
        return fromArrayLike(value);
      }
      if (value.type === "Buffer" && ArrayIsArray(value.data)) return fromArrayLike(value.data);
      if (typeof value[Symbol.toPrimitive] === "function") {
        const string = value[Symbol.toPrimitive]("string");
        if (typeof string === "string") return fromString(string, encodingOrOffset);
      }
    }
    throw invalidArgType("first argument",
                         ["string", "Buffer", "ArrayBuffer", "Array", "Array-like Object"], value);
  },

  /** Buffer.copyBytesFrom(view[, offset[, length]]): a copy of some of a typed array's elements. */
  copyBytesFrom(view, offset, length) {
    if (!isView(view) || ReflectApply(typedArrayTag, view, []) === undefined) {
      throw invalidArgType("view", ["TypedArray"], view);
    }
    const n = len(view);
    if (offset !== undefined) validateOffset(offset, "offset");
    if (length !== undefined) validateOffset(length, "length");
    const start = offset === undefined ? 0 : offset;
    if (start >= n) return new FastBuffer();
    const end = length === undefined ? n : min(n, start + length);
    const size = view.BYTES_PER_ELEMENT;
    const bytes = new Uint8ArrayCtor(view.buffer, view.byteOffset + start * size, (end - start) * size);
    const out = new FastBuffer(len(bytes));
    ReflectApply(taSet, out, [bytes]);
    return out;
  },

  of(...items) {
    const out = new FastBuffer(items.length);
    for (let i = 0; i < items.length; i++) out[i] = items[i];
    return out;
  },

  alloc(size, fill, encoding) {
    const out = new FastBuffer(checkSize(size));
    if (fill !== undefined && fill !== 0 && size > 0) return fillImpl(out, fill, 0, len(out), encoding);
    return out;
  },

  allocUnsafe(size) { return new FastBuffer(checkSize(size)); },
  allocUnsafeSlow(size) { return new FastBuffer(checkSize(size)); },

  isBuffer(value) { return value instanceof Buffer; },

  isEncoding(encoding) {
    return typeof encoding === "string" && encoding !== "" && normalizeEncoding(encoding) !== null;
  },

  byteLength(value, encoding) {
    if (typeof value !== "string") {
      if (isView(value) || isAnyArrayBuffer(value)) return value.byteLength;
      throw invalidArgType("string", ["string", "Buffer", "ArrayBuffer"], value);
    }
    return stringByteLength(value, encoding);
  },

  compare(buf1, buf2) {
    if (!isUint8Array(buf1)) throw invalidArgType("buf1", ["Buffer", "Uint8Array"], buf1);
    if (!isUint8Array(buf2)) throw invalidArgType("buf2", ["Buffer", "Uint8Array"], buf2);
    return compareBytes(buf1, 0, len(buf1), buf2, 0, len(buf2));
  },

  concat(list, length) {
    if (!ArrayIsArray(list)) throw invalidArgType("list", "Array", list);
    if (list.length === 0) return new FastBuffer();
    if (length === undefined) {
      length = 0;
      for (let i = 0; i < list.length; i++) {
        const item = list[i];
        if (isUint8Array(item)) length += len(item); // not a spoofed "length"
        else if (item.length) length += item.length;
      }
    } else {
      validateOffset(length, "length");
    }
    const out = new FastBuffer(length);
    let position = 0;
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      if (!isUint8Array(item)) throw invalidArgType(`list[${i}]`, ["Buffer", "Uint8Array"], item);
      position += copyBytes(item, out, position, 0, len(item));
    }
    return out; // zero-filled past the end of the list
  },
};
for (const name of ReflectOwnKeys(bufferStatics)) {
  Object.defineProperty(Buffer, name, {
    value: bufferStatics[name], writable: true, enumerable: false, configurable: true,
  });
}
Buffer.poolSize = 8 * 1024;

function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
  const n = min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    if (a[aStart + i] !== b[bStart + i]) return a[aStart + i] < b[bStart + i] ? -1 : 1;
  }
  const an = aEnd - aStart, bn = bEnd - bStart;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

function swapError(bits) {
  return codedError(RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${bits}`);
}

const bufferMethods = {
  toString(encoding, start, end) {
    if (arguments.length === 0) return ReflectApply(decode, utf8Decoder, [this]);
    const n = len(this);
    if (start <= 0) start = 0;
    else if (start >= n) return "";
    else start = MathTrunc(start) || 0;
    if (end === undefined || end > n) end = n;
    else end = MathTrunc(end) || 0;
    if (end <= start) return "";
    const part = start === 0 && end === n ? this : ReflectApply(taSubarray, this, [start, end]);
    if (encoding === undefined) return ReflectApply(decode, utf8Decoder, [part]);
    return stringOf(part, `${encoding}`); // null and 0 are unknown encodings here, as in Node
  },

  toJSON() {
    const data = [];
    for (let i = 0; i < len(this); i++) data.push(this[i]);
    return { type: "Buffer", data };
  },

  equals(otherBuffer) {
    if (!isUint8Array(otherBuffer)) {
      throw invalidArgType("otherBuffer", ["Buffer", "Uint8Array"], otherBuffer);
    }
    if (this === otherBuffer) return true;
    if (len(this) !== len(otherBuffer)) return false;
    return compareBytes(this, 0, len(this), otherBuffer, 0, len(otherBuffer)) === 0;
  },

  compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
    if (!isUint8Array(target)) throw invalidArgType("target", ["Buffer", "Uint8Array"], target);
    if (arguments.length === 1) return compareBytes(this, 0, len(this), target, 0, len(target));
    if (targetStart === undefined) targetStart = 0;
    else validateOffset(targetStart, "targetStart");
    if (targetEnd === undefined) targetEnd = len(target);
    else validateOffset(targetEnd, "targetEnd", 0, len(target));
    if (sourceStart === undefined) sourceStart = 0;
    else validateOffset(sourceStart, "sourceStart");
    if (sourceEnd === undefined) sourceEnd = len(this);
    else validateOffset(sourceEnd, "sourceEnd", 0, len(this));
    if (sourceStart >= sourceEnd) return targetStart >= targetEnd ? 0 : -1;
    if (targetStart >= targetEnd) return 1;
    if (sourceStart > len(this)) throw outOfRange("sourceStart", `>= 0 && <= ${len(this)}`, sourceStart);
    if (targetStart > len(target)) throw outOfRange("targetStart", `>= 0 && <= ${len(target)}`, targetStart);
    return compareBytes(this, sourceStart, sourceEnd, target, targetStart, targetEnd);
  },

  /** Like subarray: Node's slice shares the memory (unlike TypedArray's). */
  slice(start, end) {
    return this.subarray(start, end);
  },

  subarray(start, end) {
    const view = ReflectApply(taSubarray, this, [start, end]);
    return new FastBuffer(view.buffer, view.byteOffset, view.byteLength);
  },

  copy(target, targetStart, sourceStart, sourceEnd) {
    return copyImpl(this, target, targetStart, sourceStart, sourceEnd);
  },

  write(string, offset, length, encoding) {
    if (typeof string !== "string") throw invalidArgType("argument", "string", string);
    const n = len(this);
    if (offset === undefined) {
      offset = 0;
      length = n;
    } else if (length === undefined && typeof offset === "string") {
      encoding = offset;
      length = n;
      offset = 0;
    } else {
      validateOffset(offset, "offset", 0, n);
      const remaining = n - offset;
      if (length === undefined) {
        length = remaining;
      } else if (typeof length === "string") {
        encoding = length;
        length = remaining;
      } else {
        validateOffset(length, "length", 0, n);
        if (length > remaining) length = remaining;
      }
    }
    const enc = !encoding ? "utf8" : normalizeEncoding(encoding);
    if (enc === null) throw unknownEncoding(encoding);
    return writeImpl(this, string, offset, length, enc);
  },

  fill(value, offset, end, encoding) {
    return fillImpl(this, value, offset, end, encoding);
  },


  swap16() {
    const n = len(this);
    if (n % 2 !== 0) throw swapError("16-bits");
    for (let i = 0; i < n; i += 2) {
      const t = this[i]; this[i] = this[i + 1]; this[i + 1] = t;
    }
    return this;
  },

  swap32() {
    const n = len(this);
    if (n % 4 !== 0) throw swapError("32-bits");
    for (let i = 0; i < n; i += 4) {
      let t = this[i]; this[i] = this[i + 3]; this[i + 3] = t;
      t = this[i + 1]; this[i + 1] = this[i + 2]; this[i + 2] = t;
    }
    return this;
  },

  swap64() {
    const n = len(this);
    if (n % 8 !== 0) throw swapError("64-bits");
    for (let i = 0; i < n; i += 8) {
      for (let j = 0; j < 4; j++) {
        const t = this[i + j]; this[i + j] = this[i + 7 - j]; this[i + 7 - j] = t;
      }
    }
    return this;
  },

  /** How util.inspect (and console.log) show a Buffer: `<Buffer 68 69>`. */
  [Symbol.for("nodejs.util.inspect.custom")](recurseTimes, ctx, inspect) {
    const shown = min(INSPECT_MAX_BYTES, len(this));
    const hex = [];
    for (let i = 0; i < shown; i++) hex.push(this[i] < 16 ? `0${this[i].toString(16)}` : this[i].toString(16));
    let out = hex.join(" ");
    const remaining = len(this) - INSPECT_MAX_BYTES;
    if (remaining > 0) out += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
    if (ctx && typeof inspect === "function") {
      const extras = [];
      for (const key of ReflectOwnKeys(this)) {
        if (typeof key === "string" && /^(0|[1-9]\d*)$/.test(key)) continue;
        if (!ctx.showHidden && !Object.prototype.propertyIsEnumerable.call(this, key)) continue;
        const keyText = typeof key === "symbol" ? `[${key.toString()}]` : key;
        extras.push(`${keyText}: ${inspect(this[key], { ...ctx, breakLength: Infinity, compact: true })}`);
      }
      if (extras.length > 0) out += `${len(this) !== 0 ? ", " : ""}${extras.join(", ")}`;
    }
    return `<${this.constructor.name} ${out}>`;
  },
};
// Function declarations, as Node's: `new buf.indexOf()` is a TypeError of a bad `this`.
bufferMethods.indexOf = function indexOf(value, byteOffset, encoding) {
  return indexOfImpl(this, value, byteOffset, encoding, true);
};
bufferMethods.lastIndexOf = function lastIndexOf(value, byteOffset, encoding) {
  return indexOfImpl(this, value, byteOffset, encoding, false);
};
bufferMethods.includes = function includes(value, byteOffset, encoding) {
  return indexOfImpl(this, value, byteOffset, encoding, true) !== -1;
};
// Node's per-encoding methods (buf.utf8Write, buf.hexSlice, ...), which some libraries call.
for (const [prefix, enc] of [["ascii", "ascii"], ["base64", "base64"], ["base64url", "base64url"],
  ["latin1", "latin1"], ["hex", "hex"], ["ucs2", "utf16le"], ["utf8", "utf8"]]) {
  bufferMethods[`${prefix}Slice`] = {
    [`${prefix}Slice`](start, end) {
      const n = len(this);
      if (n === 0) return "";
      start = start === undefined ? 0 : MathTrunc(+start) || 0;
      end = end === undefined ? n : MathTrunc(+end) || 0;
      if (end < start) end = start;
      if (start < 0 || end > n) throw codedError(RangeError, "ERR_OUT_OF_RANGE", "Index out of range");
      return stringOf(ReflectApply(taSubarray, this, [start, end]), enc);
    },
  }[`${prefix}Slice`];
  bufferMethods[`${prefix}Write`] = {
    [`${prefix}Write`](string, offset = 0, length = this.byteLength - offset) {
      if (typeof string !== "string") throw invalidArgType("argument", "string", string);
      if (offset < 0 || offset > this.byteLength) throw bufferOutOfBounds("offset");
      if (length < 0 || length > this.byteLength - offset) throw bufferOutOfBounds("length");
      return writeImpl(this, string, offset, length, enc);
    },
  }[`${prefix}Write`];
}
bufferMethods.toLocaleString = bufferMethods.toString;
bufferMethods.inspect = bufferMethods[Symbol.for("nodejs.util.inspect.custom")];
for (const name of ReflectOwnKeys(bufferMethods)) {
  Object.defineProperty(Buffer.prototype, name, {
    value: bufferMethods[name], writable: true, enumerable: false, configurable: true,
  });
}
for (const name of ["parent", "offset"]) {
  Object.defineProperty(Buffer.prototype, name, {
    enumerable: true, configurable: true,
    get() {
      if (!(this instanceof Buffer)) return undefined;
      return name === "parent" ? this.buffer : this.byteOffset;
    },
  });
}

function fromBytes(bytes) {
  return new FastBuffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// readUInt8 ... writeDoubleBE: a DataView over the same bytes, with Node's checks
// (lib/internal/buffer.js): the offset a number (ERR_INVALID_ARG_TYPE), an integer and in
// bounds (ERR_OUT_OF_RANGE, or ERR_BUFFER_OUT_OF_BOUNDS for a buffer too short for any),
// the value of an integer write in range (ERR_OUT_OF_RANGE).
function view(buf) {
  return new DataViewCtor(buf.buffer, buf.byteOffset, buf.byteLength);
}

function boundsError(value, length, name) {
  if (floor(value) !== value) {
    validateNumber(value, name || "offset");
    throw outOfRange(name || "offset", "an integer", value);
  }
  if (length < 0) throw bufferOutOfBounds();
  throw outOfRange(name || "offset", `>= ${name ? 1 : 0} and <= ${length}`, value);
}

function checkOffset(buf, offset, size) {
  validateNumber(offset, "offset");
  const n = len(buf);
  if (!(offset >= 0 && offset + size <= n && NumberIsInteger(offset))) boundsError(offset, n - size);
  return offset;
}

/** The range message Node gives for an integer write of `size` bytes (checkInt). */
function intRange(low, high, size) {
  const n = typeof low === "bigint" ? "n" : "";
  if (size > 4) {
    const bits = size * 8;
    return low === 0 || low === 0n ? `>= 0${n} and < 2${n} ** ${bits}${n}`
      : `>= -(2${n} ** ${bits - 1}${n}) and < 2 ** ${bits - 1}${n}`;
  }
  return `>= ${low}${n} and <= ${high}${n}`;
}

function checkValue(value, low, high, size) {
  if (value > high || value < low) throw outOfRange("value", intRange(low, high, size), value);
}

const ACCESSORS = [
  // [Node name, DataView type, size, little-endian, min, max]
  ["UInt8", "Uint8", 1, false, 0, 0xff], ["Int8", "Int8", 1, false, -0x80, 0x7f],
  ["UInt16LE", "Uint16", 2, true, 0, 0xffff], ["UInt16BE", "Uint16", 2, false, 0, 0xffff],
  ["Int16LE", "Int16", 2, true, -0x8000, 0x7fff], ["Int16BE", "Int16", 2, false, -0x8000, 0x7fff],
  ["UInt32LE", "Uint32", 4, true, 0, 0xffffffff], ["UInt32BE", "Uint32", 4, false, 0, 0xffffffff],
  ["Int32LE", "Int32", 4, true, -0x80000000, 0x7fffffff],
  ["Int32BE", "Int32", 4, false, -0x80000000, 0x7fffffff],
  ["FloatLE", "Float32", 4, true], ["FloatBE", "Float32", 4, false],
  ["DoubleLE", "Float64", 8, true], ["DoubleBE", "Float64", 8, false],
  ["BigUInt64LE", "BigUint64", 8, true, 0n, 0xffffffffffffffffn],
  ["BigUInt64BE", "BigUint64", 8, false, 0n, 0xffffffffffffffffn],
  ["BigInt64LE", "BigInt64", 8, true, -(2n ** 63n), 2n ** 63n - 1n],
  ["BigInt64BE", "BigInt64", 8, false, -(2n ** 63n), 2n ** 63n - 1n],
];
for (const [name, type, size, little, low, high] of ACCESSORS) {
  const get = DataViewCtor.prototype[`get${type}`];
  const set = DataViewCtor.prototype[`set${type}`];
  const big = typeof low === "bigint";
  const read = {
    [`read${name}`](offset = 0) {
      offset = checkOffset(this, offset, size);
      return ReflectApply(get, view(this), [offset, little]);
    },
  }[`read${name}`];
  const write = {
    [`write${name}`](value, offset = 0) {
      if (!big) value = +value;
      else if (typeof value !== "bigint") {
        throw new TypeError("Cannot mix BigInt and other types, use explicit conversions");
      }
      if (low !== undefined) checkValue(value, low, high, size);
      offset = checkOffset(this, offset, size);
      ReflectApply(set, view(this), [offset, value, little]);
      return offset + size;
    },
  }[`write${name}`];
  const names = [name];
  if (name.startsWith("UInt") || name.startsWith("BigUInt")) names.push(name.replace("UInt", "Uint"));
  for (const alias of names) {
    for (const [method, fn] of [[`read${alias}`, read], [`write${alias}`, write]]) {
      Object.defineProperty(Buffer.prototype, method, {
        value: fn, writable: true, enumerable: false, configurable: true,
      });
    }
  }
}

// readUIntBE(offset, byteLength) and kin: 1 to 6 bytes.
function checkWidth(byteLength) {
  if (!NumberIsInteger(byteLength) || byteLength < 1 || byteLength > 6) {
    boundsError(byteLength, 6, "byteLength");
  }
}

function readUInt(buf, offset, byteLength, little) {
  if (offset === undefined) throw invalidArgType("offset", "number", offset);
  checkWidth(byteLength);
  offset = checkOffset(buf, offset, byteLength);
  let value = 0;
  for (let i = 0; i < byteLength; i++) {
    value = value * 256 + buf[little ? offset + byteLength - 1 - i : offset + i];
  }
  return value;
}

function writeUInt(buf, value, offset, byteLength, little, signed) {
  checkWidth(byteLength);
  value = +value;
  const bits = 8 * byteLength;
  const low = signed ? -(2 ** (bits - 1)) : 0;
  const high = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  checkValue(value, low, high, byteLength);
  offset = checkOffset(buf, offset, byteLength);
  let rest = floor(value < 0 ? value + 2 ** bits : value);
  if (NumberIsNaN(rest)) rest = 0;
  for (let i = 0; i < byteLength; i++) {
    buf[little ? offset + i : offset + byteLength - 1 - i] = rest % 256;
    rest = floor(rest / 256);
  }
  return offset + byteLength;
}

for (const little of [false, true]) {
  const end = little ? "LE" : "BE";
  const methods = {
    [`readUInt${end}`](offset, byteLength) {
      return readUInt(this, offset, byteLength, little);
    },
    [`readInt${end}`](offset, byteLength) {
      const value = readUInt(this, offset, byteLength, little);
      const limit = 2 ** (8 * byteLength - 1);
      return value >= limit ? value - 2 * limit : value;
    },
    [`writeUInt${end}`](value, offset, byteLength) {
      return writeUInt(this, value, offset, byteLength, little, false);
    },
    [`writeInt${end}`](value, offset, byteLength) {
      return writeUInt(this, value, offset, byteLength, little, true);
    },
  };
  methods[`readUint${end}`] = methods[`readUInt${end}`];
  methods[`writeUint${end}`] = methods[`writeUInt${end}`];
  for (const name of ReflectOwnKeys(methods)) {
    Object.defineProperty(Buffer.prototype, name, {
      value: methods[name], writable: true, enumerable: false, configurable: true,
    });
  }
}

const constants = { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: 2 ** 29 - 24 };

function btoaCompat(data) { return btoa(data); }
function atobCompat(data) { return atob(data); }

const arrayBufferDetached = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached")?.get;

function checkBytesInput(input) {
  let buffer;
  if (isView(input)) buffer = input.buffer;
  else if (isAnyArrayBuffer(input)) buffer = input;
  else throw invalidArgType("input", ["ArrayBuffer", "Buffer", "TypedArray"], input);
  if (arrayBufferDetached !== undefined && buffer instanceof ArrayBufferCtor &&
      ReflectApply(arrayBufferDetached, buffer, [])) {
    throw codedError(Error, "ERR_INVALID_STATE", "Invalid state: Cannot validate on a detached buffer");
  }
  return isView(input) ? new Uint8ArrayCtor(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8ArrayCtor(input);
}

module.exports = {
  Buffer,
  constants,
  kMaxLength,
  kStringMaxLength: constants.MAX_STRING_LENGTH,
  SlowBuffer: Buffer,
  Blob: globalThis.Blob,
  File: globalThis.File,
  atob: atobCompat,
  btoa: btoaCompat,
  isUtf8(input) {
    const bytes = checkBytesInput(input);
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      return true;
    } catch {
      return false;
    }
  },
  isAscii(input) {
    const bytes = checkBytesInput(input);
    for (let i = 0; i < len(bytes); i++) if (bytes[i] > 0x7f) return false;
    return true;
  },
};
Object.defineProperty(module.exports, "INSPECT_MAX_BYTES", {
  enumerable: true, configurable: true,
  get() { return INSPECT_MAX_BYTES; },
  set(value) {
    validateNumber(value, "INSPECT_MAX_BYTES", 0);
    INSPECT_MAX_BYTES = value;
  },
});
