// HTML channel messaging (§9.5): MessageChannel, MessagePort, and MessageEvent.
//
// Both ends of a channel live in this isolate. A port's state (its port message queue and
// the state it is entangled with) is an object of its own, so transferring a port moves
// the state to a new MessagePort and the other end keeps posting into the same queue.
// Each message is delivered as a task of its own (a runtime timer) once the receiving
// port's queue is enabled (start(), or setting onmessage), deserialized with its
// transferred ArrayBuffers and ports; a message that cannot be deserialized fires
// `messageerror` instead. close() disentangles both ends and fires `close` at the other.
// Exports: internals.messaging.

const {
  ArrayPrototypePush,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectGetOwnPropertyDescriptor,
  FunctionPrototypeCall,
  SafeWeakMap,
  Symbol: SymbolCtor,
  SymbolIterator,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl, events, DOMException } = internals;
const { converters } = webidl;
const { Event, EventTarget } = events;

// -- port state ---------------------------------------------------------------------------

const states = new SafeWeakMap(); // MessagePort -> its state
const kCreate = SymbolCtor("MessagePort");

function newState() {
  return {
    __proto__: null,
    port: null, // the MessagePort that owns this state now (null while being transferred)
    entangled: null, // the other end's state
    queue: [], // { serialized, ctx }
    head: 0,
    enabled: false,
    taskQueued: false,
    detached: false,
  };
}

function stateOf(port, method) {
  const st = typeof port === "object" && port !== null ? states.get(port) : undefined;
  if (st === undefined) {
    throw new TypeErrorCtor(`Failed to execute '${method}' on 'MessagePort': Illegal invocation`);
  }
  return st;
}

function entangle(a, b) {
  a.entangled = b;
  b.entangled = a;
}

/** Queue a task delivering the next message, if the queue is enabled and has one. */
function scheduleDelivery(st) {
  if (!st.enabled || st.taskQueued || st.port === null || st.head >= st.queue.length) return;
  st.taskQueued = true;
  internals.timers.setTimeout(() => deliver(st), 0);
}

/** The task of "message port post message steps" step 7, for the next message. */
function deliver(st) {
  st.taskQueued = false;
  if (!st.enabled || st.port === null || st.head >= st.queue.length) return;
  const item = st.queue[st.head];
  st.queue[st.head++] = undefined;
  if (st.head === st.queue.length) {
    st.queue = [];
    st.head = 0;
  }
  const port = st.port;
  const contexts = internals.contexts;
  const ctx = contexts !== undefined && item.ctx !== null && !item.ctx.expired ? item.ctx : null;
  const run = () => {
    let record;
    try {
      record = internals.structuredClone.deserializeWithTransfer(item.serialized);
    } catch {
      events.dispatch(port, trustedMessageEvent("messageerror", null));
      return;
    }
    const ports = [];
    for (let i = 0; i < record.transferred.length; i++) {
      if (states.has(record.transferred[i])) ArrayPrototypePush(ports, record.transferred[i]);
    }
    events.dispatch(port, trustedMessageEvent("message", record.value, "", ports));
  };
  if (ctx !== null) contexts.run(ctx, run, undefined, []);
  else run();
  scheduleDelivery(st);
}

/** HTML "disentangle": both ends forget each other; `close` is fired at the other end. */
function disentangle(st) {
  const other = st.entangled;
  if (other === null) return;
  st.entangled = null;
  other.entangled = null;
  internals.timers.setTimeout(() => {
    if (other.port !== null) events.fire(other.port, "close");
  }, 0);
}

// -- MessagePort --------------------------------------------------------------------------

const convertTransfer = webidl.createSequenceConverter(converters.object);
const convertOptions = webidl.createDictionaryConverter("StructuredSerializeOptions", [
  { key: "transfer", converter: convertTransfer, defaultValue: [] },
]);

class MessagePort extends EventTarget {
  constructor(token = undefined, st = undefined) {
    if (token !== kCreate) webidl.illegalConstructor();
    super();
    st.port = this;
    states.set(this, st);
  }

