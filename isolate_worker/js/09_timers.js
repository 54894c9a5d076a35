// HTML timers (setTimeout, setInterval, clearTimeout, clearInterval) and queueMicrotask.
//
// Timers are driven by the isolate's own message loop, not by busy-waiting and not by a
// round trip to Python: one pending Atomics.waitAsync wakes V8's thread at the earliest
// deadline. Each timer runs as its own task (microtasks drain between two timers), in
// deadline order, ties broken by creation order; a timer started from a timer task nested
// more than 5 deep has its timeout raised to at least 4 ms. The runtime's own tasks
// (internals.timers.setTimeout) share the loop but are no HTML timers: never clamped.
//
// Task contexts. V8 here has no AsyncContext, so the runtime itself carries which served
// request the running code belongs to: a handler runs with its request's context current
// (90_serve.js), and a timer or queueMicrotask callback runs with the context that was
// current when it was scheduled. A context expires (`wallTimeAfterResponse` after its
// response ended, or after its creation for work started outside any request): its pending
// timers are cleared and `onExpire` runs (90_serve.js aborts the request's fetches).
// Promise continuations, which the runtime does not schedule, run with no context.

const {
  ArrayPrototypePop,
  ArrayPrototypePush,
  AtomicsWaitAsync,
  DateNow,
  Int32Array: Int32ArrayCtor,
  MathMax,
  MathMin,
  NullArray,
  ObjectSetPrototypeOf,
  PromisePrototypeThen,
  PromiseReject,
  PromiseResolve,
  PromiseWithResolvers,
  ReflectApply,
  SafeMap,
  SafeSet,
  SafeMapValues,
  SafeSetValues,
  SharedArrayBuffer: SharedArrayBufferCtor,
  Symbol: SymbolCtor,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;

// Longest single wait handed to Atomics.waitAsync; a later deadline is waited for in steps.
const MAX_WAIT = 2 ** 31 - 1;
const timers = new SafeMap(); // id -> timer
const heap = NullArray(); // min-heap of timers by (deadline, seq)
let nextId = 1;
let nextSeq = 0;
let nestingLevel = 0;
let armedAt = Infinity;
const waitCell = new Int32ArrayCtor(new SharedArrayBufferCtor(4));

function before(a, b) {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

function swap(i, j) {
  const t = heap[i];
  heap[i] = heap[j];
  heap[j] = t;
}

function heapPush(t) {
  ArrayPrototypePush(heap, t);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(heap[i], heap[p])) break;
    swap(i, p);
    i = p;
  }
}

function heapPop() {
  const top = heap[0];
  const last = ArrayPrototypePop(heap);
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
  }
  return top;
}

function arm() {
  // Drop cancelled timers from the top of the heap.
  while (heap.length > 0 && heap[0].cancelled) heapPop();
  if (heap.length === 0) return;
  const deadline = heap[0].deadline;
  if (deadline >= armedAt) return; // a wake-up at or before this deadline is pending
  armedAt = deadline;
  // A positive timeout makes the wake-up a macrotask even for a zero delay.
  const delay = MathMin(MathMax(deadline - DateNow(), 0), MAX_WAIT) + 0.001;
  const res = AtomicsWaitAsync(waitCell, 0, 0, delay);
  PromisePrototypeThen(res.value, () => wake(deadline));
}

function wake(deadline) {
  if (deadline === armedAt) armedAt = Infinity;
  while (heap.length > 0 && heap[0].cancelled) heapPop();
  if (heap.length > 0 && heap[0].deadline <= DateNow()) {
    const t = heapPop();
    runTimer(t);
  }
  arm();
}

// -- task contexts ---------------------------------------------------------------------

// Records of the runtime: classes whose prototype chain ends in null, so no accessor a
// script puts on Object.prototype sees them (and V8 keeps them fast, unlike `__proto__: null`
// literals).
class TaskContext {
  constructor(owner, expires) {
    this.owner = owner;
    this.expires = expires;
    this.expired = false;
    this.timers = null;
    this.onExpire = null;
  }
}
ObjectSetPrototypeOf(TaskContext.prototype, null);

class Timer {
  constructor(id, callback, args, repeat, timeout, nesting, ctx) {
    this.id = id;
    this.callback = callback;
    this.args = args;
    this.repeat = repeat;
    this.timeout = timeout;
    this.nesting = nesting;
    this.deadline = DateNow() + timeout;
    this.seq = nextSeq++;
    this.cancelled = false;
    this.ctx = ctx;
  }
}
ObjectSetPrototypeOf(Timer.prototype, null);

