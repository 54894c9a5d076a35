// META: internals
// performance (High Resolution Time, User Timing) and navigator.

function reset() {
  performance.clearMarks();
  performance.clearMeasures();
}

test(() => {
  assert_equals(typeof performance.now(), "number");
  assert_greater_than_equal(performance.now(), 0);
  assert_equals(typeof performance.timeOrigin, "number");
  assert_approx_equals(performance.timeOrigin + performance.now(), Date.now(), 50);
}, "now() is relative to timeOrigin, which is close to the epoch time");

promise_test(async () => {
  const a = performance.now();
  await new Promise((r) => setTimeout(r, 15));
  const b = performance.now();
  assert_greater_than_equal(b - a, 10);
}, "now() advances with time");

test(() => {
  let last = performance.now();
  for (let i = 0; i < 10000; i++) {
    const t = performance.now();
    assert_greater_than_equal(t, last);
    last = t;
  }
}, "now() never goes backwards");

test(() => {
  assert_equals(performance.timeOrigin, performance.timeOrigin);
  assert_object_equals(performance.toJSON(), { timeOrigin: performance.timeOrigin });
}, "timeOrigin is stable and toJSON returns it");

test(() => {
  assert_throws_js(TypeError, () => new Performance());
  assert_throws_js(TypeError, () => Performance.prototype.now.call({}));
  assert_true(performance instanceof EventTarget);
  assert_class_string(performance, "Performance");
}, "Performance is not constructible, is an EventTarget and brand-checks");

test(() => {
  reset();
  const before = performance.now();
  const mark = performance.mark("start");
  assert_true(mark instanceof PerformanceMark);
  assert_true(mark instanceof PerformanceEntry);
  assert_equals(mark.name, "start");
  assert_equals(mark.entryType, "mark");
  assert_equals(mark.duration, 0);
  assert_greater_than_equal(mark.startTime, before);
  assert_equals(mark.detail, null);
}, "mark() records a PerformanceMark at the current time");

test(() => {
  reset();
  const detail = { a: [1, 2] };
  const mark = performance.mark("m", { startTime: 12.5, detail });
  assert_equals(mark.startTime, 12.5);
  assert_not_equals(mark.detail, detail, "detail is a structured clone");
  assert_array_equals(mark.detail.a, [1, 2]);
  assert_throws_js(TypeError, () => performance.mark("neg", { startTime: -1 }));
  assert_throws_dom("DataCloneError", () => performance.mark("fn", { detail: () => {} }));
}, "mark() options: startTime and cloned detail");

test(() => {
  const mark = new PerformanceMark("constructed", { startTime: 3 });
  assert_equals(mark.startTime, 3);
  assert_throws_js(TypeError, () => new PerformanceMark());
  assert_throws_js(TypeError, () => new PerformanceEntry());
  assert_throws_js(TypeError, () => new PerformanceMeasure());
}, "PerformanceMark is constructible, PerformanceEntry and PerformanceMeasure are not");

test(() => {
  reset();
  performance.mark("a", { startTime: 10 });
  performance.mark("b", { startTime: 25 });
  const m = performance.measure("a-to-b", "a", "b");
  assert_true(m instanceof PerformanceMeasure);
  assert_equals(m.entryType, "measure");
  assert_equals(m.startTime, 10);
  assert_equals(m.duration, 15);
  assert_equals(m.detail, null);
}, "measure() between two marks");

test(() => {
  reset();
  performance.mark("a", { startTime: 5 });
  performance.mark("a", { startTime: 7 });
  assert_equals(performance.measure("x", "a", "a").startTime, 7, "the latest mark of a name wins");
}, "measure() uses the most recent mark with a name");

test(() => {
  reset();
  const now = performance.now();
  const m = performance.measure("from origin");
  assert_equals(m.startTime, 0);
  assert_greater_than_equal(m.duration, now);
}, "measure() without marks spans from the time origin to now");

test(() => {
  reset();
  assert_equals(performance.measure("s", { start: 4, end: 10 }).duration, 6);
  assert_equals(performance.measure("d", { start: 4, duration: 3 }).duration, 3);
  const e = performance.measure("e", { duration: 2, end: 10 });
  assert_equals(e.startTime, 8);
  performance.mark("m1", { startTime: 1 });
  assert_equals(performance.measure("n", { start: "m1", end: 11 }).duration, 10);
  const withDetail = performance.measure("det", { start: 1, detail: { k: "v" } });
  assert_equals(withDetail.detail.k, "v");
}, "measure() options: start, end, duration and detail");

