// The worker global scope: how a script registers its handlers, and how the bridge calls
// them. Both styles of Workers script are served:
//   addEventListener("fetch", (event) => event.respondWith(...))      (service worker)
//   export default { async fetch(request, env, ctx) { ... } }         (module worker)
// A module worker's bundle ends by calling __isoflow_register_module(evaluate, lineMap,
// async), a one-shot global (see isolate_worker/script.py): evaluate(nodeHost) runs the
// modules and returns the entry's exports (null for a service-worker script), or a promise
// of them when the entry has top-level await (`async`): the loader waits for it to settle.

const {
  ArrayPrototypePush,
  ArrayPrototypeUnshift,
  ObjectDefineProperty,
  StringPrototypeEndsWith,
  StringPrototypeStartsWith,
  PromisePrototypeThen,
  PromiseResolve,
  SafeSet,
  TypeError: TypeErrorCtor,
} = primordials;

let moduleExports = null;
let moduleLoading = false; // an async entry's promise is pending
let moduleFailure = null; // what it rejected with, as text (its stack, mapped to the files)

// Stack traces of module workers point at the user's files: the bundle (a classic script
// made by isolate_worker/bundler.py) hands over a map from its lines to theirs.
const BUNDLE_PREFIX = "isoflow-bundle:";

function formatFrame(site, lineMap) {
  let file = site.getScriptNameOrSourceURL();
  let line = site.getLineNumber();
  const column = site.getColumnNumber();
  // Primordials only, no array destructuring: this runs for errors a script throws after
  // it may have patched String.prototype or Array.prototype[Symbol.iterator].
  if (typeof file === "string" && StringPrototypeStartsWith(file, BUNDLE_PREFIX) &&
      line !== null) {
    const found = lineMap.locate(line);
    if (found !== null) {
      file = found[0];
      line = found[1];
    }
  }
  let location;
  if (site.isNative()) location = "native";
  else if (file) location = `${file}:${line}:${column}`;
  else location = "<anonymous>";
  const name = site.getFunctionName();
  const typeName = site.isToplevel() ? null : site.getTypeName();
  const method = site.getMethodName();
  let label = null;
  if (site.isConstructor()) {
    label = `new ${name || "<anonymous>"}`;
  } else if (name) {
    label = typeName && !StringPrototypeStartsWith(name, `${typeName}.`) && !site.isToplevel() &&
      typeName !== "Object" ? `${typeName}.${name}` : name;
    if (method && method !== name && !StringPrototypeEndsWith(name, `.${method}`)) {
      label += ` [as ${method}]`;
    }
  } else if (method) {
    label = `${typeName || "<anonymous>"}.${method}`;
  }
  const prefix = site.isAsync() ? "async " : "";
  return label === null ? `${prefix}${location}` : `${prefix}${label} (${location})`;
}

internals.sourceMap = {
  install(map) {
    const files = map.files;
    const segments = map.segments; // [first bundle line, file index, [original line...]]
    const lineMap = {
      locate(line) {
        let found = null;
        for (let i = 0; i < segments.length; i++) {
          if (segments[i][0] <= line) found = segments[i];
          else break;
        }
        if (found === null) return null;
        const original = found[2][line - found[0]];
        return original ? [files[found[1]], original] : null;
      },
    };
    primordials.Error.prepareStackTrace = (error, sites) => {
      let head;
      try {
        head = primordials.ErrorPrototypeToString(error);
      } catch {
        head = "Error";
      }
      let out = head;
      // An indexed loop: a script may have replaced Array.prototype[Symbol.iterator].
      for (let i = 0; i < sites.length; i++) out += `\n    at ${formatFrame(sites[i], lineMap)}`;
      return out;
    };
  },
};
const waitUntilPromises = new SafeSet();

// One null-prototype descriptor, reused: a `get` or `writable` accessor a script put on
// Object.prototype must not turn the event's properties into something else.
const eventProp = { __proto__: null, value: undefined, enumerable: true, configurable: true };

function makeEvent(type, props) {
  const event = new internals.events.Event(type);
  const keys = primordials.ObjectKeys(props);
  for (let i = 0; i < keys.length; i++) {
    eventProp.value = props[keys[i]];
    ObjectDefineProperty(event, keys[i], eventProp);
  }
  eventProp.value = undefined;
  return event;
}

