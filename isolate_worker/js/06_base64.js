// atob() and btoa() (HTML standard §8.3, "forgiving-base64").
//
// The checks the HTML standard makes are done here; the byte work is V8's native
// Uint8Array.fromBase64 / Uint8Array.prototype.toBase64.
// Exports: internals.base64.

const {
  RegExpPrototypeTest,
  StringPrototypeCharCodeAt,
  StringPrototypeEndsWith,
  StringPrototypeReplace,
  StringPrototypeSlice,
  Uint8Array: Uint8ArrayCtor,
  Uint8ArrayFromBase64,
  Uint8ArrayPrototypeToBase64,
} = primordials;

const { webidl } = internals;
const { DOMException } = internals;

const ASCII_WHITESPACE = new primordials.SafeRegExp(/[\t\n\f\r ]+/g);
const NOT_BASE64 = new primordials.SafeRegExp(/[^A-Za-z0-9+/]/);

function invalidCharacter(message) {
  return new DOMException(message, "InvalidCharacterError");
}

/** HTML "forgiving-base64 decode": the bytes of `data`, or null on failure. */
function forgivingBase64Decode(data) {
  let s = StringPrototypeReplace(data, ASCII_WHITESPACE, "");
  if (s.length % 4 === 0) {
    if (StringPrototypeEndsWith(s, "==")) s = StringPrototypeSlice(s, 0, -2);
    else if (StringPrototypeEndsWith(s, "=")) s = StringPrototypeSlice(s, 0, -1);
  }
  if (s.length % 4 === 1 || RegExpPrototypeTest(NOT_BASE64, s)) return null;
  // Valid, unpadded input: "loose" decoding ignores the unused bits of the last chunk,
  // as forgiving-base64 does.
  return Uint8ArrayFromBase64(s, { lastChunkHandling: "loose" });
}

/** HTML "forgiving-base64 encode" of bytes. */
function forgivingBase64Encode(bytes) {
  return Uint8ArrayPrototypeToBase64(bytes);
}

function atob(data) {
  const prefix = "Failed to execute 'atob'";
  webidl.requiredArguments(arguments.length, 1, prefix);
  data = webidl.converters.DOMString(data, prefix, "Argument 1");
  const bytes = forgivingBase64Decode(data);
  if (bytes === null) {
    throw invalidCharacter(`${prefix}: The string to be decoded is not correctly encoded.`);
  }
  return internals.encoding.isomorphicDecode(bytes);
}

function btoa(data) {
  const prefix = "Failed to execute 'btoa'";
  webidl.requiredArguments(arguments.length, 1, prefix);
  data = webidl.converters.DOMString(data, prefix, "Argument 1");
  const n = data.length;
  const bytes = new Uint8ArrayCtor(n);
  for (let i = 0; i < n; i++) {
    const c = StringPrototypeCharCodeAt(data, i);
    if (c > 0xff) {
      throw invalidCharacter(
        `${prefix}: The string to be encoded contains characters outside of the Latin1 range.`,
      );
    }
    bytes[i] = c;
  }
  return forgivingBase64Encode(bytes);
}

internals.base64 = { forgivingBase64Decode, forgivingBase64Encode };
internals.exposeGlobalOperations({ atob, btoa }); // WindowOrWorkerGlobalScope
