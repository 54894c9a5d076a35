// The head of every module bundle (isolate_worker/bundler.py): a tiny CommonJS loader.
// The bundler appends `__defs[i] = [deps, function (exports, require, module) {...}, esm,
// builtin];` for each module and closes the function after registering the entry's exports.
// The node: built-ins (nodejs_compat, isoflow/js/node/) run first, before any of the
// script's code, so what they capture of the globals is the original; they alone get the
// runtime's host object (js/93_node_host.js) with require("isoflow:host").
// deps maps each specifier to a module number, or to the message of the error its require()
// throws (a require() in a `try` block the bundler could not resolve, as esbuild leaves it).
// Cycles behave as in Node: a module required again while it runs gets its exports so far.
(function () {
const __defs = [];
const __nodeHost = globalThis.__isoflow_node;
delete globalThis.__isoflow_node;
const __cache = [];
const __hasOwn = Object.hasOwn;
const __apply = Reflect.apply;
const __esm = new WeakSet(); // the exports objects of ES modules
const __esmAdd = WeakSet.prototype.add, __esmHas = WeakSet.prototype.has;
const __isESM = (exports) => __apply(__esmHas, __esm, [exports]);
function __require(id) {
  const cached = __cache[id];
  if (cached !== undefined) return cached.exports;
  const module = { exports: {} };
  __cache[id] = module;
  const def = __defs[id], deps = def[0], fn = def[1];
  if (def[2]) __apply(__esmAdd, __esm, [module.exports]);
  const require = (spec) => {
    const dep = __hasOwn(deps, spec) ? deps[spec] : undefined;
    if (typeof dep === "number") return __require(dep);
    if (def[3] && spec === "isoflow:host") return __nodeHost;
    const error = new Error(dep === undefined ? "Cannot find module '" + spec + "'" : dep);
    error.code = "MODULE_NOT_FOUND";
    throw error;
  };
  __apply(fn, module.exports, [module.exports, require, module]);
  return module.exports;
}
// What the entry hands the runtime: an ES module's namespace when it has a default export,
// a CommonJS entry's non-empty module.exports as the default export (as esbuild's ESM output
// makes it), else null: a service-worker script (addEventListener).
function __entry(id) {
  for (let i = 0; i < __defs.length; i++) if (__defs[i][3]) __require(i);
  const exports = __require(id);
  if (__isESM(exports) || (exports !== null && typeof exports === "object" &&
      exports.__esModule === true)) {
    return "default" in exports ? exports : null;
  }
  if (exports === null || exports === undefined) return null;
  if (typeof exports === "object" && Object.keys(exports).length === 0) return null;
  return { default: exports };
}
