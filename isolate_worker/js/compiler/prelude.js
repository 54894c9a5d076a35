// The head of every module bundle (isolate_worker/bundler.py): a tiny CommonJS loader.
// The bundler appends `__defs[i] = [deps, function (exports, require, module) {...}];` for
// each module and closes the function after calling __isoflow_register_module(entry).
(function () {
const __defs = [];
const __cache = [];
function __require(id) {
  const cached = __cache[id];
  if (cached !== undefined) return cached.exports;
  const module = { exports: {} };
  __cache[id] = module;
  const [deps, fn] = __defs[id];
  const require = (spec) => {
    const dep = deps[spec];
    if (dep === undefined) throw new Error("Cannot find module '" + spec + "'");
    return __require(dep);
  };
  fn.call(module.exports, module.exports, require, module);
  return module.exports;
}
