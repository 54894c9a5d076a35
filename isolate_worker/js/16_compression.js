// CompressionStream and DecompressionStream (Compression Streams standard,
// https://compression.spec.whatwg.org/) for "gzip", "deflate" and "deflate-raw".
// The (de)compression itself is native (zlib, isolate_worker/ops.py): each chunk is one op.

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeGetDetached,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  PromisePrototypeThen,
  SharedArrayBuffer: SharedArrayBufferCtor,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;
const { webidl } = internals;
// The host channel (29_host.js) loads later; it is looked up when a chunk is processed.
const op = (name, args, bytes) => internals.host.op(name, args, bytes);

const FORMATS = ["deflate", "deflate-raw", "gzip"];

function formatArgument(format, prefix) {
  const value = webidl.converters.DOMString(format, prefix, "Argument 1");
  if (!FORMATS.includes(value)) {
    throw new TypeErrorCtor(
      `${prefix}: Unsupported compression format: '${value}'. Expected one of ${FORMATS.join(", ")}.`,
    );
  }
  return value;
}

/**
 * The bytes of a BufferSource chunk (no copy); TypeError for anything else. A chunk whose
 * buffer is detached is still a BufferSource: Web IDL's "get a copy of the bytes held by the
 * buffer source" gives the empty byte sequence for it, so it adds no input.
 */
function chunkBytes(chunk) {
  if (ArrayBufferIsView(chunk)) {
    if (TypedArrayPrototypeGetSymbolToStringTag(chunk) !== undefined) {
      const buffer = TypedArrayPrototypeGetBuffer(chunk);
      if (buffer instanceof SharedArrayBufferCtor) {
        throw new TypeErrorCtor("Chunks must not be backed by a SharedArrayBuffer.");
      }
      if (ArrayBufferPrototypeGetDetached(buffer)) return new Uint8ArrayCtor(0);
      return new Uint8ArrayCtor(buffer,
        TypedArrayPrototypeGetByteOffset(chunk), TypedArrayPrototypeGetByteLength(chunk));
    }
    const buffer = DataViewPrototypeGetBuffer(chunk);
    if (buffer instanceof SharedArrayBufferCtor) {
      throw new TypeErrorCtor("Chunks must not be backed by a SharedArrayBuffer.");
    }
    if (ArrayBufferPrototypeGetDetached(buffer)) return new Uint8ArrayCtor(0);
    return new Uint8ArrayCtor(buffer,
      DataViewPrototypeGetByteOffset(chunk), DataViewPrototypeGetByteLength(chunk));
  }
  try {
    ArrayBufferPrototypeGetByteLength(chunk);
  } catch {
    throw new TypeErrorCtor("The chunk is not a BufferSource (ArrayBuffer or ArrayBufferView).");
  }
  if (ArrayBufferPrototypeGetDetached(chunk)) return new Uint8ArrayCtor(0);
  return new Uint8ArrayCtor(chunk);
}

/** A TransformStream whose every chunk goes through the native codec `handle`. */
function codecTransform(format, compress) {
  let handle = null;
  const open = () => {
    if (handle === null) handle = op("compression.new", [format, compress]);
    return handle;
  };
  const enqueue = (controller, bytes) => {
    if (bytes !== null && bytes.length > 0) controller.enqueue(bytes);
  };
  return internals.streams.createTransformStream({
    transform(chunk, controller) {
      const bytes = chunkBytes(chunk);
      return PromisePrototypeThen(open(), ({ value: id }) =>
        PromisePrototypeThen(op("compression.push", [id], new Uint8ArrayCtor(bytes)),
          ({ bytes: out }) => enqueue(controller, out)));
    },
    flush(controller) {
      return PromisePrototypeThen(open(), ({ value: id }) =>
        PromisePrototypeThen(op("compression.end", [id]),
          ({ bytes: out }) => enqueue(controller, out)));
    },
    cancel() {
      if (handle !== null) {
        PromisePrototypeThen(handle, ({ value: id }) => op("compression.release", [id]),
          () => {});
      }
    },
  });
}

let compressionSlots;

class CompressionStream {
  #transform;

  static {
    compressionSlots = (x) => {
      if (x === null || typeof x !== "object" || !(#transform in x)) {
        throw new TypeErrorCtor("Illegal invocation");
      }
      return x.#transform;
    };
  }

  constructor(format) {
    const prefix = "Failed to construct 'CompressionStream'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    this.#transform = codecTransform(formatArgument(format, prefix), true);
  }

  get readable() {
    return compressionSlots(this).readable;
  }

  get writable() {
    return compressionSlots(this).writable;
  }
}

let decompressionSlots;

class DecompressionStream {
  #transform;

  static {
    decompressionSlots = (x) => {
      if (x === null || typeof x !== "object" || !(#transform in x)) {
        throw new TypeErrorCtor("Illegal invocation");
      }
      return x.#transform;
    };
  }

  constructor(format) {
    const prefix = "Failed to construct 'DecompressionStream'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    this.#transform = codecTransform(formatArgument(format, prefix), false);
  }

  get readable() {
    return decompressionSlots(this).readable;
  }

  get writable() {
    return decompressionSlots(this).writable;
  }
}

webidl.configureInterface(CompressionStream);
webidl.configureInterface(DecompressionStream);
internals.exposeGlobals({ CompressionStream, DecompressionStream });
