// META: internals
// Event, CustomEvent, ErrorEvent, EventTarget (DOM standard) on targets with no tree.

/** Run fn and return the exceptions it reported (as the global's error events saw them). */
function captureReported(fn) {
  const errors = [];
  const listener = (e) => {
    errors.push(e.error);
    e.preventDefault();
  };
  globalThis.addEventListener("error", listener);
  try {
    fn();
  } finally {
    globalThis.removeEventListener("error", listener);
  }
  return errors;
}

// --- Event construction -------------------------------------------------------------------

test(() => {
  assert_throws_js(TypeError, () => Event("x"));
  assert_throws_js(TypeError, () => new Event());
}, "Event requires new and a type");

test(() => {
  const err = { name: "thrown" };
  assert_throws_exactly(err, () => new Event({ toString() { throw err; } }));
}, "Event type conversion errors propagate");

test(() => {
  const ev = new Event("test");
  assert_equals(ev.type, "test");
  assert_equals(ev.target, null);
  assert_equals(ev.srcElement, null);
  assert_equals(ev.currentTarget, null);
  assert_equals(ev.eventPhase, Event.NONE);
  assert_false(ev.bubbles);
  assert_false(ev.cancelable);
  assert_false(ev.composed);
  assert_false(ev.defaultPrevented);
  assert_true(ev.returnValue);
  assert_false(ev.isTrusted);
  assert_false(ev.cancelBubble);
  assert_array_equals(ev.composedPath(), []);
}, "a new Event has the default state");

test(() => {
  assert_equals(new Event("").type, "");
  assert_equals(new Event(null).type, "null");
  assert_equals(new Event(undefined).type, "undefined");
}, "Event type is converted with DOMString rules");

test(() => {
  const ev = new Event("x", { bubbles: true, cancelable: true, composed: true });
  assert_true(ev.bubbles);
  assert_true(ev.cancelable);
  assert_true(ev.composed);
}, "EventInit sets bubbles, cancelable and composed");

test(() => {
  const ev = new Event("@", { bubblesIGNORED: true, "bubbles\0IGNORED": true, cancelable: 1, sweet: "x" });
  assert_false(ev.bubbles);
  assert_true(ev.cancelable);
  assert_equals(ev.sweet, undefined);
}, "unknown EventInit members are ignored and values converted to booleans");

test(() => {
  const called = [];
  new Event("x", {
    get composed() { called.push("composed"); return false; },
    get cancelable() { called.push("cancelable"); return false; },
    get bubbles() { called.push("bubbles"); return true; },
    get sweet() { called.push("sweet"); return "x"; },
  });
  assert_array_equals(called, ["bubbles", "cancelable", "composed"]);
}, "EventInit members are read in lexicographic order");

test(() => {
  for (const init of [undefined, null, {}]) {
    const ev = new Event("x", init);
    assert_false(ev.bubbles);
    assert_false(ev.cancelable);
  }
  assert_throws_js(TypeError, () => new Event("x", 5));
  assert_throws_js(TypeError, () => new Event("x", "bubbles"));
}, "EventInit accepts undefined, null and objects only");

test(() => {
  const ev = new Event("x");
  assert_greater_than(ev.timeStamp, -1);
  assert_less_than_equal(ev.timeStamp, performance.now() + 1);
}, "timeStamp is relative to the time origin");

test(() => {
  assert_equals(Event.NONE, 0);
  assert_equals(Event.CAPTURING_PHASE, 1);
  assert_equals(Event.AT_TARGET, 2);
  assert_equals(Event.BUBBLING_PHASE, 3);
  assert_equals(Event.prototype.AT_TARGET, 2);
  assert_equals(new Event("x").BUBBLING_PHASE, 3);
  const desc = Object.getOwnPropertyDescriptor(Event, "AT_TARGET");
  assert_false(desc.writable);
  assert_false(desc.configurable);
  assert_true(desc.enumerable);
}, "phase constants are on the constructor and the prototype");

test(() => {
  const d1 = Object.getOwnPropertyDescriptor(new Event("x"), "isTrusted");
  const d2 = Object.getOwnPropertyDescriptor(new Event("y"), "isTrusted");
  assert_equals(typeof d1.get, "function");
  assert_equals(d1.get, d2.get);
  assert_equals(d1.set, undefined);
  assert_false(d1.configurable);
  assert_true(d1.enumerable);
  assert_false("isTrusted" in Event.prototype);
}, "isTrusted is an unforgeable own getter shared by all events");

