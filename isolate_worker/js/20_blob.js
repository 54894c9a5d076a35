// Blob and File (W3C File API §3, §4).
//
// A Blob's bytes are a list of immutable Uint8Array parts: the constructor copies buffer
// sources and encodes strings once; blob parts and slices share the parts of the blobs they
// come from (slice() copies nothing). Reading joins the parts; stream() hands out 64 KiB
// chunks (or fills BYOB requests directly).
// Exports: internals.blob.

const {
  ArrayPrototypePush,
  DateNow,
  MathMax,
  MathMin,
  ObjectFreeze,
  PromisePrototypeThen,
  PromiseReject,
  PromiseResolve,
  RegExpPrototypeTest,
  StringPrototypeReplace,
  StringPrototypeToLowerCase,
  Symbol: SymbolCtor,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeSet,
  TypedArrayPrototypeSlice,
  TypedArrayPrototypeSubarray,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;

const CHUNK_SIZE = 65536;
const EMPTY = new Uint8ArrayCtor(0);
const internalKey = SymbolCtor("Blob internal");

// --- Byte helpers ---------------------------------------------------------------------------------

/**
 * Web IDL "get a copy of the bytes held by the buffer source" as a Uint8Array (empty for a
 * detached or out-of-bounds one), or null if `value` is not a BufferSource (an ArrayBuffer, a
 * SharedArrayBuffer or a view: 05_encoding.js's bytesOfBufferSource says which).
 */
function copyBufferSource(value) {
  let bytes;
  try {
    bytes = internals.encoding.bytesOfBufferSource(value);
  } catch {
    return EMPTY; // a DataView out of its buffer's bounds
  }
  if (bytes === null) return null;
  return bytes.length === 0 ? EMPTY : TypedArrayPrototypeSlice(bytes);
}

/** Copy `length` bytes of `parts`, starting at byte `start`, into `dest` at `destOffset`. */
function copyFromParts(parts, start, dest, destOffset, length) {
  let skip = start;
  let remaining = length;
  let o = destOffset;
  for (let i = 0; i < parts.length && remaining > 0; i++) {
    const part = parts[i];
    const n = TypedArrayPrototypeGetLength(part);
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const take = MathMin(n - skip, remaining);
    TypedArrayPrototypeSet(dest, TypedArrayPrototypeSubarray(part, skip, skip + take), o);
    o += take;
    remaining -= take;
    skip = 0;
  }
}

/** The parts covering bytes [start, end) of `parts` (views, no copies). */
function sliceParts(parts, start, end) {
  const out = [];
  let position = 0;
  for (let i = 0; i < parts.length && position < end; i++) {
    const part = parts[i];
    const n = TypedArrayPrototypeGetLength(part);
    const partEnd = position + n;
    if (partEnd > start) {
      const from = MathMax(start - position, 0);
      const to = MathMin(end - position, n);
      ArrayPrototypePush(out, from === 0 && to === n ? part : TypedArrayPrototypeSubarray(part, from, to));
    }
    position = partEnd;
  }
  return out;
}

/** All the bytes of a blob's data in one fresh Uint8Array. */
function joinParts(data) {
  if (data.parts.length === 1) return TypedArrayPrototypeSlice(data.parts[0]);
  const out = new Uint8ArrayCtor(data.size);
  copyFromParts(data.parts, 0, out, 0, data.size);
  return out;
}

// --- Blob constructor steps ---------------------------------------------------------------------------

const NOT_PRINTABLE_ASCII = new primordials.SafeRegExp(/[^\u0020-\u007e]/);
const LINE_ENDINGS = new primordials.SafeRegExp(/\r\n|\r/g);

/** File API: a type with characters outside U+0020-U+007E is "", otherwise lower-cased. */
function normalizeType(type) {
  if (RegExpPrototypeTest(NOT_PRINTABLE_ASCII, type)) return "";
  return StringPrototypeToLowerCase(type);
}

/** File API "convert line endings to native" (LF on this platform). */
function convertLineEndingsToNative(s) {
  return StringPrototypeReplace(s, LINE_ENDINGS, "\n");
}

let blobDataOf; // (value) -> data | undefined

/**
 * One element of the blobParts sequence: a BufferSource (the object itself: its bytes are
 * copied by "process blob parts", after every element is converted), a Blob's data, or a
 * USVString.
 */
function convertBlobPart(value, prefix, context) {
  if (typeof value === "object" && value !== null) {
    const data = blobDataOf(value);
    if (data !== undefined) return data;
    if (internals.encoding.bytesOfBufferSource(value) !== null) return value;
  }
  return converters.USVString(value, prefix, context);
}

const convertBlobParts = webidl.createSequenceConverter(convertBlobPart);

const convertBlobPropertyBag = webidl.createDictionaryConverter("BlobPropertyBag", [
  {
    key: "endings",
    converter: webidl.createEnumConverter("EndingType", ["transparent", "native"]),
    defaultValue: "transparent",
  },
  { key: "type", converter: converters.DOMString, defaultValue: "" },
]);

/** File API "process blob parts": the list of byte parts and their total size. */
function processBlobParts(parts, endings) {
  const out = [];
  let size = 0;
  for (let i = 0; i < parts.length; i++) {
    const element = parts[i];
    if (typeof element === "string") {
      const s = endings === "native" ? convertLineEndingsToNative(element) : element;
      const bytes = internals.encoding.utf8Encode(s);
      if (bytes.length > 0) ArrayPrototypePush(out, bytes);
      size += bytes.length;
      continue;
    }
    // A BufferSource: a copy of the bytes it holds now (converting a later element may
    // have changed or detached it).
    const bytes = copyBufferSource(element);
    if (bytes !== null) {
      const n = TypedArrayPrototypeGetLength(bytes);
      if (n > 0) ArrayPrototypePush(out, bytes);
      size += n;
    } else {
      for (let j = 0; j < element.parts.length; j++) ArrayPrototypePush(out, element.parts[j]);
      size += element.size;
    }
  }
  return { parts: out, size };
}

// --- Blob ------------------------------------------------------------------------------------------

class Blob {
  #data; // { parts: Uint8Array[], size, type }

  constructor(blobParts = undefined, options = undefined) {
    if (blobParts === internalKey) {
      this.#data = options;
      return;
    }
    const prefix = "Failed to construct 'Blob'";
    const parts = blobParts === undefined ? [] : convertBlobParts(blobParts, prefix, "Argument 1");
    const bag = convertBlobPropertyBag(options, prefix, "Argument 2");
    const { parts: bytes, size } = processBlobParts(parts, bag.endings);
    this.#data = { parts: bytes, size, type: normalizeType(bag.type) };
  }

  static {
    blobDataOf = (value) => (#data in value ? value.#data : undefined);
  }

  static #get(self, member) {
    if (self === null || typeof self !== "object" || !(#data in self)) {
      throw new TypeErrorCtor(`Failed to execute '${member}' on 'Blob': Illegal invocation`);
    }
    return self.#data;
  }

  get size() {
    return Blob.#get(this, "size").size;
  }

  get type() {
    return Blob.#get(this, "type").type;
  }

  slice(start = undefined, end = undefined, contentType = undefined) {
    const data = Blob.#get(this, "slice");
    const prefix = "Failed to execute 'slice' on 'Blob'";
    const size = data.size;
    let relativeStart = 0;
    if (start !== undefined) {
      const s = converters["long long"](start, prefix, "Argument 1", { clamp: true });
      relativeStart = s < 0 ? MathMax(size + s, 0) : MathMin(s, size);
    }
    let relativeEnd = size;
    if (end !== undefined) {
      const e = converters["long long"](end, prefix, "Argument 2", { clamp: true });
      relativeEnd = e < 0 ? MathMax(size + e, 0) : MathMin(e, size);
    }
    let type = "";
    if (contentType !== undefined) {
      type = normalizeType(converters.DOMString(contentType, prefix, "Argument 3"));
    }
    const span = MathMax(relativeEnd - relativeStart, 0);
    return createBlob(sliceParts(data.parts, relativeStart, relativeStart + span), span, type);
  }

  stream() {
    return blobStream(Blob.#get(this, "stream"));
  }

  text() {
    return Blob.#read(this, "text", (bytes) => internals.encoding.decode(bytes, "utf-8"));
  }

  arrayBuffer() {
    return Blob.#read(this, "arrayBuffer", (bytes) => bytes.buffer);
  }

  bytes() {
    return Blob.#read(this, "bytes", (bytes) => bytes);
  }

  /** A promise of convert(all the bytes); rejected at once when `self` is not a Blob. */
  static #read(self, member, convert) {
    let data;
    try {
      data = Blob.#get(self, member);
    } catch (e) {
      return PromiseReject(e);
    }
    return readAll(data, convert);
  }
}

webidl.configureInterface(Blob);

/** A new Blob from byte parts (not copied: they must not change afterwards). */
function createBlob(parts, size, type) {
  return new Blob(internalKey, { parts, size, type });
}

/** The bytes, as a promise fulfilled on a later microtask (like a read of the stream). */
function readAll(data, convert) {
  return PromisePrototypeThen(PromiseResolve(), () => convert(joinParts(data)));
}

/** File API "get stream": a readable byte stream of the blob's bytes. */
function blobStream(data) {
  const streams = internals.streams;
  let offset = 0;
  const stream = streams.createReadableByteStream({
    pull() {
      const remaining = data.size - offset;
      if (remaining <= 0) {
        streams.close(stream);
        return;
      }
      const view = streams.currentBYOBRequestView(stream);
      let chunk;
      if (view !== null) {
        // Fill the reader's own buffer.
        const n = MathMin(TypedArrayPrototypeGetByteLength(view), remaining);
        chunk = new Uint8ArrayCtor(TypedArrayPrototypeGetBuffer(view),
          TypedArrayPrototypeGetByteOffset(view), n);
        copyFromParts(data.parts, offset, chunk, 0, n);
      } else {
        const n = MathMin(CHUNK_SIZE, remaining);
        chunk = new Uint8ArrayCtor(n);
        copyFromParts(data.parts, offset, chunk, 0, n);
      }
      offset += TypedArrayPrototypeGetLength(chunk);
      streams.enqueue(stream, chunk);
      if (offset >= data.size) streams.close(stream);
    },
  });
  return stream;
}

// --- File --------------------------------------------------------------------------------------------

// dictionary FilePropertyBag : BlobPropertyBag (its lastModified is read after endings, type)
const convertFilePropertyBag = webidl.createDictionaryConverter("FilePropertyBag", [
  { key: "lastModified", converter: converters["long long"] },
], convertBlobPropertyBag);

let fileInfoOf; // (object) -> { name, lastModified } | null

class File extends Blob {
  #name;
  #lastModified;

  constructor(fileBits, fileName, options = undefined) {
    if (fileBits === internalKey) {
      super(internalKey, fileName);
      this.#name = options.name;
      this.#lastModified = options.lastModified;
      return;
    }
    const prefix = "Failed to construct 'File'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    const parts = convertBlobParts(fileBits, prefix, "Argument 1");
    const name = converters.USVString(fileName, prefix, "Argument 2");
    const bag = convertFilePropertyBag(options, prefix, "Argument 3");
    const { parts: bytes, size } = processBlobParts(parts, bag.endings);
    super(internalKey, { parts: bytes, size, type: normalizeType(bag.type) });
    this.#name = name;
    this.#lastModified = bag.lastModified !== undefined ? bag.lastModified : DateNow();
  }

  static {
    fileInfoOf = (value) =>
      #name in value ? { name: value.#name, lastModified: value.#lastModified } : null;
  }

  static #check(self, member) {
    if (self === null || typeof self !== "object" || !(#name in self)) {
      throw new TypeErrorCtor(`Failed to read the '${member}' property from 'File': Illegal invocation`);
    }
  }

  get name() {
    File.#check(this, "name");
    return this.#name;
  }

  get lastModified() {
    File.#check(this, "lastModified");
    return this.#lastModified;
  }

  get webkitRelativePath() {
    File.#check(this, "webkitRelativePath");
    return "";
  }
}

webidl.configureInterface(File);

/** A new File from byte parts (not copied). */
function createFile(parts, size, type, name, lastModified = DateNow()) {
  return new File(internalKey, { parts, size, type }, { name, lastModified });
}

// --- Serialization (structured clone) ------------------------------------------------------------------

const isBlob = (value) => typeof value === "object" && value !== null &&
  blobDataOf(value) !== undefined;

/** { name, lastModified } of a File, or null for other values. */
const fileInfo = (value) => (isBlob(value) ? fileInfoOf(value) : null);

internals.structuredClone.registerSerializable({
  tag: "File",
  is: (value) => fileInfo(value) !== null,
  serialize(value) {
    const data = blobDataOf(value);
    return { data, ...fileInfo(value) };
  },
  deserialize: ({ data, name, lastModified }) =>
    createFile(data.parts, data.size, data.type, name, lastModified),
});

internals.structuredClone.registerSerializable({
  tag: "Blob",
  is: isBlob,
  serialize: (value) => blobDataOf(value),
  deserialize: (data) => createBlob(data.parts, data.size, data.type),
});

internals.blob = ObjectFreeze({
  Blob,
  File,
  isBlob,
  isFile: (value) => fileInfo(value) !== null,
  fileInfo,
  createBlob,
  createFile,
  /** Type normalization of the File API (for types that come from elsewhere). */
  normalizeType,
  /** The blob's { parts, size, type } (parts are shared views: never modify them). */
  getData: (blob) => blobDataOf(blob),
  /** The blob's parts (shared views: never modify them). */
  getParts: (blob) => blobDataOf(blob).parts,
  /** All of the blob's bytes in one new Uint8Array, synchronously. */
  getBytes: (blob) => joinParts(blobDataOf(blob)),
  /** Bytes [start, end) of the blob in a new Uint8Array. */
  getRange(blob, start, end) {
    const data = blobDataOf(blob);
    const n = MathMax(MathMin(end, data.size) - start, 0);
    const out = new Uint8ArrayCtor(n);
    copyFromParts(data.parts, start, out, 0, n);
    return out;
  },
});

internals.exposeGlobals({ Blob, File });
