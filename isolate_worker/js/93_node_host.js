// What the node: modules of nodejs_compat (isolate_worker/js/node/*.js, bundled with a
// script that imports them) need of the runtime. A module bundle's prelude takes this
// object off the global before any of the script's code runs and hands it to those modules
// alone (`require("isoflow:host")`); it holds nothing a script may not have anyway.

const { ObjectDefineProperty, ObjectFreeze } = primordials;

const nodeHost = ObjectFreeze({
  __proto__: null,
  /** The script's bindings (vars and secrets), as the fetch handler's `env` has them. */
  env: () => internals.worker.env,
});

ObjectDefineProperty(globalThis, "__isoflow_node", {
  value: nodeHost,
  writable: false,
  enumerable: false,
  configurable: true,
});
