// Bodies (Fetch standard: "body", "extract a body", the Body mixin).
//
// A body is { stream, source, length, used }. The stream is made lazily: a body extracted
// from a string or bytes keeps those bytes as its `source` and only becomes a ReadableStream
// when a script asks for `.body`. So `new Response("hi")` sent to a client, or
// `await response.text()`, never builds a stream; and the bridge can send `source` as is.
// Exports internals.body.

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeSlice,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  JSONParse,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  PromiseReject,
  PromiseResolve,
  PromisePrototypeThen,
  SharedArrayBuffer: SharedArrayBufferCtor,
  ArrayBuffer: ArrayBufferCtor,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const EMPTY = new Uint8ArrayCtor(0);

/** A copy of the bytes of a BufferSource, as a fresh Uint8Array. */
function copyBufferSource(value) {
  if (ArrayBufferIsView(value)) {
    let buffer, offset, length;
    if (TypedArrayPrototypeGetSymbolToStringTag(value) !== undefined) {
      buffer = TypedArrayPrototypeGetBuffer(value);
      offset = TypedArrayPrototypeGetByteOffset(value);
      length = TypedArrayPrototypeGetByteLength(value);
    } else {
      buffer = DataViewPrototypeGetBuffer(value);
      offset = DataViewPrototypeGetByteOffset(value);
      length = DataViewPrototypeGetByteLength(value);
    }
    const out = new Uint8ArrayCtor(length);
    TypedArrayPrototypeSet(out, new Uint8ArrayCtor(buffer, offset, length));
    return out;
  }
  if (value instanceof SharedArrayBufferCtor) {
    return new Uint8ArrayCtor(value.slice(0));
  }
  return new Uint8ArrayCtor(ArrayBufferPrototypeSlice(value, 0));
}

function isBufferSource(value) {
  if (ArrayBufferIsView(value)) return true;
  if (value instanceof SharedArrayBufferCtor) return true;
  try {
    ArrayBufferPrototypeGetByteLength(value);
    return true;
  } catch {
    return false;
  }
}

function utf8Encode(s) {
  return internals.encoding.utf8Encode(s);
}

/** UTF-8 decode as the Encoding standard's "UTF-8 decode": a leading BOM is dropped. */
function utf8Decode(bytes) {
  let view = bytes;
  if (view.length >= 3 && view[0] === 0xef && view[1] === 0xbb && view[2] === 0xbf) {
    view = view.subarray(3);
  }
  return internals.encoding.utf8Decode(view);
}

class InnerBody {
  constructor(stream, source, length) {
    this.stream = stream; // ReadableStream or null until asked for
    this.source = source; // Uint8Array | Blob | null (null: the stream is the only source)
    this.length = length; // number of bytes if known, else null
    this.used = false; // consumed without a stream ever being made
    this.shared = false; // source shared with a clone: hand out copies
  }
}

/** "Extract a body" -> { body, type }. `keepalive` is not supported and ignored. */
function extractBody(object) {
  const streams = internals.streams;
  let source = null;
  let stream = null;
  let type = null;
  let length = null;
  if (typeof object === "string") {
    source = utf8Encode(object);
    type = "text/plain;charset=UTF-8";
  } else if (streams.isReadableStream(object)) {
    if (streams.isDisturbed(object) || streams.isLocked(object)) {
      throw new TypeErrorCtor("ReadableStream is locked or disturbed");
    }
    stream = object;
  } else if (internals.blob !== undefined && internals.blob.isBlob(object)) {
    source = object;
    length = object.size;
    if (object.type !== "") type = object.type;
    return { body: new InnerBody(null, source, length), type };
  } else if (isBufferSource(object)) {
    source = copyBufferSource(object);
  } else if (internals.formData !== undefined && internals.formData.isFormData(object)) {
    const { boundary, parts } = internals.formData.serializeMultipart(object);
    source = concatBytes(parts);
    type = `multipart/form-data; boundary=${boundary}`;
  } else if (internals.url !== undefined && internals.url.isURLSearchParams !== undefined &&
             internals.url.isURLSearchParams(object)) {
    source = utf8Encode(`${object}`);
    type = "application/x-www-form-urlencoded;charset=UTF-8";
  } else {
    // Anything else is converted to a string, as the IDL union's USVString branch does.
    source = utf8Encode(internals.webidl.converters.USVString(object));
    type = "text/plain;charset=UTF-8";
  }
  if (source !== null) length = source.length;
  return { body: new InnerBody(stream, source, length), type };
}

function concatBytes(chunks) {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8ArrayCtor(total);
  let offset = 0;
  for (const c of chunks) {
    TypedArrayPrototypeSet(out, c, offset);
    offset += c.length;
  }
  return out;
}

/** The body's stream, made from its source on first use. */
function bodyStream(body) {
  if (body.stream !== null) return body.stream;
  const source = body.source;
  if (internals.blob !== undefined && internals.blob.isBlob(source)) {
    body.stream = source.stream();
  } else {
    let bytes = body.used ? EMPTY : source;
    if (body.shared) bytes = new Uint8ArrayCtor(bytes);
    body.stream = internals.streams.createReadableByteStream({
      pull(controller) {
        if (bytes.length > 0) internals.streams.enqueue(body.stream, bytes);
        bytes = EMPTY;
        internals.streams.close(body.stream);
      },
    });
    if (body.used) readAndDiscard(body.stream);
  }
  return body.stream;
}

