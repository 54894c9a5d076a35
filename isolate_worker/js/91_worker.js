// The worker global scope: how a script registers its handlers, and how the bridge calls
// them. Both styles of Workers script are served:
//   addEventListener("fetch", (event) => event.respondWith(...))      (service worker)
//   export default { async fetch(request, env, ctx) { ... } }         (module worker)
// A module worker's bundle ends by calling __isoflow_register_module(exports), a one-shot
// global (see isolate_worker/script.py).

const {
  ArrayPrototypePush,
  ObjectDefineProperty,
  PromisePrototypeThen,
  PromiseResolve,
  SafeSet,
  TypeError: TypeErrorCtor,
} = primordials;

let moduleExports = null;
const waitUntilPromises = new SafeSet();
let passThrough = false;

// Without 03_event.js (unit tests of this file alone) keep a minimal listener registry.
const listeners = { fetch: [], scheduled: [] };

function makeEvent(type, props) {
  const EventCtor = globalThis.Event;
  const event = typeof EventCtor === "function" ? new EventCtor(type) : { type };
  for (const key of primordials.ObjectKeys(props)) {
    ObjectDefineProperty(event, key, { value: props[key], enumerable: true, configurable: true });
  }
  return event;
}

function invalidState(message) {
  return internals.DOMExceptionOrError(message, "InvalidStateError");
}

function waitUntil(promise) {
  const p = PromiseResolve(promise);
  waitUntilPromises.add(p);
  PromisePrototypeThen(p, () => waitUntilPromises.delete(p), (e) => {
    waitUntilPromises.delete(p);
    internals.reportException(e);
  });
}

function makeContext() {
  return {
    waitUntil(promise) {
      waitUntil(promise);
    },
    passThroughOnException() {
      passThrough = true;
    },
  };
}

/** Run the script's fetch handler; returns a Response or a promise of one. */
function dispatchFetch(request) {
  if (moduleExports !== null) {
    const handler = moduleExports.default;
    if (handler === undefined || handler === null || typeof handler.fetch !== "function") {
      throw new TypeErrorCtor("The module's default export has no fetch() method.");
    }
    return handler.fetch(request, internals.worker.env, makeContext());
  }
  let response;
  let responded = false;
  let dispatching = true;
  const event = makeEvent("fetch", {
    request,
    respondWith(r) {
      if (!dispatching) throw invalidState("respondWith() must be called synchronously in the event handler.");
      if (responded) throw invalidState("respondWith() was already called.");
      responded = true;
      response = r;
    },
    waitUntil(promise) {
      waitUntil(promise);
    },
    passThroughOnException() {
      passThrough = true;
    },
  });
  try {
    if (internals.events !== undefined && internals.events.dispatch !== undefined) {
      internals.events.dispatch(globalThis, event);
    } else {
      for (const listener of [...listeners.fetch]) listener.call(globalThis, event);
    }
  } finally {
    dispatching = false;
  }
  if (!responded) {
    throw new TypeErrorCtor("No response: no fetch listener called event.respondWith().");
  }
  return response;
}

function hasFetchHandler() {
  if (moduleExports !== null) {
    const handler = moduleExports.default;
    return handler !== undefined && handler !== null && typeof handler.fetch === "function";
  }
  if (internals.events !== undefined && internals.events.hasListeners !== undefined) {
    return internals.events.hasListeners(globalThis, "fetch");
  }
  return listeners.fetch.length > 0;
}

if (internals.events !== undefined && internals.events.installEventTarget !== undefined) {
  internals.events.installEventTarget(globalThis);
} else {
  const add = function addEventListener(type, listener) {
    if (typeof listener === "function" && type in listeners) {
      ArrayPrototypePush(listeners[type], listener);
    }
  };
  const remove = function removeEventListener(type, listener) {
    const list = listeners[type];
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i !== -1) list.splice(i, 1);
  };
  internals.exposeGlobals({ addEventListener: add, removeEventListener: remove });
}

ObjectDefineProperty(globalThis, "__isoflow_register_module", {
  value: function register(exports) {
    delete globalThis.__isoflow_register_module;
    moduleExports = exports;
  },
  writable: false,
  enumerable: false,
  configurable: true,
});

ObjectDefineProperty(globalThis, "__isoflow_status", {
  value: function status() {
    return primordials.JSONStringify({
      module: moduleExports !== null,
      fetch: hasFetchHandler(),
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

internals.worker = {
  env: {},
  dispatchFetch,
  hasFetchHandler,
  pendingWaitUntil: () => waitUntilPromises.size,
  passThrough: () => passThrough,
};
