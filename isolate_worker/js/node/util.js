// node:util under nodejs_compat: the common subset (format, inspect, promisify, types, ...).
"use strict";

const { apply: ReflectApply, ownKeys: ReflectOwnKeys } = Reflect;
const ObjectPrototypeToString = Object.prototype.toString;
const FunctionPrototypeToString = Function.prototype.toString;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const isView = ArrayBuffer.isView;
const ArrayIsArray = Array.isArray;
const JSONStringify = JSON.stringify;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

const customInspect = Symbol.for("nodejs.util.inspect.custom");
const customPromisify = Symbol.for("nodejs.util.promisify.custom");

function tag(value) {
  return ReflectApply(ObjectPrototypeToString, value, []);
}

const types = {
  isPromise: (v) => v instanceof Promise,
  isRegExp: (v) => tag(v) === "[object RegExp]",
  isDate: (v) => tag(v) === "[object Date]",
  isMap: (v) => tag(v) === "[object Map]",
  isSet: (v) => tag(v) === "[object Set]",
  isWeakMap: (v) => tag(v) === "[object WeakMap]",
  isWeakSet: (v) => tag(v) === "[object WeakSet]",
  isNativeError: (v) => v instanceof Error,
  isArrayBuffer: (v) => v instanceof ArrayBuffer,
  isSharedArrayBuffer: (v) => typeof SharedArrayBuffer === "function" && v instanceof SharedArrayBuffer,
  isAnyArrayBuffer: (v) => types.isArrayBuffer(v) || types.isSharedArrayBuffer(v),
  isArrayBufferView: (v) => isView(v),
  isDataView: (v) => v instanceof DataView,
  isTypedArray: (v) => ReflectApply(typedArrayTag, v, []) !== undefined,
  isUint8Array: (v) => ReflectApply(typedArrayTag, v, []) === "Uint8Array",
  isAsyncFunction: (v) => typeof v === "function" &&
    (v instanceof AsyncFunction || v instanceof AsyncGeneratorFunction),
  isGeneratorFunction: (v) => typeof v === "function" &&
    (v instanceof GeneratorFunction || v instanceof AsyncGeneratorFunction),
  isGeneratorObject: (v) => tag(v) === "[object Generator]",
  isBoxedPrimitive: (v) => v !== null && typeof v === "object" &&
    ["[object Number]", "[object String]", "[object Boolean]", "[object BigInt]",
     "[object Symbol]"].includes(tag(v)),
  isSymbolObject: (v) => v !== null && typeof v === "object" && tag(v) === "[object Symbol]",
  isProxy: () => false, // not observable from JavaScript
};
// isUint16Array, isFloat64Array, ...
for (const name of ["Int8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
  "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
  types[`is${name}`] = (v) => ReflectApply(typedArrayTag, v, []) === name;
}

// -- inspect ---------------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function quote(string) {
  const escaped = JSONStringify(string).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${escaped}'`;
}

function formatKey(key) {
  if (typeof key === "symbol") return `[${key.toString()}]`;
  return IDENTIFIER.test(key) ? key : quote(key);
}

function formatPrimitive(value) {
  switch (typeof value) {
    case "string": return quote(value);
    case "bigint": return `${value}n`;
    case "symbol": return value.toString();
    case "number": return Object.is(value, -0) ? "-0" : `${value}`;
    default: return `${value}`;
  }
}