  /** postMessage(message, transfer) or postMessage(message, { transfer }). */
  postMessage(message, options = undefined) {
    const prefix = "Failed to execute 'postMessage' on 'MessagePort'";
    const st = stateOf(this, "postMessage");
    webidl.requiredArguments(arguments.length, 1, prefix);
    let transfer;
    if (typeof options === "object" && options !== null && options[SymbolIterator] !== undefined) {
      transfer = convertTransfer(options, prefix, "Argument 2");
    } else {
      transfer = convertOptions(options, prefix, "Argument 2").transfer;
    }
    // HTML "message port post message steps".
    const target = st.entangled;
    let doomed = false;
    for (let i = 0; i < transfer.length; i++) {
      if (transfer[i] === this) {
        throw new DOMException("A port cannot transfer itself.", "DataCloneError");
      }
      if (target !== null && target.port !== null && transfer[i] === target.port) doomed = true;
    }
    const serialized = internals.structuredClone.serializeWithTransfer(message, transfer);
    if (target === null || doomed) return;
    const contexts = internals.contexts;
    ArrayPrototypePush(target.queue, {
      __proto__: null, serialized, ctx: contexts !== undefined ? contexts.current : null,
    });
    scheduleDelivery(target);
  }

  start() {
    const st = stateOf(this, "start");
    st.enabled = true;
    scheduleDelivery(st);
  }

  close() {
    const st = stateOf(this, "close");
    st.detached = true;
    st.queue = [];
    st.head = 0;
    disentangle(st);
  }
}

webidl.configureInterface(MessagePort);
events.defineEventHandler(MessagePort.prototype, "message");
events.defineEventHandler(MessagePort.prototype, "messageerror");
events.defineEventHandler(MessagePort.prototype, "close");

// Setting onmessage enables the port message queue, as start() does.
{
  const desc = ObjectGetOwnPropertyDescriptor(MessagePort.prototype, "onmessage");
  const set = desc.set;
  ObjectDefineProperty(MessagePort.prototype, "onmessage", {
    get: desc.get,
    // An accessor property's setter, so that it is named "set onmessage".
    set: ObjectGetOwnPropertyDescriptor({
      set onmessage(value) {
        FunctionPrototypeCall(set, this, value);
        const st = states.get(this);
        if (st !== undefined) {
          st.enabled = true;
          scheduleDelivery(st);
        }
      },
    }, "onmessage").set,
    enumerable: true,
    configurable: true,
  });
}

internals.structuredClone.registerTransferable({
  tag: "MessagePort",
  is: (value) => states.has(value),
  isDetached: (port) => states.get(port).detached,
  /** Transfer steps: the state moves out; the old object is left detached. */
  transfer(port) {
    const st = states.get(port);
    const dead = newState();
    dead.port = port;
    dead.detached = true;
    states.set(port, dead);
    st.port = null;
    st.enabled = false;
    st.taskQueued = false;
    return st;
  },
  /** Transfer-receiving steps: a new port owns the state, its queue disabled. */
  receive: (st) => new MessagePort(kCreate, st),
});

// -- MessageChannel -----------------------------------------------------------------------

class MessageChannel {
  #port1;
  #port2;

  constructor() {
    const a = newState();
    const b = newState();
    entangle(a, b);
    this.#port1 = new MessagePort(kCreate, a);
    this.#port2 = new MessagePort(kCreate, b);
  }

