// node:util under nodejs_compat: the common subset (format, inspect, promisify, types, ...).
"use strict";

const { apply: ReflectApply, ownKeys: ReflectOwnKeys } = Reflect;
const StringPrototypeToLowerCase = String.prototype.toLowerCase;
const ObjectPrototypeToString = Object.prototype.toString;
const ObjectDefineProperty = Object.defineProperty;
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

/** Whether `method` accepts `value` as its receiver: a brand check that a Symbol.toStringTag
 * or a prototype cannot fake (as V8's checks behind Node's util.types). */
function branded(method, value, args = []) {
  if (value === null || typeof value !== "object") return false;
  try {
    ReflectApply(method, value, args);
    return true;
  } catch {
    return false;
  }
}

const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const dateGetTime = Date.prototype.getTime;
const regExpSource = getter(RegExp.prototype, "source");
const mapSize = getter(Map.prototype, "size");
const setSize = getter(Set.prototype, "size");
const weakMapHas = WeakMap.prototype.has;
const weakSetHas = WeakSet.prototype.has;
const arrayBufferByteLength = getter(ArrayBuffer.prototype, "byteLength");
const sharedByteLength = typeof SharedArrayBuffer === "function"
  ? getter(SharedArrayBuffer.prototype, "byteLength") : null;
const dataViewByteLength = getter(DataView.prototype, "byteLength");
const numberValueOf = Number.prototype.valueOf;
const stringValueOf = String.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigIntValueOf = BigInt.prototype.valueOf;
const symbolValueOf = Symbol.prototype.valueOf;
const ErrorIsError = typeof Error.isError === "function" ? Error.isError : null;

