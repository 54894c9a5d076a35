// FormData (XMLHttpRequest standard §5), its multipart/form-data serialization (HTML
// standard, RFC 7578) and parsing, the application/x-www-form-urlencoded byte parser (URL
// standard §5.1), and MIME type parsing (MIME Sniffing standard §4) for them and for Fetch.
// Exports: internals.formData, internals.mimeType.

const {
  ArrayPrototypePush,
  ArrayPrototypeSplice,
  MathFloor,
  MathRandom,
  ObjectDefineProperty,
  ObjectFreeze,
  RegExpPrototypeTest,
  SafeMap,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeReplace,
  StringPrototypeSlice,
  StringPrototypeToLowerCase,
  SymbolIterator,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeIndexOf,
  TypedArrayPrototypeSlice,
  TypedArrayPrototypeSubarray,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;
const blobApi = internals.blob;
const { utf8Encode, utf8Decode } = internals.encoding;

// --- MIME types (MIME Sniffing standard) ------------------------------------------------------------

const HTTP_TOKEN = new primordials.SafeRegExp(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
const HTTP_QUOTED_STRING_TOKENS = new primordials.SafeRegExp(/^[\t\u0020-\u007e\u0080-\u00ff]*$/);

function isHttpWhitespace(c) {
  return c === 0x09 || c === 0x0a || c === 0x0d || c === 0x20;
}

function trimHttpWhitespace(s) {
  let start = 0;
  let end = s.length;
  while (start < end && isHttpWhitespace(StringPrototypeCharCodeAt(s, start))) start++;
  while (end > start && isHttpWhitespace(StringPrototypeCharCodeAt(s, end - 1))) end--;
  return StringPrototypeSlice(s, start, end);
}

function trimTrailingHttpWhitespace(s) {
  let end = s.length;
  while (end > 0 && isHttpWhitespace(StringPrototypeCharCodeAt(s, end - 1))) end--;
  return StringPrototypeSlice(s, 0, end);
}

/** Fetch "collect an HTTP quoted string" at `position` (a '"'): [value, newPosition]. */
function collectHttpQuotedString(input, position, extractValue) {
  const start = position;
  let value = "";
  position++; // the opening quote
  for (;;) {
    let end = position;
    while (end < input.length && input[end] !== '"' && input[end] !== "\\") end++;
    value += StringPrototypeSlice(input, position, end);
    position = end;
    if (position >= input.length) break;
    const quoteOrBackslash = input[position];
    position++;
    if (quoteOrBackslash === "\\") {
      if (position >= input.length) {
        value += "\\";
        break;
      }
      value += input[position];
      position++;
    } else {
      break;
    }
  }
  return [extractValue ? value : StringPrototypeSlice(input, start, position), position];
}

/** MIME Sniffing "parse a MIME type": { type, subtype, parameters: Map } or null. */
function parseMimeType(input) {
  input = trimHttpWhitespace(input);
  let position = StringPrototypeIndexOf(input, "/");
  if (position === -1) return null;
  const type = StringPrototypeSlice(input, 0, position);
  if (!RegExpPrototypeTest(HTTP_TOKEN, type)) return null;
  position++;
  let end = StringPrototypeIndexOf(input, ";", position);
  if (end === -1) end = input.length;
  const subtype = trimTrailingHttpWhitespace(StringPrototypeSlice(input, position, end));
  if (!RegExpPrototypeTest(HTTP_TOKEN, subtype)) return null;
  const mimeType = {
    type: StringPrototypeToLowerCase(type),
    subtype: StringPrototypeToLowerCase(subtype),
    parameters: new SafeMap(),
  };
  position = end;
  while (position < input.length) {
    position++; // the ";"
    while (position < input.length && isHttpWhitespace(StringPrototypeCharCodeAt(input, position))) {
      position++;
    }
    let nameEnd = position;
    while (nameEnd < input.length && input[nameEnd] !== ";" && input[nameEnd] !== "=") nameEnd++;
    const name = StringPrototypeToLowerCase(StringPrototypeSlice(input, position, nameEnd));
    position = nameEnd;
    if (position < input.length) {
      if (input[position] === ";") continue;
      position++; // the "="
    }
    if (position >= input.length) break;
    let value;
    if (input[position] === '"') {
      [value, position] = collectHttpQuotedString(input, position, true);
      while (position < input.length && input[position] !== ";") position++;
    } else {
      let valueEnd = StringPrototypeIndexOf(input, ";", position);
      if (valueEnd === -1) valueEnd = input.length;
      value = trimTrailingHttpWhitespace(StringPrototypeSlice(input, position, valueEnd));
      position = valueEnd;
      if (value === "") continue;
    }
    if (name !== "" && RegExpPrototypeTest(HTTP_TOKEN, name) &&
        RegExpPrototypeTest(HTTP_QUOTED_STRING_TOKENS, value) && !mimeType.parameters.has(name)) {
      mimeType.parameters.set(name, value);
    }
  }
  return mimeType;
}

const QUOTE_OR_BACKSLASH = new primordials.SafeRegExp(/["\\]/g);

/** MIME Sniffing "serialize a MIME type". */
function serializeMimeType(mimeType) {
  let s = `${mimeType.type}/${mimeType.subtype}`;
  for (const [name, value] of mimeType.parameters) {
    let v = value;
    if (v === "" || !RegExpPrototypeTest(HTTP_TOKEN, v)) {
      v = `"${StringPrototypeReplace(v, QUOTE_OR_BACKSLASH, "\\$&")}"`;
    }
    s += `;${name}=${v}`;
  }
  return s;
}

/** Fetch "get, decode, and split" a header value: the comma-separated values, trimmed. */
function splitHeaderValue(input) {
  const values = [];
  let position = 0;
  let value = "";
  while (position < input.length) {
    let end = position;
    while (end < input.length && input[end] !== '"' && input[end] !== ",") end++;
    value += StringPrototypeSlice(input, position, end);
    position = end;
    if (position < input.length && input[position] === '"') {
      let quoted;
      [quoted, position] = collectHttpQuotedString(input, position, false);
      value += quoted;
      if (position < input.length) continue;
    }
    ArrayPrototypePush(values, trimTabSpace(value));
    value = "";
    if (position < input.length) position++; // the ","
    else return values;
  }
  ArrayPrototypePush(values, trimTabSpace(value));
  return values;
}

function trimTabSpace(s) {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === " " || s[start] === "\t")) start++;
  while (end > start && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
  return StringPrototypeSlice(s, start, end);
}

/** Fetch "extract a MIME type" from a combined Content-Type value; null on failure. */
function extractMimeType(combinedValue) {
  let charset = null;
  let essence = null;
  let mimeType = null;
  for (const value of splitHeaderValue(combinedValue)) {
    const temporary = parseMimeType(value);
    if (temporary === null) continue;
    const tempEssence = `${temporary.type}/${temporary.subtype}`;
    if (tempEssence === "*/*") continue;
    mimeType = temporary;
    if (tempEssence !== essence) {
      charset = null;
      if (mimeType.parameters.has("charset")) charset = mimeType.parameters.get("charset");
      essence = tempEssence;
    } else if (!mimeType.parameters.has("charset") && charset !== null) {
      mimeType.parameters.set("charset", charset);
    }
  }
  return mimeType;
}

internals.mimeType = ObjectFreeze({
  parse: parseMimeType,
  serialize: serializeMimeType,
  extract: extractMimeType,
  essence: (mimeType) => `${mimeType.type}/${mimeType.subtype}`,
});

// --- FormData ------------------------------------------------------------------------------------------

/** XHR "create an entry": [name, string | File]. */
function createEntry(name, value, filename) {
  if (typeof value === "string") return [name, value];
  let file = value;
  const info = blobApi.fileInfo(value);
  const { parts, size, type } = blobApi.getData(value);
  if (info === null) {
    file = blobApi.createFile(parts, size, type, filename === undefined ? "blob" : filename);
  } else if (filename !== undefined) {
    file = blobApi.createFile(parts, size, type, filename, info.lastModified);
  }
  return [name, file];
}

/** The (name, value[, filename]) arguments of append() and set(), converted. */
function convertEntryArguments(args, method) {
  const prefix = `Failed to execute '${method}' on 'FormData'`;
  webidl.requiredArguments(args.length, 2, prefix);
  const name = converters.USVString(args[0], prefix, "Argument 1");
  const value = args[1];
  if (args.length === 2 && !blobApi.isBlob(value)) {
    return createEntry(name, converters.USVString(value, prefix, "Argument 2"), undefined);
  }
  if (!blobApi.isBlob(value)) {
    throw new TypeErrorCtor(`${prefix}: parameter 2 is not of type 'Blob'.`);
  }
  const filename = args.length > 2 && args[2] !== undefined
    ? converters.USVString(args[2], prefix, "Argument 3")
    : undefined;
  return createEntry(name, value, filename);
}

let entriesOf; // (FormData) -> entry list

class FormData {
  #entries = [];

  constructor(form = undefined, submitter = undefined) {
    if (form !== undefined) {
      throw new TypeErrorCtor(
        "Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.",
      );
    }
    void submitter;
  }

  static {
    entriesOf = (self, method) => {
      if (self === null || typeof self !== "object" || !(#entries in self)) {
        throw new TypeErrorCtor(`Failed to execute '${method}' on 'FormData': Illegal invocation`);
      }
      return self.#entries;
    };
  }

  append(name, value, filename = undefined) {
    const list = entriesOf(this, "append");
    ArrayPrototypePush(list, convertEntryArguments(arguments, "append"));
  }

  delete(name) {
    const list = entriesOf(this, "delete");
    const prefix = "Failed to execute 'delete' on 'FormData'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i][0] === name) ArrayPrototypeSplice(list, i, 1);
    }
  }

  get(name) {
    const list = entriesOf(this, "get");
    const prefix = "Failed to execute 'get' on 'FormData'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) return list[i][1];
    }
    return null;
  }

  getAll(name) {
    const list = entriesOf(this, "getAll");
    const prefix = "Failed to execute 'getAll' on 'FormData'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    const values = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) ArrayPrototypePush(values, list[i][1]);
    }
    return values;
  }

  has(name) {
    const list = entriesOf(this, "has");
    const prefix = "Failed to execute 'has' on 'FormData'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = converters.USVString(name, prefix, "Argument 1");
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) return true;
    }
    return false;
  }

  set(name, value, filename = undefined) {
    const list = entriesOf(this, "set");
    const entry = convertEntryArguments(arguments, "set");
    let replaced = false;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] !== entry[0]) continue;
      if (!replaced) {
        list[i] = entry;
        replaced = true;
      } else {
        ArrayPrototypeSplice(list, i, 1);
        i--;
      }
    }
    if (!replaced) ArrayPrototypePush(list, entry);
  }

  entries() {
    entriesOf(this, "entries");
    return pairIterator.entries(this);
  }

  keys() {
    entriesOf(this, "keys");
    return pairIterator.keys(this);
  }

  values() {
    entriesOf(this, "values");
    return pairIterator.values(this);
  }

  forEach(callback, thisArg = undefined) {
    entriesOf(this, "forEach");
    const prefix = "Failed to execute 'forEach' on 'FormData'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (typeof callback !== "function") {
      throw new TypeErrorCtor(`${prefix}: The callback provided as parameter 1 is not a function.`);
    }
    pairIterator.forEach(this, callback, thisArg);
  }
}

