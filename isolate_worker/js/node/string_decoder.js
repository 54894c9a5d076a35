// node:string_decoder under nodejs_compat: StringDecoder, which decodes a stream of byte chunks
// and keeps a character cut at a chunk's end until the next chunk (Node's string_decoder.cc
// algorithm: at most 4 bytes buffered; utf8, utf16le and base64(url) buffer, the rest do not).
"use strict";

const { Buffer } = require("node:buffer");
const {
  codedError, invalidArgType,
} = require("node:util")[Symbol.for("isoflow.node.internals")];

const { apply: ReflectApply } = Reflect;
const isView = ArrayBuffer.isView;
const bufferToString = Buffer.prototype.toString;
const bufferFrom = Buffer.from;
const bufferAlloc = Buffer.alloc;
const StringPrototypeToLowerCase = String.prototype.toLowerCase;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const taSubarray = TypedArrayPrototype.subarray;
const taSet = TypedArrayPrototype.set;
const isEncoding = Buffer.isEncoding;

const kState = Symbol("kNativeDecoder");

/** The canonical name of an encoding, as Node's normalizeEncoding (undefined and "": utf8). */
function normalizeEncoding(enc) {
  if (enc === undefined || enc === null || enc === "") return "utf8";
  switch (ReflectApply(StringPrototypeToLowerCase, `${enc}`, [])) {
    case "utf8": case "utf-8": return "utf8";
    case "ucs2": case "ucs-2": case "utf16le": case "utf-16le": return "utf16le";
    case "latin1": case "binary": return "latin1";
    case "base64": return "base64";
    case "base64url": return "base64url";
    case "hex": return "hex";
    case "ascii": return "ascii";
    default:
      // A Buffer.isEncoding a script replaced may accept more (Node passes those through).
      if (Buffer.isEncoding !== isEncoding && Buffer.isEncoding(enc)) return enc;
      throw codedError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
  }
}

/** `bytes` [start, end) decoded with `encoding` (Buffer#toString: WHATWG replacement rules). */
function makeString(bytes, start, end, encoding) {
  const view = bufferFrom(bytes.buffer, bytes.byteOffset + start, end - start);
  return ReflectApply(bufferToString, view, [encoding]);
}

function bytesOf(view) {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** One chunk through the decoder's state (string_decoder.cc DecodeData). */
function decode(state, data) {
  const { encoding } = state;
  let start = 0;
  let end = data.length;
  if (encoding !== "utf8" && encoding !== "utf16le" && encoding !== "base64" &&
      encoding !== "base64url") {
    return makeString(data, start, end, encoding);
  }
  let prepend = null;
  if (state.missing > 0) {
    if (encoding === "utf8") {
      // A byte that is no continuation byte ends the cut character early: the bytes buffered
      // so far are decoded as they are (replacement characters) and it starts a new one.
      for (let i = 0; i < end && i < state.missing; i++) {
        if ((data[i] & 0xC0) !== 0x80) {
          state.missing = 0;
          ReflectApply(taSet, state.chars, [ReflectApply(taSubarray, data, [0, i]), state.buffered]);
          state.buffered += i;
          start = i;
          break;
        }
      }
    }
    const found = Math.min(end - start, state.missing);
    ReflectApply(taSet, state.chars, [ReflectApply(taSubarray, data, [start, start + found]),
                                      state.buffered]);
    start += found;
    state.missing -= found;
    state.buffered += found;
    if (state.missing === 0) {
      prepend = makeString(state.chars, 0, state.buffered, encoding);
      state.buffered = 0;
    }
  }
  if (start === end) return prepend === null ? "" : prepend;

  // Whether the chunk ends inside a character to finish with the next chunk.
  if (encoding === "utf8" && (data[end - 1] & 0x80) !== 0) {
    for (let i = end - 1; ; i--) {
      state.buffered++;
      if ((data[i] & 0xC0) === 0x80) {
        // A continuation byte: more than 3 of them, or no lead byte in this chunk, is invalid
        // input the decoder replaces as it is.
        if (state.buffered >= 4 || i === start) {
          state.buffered = 0;
          break;
        }
      } else {
        if ((data[i] & 0xE0) === 0xC0) state.missing = 2;
        else if ((data[i] & 0xF0) === 0xE0) state.missing = 3;
        else if ((data[i] & 0xF8) === 0xF0) state.missing = 4;
        else {
          state.buffered = 0; // no lead byte of UTF-8
          break;
        }
        if (state.buffered >= state.missing) {
          state.missing = 0; // complete (or too long: invalid anyway)
          state.buffered = 0;
        }
        state.missing -= state.buffered;
        break;
      }
    }
  } else if (encoding === "utf16le") {
    if ((end - start) % 2 === 1) {
      state.buffered = 1; // half a code unit
      state.missing = 1;
    } else if ((data[end - 1] & 0xFC) === 0xD8) {
      state.buffered = 2; // a high surrogate: its low one comes next
      state.missing = 2;
    }
  } else if (encoding === "base64" || encoding === "base64url") {
    state.buffered = (end - start) % 3;
    if (state.buffered > 0) state.missing = 3 - state.buffered;
  }
  if (state.buffered > 0) {
    end -= state.buffered;
    ReflectApply(taSet, state.chars, [ReflectApply(taSubarray, data, [end, end + state.buffered]), 0]);
  }
  const body = end > start ? makeString(data, start, end, encoding) : "";
  return prepend === null ? body : prepend + body;
}

/** What end() adds: the buffered bytes of a cut character, decoded as they are. */
function flush(state) {
  if (state.encoding === "utf16le" && state.buffered % 2 === 1) {
    state.missing--; // a lone byte is dropped
    state.buffered--;
  }
  if (state.buffered === 0) return "";
  const out = makeString(state.chars, 0, state.buffered, state.encoding);
  state.missing = 0;
  state.buffered = 0;
  return out;
}

function stateOf(decoder) {
  const state = decoder !== null && typeof decoder === "object" ? decoder[kState] : undefined;
  if (state === undefined) {
    throw codedError(TypeError, "ERR_INVALID_THIS", 'Value of "this" must be of type StringDecoder');
  }
  return state;
}

/** new StringDecoder([encoding]) (callable without new on an object, as Node's). */
function StringDecoder(encoding) {
  this.encoding = normalizeEncoding(encoding);
  this[kState] = { encoding: this.encoding, chars: bufferAlloc(4), missing: 0, buffered: 0 };
}

StringDecoder.prototype.write = function write(buf) {
  if (typeof buf === "string") return buf;
  if (!isView(buf)) throw invalidArgType("buf", ["Buffer", "TypedArray", "DataView"], buf);
  return decode(stateOf(this), bytesOf(buf));
};

StringDecoder.prototype.end = function end(buf) {
  let out = "";
  if (buf !== undefined) out = this.write(buf);
  const state = stateOf(this);
  if (state.buffered > 0) out += flush(state);
  return out;
};

// Undocumented legacy members Node keeps (some packages read them).
StringDecoder.prototype.text = function text(buf, offset) {
  const state = stateOf(this);
  state.missing = 0;
  state.buffered = 0;
  return this.write(buf.slice(offset));
};

Object.defineProperties(StringDecoder.prototype, {
  lastChar: {
    configurable: true,
    enumerable: true,
    get() { return stateOf(this).chars; },
  },
  lastNeed: {
    configurable: true,
    enumerable: true,
    get() { return stateOf(this).missing; },
  },
  lastTotal: {
    configurable: true,
    enumerable: true,
    get() {
      const state = stateOf(this);
      return state.buffered + state.missing;
    },
  },
});

module.exports = { StringDecoder };
