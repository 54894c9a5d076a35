// Bodies (Fetch standard: "body", "extract a body", the Body mixin).
//
// A body is an InnerBody { stream, source, length, used, shared, exposed }. The standard
// makes every body's stream at once; here it is made lazily: a body extracted from a string,
// bytes or a Blob keeps them as its `source` and becomes a ReadableStream only when a script
// asks for `.body` (or the bridge needs one). So `new Response("hi")` sent to a client, or
// `await response.text()`, never builds a stream, and the bridge sends `source` as is.
//   stream   ReadableStream, or null while the body is still only its source
//   source   Uint8Array | Blob | null (null: the stream is the only source)
//   length   byte count if known, else null
//   used     consumed while `stream` was null: the stream made later is closed, disturbed
//            and locked, as reading it fully would have left it
//   shared   `source` is shared with a clone: bytes handed out are copies
//   exposed  a script holds `stream` (it came from `.body` or from the script itself)
// Exports internals.body.

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeGetDetached,
  ArrayBufferPrototypeSlice,
  ArrayPrototypePush,
  FunctionPrototypeCall,
  JSONParse,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  PromisePrototypeThen,
  PromiseReject,
  PromiseWithResolvers,
  SharedArrayBuffer: SharedArrayBufferCtor,
  SharedArrayBufferPrototypeSlice,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  TypedArrayPrototypeSlice,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const streams = internals.streams;
const streamsImpl = internals.streamsImpl;
const blobApi = internals.blob;
const EMPTY = new Uint8ArrayCtor(0);

// Built-in methods captured before user code runs.
const BlobPrototypeStream = blobApi.Blob.prototype.stream;
const TransformStreamReadable =
  ObjectGetOwnPropertyDescriptor(streams.TransformStream.prototype, "readable").get;
const TransformStreamWritable =
  ObjectGetOwnPropertyDescriptor(streams.TransformStream.prototype, "writable").get;

const noop = () => {};

// --- Bytes ------------------------------------------------------------------------------------

function isArrayBuffer(value) {
  try {
    ArrayBufferPrototypeGetByteLength(value);
    return true;
  } catch {
    return false;
  }
}

function isSharedArrayBuffer(value) {
  return value instanceof SharedArrayBufferCtor;
}

/** "Get a copy of the bytes held by the buffer source", as a fresh Uint8Array. */
function copyBufferSource(value) {
  if (ArrayBufferIsView(value)) {
    // bytesOfBufferSource views the same memory (empty when detached); slice copies it.
    return TypedArrayPrototypeSlice(internals.encoding.bytesOfBufferSource(value));
  }
  if (isSharedArrayBuffer(value)) {
    return new Uint8ArrayCtor(SharedArrayBufferPrototypeSlice(value, 0));
  }
  if (ArrayBufferPrototypeGetDetached(value)) return new Uint8ArrayCtor(0);
  return new Uint8ArrayCtor(ArrayBufferPrototypeSlice(value, 0));
}

function concatBytes(chunks) {
  if (chunks.length === 1) return TypedArrayPrototypeSlice(chunks[0]);
  let total = 0;
  for (let i = 0; i < chunks.length; i++) total += TypedArrayPrototypeGetLength(chunks[i]);
  const out = new Uint8ArrayCtor(total);
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    TypedArrayPrototypeSet(out, chunks[i], offset);
    offset += TypedArrayPrototypeGetLength(chunks[i]);
  }
  return out;
}

/** "UTF-8 decode": a leading BOM is dropped, invalid sequences become U+FFFD. */
function utf8Decode(bytes) {
  let view = bytes;
  if (TypedArrayPrototypeGetLength(view) >= 3 && view[0] === 0xef && view[1] === 0xbb &&
      view[2] === 0xbf) {
    view = new Uint8ArrayCtor(
      TypedArrayPrototypeGetBuffer(view), TypedArrayPrototypeGetByteOffset(view) + 3,
      TypedArrayPrototypeGetLength(view) - 3,
    );
  }
  return internals.encoding.utf8Decode(view);
}

/** An ArrayBuffer holding exactly `bytes` (a Uint8Array the caller owns). */
function toArrayBuffer(bytes) {
  const buffer = TypedArrayPrototypeGetBuffer(bytes);
  const offset = TypedArrayPrototypeGetByteOffset(bytes);
  const length = TypedArrayPrototypeGetByteLength(bytes);
  if (offset === 0 && length === ArrayBufferPrototypeGetByteLength(buffer)) return buffer;
  return ArrayBufferPrototypeSlice(buffer, offset, offset + length);
}

// --- Bodies -----------------------------------------------------------------------------------

