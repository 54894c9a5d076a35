// IdentityTransformStream and FixedLengthStream (Cloudflare Workers). A TransformStream
// whose readable side is a byte stream (BYOB readers work) and whose writable side takes
// bytes only, passing each chunk through without a queue: a write resolves once a read has
// taken its chunk (or, with a `highWaterMark`, while fewer bytes than that wait). A
// FixedLengthStream also counts the bytes, and a body made of its readable side has its
// length: a Response sends Content-Length (not chunks), a fetch() too.

const {
  Number: NumberCtor,
  NumberIsSafeInteger,
  PromiseWithResolvers,
  SafeWeakMap,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeGetByteLength,
} = primordials;

const { webidl } = internals;
const hooks = internals.streams;
const impl = internals.streamsImpl;

const STRING_CHUNK = "This TransformStream is being used as a byte stream, but received a string " +
  "on its writable side. If you believe that this is a TransformStream of byte data, use " +
  "TransformStream instead.";
const OTHER_CHUNK = "This TransformStream is being used as a byte stream, but received an object " +
  "of non-ArrayBuffer/ArrayBufferView type on its writable side. If you believe that this is a " +
  "TransformStream of byte data, use TransformStream instead.";

const identities = new SafeWeakMap(); // an IdentityTransformStream -> its Identity
const fixedLengths = new SafeWeakMap(); // a FixedLengthStream's readable side -> its length

/** A copy of a written chunk's bytes (the writer may reuse its buffer once the write is done). */
function chunkBytes(chunk) {
  if (typeof chunk === "string") throw new TypeErrorCtor(STRING_CHUNK);
  const bytes = internals.encoding.copyOfBufferSource(chunk);
  if (bytes === null) throw new TypeErrorCtor(OTHER_CHUNK);
  return bytes;
}

const convertStrategy = impl.createDictionaryConverter("IdentityTransformStreamQueuingStrategy", [
  { key: "highWaterMark", converter: webidl.converters["unsigned long long"] },
]);

/** One stream's state: its two sides, the byte count, and the write waiting for a read. */
class Identity {
  readable;
  writable;
  expected = null; // a FixedLengthStream's length
  seen = 0;
  waiting = null; // { resolve, reject } of the write whose chunk waits in the readable's queue

  constructor(highWaterMark) {
    this.readable = hooks.createReadableByteStream({
      // One byte more: a read that takes the queue down to `highWaterMark` bytes then calls
      // pull (the byte controller pulls only while its desired size is above 0).
      highWaterMark: highWaterMark + 1,
      pull: () => this.release(null),
      cancel: (reason) => {
        hooks.errorWritable(this.writable, reason);
        this.release(reason ?? new TypeErrorCtor("The readable side was canceled."));
      },
    });
    this.writable = hooks.createWritableStream({
      write: (chunk) => this.write(chunk),
      close: () => this.close(),
      abort: (reason) => {
        hooks.error(this.readable, reason);
        this.release(reason);
      },
    });
  }

  write(chunk) {
    const bytes = chunkBytes(chunk);
    const n = TypedArrayPrototypeGetByteLength(bytes);
    if (this.expected !== null && this.seen + n > this.expected) {
      return this.fail(new TypeErrorCtor("Attempt to write too many bytes through a FixedLengthStream."));
    }
    this.seen += n;
    if (n === 0) return undefined;
    hooks.enqueue(this.readable, bytes);
    if (hooks.desiredSize(this.readable) > 0) return undefined; // taken, or room to wait
    const { promise, resolve, reject } = PromiseWithResolvers();
    this.waiting = { __proto__: null, resolve, reject };
    return promise;
  }

  close() {
    if (this.expected !== null && this.seen < this.expected) {
      return this.fail(new TypeErrorCtor(
        "FixedLengthStream did not see all expected bytes before close().",
      ));
    }
    hooks.close(this.readable);
    return undefined;
  }

  /** Error both sides: the reader sees the error, the writer's promise rejects with it. */
  fail(error) {
    hooks.error(this.readable, error);
    throw error;
  }

  /** Settle the write waiting for a read: fulfilled by a pull, rejected by a failure. */
  release(error) {
    const waiting = this.waiting;
    if (waiting === null) return;
    this.waiting = null;
    if (error === null) waiting.resolve();
    else waiting.reject(error);
  }
}

class IdentityTransformStream extends hooks.TransformStream {
  constructor(strategy = undefined) {
    super(); // its two sides are replaced with a byte stream and a bytes-only writable
    const prefix = `Failed to construct '${new.target === FixedLengthStream
      ? "FixedLengthStream" : "IdentityTransformStream"}'`;
    const { highWaterMark } = convertStrategy(strategy, prefix, "Argument 1");
    const identity = new Identity(highWaterMark ?? 0);
    const record = impl.transformStreamSlot.get(this);
    record.readable = impl.streamSlot.get(identity.readable);
    record.writable = impl.writableStreamSlot.get(identity.writable);
    identities.set(this, identity);
  }
}
webidl.configureInterface(IdentityTransformStream);

/** The expected length: a number or bigint, a whole number of bytes up to 2^53 - 1. */
function expectedLength(value) {
  const n = typeof value === "bigint" && value >= 0n && value <= 9007199254740991n
    ? NumberCtor(value)
    : value;
  if (typeof n !== "number" || !NumberIsSafeInteger(n) || n < 0) {
    throw new TypeErrorCtor("Failed to construct 'FixedLengthStream': the expected length must " +
      "be a whole number of bytes from 0 to 2^53 - 1.");
  }
  return n;
}

class FixedLengthStream extends IdentityTransformStream {
  constructor(length, strategy = undefined) {
    const expected = expectedLength(length);
    super(strategy);
    const identity = identities.get(this);
    identity.expected = expected;
    fixedLengths.set(identity.readable, expected);
  }
}
webidl.configureInterface(FixedLengthStream);

internals.exposeGlobals({ IdentityTransformStream, FixedLengthStream });

/** The byte length of a FixedLengthStream's readable side, else null (31_body.js). */
hooks.fixedLength = (readable) => fixedLengths.get(readable) ?? null;
