// WebSockets: the Workers API (WebSocketPair, accept(), a Response's `webSocket`) and the
// standard client (`new WebSocket(url)`, WebSockets standard), plus fetch() with
// `Upgrade: websocket`, answered by a 101 Response whose `webSocket` the script accept()s.
//
// Events (Python -> JS)                             Actions (JS -> Python)
//   [EV_WS_MESSAGE, id, binary, offset, length]       [AC_WS_ACCEPT, sid, headers]  the 101
//   [EV_WS_CLOSE, id, code, reason, clean]            [AC_WS_DATA, id, offset, length]  bytes
//   [EV_WS_CREDIT, id, size]  send credit             [AC_WS_SEND, id, binary, size]  message end
//   [EV_WS_OPEN, id, protocol, headers, url]          [AC_WS_CLOSE, id, code, reason]
//   [EV_WS_ERROR, id, message]  connect failed        [AC_WS_CREDIT, id, count]  messages taken
//                                                     [AC_WS_CONNECT, id, url, headers, protocols]
//                                                     [AC_WS_MESSAGE, id, offset, length, binary]
//                                                       a message of one piece: DATA + SEND
// `id` is a served request's stream id (the client's socket, terminated by the supervisor:
// supervisor/websocket.py) or, negative, an outbound socket (aiohttp in the worker:
// isolate_worker/websocket.py).
//
// Flow control, as for bodies: a message is handed to Python only while the socket has send
// credit (the supervisor's grants, or the outbound socket's drain), and costs its bytes and
// `wsMessageCost` more (protocol/stream.py: WS_MESSAGE_COST, so that empty messages are not
// free); beyond it, sends wait here and count in `bufferedAmount`, and past SEND_BUFFER
// (bytes, and the cost of each message waiting) the socket is closed with 1011 and an error
// is logged, so a peer that never reads cannot grow the isolate's memory.
// Incoming messages are reported taken (AC_WS_CREDIT) once dispatched: a script that has
// not accept()ed yet, or is busy, stops the peer.
//
// Semantics follow workerd where the Workers API and the standard differ: send() or close()
// before accept() and send() after close() throw TypeErrors; a message larger than
// `wsMaxMessage` closes the socket with 1009. A peer's close is answered with the same code
// after the `close` event, unless a listener called close() itself.
// A socket made by `new WebSocket(url)` follows the WebSockets standard instead (`standard`
// in its state): close() checks its code with InvalidAccessError, send() after close()
// only counts its bytes in `bufferedAmount`, which also counts what was handed to Python but
// not yet written; messages arriving once it is no longer OPEN are dropped; and a peer's
// close (answered by Python already) finds it CLOSED.

const {
  ArrayPrototypePush,
  ArrayPrototypeShift,
  NullArray,
  ObjectDefineProperty,
  ObjectFreeze,
  PromiseWithResolvers,
  SafeMap,
  SafeSet,
  Symbol: SymbolCtor,
  SymbolIterator,
  TypedArrayPrototypeSubarray,
  TypedArrayPrototypeGetBuffer,
  TypeError: TypeErrorCtor,
  Uint8Array: Uint8ArrayCtor,
} = primordials;
const { webidl, events, host, DOMException } = internals;
const { converters } = webidl;
const { Event, EventTarget } = events;

const { EV_WS_MESSAGE, EV_WS_CLOSE, EV_WS_CREDIT, EV_WS_OPEN, EV_WS_ERROR } = internals.kinds;
const {
  AC_WS_ACCEPT, AC_WS_DATA, AC_WS_SEND, AC_WS_CLOSE, AC_WS_CREDIT, AC_WS_CONNECT, AC_WS_MESSAGE,
} = internals.kinds;

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;
const SEND_BUFFER = 16 << 20; // bytes waiting for credit before the socket is closed
const OUTBOUND_WINDOW = 1 << 20; // send credit of an outbound socket (Python grants more)
const kCreate = SymbolCtor("WebSocket");
const sockets = new SafeMap(); // host id -> state, for sockets wired to Python
let nextOutbound = 1;

// -- CloseEvent ---------------------------------------------------------------------------

