// node:process under nodejs_compat: env (the script's string bindings: vars and secrets),
// nextTick, version(s), platform, and the rest of the common surface as Workers has it.
"use strict";

const EventEmitter = require("node:events");
const host = require("isoflow:host");
const als = require("isoflow:als"); // a tick runs in the AsyncLocalStorage context it was queued in

const queue = queueMicrotask;
const setTimeoutGlobal = setTimeout;
const consoleLog = console.log;
const consoleError = console.error;
const TextDecoderCtor = TextDecoder;
const { apply: ReflectApply } = Reflect;
const StringPrototypeIndexOf = String.prototype.indexOf;
const StringPrototypeSlice = String.prototype.slice;
const now = performance.now.bind(performance);
const timeOrigin = performance.timeOrigin;

const process = new EventEmitter();
const env = {};
for (const [name, value] of Object.entries(host.env())) {
  if (typeof value === "string") env[name] = value;
}

function hrtime(previous) {
  const t = timeOrigin + now();
  let seconds = Math.floor(t / 1000);
  let nanos = Math.floor((t % 1000) * 1e6);
  if (Array.isArray(previous)) {
    seconds -= previous[0];
    nanos -= previous[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
  }
  return [seconds, nanos];
}
hrtime.bigint = () => BigInt(Math.floor((timeOrigin + now()) * 1e6));

Object.assign(process, {
  env,
  title: "workerd",
  argv: ["workerd"],
  argv0: "workerd",
  execArgv: [],
  pid: 1,
  ppid: 0,
  arch: "x64",
  platform: "linux",
  version: "v22.14.0",
  versions: { node: "22.14.0" },
  release: { name: "node" },
  features: {},
  config: {},
  exitCode: undefined,
  browser: false,
  nextTick(callback, ...args) {
    if (typeof callback !== "function") {
      const error = new TypeError('The "callback" argument must be of type function.');
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    queue(als.bind(() => callback(...args)));
  },
  hrtime,
  cwd: () => "/",
  chdir() {
    const error = new Error("process.chdir() is not supported by isoflow");
    error.code = "ERR_METHOD_NOT_IMPLEMENTED";
    throw error;
  },
  umask: () => 0o22,
  uptime: () => now() / 1000,
  memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0,
                                      arrayBuffers: 0 }), { rss: () => 0 }),
  cpuUsage: () => ({ user: 0, system: 0 }),
  /** As Node: a 'warning' event on process on the next tick, and the warning printed. */
  emitWarning(warning, type, code) {
    if (type !== null && typeof type === "object" && !Array.isArray(type)) {
      ({ type, code } = type);
    }
    if (typeof code === "function") code = undefined; // (warning, type, ctor)
    if (typeof warning === "string") {
      const error = new Error(warning);
      error.name = typeof type === "string" ? type : "Warning";
      if (code !== undefined) error.code = code;
      warning = error;
    } else if (!(warning instanceof Error)) {
      const error = new TypeError('The "warning" argument must be of type string or an ' +
                                  "instance of Error.");
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    const shown = warning;
    queue(als.bind(() => {
      process.emit("warning", shown);
      console.warn(`${shown.code ? `[${shown.code}] ` : ""}${shown.name}: ${shown.message}`);
    }));
  },
  exit(code) {
    const error = new Error(`process.exit(${code === undefined ? "" : code}) is not supported ` +
                            "in a worker: return a Response instead");
    error.code = "ERR_METHOD_NOT_IMPLEMENTED";
    throw error;
  },
  abort() {
    process.exit();
  },
  getuid: () => 0,
  getgid: () => 0,
  geteuid: () => 0,
  getegid: () => 0,
  binding(name) {
    throw new Error(`No such module: ${name}`);
  },
});

// -- process.stdout and process.stderr ---------------------------------------------------------
// Writable-like streams (node:stream's Writable recognizes them: instanceof, pipe, pipeline)
// whose text goes to console.log / console.error a line at a time: each complete line is one
// console call, without its "\n"; the rest of a line waits for its end, for end(), or for
// the end of the task that wrote it (a zero-delay timer), whichever comes first. Bytes are
// decoded as UTF-8 (a character cut between two writes is kept whole). They are the
// isolate's, shared by every request: end() flushes and emits 'finish' but they stay open,
// and destroy() only emits 'close'.

const kStdio = Symbol.for("isoflow.node.stdio");
const LINE_MAX = 64 * 1024; // characters a partial line may gather before it is written
const encodings = new Set(["utf8", "utf-8", "ascii", "latin1", "binary", "ucs2", "ucs-2",
                           "utf16le", "utf-16le", "base64", "base64url", "hex", "buffer"]);

function stdioError(code, message, Base = Error) {
  const error = new Base(message);
  error.code = code;
  return error;
}

const atobGlobal = atob;

