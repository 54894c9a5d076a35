// EventSource (HTML §9.2, server-sent events): a client of a `text/event-stream` upstream,
// over fetch() (so the outbound policy applies and each connection is a subrequest). It
// reconnects after a clean end or a network error (after `retry:`'s time, 3 s at first,
// sending Last-Event-ID), and fails for good on a status other than 200 or another type.
// A line or event of more than MAX_BUFFERED characters fails the connection (an upstream
// that never ends a line would otherwise grow the isolate to its memory limit), and attempts
// that fail in a row wait twice as long each time (at least 0.1 s, at most a minute: a
// `retry: 0` upstream that refuses every connection does not make the isolate spin).

const {
  ArrayPrototypePush,
  FunctionPrototypeCall,
  ObjectDefineProperty,
  PromisePrototypeThen,
  RegExpPrototypeExec,
  SafeWeakMap,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeCharCodeAt,
  MathMax,
  MathMin,
  NumberParseInt,
} = primordials;
const { webidl, events, DOMException } = internals;
const { converters } = webidl;
const { EventTarget } = events;

const CONNECTING = 0, OPEN = 1, CLOSED = 2;
const FIRST_RECONNECTION_TIME = 3000; // ms
const MIN_BACKOFF = 100; // ms, the first wait after a failed attempt
const MAX_BACKOFF = 60000; // ms
const MAX_BUFFERED = 16 << 20; // characters of one line, or of one event's data
const DIGITS = /^[0-9]+$/;
const states = new SafeWeakMap(); // EventSource -> its state
// Taken while the runtime loads: a script's later patches of these do not reach here.
const TextDecoderCtor = globalThis.TextDecoder;
const textDecode = TextDecoderCtor.prototype.decode;
const { AbortController } = internals.abort;
const abortControllerAbort = AbortController.prototype.abort;
const STREAM = { __proto__: null, stream: true };

const convertInit = webidl.createDictionaryConverter("EventSourceInit", [
  { key: "withCredentials", converter: converters.boolean, defaultValue: false },
]);

/** The state of one EventSource, and the parser of its current connection. */
class Source {
  constructor(target, url, withCredentials) {
    this.target = target;
    this.url = url;
    this.withCredentials = withCredentials;
    this.readyState = CONNECTING;
    this.reconnectionTime = FIRST_RECONNECTION_TIME;
    this.lastEventId = ""; // the last event ID string
    this.abort = null; // the current fetch's AbortController
    this.failures = 0; // attempts failed in a row
    this.origin = "";
    this.reset();
  }

  /** A new connection's parser state. */
  reset() {
    this.decoder = new TextDecoderCtor();
    this.line = "";
    this.afterCR = false; // the last chunk ended with CR: a LF first in the next is its pair
    this.data = "";
    this.eventType = "";
    this.idBuffer = this.lastEventId;
  }
}

function fire(s, event) {
  if (s.readyState === CLOSED && event.type !== "error") return;
  events.dispatch(s.target, event);
}

function simpleEvent(type) {
  const event = new events.Event(type);
  events.setTrusted(event);
  return event;
}

/** "Fail the connection": closed for good, with an error event. */
function fail(s) {
  if (s.readyState === CLOSED) return;
  s.readyState = CLOSED;
  fire(s, simpleEvent("error"));
}

/**
 * "Reestablish the connection": an error event, then a new fetch after the reconnection
 * time (`failed`: the attempt failed, not a stream that ended; then the wait doubles).
 */
function reestablish(s, failed) {
  if (s.readyState === CLOSED) return;
  s.readyState = CONNECTING;
  s.failures = failed ? s.failures + 1 : 0;
  const delay = s.failures === 0
    ? s.reconnectionTime
    : MathMin(MAX_BACKOFF, MathMax(s.reconnectionTime, MIN_BACKOFF) * 2 ** (s.failures - 1));
  fire(s, simpleEvent("error"));
  internals.timers.setTimeout(() => {
    if (s.readyState === CONNECTING) connect(s);
  }, delay);
}

function connect(s) {
  s.reset();
  const headers = [["Accept", "text/event-stream"], ["Cache-Control", "no-store"]];
  if (s.lastEventId !== "") ArrayPrototypePush(headers, ["Last-Event-ID", s.lastEventId]);
  const controller = new AbortController();
  s.abort = controller;
  let response;
  try {
    response = internals.fetch.fetch(s.url, {
      headers, signal: controller.signal, redirect: "follow",
    });
  } catch {
    reestablish(s, true); // refused at once (no subrequests left, say): try again later
    return;
  }
  PromisePrototypeThen(response, (r) => opened(s, controller, r), () => {
    if (s.abort === controller) reestablish(s, true);
  });
}