// dictionary CloseEventInit : EventInit
const convertCloseEventInit = webidl.createDictionaryConverter("CloseEventInit", [
  { key: "wasClean", converter: converters.boolean, defaultValue: false },
  { key: "code", converter: converters["unsigned short"], defaultValue: 0 },
  { key: "reason", converter: converters.USVString, defaultValue: "" },
], converters.EventInit);

class CloseEvent extends Event {
  #wasClean;
  #code;
  #reason;

  constructor(type, eventInitDict = undefined) {
    const prefix = "Failed to construct 'CloseEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    const init = convertCloseEventInit(eventInitDict, prefix, "Argument 2");
    super(type, init);
    this.#wasClean = init.wasClean;
    this.#code = init.code;
    this.#reason = init.reason;
  }

  static #check(self, member) {
    if (self === null || typeof self !== "object" || !(#code in self)) {
      throw new TypeErrorCtor(
        `Failed to read the '${member}' property from 'CloseEvent': Illegal invocation`);
    }
  }

  get wasClean() {
    CloseEvent.#check(this, "wasClean");
    return this.#wasClean;
  }

  get code() {
    CloseEvent.#check(this, "code");
    return this.#code;
  }

  get reason() {
    CloseEvent.#check(this, "reason");
    return this.#reason;
  }
}
webidl.configureInterface(CloseEvent);

// -- the state of one socket ---------------------------------------------------------------

/** What a WebSocket object holds; null-prototype, never reachable by the script. */
function newState(kind, ctx) {
  return {
    __proto__: null,
    socket: null, // the WebSocket object
    kind, // "pair" (both ends here), "served" (the client's, via the supervisor), "outbound"
    standard: false, // made by `new WebSocket(url)`: WebSockets standard semantics
    id: 0, // host id once wired to Python
    readyState: kind === "outbound" ? CONNECTING : OPEN,
    url: "",
    origin: "", // a standard socket's message events carry its URL's origin
    protocol: "",
    binaryType: kind === "outbound" ? "blob" : "arraybuffer",
    accepted: false, // events are dispatched (else held in `held`)
    held: NullArray(),
    releasing: false, // accept()ed: `held` is being dispatched on a later task
    peer: null, // the other end of a pair
    used: false, // a pair's client end went into a Response
    closedOut: false, // our close was sent
    closedIn: false, // the peer's close arrived
    credit: 0, // bytes we may hand to Python
    queue: NullArray(), // [binary, bytes] waiting for credit
    buffered: 0,
    inFlight: 0, // bytes handed to Python, not yet written (a standard socket reports them)
    closeAfter: null, // [code, reason] to send once the queue is out
    served: null, // the ServedStream (90_serve.js) of a served socket
    owner: null, // the job an outbound socket is charged to
    ctx, // the context listeners run in (timers and fetches they start belong to it)
    connect: null, // fetch()'s { resolve, reject } while an upgrade fetch connects
    done: false,
  };
}

const states = new primordials.SafeWeakMap(); // WebSocket -> state

function stateOf(socket, member) {
  const s = typeof socket === "object" && socket !== null ? states.get(socket) : undefined;
  if (s === undefined) {
    throw new TypeErrorCtor(`Failed to execute '${member}' on 'WebSocket': Illegal invocation`);
  }
  return s;
}

function create(kind, ctx) {
  const s = newState(kind, ctx);
  new WebSocket(kCreate, s); // eslint-disable-line no-new -- it registers itself in `states`
  return s;
}

// -- delivering events ---------------------------------------------------------------------

/** Run `fn` in the socket's context (its job), as a task. */
function inContext(s, fn) {
  internals.taskHook();
  const contexts = internals.contexts;
  const ctx = s.ctx !== null && !s.ctx.expired ? s.ctx : null;
  if (ctx !== null) contexts.run(ctx, fn, undefined, []);
  else fn();
}

/** An event for the script: dispatched now if accepted, else held until accept(). */
function deliver(s, item) {
  if (!s.accepted || s.releasing) {
    ArrayPrototypePush(s.held, item);
    return;
  }
  dispatchItem(s, item);
}

/** After accept(): what was held is dispatched on a task of its own, in order (so the
 * listeners added right after accept() see it, as in workerd). */
function releaseHeld(s) {
  s.releasing = true;
  internals.timers.setTimeout(() => {
    for (let i = 0; i < s.held.length; i++) dispatchItem(s, s.held[i]);
    s.held = NullArray();
    s.releasing = false;
  }, 0);
}

