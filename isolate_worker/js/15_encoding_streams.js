// TextEncoderStream and TextDecoderStream (Encoding Standard §7.4, §7.5), built on the
// "set up a TransformStream" hook and on the codecs of 05_encoding.js.

const {
  StringFromCharCode,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;
const impl = internals.streamsImpl;
const {
  createPrivateSlot,
  SetUpTransformStream,
  TransformStreamDefaultControllerEnqueue,
} = impl;

const encoding = internals.encoding;
const EMPTY = new Uint8ArrayCtor(0);

// ---------------------------------------------------------------------------------------------
// TextEncoderStream
// ---------------------------------------------------------------------------------------------

const encoderStreamSlot = createPrivateSlot("TextEncoderStream");

class TextEncoderStreamSlots {
  leadingSurrogate = null; // a code unit held back from the previous chunk
  transform = undefined;
}

function isLeadingSurrogate(c) {
  return c >= 0xd800 && c <= 0xdbff;
}

/** "Encode and enqueue a chunk": a surrogate pair split across chunks is joined. */
function encodeAndEnqueueChunk(encoder, chunk, controller) {
  let input = converters.DOMString(chunk);
  if (encoder.leadingSurrogate !== null) {
    input = StringFromCharCode(encoder.leadingSurrogate) + input;
    encoder.leadingSurrogate = null;
  }
  const last = input.length > 0 ? StringPrototypeCharCodeAt(input, input.length - 1) : 0;
  if (isLeadingSurrogate(last)) {
    encoder.leadingSurrogate = last;
    input = StringPrototypeSlice(input, 0, input.length - 1);
  }
  if (input.length === 0) return;
  TransformStreamDefaultControllerEnqueue(controller, encoding.utf8Encode(input));
}

/** "Encode and flush": a dangling leading surrogate becomes U+FFFD. */
function encodeAndFlush(encoder, controller) {
  if (encoder.leadingSurrogate !== null) {
    encoder.leadingSurrogate = null;
    TransformStreamDefaultControllerEnqueue(controller, new Uint8ArrayCtor([0xef, 0xbf, 0xbd]));
  }
}

const encoderOf = encoderStreamSlot.of;

class TextEncoderStream {
  constructor() {
    const encoder = new TextEncoderStreamSlots();
    encoderStreamSlot.attach(this, encoder);
    encoder.transform = SetUpTransformStream({
      transformAlgorithm: (chunk, controller) => encodeAndEnqueueChunk(encoder, chunk, controller),
      flushAlgorithm: (controller) => encodeAndFlush(encoder, controller),
    });
  }

  get encoding() {
    encoderOf(this, "encoding");
    return "utf-8";
  }

  get readable() {
    return encoderOf(this, "readable").transform.readable.object;
  }

  get writable() {
    return encoderOf(this, "writable").transform.writable.object;
  }
}
webidl.configureInterface(TextEncoderStream);

// ---------------------------------------------------------------------------------------------
// TextDecoderStream
// ---------------------------------------------------------------------------------------------

const decoderStreamSlot = createPrivateSlot("TextDecoderStream");

const convertTextDecoderOptions = impl.createDictionaryConverter("TextDecoderOptions", [
  { key: "fatal", converter: converters.boolean, defaultValue: false },
  { key: "ignoreBOM", converter: converters.boolean, defaultValue: false },
]);

class TextDecoderStreamSlots {
  encoding;
  fatal;
  ignoreBOM;
  bomSeen;
  decoder;
  transform;

  constructor(name, fatal, ignoreBOM) {
    this.encoding = name;
    this.fatal = fatal;
    this.ignoreBOM = ignoreBOM;
    this.bomSeen = false;
    this.decoder = encoding.createDecoder(name, fatal);
    this.transform = undefined;
  }
}

/** "Decode and enqueue a chunk". */
function decodeAndEnqueueChunk(decoder, chunk, controller) {
  const bytes = encoding.bytesOfBufferSource(chunk);
  if (bytes === null) {
    throw new TypeErrorCtor("TextDecoderStream: the chunk is not an ArrayBuffer or ArrayBufferView.");
  }
  const outputChunk = encoding.serializeIOQueue(decoder, decoder.decoder.decode(bytes, false));
  if (outputChunk.length > 0) TransformStreamDefaultControllerEnqueue(controller, outputChunk);
}

/** "Flush and enqueue". */
function flushAndEnqueue(decoder, controller) {
  const outputChunk = encoding.serializeIOQueue(decoder, decoder.decoder.decode(EMPTY, true));
  if (outputChunk.length > 0) TransformStreamDefaultControllerEnqueue(controller, outputChunk);
}

const decoderOf = decoderStreamSlot.of;

class TextDecoderStream {
  constructor(label = "utf-8", options = undefined) {
    const prefix = "Failed to construct 'TextDecoderStream'";
    label = converters.DOMString(label, prefix, "Argument 1");
    const opts = convertTextDecoderOptions(options, prefix, "Argument 2");
    const name = encoding.decoderEncoding(label, prefix);
    const decoder = new TextDecoderStreamSlots(name, opts.fatal, opts.ignoreBOM);
    decoderStreamSlot.attach(this, decoder);
    decoder.transform = SetUpTransformStream({
      transformAlgorithm: (chunk, controller) => decodeAndEnqueueChunk(decoder, chunk, controller),
      flushAlgorithm: (controller) => flushAndEnqueue(decoder, controller),
    });
  }

  get encoding() {
    return decoderOf(this, "encoding").encoding;
  }

  get fatal() {
    return decoderOf(this, "fatal").fatal;
  }

  get ignoreBOM() {
    return decoderOf(this, "ignoreBOM").ignoreBOM;
  }

  get readable() {
    return decoderOf(this, "readable").transform.readable.object;
  }

  get writable() {
    return decoderOf(this, "writable").transform.writable.object;
  }
}
webidl.configureInterface(TextDecoderStream);

internals.exposeGlobals({ TextEncoderStream, TextDecoderStream });