  get port1() {
    if (!(#port1 in this)) throw illegalInvocation("MessageChannel", "port1");
    return this.#port1;
  }

  get port2() {
    if (!(#port2 in this)) throw illegalInvocation("MessageChannel", "port2");
    return this.#port2;
  }
}

webidl.configureInterface(MessageChannel);

function illegalInvocation(iface, member) {
  return new TypeErrorCtor(`Failed to read the '${member}' property from '${iface}': Illegal invocation`);
}

// -- MessageEvent -------------------------------------------------------------------------

function convertSource(v, prefix, context) {
  if (v === null || v === undefined) return null;
  if (!states.has(v)) {
    throw webidl.makeException(TypeErrorCtor, "is not a MessagePort.", prefix, context);
  }
  return v;
}

const convertPorts = webidl.createSequenceConverter((v, prefix, context) => {
  if (!states.has(v)) {
    throw webidl.makeException(TypeErrorCtor, "is not a MessagePort.", prefix, context);
  }
  return v;
});

// dictionary MessageEventInit : EventInit
const convertMessageEventInit = webidl.createDictionaryConverter("MessageEventInit", [
  { key: "data", converter: converters.any, defaultValue: null },
  { key: "origin", converter: converters.USVString, defaultValue: "" },
  { key: "lastEventId", converter: converters.DOMString, defaultValue: "" },
  { key: "source", converter: convertSource, defaultValue: null },
  { key: "ports", converter: convertPorts, defaultValue: [] },
], converters.EventInit);

function frozenCopy(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) ArrayPrototypePush(out, list[i]);
  return ObjectFreeze(out);
}

class MessageEvent extends Event {
  #data;
  #origin;
  #lastEventId;
  #source;
  #ports;

  constructor(type, eventInitDict = undefined, key = undefined) {
    if (key === events.PRECONVERTED) { // trustedMessageEvent's: converted already
      super(type, eventInitDict, key);
      this.#data = eventInitDict.data;
      this.#origin = eventInitDict.origin;
      this.#lastEventId = eventInitDict.lastEventId;
      this.#source = null;
      this.#ports = frozenCopy(eventInitDict.ports);
      return;
    }
    const prefix = "Failed to construct 'MessageEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    const init = convertMessageEventInit(eventInitDict, prefix, "Argument 2");
    super(type, init);
    this.#data = init.data;
    this.#origin = init.origin;
    this.#lastEventId = init.lastEventId;
    this.#source = init.source;
    this.#ports = frozenCopy(init.ports);
  }

  static #check(self, member) {
    if (self === null || typeof self !== "object" || !(#data in self)) {
      throw illegalInvocation("MessageEvent", member);
    }
  }

  get data() {
    MessageEvent.#check(this, "data");
    return this.#data;
  }

  get origin() {
    MessageEvent.#check(this, "origin");
    return this.#origin;
  }

  get lastEventId() {
    MessageEvent.#check(this, "lastEventId");
    return this.#lastEventId;
  }

  get source() {
    MessageEvent.#check(this, "source");
    return this.#source;
  }

  get ports() {
    MessageEvent.#check(this, "ports");
    return this.#ports;
  }

  initMessageEvent(type, bubbles = false, cancelable = false, data = null, origin = "",
    lastEventId = "", source = null, ports = []) {
    const prefix = "Failed to execute 'initMessageEvent' on 'MessageEvent'";
    MessageEvent.#check(this, "initMessageEvent");
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (this.eventPhase !== Event.NONE) return; // being dispatched
    this.initEvent(type, bubbles, cancelable);
    this.#data = data;
    this.#origin = converters.USVString(origin, prefix, "Argument 5");
    this.#lastEventId = converters.DOMString(lastEventId, prefix, "Argument 6");
    this.#source = convertSource(source, prefix, "Argument 7");
    this.#ports = frozenCopy(convertPorts(ports, prefix, "Argument 8"));
  }
}

webidl.configureInterface(MessageEvent);

const NO_PORTS = ObjectFreeze([]);

/**
 * A trusted MessageEvent (not bubbling, not cancelable) from values the runtime holds
 * already: what "fire an event named `type` using MessageEvent" with `data`, `origin` and
 * `ports` makes, without converting its init dictionary member by member.
 */
function trustedMessageEvent(type, data, origin = "", ports = NO_PORTS, lastEventId = "") {
  const init = {
    __proto__: null, bubbles: false, cancelable: false, composed: false, data, origin, ports,
    lastEventId,
  };
  const event = new MessageEvent(type, init, events.PRECONVERTED);
  events.setTrusted(event);
  return event;
}

internals.messaging = { MessagePort, MessageChannel, MessageEvent, trustedMessageEvent };
internals.exposeGlobals({ MessageChannel, MessagePort, MessageEvent });