function dispatchItem(s, item) {
  const kind = item[0];
  if (kind === "message") {
    // WebSockets standard, "when a WebSocket message has been received": if readyState is
    // not OPEN, return. (It is taken all the same, for the credit.)
    if (!s.standard || s.readyState === OPEN) {
      let data = item[2];
      if (item[1]) {
        data = s.binaryType === "blob"
          ? internals.blob.createBlob([data], data.length, "")
          : TypedArrayPrototypeGetBuffer(data);
      }
      inContext(s, () => events.dispatch(s.socket,
        internals.messaging.trustedMessageEvent("message", data, s.origin)));
    }
    if (s.id !== 0 && sockets.get(s.id) === s) host.queueCount(AC_WS_CREDIT, s.id, 1);
  } else if (kind === "close") {
    const code = item[1], reason = item[2], clean = item[3];
    s.closedIn = true;
    if (!clean) {
      s.closedOut = true; // the connection is gone: nothing more can be sent
      s.queue = NullArray();
      if (!s.standard) s.buffered = 0; // the standard's bufferedAmount never goes back to 0
    }
    // A standard socket's connection is closed already (Python answered the peer's Close
    // frame): "when the WebSocket connection is closed", readyState is CLOSED, then the events.
    s.readyState = s.closedOut || s.standard ? CLOSED : CLOSING;
    inContext(s, () => {
      if (!clean) events.fire(s.socket, "error");
      events.fire(s.socket, "close", { code, reason, wasClean: clean }, CloseEvent);
    });
    if (!s.closedOut) {
      if (s.standard) s.closedOut = true; // answered by Python
      else closeSocket(s, code === 1005 || code === 1006 ? 1000 : code, "");
    }
    s.readyState = CLOSED;
    finish(s);
  } else if (kind === "error") {
    inContext(s, () => events.fire(s.socket, "error"));
  } else if (kind === "open") {
    s.readyState = OPEN;
    inContext(s, () => events.fire(s.socket, "open"));
  }
}

/** Both closes crossed (or the connection is gone): forget the socket. */
function finish(s) {
  if (s.done || !s.closedIn || !s.closedOut) return;
  s.done = true;
  if (s.id !== 0 && sockets.get(s.id) === s) sockets.delete(s.id);
  if (s.served !== null) {
    s.served.socket = null;
    s.served.release();
  }
  if (s.owner !== null) {
    s.owner.fetches--;
    s.owner.settled();
    s.owner = null;
  }
}

// -- sending ------------------------------------------------------------------------------

function messageBytes(data, prefix) {
  if (typeof data === "string") return [false, internals.encoding.utf8Encode(data)];
  if (internals.blob.isBlob(data)) return [true, internals.blob.getBytes(data)];
  const bytes = internals.encoding.bytesOfBufferSource(data);
  if (bytes === null || bytes === undefined) {
    return [false, internals.encoding.utf8Encode(converters.USVString(data, prefix, "Argument 1"))];
  }
  const copy = new Uint8ArrayCtor(bytes.length);
  primordials.TypedArrayPrototypeSet(copy, bytes);
  return [true, copy];
}

function sendMessage(s, binary, bytes) {
  if (bytes.length > host.config.wsMaxMessage) {
    host.log("warn", ownerSid(s), `WebSocket message of ${bytes.length} bytes is over the ` +
      `limit of ${host.config.wsMaxMessage}: closing the socket with 1009`);
    closeSocket(s, 1009, "message too big");
    return;
  }
  if (s.kind === "pair") {
    const peer = s.peer;
    if (peer !== null && !peer.closedIn) {
      toPeer(peer, ["message", binary, binary ? bytes : internals.encoding.utf8Decode(bytes)]);
    }
    return;
  }
  if (s.queue.length === 0 && s.credit > 0) {
    transmit(s, binary, bytes);
    return;
  }
  ArrayPrototypePush(s.queue, [binary, bytes]);
  s.buffered += bytes.length;
  if (s.buffered + s.queue.length * host.config.wsMessageCost > SEND_BUFFER) {
    host.log("error", ownerSid(s), `WebSocket send buffer over ${SEND_BUFFER} bytes (the ` +
      "peer does not read): closing the socket with 1011");
    s.queue = NullArray();
    s.buffered = 0;
    closeSocket(s, 1011, "send buffer full");
  }
}

