// CompressionStream and DecompressionStream (Compression standard,
// https://compression.spec.whatwg.org/) for "brotli", "deflate", "deflate-raw" and "gzip".
// The (de)compression itself is native (zlib and brotli, isolate_worker/ops.py): a chunk goes
// to it in pieces of at most INPUT_PIECE bytes, and its output comes back in bounded pieces
// (status "more": ask for the next one).

const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayBufferPrototypeGetDetached,
  MathMin,
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
// The largest input one op message carries (like crypto_ops.CHUNK): a message must fit the
// bridge's buffers, and a piece's output stays small.
const INPUT_PIECE = 1 << 20;

// The CompressionFormat enum (§4): the formats of §3 "Supported formats".
const FORMATS = ["brotli", "deflate", "deflate-raw", "gzip"];

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
  // Runs op `name` and enqueues its output, a piece at a time while its status is "more"
  // (the next piece is asked for without input). "trailing": the input went on after the end
  // of the compressed data, so the output is enqueued and THEN a TypeError is thrown
  // ("decompress and enqueue a chunk", steps 5 and 6).
  const run = (controller, name, id, bytes) =>
    PromisePrototypeThen(op(name, [id], bytes), ({ value: status, bytes: out }) => {
      if (out !== null && out.length > 0) controller.enqueue(out);
      if (status === "more") return run(controller, name, id, null);
      if (status === "trailing") {
        throw new TypeErrorCtor("Junk found after the end of the compressed data.");
      }
      return undefined;
    });
  // Gives bytes [start, ...) of `copy` (the chunk's bytes, copied when it was written) to the
  // codec, a piece at a time.
  const push = (controller, id, copy, start) => {
    const end = MathMin(start + INPUT_PIECE, copy.length);
    const piece = new Uint8ArrayCtor(TypedArrayPrototypeGetBuffer(copy), start, end - start);
    return PromisePrototypeThen(run(controller, "compression.push", id, piece),
      () => (end < copy.length ? push(controller, id, copy, end) : undefined));
  };
  return internals.streams.createTransformStream({
    transform(chunk, controller) {
      const copy = new Uint8ArrayCtor(chunkBytes(chunk));
      return PromisePrototypeThen(open(), ({ value: id }) => push(controller, id, copy, 0));
    },
    flush(controller) {
      return PromisePrototypeThen(open(), ({ value: id }) =>
        run(controller, "compression.end", id, null));
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

internals.compression = {
  __proto__: null,
  /** `stream`'s bytes compressed to `format` (a response's Content-Encoding: 90_serve.js). */
  compress(stream, format) {
    const record = internals.streamsImpl.transformStreamSlot.get(codecTransform(format, true));
    PromisePrototypeThen(internals.streams.pipeTo(stream, record.writable.object), undefined,
      () => {}); // a failure errors the readable side, which the response's sender sees
    return record.readable.object;
  },
};