webidl.configureInterface(FormData);
ObjectDefineProperty(FormData.prototype, SymbolIterator, {
  value: FormData.prototype.entries,
  writable: true,
  enumerable: false,
  configurable: true,
});

// Web IDL default iterator objects: live over the entry list, one shared prototype.
const pairIterator = webidl.createPairIterator(
  "FormData", (formData) => entriesOf(formData, "next"),
  "next method called on an object that is not a FormData iterator",
);

// --- multipart/form-data serialization ------------------------------------------------------------

const BOUNDARY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random boundary of 36 characters from [0-9A-Za-z-]. */
function makeBoundary() {
  let s = "----isoflow-";
  for (let i = 0; i < 24; i++) s += BOUNDARY_ALPHABET[MathFloor(MathRandom() * 62)];
  return s;
}

const LONE_NEWLINES = new primordials.SafeRegExp(/\r\n|\r|\n/g);
const NAME_ESCAPES = new primordials.SafeRegExp(/[\n\r"]/g);
const ESCAPED = { "\n": "%0A", "\r": "%0D", '"': "%22" };

/** HTML: lone CR and lone LF become CRLF. */
function normalizeNewlines(s) {
  return StringPrototypeReplace(s, LONE_NEWLINES, "\r\n");
}

/** HTML "escape" a multipart/form-data name or filename: LF, CR and " percent-encoded. */
function escapeName(s) {
  return StringPrototypeReplace(s, NAME_ESCAPES, (c) => ESCAPED[c]);
}

/**
 * HTML's multipart/form-data encoding algorithm over a snapshot of the entry list:
 * { boundary, parts } where parts are Uint8Arrays to send in order (file parts are the
 * files' own bytes, shared: do not modify them).
 */
function serializeMultipart(formData) {
  const list = entriesOf(formData, "serializeMultipart");
  const boundary = makeBoundary();
  const parts = [];
  let text = "";
  const flushText = () => {
    const bytes = utf8Encode(text);
    if (bytes.length > 0) ArrayPrototypePush(parts, bytes);
    text = "";
  };
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i];
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(normalizeNewlines(name))}"`;
    if (typeof value === "string") {
      text += `\r\n\r\n${normalizeNewlines(value)}\r\n`;
      continue;
    }
    const { type } = blobApi.getData(value);
    const filename = blobApi.fileInfo(value).name;
    text += `; filename="${escapeName(filename)}"\r\n` +
      `Content-Type: ${type === "" ? "application/octet-stream" : type}\r\n\r\n`;
    flushText();
    const fileParts = blobApi.getParts(value);
    for (let j = 0; j < fileParts.length; j++) ArrayPrototypePush(parts, fileParts[j]);
    text = "\r\n";
  }
  text += `--${boundary}--\r\n`;
  flushText();
  return { boundary, parts };
}