/** Hand one message to Python: its bytes in pieces, then its end. */
function transmit(s, binary, bytes) {
  const n = bytes.length;
  const step = host.config.maxChunk;
  if (n <= step) { // the usual message: its bytes and its send in one action
    host.queueData(AC_WS_MESSAGE, s.id, bytes, [binary ? 1 : 0]);
  } else {
    for (let off = 0; off < n; off += step) {
      host.queueData(AC_WS_DATA, s.id,
        TypedArrayPrototypeSubarray(bytes, off, off + step < n ? off + step : n));
    }
    host.queueAction([AC_WS_SEND, s.id, binary ? 1 : 0, n]);
  }
  s.credit -= n + host.config.wsMessageCost;
  s.inFlight += n;
}

function flushQueue(s) {
  while (s.queue.length > 0 && s.credit > 0) {
    const item = ArrayPrototypeShift(s.queue);
    s.buffered -= item[1].length;
    transmit(s, item[0], item[1]);
  }
  if (s.queue.length === 0 && s.closeAfter !== null) {
    const close = s.closeAfter;
    s.closeAfter = null;
    host.queueAction([AC_WS_CLOSE, s.id, close[0], close[1]]);
  }
}

/** To a pair's other end: held until it accept()s, then each on a task of its own. */
function toPeer(s, item) {
  if (!s.accepted || s.releasing) ArrayPrototypePush(s.held, item);
  else internals.timers.setTimeout(() => deliver(s, item), 0);
}

function closeSocket(s, code, reason) {
  if (s.closedOut) return;
  s.closedOut = true;
  s.readyState = s.closedIn ? CLOSED : CLOSING;
  if (s.kind === "pair") {
    if (s.peer !== null) toPeer(s.peer, ["close", code, reason, true]);
  } else if (s.id !== 0) {
    if (s.queue.length > 0) s.closeAfter = [code, reason];
    else host.queueAction([AC_WS_CLOSE, s.id, code, reason]);
  }
  finish(s);
}

function ownerSid(s) {
  if (s.served !== null) return s.served.sid;
  const ctx = s.ctx;
  return ctx !== null && ctx.owner !== null && ctx.owner.sid !== undefined ? ctx.owner.sid : 0;
}

// -- the WebSocket interface ---------------------------------------------------------------

class WebSocket extends EventTarget {
  constructor(url, protocols = undefined) {
    if (url === kCreate) {
      super();
      const s = protocols;
      s.socket = this;
      states.set(this, s);
      return;
    }
    const prefix = "Failed to construct 'WebSocket'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = converters.USVString(url, prefix, "Argument 1");
    // "Get a URL record": parsed against the API base URL (relative URLs resolve when there
    // is one, see 32_request.js).
    const record = internals.request.parseURL(url);
    if (record === null) throw new DOMException(`${prefix}: The URL '${url}' is invalid.`, "SyntaxError");
    let scheme = record.scheme;
    if (scheme === "http") scheme = "ws";
    else if (scheme === "https") scheme = "wss";
    if (scheme !== "ws" && scheme !== "wss") {
      throw new DOMException(`${prefix}: The URL's scheme must be 'ws' or 'wss'.`, "SyntaxError");
    }
    if (record.fragment !== null) {
      throw new DOMException(`${prefix}: The URL contains a fragment identifier.`, "SyntaxError");
    }
    record.scheme = scheme;
    const list = convertProtocols(protocols, prefix);
    super();
    const owner = internals.serve.chargeFetch(); // a subrequest, like fetch()
    const s = newState("outbound", internals.contexts.current ?? owner.ctx);
    s.socket = this;
    states.set(this, s);
    s.url = internals.url.serialize(record);
    s.origin = internals.url.origin(record);
    s.accepted = true;
    s.standard = true;
    connect(s, owner, s.url, NullArray(), list);
  }

  /** Workers API: start delivering events (those held so far first). */
  accept() {
    const s = stateOf(this, "accept");
    if (s.kind === "pair" && s.used) {
      throw new TypeErrorCtor("Can't accept() WebSocket that was already used in a response.");
    }
    if (s.accepted) return;
    s.accepted = true;
    if (s.kind === "outbound" && s.readyState === CONNECTING) s.readyState = OPEN;
    if (s.held.length > 0) releaseHeld(s);
  }