test(() => {
  const getter = Object.getOwnPropertyDescriptor(Event.prototype, "type").get;
  assert_throws_js(TypeError, () => getter.call({}));
  assert_throws_js(TypeError, () => Event.prototype.preventDefault.call({}));
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(new Event("x"), "isTrusted").get.call({}));
}, "Event members perform brand checks");

test(() => {
  assert_class_string(new Event("x"), "Event");
  assert_class_string(new CustomEvent("x"), "CustomEvent");
  assert_class_string(new EventTarget(), "EventTarget");
  const desc = Object.getOwnPropertyDescriptor(Event.prototype, "type");
  assert_true(desc.enumerable);
  assert_true(desc.configurable);
}, "Event and EventTarget look like IDL interfaces");

// --- cancelation ------------------------------------------------------------------------

test(() => {
  const ev = new Event("foo", { cancelable: false });
  ev.preventDefault();
  assert_false(ev.defaultPrevented);
  assert_true(ev.returnValue);
  ev.returnValue = false;
  assert_true(ev.returnValue);
}, "preventDefault and returnValue=false do nothing when not cancelable");

test(() => {
  const ev = new Event("foo", { cancelable: true });
  ev.preventDefault();
  assert_true(ev.defaultPrevented);
  assert_false(ev.returnValue);
  ev.returnValue = true;
  assert_false(ev.returnValue, "returnValue=true cannot uncancel");
}, "preventDefault cancels a cancelable event");

test(() => {
  const ev = new Event("foo", { cancelable: true });
  ev.returnValue = false;
  assert_true(ev.defaultPrevented);
}, "returnValue=false cancels a cancelable event");

// --- propagation flags --------------------------------------------------------------------

test(() => {
  const e = new Event("foo");
  e.stopPropagation();
  assert_true(e.cancelBubble);
  e.cancelBubble = false;
  assert_true(e.cancelBubble, "setting false has no effect");
  const f = new Event("foo");
  f.cancelBubble = true;
  assert_true(f.cancelBubble);
  const g = new Event("foo");
  g.stopImmediatePropagation();
  assert_true(g.cancelBubble);
}, "cancelBubble reflects the stop propagation flag");

test(() => {
  const target = new EventTarget();
  const e = new Event("foo");
  e.stopPropagation();
  let called = false;
  target.addEventListener("foo", () => { called = true; });
  assert_true(target.dispatchEvent(e));
  assert_false(called, "a stopped event reaches no listener");
  assert_false(e.cancelBubble, "flag is cleared after dispatch");
}, "stopPropagation before dispatch prevents all listeners");

test(() => {
  const target = new EventTarget();
  const calls = [];
  target.addEventListener("foo", (e) => { calls.push(1); e.stopImmediatePropagation(); });
  target.addEventListener("foo", () => calls.push(2));
  target.dispatchEvent(new Event("foo"));
  assert_array_equals(calls, [1]);
}, "stopImmediatePropagation stops the remaining listeners");

test(() => {
  const target = new EventTarget();
  const calls = [];
  target.addEventListener("foo", (e) => { calls.push(1); e.stopPropagation(); });
  target.addEventListener("foo", () => calls.push(2));
  target.dispatchEvent(new Event("foo"));
  assert_array_equals(calls, [1, 2]);
}, "stopPropagation does not stop other listeners at the same target");

test(() => {
  const target = new EventTarget();
  const calls = [];
  target.addEventListener("foo", (e) => { calls.push("capture"); e.stopPropagation(); }, true);
  target.addEventListener("foo", () => calls.push("bubble"));
  target.dispatchEvent(new Event("foo"));
  assert_array_equals(calls, ["capture"]);
}, "stopPropagation in a capture listener skips the non-capture listeners");

// --- initEvent ---------------------------------------------------------------------------

for (const bubbles of [true, false]) {
  for (const cancelable of [true, false]) {
    test(() => {
      const e = new Event("");
      e.initEvent("type", bubbles, cancelable);
      assert_equals(e.type, "type");
      assert_equals(e.bubbles, bubbles);
      assert_equals(e.cancelable, cancelable);
      assert_false(e.defaultPrevented);
      assert_false(e.isTrusted);
      assert_equals(e.target, null);
    }, `initEvent(type, ${bubbles}, ${cancelable}) sets the properties`);
  }
}

test(() => {
  const e = new Event("");
  assert_throws_js(TypeError, () => e.initEvent());
  e.initEvent("t");
  assert_false(e.bubbles);
  assert_false(e.cancelable);
}, "initEvent requires a type and defaults the rest");

test(() => {
  const one = new Event("foo", { cancelable: true });
  one.preventDefault();
  one.cancelBubble = true;
  one.initEvent("foo", true, true);
  assert_true(one.returnValue);
  assert_false(one.cancelBubble);
}, "initEvent clears the canceled and stop propagation flags");

