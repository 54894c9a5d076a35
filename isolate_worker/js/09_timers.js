// HTML timers (setTimeout, setInterval, clearTimeout, clearInterval) and queueMicrotask.
//
// Timers are driven by the isolate's own message loop, not by busy-waiting and not by a
// round trip to Python: one pending Atomics.waitAsync wakes V8's thread at the earliest
// deadline. Each timer runs as its own task (microtasks drain between two timers), in
// deadline order, ties broken by creation order; nesting deeper than 5 clamps to 4 ms.

const {
  ArrayPrototypePop,
  ArrayPrototypePush,
  AtomicsWaitAsync,
  DateNow,
  Int32Array: Int32ArrayCtor,
  MathMax,
  MathTrunc,
  PromisePrototypeThen,
  PromiseResolve,
  SafeMap,
  SharedArrayBuffer: SharedArrayBufferCtor,
  TypeError: TypeErrorCtor,
} = primordials;

const TIMEOUT_MAX = 2 ** 31 - 1;
const timers = new SafeMap(); // id -> timer
const heap = []; // min-heap of timers by (deadline, seq)
let nextId = 1;
let nextSeq = 0;
let nestingLevel = 0;
let armedAt = Infinity;
const waitCell = new Int32ArrayCtor(new SharedArrayBufferCtor(4));

function before(a, b) {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

function heapPush(t) {
  ArrayPrototypePush(heap, t);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(heap[i], heap[p])) break;
    [heap[i], heap[p]] = [heap[p], heap[i]];
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
      [heap[i], heap[m]] = [heap[m], heap[i]];
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
  const delay = MathMax(deadline - DateNow(), 0) + 0.001;
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

function runTimer(t) {
  if (t.repeat) {
    t.seq = nextSeq++;
  } else {
    timers.delete(t.id);
  }
  internals.taskHook();
  const saved = nestingLevel;
  nestingLevel = t.nesting;
  try {
    if (typeof t.callback === "function") {
      t.callback(...t.args);
    } else {
      (0, eval)(t.callback);
    }
  } catch (e) {
    reportException(e);
  } finally {
    nestingLevel = saved;
  }
  if (t.repeat && !t.cancelled) {
    t.nesting = t.nesting + 1;
    if (t.nesting > 5 && t.timeout < 4) t.timeout = 4;
    t.deadline = DateNow() + t.timeout;
    heapPush(t);
  }
}

/** An uncaught exception in a task: an `error` event at the global first (03_event.js). */
function reportException(e) {
  if (internals.events !== undefined) internals.events.reportException(e);
  else internals.reportException(e);
}

function startTimer(callback, timeout, args, repeat) {
  if (typeof callback !== "function") callback = `${callback}`;
  let ms = +timeout;
  if (!(ms >= 0) || ms > TIMEOUT_MAX) ms = 0;
  ms = MathTrunc(ms);
  const nesting = nestingLevel + 1;
  if (nesting > 5 && ms < 4) ms = 4;
  const id = nextId++;
  const t = {
    id, callback, args, repeat, timeout: ms, nesting,
    deadline: DateNow() + ms, seq: nextSeq++, cancelled: false,
  };
  timers.set(id, t);
  heapPush(t);
  arm();
  return id;
}

function clearTimer(id) {
  const t = timers.get(+id);
  if (t === undefined) return;
  t.cancelled = true;
  timers.delete(t.id);
}

function setTimeout(callback, timeout = 0, ...args) {
  return startTimer(callback, timeout, args, false);
}

function setInterval(callback, timeout = 0, ...args) {
  return startTimer(callback, timeout, args, true);
}

function clearTimeout(id = 0) {
  clearTimer(id);
}

function clearInterval(id = 0) {
  clearTimer(id);
}

function queueMicrotask(callback) {
  if (typeof callback !== "function") {
    throw new TypeErrorCtor(
      "Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.",
    );
  }
  PromisePrototypeThen(PromiseResolve(), () => {
    try {
      callback();
    } catch (e) {
      reportException(e);
    }
  });
}

internals.timers = {
  /** Number of live timers, for tests and for deciding whether a worker is idle. */
  count: () => timers.size,
  /** The unpatchable timer functions, for runtime files (AbortSignal.timeout, ...). */
  setTimeout: (callback, ms) => startTimer(callback, ms, [], false),
  clearTimeout: (id) => clearTimer(id),
  cancelAll() {
    for (const t of timers.values()) t.cancelled = true;
    timers.clear();
  },
};

internals.exposeGlobals({
  setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask,
});