// --- multipart/form-data parsing --------------------------------------------------------------------

function malformed(detail) {
  return new TypeErrorCtor(`Failed to parse the body as multipart/form-data: ${detail}.`);
}

/** Whether bytes[at, at + pattern.length) equals pattern. */
function bytesAt(bytes, at, pattern) {
  const n = TypedArrayPrototypeGetLength(pattern);
  if (at + n > TypedArrayPrototypeGetLength(bytes)) return false;
  for (let i = 0; i < n; i++) {
    if (bytes[at + i] !== pattern[i]) return false;
  }
  return true;
}

/** Index of `pattern` in `bytes` at or after `from`, or -1. */
function indexOfBytes(bytes, pattern, from) {
  const first = pattern[0];
  const last = TypedArrayPrototypeGetLength(bytes) - TypedArrayPrototypeGetLength(pattern);
  let i = from;
  while (i <= last) {
    i = TypedArrayPrototypeIndexOf(bytes, first, i);
    if (i === -1 || i > last) return -1;
    if (bytesAt(bytes, i, pattern)) return i;
    i++;
  }
  return -1;
}

function skipTransportPadding(bytes, position) {
  while (position < bytes.length && (bytes[position] === 0x20 || bytes[position] === 0x09)) {
    position++;
  }
  return position;
}