test(() => {
  const e = new Event("type");
  const target = new EventTarget();
  target.addEventListener("type", () => {
    e.initEvent("type2", true, true);
    assert_equals(e.type, "type");
    assert_false(e.bubbles);
    assert_false(e.cancelable);
  });
  assert_true(target.dispatchEvent(e));
}, "initEvent has no effect while dispatching");

test(() => {
  const e = new Event("");
  e.stopImmediatePropagation();
  e.initEvent("type", false, false);
  const target = new EventTarget();
  let called = false;
  target.addEventListener("type", () => { called = true; });
  target.dispatchEvent(e);
  assert_true(called);
}, "initEvent clears the stop immediate propagation flag");

// --- CustomEvent and ErrorEvent --------------------------------------------------------------

test(() => {
  const ev = new CustomEvent("$", { detail: 54, sweet: "x", cancelable: true });
  assert_equals(ev.type, "$");
  assert_true(ev.cancelable);
  assert_equals(ev.detail, 54);
  assert_equals(ev.sweet, undefined);
  assert_equals(new CustomEvent("x").detail, null);
  assert_true(ev instanceof Event);
}, "CustomEvent carries detail (default null)");

test(() => {
  const ev = new CustomEvent("x");
  ev.initCustomEvent("y", true, true, { a: 1 });
  assert_equals(ev.type, "y");
  assert_true(ev.bubbles);
  assert_equals(ev.detail.a, 1);
  assert_throws_js(TypeError, () => ev.initCustomEvent());
}, "initCustomEvent reinitializes type and detail");

test(() => {
  const e = new CustomEvent("type");
  const target = new EventTarget();
  target.addEventListener("type", () => {
    e.initCustomEvent("type2", true, true, 1);
    assert_equals(e.detail, null);
    assert_equals(e.type, "type");
  });
  target.dispatchEvent(e);
}, "initCustomEvent has no effect while dispatching");

test(() => {
  const getter = Object.getOwnPropertyDescriptor(CustomEvent.prototype, "detail").get;
  assert_throws_js(TypeError, () => getter.call(new Event("x")));
}, "CustomEvent detail performs a brand check");

test(() => {
  const error = new Error("boom");
  const ev = new ErrorEvent("error", {
    message: "boom", filename: "worker.js", lineno: 3, colno: 7, error, cancelable: true,
  });
  assert_equals(ev.message, "boom");
  assert_equals(ev.filename, "worker.js");
  assert_equals(ev.lineno, 3);
  assert_equals(ev.colno, 7);
  assert_equals(ev.error, error);
  assert_true(ev.cancelable);
  assert_true(ev instanceof Event);
}, "ErrorEvent carries message, filename, lineno, colno and error");

test(() => {
  const ev = new ErrorEvent("error");
  assert_equals(ev.message, "");
  assert_equals(ev.filename, "");
  assert_equals(ev.lineno, 0);
  assert_equals(ev.colno, 0);
  assert_equals(ev.error, undefined);
  assert_equals(new ErrorEvent("e", { lineno: -1 }).lineno, 4294967295);
}, "ErrorEvent defaults and unsigned long conversion");

test(() => {
  class SubclassedEvent extends Event {
    constructor(name, props) {
      super(name, props);
      this.customProp = props && props.customProp !== undefined ? props.customProp : 5;
    }
    get fixedProp() { return 17; }
  }
  const ev = new SubclassedEvent("type", { bubbles: true, customProp: 8 });
  assert_true(ev instanceof SubclassedEvent);
  assert_true(ev.bubbles);
  assert_equals(ev.customProp, 8);
  assert_equals(ev.fixedProp, 17);
  assert_false(ev.isTrusted);
  const target = new EventTarget();
  let seen = null;
  target.addEventListener("type", (e) => { seen = e; });
  target.dispatchEvent(ev);
  assert_equals(seen, ev);
}, "Event can be subclassed and the subclass dispatched");

// --- EventTarget ---------------------------------------------------------------------------

test(() => {
  const target = new EventTarget();
  const event = new Event("foo", { bubbles: true });
  let count = 0;
  function listener(e) {
    assert_equals(e, event);
    count++;
  }
  target.addEventListener("foo", listener);
  target.dispatchEvent(event);
  target.dispatchEvent(event);
  assert_equals(count, 2);
  target.removeEventListener("foo", listener);
  target.dispatchEvent(event);
  assert_equals(count, 2);
}, "a constructed EventTarget adds, dispatches to and removes listeners");