/** The bytes a string stands for in a Buffer encoding other than UTF-8. */
function bytesOf(string, encoding) {
  if (encoding === "ucs2" || encoding === "ucs-2" || encoding === "utf16le" ||
      encoding === "utf-16le") {
    const bytes = new Uint8Array(string.length * 2);
    for (let i = 0; i < string.length; i++) {
      const unit = string.charCodeAt(i);
      bytes[2 * i] = unit & 0xff;
      bytes[2 * i + 1] = unit >> 8;
    }
    return bytes;
  }
  if (encoding === "hex") {
    const bytes = [];
    for (let i = 0; i + 1 < string.length; i += 2) {
      const byte = parseInt(string.slice(i, i + 2), 16);
      if (Number.isNaN(byte)) break;
      bytes.push(byte);
    }
    return new Uint8Array(bytes);
  }
  if (encoding === "base64" || encoding === "base64url") {
    let text = string.replace(/[^A-Za-z0-9+/_-]/g, "").replace(/-/g, "+").replace(/_/g, "/");
    text = text.slice(0, text.length - (text.length % 4 === 1 ? 1 : 0));
    while (text.length % 4 !== 0) text += "=";
    const binary = atobGlobal(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  // latin1, binary, ascii: one byte a character
  const bytes = new Uint8Array(string.length);
  for (let i = 0; i < string.length; i++) bytes[i] = string.charCodeAt(i) & 0xff;
  return bytes;
}

function createStdio(fd, print) {
  const stream = new EventEmitter();
  const decoder = new TextDecoderCtor("utf-8");
  let pending = "";
  let flushScheduled = false;
  let ended = false;
  let finished = false;
  let defaultEncoding = "utf8";

  function flushPartial() {
    flushScheduled = false;
    if (pending !== "") {
      const line = pending;
      pending = "";
      ReflectApply(print, console, [line]);
    }
  }

  /** Only the new text is searched for line ends (a search of all that waits made many
   * small writes quadratic); a line that grows past LINE_MAX is written as it stands. */
  function emitText(text) {
    let start = 0;
    let nl = ReflectApply(StringPrototypeIndexOf, text, ["\n"]);
    while (nl !== -1) {
      const line = pending + ReflectApply(StringPrototypeSlice, text, [start, nl]);
      pending = "";
      ReflectApply(print, console, [line]);
      start = nl + 1;
      nl = ReflectApply(StringPrototypeIndexOf, text, ["\n", start]);
    }
    pending += start === 0 ? text : ReflectApply(StringPrototypeSlice, text, [start]);
    if (pending.length >= LINE_MAX) flushPartial();
    if (pending !== "" && !flushScheduled) {
      flushScheduled = true;
      setTimeoutGlobal(flushPartial, 0);
    }
  }

  function textOf(chunk, encoding) {
    if (typeof chunk === "string") {
      if (encoding === undefined || encoding === null || encoding === "utf8" ||
          encoding === "utf-8" || encoding === "buffer") {
        return chunk;
      }
      return decoder.decode(bytesOf(chunk, `${encoding}`.toLowerCase()), { stream: true });
    }
    if (ArrayBuffer.isView(chunk)) {
      return decoder.decode(chunk, { stream: true });
    }
    const type = chunk === null ? "null" : typeof chunk;
    throw stdioError("ERR_INVALID_ARG_TYPE", 'The "chunk" argument must be of type string or an ' +
                     `instance of Buffer, TypedArray, or DataView. Received ${type}`, TypeError);
  }

  /** write(chunk[, encoding][, callback]): always true (a console call never backs up). */
  function write(chunk, encoding, callback) {
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    if (chunk === null) {
      throw stdioError("ERR_STREAM_NULL_VALUES", "May not write null values to stream", TypeError);
    }
    if (encoding !== undefined && encoding !== null &&
        !encodings.has(`${encoding}`.toLowerCase())) {
      throw stdioError("ERR_UNKNOWN_ENCODING", `Unknown encoding: ${encoding}`, TypeError);
    }
    emitText(textOf(chunk, encoding ?? defaultEncoding));
    ended = false;
    finished = false;
    if (typeof callback === "function") process.nextTick(callback, null);
    return true;
  }

  Object.assign(stream, {
    fd,
    isTTY: false,
    columns: 80,
    rows: 24,
    _isStdio: true,
    _type: "pipe",
    readable: false,
    writable: true,
    writableObjectMode: false,
    writableHighWaterMark: 16384,
    writableLength: 0,
    writableCorked: 0,
    writableNeedDrain: false,
    destroyed: false,
    errored: null,
    write,
    end(chunk, encoding, callback) {
      if (typeof chunk === "function") {
        callback = chunk;
        chunk = undefined;
      } else if (typeof encoding === "function") {
        callback = encoding;
        encoding = undefined;
      }
      if (chunk !== undefined && chunk !== null) write(chunk, encoding);
      const rest = decoder.decode();
      if (rest !== "") emitText(rest);
      flushPartial();
      ended = true;
      queue(() => {
        finished = true;
        stream.emit("finish");
        if (typeof callback === "function") callback(null);
      });
      return stream;
    },
    cork() {},
    uncork() {},
    setDefaultEncoding(encoding) {
      if (!encodings.has(`${encoding}`.toLowerCase()) || `${encoding}`.toLowerCase() === "buffer") {
        throw stdioError("ERR_UNKNOWN_ENCODING", `Unknown encoding: ${encoding}`, TypeError);
      }
      defaultEncoding = `${encoding}`.toLowerCase();
      return stream;
    },
    destroy(error) {
      flushPartial();
      queue(() => stream.emit("close"));
      return stream;
    },
    destroySoon() {
      return stream.destroy();
    },
    getColorDepth: () => 1,
    hasColors: () => false,
    getWindowSize: () => [80, 24],
    cursorTo(x, y, callback) {
      if (typeof y === "function") callback = y;
      if (typeof callback === "function") process.nextTick(callback);
      return true;
    },
    moveCursor(dx, dy, callback) {
      if (typeof callback === "function") process.nextTick(callback);
      return true;
    },
    clearLine(dir, callback) {
      if (typeof dir === "function") callback = dir;
      if (typeof callback === "function") process.nextTick(callback);
      return true;
    },
    clearScreenDown(callback) {
      if (typeof callback === "function") process.nextTick(callback);
      return true;
    },
  });
  Object.defineProperties(stream, {
    [kStdio]: { value: true },
    writableEnded: { enumerable: true, get: () => ended },
    writableFinished: { enumerable: true, get: () => finished },
    closed: { enumerable: true, get: () => false },
  });
  return stream;
}

process.stdout = createStdio(1, consoleLog);
process.stderr = createStdio(2, consoleError);

module.exports = process;
