// TCP sockets: connect() of cloudflare:sockets (the Workers API,
// https://developers.cloudflare.com/workers/runtime-apis/tcp-sockets/), run by the worker's
// Python side with asyncio (isolate_worker/sockets.py). The module itself
// (js/node/cloudflare_sockets.js) reaches connect() through internals.nodeHost.
//
// Actions (JS -> Python)                            Events (Python -> JS)
//   [AC_SOCKET_CONNECT, id, hostname, port,           [EV_SOCKET_OPEN, id, remote, local]
//    secureTransport, allowHalfOpen]                  [EV_SOCKET_DATA, id, offset, length]
//   [AC_SOCKET_DATA, id, offset, length]  written     [EV_SOCKET_END, id]  the peer's FIN
//   [AC_SOCKET_END, id]  the writable side closed     [EV_SOCKET_CREDIT, id, size]  drained
//   [AC_SOCKET_CREDIT, id, size]  read credit         [EV_SOCKET_CLOSED, id]
//   [AC_SOCKET_CLOSE, id]  close()                    [EV_SOCKET_ERROR, id, message]
//   [AC_SOCKET_TLS, id, newId]  startTls()
//
// Flow control both ways, as for fetch bodies: the readable side is an Inflow (Python reads
// the socket only while it is pulled), the writable side sends under an Outflow's credit,
// which Python grants back once the bytes are written and drained. A connect() is a
// subrequest of the request running (charged as fetch() is) and keeps its job going until
// it closes, or until the job's time after its response is over (abortFor).
//
// Python decides when the connection is closed (sockets.py): `closed` resolves on its
// EV_SOCKET_CLOSED, and rejects, like `opened` if still pending, on EV_SOCKET_ERROR, which
// errors both streams too.

const {
  MathMin,
  NumberIsInteger,
  ObjectFreeze,
  PromisePrototypeThen,
  PromiseWithResolvers,
  RegExpPrototypeTest,
  SafeMap,
  SafeMapValues,
  SafeRegExp,
  StringPrototypeLastIndexOf,
  StringPrototypeSlice,
  StringPrototypeIncludes,
  Symbol: SymbolCtor,
  TypedArrayPrototypeSubarray,
  Error: ErrorCtor,
  TypeError: TypeErrorCtor,
} = primordials;
const { host } = internals;

const { AC_SOCKET_CONNECT, AC_SOCKET_DATA, AC_SOCKET_END, AC_SOCKET_CREDIT, AC_SOCKET_CLOSE,
  AC_SOCKET_TLS } = internals.kinds;
const { EV_SOCKET_OPEN, EV_SOCKET_DATA, EV_SOCKET_END, EV_SOCKET_CREDIT, EV_SOCKET_CLOSED,
  EV_SOCKET_ERROR } = internals.kinds;

