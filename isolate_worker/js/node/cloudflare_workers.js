// cloudflare:workers (no compatibility flag needed): the base classes of class-based
// entrypoints and what the module gives besides. `export default class extends
// WorkerEntrypoint { fetch(request) { ... } }` is made anew for each event with (ctx, env)
// and its method called with the event's argument alone (js/91_worker.js). A Durable Object
// or Workflow class may be declared (a wrangler project's may be) but is never run: isoflow
// has no Durable Objects or Workflows. `env` is the script's bindings; `waitUntil(promise)`
// extends the event running now, as its ctx.waitUntil() does.
"use strict";

const host = require("isoflow:host");

class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

class WorkflowEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

class RpcTarget {}

exports.WorkerEntrypoint = WorkerEntrypoint;
exports.DurableObject = DurableObject;
exports.WorkflowEntrypoint = WorkflowEntrypoint;
exports.RpcTarget = RpcTarget;
exports.waitUntil = (promise) => host.waitUntil(promise);
Object.defineProperty(exports, "env", { get: () => host.env(), enumerable: true });