const types = {
  isPromise: (v) => v instanceof Promise,
  isRegExp: (v) => v !== RegExp.prototype && branded(regExpSource, v),
  isDate: (v) => branded(dateGetTime, v),
  isMap: (v) => branded(mapSize, v),
  isSet: (v) => branded(setSize, v),
  isWeakMap: (v) => branded(weakMapHas, v, [{}]),
  isWeakSet: (v) => branded(weakSetHas, v, [{}]),
  isNativeError: (v) => (ErrorIsError !== null ? ErrorIsError(v) : tag(v) === "[object Error]"),
  isArrayBuffer: (v) => branded(arrayBufferByteLength, v),
  isSharedArrayBuffer: (v) => sharedByteLength !== null && branded(sharedByteLength, v),
  isAnyArrayBuffer: (v) => types.isArrayBuffer(v) || types.isSharedArrayBuffer(v),
  isArrayBufferView: (v) => isView(v),
  isDataView: (v) => branded(dataViewByteLength, v),
  isTypedArray: (v) => ReflectApply(typedArrayTag, v, []) !== undefined,
  isUint8Array: (v) => ReflectApply(typedArrayTag, v, []) === "Uint8Array",
  isAsyncFunction: (v) => typeof v === "function" &&
    (v instanceof AsyncFunction || v instanceof AsyncGeneratorFunction),
  isGeneratorFunction: (v) => typeof v === "function" &&
    (v instanceof GeneratorFunction || v instanceof AsyncGeneratorFunction),
  isGeneratorObject: (v) => tag(v) === "[object Generator]",
  isArgumentsObject: (v) => tag(v) === "[object Arguments]",
  isMapIterator: (v) => tag(v) === "[object Map Iterator]",
  isSetIterator: (v) => tag(v) === "[object Set Iterator]",
  isModuleNamespaceObject: (v) => v !== null && typeof v === "object" &&
    Object.getPrototypeOf(v) === null && tag(v) === "[object Module]" && !Object.isExtensible(v),
  isNumberObject: (v) => branded(numberValueOf, v),
  isStringObject: (v) => branded(stringValueOf, v),
  isBooleanObject: (v) => branded(booleanValueOf, v),
  isBigIntObject: (v) => branded(bigIntValueOf, v),
  isSymbolObject: (v) => branded(symbolValueOf, v),
  isBoxedPrimitive: (v) => types.isNumberObject(v) || types.isStringObject(v) ||
    types.isBooleanObject(v) || types.isBigIntObject(v) || types.isSymbolObject(v),
  isCryptoKey: (v) => typeof CryptoKey === "function" && v instanceof CryptoKey,
  isKeyObject: () => false, // node:crypto has no KeyObject here
  isExternal: () => false, // no native externals reach scripts
  isProxy: () => false, // not observable from JavaScript
};
// isUint16Array, isFloat64Array, ...
for (const name of ["Int8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
  "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array",
  "BigUint64Array"]) {
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

function addNumericSeparator(digits) {
  let out = "";
  let i = digits.length;
  const start = digits.startsWith("-") ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return i === digits.length ? digits : `${digits.slice(0, i)}${out}`;
}

function addNumericSeparatorEnd(digits) {
  let out = "";
  let i = 0;
  for (; i < digits.length - 3; i += 3) out += `${digits.slice(i, i + 3)}_`;
  return i === 0 ? digits : `${out}${digits.slice(i)}`;
}

/** A number as inspect shows it: -0 kept; with `separator`, 1_000_000.123_4. */
function formatNumber(number, separator) {
  if (!separator) return Object.is(number, -0) ? "-0" : `${number}`;
  const integer = Math.trunc(number);
  const digits = String(integer);
  if (integer === number) {
    if (!Number.isFinite(number) || digits.includes("e")) return digits;
    return addNumericSeparator(digits);
  }
  if (Number.isNaN(number)) return digits;
  return `${addNumericSeparator(digits)}.${addNumericSeparatorEnd(String(number).slice(digits.length + 1))}`;
}

function formatBigInt(bigint, separator) {
  return `${separator ? addNumericSeparator(String(bigint)) : bigint}n`;
}

function formatPrimitive(value, options) {
  switch (typeof value) {
    case "string": return quote(value);
    case "bigint": return formatBigInt(value, options && options.numericSeparator);
    case "symbol": return value.toString();
    case "number": return formatNumber(value, options && options.numericSeparator);
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
    return formatPrimitive(value, options);
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
  if (value instanceof Error) {
    // As Node: an error without a stack trace is shown in brackets, [Error: message]
    const stack = value.stack ? String(value.stack) : ReflectApply(Error.prototype.toString, value, []);
    return stack.includes("\n    at ") ? stack : `[${stack}]`;
  }
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
    for (let i = 0; i < max; i++) {
      if (ArrayIsArray(value) && !Object.prototype.hasOwnProperty.call(value, i)) {
        let holes = 1; // as Node: a run of holes is one "<n empty items>"
        while (i + holes < value.length && !Object.prototype.hasOwnProperty.call(value, i + holes)) holes++;
        parts.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
        i += holes - 1;
        continue;
      }
      parts.push(sub(value[i]));
    }
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

const inspectDefaults = {
  showHidden: false, depth: 2, colors: false, customInspect: true, showProxy: false,
  maxArrayLength: 100, maxStringLength: 10000, breakLength: 80, compact: 3, sorted: false,
  getters: false, numericSeparator: false,
};

function inspect(value, options) {
  const opts = { ...inspectDefaults };
  if (typeof options === "object" && options !== null) Object.assign(opts, options);
  if (opts.depth === null) opts.depth = Infinity;
  return formatValue(value, opts, 0, []);
}
inspect.custom = customInspect;
Object.defineProperty(inspect, "defaultOptions", {
  enumerable: true, configurable: true,
  get() { return inspectDefaults; },
  set(options) {
    if (options === null || typeof options !== "object") {
      throw invalidArgType("options", "Object", options);
    }
    Object.assign(inspectDefaults, options);
  },
});

// -- Node's coded errors (lib/internal/errors.js): shared with the other node: built-ins ------

/** A `Base` error with Node's `code` property. */
function codedError(Base, code, message) {
  const error = new Base(message);
  Object.defineProperty(error, "code", {
    __proto__: null, value: code, writable: true, enumerable: true, configurable: true,
  });
  return error;
}

/** How Node's messages name a value they were given (determineSpecificType). */
function describeReceived(value) {
  if (value === null || value === undefined) return `${value}`;
  switch (typeof value) {
    case "function": return `function ${value.name}`;
    case "object":
      if (value.constructor && typeof value.constructor.name === "string" && value.constructor.name !== "") {
        return `an instance of ${value.constructor.name}`;
      }
      return inspect(value, { depth: -1 });
    case "string": {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string (${shown.includes("'") ? JSONStringify(shown) : `'${shown}'`})`;
    }
    default: {
      let shown = inspect(value);
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `type ${typeof value} (${shown})`;
    }
  }
}

const PRIMITIVE_TYPES = ["string", "function", "number", "object", "Function", "Object", "boolean",
                         "bigint", "symbol"];
const CLASS_NAME = /^([A-Z][a-z0-9]*)+$/;

function oneOf(list, lead) {
  if (list.length > 2) return `${lead}${list.slice(0, -1).join(", ")}, or ${list[list.length - 1]}`;
  return list.length === 2 ? `${lead}${list[0]} or ${list[1]}` : `${lead}${list[0]}`;
}

/** ERR_INVALID_ARG_TYPE: `name` must be one of `expected` (types, class names or other words). */
function invalidArgType(name, expected, actual) {
  if (!ArrayIsArray(expected)) expected = [expected];
  let message = name.endsWith(" argument") ? `The ${name} must be `
    : `The "${name}" ${name.includes(".") ? "property" : "argument"} must be `;
  const typeNames = [], instances = [], other = [];
  for (const value of expected) {
    if (PRIMITIVE_TYPES.includes(value)) typeNames.push(value.toLowerCase());
    else if (CLASS_NAME.test(value)) instances.push(value);
    else other.push(value);
  }
  if (instances.length > 0 && typeNames.includes("object")) {
    typeNames.splice(typeNames.indexOf("object"), 1);
    instances.push("Object");
  }
  const parts = [];
  if (typeNames.length > 0) parts.push(oneOf(typeNames, typeNames.length > 1 ? "one of type " : "of type "));
  if (instances.length > 0) {
    parts.push(instances.length > 2 ? oneOf(instances, "an instance of ")
      : `an instance of ${instances.join(" or ")}`);
  }
  if (other.length > 0) {
    parts.push(other.length > 1 ? oneOf(other, "one of ")
      : `${other[0].toLowerCase() !== other[0] ? "an " : ""}${other[0]}`);
  }
  return codedError(TypeError, "ERR_INVALID_ARG_TYPE",
                    `${message}${parts.join(" or ")}. Received ${describeReceived(actual)}`);
}

function withSeparators(digits) {
  let out = "";
  let i = digits.length;
  const start = digits[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

/** ERR_OUT_OF_RANGE: the value of `name` must be `range`. */
function outOfRange(name, range, received) {
  let shown;
  if (Number.isInteger(received) && Math.abs(received) > 2 ** 32) {
    shown = withSeparators(String(received));
  } else if (typeof received === "bigint") {
    shown = String(received);
    if (received > 2n ** 32n || received < -(2n ** 32n)) shown = withSeparators(shown);
    shown += "n";
  } else {
    shown = inspect(received);
  }
  return codedError(RangeError, "ERR_OUT_OF_RANGE",
                    `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
}

/** ERR_INVALID_ARG_VALUE: `name` was given a value it cannot take. */
function invalidArgValue(name, value, reason = "is invalid", Base = TypeError) {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  const kind = name.includes(".") ? "property" : "argument";
  return codedError(Base, "ERR_INVALID_ARG_VALUE", `The ${kind} '${name}' ${reason}. Received ${shown}`);
}

/** validateNumber: a number, within [min, max] when they are given. */
function validateNumber(value, name, min, max) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if ((min !== undefined && value < min) || (max !== undefined && value > max) ||
      ((min !== undefined || max !== undefined) && Number.isNaN(value))) {
    const range = `${min !== undefined ? `>= ${min}` : ""}${min !== undefined && max !== undefined
      ? " && " : ""}${max !== undefined ? `<= ${max}` : ""}`;
    throw outOfRange(name, range, value);
  }
}

function validateFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "Function", value);
}

// For node:buffer, node:events and node:path (one copy of the messages); not part of the API.
/** Node's name for an encoding's label (utf8, hex, base64, base64url, latin1, ascii,
 * utf16le), null for none; undefined and null are utf8. For node:buffer and node:crypto. */
function normalizeEncoding(enc) {
  if (enc === undefined || enc === null) return "utf8";
  switch (ReflectApply(StringPrototypeToLowerCase, `${enc}`, [])) {
    case "utf8": case "utf-8": return "utf8";
    case "hex": return "hex";
    case "base64": return "base64";
    case "base64url": return "base64url";
    case "latin1": case "binary": return "latin1";
    case "ascii": return "ascii";
    case "utf16le": case "utf-16le": case "ucs2": case "ucs-2": return "utf16le";
    default: return null;
  }
}

/** An error that shows itself as Node's own do: `${name} [${code}]: ${message}` (toString). */
function withCode(error) {
  ObjectDefineProperty(error, "toString", {
    __proto__: null,
    value() { return `${this.name} [${this.code}]: ${this.message}`; },
    enumerable: false, configurable: true, writable: true,
  });
  return error;
}

const internals = { codedError, invalidArgType, outOfRange, invalidArgValue, validateNumber,
                    validateFunction, describeReceived, normalizeEncoding, withCode };

// -- format ----------------------------------------------------------------------------------

function format(...args) {
  return formatArgs(undefined, args);
}

// The global constructors as the runtime defines them, before any script runs (Node's
// builtInObjects): %s shows their instances with inspect.
const builtInObjects = new Set(Object.getOwnPropertyNames(globalThis)
  .filter((name) => /^[A-Z][a-zA-Z0-9]+$/.test(name)));

/** Whether %s shows `value` with inspect (a built-in object) or String (own toString). */
function hasBuiltInToString(value) {
  if (typeof value[Symbol.toPrimitive] === "function" && !types.isDate(value)) return false;
  if (typeof value.toString !== "function") return true;
  if (Object.prototype.hasOwnProperty.call(value, "toString")) return false;
  let pointer = value;
  do {
    pointer = Object.getPrototypeOf(pointer);
  } while (pointer !== null && !Object.prototype.hasOwnProperty.call(pointer, "toString"));
  if (pointer === null) return true;
  const descriptor = Object.getOwnPropertyDescriptor(pointer, "constructor");
  return descriptor !== undefined && typeof descriptor.value === "function" &&
    builtInObjects.has(descriptor.value.name);
}

function tryStringify(value) {
  try {
    return JSONStringify(value);
  } catch (error) {
    if (error instanceof TypeError && /circular/i.test(error.message)) return "[Circular]";
    throw error;
  }
}

function formatWithOptions(inspectOptions, ...args) {
  if (inspectOptions === null || typeof inspectOptions !== "object") {
    throw invalidArgType("inspectOptions", "object", inspectOptions);
  }
  return formatArgs(inspectOptions, args);
}

/** Node's formatWithOptions: printf-like %s %d %i %f %j %o %O %c %%, the rest appended. */
function formatArgs(inspectOptions, args) {
  const first = args[0];
  const separator = inspectOptions && inspectOptions.numericSeparator !== undefined
    ? inspectOptions.numericSeparator : inspectDefaults.numericSeparator;
  let a = 0;
  let out = "";
  let join = "";
  if (typeof first === "string") {
    if (args.length === 1) return first;
    let lastPos = 0;
    let shown;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      const next = first[++i];
      if (a + 1 !== args.length) {
        switch (next) {
          case "s": {
            const arg = args[++a];
            if (typeof arg === "number") shown = formatNumber(arg, separator);
            else if (typeof arg === "bigint") shown = formatBigInt(arg, separator);
            else if (typeof arg !== "object" || arg === null || !hasBuiltInToString(arg)) shown = String(arg);
            else shown = inspect(arg, { ...inspectOptions, depth: 0, colors: false, compact: 3 });
            break;
          }
          case "j": shown = tryStringify(args[++a]); break;
          case "d": {
            const arg = args[++a];
            if (typeof arg === "bigint") shown = formatBigInt(arg, separator);
            else if (typeof arg === "symbol") shown = "NaN";
            else shown = formatNumber(Number(arg), separator);
            break;
          }
          case "O": shown = inspect(args[++a], inspectOptions); break;
          case "o":
            shown = inspect(args[++a], { ...inspectOptions, showHidden: true, showProxy: true, depth: 4 });
            break;
          case "i": {
            const arg = args[++a];
            if (typeof arg === "bigint") shown = formatBigInt(arg, separator);
            else if (typeof arg === "symbol") shown = "NaN";
            else shown = formatNumber(parseInt(arg), separator);
            break;
          }
          case "f": {
            const arg = args[++a];
            shown = typeof arg === "symbol" ? "NaN" : formatNumber(parseFloat(arg), separator);
            break;
          }
          case "c": a += 1; shown = ""; break;
          case "%":
            out += first.slice(lastPos, i);
            lastPos = i + 1;
            continue;
          default: continue;
        }
        if (lastPos !== i - 1) out += first.slice(lastPos, i - 1);
        out += shown;
        lastPos = i + 1;
      } else if (next === "%") {
        out += first.slice(lastPos, i);
        lastPos = i + 1;
      }
    }
    if (lastPos !== 0) {
      a++;
      join = " ";
      if (lastPos < first.length) out += first.slice(lastPos);
    }
  }
  while (a < args.length) {
    const value = args[a];
    out += join;
    out += typeof value !== "string" ? inspect(value, inspectOptions) : value;
    join = " ";
    a++;
  }
  return out;
}

// -- functions -------------------------------------------------------------------------------

function promisify(original) {
  validateFunction(original, "original");
  if (original[customPromisify]) {
    const custom = original[customPromisify];
    validateFunction(custom, "util.promisify.custom");
    return Object.defineProperty(custom, customPromisify, { __proto__: null, value: custom, configurable: true });
  }
  function fn(...args) {
    return new Promise((resolve, reject) => {
      ReflectApply(original, this, [...args, (err, ...values) => {
        if (err) reject(err);
        else resolve(values[0]); // as Node: only the first value (fs.read's kind use custom)
      }]);
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  Object.defineProperty(fn, customPromisify, { __proto__: null, value: fn, configurable: true });
  return Object.defineProperties(fn, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

function callbackify(original) {
  validateFunction(original, "original");
  function callbackified(...args) {
    const last = args.pop();
    validateFunction(last, "last argument");
    const callback = last.bind(this);
    ReflectApply(original, this, args).then(
      (value) => queueMicrotask(() => callback(null, value)),
      (reason) => queueMicrotask(() => {
        if (!reason) {
          const error = codedError(Error, "ERR_FALSY_VALUE_REJECTION",
                                   "Promise was rejected with falsy value");
          error.reason = reason;
          reason = error;
        }
        callback(reason);
      }),
    );
  }
  // As Node: the original's own properties, with length + 1 and name + "Callbackified"
  const descriptors = Object.getOwnPropertyDescriptors(original);
  if (typeof descriptors.length.value === "number") descriptors.length.value++;
  if (typeof descriptors.name.value === "string") descriptors.name.value += "Callbackified";
  Object.defineProperties(callbackified, descriptors);
  return callbackified;
}

function inherits(ctor, superCtor) {
  if (ctor === undefined || ctor === null) throw invalidArgType("ctor", "Function", ctor);
  if (superCtor === undefined || superCtor === null) {
    throw invalidArgType("superCtor", "Function", superCtor);
  }
  if (superCtor.prototype === undefined) {
    throw invalidArgType("superCtor.prototype", "Object", superCtor.prototype);
  }
  Object.defineProperty(ctor, "super_", { __proto__: null, value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const codesWarned = new Set();

/** util.deprecate: a DeprecationWarning (process 'warning' event) on the first call, once per
 * code; the wrapper keeps fn's length and (unless { modifyPrototype: false }) prototype. */
function deprecate(fn, message, code, options) {
  if (code !== undefined && typeof code !== "string") throw invalidArgType("code", "string", code);
  let warned = false;
  function deprecated(...args) {
    const process = require("node:process");
    if (!warned && !process.noDeprecation) {
      warned = true;
      if (code === undefined) {
        process.emitWarning(message, "DeprecationWarning");
      } else if (!codesWarned.has(code)) {
        codesWarned.add(code);
        process.emitWarning(message, "DeprecationWarning", code);
      }
    }
    return new.target ? Reflect.construct(fn, args, new.target) : ReflectApply(fn, this, args);
  }
  if (!(options && options.modifyPrototype === false)) {
    Object.setPrototypeOf(deprecated, fn);
    if (fn.prototype) deprecated.prototype = fn.prototype;
  }
  Object.defineProperty(deprecated, "length", { __proto__: null, value: fn.length, configurable: true });
  return deprecated;
}

const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;
const hasOwn = Object.prototype.hasOwnProperty;

/** Own enumerable keys, symbols included (what deep equality compares). */
function enumerableKeys(value, skipIndices) {
  return ReflectOwnKeys(value).filter((key) => ReflectApply(propertyIsEnumerable, value, [key]) &&
    !(skipIndices && typeof key === "string" && /^(0|[1-9]\d*)$/.test(key)));
}

function boxedValue(value) {
  for (const valueOf of [numberValueOf, stringValueOf, booleanValueOf, bigIntValueOf, symbolValueOf]) {
    try {
      return { value: ReflectApply(valueOf, value, []) };
    } catch {}
  }
  return null;
}

/** Node's isDeepStrictEqual: same prototypes and kinds, own enumerable properties (symbols
 * too) deeply equal, Map/Set entries matched deeply, cycles allowed. */
const urlHrefGetter = Object.getOwnPropertyDescriptor(URL.prototype, "href").get;

/** A URL's href (a brand check: null for anything but a URL). */
function urlHref(value) {
  try {
    return ReflectApply(urlHrefGetter, value, []);
  } catch {
    return null;
  }
}

function deepEqual(a, b, memo) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if ((!memo.skipPrototype && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) ||
      tag(a) !== tag(b)) return false;
  if (ArrayIsArray(a) !== ArrayIsArray(b)) return false;
  const seen = memo.get(a);
  if (seen !== undefined && seen.has(b)) return true;
  if (seen === undefined) memo.set(a, new Set([b]));
  else seen.add(b);
  let skipIndices = ArrayIsArray(a);
  if (ArrayIsArray(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (ReflectApply(hasOwn, a, [i]) !== ReflectApply(hasOwn, b, [i])) return false;
      if (!deepEqual(a[i], b[i], memo)) return false;
    }
  } else if (types.isDate(a) || types.isDate(b)) {
    if (!types.isDate(a) || !types.isDate(b) ||
        !Object.is(ReflectApply(dateGetTime, a, []), ReflectApply(dateGetTime, b, []))) return false;
  } else if (types.isRegExp(a) || types.isRegExp(b)) {
    if (!types.isRegExp(a) || !types.isRegExp(b) || a.source !== b.source || a.flags !== b.flags ||
        a.lastIndex !== b.lastIndex) return false;
  } else if (urlHref(a) !== null || urlHref(b) !== null) {
    if (urlHref(a) !== urlHref(b)) return false; // a URL's state is internal: its href
  } else if (types.isNativeError(a) || a instanceof Error) {
    if (a.message !== b.message || a.name !== b.name) return false;
    if (("cause" in a) !== ("cause" in b) || !deepEqual(a.cause, b.cause, memo)) return false;
    if (("errors" in a) !== ("errors" in b) || !deepEqual(a.errors, b.errors, memo)) return false;
  } else if (isView(a)) {
    if (!isView(b) || a.byteLength !== b.byteLength) return false;
    if (types.isTypedArray(a)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
      skipIndices = true;
    } else {
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
  } else if (types.isAnyArrayBuffer(a)) {
    if (!types.isAnyArrayBuffer(b) || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a), y = new Uint8Array(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  } else if (types.isMap(a)) {
    if (!types.isMap(b) || a.size !== b.size) return false;
    const unmatched = [];
    for (const [key, value] of a) {
      if (typeof key !== "object" || key === null) {
        if (!b.has(key) || !deepEqual(value, b.get(key), memo)) return false;
      } else {
        unmatched.push([key, value]);
      }
    }
    if (unmatched.length > 0) {
      const candidates = [...b].filter(([key]) => typeof key === "object" && key !== null);
      for (const [key, value] of unmatched) {
        const at = candidates.findIndex(([k, v]) => deepEqual(key, k, memo) && deepEqual(value, v, memo));
        if (at === -1) return false;
        candidates.splice(at, 1);
      }
    }
  } else if (types.isSet(a)) {
    if (!types.isSet(b) || a.size !== b.size) return false;
    const unmatched = [];
    for (const value of a) {
      if (typeof value === "object" && value !== null) unmatched.push(value);
      else if (!b.has(value)) return false;
    }
    if (unmatched.length > 0) {
      const candidates = [...b].filter((v) => typeof v === "object" && v !== null);
      for (const value of unmatched) {
        const at = candidates.findIndex((v) => deepEqual(value, v, memo));
        if (at === -1) return false;
        candidates.splice(at, 1);
      }
    }
  } else if (types.isWeakMap(a) || types.isWeakSet(a) || types.isPromise(a)) {
    return false; // compared by identity only
  } else {
    const boxedA = boxedValue(a);
    if (boxedA !== null) {
      const boxedB = boxedValue(b);
      if (boxedB === null || !Object.is(boxedA.value, boxedB.value)) return false;
      if (types.isStringObject(a)) skipIndices = true;
    }
  }
  const keysA = enumerableKeys(a, skipIndices);
  const keysB = enumerableKeys(b, skipIndices);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!ReflectApply(propertyIsEnumerable, b, [key])) return false;
    if (!deepEqual(a[key], b[key], memo)) return false;
  }
  return true;
}

/** util.isDeepStrictEqual(a, b[, skipPrototype]) (Node 25: true compares no prototypes) */
function isDeepStrictEqual(a, b, skipPrototype) {
  const memo = new Map();
  memo.skipPrototype = skipPrototype === true;
  return deepEqual(a, b, memo);
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
Object.defineProperty(module.exports, Symbol.for("isoflow.node.internals"), { value: internals });