test(() => {
  reset();
  performance.mark("m");
  assert_throws_js(TypeError, () => performance.measure("x", { start: 1 }, "m"), "options with end mark");
  assert_throws_js(TypeError, () => performance.measure("x", { duration: 1 }), "duration alone");
  assert_throws_js(TypeError, () => performance.measure("x", { detail: 1 }), "detail alone");
  assert_throws_js(TypeError, () => performance.measure("x", { start: 1, duration: 1, end: 3 }));
  assert_throws_js(TypeError, () => performance.measure("x", { start: -1 }));
  assert_throws_dom("SyntaxError", () => performance.measure("x", "no such mark"));
  assert_throws_dom("SyntaxError", () => performance.measure("x", undefined, "no such mark"));
  assert_throws_js(TypeError, () => performance.measure());
}, "measure() argument errors");

test(() => {
  reset();
  performance.mark("late", { startTime: 30 });
  performance.mark("early", { startTime: 10 });
  performance.measure("mid", { start: 20, end: 21 });
  assert_array_equals(performance.getEntries().map((e) => e.name), ["early", "mid", "late"]);
  assert_array_equals(performance.getEntriesByType("mark").map((e) => e.name), ["early", "late"]);
  assert_array_equals(performance.getEntriesByType("measure").map((e) => e.name), ["mid"]);
  assert_array_equals(performance.getEntriesByName("late").map((e) => e.entryType), ["mark"]);
  assert_array_equals(performance.getEntriesByName("late", "measure"), []);
  assert_array_equals(performance.getEntriesByType("resource"), []);
}, "getEntries* return entries in startTime order, filtered");

test(() => {
  reset();
  performance.mark("a");
  performance.mark("b");
  performance.measure("m");
  performance.clearMarks("a");
  assert_array_equals(performance.getEntriesByType("mark").map((e) => e.name), ["b"]);
  performance.clearMarks();
  assert_equals(performance.getEntriesByType("mark").length, 0);
  assert_equals(performance.getEntriesByType("measure").length, 1);
  performance.clearMeasures();
  assert_equals(performance.getEntries().length, 0);
}, "clearMarks and clearMeasures remove entries by name or all");

test(() => {
  reset();
  const mark = performance.mark("j", { startTime: 2, detail: [1] });
  assert_object_equals(mark.toJSON(), { name: "j", entryType: "mark", startTime: 2, duration: 0, detail: [1] });
  assert_equals(JSON.stringify(mark), JSON.stringify(mark.toJSON()));
}, "PerformanceEntry.toJSON");

test(() => {
  const getter = Object.getOwnPropertyDescriptor(PerformanceEntry.prototype, "name").get;
  assert_throws_js(TypeError, () => getter.call({}));
}, "PerformanceEntry getters brand-check");

test(() => {
  assert_equals(navigator.userAgent, "isoflow");
  assert_equals(navigator.hardwareConcurrency, 1);
  assert_class_string(navigator, "Navigator");
  assert_throws_js(TypeError, () => new Navigator());
  __internals.navigator.setHardwareConcurrency(4);
  assert_equals(navigator.hardwareConcurrency, 4);
  __internals.navigator.setHardwareConcurrency(1);
}, "navigator.userAgent and hardwareConcurrency");

test(() => {
  const ev = new Event("x");
  assert_greater_than(ev.timeStamp, 0);
  assert_less_than_equal(ev.timeStamp, performance.now());
}, "Event.timeStamp uses the same clock as performance.now()");

// --- PerformanceObserver (Performance Timeline) -----------------------------------------------

test(() => {
  const types = PerformanceObserver.supportedEntryTypes;
  assert_array_equals(types, ["mark", "measure"]);
  assert_true(Object.isFrozen(types));
  assert_equals(PerformanceObserver.supportedEntryTypes, types, "the same array each time");
  assert_throws_js(TypeError, () => PerformanceObserver(() => {}), "needs new");
  assert_throws_js(TypeError, () => new PerformanceObserver(), "a callback is required");
  assert_throws_js(TypeError, () => new PerformanceObserver({}), "the callback must be callable");
  assert_throws_js(TypeError, () => new PerformanceObserverEntryList());
  assert_class_string(new PerformanceObserver(() => {}), "PerformanceObserver");
}, "PerformanceObserver: constructor and supportedEntryTypes");