const HEADER_NAME_TOKEN = HTTP_TOKEN;

/**
 * Parse a part's header lines from `position`: { disposition, contentTypes, position }
 * where position is just after the empty line.
 */
function parsePartHeaders(bytes, position) {
  let disposition = null;
  const contentTypes = [];
  const n = TypedArrayPrototypeGetLength(bytes);
  for (;;) {
    const cr = TypedArrayPrototypeIndexOf(bytes, 0x0d, position);
    if (cr === -1 || cr + 1 >= n || bytes[cr + 1] !== 0x0a) throw malformed("a header line does not end with CRLF");
    const lineBytes = TypedArrayPrototypeSubarray(bytes, position, cr);
    position = cr + 2;
    if (TypedArrayPrototypeGetLength(lineBytes) === 0) break;
    if (TypedArrayPrototypeIndexOf(lineBytes, 0x0a) !== -1) throw malformed("a bare LF in a header");
    if (TypedArrayPrototypeIndexOf(lineBytes, 0x00) !== -1) throw malformed("a NUL byte in a header");
    const line = trimTabSpace(utf8Decode(lineBytes));
    const colon = StringPrototypeIndexOf(line, ":");
    if (colon === -1) throw malformed("a header line without a colon");
    const name = trimTabSpace(StringPrototypeSlice(line, 0, colon));
    if (!RegExpPrototypeTest(HEADER_NAME_TOKEN, name)) throw malformed(`an invalid header name '${name}'`);
    const value = trimTabSpace(StringPrototypeSlice(line, colon + 1));
    const lower = StringPrototypeToLowerCase(name);
    if (lower === "content-disposition") disposition = value;
    else if (lower === "content-type") ArrayPrototypePush(contentTypes, value);
  }
  return { disposition, contentTypes, position };
}