function invalidState(message) {
  return new internals.DOMException(message, "InvalidStateError");
}

/** Keep `job` (90_serve.js) open until `promise` settles (at most its time budget). */
function waitUntil(promise, job) {
  const p = PromiseResolve(promise);
  waitUntilPromises.add(p);
  if (job !== null) job.waits++;
  const settled = () => {
    waitUntilPromises.delete(p);
    if (job !== null) {
      job.waits--;
      job.settled();
    }
  };
  PromisePrototypeThen(p, settled, (e) => {
    settled();
    internals.reportException(e);
  });
}

/** The job of the handler running now, which its `waitUntil` extends. */
function currentJob() {
  const ctx = internals.contexts.current;
  return ctx !== null ? ctx.owner : null;
}

function makeContext() {
  const job = currentJob();
  return {
    waitUntil(promise) {
      waitUntil(promise, job);
    },
    passThroughOnException() {}, // accepted: there is no origin to pass the request to
  };
}

let fetchEventSlots;

/**
 * The event of a service-worker script's fetch listeners, its members on its prototype (as
 * workerd's FetchEvent has them) and its state in private fields: one object a request,
 * not four property definitions and three closures.
 */
class FetchEvent extends internals.events.Event {
  #request;
  #job;
  #dispatching = true;
  #responded = false;
  #response = undefined;

  static {
    fetchEventSlots = {
      /** The dispatch is over: respondWith() may no longer be called. */
      close(event) {
        event.#dispatching = false;
      },
      /** The response respondWith() was given, or what no call means. */
      response(event) {
        if (!event.#responded) {
          throw new TypeErrorCtor("No response: no fetch listener called event.respondWith().");
        }
        return event.#response;
      },
    };
  }

  constructor(request, job, internal) {
    if (internal !== kInternal) throw new TypeErrorCtor("Illegal constructor");
    super("fetch");
    this.#request = request;
    this.#job = job;
  }

  get request() {
    return this.#request;
  }