class InnerBody {
  constructor(stream, source, length) {
    this.stream = stream;
    this.source = source;
    this.length = length;
    this.used = false;
    this.shared = false;
    this.exposed = false;
  }
}
// Runtime records never inherit from a prototype a script can patch (see 29_host.js).
primordials.ObjectSetPrototypeOf(InnerBody.prototype, null);

/**
 * Web IDL conversion of a BodyInit value (ReadableStream or Blob or BufferSource or FormData
 * or URLSearchParams or USVString): objects of those types as they are, anything else
 * converted to a string (a script's toString() runs here, during argument conversion).
 * Shared buffers are accepted as byte sources too.
 */
function convertBodyInit(value, prefix, context) {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    if (ArrayBufferIsView(value) || streams.isReadableStream(value) || blobApi.isBlob(value) ||
        isArrayBuffer(value) || isSharedArrayBuffer(value) ||
        internals.formData.isFormData(value) || internals.url.isURLSearchParams(value)) {
      return value;
    }
  }
  return internals.webidl.converters.USVString(value, prefix, context);
}

/**
 * "Extract a body" from a converted BodyInit: { body, type }. `keepalive` forbids streams.
 */
function extractBody(object, keepalive = false, prefix = "Failed to extract the body") {
  let source;
  let type = null;
  if (typeof object === "string") {
    source = internals.encoding.utf8Encode(object);
    type = "text/plain;charset=UTF-8";
  } else if (ArrayBufferIsView(object)) {
    source = copyBufferSource(object);
  } else if (streams.isReadableStream(object)) {
    if (keepalive) {
      throw new TypeErrorCtor(`${prefix}: A keepalive request cannot have a ReadableStream body.`);
    }
    if (streams.isDisturbed(object) || streams.isLocked(object)) {
      throw new TypeErrorCtor(`${prefix}: The ReadableStream is disturbed or locked.`);
    }
    const body = new InnerBody(object, null, streams.fixedLength(object));
    body.exposed = true;
    return { __proto__: null, body, type: null };
  } else if (blobApi.isBlob(object)) {
    const data = blobApi.getData(object);
    if (data.type !== "") type = data.type;
    return { __proto__: null, body: new InnerBody(null, object, data.size), type };
  } else if (isArrayBuffer(object) || isSharedArrayBuffer(object)) {
    source = copyBufferSource(object);
  } else if (internals.formData.isFormData(object)) {
    const { boundary, parts } = internals.formData.serializeMultipart(object);
    source = concatBytes(parts.length === 0 ? [EMPTY] : parts);
    type = `multipart/form-data; boundary=${boundary}`;
  } else if (internals.url.isURLSearchParams(object)) {
    source = internals.encoding.utf8Encode(internals.url.urlencodedSerialize(object));
    type = "application/x-www-form-urlencoded;charset=UTF-8";
  } else {
    source = internals.encoding.utf8Encode(internals.webidl.converters.USVString(object));
    type = "text/plain;charset=UTF-8";
  }
  return {
    __proto__: null, body: new InnerBody(null, source, TypedArrayPrototypeGetLength(source)), type,
  };
}

/** The body's stream, made from its source on first use (the bridge and fetch use this). */
function bodyStream(body) {
  if (body.stream !== null) return body.stream;
  const source = body.source;
  if (!body.used && source !== null && blobApi.isBlob(source)) {
    body.stream = FunctionPrototypeCall(BlobPrototypeStream, source);
    return body.stream;
  }
  let bytes = body.used || source === null ? EMPTY : source;
  // Enqueueing transfers the buffer: a source shared with a clone is copied first.
  if (body.shared && TypedArrayPrototypeGetLength(bytes) > 0) bytes = TypedArrayPrototypeSlice(bytes);
  // Null-prototype options: a script's Object.prototype accessors are never consulted.
  const stream = streams.createReadableByteStream({
    __proto__: null,
    pull() {
      if (TypedArrayPrototypeGetLength(bytes) > 0) streams.enqueue(stream, bytes);
      bytes = EMPTY;
      streams.close(stream);
    },
    cancel: undefined,
    highWaterMark: 0,
  });
  body.stream = stream;
  if (body.used) {
    // Consumed before its stream existed: the stream is left as "fully read" leaves one,
    // disturbed, closed and locked.
    const reader = streamsImpl.AcquireReadableStreamDefaultReader(streamsImpl.streamSlot.get(stream));
    streamsImpl.ReadableStreamDefaultReaderRead(reader, {
      __proto__: null, chunkSteps: noop, closeSteps: noop, errorSteps: noop,
    });
  }
  return stream;
}

/**
 * The bytes of a body that is still the bytes it was extracted from (no stream made, not
 * a Blob), for the bridge to send as they are: the body is marked used. Otherwise null.
 */
function takeSourceBytes(body) {
  if (body.stream !== null || blobApi.isBlob(body.source)) return null;
  body.used = true;
  return body.source;
}