/** The name and filename of a `form-data` Content-Disposition value. */
function parseContentDisposition(value) {
  let semi = StringPrototypeIndexOf(value, ";");
  if (semi === -1) semi = value.length;
  const type = StringPrototypeToLowerCase(trimTabSpace(StringPrototypeSlice(value, 0, semi)));
  if (type !== "form-data") throw malformed(`Content-Disposition is not form-data: '${value}'`);
  const params = new SafeMap();
  let position = semi;
  while (position < value.length) {
    position++; // the ";"
    while (position < value.length && (value[position] === " " || value[position] === "\t")) position++;
    let eq = position;
    while (eq < value.length && value[eq] !== "=" && value[eq] !== ";") eq++;
    const key = StringPrototypeToLowerCase(trimTabSpace(StringPrototypeSlice(value, position, eq)));
    position = eq;
    if (position >= value.length || value[position] === ";") continue;
    position++; // the "="
    let paramValue;
    if (value[position] === '"') {
      // Quoted: up to the next quote, taken as is (the HTML serializer escapes quotes as %22).
      const close = StringPrototypeIndexOf(value, '"', position + 1);
      if (close === -1) throw malformed("an unterminated quoted string in Content-Disposition");
      paramValue = StringPrototypeSlice(value, position + 1, close);
      position = close + 1;
      while (position < value.length && value[position] !== ";") position++;
    } else {
      let end = StringPrototypeIndexOf(value, ";", position);
      if (end === -1) end = value.length;
      paramValue = trimTabSpace(StringPrototypeSlice(value, position, end));
      position = end;
    }
    if (!params.has(key)) params.set(key, paramValue);
  }
  if (!params.has("name")) throw malformed("a part without a name");
  return { name: params.get("name"), filename: params.get("filename") };
}

/** A part's value: a File (lastModified 0) when it has a filename, else its UTF-8 text. */
function partValue(body, filename, contentTypes) {
  if (filename === undefined) return utf8Decode(body);
  let type = "text/plain";
  if (contentTypes.length > 0) {
    let combined = contentTypes[0];
    for (let i = 1; i < contentTypes.length; i++) combined += `, ${contentTypes[i]}`;
    const mimeType = extractMimeType(combined);
    type = mimeType === null ? "" : serializeMimeType(mimeType);
  }
  const bytes = TypedArrayPrototypeSlice(body);
  return blobApi.createFile([bytes], TypedArrayPrototypeGetLength(bytes), type, filename, 0);
}