test(() => {
  class NicerEventTarget extends EventTarget {
    on(...args) { this.addEventListener(...args); }
    dispatch(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  }
  const target = new NicerEventTarget();
  let got;
  target.on("foo", (e) => { got = e.detail; });
  target.dispatch("foo", 42);
  assert_equals(got, 42);
}, "EventTarget can be subclassed");

test(() => {
  const et = new EventTarget();
  assert_equals(et.addEventListener("x", null, false), undefined);
  assert_equals(et.addEventListener("x", null, true), undefined);
  assert_equals(et.addEventListener("x", undefined), undefined);
  assert_equals(et.removeEventListener("x", null), undefined);
}, "adding and removing a null listener succeeds and does nothing");

test(() => {
  const et = new EventTarget();
  assert_throws_js(TypeError, () => et.addEventListener("x", 5));
  assert_throws_js(TypeError, () => et.addEventListener("x", "str"));
  assert_throws_js(TypeError, () => et.addEventListener("x"));
  assert_throws_js(TypeError, () => et.removeEventListener("x"));
  assert_throws_js(TypeError, () => et.dispatchEvent());
}, "listener must be an object or null; arguments are required");

test(() => {
  const et = new EventTarget();
  assert_throws_js(TypeError, () => et.dispatchEvent(null));
  assert_throws_js(TypeError, () => et.dispatchEvent({ type: "x" }));
}, "dispatchEvent requires an Event");

test(() => {
  assert_throws_js(TypeError, () => EventTarget.prototype.addEventListener.call({}, "x", null));
  assert_throws_js(TypeError, () => EventTarget.prototype.dispatchEvent.call({}, new Event("x")));
}, "EventTarget methods perform brand checks");

test(() => {
  const target = new EventTarget();
  const e = new Event("type");
  let inner;
  target.addEventListener("type", () => {
    try {
      target.dispatchEvent(e);
    } catch (err) {
      inner = err;
    }
  });
  assert_true(target.dispatchEvent(e));
  assert_true(inner instanceof DOMException);
  assert_equals(inner.name, "InvalidStateError");
}, "dispatching an event that is being dispatched throws InvalidStateError");

test(() => {
  const results = [];
  const target = new EventTarget();
  target.addEventListener("x", () => results.push(1), true);
  target.addEventListener("x", () => results.push(2), false);
  target.addEventListener("x", () => results.push(3), true);
  target.addEventListener("x", () => results.push(4), { capture: false });
  target.dispatchEvent(new Event("x"));
  assert_array_equals(results, [1, 3, 2, 4]);
}, "capturing listeners are called before non-capturing ones");

test(() => {
  const target = new EventTarget();
  const phases = [];
  target.addEventListener("x", (e) => phases.push(e.eventPhase), true);
  target.addEventListener("x", (e) => phases.push(e.eventPhase));
  const e = new Event("x", { bubbles: true });
  target.dispatchEvent(e);
  assert_array_equals(phases, [Event.AT_TARGET, Event.AT_TARGET]);
  assert_equals(e.eventPhase, Event.NONE);
}, "eventPhase is AT_TARGET during dispatch and NONE after");

test(() => {
  const target = new EventTarget();
  const e = new Event("x");
  let during;
  target.addEventListener("x", (ev) => {
    during = [ev.target, ev.currentTarget, ev.srcElement, ev.composedPath()];
  });
  target.dispatchEvent(e);
  assert_equals(during[0], target);
  assert_equals(during[1], target);
  assert_equals(during[2], target);
  assert_array_equals(during[3], [target]);
  assert_equals(e.target, target, "target stays set after dispatch");
  assert_equals(e.currentTarget, null);
  assert_array_equals(e.composedPath(), []);
}, "target, currentTarget and composedPath during and after dispatch");

test(() => {
  const target = new EventTarget();
  let called = 0;
  const listener = () => called++;
  target.addEventListener("x", listener);
  target.addEventListener("x", listener);
  target.addEventListener("x", listener, false);
  target.addEventListener("x", listener, { capture: false, once: true });
  target.dispatchEvent(new Event("x"));
  assert_equals(called, 1);
}, "the same listener and capture flag is added once");

test(() => {
  const target = new EventTarget();
  let called = 0;
  const listener = () => called++;
  target.addEventListener("x", listener, true);
  target.addEventListener("x", listener, false);
  target.dispatchEvent(new Event("x"));
  assert_equals(called, 2);
  target.removeEventListener("x", listener, true);
  target.dispatchEvent(new Event("x"));
  assert_equals(called, 3);
  target.removeEventListener("x", listener, { capture: false });
  target.dispatchEvent(new Event("x"));
  assert_equals(called, 3);
}, "capture distinguishes listeners for add and remove");

test(() => {
  const target = new EventTarget();
  const calls = [];
  target.addEventListener("a", () => calls.push("a"));
  target.addEventListener("b", () => calls.push("b"));
  target.dispatchEvent(new Event("b"));
  target.dispatchEvent(new Event("A"));
  assert_array_equals(calls, ["b"]);
}, "listeners only receive events of their type (case-sensitive)");

test(() => {
  const target = new EventTarget();
  const calls = [];
  target.addEventListener("x", () => { throw new Error("first"); });
  target.addEventListener("x", () => calls.push("second"));
  const errors = captureReported(() => assert_true(target.dispatchEvent(new Event("x"))));
  assert_array_equals(calls, ["second"]);
  assert_equals(errors.length, 1);
  assert_equals(errors[0].message, "first");
}, "an exception in a listener is reported and does not stop dispatch");

test(() => {
  const target = new EventTarget();
  const calls = [];
  const second = () => calls.push("second");
  target.addEventListener("x", () => {
    calls.push("first");
    target.removeEventListener("x", second);
  });
  target.addEventListener("x", second);
  target.dispatchEvent(new Event("x"));
  assert_array_equals(calls, ["first"]);
}, "a listener removed during dispatch is not called");

test(() => {
  const target = new EventTarget();
  const calls = [];
  target.addEventListener("x", () => {
    calls.push("first");
    target.addEventListener("x", () => calls.push("added"));
  });
  target.dispatchEvent(new Event("x"));
  assert_array_equals(calls, ["first"]);
  target.dispatchEvent(new Event("x"));
  assert_array_equals(calls, ["first", "first", "added"]);
}, "a listener added during dispatch is not called for that dispatch");

test(() => {
  const target = new EventTarget();
  const e = new Event("x", { cancelable: true });
  target.addEventListener("x", (ev) => ev.preventDefault());
  assert_false(target.dispatchEvent(e));
  assert_true(e.defaultPrevented);
  assert_true(new EventTarget().dispatchEvent(new Event("x", { cancelable: true })));
}, "dispatchEvent returns false when a listener canceled the event");

test(() => {
  const target = new EventTarget();
  const e = new Event("x", { cancelable: true });
  target.addEventListener("x", (ev) => ev.preventDefault());
  target.dispatchEvent(e);
  assert_true(e.defaultPrevented, "stays canceled after dispatch");
}, "defaultPrevented is kept after dispatch");

test(() => {
  const target = new EventTarget();
  const e = new Event("x");
  target.addEventListener("x", () => {
    assert_false(e.isTrusted);
  });
  __internals.events.setTrusted(e);
  assert_true(e.isTrusted);
  target.dispatchEvent(e);
  assert_false(e.isTrusted, "dispatchEvent makes it untrusted");
}, "script-dispatched events are not trusted");

test(() => {
  const target = new EventTarget();
  let trusted;
  target.addEventListener("x", (e) => { trusted = e.isTrusted; });
  __internals.events.fire(target, "x");
  assert_true(trusted);
}, "events fired by the runtime are trusted");

// --- this, handleEvent -------------------------------------------------------------------------

test(() => {
  const target = new EventTarget();
  let self;
  target.addEventListener("x", function () { self = this; });
  target.dispatchEvent(new Event("x"));
  assert_equals(self, target);
}, "a function listener is called with the target as this");

test(() => {
  const target = new EventTarget();
  const calls = [];
  const handler = {
    handleEvent(e) {
      calls.push([this, e.type, e.target]);
    },
  };
  target.addEventListener("foo", handler);
  target.dispatchEvent(new Event("foo"));
  assert_equals(calls.length, 1);
  assert_equals(calls[0][0], handler);
  assert_equals(calls[0][2], target);
}, "handleEvent of an object listener is called with the object as this");

test(() => {
  const target = new EventTarget();
  let calls = 0;
  target.addEventListener("foo", {
    get handleEvent() {
      calls++;
      return () => {};
    },
  });
  assert_equals(calls, 0);
  target.dispatchEvent(new Event("foo"));
  target.dispatchEvent(new Event("foo"));
  assert_equals(calls, 2);
}, "handleEvent is looked up at every dispatch");

test(() => {
  const target = new EventTarget();
  let calls = 0;
  const fn = () => calls++;
  fn.handleEvent = () => { throw new Error("not me"); };
  target.addEventListener("foo", fn);
  target.dispatchEvent(new Event("foo"));
  assert_equals(calls, 1);
}, "handleEvent is not used on function listeners");

test(() => {
  const target = new EventTarget();
  const handler = {};
  let called = false;
  target.addEventListener("foo", handler);
  handler.handleEvent = () => { called = true; };
  target.dispatchEvent(new Event("foo"));
  assert_true(called);
}, "an object without handleEvent may be added and gain it later");

test(() => {
  const target = new EventTarget();
  const error = { name: "test" };
  target.addEventListener("foo", { get handleEvent() { throw error; } });
  target.addEventListener("foo", { handleEvent: 42 });
  target.addEventListener("foo", { handleEvent: null });
  const errors = captureReported(() => target.dispatchEvent(new Event("foo")));
  assert_equals(errors.length, 3);
  assert_equals(errors[0], error);
  assert_true(errors[1] instanceof TypeError, "truthy non-callable handleEvent");
  assert_true(errors[2] instanceof TypeError, "falsy non-callable handleEvent");
}, "errors getting or calling handleEvent are reported");

// --- options: once, passive, signal ------------------------------------------------------------

test(() => {
  const target = new EventTarget();
  let count = 0;
  target.addEventListener("x", () => count++, { once: true });
  target.dispatchEvent(new Event("x"));
  target.dispatchEvent(new Event("x"));
  assert_equals(count, 1);
}, "once listeners are called once");

test(() => {
  const target = new EventTarget();
  let count = 0;
  const listener = () => {
    count++;
    target.dispatchEvent(new Event("x"));
  };
  target.addEventListener("x", listener, { once: true });
  target.dispatchEvent(new Event("x"));
  assert_equals(count, 1);
}, "once listeners are removed before they are called (no re-entry)");

test(() => {
  const target = new EventTarget();
  let count = 0;
  const listener = () => count++;
  target.addEventListener("x", listener, { once: true });
  target.addEventListener("x", listener, { once: true });
  target.dispatchEvent(new Event("x"));
  target.addEventListener("x", listener, { once: true });
  target.dispatchEvent(new Event("x"));
  assert_equals(count, 2);
}, "a once listener can be added again after it ran");

test(() => {
  const target = new EventTarget();
  let count = 0;
  const listener = () => count++;
  target.addEventListener("x", listener, { once: true });
  target.removeEventListener("x", listener);
  target.dispatchEvent(new Event("x"));
  assert_equals(count, 0);
}, "a once listener can be removed before it runs");

function passiveResult(options) {
  let prevented;
  const target = new EventTarget();
  const handler = (e) => {
    e.preventDefault();
    prevented = e.defaultPrevented;
  };
  target.addEventListener("test", handler, options);
  const uncanceled = target.dispatchEvent(new Event("test", { cancelable: true }));
  return [prevented, uncanceled];
}

test(() => {
  assert_array_equals(passiveResult(undefined), [true, false]);
  assert_array_equals(passiveResult({}), [true, false]);
  assert_array_equals(passiveResult({ passive: false }), [true, false]);
  assert_array_equals(passiveResult({ passive: 0 }), [true, false]);
  assert_array_equals(passiveResult({ passive: true }), [false, true]);
  assert_array_equals(passiveResult({ passive: 1 }), [false, true]);
}, "preventDefault is ignored in passive listeners only");

test(() => {
  const target = new EventTarget();
  let rv;
  target.addEventListener("t", (e) => { e.returnValue = false; rv = e.defaultPrevented; }, { passive: true });
  assert_true(target.dispatchEvent(new Event("t", { cancelable: true })));
  assert_false(rv);
}, "returnValue=false is ignored in passive listeners");

test(() => {
  const target = new EventTarget();
  const e = new Event("t", { cancelable: true });
  target.addEventListener("t", () => {}, { passive: true });
  target.addEventListener("t", (ev) => ev.preventDefault());
  assert_false(target.dispatchEvent(e));
}, "a passive listener does not affect the next listener");

test(() => {
  let read = [];
  const options = {
    get passive() { read.push("passive"); return false; },
    get capture() { read.push("capture"); return false; },
    get once() { read.push("once"); return false; },
    get signal() { read.push("signal"); return undefined; },
    get dummy() { read.push("dummy"); return false; },
  };
  const et = new EventTarget();
  et.addEventListener("x", null, options);
  assert_array_equals(read, ["capture", "once", "passive", "signal"]);
  read = [];
  et.removeEventListener("x", null, options);
  assert_array_equals(read, ["capture"]);
}, "addEventListener reads capture, once, passive, signal; removeEventListener only capture");

test(() => {
  function count(a, b) {
    let n = 0;
    const h = () => n++;
    const et = new EventTarget();
    et.addEventListener("t", h, a);
    et.addEventListener("t", h, b);
    et.dispatchEvent(new Event("t"));
    return n;
  }
  assert_equals(count({ capture: true }, { capture: false, passive: false }), 2);
  assert_equals(count({}, { passive: false }), 1);
  assert_equals(count({ passive: true }, { passive: false }), 1);
  assert_equals(count(undefined, { passive: true }), 1);
  assert_equals(count(true, { capture: true, once: true }), 1);
}, "only capture makes two registrations distinct");

test(() => {
  let count = 0;
  const handler = () => count++;
  const et = new EventTarget();
  const controller = new AbortController();
  et.addEventListener("test", handler, { signal: controller.signal });
  et.dispatchEvent(new Event("test"));
  et.dispatchEvent(new Event("test"));
  assert_equals(count, 2);
  controller.abort();
  et.dispatchEvent(new Event("test"));
  assert_equals(count, 2);
  et.addEventListener("test", handler, { signal: controller.signal });
  et.dispatchEvent(new Event("test"));
  assert_equals(count, 2, "an aborted signal never adds the listener");
}, "aborting the signal option removes the listener");

test(() => {
  let count = 0;
  const handler = () => count++;
  const et = new EventTarget();
  const controller = new AbortController();
  et.addEventListener("test", handler, { signal: controller.signal });
  et.removeEventListener("test", handler);
  et.dispatchEvent(new Event("test"));
  assert_equals(count, 0);
  et.addEventListener("test", handler, { signal: controller.signal, capture: true, once: true });
  controller.abort();
  et.dispatchEvent(new Event("test"));
  assert_equals(count, 0);
}, "signal works with removeEventListener, capture and once");

test(() => {
  let count = 0;
  const handler = () => count++;
  const et = new EventTarget();
  const controller = new AbortController();
  et.addEventListener("test", () => controller.abort(), { signal: controller.signal });
  et.addEventListener("test", handler, { signal: controller.signal });
  et.dispatchEvent(new Event("test"));
  assert_equals(count, 0);
}, "aborting from a listener prevents later listeners with that signal");

test(() => {
  const et = new EventTarget();
  assert_throws_js(TypeError, () => et.addEventListener("foo", () => {}, { signal: null }));
  assert_throws_js(TypeError, () => et.addEventListener("foo", null, { signal: null }));
  assert_throws_js(TypeError, () => et.addEventListener("foo", () => {}, { signal: {} }));
}, "a signal option that is not an AbortSignal throws TypeError");

test(() => {
  const et = new EventTarget();
  const ac = new AbortController();
  let count = 0;
  et.addEventListener("foo", () => {
    et.addEventListener("foo", () => {
      count++;
      if (count > 5) ac.abort();
      et.dispatchEvent(new Event("foo"));
    }, { signal: ac.signal });
    et.dispatchEvent(new Event("foo"));
  }, { once: true });
  et.dispatchEvent(new Event("foo"));
  assert_equals(count, 6);
}, "aborting from a nested listener removes it");

// --- event handler attributes -------------------------------------------------------------------

test(() => {
  const signal = new AbortController().signal;
  assert_equals(signal.onabort, null);
  const f = () => {};
  signal.onabort = f;
  assert_equals(signal.onabort, f);
  signal.onabort = 5;
  assert_equals(signal.onabort, null, "non-objects become null");
  const o = {};
  signal.onabort = o;
  assert_equals(signal.onabort, o, "non-callable objects are kept");
}, "event handler attributes store objects and treat the rest as null");

test(() => {
  const c = new AbortController();
  const calls = [];
  c.signal.addEventListener("abort", () => calls.push("first"));
  c.signal.onabort = () => calls.push("handler");
  c.signal.addEventListener("abort", () => calls.push("last"));
  c.signal.onabort = () => calls.push("replaced");
  c.abort();
  assert_array_equals(calls, ["first", "replaced", "last"]);
}, "an event handler keeps the position where it was first set");

test(() => {
  const c = new AbortController();
  const calls = [];
  c.signal.onabort = () => calls.push("handler");
  c.signal.addEventListener("abort", () => calls.push("listener"));
  c.signal.onabort = null;
  c.signal.onabort = () => calls.push("again");
  c.abort();
  assert_array_equals(calls, ["listener", "again"]);
}, "setting a handler to null removes it; setting it again appends");

test(() => {
  const c = new AbortController();
  let self;
  c.signal.onabort = function (e) { self = [this, e.type]; };
  c.abort();
  assert_equals(self[0], c.signal);
  assert_equals(self[1], "abort");
}, "event handlers are called with the target as this and the event");

test(() => {
  const c = new AbortController();
  c.signal.onabort = {};
  const errors = captureReported(() => c.abort());
  assert_equals(errors.length, 1);
  assert_true(errors[0] instanceof TypeError);
}, "a non-callable event handler reports a TypeError when run");

// --- reportError -------------------------------------------------------------------------

test(() => {
  const err = new Error("reported");
  const errors = captureReported(() => {
    assert_equals(reportError(err), undefined);
    reportError(42);
  });
  assert_array_equals(errors, [err, 42]);
  assert_throws_js(TypeError, () => reportError());
}, "reportError reports the value and requires an argument");

test(() => {
  const err = new TypeError("bad thing");
  let seen;
  const listener = (e) => {
    seen = e;
    e.preventDefault();
  };
  globalThis.addEventListener("error", listener);
  try {
    reportError(err);
  } finally {
    globalThis.removeEventListener("error", listener);
  }
  assert_true(seen instanceof ErrorEvent);
  assert_equals(seen.type, "error");
  assert_true(seen.isTrusted);
  assert_true(seen.cancelable);
  assert_equals(seen.error, err);
  assert_equals(seen.message, "Uncaught TypeError: bad thing");
  assert_equals(seen.target, globalThis);
}, "reported exceptions are fired at the global as trusted cancelable ErrorEvents");

test(() => {
  const saved = __internals.reportException;
  const logged = [];
  __internals.reportException = (e) => logged.push(e);
  const listener = (e) => {
    if (e.error === "cancel me") e.preventDefault();
  };
  globalThis.addEventListener("error", listener);
  try {
    reportError("cancel me");
    reportError("log me");
  } finally {
    globalThis.removeEventListener("error", listener);
    __internals.reportException = saved;
  }
  assert_array_equals(logged, ["log me"]);
}, "only exceptions whose error event was not canceled reach the host log");

test(() => {
  const saved = __internals.reportException;
  const logged = [];
  __internals.reportException = (e) => logged.push(e);
  const listener = () => {
    throw new Error("from the error listener");
  };
  globalThis.addEventListener("error", listener);
  try {
    reportError("outer");
  } finally {
    globalThis.removeEventListener("error", listener);
    __internals.reportException = saved;
  }
  assert_equals(logged.length, 2);
  assert_equals(logged[0].message, "from the error listener");
  assert_equals(logged[1], "outer");
}, "an error thrown by an error listener is logged without recursion");

test(() => {
  const target = new EventTarget();
  __internals.events.installEventTarget(target);
  const obj = {};
  __internals.events.installEventTarget(obj);
  let called = false;
  obj.addEventListener("x", function () { called = this === obj; });
  assert_true(obj.dispatchEvent(new Event("x")));
  assert_true(called);
  assert_true(__internals.events.hasListeners(obj, "x"));
  assert_false(__internals.events.hasListeners(obj, "y"));
}, "installEventTarget gives an existing object EventTarget behaviour");

test(() => {
  for (const name of ["Event", "EventTarget", "CustomEvent", "ErrorEvent"]) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_true(desc.writable, name);
    assert_false(desc.enumerable, name);
    assert_true(desc.configurable, name);
  }
  assert_equals(Object.getPrototypeOf(CustomEvent.prototype), Event.prototype);
  assert_equals(Object.getPrototypeOf(ErrorEvent), Event);
}, "globals are exposed as IDL interfaces with the right inheritance");

test(() => {
  const origPush = Array.prototype.push;
  const origSlice = Array.prototype.slice;
  Array.prototype.push = () => { throw new Error("patched"); };
  Array.prototype.slice = () => { throw new Error("patched"); };
  try {
    const target = new EventTarget();
    let called = false;
    target.addEventListener("x", () => { called = true; });
    target.dispatchEvent(new Event("x"));
    assert_true(called);
  } finally {
    Array.prototype.push = origPush;
    Array.prototype.slice = origSlice;
  }
}, "dispatch is immune to patched Array.prototype methods");

test(() => {
  // Web IDL names an attribute's accessors "get <name>" and "set <name>".
  for (const [proto, attr] of [[AbortSignal.prototype, "onabort"], [globalThis, "onerror"]]) {
    const { get, set } = Object.getOwnPropertyDescriptor(proto, attr);
    assert_equals(get.name, `get ${attr}`);
    assert_equals(set.name, `set ${attr}`);
    assert_equals(get.length, 0);
    assert_equals(set.length, 1);
  }
}, "event handler attribute accessors carry their IDL names");