  send(data) {
    const prefix = "Failed to execute 'send' on 'WebSocket'";
    const s = stateOf(this, "send");
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (!s.accepted) {
      throw new TypeErrorCtor("You must call one of accept() or state.acceptWebSocket() on " +
        "this WebSocket before sending messages.");
    }
    if (s.readyState === CONNECTING) {
      throw new DOMException(`${prefix}: Still in CONNECTING state.`, "InvalidStateError");
    }
    if (s.closedOut && !s.standard) {
      throw new TypeErrorCtor("Can't call WebSocket send() after close().");
    }
    const message = messageBytes(data, prefix); // [binary, bytes]
    if (s.closedOut || s.closedIn) {
      // The closing handshake has started: the message is not sent, but (WebSockets
      // standard) a send() that does not throw still increases bufferedAmount.
      if (s.standard) s.buffered += message[1].length;
      return;
    }
    sendMessage(s, message[0], message[1]);
  }

  close(code = undefined, reason = undefined) {
    const prefix = "Failed to execute 'close' on 'WebSocket'";
    const s = stateOf(this, "close");
    if (code !== undefined) {
      code = converters["unsigned short"](code, prefix, "Argument 1", { clamp: true });
    }
    if (reason !== undefined) reason = converters.USVString(reason, prefix, "Argument 2");
    if (code !== undefined) {
      if (s.standard) {
        // WebSockets standard: a code must be 1000 or in 3000..4999.
        if (code !== 1000 && (code < 3000 || code > 4999)) {
          throw new DOMException(`${prefix}: The close code must be either 1000, or between ` +
            `3000 and 4999. ${code} is neither.`, "InvalidAccessError");
        }
      } else if (code < 1000 || code >= 5000 || code === 1004 || code === 1005 ||
          code === 1006 || code === 1015) {
        throw new TypeErrorCtor(`Invalid WebSocket close code: ${code}.`);
      }
    }
    if (reason !== undefined) {
      if (internals.encoding.utf8Encode(reason).length > 123) {
        throw new DOMException(`${prefix}: The close reason must not be longer than 123 bytes.`,
          "SyntaxError");
      }
    }
    if (!s.accepted) {
      throw new TypeErrorCtor("You must call one of accept() or state.acceptWebSocket() on " +
        "this WebSocket before sending messages.");
    }
    if (s.closedOut) return;
    if (s.readyState === CONNECTING) {
      // The standard: fail the connection; the attempt is abandoned.
      s.closedOut = true;
      s.readyState = CLOSING;
      if (s.id !== 0) host.queueAction([AC_WS_CLOSE, s.id, 1000, ""]);
      return;
    }
    closeSocket(s, code ?? 1005, reason ?? "");
  }

  get readyState() {
    return stateOf(this, "readyState").readyState;
  }

  get url() {
    return stateOf(this, "url").url;
  }

  get protocol() {
    return stateOf(this, "protocol").protocol;
  }

  get extensions() {
    stateOf(this, "extensions");
    return "";
  }

  get bufferedAmount() {
    const s = stateOf(this, "bufferedAmount");
    return s.standard ? s.buffered + s.inFlight : s.buffered;
  }

  get binaryType() {
    return stateOf(this, "binaryType").binaryType;
  }

  set binaryType(value) {
    const s = stateOf(this, "binaryType");
    value = converters.DOMString(value, "Failed to set 'binaryType' on 'WebSocket'", "Value");
    if (value === "blob" || value === "arraybuffer") s.binaryType = value;
  }
}

for (const [name, value] of [["CONNECTING", CONNECTING], ["OPEN", OPEN], ["CLOSING", CLOSING],
  ["CLOSED", CLOSED]]) {
  const desc = { __proto__: null, value, writable: false, enumerable: true, configurable: false };
  ObjectDefineProperty(WebSocket, name, desc);
  ObjectDefineProperty(WebSocket.prototype, name, desc);
}
for (const name of ["open", "message", "error", "close"]) {
  events.defineEventHandler(WebSocket.prototype, name);
}
webidl.configureInterface(WebSocket);