function constructorName(value) {
  let proto = Object.getPrototypeOf(value);
  while (proto !== null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, "constructor");
    if (descriptor !== undefined && typeof descriptor.value === "function" &&
        descriptor.value.name !== "") {
      return descriptor.value.name;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return null;
}

function join(open, parts, close, indent, breakLength) {
  if (parts.length === 0) return `${open}${close}`;
  const oneLine = `${open} ${parts.join(", ")} ${close}`;
  if (oneLine.length <= breakLength && !parts.some((p) => p.includes("\n"))) return oneLine;
  const pad = "  ".repeat(indent + 1);
  return `${open}\n${pad}${parts.join(`,\n${pad}`)}\n${"  ".repeat(indent)}${close}`;
}

function formatValue(value, options, depth, seen) {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    return formatPrimitive(value);
  }
  if (options.customInspect !== false && typeof value[customInspect] === "function" &&
      value[customInspect] !== inspect) {
    const result = value[customInspect](options.depth - depth, options, inspect);
    return typeof result === "string" ? result : formatValue(result, options, depth, seen);
  }
  if (seen.includes(value)) return "[Circular *1]";
  if (typeof value === "function") {
    const source = ReflectApply(FunctionPrototypeToString, value, []);
    const kind = source.startsWith("class") ? "class" : types.isAsyncFunction(value)
      ? "AsyncFunction" : types.isGeneratorFunction(value) ? "GeneratorFunction" : "Function";
    if (kind === "class") return `[class ${value.name || "(anonymous)"}]`;
    return value.name ? `[${kind}: ${value.name}]` : `[${kind} (anonymous)]`;
  }
  if (value instanceof Error) return value.stack || `${value.name}: ${value.message}`;
  if (types.isDate(value)) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (types.isRegExp(value)) return `${value}`;
  if (types.isPromise(value)) return "Promise { <unknown> }";
  const name = constructorName(value);
  if (depth > options.depth) {
    return ArrayIsArray(value) ? "[Array]" : `[${name || "Object: null prototype"}]`;
  }
  const inner = [...seen, value];
  const sub = (v) => formatValue(v, options, depth + 1, inner);
  const parts = [];
  let open = "{", close = "}", prefix = "";
  if (ArrayIsArray(value) || types.isTypedArray(value)) {
    const max = Math.min(value.length, options.maxArrayLength);
    for (let i = 0; i < max; i++) parts.push(sub(value[i]));
    if (value.length > max) parts.push(`... ${value.length - max} more item${value.length - max > 1 ? "s" : ""}`);
    open = "[";
    close = "]";
    if (!ArrayIsArray(value)) prefix = `${name}(${value.length}) `;
    else if (name !== "Array") prefix = `${name}(${value.length}) `;
  } else if (types.isMap(value)) {
    for (const [k, v] of value) parts.push(`${sub(k)} => ${sub(v)}`);
    prefix = `${name}(${value.size}) `;
  } else if (types.isSet(value)) {
    for (const v of value) parts.push(sub(v));
    prefix = `${name}(${value.size}) `;
  } else if (types.isAnyArrayBuffer(value)) {
    const bytes = new Uint8Array(value);
    const hex = [];
    for (let i = 0; i < Math.min(bytes.length, 50); i++) hex.push(bytes[i].toString(16).padStart(2, "0"));
    parts.push(`[Uint8Contents]: <${hex.join(" ")}${bytes.length > 50 ? " ..." : ""}>`,
               `byteLength: ${value.byteLength}`);
    prefix = `${name} `;
  } else if (name === null) {
    prefix = "[Object: null prototype] ";
  } else if (name !== "Object") {
    prefix = `${name} `;
  }
  if (!types.isTypedArray(value)) {
    for (const key of ReflectOwnKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (!descriptor.enumerable) continue;
      if (ArrayIsArray(value) && typeof key === "string" && /^(0|[1-9]\d*)$/.test(key)) continue;
      const shown = "value" in descriptor ? sub(descriptor.value)
        : descriptor.get && descriptor.set ? "[Getter/Setter]" : descriptor.get ? "[Getter]" : "[Setter]";
      parts.push(`${formatKey(key)}: ${shown}`);
    }
  }
  return `${prefix}${join(open, parts, close, depth, options.breakLength)}`;
}

function inspect(value, options) {
  const opts = { depth: 2, customInspect: true, maxArrayLength: 100, breakLength: 80 };
  if (typeof options === "object" && options !== null) Object.assign(opts, options);
  if (opts.depth === null) opts.depth = Infinity;
  return formatValue(value, opts, 0, []);
}
inspect.custom = customInspect;
inspect.defaultOptions = { depth: 2 };

// -- format ----------------------------------------------------------------------------------

function format(...args) {
  return formatWithOptions(undefined, ...args);
}