/**
 * Parse a multipart/form-data body (Fetch's formData()): a new FormData, or a TypeError
 * for malformed input or a Content-Type without a boundary.
 */
function parseMultipart(bytes, contentType) {
  const mimeType = contentType === null || contentType === undefined
    ? null
    : parseMimeType(`${contentType}`);
  const boundary = mimeType === null ? undefined : mimeType.parameters.get("boundary");
  if (boundary === undefined || boundary === "") throw malformed("no boundary in the Content-Type");
  const delimiter = utf8Encode(`--${boundary}`);
  const nextDelimiter = utf8Encode(`\r\n--${boundary}`);
  const n = TypedArrayPrototypeGetLength(bytes);
  if (!bytesAt(bytes, 0, delimiter)) throw malformed("the body does not start with the boundary");
  let position = TypedArrayPrototypeGetLength(delimiter);
  const formData = new FormData();
  const list = entriesOf(formData, "parseMultipart");
  for (;;) {
    if (bytes[position] === 0x2d && bytes[position + 1] === 0x2d) {
      // The close delimiter: only padding and a line break (or the end) may follow.
      position = skipTransportPadding(bytes, position + 2);
      if (position === n || (bytes[position] === 0x0d && bytes[position + 1] === 0x0a)) {
        return formData;
      }
      throw malformed("unexpected bytes after the close delimiter");
    }
    position = skipTransportPadding(bytes, position);
    if (bytes[position] !== 0x0d || bytes[position + 1] !== 0x0a) {
      throw malformed("a delimiter is not followed by CRLF");
    }
    position += 2;
    const headers = parsePartHeaders(bytes, position);
    position = headers.position;
    if (headers.disposition === null) throw malformed("a part without Content-Disposition");
    const { name, filename } = parseContentDisposition(headers.disposition);
    const end = indexOfBytes(bytes, nextDelimiter, position);
    if (end === -1) throw malformed("a part is not followed by a delimiter");
    const body = TypedArrayPrototypeSubarray(bytes, position, end);
    ArrayPrototypePush(list, [name, partValue(body, filename, headers.contentTypes)]);
    position = end + TypedArrayPrototypeGetLength(nextDelimiter);
  }
}

// --- application/x-www-form-urlencoded ------------------------------------------------------------

/** "+" to space, percent-decode, then UTF-8 decode without BOM (URL standard). */
function decodeFormBytes(bytes, start, end) {
  return utf8Decode(internals.url.percentDecodeBytes(bytes, start, end, true));
}

/** The application/x-www-form-urlencoded parser over bytes: [[name, value], ...]. */
function parseUrlencoded(bytes) {
  const output = [];
  const n = TypedArrayPrototypeGetLength(bytes);
  let start = 0;
  while (start < n) {
    let end = TypedArrayPrototypeIndexOf(bytes, 0x26, start);
    if (end === -1) end = n;
    if (end > start) {
      let eq = TypedArrayPrototypeIndexOf(bytes, 0x3d, start);
      if (eq === -1 || eq > end) eq = end;
      const name = decodeFormBytes(bytes, start, eq);
      const value = eq < end ? decodeFormBytes(bytes, eq + 1, end) : "";
      ArrayPrototypePush(output, [name, value]);
    }
    start = end + 1;
  }
  return output;
}

internals.formData = ObjectFreeze({
  FormData,
  isFormData(value) {
    try {
      entriesOf(value, "");
      return true;
    } catch {
      return false;
    }
  },
  /** A copy of the entry list: [[name, string | File], ...]. */
  entries: (formData) => [...entriesOf(formData, "entries")],
  /** Append an entry (a string or a Blob, converted as append() does). */
  append(formData, name, value, filename = undefined) {
    ArrayPrototypePush(entriesOf(formData, "append"), createEntry(name, value, filename));
  },
  serializeMultipart,
  parseMultipart,
  parseUrlencoded,
});

internals.exposeGlobal("FormData", FormData);