const contexts = {
  __proto__: null,
  /** The context of the code running now (null: none known). */
  current: null,
  /** Set by 90_serve.js: the context for work scheduled while none is current, or null. */
  adopt: () => null,
  /**
   * A context for `owner` (a served request, or null) whose work ends at `expires` (ms);
   * `timers` (a SafeSet, made with its first timer) holds its pending timers.
   */
  create(owner, expires) {
    return new TaskContext(owner, expires);
  },
  /** End `ctx`: its pending timers are cleared, then `ctx.onExpire(timersCleared)` runs. */
  expire(ctx) {
    if (ctx.expired) return;
    ctx.expired = true;
    if (ctx.timers === null) {
      if (ctx.onExpire !== null) ctx.onExpire(0);
      return;
    }
    const pending = SafeSetValues(ctx.timers);
    ctx.timers.clear();
    for (let i = 0; i < pending.length; i++) {
      pending[i].cancelled = true;
      timers.delete(pending[i].id);
    }
    if (ctx.onExpire !== null) {
      ctx.onExpire(pending.length);
    } else if (pending.length > 0 && internals.host !== undefined) {
      internals.host.log("warn", 0, `${pending.length} timer(s) started outside any request ` +
        `cleared: they ran for more than ${budgetSeconds()} s`);
    }
  },
  /** Run `fn(...args)` with `ctx` current. */
  run(ctx, fn, thisArg, args) {
    const saved = contexts.current;
    contexts.current = ctx;
    try {
      return ReflectApply(fn, thisArg, args);
    } finally {
      contexts.current = saved;
    }
  },
};

function budgetSeconds() {
  return internals.host !== undefined ? internals.host.config.wallTimeAfterResponse : 30;
}

/** The context new work belongs to: the current one, a live request's, or a fresh one. */
function adoptContext() {
  const ctx = contexts.current ?? contexts.adopt();
  return ctx ?? contexts.create(null, DateNow() + budgetSeconds() * 1000);
}

function runTimer(t) {
  const ctx = t.ctx;
  if (ctx !== null && (ctx.expired || DateNow() >= ctx.expires)) {
    contexts.expire(ctx); // clears t too
    return;
  }
  if (t.repeat) {
    t.seq = nextSeq++;
  } else {
    timers.delete(t.id);
    if (ctx !== null) ctx.timers.delete(t);
  }
  internals.taskHook();
  const saved = nestingLevel;
  const savedContext = contexts.current;
  nestingLevel = t.nesting;
  contexts.current = ctx;
  try {
    if (typeof t.callback === "function") {
      // The callback this value is the global (a WorkerGlobalScope's is the global itself).
      internals.trackCallbackResult(ReflectApply(t.callback, globalThis, t.args));
    } else {
      (0, eval)(t.callback);
    }
  } catch (e) {
    reportException(e);
  } finally {
    nestingLevel = saved;
    contexts.current = savedContext;
  }
  if (ctx !== null && !t.repeat) settled(ctx);
  if (t.repeat && !t.cancelled) {
    // The timer initialization steps again, from within this task (nesting level t.nesting).
    if (t.nesting > 5 && t.timeout < 4) t.timeout = 4;
    t.nesting = t.nesting + 1;
    t.deadline = DateNow() + t.timeout;
    heapPush(t);
  }
}

/** An uncaught exception in a task: an `error` event at the global first (03_event.js). */
function reportException(e) {
  if (internals.events !== undefined) internals.events.reportException(e);
  else internals.reportException(e);
}

/**
 * HTML "timer initialization steps" from step 4 on: `callback` is a function or a string,
 * `ms` a number of milliseconds (negative: none). `ctx`: the task context the timer belongs
 * to; null for the runtime's own tasks (message delivery, AbortSignal.timeout, ...), which
 * are no HTML timers: they have no timer nesting level and are never clamped.
 */
function startTimer(callback, ms, args, repeat, ctx) {
  if (!(ms >= 0)) ms = 0;
  let nesting = 0;
  if (ctx !== null) {
    // The nesting level is the running timer task's (0 outside of one); the new task's is
    // one more. Only from the sixth nested timer on is a short timeout raised to 4 ms.
    if (nestingLevel > 5 && ms < 4) ms = 4;
    nesting = nestingLevel + 1;
  }
  const id = nextId++;
  const t = new Timer(id, callback, args, repeat, ms, nesting, ctx);
  timers.set(id, t);
  if (ctx !== null) {
    if (ctx.timers === null) ctx.timers = new SafeSet();
    ctx.timers.add(t);
  }
  heapPush(t);
  arm();
  return id;
}

function clearTimer(id) {
  const t = timers.get(id);
  if (t === undefined) return;
  t.cancelled = true;
  timers.delete(t.id);
  if (t.ctx !== null) {
    t.ctx.timers.delete(t);
    settled(t.ctx);
  }
}

