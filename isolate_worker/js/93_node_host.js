// What the node: modules of nodejs_compat, cloudflare:workers and cloudflare:sockets
// (isolate_worker/js/node/, bundled with a script that imports them) need of the runtime.
// It reaches them alone: a module bundle hands __isoflow_register_module a function that takes this object and evaluates the
// modules (js/compiler/prelude.js), whose require("isoflow:host") gives it to built-ins
// only. It holds nothing a script may not have anyway.

const { ObjectFreeze } = primordials;

internals.nodeHost = ObjectFreeze({
  __proto__: null,
  /** The script's bindings (vars and secrets), as the fetch handler's `env` has them. */
  env: () => internals.worker.env,
  /** ctx.waitUntil() of the handler running now (cloudflare:workers). */
  waitUntil: (promise) => internals.worker.waitUntil(promise),
  /** connect() of cloudflare:sockets (js/37_sockets.js). */
  connect: (address, options) => internals.sockets.connect(address, options),
});