function readAndDiscard(stream) {
  // A body consumed before its stream existed: the stream must look disturbed and closed.
  const reader = internals.streams.getReader(stream);
  PromisePrototypeThen(internals.streams.readerRead(reader), () => {}, () => {});
}

/** A body is unusable when it was read or its stream is locked. */
function isUnusable(body) {
  if (body === null) return false;
  if (body.used) return true;
  if (body.stream === null) return false;
  return internals.streams.isDisturbed(body.stream) || internals.streams.isLocked(body.stream);
}

function isDisturbed(body) {
  if (body === null) return false;
  if (body.used) return true;
  return body.stream !== null && internals.streams.isDisturbed(body.stream);
}

/** All the bytes of a body (consuming it), as a Uint8Array the caller may keep. */
function readAll(body) {
  if (body === null) return PromiseResolve(new Uint8ArrayCtor(0));
  if (body.stream === null) {
    const source = body.source;
    body.used = true;
    if (internals.blob !== undefined && internals.blob.isBlob(source)) {
      return PromisePrototypeThen(source.arrayBuffer(), (ab) => new Uint8ArrayCtor(ab));
    }
    return PromiseResolve(body.shared ? new Uint8ArrayCtor(source) : source);
  }
  return internals.streams.readAllBytes(body.stream);
}

/** "Clone a body": tee the stream, or share the immutable source. */
function cloneBody(body) {
  if (body.stream === null) {
    body.shared = true;
    const copy = new InnerBody(null, body.source, body.length);
    copy.shared = true;
    return copy;
  }
  const [a, b] = internals.streams.tee(body.stream);
  body.stream = a;
  return new InnerBody(b, null, body.length);
}

function mimeEssence(contentType) {
  if (contentType === null) return "";
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * Install the Body mixin (body, bodyUsed, arrayBuffer, blob, bytes, formData, json, text)
 * on `klass`. `getBody(obj)` returns the InnerBody or null and throws TypeError when obj is
 * not of the class; `getHeaders(obj)` the Headers.
 */
function installBodyMixin(klass, name, getBody, getHeaders) {
  const proto = klass.prototype;

  function consume(self, method, convert) {
    let body;
    try {
      body = getBody(self, `Failed to execute '${method}' on '${name}'`);
    } catch (e) {
      return PromiseReject(e);
    }
    if (isUnusable(body)) {
      return PromiseReject(new TypeErrorCtor(
        `Failed to execute '${method}' on '${name}': body stream already read`,
      ));
    }
    return PromisePrototypeThen(readAll(body), (bytes) => convert(bytes, self));
  }

  const methods = {
    get body() {
      const body = getBody(this, `Failed to read the 'body' property from '${name}'`);
      return body === null ? null : bodyStream(body);
    },
    get bodyUsed() {
      return isDisturbed(getBody(this, `Failed to read the 'bodyUsed' property from '${name}'`));
    },
    arrayBuffer() {
      return consume(this, "arrayBuffer", (bytes) =>
        bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
          ? bytes.buffer
          : ArrayBufferPrototypeSlice(bytes.buffer, bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    },
    bytes() {
      return consume(this, "bytes", (bytes) => bytes);
    },
    text() {
      return consume(this, "text", (bytes) => utf8Decode(bytes));
    },
    json() {
      return consume(this, "json", (bytes) => JSONParse(utf8Decode(bytes)));
    },
    blob() {
      return consume(this, "blob", (bytes, self) => {
        const type = getHeaders(self).get("content-type");
        return new globalThis.Blob([bytes], { type: type === null ? "" : type });
      });
    },
    formData() {
      return consume(this, "formData", (bytes, self) => {
        const type = getHeaders(self).get("content-type");
        const essence = mimeEssence(type);
        if (essence === "multipart/form-data") {
          return internals.formData.parseMultipart(bytes, type);
        }
        if (essence === "application/x-www-form-urlencoded") {
          const fd = new globalThis.FormData();
          for (const [k, v] of internals.formData.parseUrlencoded(bytes)) fd.append(k, v);
          return fd;
        }
        throw new TypeErrorCtor(
          `Failed to execute 'formData' on '${name}': invalid MIME type "${type}"`,
        );
      });
    },
  };
  for (const key of ["body", "bodyUsed", "arrayBuffer", "blob", "bytes", "formData", "json", "text"]) {
    const desc = ObjectGetOwnPropertyDescriptor(methods, key);
    desc.enumerable = true;
    desc.configurable = true;
    if ("value" in desc) desc.writable = true;
    ObjectDefineProperty(proto, key, desc);
  }
}

internals.body = {
  InnerBody,
  extractBody,
  bodyStream,
  isUnusable,
  isDisturbed,
  readAll,
  cloneBody,
  installBodyMixin,
  copyBufferSource,
  concatBytes,
  utf8Decode,
  mimeEssence,
};