function convertProtocols(protocols, prefix) {
  if (protocols === undefined) return NullArray();
  let list;
  if (typeof protocols === "object" && protocols !== null && protocols[SymbolIterator] !== undefined) {
    list = NullArray();
    const given = primordials.ArrayFrom(protocols); // the sequence<DOMString> conversion
    for (let i = 0; i < given.length; i++) {
      ArrayPrototypePush(list, converters.DOMString(given[i], prefix, "Argument 2"));
    }
  } else {
    list = NullArray();
    list[0] = converters.DOMString(protocols, prefix, "Argument 2");
  }
  const seen = new SafeSet();
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    // RFC 6455: a token (visible ASCII without separators), each at most once.
    if (p === "" || !primordials.RegExpPrototypeTest(TOKEN, p) || seen.has(p)) {
      throw new DOMException(`${prefix}: The subprotocol '${p}' is invalid or repeated.`,
        "SyntaxError");
    }
    seen.add(p);
  }
  return list;
}
const TOKEN = new primordials.SafeRegExp(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);

// -- WebSocketPair ------------------------------------------------------------------------

class WebSocketPair {
  constructor() {
    const ctx = internals.contexts.current;
    const a = create("pair", ctx), b = create("pair", ctx);
    a.peer = b;
    b.peer = a;
    ObjectDefineProperty(this, 0, { __proto__: null, value: a.socket, enumerable: true });
    ObjectDefineProperty(this, 1, { __proto__: null, value: b.socket, enumerable: true });
  }
}
webidl.configureInterface(WebSocketPair);

// -- served sockets: a Response's webSocket -------------------------------------------------

/**
 * The handler answered 101 with `client`: its other end (`server`) now talks to the client
 * through the supervisor, on the request's stream. (90_serve.js calls this.)
 */
function serve(st, socket, headerList) {
  const client = states.get(socket);
  if (client === undefined || client.kind !== "pair" || client.used || client.accepted) {
    throw new TypeErrorCtor("The response's webSocket must be the unused client end of a " +
      "WebSocketPair.");
  }
  client.used = true;
  const server = client.peer;
  client.peer = null;
  server.peer = null;
  server.kind = "served";
  server.id = st.sid;
  server.served = st;
  server.ctx = st.job.ctx;
  server.credit = st.out.credit;
  st.socket = server;
  sockets.set(st.sid, server);
  host.queueAction([AC_WS_ACCEPT, st.sid, headerList]);
  // What the script sent before its response went out travels now, in order.
  const held = client.held;
  client.held = NullArray();
  for (let i = 0; i < held.length; i++) {
    const item = held[i];
    if (item[0] === "message") {
      const bytes = item[1] ? item[2] : internals.encoding.utf8Encode(item[2]);
      sendMessage(server, item[1], bytes);
    } else if (item[0] === "close") {
      if (server.queue.length > 0) server.closeAfter = [item[1], item[2]];
      else host.queueAction([AC_WS_CLOSE, server.id, item[1], item[2]]);
    }
  }
}

// -- outbound sockets ---------------------------------------------------------------------

function connect(s, owner, url, headers, protocols) {
  s.owner = owner;
  s.id = -(nextOutbound++);
  s.credit = OUTBOUND_WINDOW;
  s.url = url;
  sockets.set(s.id, s);
  host.queueAction([AC_WS_CONNECT, s.id, url, headers, protocols]);
}

/**
 * fetch(request) where the request asks for `Upgrade: websocket`: a promise of a 101
 * Response whose webSocket the script accept()s. (34_fetch.js hands such requests here.)
 */
function fetchUpgrade(request) {
  const owner = internals.serve.chargeFetch();
  const s = newState("outbound", internals.contexts.current ?? owner.ctx);
  const socket = new WebSocket(kCreate, s);
  s.binaryType = "arraybuffer";
  const list = internals.headers.list(internals.request.headers(request));
  const protocols = NullArray();
  const headers = NullArray();
  for (let i = 0; i < list.length; i += 2) {
    const lower = primordials.StringPrototypeToLowerCase(list[i]);
    if (lower === "sec-websocket-protocol") {
      const parts = primordials.StringPrototypeSplit(list[i + 1], ",");
      for (let j = 0; j < parts.length; j++) {
        const p = primordials.StringPrototypeTrim(parts[j]);
        if (p !== "") ArrayPrototypePush(protocols, p);
      }
    } else if (lower !== "upgrade" && lower !== "connection" &&
        primordials.StringPrototypeSlice(lower, 0, 14) !== "sec-websocket-") {
      ArrayPrototypePush(headers, list[i], list[i + 1]);
    }
  }
  const { promise, resolve, reject } = PromiseWithResolvers();
  s.connect = { __proto__: null, resolve, reject };
  connect(s, owner, internals.request.url(request), headers, protocols);
  return promise;
}