const WINDOW = 256 << 10; // bytes written ahead of Python's drain (its grants add more)
const MAX_HOSTNAME = 253;
const PORT = new SafeRegExp(/^[0-9]{1,5}$/);
// A name or an IP address (no brackets, no control character: the lookup ends at a NUL).
const HOSTNAME = new SafeRegExp(/^[^\s\x00-\x1f\x7f/\\?#@[\]]+$/);
const TRANSPORTS = new primordials.SafeSet(["off", "on", "starttls"]);
const kCreate = SymbolCtor("Socket");
const sockets = new SafeMap(); // id -> state, while Python holds the connection
let nextId = 1;

const noop = () => {};

// -- arguments ------------------------------------------------------------------------------

function invalid(what) {
  return new TypeErrorCtor(`connect(): ${what}`);
}

/** connect()'s address: "host:port", "[ipv6]:port" or { hostname, port }. */
function parseAddress(address) {
  let hostname, port;
  if (typeof address === "string") {
    const colon = StringPrototypeLastIndexOf(address, ":");
    if (colon <= 0) throw invalid(`the address "${address}" is not "host:port"`);
    hostname = StringPrototypeSlice(address, 0, colon);
    const text = StringPrototypeSlice(address, colon + 1);
    if (hostname[0] === "[" && hostname[hostname.length - 1] === "]") {
      hostname = StringPrototypeSlice(hostname, 1, -1);
    } else if (StringPrototypeIncludes(hostname, ":")) {
      throw invalid(`the address "${address}" needs brackets around an IPv6 address`);
    }
    port = RegExpPrototypeTest(PORT, text) ? +text : NaN;
  } else if (typeof address === "object" && address !== null) {
    hostname = address.hostname;
    port = address.port;
    if (typeof hostname !== "string") throw invalid("the address's hostname must be a string");
    if (typeof port === "string" && RegExpPrototypeTest(PORT, port)) port = +port;
  } else {
    throw invalid("the address must be a string \"host:port\" or { hostname, port }");
  }
  if (hostname === "" || hostname.length > MAX_HOSTNAME || !RegExpPrototypeTest(HOSTNAME, hostname)) {
    throw invalid(`invalid hostname "${hostname}"`);
  }
  if (typeof port !== "number" || !NumberIsInteger(port) || port < 1 || port > 65535) {
    throw invalid("the port must be an integer from 1 to 65535");
  }
  return { __proto__: null, hostname, port };
}

/** connect()'s options: { secureTransport, allowHalfOpen }. */
function parseOptions(options) {
  if (options === undefined || options === null) {
    return { __proto__: null, secureTransport: "off", allowHalfOpen: false };
  }
  if (typeof options !== "object") throw invalid("the options must be an object");
  const secureTransport = options.secureTransport ?? "off";
  if (typeof secureTransport !== "string" || !TRANSPORTS.has(secureTransport)) {
    throw invalid(`secureTransport must be "off", "on" or "starttls", not ` +
      `"${String(secureTransport)}"`);
  }
  return { __proto__: null, secureTransport, allowHalfOpen: !!options.allowHalfOpen };
}

// -- the state of one socket ------------------------------------------------------------------

/** What a Socket holds; null-prototype, never reachable by the script. */
function newState(address, options, owner) {
  const id = nextId++;
  const s = {
    __proto__: null,
    id,
    address, // { hostname, port }
    label: StringPrototypeIncludes(address.hostname, ":")
      ? `[${address.hostname}]:${address.port}` : `${address.hostname}:${address.port}`,
    secureTransport: options.secureTransport,
    allowHalfOpen: options.allowHalfOpen,
    owner, // the job the connection is charged to
    inflow: new host.Inflow(id, AC_SOCKET_CREDIT, host.config.requestWindow, 0),
    out: new host.Outflow(id, AC_SOCKET_DATA, AC_SOCKET_END, WINDOW),
    writable: null,
    opened: PromiseWithResolvers(),
    closed: PromiseWithResolvers(),
    isOpen: false,
    writeEnded: false, // nothing more is sent (the writable closed, close(), the peer's FIN)
    closing: false, // close() was called
    upgraded: false,
    done: false,
  };
  // A script need not look at them: a failure is not also an unhandled rejection.
  PromisePrototypeThen(s.opened.promise, undefined, noop);
  PromisePrototypeThen(s.closed.promise, undefined, noop);
  s.writable = internals.streams.createWritableStream({
    __proto__: null,
    write: (chunk) => write(s, chunk),
    close: () => endWriting(s),
    abort: () => endWriting(s),
  });
  sockets.set(id, s);
  return s;
}

/** The bytes of a written chunk, copied (the script may reuse its buffer at once). */
function chunkBytes(s, chunk) {
  const bytes = internals.encoding.copyOfBufferSource(chunk);
  if (bytes === null) {
    throw new TypeErrorCtor("This WritableStream only supports writing byte types " +
      "(Uint8Array, ArrayBuffer or an ArrayBufferView).");
  }
  return bytes;
}

function closedError(s) {
  return new TypeErrorCtor(`The socket to ${s.label} is closed for writing.`);
}

/** The writable side's write: the chunk goes to Python in pieces, within the credit. */
async function write(s, chunk) {
  const bytes = chunkBytes(s, chunk);
  const out = s.out;
  let offset = 0;
  while (offset < bytes.length) {
    while (out.credit <= 0 && !s.writeEnded) await out.waitCredit();
    if (s.writeEnded) throw closedError(s);
    const n = MathMin(out.credit, host.config.maxChunk, bytes.length - offset);
    host.queueData(AC_SOCKET_DATA, s.id, TypedArrayPrototypeSubarray(bytes, offset, offset + n));
    out.credit -= n;
    offset += n;
  }
  if (s.writeEnded) throw closedError(s);
}

/** The writable side closed (or aborted): Python half-closes the connection. */
function endWriting(s) {
  if (s.writeEnded) return;
  stopWriting(s);
  if (!s.done) s.out.finish(); // [AC_SOCKET_END, id]
}

/** Nothing more is sent: a write waiting for credit fails. */
function stopWriting(s) {
  s.writeEnded = true;
  s.out.wake();
}

/** close(): both directions; Python closes after what was written before. */
function closeSocket(s) {
  if (s.done || s.closing) return;
  s.closing = true;
  stopWriting(s);
  s.inflow.onEnd();
  host.queueAction([AC_SOCKET_CLOSE, s.id]);
}

/** Python is done with the connection (closed, or failed with `error`). */
function finish(s, error) {
  if (s.done) return;
  s.done = true;
  sockets.delete(s.id);
  stopWriting(s);
  if (error === null) {
    if (!s.isOpen) s.opened.reject(new ErrorCtor(`connect() to ${s.label}: the socket was ` +
      "closed before it opened"));
    s.inflow.onEnd();
    s.closed.resolve(undefined);
  } else {
    s.opened.reject(error); // (nothing if it opened)
    s.inflow.onError(error);
    internals.streams.errorWritable(s.writable, error);
    s.closed.reject(error);
  }
  release(s);
}

/** The job stops counting the connection. */
function release(s) {
  const owner = s.owner;
  if (owner === null) return;
  s.owner = null;
  owner.fetches--;
  owner.settled();
}

// -- the Socket interface -------------------------------------------------------------------

class Socket {
  #s;

  constructor(key, s) {
    if (key !== kCreate) throw new TypeErrorCtor("Illegal constructor");
    this.#s = s;
  }

  get readable() {
    return this.#s.inflow.stream;
  }

  get writable() {
    return this.#s.writable;
  }

  get opened() {
    return this.#s.opened.promise;
  }

  get closed() {
    return this.#s.closed.promise;
  }

  get upgraded() {
    return this.#s.upgraded;
  }

  get secureTransport() {
    return this.#s.secureTransport;
  }

  /** Close both directions; the `closed` promise. */
  close() {
    const s = this.#s;
    closeSocket(s);
    return s.closed.promise;
  }

  /** A new Socket over TLS on this connection; this one's streams are done with. */
  startTls() {
    const s = this.#s;
    if (s.secureTransport !== "starttls") {
      throw new TypeErrorCtor("startTls() needs a socket made with secureTransport: 'starttls'.");
    }
    if (s.upgraded) throw new TypeErrorCtor("startTls() was called on this socket already.");
    if (s.done || s.closing || s.writeEnded) {
      throw new TypeErrorCtor(`startTls(): the socket to ${s.label} is closed.`);
    }
    s.upgraded = true;
    const next = newState(s.address, { __proto__: null, secureTransport: "on",
      allowHalfOpen: s.allowHalfOpen }, s.owner);
    host.queueAction([AC_SOCKET_TLS, s.id, next.id]);
    // The old socket is over: the charge passes to the new one.
    s.owner = null;
    s.done = true;
    sockets.delete(s.id);
    stopWriting(s);
    s.inflow.onEnd();
    if (!s.isOpen) s.opened.reject(new ErrorCtor("startTls() was called before it opened"));
    s.closed.resolve(undefined);
    return new Socket(kCreate, next);
  }
}
ObjectFreeze(Socket.prototype);

/** connect(address, options): a Socket (cloudflare:sockets). */
function connect(address, options = undefined) {
  const where = parseAddress(address);
  const opts = parseOptions(options);
  const owner = internals.serve.chargeFetch(); // a subrequest, like fetch()
  const s = newState(where, opts, owner);
  host.queueAction([AC_SOCKET_CONNECT, s.id, where.hostname, where.port, opts.secureTransport,
    opts.allowHalfOpen ? 1 : 0]);
  return new Socket(kCreate, s);
}

// -- events from Python -----------------------------------------------------------------------

host.on(EV_SOCKET_OPEN, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  internals.taskHook();
  s.isOpen = true;
  s.opened.resolve({ __proto__: null, remoteAddress: ev[2], localAddress: ev[3] });
});

host.on(EV_SOCKET_DATA, (ev) => {
  const s = sockets.get(ev[1]);
  const bytes = host.eventBytes(ev);
  if (s !== undefined) s.inflow.onData(bytes);
});

host.on(EV_SOCKET_END, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  internals.taskHook();
  s.inflow.onEnd();
  if (!s.allowHalfOpen) stopWriting(s); // Python closes the connection
});

host.on(EV_SOCKET_CREDIT, (ev) => {
  const s = sockets.get(ev[1]);
  if (s !== undefined) s.out.addCredit(ev[2]);
});

host.on(EV_SOCKET_CLOSED, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  internals.taskHook();
  finish(s, null);
});

host.on(EV_SOCKET_ERROR, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  internals.taskHook();
  finish(s, new ErrorCtor(ev[2]));
});

internals.sockets = ObjectFreeze({
  __proto__: null,
  connect,
  /** `job`'s time is over (90_serve.js): its sockets are closed; their number. */
  abortFor(job) {
    const all = SafeMapValues(sockets);
    let n = 0;
    for (let i = 0; i < all.length; i++) {
      const s = all[i];
      if (s.owner !== job || s.closing) continue;
      closeSocket(s);
      n++;
    }
    return n;
  },
});