/** Body "unusable": disturbed or locked. */
function isUnusable(body) {
  if (body === null) return false;
  if (body.used) return true;
  if (body.stream === null) return false;
  return streams.isDisturbed(body.stream) || streams.isLocked(body.stream);
}

function isDisturbed(body) {
  if (body === null) return false;
  if (body.used) return true;
  return body.stream !== null && streams.isDisturbed(body.stream);
}

/**
 * "Fully read" a body: `success(bytes)` with a Uint8Array the caller owns, or
 * `failure(error)`. Never resolves a promise with an object, so a script's
 * Object.prototype.then cannot intercept the bytes. A stream that passes `cap` bytes is
 * cancelled there: `success(null)` (bytes or a Blob are in memory already: taken whole).
 */
function fullyRead(body, success, failure, cap = Infinity) {
  if (body.stream === null) {
    const source = body.source;
    body.used = true;
    if (source === null) {
      success(new Uint8ArrayCtor(0));
    } else if (blobApi.isBlob(source)) {
      success(blobApi.getBytes(source));
    } else {
      success(body.shared ? TypedArrayPrototypeSlice(source) : source);
    }
    return;
  }
  readStreamFully(body.stream, success, failure, cap);
}

/** Read all the chunks of a stream (each must be a Uint8Array) with a default reader, or
 * up to `cap` bytes (see fullyRead). */
function readStreamFully(stream, success, failure, cap) {
  const reader = streamsImpl.AcquireReadableStreamDefaultReader(streamsImpl.streamSlot.get(stream));
  const chunks = primordials.NullArray();
  let size = 0;
  let inRead = false;
  let again = false;
  const readRequest = {
    __proto__: null,
    chunkSteps(chunk) {
      if (!ArrayBufferIsView(chunk) || TypedArrayPrototypeGetSymbolToStringTag(chunk) !== "Uint8Array") {
        failure(new TypeErrorCtor("The body stream produced a chunk that is not a Uint8Array."));
        return;
      }
      size += TypedArrayPrototypeGetLength(chunk);
      if (size > cap) {
        PromisePrototypeThen(streamsImpl.ReadableStreamReaderGenericCancel(reader, undefined),
          undefined, () => {});
        success(null);
        return;
      }
      if (TypedArrayPrototypeGetLength(chunk) > 0) ArrayPrototypePush(chunks, chunk);
      if (inRead) again = true;
      else loop();
    },
    closeSteps() {
      success(chunks.length === 0 ? new Uint8ArrayCtor(0) : concatBytes(chunks));
    },
    errorSteps(e) {
      failure(e);
    },
  };
  // A loop rather than recursion: queued chunks arrive synchronously.
  function loop() {
    do {
      again = false;
      inRead = true;
      streamsImpl.ReadableStreamDefaultReaderRead(reader, readRequest);
      inRead = false;
    } while (again);
  }
  loop();
}

/** "Clone a body": tee the stream, or share the immutable source. */
function cloneBody(body) {
  if (body.stream === null) {
    body.shared = true;
    const copy = new InnerBody(null, body.source, body.length);
    copy.shared = true;
    return copy;
  }
  const branches = streams.tee(body.stream);
  body.stream = branches[0];
  body.exposed = false;
  return new InnerBody(branches[1], body.source, body.length);
}

/**
 * A body for a new Request made from `body`'s Request ("creating a proxy"): the old body is
 * left disturbed and locked. A stream no script holds is simply moved (so an untouched native
 * stream stays native); one a script holds is piped through an identity TransformStream,
 * unless `keepStream` (fetch()'s own request, which locks and reads the stream at once): then
 * the stream is shared and the old body marked used.
 */
function takeBody(body, keepStream = false) {
  if (keepStream && body.stream !== null) {
    const moved = new InnerBody(body.stream, body.source, body.length);
    moved.exposed = body.exposed;
    body.used = true;
    return moved;
  }
  if (body.stream === null || !body.exposed) {
    const moved = new InnerBody(body.stream, body.source, body.length);
    moved.shared = body.shared;
    body.stream = null;
    body.source = null;
    body.used = true;
    return moved;
  }
  const proxy = streams.createTransformStream({
    __proto__: null,
    transform: undefined,
    flush: undefined,
    cancel: undefined,
    writableHighWaterMark: 1,
    readableHighWaterMark: 0,
    writableSize: undefined,
    readableSize: undefined,
  });
  const readable = FunctionPrototypeCall(TransformStreamReadable, proxy);
  const writable = FunctionPrototypeCall(TransformStreamWritable, proxy);
  const options = {
    __proto__: null, preventClose: false, preventAbort: false, preventCancel: false, signal: undefined,
  };
  PromisePrototypeThen(streams.pipeTo(body.stream, writable, options), undefined, noop);
  return new InnerBody(readable, body.source, body.length);
}