  respondWith(response) {
    if (!this.#dispatching) {
      throw invalidState("respondWith() must be called synchronously in the event handler.");
    }
    if (this.#responded) throw invalidState("respondWith() was already called.");
    this.#responded = true;
    this.#response = response;
  }

  waitUntil(promise) {
    waitUntil(promise, this.#job);
  }

  passThroughOnException() {} // accepted: there is no origin to pass the request to
}
const kInternal = primordials.Symbol("internal");

/**
 * Whether the default export is a class (`export default class extends WorkerEntrypoint`)
 * whose instances have a `type` method: made anew for each event with (ctx, env), its
 * method called with the event's argument alone, as workerd does.
 */
function isEntrypointClass(handler, type) {
  if (typeof handler !== "function") return false;
  const proto = handler.prototype;
  return proto !== null && typeof proto === "object" && typeof proto[type] === "function";
}

/** Run the script's fetch handler; returns a Response or a promise of one. */
function dispatchFetch(request) {
  if (moduleExports !== null) {
    const handler = moduleExports.default;
    if (isEntrypointClass(handler, "fetch")) {
      return new handler(makeContext(), internals.worker.env).fetch(request);
    }
    if (handler === undefined || handler === null || typeof handler.fetch !== "function") {
      throw new TypeErrorCtor("The module's default export has no fetch() method.");
    }
    return handler.fetch(request, internals.worker.env, makeContext());
  }
  const event = new FetchEvent(request, currentJob(), kInternal);
  try {
    internals.events.dispatch(globalThis, event);
  } finally {
    fetchEventSlots.close(event);
  }
  return fetchEventSlots.response(event);
}

/** Whether the script handles `type` ("fetch", "scheduled") events at all. */
function hasHandler(type) {
  if (moduleExports !== null) {
    const handler = moduleExports.default;
    if (isEntrypointClass(handler, type)) return true;
    return handler !== undefined && handler !== null && typeof handler[type] === "function";
  }
  return internals.events.hasListeners(globalThis, type);
}

internals.events.installEventTarget(globalThis);

ObjectDefineProperty(globalThis, "__isoflow_register_module", {
  value: function register(evaluate, lineMap, async) {
    delete globalThis.__isoflow_register_module;
    const result = typeof evaluate === "function" ? evaluate(internals.nodeHost) : evaluate;
    if (lineMap !== undefined) internals.sourceMap.install(lineMap);
    if (async !== true) {
      moduleExports = result;
      return;
    }
    moduleLoading = true;
    PromisePrototypeThen(result, (exports) => {
      moduleLoading = false;
      moduleExports = exports;
    }, (error) => {
      moduleLoading = false;
      moduleFailure = internals.host.errorText(error);
    });
  },
  writable: false,
  enumerable: false,
  configurable: true,
});

ObjectDefineProperty(globalThis, "__isoflow_status", {
  value: function status() {
    return primordials.JSONStringify({
      module: moduleExports !== null,
      loading: moduleLoading,
      failure: moduleFailure,
      fetch: hasHandler("fetch"),
      scheduled: hasHandler("scheduled"),
      live: internals.serve.live.size,
      v8BytesIn: internals.host.counters.v8BytesIn,
      v8BytesOut: internals.host.counters.v8BytesOut,
      waitUntil: waitUntilPromises.size,
      timers: internals.timers.count(),
    });
  },
  writable: false,
  enumerable: false,
  configurable: false,
});

// Bindings: `env` for module workers, globals for service-worker scripts.
internals.host.afterConfigure = () => {
  const env = internals.host.config.env;
  internals.worker.env = env;
  for (const name of primordials.ObjectKeys(env)) internals.exposeGlobal(name, env[name]);
};

// -- scheduled events (cron triggers) ------------------------------------------------------
// [EV_SCHEDULED, sid, cron, scheduledTime] runs the module's scheduled(event, env, ctx) or
// the "scheduled" listeners; the outcome goes back on the same stream: AC_END when the
// handler and every waitUntil promise fulfilled, AC_ERROR otherwise.

const { EV_SCHEDULED, AC_END, AC_ERROR, AC_DONE } = internals.kinds;

function runScheduled(ev) {
  const sid = ev[1], cron = ev[2], scheduledTime = ev[3];
  const host = internals.host;
  internals.taskHook();
  const waits = primordials.NullArray();
  const job = internals.serve.scheduledJob(sid, `scheduled event "${cron}"`);
  const saved = internals.contexts.current;
  internals.contexts.current = job.ctx;
  let result;
  try {
    if (moduleExports !== null) {
      const handler = moduleExports.default;
      const controller = { cron, scheduledTime, type: "scheduled", noRetry() {} };
      const ctx = {
        waitUntil(promise) { ArrayPrototypePush(waits, promise); },
        passThroughOnException() {},
      };
      if (isEntrypointClass(handler, "scheduled")) {
        result = new handler(ctx, internals.worker.env).scheduled(controller);
      } else if (handler === undefined || handler === null ||
                 typeof handler.scheduled !== "function") {
        throw new TypeErrorCtor("The module's default export has no scheduled() method.");
      } else {
        result = handler.scheduled(controller, internals.worker.env, ctx);
      }
    } else {
      const event = makeEvent("scheduled", {
        cron, scheduledTime, noRetry() {},
        waitUntil(promise) { ArrayPrototypePush(waits, promise); },
      });
      internals.events.dispatch(globalThis, event);
    }
  } catch (e) {
    result = primordials.PromiseReject(e);
  } finally {
    internals.contexts.current = saved;
  }
  ArrayPrototypeUnshift(waits, result);
  // The outcome is reported whatever happens on the way: the supervisor waits for it.
  PromisePrototypeThen(
    primordials.SafePromiseAll(waits),
    () => {
      try {
        job.end();
      } finally {
        host.queueAction([AC_END, sid]);
        host.queueAction([AC_DONE, sid]);
      }
    },
    (e) => {
      try {
        job.end();
        host.log("error", sid, `Uncaught (in scheduled event "${cron}") ${host.errorText(e)}`);
      } finally {
        host.queueAction([AC_ERROR, sid, 500, host.errorText(e, "message"), 0]);
        host.queueAction([AC_DONE, sid]);
      }
    },
  );
}
internals.host.on(EV_SCHEDULED, runScheduled);

internals.worker = {
  env: {},
  dispatchFetch,
  /** waitUntil() for the handler running now (cloudflare:workers' `waitUntil`). */
  waitUntil(promise) {
    waitUntil(promise, currentJob());
  },
};