function opened(s, controller, response) {
  if (s.abort !== controller || s.readyState === CLOSED) return;
  const type = internals.headers.get(internals.response.headers(response), "content-type");
  const mime = type === null ? null : internals.mimeType.extract(type);
  if (internals.response.status(response) !== 200 || mime === null ||
      internals.mimeType.essence(mime) !== "text/event-stream") {
    FunctionPrototypeCall(abortControllerAbort, controller);
    fail(s);
    return;
  }
  const final = internals.url.parse(response.url);
  s.origin = final === null ? "null" : internals.url.origin(final);
  s.readyState = OPEN;
  s.failures = 0;
  fire(s, simpleEvent("open"));
  const reader = response.body.getReader();
  const next = () => {
    PromisePrototypeThen(reader.read(), ({ value, done }) => {
      if (s.abort !== controller || s.readyState === CLOSED) return;
      if (done) {
        reestablish(s, false); // the stream ended: what an unfinished event held is dropped
        return;
      }
      if (!parse(s, FunctionPrototypeCall(textDecode, s.decoder, value, STREAM))) {
        FunctionPrototypeCall(abortControllerAbort, controller);
        fail(s);
        return;
      }
      next();
    }, () => {
      if (s.abort === controller) reestablish(s, true);
    });
  };
  next();
}

/** Feed decoded text to the parser; false when a line or an event grew past the bound. */
function parse(s, text) {
  let start = 0;
  if (s.afterCR && text.length > 0 && StringPrototypeCharCodeAt(text, 0) === 0x0a) start = 1;
  s.afterCR = false;
  for (let i = start; i < text.length; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    if (c !== 0x0a && c !== 0x0d) continue;
    line(s, s.line + StringPrototypeSlice(text, start, i));
    s.line = "";
    if (c === 0x0d) {
      if (i + 1 === text.length) s.afterCR = true;
      else if (StringPrototypeCharCodeAt(text, i + 1) === 0x0a) i++;
    }
    start = i + 1;
    if (s.readyState === CLOSED) return true;
  }
  s.line += StringPrototypeSlice(text, start);
  return s.line.length <= MAX_BUFFERED && s.data.length <= MAX_BUFFERED;
}

/** One line of the stream (HTML "process the field"). */
function line(s, text) {
  if (text === "") {
    dispatch(s);
    return;
  }
  if (StringPrototypeCharCodeAt(text, 0) === 0x3a) return; // a comment
  const colon = StringPrototypeIndexOf(text, ":");
  let field = text;
  let value = "";
  if (colon !== -1) {
    field = StringPrototypeSlice(text, 0, colon);
    value = StringPrototypeSlice(text, colon + 1);
    if (StringPrototypeCharCodeAt(value, 0) === 0x20) value = StringPrototypeSlice(value, 1);
  }
  if (field === "event") {
    s.eventType = value;
  } else if (field === "data") {
    s.data += `${value}\n`;
  } else if (field === "id") {
    if (StringPrototypeIndexOf(value, "\0") === -1) s.idBuffer = value;
  } else if (field === "retry") {
    if (RegExpPrototypeExec(DIGITS, value) !== null) s.reconnectionTime = NumberParseInt(value, 10);
  }
}

/** HTML "dispatch the event" at a blank line. */
function dispatch(s) {
  s.lastEventId = s.idBuffer;
  if (s.data === "") {
    s.eventType = "";
    return;
  }
  const data = StringPrototypeSlice(s.data, 0, -1);
  const type = s.eventType === "" ? "message" : s.eventType;
  s.data = "";
  s.eventType = "";
  fire(s, internals.messaging.trustedMessageEvent(type, data, s.origin, undefined,
    s.lastEventId));
}

class EventSource extends EventTarget {
  constructor(url, init = undefined) {
    const prefix = "Failed to construct 'EventSource'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = converters.USVString(url, prefix, "Argument 1");
    const { withCredentials } = convertInit(init, prefix, "Argument 2");
    const record = internals.request.parseURL(url);
    if (record === null) {
      throw new DOMException(`${prefix}: Cannot open an EventSource to '${url}'. The URL is invalid.`,
        "SyntaxError");
    }
    super();
    const s = new Source(this, internals.url.serialize(record), withCredentials);
    states.set(this, s);
    connect(s);
  }

  get url() {
    return stateOf(this, "url").url;
  }

  get withCredentials() {
    return stateOf(this, "withCredentials").withCredentials;
  }

  get readyState() {
    return stateOf(this, "readyState").readyState;
  }

  close() {
    const s = stateOf(this, "close");
    s.readyState = CLOSED;
    if (s.abort !== null) {
      const controller = s.abort;
      s.abort = null;
      FunctionPrototypeCall(abortControllerAbort, controller);
    }
  }
}

function stateOf(object, member) {
  const s = states.get(object);
  if (s === undefined) {
    throw new primordials.TypeError(`Failed to execute '${member}' on 'EventSource': Illegal invocation`);
  }
  return s;
}

for (const [name, value] of [["CONNECTING", CONNECTING], ["OPEN", OPEN], ["CLOSED", CLOSED]]) {
  const desc = { __proto__: null, value, writable: false, enumerable: true, configurable: false };
  ObjectDefineProperty(EventSource, name, desc);
  ObjectDefineProperty(EventSource.prototype, name, desc);
}
for (const name of ["open", "message", "error"]) events.defineEventHandler(EventSource.prototype, name);
webidl.configureInterface(EventSource);

internals.exposeGlobals({ EventSource });
