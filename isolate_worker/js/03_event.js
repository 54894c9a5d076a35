// Events (DOM standard §2: Event, CustomEvent, EventTarget) for targets with no tree,
// plus HTML's ErrorEvent, event handler attributes (`onabort`, ...) and reportError().
//
// Every target here is its own whole event path: dispatch runs the capturing listeners,
// then the others, at the target, in the order they were added. Events fired by the
// runtime are trusted; events dispatched by scripts are not.
// Exports: internals.events, internals.highResolutionTime.

const {
  ArrayPrototypeIndexOf,
  ArrayPrototypePush,
  ArrayPrototypeSlice,
  ArrayPrototypeSplice,
  DateNow,
  FunctionPrototypeCall,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ReflectApply,
  SafeMap,
  SafeWeakMap,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;

// --- Time --------------------------------------------------------------------------------

// HTML's time origin for this isolate, and a clock that never goes backwards. The context
// was created just before the runtime loaded; taking the origin one millisecond early keeps
// every time measured in the isolate (Event.timeStamp, performance.now()) above zero.
const timeOrigin = DateNow() - 1;
let lastNow = 1;

/** Milliseconds since the time origin (monotonic, millisecond resolution). */
function highResolutionNow() {
  const now = DateNow() - timeOrigin;
  if (now > lastNow) lastNow = now;
  return lastNow;
}

internals.highResolutionTime = { timeOrigin, now: highResolutionNow };

// --- Event -------------------------------------------------------------------------------

const NONE = 0;
const CAPTURING_PHASE = 1;
const AT_TARGET = 2;
const BUBBLING_PHASE = 3;

// dictionary EventInit: the parent of every other event's init dictionary, here and in the
// files that define events (22_messaging.js, 37_websocket.js), as converters.EventInit.
const convertEventInit = webidl.createDictionaryConverter("EventInit", [
  { key: "bubbles", converter: converters.boolean, defaultValue: false },
  { key: "cancelable", converter: converters.boolean, defaultValue: false },
  { key: "composed", converter: converters.boolean, defaultValue: false },
]);
converters.EventInit = convertEventInit;

// [LegacyUnforgeable] isTrusted: one getter shared by every instance's own property.
let getEventState;
let isEvent;
const isTrustedGetter = {
  get isTrusted() {
    return getEventState(this, "isTrusted").isTrusted;
  },
};
const isTrustedDescriptor = {
  get: ObjectGetOwnPropertyDescriptor(isTrustedGetter, "isTrusted").get,
  enumerable: true,
  configurable: false,
};

function newEventState(type, init) {
  return {
    type,
    bubbles: init.bubbles,
    cancelable: init.cancelable,
    composed: init.composed,
    target: null,
    currentTarget: null,
    eventPhase: NONE,
    stopPropagation: false,
    stopImmediatePropagation: false,
    canceled: false,
    inPassiveListener: false,
    initialized: true,
    dispatching: false,
    isTrusted: false,
    timeStamp: highResolutionNow(),
    path: null, // the target while it is being dispatched
  };
}

// The runtime's own events pass this as a third constructor argument: their type and init
// are converted already (a string, and a record with every member), so the constructors
// skip Web IDL's conversions (a MessageEvent per WebSocket message: 1.8 -> 0.6 µs).
// Scripts never see it.
const PRECONVERTED = ObjectFreeze({ __proto__: null });

class Event {
  #state;

  constructor(type, eventInitDict = undefined, key = undefined) {
    if (key === PRECONVERTED) {
      this.#state = newEventState(type, eventInitDict);
      ObjectDefineProperty(this, "isTrusted", isTrustedDescriptor);
      return;
    }
    const prefix = `Failed to construct '${new.target.name || "Event"}'`;
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    const init = convertEventInit(eventInitDict, prefix, "Argument 2");
    this.#state = newEventState(type, init);
    ObjectDefineProperty(this, "isTrusted", isTrustedDescriptor);
  }

  static {
    getEventState = (event, member) => {
      if (event === null || typeof event !== "object" || !(#state in event)) {
        throw new TypeErrorCtor(
          `Failed to read the '${member}' property from 'Event': Illegal invocation`,
        );
      }
      return event.#state;
    };
    isEvent = (value) => value !== null && typeof value === "object" && #state in value;
  }

  get type() {
    return getEventState(this, "type").type;
  }

  get target() {
    return getEventState(this, "target").target;
  }

  get srcElement() {
    return getEventState(this, "srcElement").target;
  }

  get currentTarget() {
    return getEventState(this, "currentTarget").currentTarget;
  }

  composedPath() {
    const s = getEventState(this, "composedPath");
    // With no tree, the path is the target alone, and only while it is dispatched.
    if (s.path === null || s.currentTarget === null) return [];
    return [s.currentTarget];
  }

  get eventPhase() {
    return getEventState(this, "eventPhase").eventPhase;
  }

  stopPropagation() {
    getEventState(this, "stopPropagation").stopPropagation = true;
  }

  get cancelBubble() {
    return getEventState(this, "cancelBubble").stopPropagation;
  }

  set cancelBubble(value) {
    const s = getEventState(this, "cancelBubble");
    if (converters.boolean(value)) s.stopPropagation = true;
  }

  stopImmediatePropagation() {
    const s = getEventState(this, "stopImmediatePropagation");
    s.stopPropagation = true;
    s.stopImmediatePropagation = true;
  }

  get bubbles() {
    return getEventState(this, "bubbles").bubbles;
  }

  get cancelable() {
    return getEventState(this, "cancelable").cancelable;
  }

  get returnValue() {
    return !getEventState(this, "returnValue").canceled;
  }

  set returnValue(value) {
    const s = getEventState(this, "returnValue");
    if (!converters.boolean(value)) setCanceledFlag(s);
  }

  preventDefault() {
    setCanceledFlag(getEventState(this, "preventDefault"));
  }

  get defaultPrevented() {
    return getEventState(this, "defaultPrevented").canceled;
  }

  get composed() {
    return getEventState(this, "composed").composed;
  }

  get timeStamp() {
    return getEventState(this, "timeStamp").timeStamp;
  }

  initEvent(type, bubbles = false, cancelable = false) {
    const s = getEventState(this, "initEvent");
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'initEvent' on 'Event'");
    type = converters.DOMString(type);
    bubbles = converters.boolean(bubbles);
    cancelable = converters.boolean(cancelable);
    if (s.dispatching) return;
    initializeEvent(s, type, bubbles, cancelable);
  }
}

/** DOM "set the canceled flag". */
function setCanceledFlag(s) {
  if (s.cancelable && !s.inPassiveListener) s.canceled = true;
}

/** DOM "initialize" an event. */
function initializeEvent(s, type, bubbles, cancelable) {
  s.initialized = true;
  s.stopPropagation = false;
  s.stopImmediatePropagation = false;
  s.canceled = false;
  s.isTrusted = false;
  s.target = null;
  s.type = type;
  s.bubbles = bubbles;
  s.cancelable = cancelable;
}

function defineConstants(klass, constants) {
  for (const key in constants) {
    const desc = { value: constants[key], writable: false, enumerable: true, configurable: false };
    ObjectDefineProperty(klass, key, desc);
    ObjectDefineProperty(klass.prototype, key, desc);
  }
}

webidl.configureInterface(Event);
defineConstants(Event, { NONE, CAPTURING_PHASE, AT_TARGET, BUBBLING_PHASE });

// --- CustomEvent -------------------------------------------------------------------------

// dictionary CustomEventInit : EventInit
const convertCustomEventInit = webidl.createDictionaryConverter("CustomEventInit", [
  { key: "detail", converter: converters.any, defaultValue: null },
], convertEventInit);

class CustomEvent extends Event {
  #detail;

  constructor(type, eventInitDict = undefined) {
    const prefix = "Failed to construct 'CustomEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    const init = convertCustomEventInit(eventInitDict, prefix, "Argument 2");
    super(type, init);
    this.#detail = init.detail;
  }

  get detail() {
    if (this === null || typeof this !== "object" || !(#detail in this)) {
      throw new TypeErrorCtor("Failed to read the 'detail' property from 'CustomEvent': Illegal invocation");
    }
    return this.#detail;
  }

  initCustomEvent(type, bubbles = false, cancelable = false, detail = null) {
    if (this === null || typeof this !== "object" || !(#detail in this)) {
      throw new TypeErrorCtor("Failed to execute 'initCustomEvent' on 'CustomEvent': Illegal invocation");
    }
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'initCustomEvent' on 'CustomEvent'");
    type = converters.DOMString(type);
    const s = getEventState(this, "initCustomEvent");
    if (s.dispatching) return;
    initializeEvent(s, type, converters.boolean(bubbles), converters.boolean(cancelable));
    this.#detail = detail;
  }
}

webidl.configureInterface(CustomEvent);

// --- ErrorEvent (HTML) -------------------------------------------------------------------

// dictionary ErrorEventInit : EventInit (its colno is read after EventInit's composed)
const convertErrorEventInit = webidl.createDictionaryConverter("ErrorEventInit", [
  { key: "colno", converter: converters["unsigned long"], defaultValue: 0 },
  { key: "error", converter: converters.any, defaultValue: undefined },
  { key: "filename", converter: converters.USVString, defaultValue: "" },
  { key: "lineno", converter: converters["unsigned long"], defaultValue: 0 },
  { key: "message", converter: converters.DOMString, defaultValue: "" },
], convertEventInit);

let getErrorEventInit;

class ErrorEvent extends Event {
  #init;

  constructor(type, eventInitDict = undefined) {
    const prefix = "Failed to construct 'ErrorEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    const init = convertErrorEventInit(eventInitDict, prefix, "Argument 2");
    super(type, init);
    this.#init = init;
  }

  static {
    getErrorEventInit = (self) =>
      self !== null && typeof self === "object" && #init in self ? self.#init : null;
  }

  static #get(self, member) {
    const init = getErrorEventInit(self);
    if (init === null) {
      throw new TypeErrorCtor(
        `Failed to read the '${member}' property from 'ErrorEvent': Illegal invocation`,
      );
    }
    return init[member];
  }

  get message() {
    return ErrorEvent.#get(this, "message");
  }

  get filename() {
    return ErrorEvent.#get(this, "filename");
  }

  get lineno() {
    return ErrorEvent.#get(this, "lineno");
  }

  get colno() {
    return ErrorEvent.#get(this, "colno");
  }

  get error() {
    return ErrorEvent.#get(this, "error");
  }
}

webidl.configureInterface(ErrorEvent);

// --- PromiseRejectionEvent (HTML) --------------------------------------------------------

// dictionary PromiseRejectionEventInit : EventInit
const convertPromiseRejectionEventInit = webidl.createDictionaryConverter(
  "PromiseRejectionEventInit", [
    { key: "promise", converter: converters.object, required: true },
    { key: "reason", converter: converters.any, defaultValue: undefined },
  ], convertEventInit);

class PromiseRejectionEvent extends Event {
  #promise;
  #reason;

  constructor(type, eventInitDict) {
    const prefix = "Failed to construct 'PromiseRejectionEvent'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    const init = convertPromiseRejectionEventInit(eventInitDict, prefix, "Argument 2");
    super(type, init);
    this.#promise = init.promise;
    this.#reason = init.reason;
  }

  get promise() {
    if (!(#promise in this)) {
      throw new TypeErrorCtor(
        "Failed to read the 'promise' property from 'PromiseRejectionEvent': Illegal invocation");
    }
    return this.#promise;
  }

  get reason() {
    if (!(#reason in this)) {
      throw new TypeErrorCtor(
        "Failed to read the 'reason' property from 'PromiseRejectionEvent': Illegal invocation");
    }
    return this.#reason;
  }
}

webidl.configureInterface(PromiseRejectionEvent);

// --- EventTarget -------------------------------------------------------------------------

// Internal slots of every event target: { listeners: Map(type -> listener[]), onChange }.
// A WeakMap rather than private fields, so that existing objects (the global object) can
// become event targets too.
const targetSlots = new SafeWeakMap();

function newTargetSlots() {
  return { listeners: new SafeMap(), onChange: null };
}

/** The `this` of an EventTarget operation: Web IDL maps null/undefined to the global. */
function getTargetSlots(self, method) {
  const target = self === undefined || self === null ? globalThis : self;
  const slots = typeof target === "object" || typeof target === "function"
    ? targetSlots.get(target)
    : undefined;
  if (slots === undefined) {
    throw new TypeErrorCtor(`Failed to execute '${method}' on 'EventTarget': Illegal invocation`);
  }
  return slots;
}

function convertEventListener(callback, prefix) {
  if (callback === undefined || callback === null) return null;
  if (typeof callback !== "object" && typeof callback !== "function") {
    throw new TypeErrorCtor(`${prefix}: The callback provided as parameter 2 is not an object.`);
  }
  return callback;
}

/** DOM "flatten" options: the capture flag of a boolean or an EventListenerOptions. */
function flattenOptions(options) {
  if (typeof options === "boolean") return options;
  if (options === undefined || options === null) return false;
  if (typeof options !== "object" && typeof options !== "function") {
    return converters.boolean(options);
  }
  return converters.boolean(options.capture);
}

/** DOM "flatten more": { capture, once, passive, signal } (members read in IDL order). */
function flattenMoreOptions(options, prefix) {
  if (options === undefined || options === null ||
      (typeof options !== "object" && typeof options !== "function")) {
    return { capture: converters.boolean(options), once: false, passive: null, signal: null };
  }
  const capture = converters.boolean(options.capture);
  const once = converters.boolean(options.once);
  const rawPassive = options.passive;
  const passive = rawPassive === undefined ? null : converters.boolean(rawPassive);
  const rawSignal = options.signal;
  let signal = null;
  if (rawSignal !== undefined) {
    const abort = internals.abort;
    if (abort === undefined || !abort.isAbortSignal(rawSignal)) {
      throw new TypeErrorCtor(`${prefix}: member signal is not of type AbortSignal.`);
    }
    signal = rawSignal;
  }
  return { capture, once, passive, signal };
}

function findListener(list, callback, capture) {
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    if (l.callback === callback && l.capture === capture) return i;
  }
  return -1;
}

function notifyChange(slots, type) {
  if (slots.onChange !== null) slots.onChange(type);
}

/** DOM "add an event listener". */
function addEventListenerToSlots(slots, listener) {
  const { signal } = listener;
  if (signal !== null && signal.aborted) return;
  if (listener.callback === null) return;
  let list = slots.listeners.get(listener.type);
  if (list === undefined) {
    list = [];
    slots.listeners.set(listener.type, list);
  }
  if (findListener(list, listener.callback, listener.capture) !== -1) return;
  ArrayPrototypePush(list, listener);
  if (signal !== null) {
    listener.abortHandle = internals.abort.addAlgorithm(
      signal, () => removeListenerRecord(slots, listener),
    );
  }
  notifyChange(slots, listener.type);
}

/** DOM "remove an event listener". */
function removeListenerRecord(slots, listener) {
  listener.removed = true;
  if (listener.signal !== null && listener.abortHandle !== 0) {
    internals.abort.removeAlgorithm(listener.signal, listener.abortHandle);
    listener.abortHandle = 0;
  }
  const list = slots.listeners.get(listener.type);
  if (list === undefined) return;
  const i = ArrayPrototypeIndexOf(list, listener);
  if (i === -1) return;
  ArrayPrototypeSplice(list, i, 1);
  if (list.length === 0) slots.listeners.delete(listener.type);
  notifyChange(slots, listener.type);
}

class EventTarget {
  constructor() {
    targetSlots.set(this, newTargetSlots());
  }

  addEventListener(type, callback, options = undefined) {
    const prefix = "Failed to execute 'addEventListener' on 'EventTarget'";
    const slots = getTargetSlots(this, "addEventListener");
    webidl.requiredArguments(arguments.length, 2, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    callback = convertEventListener(callback, prefix);
    const { capture, once, passive, signal } = flattenMoreOptions(options, prefix);
    addEventListenerToSlots(slots, {
      type,
      callback,
      capture,
      once,
      passive: passive === true,
      signal,
      removed: false,
      abortHandle: 0,
    });
  }

  removeEventListener(type, callback, options = undefined) {
    const prefix = "Failed to execute 'removeEventListener' on 'EventTarget'";
    const slots = getTargetSlots(this, "removeEventListener");
    webidl.requiredArguments(arguments.length, 2, prefix);
    type = converters.DOMString(type, prefix, "Argument 1");
    callback = convertEventListener(callback, prefix);
    const capture = flattenOptions(options);
    const list = slots.listeners.get(type);
    if (list === undefined || callback === null) return;
    const i = findListener(list, callback, capture);
    if (i !== -1) removeListenerRecord(slots, list[i]);
  }

  dispatchEvent(event) {
    const prefix = "Failed to execute 'dispatchEvent' on 'EventTarget'";
    getTargetSlots(this, "dispatchEvent");
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (!isEvent(event)) {
      throw new TypeErrorCtor(`${prefix}: parameter 1 is not of type 'Event'.`);
    }
    const s = getEventState(event, "");
    if (s.dispatching || !s.initialized) {
      throw new internals.DOMException(
        `${prefix}: The event is already being dispatched.`, "InvalidStateError",
      );
    }
    s.isTrusted = false;
    return dispatch(this ?? globalThis, event);
  }
}

webidl.configureInterface(EventTarget);

/** DOM "dispatch" at a target with no parent: returns false when the event was canceled. */
function dispatch(target, event) {
  const s = getEventState(event, "");
  s.dispatching = true;
  s.target = target;
  s.path = target;
  s.eventPhase = AT_TARGET;
  invoke(target, s, event, CAPTURING_PHASE);
  invoke(target, s, event, BUBBLING_PHASE);
  s.eventPhase = NONE;
  s.currentTarget = null;
  s.path = null;
  s.dispatching = false;
  s.stopPropagation = false;
  s.stopImmediatePropagation = false;
  return !s.canceled;
}

/** DOM "invoke" for one phase at the target. */
function invoke(target, s, event, phase) {
  if (s.stopPropagation) return;
  const slots = targetSlots.get(target);
  if (slots === undefined) return;
  const list = slots.listeners.get(s.type);
  if (list === undefined) return;
  s.currentTarget = target;
  innerInvoke(target, slots, s, event, ArrayPrototypeSlice(list), phase);
}

/** DOM "inner invoke": call each listener of a snapshot of the list. */
function innerInvoke(target, slots, s, event, listeners, phase) {
  for (let i = 0; i < listeners.length; i++) {
    const listener = listeners[i];
    if (listener.removed) continue;
    if (phase === CAPTURING_PHASE && !listener.capture) continue;
    if (phase === BUBBLING_PHASE && listener.capture) continue;
    if (listener.once) removeListenerRecord(slots, listener);
    if (listener.passive) s.inPassiveListener = true;
    callListener(listener.callback, target, event);
    s.inPassiveListener = false;
    if (s.stopImmediatePropagation) return;
  }
}

/** Web IDL "call a user object's operation" handleEvent, or the function itself. */
function callListener(callback, thisArg, event) {
  try {
    if (typeof callback === "function") {
      internals.trackCallbackResult(FunctionPrototypeCall(callback, thisArg, event));
      return;
    }
    const handleEvent = callback.handleEvent;
    if (typeof handleEvent !== "function") {
      throw new TypeErrorCtor("The 'handleEvent' property of the event listener is not callable.");
    }
    internals.trackCallbackResult(FunctionPrototypeCall(handleEvent, callback, event));
  } catch (e) {
    reportException(e);
  }
}

// --- Event handler attributes (HTML) -----------------------------------------------------

// Per target: Map(name -> { value, listener }) where listener is the registered record.
const handlerSlots = new SafeWeakMap();

function getHandlerMap(target) {
  let map = handlerSlots.get(target);
  if (map === undefined) {
    map = new SafeMap();
    handlerSlots.set(target, map);
  }
  return map;
}

/** HTML "the event handler processing algorithm". */
function processEventHandler(target, name, event, isErrorHandler) {
  const entry = getHandlerMap(target).get(name);
  if (entry === undefined || entry.value === null) return;
  const callback = entry.value;
  let returnValue;
  try {
    if (typeof callback !== "function") {
      throw new TypeErrorCtor(`The 'on${name}' event handler is not callable.`);
    }
    const errorInit = isErrorHandler ? getErrorEventInit(event) : null;
    if (errorInit !== null) {
      const { message, filename, lineno, colno, error } = errorInit;
      returnValue = ReflectApply(callback, target, [message, filename, lineno, colno, error]);
      if (returnValue === true) event.preventDefault();
      return;
    }
    returnValue = FunctionPrototypeCall(callback, target, event);
    internals.trackCallbackResult(returnValue);
  } catch (e) {
    reportException(e);
    return;
  }
  if (returnValue === false) event.preventDefault();
}

/**
 * Define an `on<name>` event handler IDL attribute on `proto` (an EventTarget prototype).
 * `options.errorHandler` gives it the OnErrorEventHandler calling convention.
 */
function defineEventHandler(proto, name, options = {}) {
  const isErrorHandler = options.errorHandler === true;
  // The accessors of an IDL attribute are named "get on<name>" and "set on<name>".
  const accessors = {
    get [`on${name}`]() {
      const target = this ?? globalThis;
      getTargetSlots(target, `on${name}`);
      const entry = getHandlerMap(target).get(name);
      return entry === undefined ? null : entry.value;
    },
    set [`on${name}`](value) {
      const target = this ?? globalThis;
      const slots = getTargetSlots(target, `on${name}`);
      // [LegacyTreatNonObjectAsNull]: anything that is not an object becomes null.
      const handler = (typeof value === "object" && value !== null) || typeof value === "function"
        ? value
        : null;
      const map = getHandlerMap(target);
      let entry = map.get(name);
      if (entry === undefined) {
        entry = { value: null, listener: null };
        map.set(name, entry);
      }
      entry.value = handler;
      if (handler === null) {
        // Deactivate: remove the listener; a later handler is registered anew, last.
        if (entry.listener !== null) removeListenerRecord(slots, entry.listener);
        entry.listener = null;
      } else if (entry.listener === null) {
        entry.listener = {
          type: name,
          callback: (event) => processEventHandler(target, name, event, isErrorHandler),
          capture: false,
          once: false,
          passive: false,
          signal: null,
          removed: false,
          abortHandle: 0,
        };
        addEventListenerToSlots(slots, entry.listener);
      }
    },
  };
  const { get, set } = ObjectGetOwnPropertyDescriptor(accessors, `on${name}`);
  ObjectDefineProperty(proto, `on${name}`, { get, set, enumerable: true, configurable: true });
}

// --- Reporting exceptions (HTML "report an exception") -----------------------------------

let inErrorReportingMode = false;

/**
 * HTML "report an exception": fire a cancelable, trusted ErrorEvent named "error" at the
 * global object when it is an event target, and hand the exception to the host hook
 * (internals.reportException, which logs it) unless a listener canceled the event.
 */
function reportException(error) {
  let notHandled = true;
  if (targetSlots.has(globalThis) && !inErrorReportingMode) {
    inErrorReportingMode = true;
    try {
      const init = errorEventInitFor(error);
      const event = new ErrorEvent("error", init);
      getEventState(event, "").isTrusted = true;
      notHandled = dispatch(globalThis, event);
    } catch {
      // The error event could not be dispatched; log the original exception.
    } finally {
      inErrorReportingMode = false;
    }
  }
  if (notHandled) internals.reportException(error);
}

/**
 * The value of `obj`'s property `key` when it is a data property (own or inherited), else
 * undefined: "extract error information" must not run script, so accessors are not called.
 */
function dataPropertyValue(obj, key) {
  for (let o = obj; o !== null; o = ObjectGetPrototypeOf(o)) {
    const desc = ObjectGetOwnPropertyDescriptor(o, key);
    if (desc !== undefined) return "value" in desc ? desc.value : undefined;
  }
  return undefined;
}

// HTML "extract error information": the message is implementation-defined; it is taken
// from the exception's `name` and `message` data properties, never by calling a getter.
function errorEventInitFor(error) {
  let message = "Uncaught";
  try {
    if (error !== null && typeof error === "object" && "message" in error) {
      const name = dataPropertyValue(error, "name");
      const text = dataPropertyValue(error, "message");
      message = `Uncaught ${typeof name === "string" ? name : "Error"}` +
        (typeof text === "string" ? `: ${text}` : "");
    } else {
      message = `Uncaught ${converters.DOMString(error)}`;
    }
  } catch {
    // Keep the generic message for values that cannot be stringified.
  }
  return { cancelable: true, message, error };
}

function reportError(e) {
  webidl.requiredArguments(arguments.length, 1, "Failed to execute 'reportError'");
  reportException(e);
}

// --- Runtime-facing helpers --------------------------------------------------------------

/** Give an existing object (e.g. the global object) EventTarget behaviour. */
function installEventTarget(obj, { methods = true } = {}) {
  if (!targetSlots.has(obj)) targetSlots.set(obj, newTargetSlots());
  if (methods) {
    for (const name of ["addEventListener", "removeEventListener", "dispatchEvent"]) {
      ObjectDefineProperty(obj, name, {
        value: EventTarget.prototype[name],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }
  return obj;
}

/** A trusted event of `type` (an Event, or the given constructor with `init`). */
function createTrustedEvent(type, init = undefined, EventClass = Event) {
  const event = new EventClass(type, init);
  getEventState(event, "").isTrusted = true;
  return event;
}

internals.events = ObjectFreeze({
  Event,
  CustomEvent,
  ErrorEvent,
  PromiseRejectionEvent,
  EventTarget,
  isEvent,
  isEventTarget: (value) =>
    (typeof value === "object" || typeof value === "function") && value !== null &&
    targetSlots.has(value),
  /** Dispatch without the checks dispatchEvent() makes; returns !canceled. */
  dispatch,
  /** Mark an event trusted (events the runtime fires itself). */
  setTrusted(event, trusted = true) {
    getEventState(event, "setTrusted").isTrusted = trusted;
  },
  /** DOM "fire an event": a trusted event named `type` dispatched at `target`. */
  fire(target, type, init = undefined, EventClass = Event) {
    return dispatch(target, createTrustedEvent(type, init, EventClass));
  },
  createTrustedEvent,
  /** The key that makes an event constructor take its type and init as converted. */
  PRECONVERTED,
  installEventTarget,
  defineEventHandler,
  reportException,
  /** Whether `target` has a listener for `type`. */
  hasListeners(target, type) {
    const slots = targetSlots.get(target);
    return slots !== undefined && slots.listeners.has(type);
  },
  /** Number of listeners registered on `target` for `type`. */
  listenerCount(target, type) {
    const slots = targetSlots.get(target);
    const list = slots === undefined ? undefined : slots.listeners.get(type);
    return list === undefined ? 0 : list.length;
  },
  /** Be told (fn(type)) whenever a listener is added to or removed from `target`. */
  onListenersChanged(target, fn) {
    targetSlots.get(target).onChange = fn;
  },
});

internals.exposeGlobals({ Event, EventTarget, CustomEvent, ErrorEvent, PromiseRejectionEvent });
internals.exposeGlobalOperation("reportError", reportError); // WindowOrWorkerGlobalScope