test(() => {
  const po = new PerformanceObserver(() => {});
  assert_throws_js(TypeError, () => po.observe(), "neither entryTypes nor type");
  assert_throws_js(TypeError, () => po.observe({ buffered: true }), "buffered alone");
  assert_throws_js(TypeError, () => po.observe({ entryTypes: ["mark"], type: "mark" }));
  assert_throws_js(TypeError, () => po.observe({ entryTypes: ["mark"], buffered: false }));
  assert_throws_js(TypeError, () => po.observe({ entryTypes: "mark" }), "not a sequence");
  po.observe({ type: "no-such-type" }); // ignored, but the observer is a "single" one now
  assert_throws_dom("InvalidModificationError", () => po.observe({ entryTypes: ["mark"] }));
  po.observe({ type: "mark" });
  po.disconnect();
  const unsupported = new PerformanceObserver(() => {});
  unsupported.observe({ entryTypes: ["no-such-type"] });
  unsupported.observe({ entryTypes: [] });
  assert_throws_dom("InvalidModificationError", () => unsupported.observe({ type: "mark" }));
  const multi = new PerformanceObserver(() => {});
  multi.observe({ entryTypes: ["measure"] });
  assert_throws_dom("InvalidModificationError", () => multi.observe({ type: "measure" }));
  multi.disconnect();
}, "PerformanceObserver.observe() checks its options");

async_test((t) => {
  reset();
  const po = new PerformanceObserver(t.step_func(function (list, observer, options) {
    assert_equals(this, po, "the callback this value");
    assert_equals(observer, po);
    assert_true(list instanceof PerformanceObserverEntryList);
    assert_equals(options.droppedEntriesCount, 0, "the first call has droppedEntriesCount");
    // One call for everything queued in a task, entries in startTime order.
    assert_array_equals(list.getEntries().map((e) => e.name), ["early", "late", "span"]);
    assert_array_equals(list.getEntriesByType("measure").map((e) => e.name), ["span"]);
    assert_array_equals(list.getEntriesByName("late").map((e) => e.entryType), ["mark"]);
    assert_array_equals(list.getEntriesByName("late", "measure"), []);
    po.disconnect();
    t.done();
  }));
  po.observe({ type: "mark" });
  po.observe({ type: "measure" });
  performance.mark("late", { startTime: 20 });
  performance.mark("early", { startTime: 10 });
  performance.measure("span", { start: 30, end: 40 });
  assert_equals(performance.getEntries().length, 3, "entries still go to the buffer");
}, "PerformanceObserver receives marks and measures in one later task");

async_test((t) => {
  reset();
  const calls = [];
  const po = new PerformanceObserver((list, observer, options) => {
    calls.push([list.getEntries().map((e) => e.name), "droppedEntriesCount" in options]);
  });
  po.observe({ entryTypes: ["mark"] });
  po.observe({ entryTypes: ["measure"] }); // replaces the first registration
  performance.mark("ignored");
  performance.measure("seen");
  setTimeout(t.step_func(() => {
    performance.measure("second");
    setTimeout(t.step_func_done(() => {
      po.disconnect();
      assert_equals(calls.length, 2);
      assert_array_equals(calls[0][0], ["seen"]);
      assert_true(calls[0][1]);
      assert_array_equals(calls[1][0], ["second"]);
      assert_false(calls[1][1], "droppedEntriesCount only in the first call after observe()");
    }), 0);
  }), 0);
}, "observe({entryTypes}) again replaces the types observed");

async_test((t) => {
  reset();
  performance.mark("before");
  performance.measure("other");
  const po = new PerformanceObserver(t.step_func_done((list) => {
    assert_array_equals(list.getEntries().map((e) => e.name), ["before"]);
    po.disconnect();
  }));
  po.observe({ type: "mark", buffered: true });
}, "observe({type, buffered: true}) delivers the entries already buffered");

async_test((t) => {
  reset();
  let called = false;
  const po = new PerformanceObserver(() => {
    called = true;
  });
  po.observe({ type: "mark" });
  performance.mark("a");
  const taken = po.takeRecords();
  assert_array_equals(taken.map((e) => e.name), ["a"]);
  assert_array_equals(po.takeRecords(), []);
  performance.mark("b");
  po.disconnect();
  performance.mark("c");
  setTimeout(t.step_func_done(() => {
    assert_false(called, "taken and disconnected: nothing left to deliver");
  }), 0);
}, "takeRecords() empties the observer's buffer; disconnect() stops it");

async_test((t) => {
  reset();
  const err = new Error("from the observer");
  const reported = [];
  const onError = (e) => {
    reported.push(e.error);
    e.preventDefault();
  };
  addEventListener("error", onError);
  t.add_cleanup(() => removeEventListener("error", onError));
  const first = new PerformanceObserver(() => {
    throw err;
  });
  const second = new PerformanceObserver(t.step_func_done(() => {
    assert_array_equals(reported, [err], "the first callback's exception was reported");
    first.disconnect();
    second.disconnect();
  }));
  first.observe({ type: "mark" });
  second.observe({ type: "mark" });
  performance.mark("x");
}, "an exception thrown by an observer callback is reported and the others still run");