function formatWithOptions(inspectOptions, first, ...rest) {
  const show = (v) => (typeof v === "string" ? v : inspect(v, inspectOptions));
  if (typeof first !== "string") return [first, ...rest].map(show).join(" ");
  let i = 0;
  let out = first.replace(/%([sdifjoOc%])/g, (match, kind) => {
    if (kind === "%") return "%";
    if (i >= rest.length) return match;
    const arg = rest[i++];
    switch (kind) {
      case "s":
        if (typeof arg === "bigint") return `${arg}n`;
        if (typeof arg === "object" && arg !== null) return inspect(arg, { depth: 0 });
        return String(arg);
      case "d":
        if (typeof arg === "bigint") return `${arg}n`;
        return typeof arg === "symbol" ? "NaN" : `${Number(arg)}`;
      case "i":
        if (typeof arg === "bigint") return `${arg}n`;
        return typeof arg === "symbol" ? "NaN" : `${parseInt(arg)}`;
      case "f": return typeof arg === "symbol" ? "NaN" : `${parseFloat(arg)}`;
      case "j":
        try {
          return JSONStringify(arg);
        } catch {
          return "[Circular]";
        }
      case "o": return inspect(arg, { depth: 4, showHidden: true });
      case "O": return inspect(arg, inspectOptions);
      case "c": return "";
    }
    return match;
  });
  for (; i < rest.length; i++) out += ` ${show(rest[i])}`;
  return out;
}

// -- functions -------------------------------------------------------------------------------

function promisify(original) {
  if (typeof original !== "function") {
    throw new TypeError('The "original" argument must be of type function');
  }
  if (typeof original[customPromisify] === "function") return original[customPromisify];
  function fn(...args) {
    return new Promise((resolve, reject) => {
      ReflectApply(original, this, [...args, (err, ...values) => {
        if (err) reject(err);
        else resolve(values.length > 1 ? values : values[0]);
      }]);
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  Object.defineProperty(fn, customPromisify, { value: fn, configurable: true });
  return Object.defineProperties(fn, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

function callbackify(original) {
  if (typeof original !== "function") {
    throw new TypeError('The "original" argument must be of type function');
  }
  return function (...args) {
    const callback = args.pop();
    if (typeof callback !== "function") {
      throw new TypeError("The last argument must be of type function");
    }
    ReflectApply(original, this, args).then(
      (value) => queueMicrotask(() => callback(null, value)),
      (reason) => queueMicrotask(() => {
        if (!reason) {
          const error = new Error("Promise was rejected with a falsy value");
          error.reason = reason;
          reason = error;
        }
        callback(reason);
      }),
    );
  };
}

function inherits(ctor, superCtor) {
  if (typeof ctor !== "function" || typeof superCtor !== "function" ||
      superCtor.prototype === undefined) {
    throw new TypeError("The constructor and superCtor arguments must be functions");
  }
  Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const warned = new Set();
function deprecate(fn, message, code) {
  let done = false;
  return function deprecated(...args) {
    if (!done && !(code !== undefined && warned.has(code))) {
      done = true;
      if (code !== undefined) warned.add(code);
      console.warn(`DeprecationWarning: ${message}`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : ReflectApply(fn, this, args);
  };
}

function isDeepStrictEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || tag(a) !== tag(b)) return false;
  if (types.isDate(a)) return a.getTime() === b.getTime();
  if (types.isMap(a) || types.isSet(a)) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a.entries()) {
      if (!b.has(k) || (types.isMap(a) && !isDeepStrictEqual(v, b.get(k)))) return false;
    }
    return true;
  }
  const ka = ReflectOwnKeys(a), kb = ReflectOwnKeys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) &&
    isDeepStrictEqual(a[k], b[k]));
}

module.exports = {
  format,
  formatWithOptions,
  inspect,
  promisify,
  callbackify,
  inherits,
  deprecate,
  isDeepStrictEqual,
  types,
  TextEncoder,
  TextDecoder,
  isArray: ArrayIsArray,
  isError: types.isNativeError,
  isDate: types.isDate,
  isRegExp: types.isRegExp,
  isFunction: (v) => typeof v === "function",
  isString: (v) => typeof v === "string",
  isNumber: (v) => typeof v === "number",
  isObject: (v) => v !== null && typeof v === "object",
  isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
  isUndefined: (v) => v === undefined,
  isNullOrUndefined: (v) => v === null || v === undefined,
  debuglog: () => Object.assign(() => {}, { enabled: false }),
  stripVTControlCharacters: (s) => s.replace(/\u001b\[[0-9;]*m/g, ""),
  toUSVString: (s) => `${s}`.toWellFormed(),
};
