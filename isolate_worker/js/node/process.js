// node:process under nodejs_compat: env (the script's string bindings: vars and secrets),
// nextTick, version(s), platform, and the rest of the common surface as Workers has it.
"use strict";

const EventEmitter = require("node:events");
const host = require("isoflow:host");
const als = require("isoflow:als"); // a tick runs in the AsyncLocalStorage context it was queued in

const queue = queueMicrotask;
const now = performance.now.bind(performance);
const timeOrigin = performance.timeOrigin;

const process = new EventEmitter();
const env = {};
for (const [name, value] of Object.entries(host.env())) {
  if (typeof value === "string") env[name] = value;
}

function hrtime(previous) {
  const t = timeOrigin + now();
  let seconds = Math.floor(t / 1000);
  let nanos = Math.floor((t % 1000) * 1e6);
  if (Array.isArray(previous)) {
    seconds -= previous[0];
    nanos -= previous[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
  }
  return [seconds, nanos];
}
hrtime.bigint = () => BigInt(Math.floor((timeOrigin + now()) * 1e6));

Object.assign(process, {
  env,
  title: "workerd",
  argv: ["workerd"],
  argv0: "workerd",
  execArgv: [],
  pid: 1,
  ppid: 0,
  arch: "x64",
  platform: "linux",
  version: "v22.14.0",
  versions: { node: "22.14.0" },
  release: { name: "node" },
  features: {},
  config: {},
  exitCode: undefined,
  browser: false,
  nextTick(callback, ...args) {
    if (typeof callback !== "function") {
      const error = new TypeError('The "callback" argument must be of type function.');
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    queue(als.bind(() => callback(...args)));
  },
  hrtime,
  cwd: () => "/",
  chdir() {
    const error = new Error("process.chdir() is not supported by isoflow");
    error.code = "ERR_METHOD_NOT_IMPLEMENTED";
    throw error;
  },
  umask: () => 0o22,
  uptime: () => now() / 1000,
  memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0,
                                      arrayBuffers: 0 }), { rss: () => 0 }),
  cpuUsage: () => ({ user: 0, system: 0 }),
  /** As Node: a 'warning' event on process on the next tick, and the warning printed. */
  emitWarning(warning, type, code) {
    if (type !== null && typeof type === "object" && !Array.isArray(type)) {
      ({ type, code } = type);
    }
    if (typeof code === "function") code = undefined; // (warning, type, ctor)
    if (typeof warning === "string") {
      const error = new Error(warning);
      error.name = typeof type === "string" ? type : "Warning";
      if (code !== undefined) error.code = code;
      warning = error;
    } else if (!(warning instanceof Error)) {
      const error = new TypeError('The "warning" argument must be of type string or an ' +
                                  "instance of Error.");
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    const shown = warning;
    queue(als.bind(() => {
      process.emit("warning", shown);
      console.warn(`${shown.code ? `[${shown.code}] ` : ""}${shown.name}: ${shown.message}`);
    }));
  },
  exit(code) {
    const error = new Error(`process.exit(${code === undefined ? "" : code}) is not supported ` +
                            "in a worker: return a Response instead");
    error.code = "ERR_METHOD_NOT_IMPLEMENTED";
    throw error;
  },
  abort() {
    process.exit();
  },
  getuid: () => 0,
  getgid: () => 0,
  geteuid: () => 0,
  getegid: () => 0,
  binding(name) {
    throw new Error(`No such module: ${name}`);
  },
});

module.exports = process;