/** Leave `body` disturbed (its Request's body was replaced by a new Request's init body). */
function disturbBody(body) {
  if (body.stream === null || !body.exposed) {
    if (body.stream !== null) PromisePrototypeThen(streams.cancel(body.stream, undefined), undefined, noop);
    body.stream = null;
    body.source = null;
    body.used = true;
    return;
  }
  PromisePrototypeThen(streams.cancel(body.stream, undefined), undefined, noop);
}

/** "Get the MIME type" of a header list's Content-Type: a MIME type record or null. */
function mimeTypeOf(headers) {
  const value = internals.headers.get(headers, "content-type");
  if (value === null) return null;
  return internals.mimeType.extract(value);
}

/**
 * Install the Body mixin (body, bodyUsed, arrayBuffer, blob, bytes, formData, json, text)
 * on `klass`. `getBody(obj, prefix)` returns the InnerBody or null, throwing TypeError when
 * obj is not of the class; `getHeaders(obj)` returns its Headers.
 */
function installBodyMixin(klass, name, getBody, getHeaders) {
  const proto = klass.prototype;

  /** Body "consume body": the promise of convert(bytes). */
  function consume(self, method, convert) {
    const prefix = `Failed to execute '${method}' on '${name}'`;
    let body;
    try {
      body = getBody(self, prefix);
    } catch (e) {
      return PromiseReject(e);
    }
    if (body !== null && isUnusable(body)) {
      return PromiseReject(new TypeErrorCtor(
        isDisturbed(body) ? `${prefix}: body stream already read` : `${prefix}: body stream is locked`,
      ));
    }
    const { promise, resolve, reject } = PromiseWithResolvers();
    const success = (bytes) => {
      let value;
      try {
        value = convert(bytes, self, prefix);
      } catch (e) {
        reject(e);
        return;
      }
      resolve(value);
    };
    if (body === null) success(new Uint8ArrayCtor(0));
    else fullyRead(body, success, reject);
    return promise;
  }

  const methods = {
    get body() {
      const body = getBody(this, `Failed to read the 'body' property from '${name}'`);
      if (body === null) return null;
      const stream = bodyStream(body);
      body.exposed = true;
      return stream;
    },
    get bodyUsed() {
      return isDisturbed(getBody(this, `Failed to read the 'bodyUsed' property from '${name}'`));
    },
    arrayBuffer() {
      return consume(this, "arrayBuffer", toArrayBuffer);
    },
    blob() {
      return consume(this, "blob", (bytes, self) => {
        const mimeType = mimeTypeOf(getHeaders(self));
        const type = mimeType === null ? "" : internals.mimeType.serialize(mimeType);
        const length = TypedArrayPrototypeGetLength(bytes);
        return blobApi.createBlob(length === 0 ? [] : [bytes], length, type);
      });
    },
    bytes() {
      return consume(this, "bytes", (bytes) => bytes);
    },
    formData() {
      return consume(this, "formData", (bytes, self, prefix) => {
        const mimeType = mimeTypeOf(getHeaders(self));
        const essence = mimeType === null ? "" : internals.mimeType.essence(mimeType);
        if (essence === "multipart/form-data") {
          return internals.formData.parseMultipart(bytes, internals.mimeType.serialize(mimeType));
        }
        if (essence === "application/x-www-form-urlencoded") {
          const formData = new internals.formData.FormData();
          const entries = internals.formData.parseUrlencoded(bytes);
          for (let i = 0; i < entries.length; i++) {
            internals.formData.append(formData, entries[i][0], entries[i][1]);
          }
          return formData;
        }
        throw new TypeErrorCtor(
          `${prefix}: The body's Content-Type is neither multipart/form-data nor application/x-www-form-urlencoded.`,
        );
      });
    },
    json() {
      return consume(this, "json", (bytes) => JSONParse(utf8Decode(bytes)));
    },
    text() {
      return consume(this, "text", utf8Decode);
    },
  };
  const keys = ["body", "bodyUsed", "arrayBuffer", "blob", "bytes", "formData", "json", "text"];
  for (let i = 0; i < keys.length; i++) {
    const desc = ObjectGetOwnPropertyDescriptor(methods, keys[i]);
    desc.enumerable = true;
    desc.configurable = true;
    if ("value" in desc) desc.writable = true;
    ObjectDefineProperty(proto, keys[i], desc);
  }
}

internals.body = {
  InnerBody,
  convertBodyInit,
  extractBody,
  bodyStream,
  takeSourceBytes,
  fullyRead,
  isUnusable,
  isDisturbed,
  cloneBody,
  takeBody,
  disturbBody,
  installBodyMixin,
};
