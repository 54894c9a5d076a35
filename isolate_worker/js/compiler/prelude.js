// The head of every module bundle (isolate_worker/bundler.py): a tiny CommonJS loader.
// The bundler appends `__defs[i] = [deps, function (exports, require, module, meta) {...},
// esm, builtin, url, imports];` for each module (meta: what `import.meta` became, { url,
// main }) and closes the function after registering the entry's exports.
// Top-level await: a module that awaits at its top level, or imports one that does, is an
// `async function` whose `imports` (else null) are the module numbers of its import
// declarations: __evaluate runs those first, in order, awaiting the async ones, then the
// module, as ES modules run. An import() of one that has not run yet runs it and waits for
// it (the bundler has its import() calls use require.dynamic); a require() call of it
// throws ERR_REQUIRE_ASYNC_MODULE, as Node's require() does.
// The node: built-ins (nodejs_compat, isoflow/js/node/) run first, before any of the
// script's code, so what they capture of the globals is the original; they alone get the
// runtime's host object (js/93_node_host.js) with require("isoflow:host"): the runtime
// passes it to the function the bundle registers, (host) => __entry(0, host).
// deps maps each specifier to a module number, or to the message of the error its require()
// throws (a require() in a `try` block the bundler could not resolve, as esbuild leaves it).
// Cycles behave as in Node: a module required again while it runs gets its exports so far.
(function () {
const __defs = [];
let __nodeHost = null;
const __cache = [];
let __main = -1; // the entry's module number (import.meta.main)
const __hasOwn = Object.hasOwn;
const __apply = Reflect.apply;
const __esm = new WeakSet(); // the exports objects of ES modules
const __esmAdd = WeakSet.prototype.add, __esmHas = WeakSet.prototype.has;
const __isESM = (exports) => __apply(__esmHas, __esm, [exports]);
// node:async_hooks: the AsyncLocalStorage context ("frame": null, or a Map from storage to
// store) of the code running now. A bundle holding node:async_hooks is compiled with its
// async functions as generators (bundler.py lower_async) whose every step runs through
// __alsAwaiter, so the frame of the call is back after each await; async_hooks.js carries
// it into timers, queueMicrotask and then() callbacks (require("isoflow:als")).
let __alsFrame = null;
const __Promise = Promise;
const __then = Promise.prototype.then;
const __als = {
  used: false, // set by async_hooks.js when it loads
  get: () => __alsFrame,
  set(frame) { __alsFrame = frame; },
  /** `fn` bound to the frame current now. */
  bind(fn, frame = __alsFrame) {
    return function (...args) {
      const saved = __alsFrame;
      __alsFrame = frame;
      try {
        return __apply(fn, this, args);
      } finally {
        __alsFrame = saved;
      }
    };
  },
};
function __alsAwaiter(thisArg, _arguments, P, generator) {
  let frame = __alsFrame; // the call's, then as each step left it (enterWith)
  if (!P) P = __Promise;
  function adopt(value) { return value instanceof P ? value : new P((resolve) => resolve(value)); }
  return new P(function (resolve, reject) {
    function run(method, value) {
      const saved = __alsFrame;
      __alsFrame = frame;
      try {
        return generator[method](value);
      } finally {
        frame = __alsFrame;
        __alsFrame = saved;
      }
    }
    function fulfilled(value) { try { step(run("next", value)); } catch (e) { reject(e); } }
    function rejected(value) { try { step(run("throw", value)); } catch (e) { reject(e); } }
    function step(result) {
      if (result.done) resolve(result.value);
      else adopt(result.value).then(fulfilled, rejected);
    }
    generator = __apply(generator, thisArg, _arguments || []);
    step(run("next"));
  });
}
function __require(id) {
  const cached = __cache[id];
  if (cached !== undefined) {
    if (cached.failed) throw cached.error;
    return cached.exports; // so far, while it runs (a cycle)
  }
  if (__defs[id][5] !== null) {
    const error = new Error("Cannot require() " + __defs[id][4] + " before it has run: it " +
      "uses top-level await (import it with an import declaration)");
    error.code = "ERR_REQUIRE_ASYNC_MODULE";
    throw error;
  }
  const module = { exports: {} };
  __run(id, module);
  return module.exports;
}
// undefined when module `id` has run (or is a synchronous one, run now), else the promise
// of its evaluation: the one running already (import() calls from two requests share it),
// or a rejected one if it failed. A module on `path` (the imports being evaluated, from the
// first) is part of a cycle: not waited for, as in ES modules.
function __evaluate(id, path) {
  const cached = __cache[id];
  if (cached !== undefined) {
    return cached.running === undefined || __onPath(path, id) ? undefined : cached.running;
  }
  if (__defs[id][5] === null) {
    __require(id);
    return undefined;
  }
  const module = { exports: {}, running: undefined, failed: false, error: undefined };
  __cache[id] = module;
  module.running = __evaluateAsync(id, module, { id, parent: path });
  return module.running;
}
/** Whether module `id` is on `path` (a list of { id, parent }, null at the end). */
function __onPath(path, id) {
  for (let at = path; at !== null; at = at.parent) if (at.id === id) return true;
  return false;
}
async function __evaluateAsync(id, module, path) {
  try {
    const imports = __defs[id][5]; // by index: the script may have replaced array iteration
    for (let i = 0; i < imports.length; i++) {
      const running = __evaluate(imports[i], path);
      if (running !== undefined) await running;
    }
    await __run(id, module);
  } catch (error) {
    module.failed = true; // every later import of it fails the same way
    module.error = error;
    throw error;
  }
  module.running = undefined;
}
/** Runs module `id`; returns what its function returns (a promise for an async one). */
function __run(id, module) {
  __cache[id] = module;
  const def = __defs[id], deps = def[0], fn = def[1];
  if (def[2]) __apply(__esmAdd, __esm, [module.exports]);
  const require = (spec) => {
    const dep = __hasOwn(deps, spec) ? deps[spec] : undefined;
    if (typeof dep === "number") return __require(dep);
    if (def[3] && spec === "isoflow:host") return __nodeHost;
    if (def[3] && spec === "isoflow:als") return __als;
    const error = new Error(dep === undefined ? "Cannot find module '" + spec + "'" : dep);
    error.code = "MODULE_NOT_FOUND";
    throw error;
  };
  // import(spec): for a module with top-level await not yet run, a promise of its exports
  // once it has run, marked as a module's exports, which TypeScript's __importStar passes
  // through (and the import() promise adopts).
  require.dynamic = (spec) => {
    const dep = __hasOwn(deps, spec) ? deps[spec] : undefined;
    if (typeof dep !== "number" || __defs[dep][5] === null) return require(spec);
    const running = __evaluate(dep, null);
    if (running === undefined) return require(spec);
    const ran = __apply(__then, running, [() => __cache[dep].exports]);
    ran.__esModule = true;
    __apply(__esmAdd, __esm, [ran]);
    return ran;
  };
  const meta = { __proto__: null, url: def[4], main: id === __main };
  return __apply(fn, module.exports, [module.exports, require, module, meta]);
}
// What the entry hands the runtime: an ES module's namespace when it has a default export,
// a CommonJS entry's non-empty module.exports as the default export (as esbuild's ESM output
// makes it), else null: a service-worker script (addEventListener). A promise of that when
// the entry is async (top-level await).
function __entry(id, host) {
  __nodeHost = host === undefined ? null : host;
  __main = id;
  for (let i = 0; i < __defs.length; i++) if (__defs[i][3]) __require(i);
  const running = __evaluate(id, null);
  const exports = () => __alsHandlers(__namespace(__cache[id].exports));
  return running === undefined ? exports() : __apply(__then, running, [exports]);
}
// With node:async_hooks, each call of a handler starts in the empty context: a store one
// request entered (enterWith) never reaches another.
function __alsHandlers(ns) {
  if (!__als.used || ns === null) return ns;
  const handler = ns.default;
  if (handler === null || (typeof handler !== "object" && typeof handler !== "function")) {
    return ns;
  }
  const wrapped = { __proto__: handler };
  for (const name of ["fetch", "scheduled"]) {
    const fn = handler[name];
    if (typeof fn === "function") {
      wrapped[name] = (...args) => __apply(__als.bind(fn, null), handler, args);
    }
  }
  return { __proto__: ns, default: wrapped };
}
function __namespace(exports) {
  if (__isESM(exports) || (exports !== null && typeof exports === "object" &&
      exports.__esModule === true)) {
    return "default" in exports ? exports : null;
  }
  if (exports === null || exports === undefined) return null;
  if (typeof exports === "object" && Object.keys(exports).length === 0) return null;
  return { default: exports };
}