// -- events from Python ---------------------------------------------------------------------

host.on(EV_WS_MESSAGE, (ev) => {
  const s = sockets.get(ev[1]);
  const bytes = host.eventBytes(ev);
  if (s === undefined) return;
  const binary = ev[2] === 1;
  deliver(s, ["message", binary, binary ? bytes : internals.encoding.utf8Decode(bytes)]);
});

host.on(EV_WS_CLOSE, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined || s.closedIn) return;
  if (s.connect !== null) { // an upgrade fetch abandoned before it connected
    const { reject } = s.connect;
    s.connect = null;
    s.closedIn = s.closedOut = true;
    finish(s);
    reject(new TypeErrorCtor(`WebSocket connection to ${s.url} was aborted`));
    return;
  }
  deliver(s, ["close", ev[2], ev[3], ev[4] === 1]);
  // The connection is gone and Python has forgotten it: nothing more will come, even if the
  // script never accept()s (the event waits for it in `held`).
  if (ev[4] !== 1 && sockets.get(ev[1]) === s) sockets.delete(ev[1]);
});

host.on(EV_WS_CREDIT, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  s.credit += ev[2];
  // (Reported by standard sockets, which are outbound: a grant is one message written.)
  const written = ev[2] - host.config.wsMessageCost;
  s.inFlight = s.inFlight > written ? s.inFlight - written : 0;
  flushQueue(s);
});

host.on(EV_WS_OPEN, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  s.protocol = ev[2];
  if (s.connect !== null) {
    const { resolve } = s.connect;
    s.connect = null;
    const headers = internals.headers.fromList(ev[3], "immutable");
    resolve(internals.response.make({ status: 101, statusText: "Switching Protocols", headers,
      urlList: [ev[4]], webSocket: s.socket }));
    return;
  }
  if (s.closedOut) return; // closed while connecting: Python closes it
  deliver(s, ["open"]);
});

host.on(EV_WS_ERROR, (ev) => {
  const s = sockets.get(ev[1]);
  if (s === undefined) return;
  s.closedOut = true;
  if (s.connect !== null) {
    const { reject } = s.connect;
    s.connect = null;
    s.closedIn = true;
    finish(s);
    reject(new TypeErrorCtor(ev[2]));
    return;
  }
  host.log("warn", ownerSid(s), ev[2]); // "WebSocket connection to URL failed: why"
  deliver(s, ["close", 1006, "", false]);
});

/** Whether fetch(request) asks for a WebSocket (`Upgrade: websocket`). */
function wantsUpgrade(request) {
  const list = internals.headers.list(internals.request.headers(request));
  for (let i = 0; i < list.length; i += 2) {
    if (primordials.StringPrototypeToLowerCase(list[i]) === "upgrade" &&
        primordials.StringPrototypeToLowerCase(primordials.StringPrototypeTrim(list[i + 1])) ===
          "websocket") {
      return true;
    }
  }
  return false;
}

/** `job`'s time is over (90_serve.js): its outbound sockets are closed; their number. */
function abortFor(job) {
  const all = primordials.SafeMapValues(sockets);
  let n = 0;
  for (let i = 0; i < all.length; i++) {
    const s = all[i];
    if (s.owner !== job || s.closedOut) continue;
    n++;
    if (s.readyState === CONNECTING) {
      s.closedOut = true;
      s.readyState = CLOSING;
      host.queueAction([AC_WS_CLOSE, s.id, 1000, ""]);
    } else {
      s.queue = NullArray();
      s.buffered = 0;
      closeSocket(s, 1001, "the request's time is over");
    }
  }
  return n;
}

internals.websocket = ObjectFreeze({
  serve,
  fetchUpgrade,
  wantsUpgrade,
  abortFor,
  isWebSocket: (value) => typeof value === "object" && value !== null && states.has(value),
});

internals.exposeGlobals({ WebSocket, WebSocketPair, CloseEvent });