/** One of `ctx`'s timers is done: its owner may be done too (90_serve.js). */
function settled(ctx) {
  if (ctx.owner !== null && ctx.timers.size === 0) ctx.owner.settled();
}

/** A TimerHandler argument: a Function, or else a DOMString of code. */
function convertHandler(handler, prefix) {
  return typeof handler === "function" ? handler : converters.DOMString(handler, prefix, "Argument 1");
}

// The timeout is a Web IDL `long`: it wraps modulo 2^32 (2^32 + 5 is 5, 2^31 is negative).
function setTimeout(handler, timeout = 0, ...args) {
  const prefix = "Failed to execute 'setTimeout'";
  webidl.requiredArguments(arguments.length, 1, prefix);
  handler = convertHandler(handler, prefix);
  timeout = converters.long(timeout, prefix, "Argument 2");
  return startTimer(handler, timeout, args, false, adoptContext());
}

function setInterval(handler, timeout = 0, ...args) {
  const prefix = "Failed to execute 'setInterval'";
  webidl.requiredArguments(arguments.length, 1, prefix);
  handler = convertHandler(handler, prefix);
  timeout = converters.long(timeout, prefix, "Argument 2");
  return startTimer(handler, timeout, args, true, adoptContext());
}

function clearTimeout(id = 0) {
  clearTimer(converters.long(id, "Failed to execute 'clearTimeout'", "Argument 1"));
}

function clearInterval(id = 0) {
  clearTimer(converters.long(id, "Failed to execute 'clearInterval'", "Argument 1"));
}

function queueMicrotask(callback) {
  if (typeof callback !== "function") {
    throw new TypeErrorCtor(
      "Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.",
    );
  }
  const ctx = contexts.current;
  PromisePrototypeThen(PromiseResolve(), () => {
    try {
      internals.trackCallbackResult(contexts.run(ctx, callback, undefined, NullArray()));
    } catch (e) {
      reportException(e);
    }
  });
}

// --- scheduler.wait (Cloudflare Workers) ------------------------------------------------------
// workerd's `scheduler` global: `Promise<undefined> wait(double delay, optional
// SchedulerWaitOptions options = {})`, an awaitable setTimeout that belongs to the request
// (or timer) that called it as a setTimeout would; the options' `signal` rejects it with the
// signal's reason, and clears its timer, if it aborts first.

const convertWaitOptions = webidl.createDictionaryConverter("SchedulerWaitOptions", [
  { key: "signal", converter: internals.abort.convertAbortSignal },
]);
const schedulerKey = SymbolCtor("Scheduler");

class Scheduler {
  constructor(key = undefined) {
    if (key !== schedulerKey) throw new TypeErrorCtor("Illegal constructor");
  }

  wait(delay, options = undefined) {
    const prefix = "Failed to execute 'wait' on 'Scheduler'";
    try {
      if (this !== scheduler) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
      webidl.requiredArguments(arguments.length, 1, prefix);
      const ms = converters["unrestricted double"](delay, prefix, "Argument 1");
      const { signal } = convertWaitOptions(options, prefix, "Argument 2");
      const { abort } = internals;
      if (signal !== undefined && abort.isAborted(signal)) {
        return PromiseReject(abort.getReason(signal));
      }
      const { promise, resolve, reject } = PromiseWithResolvers();
      let handle = 0;
      const id = startTimer(() => {
        if (signal !== undefined) abort.removeAlgorithm(signal, handle);
        resolve(undefined);
      }, ms, NullArray(), false, adoptContext());
      if (signal !== undefined) {
        handle = abort.addAlgorithm(signal, () => {
          clearTimer(id);
          reject(abort.getReason(signal));
        });
      }
      return promise;
    } catch (e) {
      return PromiseReject(e); // a promise-returning operation rejects, it does not throw
    }
  }
}
webidl.configureInterface(Scheduler);
const scheduler = new Scheduler(schedulerKey);

internals.timers = {
  /** Number of live timers, for tests and for deciding whether a worker is idle. */
  count: () => timers.size,
  /** The unpatchable timer functions, for runtime files (AbortSignal.timeout, ...). */
  setTimeout: (callback, ms) => startTimer(callback, ms, NullArray(), false, null),
  clearTimeout: (id) => clearTimer(id),
  cancelAll() {
    const all = SafeMapValues(timers);
    for (let i = 0; i < all.length; i++) all[i].cancelled = true;
    timers.clear();
  },
};

internals.contexts = contexts;

// WindowOrWorkerGlobalScope's operations; Workers' `scheduler` object.
internals.exposeGlobalOperations({
  setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask,
});
internals.exposeGlobal("scheduler", scheduler);
