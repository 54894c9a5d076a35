// node:assert under nodejs_compat: the legacy (loose) assert and its `strict` variant, with
// Node's AssertionError (code ERR_ASSERTION). Generated messages keep Node's headings; the
// diff under them is a plain line comparison, not Node's Myers diff.
"use strict";

const util = require("node:util");
const {
  codedError, invalidArgType, invalidArgValue, describeReceived,
} = util[Symbol.for("isoflow.node.internals")];

const { apply: ReflectApply } = Reflect;
const { inspect, isDeepStrictEqual, types } = util;
const { isRegExp, isDate, isNativeError, isMap, isSet, isWeakMap, isWeakSet, isPromise,
        isBoxedPrimitive, isTypedArray, isAnyArrayBuffer, isNumberObject, isStringObject,
        isBooleanObject, isBigIntObject, isSymbolObject } = types;
const ObjectIs = Object.is;
const ObjectKeys = Object.keys;
const ArrayIsArray = Array.isArray;
const NumberIsNaN = Number.isNaN;
const isView = ArrayBuffer.isView;
const RegExpPrototypeExec = RegExp.prototype.exec;
const ObjectPrototypeToString = Object.prototype.toString;
const ObjectPrototypeIsPrototypeOf = Object.prototype.isPrototypeOf;
const hasOwn = Object.prototype.hasOwnProperty;
const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;
const dateGetTime = Date.prototype.getTime;
const ErrorCaptureStackTrace = Error.captureStackTrace;
const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
const URLCtor = globalThis.URL;
const urlHref = Object.getOwnPropertyDescriptor(URLCtor.prototype, "href").get;

/** An array index key ("0" .. "4294967294"); 2 ** 32 - 1 and above are plain keys. */
function isIndexKey(key) {
  return typeof key === "string" && /^(0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

/** Whether both are URLs (compared by their href, as Node's isURL branch). */
function bothURLs(a, b) {
  return a instanceof URLCtor && b instanceof URLCtor;
}

const NO_EXCEPTION = {};

// The options of the Assert instance whose method runs (module functions: the defaults).
const DEFAULT_OPTIONS = { __proto__: null, diff: "simple", strict: false, skipPrototype: false };
let currentOptions = DEFAULT_OPTIONS;

function regExpMatches(regexp, string) {
  return ReflectApply(RegExpPrototypeExec, regexp, [string]) !== null;
}

// -- AssertionError --------------------------------------------------------------------------

const READABLE = {
  deepStrictEqual: "Expected values to be strictly deep-equal:",
  partialDeepStrictEqual: "Expected values to be partially and strictly deep-equal:",
  strictEqual: "Expected values to be strictly equal:",
  strictEqualObject: 'Expected "actual" to be reference-equal to "expected":',
  deepEqual: "Expected values to be loosely deep-equal:",
  notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
  notStrictEqual: 'Expected "actual" to be strictly unequal to:',
  notStrictEqualObject: 'Expected "actual" not to be reference-equal to "expected":',
  notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
  notIdentical: "Values identical but not reference-equal:",
  notDeepEqualUnequal: "Expected values not to be loosely deep-equal:",
};

/** A value as the messages show it (Node's inspectValue: every level, keys sorted). */
function inspectValue(value) {
  return inspect(value, { compact: false, customInspect: false, depth: 1000,
                          maxArrayLength: Infinity, showHidden: false, showProxy: false,
                          sorted: true, getters: true });
}

const isObjectLike = (value) => (typeof value === "object" && value !== null) ||
  typeof value === "function";

/** The message of a failed strictEqual/deepStrictEqual: the heading, then either both values
 * on one line or the lines of both with "+ " (actual) and "- " (expected) marks. */
function errorDiff(actual, expected, operator, message) {
  let heading = READABLE[operator];
  if (operator === "strictEqual" && isObjectLike(actual) && isObjectLike(expected)) {
    heading = READABLE.strictEqualObject;
  }
  if (message !== undefined) heading = message; // a message of one's own heads the same diff
  const actualLines = inspectValue(actual).split("\n");
  const expectedLines = inspectValue(expected).split("\n");
  if (actualLines.length === 1 && expectedLines.length === 1 &&
      actualLines[0] !== expectedLines[0] &&
      typeof actual !== "function" && typeof expected !== "function" &&
      (!isObjectLike(actual) || !isObjectLike(expected)) &&
      actualLines[0].length + expectedLines[0].length <= 512) {
    return `${heading}\n\n${actualLines[0]} !== ${expectedLines[0]}\n`;
  }
  if (operator === "strictEqual" && actualLines.join("\n") === expectedLines.join("\n")) {
    return `${message !== undefined ? message
      : "Values have same structure but are not reference-equal:"}\n\n${actualLines.join("\n")}\n`;
  }
  const out = [];
  let i = 0;
  while (i < actualLines.length && i < expectedLines.length && actualLines[i] === expectedLines[i]) {
    out.push(`  ${actualLines[i]}`);
    i++;
  }
  let endA = actualLines.length, endE = expectedLines.length;
  const tail = [];
  while (endA > i && endE > i && actualLines[endA - 1] === expectedLines[endE - 1]) {
    tail.unshift(`  ${actualLines[endA - 1]}`);
    endA--;
    endE--;
  }
  for (let j = i; j < endA; j++) out.push(`+ ${actualLines[j]}`);
  for (let j = i; j < endE; j++) out.push(`- ${expectedLines[j]}`);
  return `${heading}\n+ actual - expected\n\n${out.concat(tail).join("\n")}\n`;
}

/** The message Node generates for a failed comparison without a message of its own. */
function generatedMessage(actual, expected, operator) {
  if (operator === "deepStrictEqual" || operator === "strictEqual" ||
      operator === "partialDeepStrictEqual") {
    return errorDiff(actual, expected, operator);
  }
  if (operator === "notDeepStrictEqual" || operator === "notStrictEqual") {
    let heading = READABLE[operator];
    let shown = inspectValue(actual);
    if (operator === "notStrictEqual" && isObjectLike(actual) && isObjectLike(expected)) {
      heading = READABLE.notStrictEqualObject;
    }
    const lines = shown.split("\n");
    if (lines.length > 50) {
      lines[46] = "...";
      lines.length = 47;
    }
    if (lines.length === 1) return `${heading}${lines[0].length > 5 ? "\n\n" : " "}${lines[0]}`;
    return `${heading}\n\n${lines.join("\n")}\n`;
  }
  let res = inspectValue(actual);
  let other = inspectValue(expected);
  if (operator === "notDeepEqual" && res === other) {
    res = `${READABLE.notDeepEqual}\n\n${res}`;
    if (res.length > 1024) res = `${res.slice(0, 1021)}...`;
    return res;
  }
  if (res.length > 512) res = `${res.slice(0, 509)}...`;
  if (other.length > 512) other = `${other.slice(0, 509)}...`;
  if (operator === "deepEqual") {
    res = `${READABLE.deepEqual}\n\n${res}\n\nshould loosely deep-equal\n\n`;
  } else if (operator === "notDeepEqual") {
    res = `${READABLE.notDeepEqualUnequal}\n\n${res}\n\nshould not loosely deep-equal\n\n`;
  } else {
    other = ` ${operator} ${other}`;
  }
  return `${res}${other}`;
}

class AssertionError extends Error {
  constructor(options) {
    if (options === null || typeof options !== "object") {
      throw invalidArgType("options", "Object", options);
    }
    const { message, operator, stackStartFn, actual, expected, details } = options;
    let text;
    if (message != null) {
      text = operator === "strictEqual" || operator === "deepStrictEqual" ||
        operator === "partialDeepStrictEqual"
        ? errorDiff(actual, expected, operator, String(message)) : String(message);
    }
    else if (details !== undefined && ArrayIsArray(details)) {
      text = details.map((d) => d.message != null ? String(d.message)
        : generatedMessage(d.actual, d.expected, d.operator)).join("\n");
    } else text = generatedMessage(actual, expected, operator);
    super(text);
    this.generatedMessage = message == null;
    Object.defineProperty(this, "name", { __proto__: null, value: "AssertionError [ERR_ASSERTION]",
                                          enumerable: false, writable: true, configurable: true });
    this.code = "ERR_ASSERTION";
    this.diff = options.diff !== undefined ? options.diff : currentOptions.diff;
    if (details !== undefined && ArrayIsArray(details)) {
      this.actual = details.map((d) => d.actual);
      this.expected = details.map((d) => d.expected);
      this.operator = details.map((d) => d.operator);
    } else {
      this.actual = actual;
      this.expected = expected;
      this.operator = operator;
    }
    if (typeof ErrorCaptureStackTrace === "function") {
      ErrorCaptureStackTrace(this, typeof stackStartFn === "function" ? stackStartFn : new.target);
    }
    void this.stack; // the stack's first line keeps the code
    this.name = "AssertionError";
  }

  toString() {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

function innerFail(options) {
  if (options.message instanceof Error) throw options.message;
  throw new AssertionError(options);
}

// -- loose deep equality (Node's deepEqual rules) --------------------------------------------

function tag(value) {
  return ReflectApply(ObjectPrototypeToString, value, []);
}

function boxedEqual(a, b) {
  for (const [is, valueOf] of [[isNumberObject, Number.prototype.valueOf],
    [isStringObject, String.prototype.valueOf], [isBooleanObject, Boolean.prototype.valueOf],
    [isBigIntObject, BigInt.prototype.valueOf], [isSymbolObject, Symbol.prototype.valueOf]]) {
    if (is(a)) {
      return is(b) && ObjectIs(ReflectApply(valueOf, a, []), ReflectApply(valueOf, b, []));
    }
  }
  return false;
}

/** Node's loose rules: primitives with == (NaN equals NaN), the same type tag, own enumerable
 * string keys (no symbols, no prototypes), Map keys and Set items matched unordered, Errors'
 * name, message, cause and errors always compared, RegExps' source, flags and lastIndex. */
function looseEqual(a, b, memo) {
  if (a === null || typeof a !== "object") {
    if (b === null || typeof b !== "object") {
      return a == b || (NumberIsNaN(a) && NumberIsNaN(b)); // eslint-disable-line eqeqeq
    }
    return false;
  }
  if (b === null || typeof b !== "object") return false;
  if (a === b) return true;
  if (tag(a) !== tag(b) || ArrayIsArray(a) !== ArrayIsArray(b)) return false;
  // Cycles: a value met again on the path being compared matches only the value met at the
  // same depth on the other side (the same cycle on both sides).
  const depthA = memo.a.get(a), depthB = memo.b.get(b);
  if (depthA !== undefined || depthB !== undefined) return depthA === depthB;
  memo.depth++;
  memo.a.set(a, memo.depth);
  memo.b.set(b, memo.depth);
  const equal = looseObjectEqual(a, b, memo);
  memo.a.delete(a);
  memo.b.delete(b);
  memo.depth--;
  return equal;
}

function looseObjectEqual(a, b, memo) {

  let skipIndices = false;
  if (ArrayIsArray(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const inA = ReflectApply(hasOwn, a, [i]), inB = ReflectApply(hasOwn, b, [i]);
      if (inA !== inB) return false;
      if (inA && !looseEqual(a[i], b[i], memo)) return false;
    }
    skipIndices = true;
  } else if (isDate(a)) {
    if (!isDate(b) || !ObjectIs(ReflectApply(dateGetTime, a, []), ReflectApply(dateGetTime, b, []))) {
      return false;
    }
  } else if (isRegExp(a)) {
    if (!isRegExp(b) || a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) {
      return false;
    }
  } else if (isNativeError(a) || a instanceof Error) {
    if (!(isNativeError(b) || b instanceof Error) || a.message !== b.message || a.name !== b.name) {
      return false;
    }
    if (("cause" in a) !== ("cause" in b) || !looseEqual(a.cause, b.cause, memo)) return false;
    if (("errors" in a) !== ("errors" in b) || !looseEqual(a.errors, b.errors, memo)) return false;
  } else if (bothURLs(a, b)) {
    if (ReflectApply(urlHref, a, []) !== ReflectApply(urlHref, b, [])) return false;
  } else if (isView(a)) {
    if (!isView(b) || a.byteLength !== b.byteLength) return false;
    if (ReflectApply(typedArrayTag, a, []) !== ReflectApply(typedArrayTag, b, [])) return false;
    if (isTypedArray(a)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false; // eslint-disable-line eqeqeq
      skipIndices = true;
    } else {
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
  } else if (isAnyArrayBuffer(a)) {
    if (!isAnyArrayBuffer(b) || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a), y = new Uint8Array(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  } else if (isMap(a)) {
    if (!isMap(b) || a.size !== b.size) return false;
    const unmatched = [];
    for (const [key, value] of a) {
      if (b.has(key) && looseEqual(value, b.get(key), memo)) continue;
      unmatched.push([key, value]);
    }
    if (unmatched.length > 0) {
      const candidates = [...b].filter(([key]) => !a.has(key) ||
        !looseEqual(a.get(key), b.get(key), memo));
      for (const [key, value] of unmatched) {
        const at = candidates.findIndex(([k, v]) => looseEqual(key, k, memo) &&
          looseEqual(value, v, memo));
        if (at === -1) return false;
        candidates.splice(at, 1);
      }
    }
  } else if (isSet(a)) {
    if (!isSet(b) || a.size !== b.size) return false;
    const unmatched = [];
    for (const value of a) if (!b.has(value)) unmatched.push(value);
    if (unmatched.length > 0) {
      const candidates = [...b].filter((value) => !a.has(value));
      for (const value of unmatched) {
        const at = candidates.findIndex((v) => looseEqual(value, v, memo));
        if (at === -1) return false;
        candidates.splice(at, 1);
      }
    }
  } else if (isWeakMap(a) || isWeakSet(a) || isPromise(a)) {
    return false; // only the same instance
  } else if (isBoxedPrimitive(a)) {
    if (!boxedEqual(a, b)) return false;
    if (isStringObject(a)) skipIndices = true;
  } else if (ArrayIsArray(b) || isView(b) || isSet(b) || isMap(b) || isDate(b) || isRegExp(b) ||
             isAnyArrayBuffer(b) || isBoxedPrimitive(b) || isNativeError(b) || b instanceof Error) {
    return false; // a special object on one side only
  }
  const keysA = ObjectKeys(a).filter((k) => !(skipIndices && isIndexKey(k)));
  const keysB = ObjectKeys(b).filter((k) => !(skipIndices && isIndexKey(k)));
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!ReflectApply(propertyIsEnumerable, b, [key])) return false;
    if (!looseEqual(a[key], b[key], memo)) return false;
  }
  return true;
}

function isDeepEqual(a, b) {
  return looseEqual(a, b, { a: new Map(), b: new Map(), depth: 0 });
}

// -- partial deep equality (assert.partialDeepStrictEqual) -----------------------------------

const ReflectOwnKeys = Reflect.ownKeys;
const ObjectGetPrototypeOf = Object.getPrototypeOf;

/** The bytes of a view or buffer (what partial comparison matches for DataViews and buffers). */
function bytesOf(value) {
  return isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value);
}

/** Whether `expected`'s items appear in `actual` in the same order (others may lie between). */
function isSubsequence(actual, expected, equal) {
  if (expected.length > actual.length) return false;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    let found = false;
    while (at < actual.length) {
      if (equal(actual[at++], expected[i])) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/** Node's partialDeepStrictEqual: deepStrictEqual's rules on what `expected` has: its own
 * enumerable keys (symbols too), its Set items and Map keys, its array items (in order, as a
 * subsequence of `actual`'s), with primitives compared with Object.is. */
function partialEqual(actual, expected, memo) {
  if (typeof expected !== "object" || expected === null ||
      typeof actual !== "object" || actual === null) {
    return isDeepStrictEqual(actual, expected);
  }
  if (actual === expected) return true;
  if (ObjectGetPrototypeOf(actual) !== ObjectGetPrototypeOf(expected) ||
      tag(actual) !== tag(expected) || ArrayIsArray(actual) !== ArrayIsArray(expected)) {
    return false;
  }
  let seen = memo.get(actual);
  if (seen !== undefined && seen.has(expected)) return true;
  if (seen === undefined) memo.set(actual, seen = new Set());
  seen.add(expected);

  let skipIndices = false;
  if (bothURLs(actual, expected)) {
    if (ReflectApply(urlHref, actual, []) !== ReflectApply(urlHref, expected, [])) return false;
  } else if (ArrayIsArray(expected)) {
    // Holes are skipped: the items `expected` has must appear in `actual`'s, in order.
    if (expected.length > actual.length) return false;
    const items = (array) => ObjectKeys(array).filter(isIndexKey).map((key) => array[key]);
    if (!isSubsequence(items(actual), items(expected), (a, e) => partialEqual(a, e, memo))) {
      return false;
    }
    skipIndices = true;
  } else if (isTypedArray(expected)) {
    if (ReflectApply(typedArrayTag, actual, []) !== ReflectApply(typedArrayTag, expected, [])) {
      return false;
    }
    if (!isSubsequence(actual, expected, ObjectIs)) return false;
    skipIndices = true;
  } else if (isView(expected) || isAnyArrayBuffer(expected)) {
    if (isView(expected) !== isView(actual)) return false;
    if (!isSubsequence(bytesOf(actual), bytesOf(expected), ObjectIs)) return false;
  } else if (isMap(expected)) {
    const used = new Set();
    for (const [key, value] of expected) {
      if (typeof key !== "object" || key === null) {
        if (!actual.has(key) || !partialEqual(actual.get(key), value, memo)) return false;
        continue;
      }
      let found = false;
      for (const [k, v] of actual) {
        if (!used.has(k) && typeof k === "object" && k !== null &&
            partialEqual(k, key, memo) && partialEqual(v, value, memo)) {
          used.add(k);
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
  } else if (isSet(expected)) {
    const used = new Set();
    for (const item of expected) {
      if (typeof item !== "object" || item === null) {
        if (!actual.has(item)) return false;
        continue;
      }
      let found = false;
      for (const candidate of actual) {
        if (!used.has(candidate) && typeof candidate === "object" && candidate !== null &&
            partialEqual(candidate, item, memo)) {
          used.add(candidate);
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
  } else if (isNativeError(expected) || expected instanceof Error) {
    // name and message count where `expected` has them as its own (new Error() has none).
    for (const key of ["name", "message"]) {
      if (ReflectApply(hasOwn, expected, [key]) && !ObjectIs(actual[key], expected[key])) return false;
    }
    for (const key of ["cause", "errors"]) {
      if (key in expected && (!(key in actual) || !partialEqual(actual[key], expected[key], memo))) {
        return false;
      }
    }
  } else if (isDate(expected) || isRegExp(expected) || isBoxedPrimitive(expected) ||
             isWeakMap(expected) || isWeakSet(expected) || isPromise(expected)) {
    if (!isDeepStrictEqual(actual, expected)) return false;
    return true;
  }
  for (const key of ReflectOwnKeys(expected)) {
    if (!ReflectApply(propertyIsEnumerable, expected, [key])) continue;
    if (skipIndices && isIndexKey(key)) continue;
    if (!ReflectApply(propertyIsEnumerable, actual, [key]) ||
        !partialEqual(actual[key], expected[key], memo)) {
      return false;
    }
  }
  return true;
}

// -- assertions ------------------------------------------------------------------------------

function innerOk(fn, argLen, value, message) {
  if (value) return;
  let generated = false;
  if (argLen === 0) {
    generated = true;
    message = "No value argument passed to `assert.ok()`";
  } else if (message instanceof Error) {
    throw message;
  }
  const err = new AssertionError({ actual: value, expected: true, message, operator: "==",
                                   stackStartFn: fn });
  if (generated) err.generatedMessage = true;
  throw err;
}

function checkArgs(argLen) {
  if (argLen < 2) {
    throw codedError(TypeError, "ERR_MISSING_ARGS",
                     'The "actual" and "expected" arguments must be specified');
  }
}

function ok(...args) {
  innerOk(ok, args.length, ...args);
}

const assert = ok;
assert.ok = ok;
assert.AssertionError = AssertionError;

let warnedFail = false;
assert.fail = function fail(actual, expected, message, operator, stackStartFn) {
  const argsLen = arguments.length;
  let internalMessage = false;
  if (actual == null && argsLen <= 1) {
    internalMessage = true;
    message = "Failed";
  } else if (argsLen === 1) {
    message = actual;
    actual = undefined;
  } else {
    if (!warnedFail) {
      warnedFail = true;
      require("node:process").emitWarning(
        "assert.fail() with more than one argument is deprecated. " +
        "Please use assert.strictEqual() instead or only pass a message.",
        "DeprecationWarning", "DEP0094");
    }
    if (argsLen === 2) operator = "!=";
  }
  if (message instanceof Error) throw message;
  const options = { actual, expected, operator: operator === undefined ? "fail" : operator,
                    stackStartFn: stackStartFn || fail, message };
  const err = new AssertionError(options);
  if (internalMessage) err.generatedMessage = true;
  throw err;
};

assert.equal = function equal(actual, expected, message) {
  checkArgs(arguments.length);
  // eslint-disable-next-line eqeqeq
  if (actual != expected && (!NumberIsNaN(actual) || !NumberIsNaN(expected))) {
    innerFail({ actual, expected, message, operator: "==", stackStartFn: equal });
  }
};

assert.notEqual = function notEqual(actual, expected, message) {
  checkArgs(arguments.length);
  // eslint-disable-next-line eqeqeq
  if (actual == expected || (NumberIsNaN(actual) && NumberIsNaN(expected))) {
    innerFail({ actual, expected, message, operator: "!=", stackStartFn: notEqual });
  }
};

assert.deepEqual = function deepEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (!isDeepEqual(actual, expected)) {
    innerFail({ actual, expected, message, operator: "deepEqual", stackStartFn: deepEqual });
  }
};

assert.notDeepEqual = function notDeepEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (isDeepEqual(actual, expected)) {
    innerFail({ actual, expected, message, operator: "notDeepEqual", stackStartFn: notDeepEqual });
  }
};

assert.deepStrictEqual = function deepStrictEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (!isDeepStrictEqual(actual, expected, currentOptions.skipPrototype)) {
    innerFail({ actual, expected, message, operator: "deepStrictEqual",
                stackStartFn: deepStrictEqual });
  }
};

assert.notDeepStrictEqual = function notDeepStrictEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (isDeepStrictEqual(actual, expected, currentOptions.skipPrototype)) {
    innerFail({ actual, expected, message, operator: "notDeepStrictEqual",
                stackStartFn: notDeepStrictEqual });
  }
};

assert.partialDeepStrictEqual = function partialDeepStrictEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (!partialEqual(actual, expected, new Map())) {
    innerFail({ actual, expected, message, operator: "partialDeepStrictEqual",
                stackStartFn: partialDeepStrictEqual });
  }
};

assert.strictEqual = function strictEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (!ObjectIs(actual, expected)) {
    innerFail({ actual, expected, message, operator: "strictEqual", stackStartFn: strictEqual });
  }
};

assert.notStrictEqual = function notStrictEqual(actual, expected, message) {
  checkArgs(arguments.length);
  if (ObjectIs(actual, expected)) {
    innerFail({ actual, expected, message, operator: "notStrictEqual",
                stackStartFn: notStrictEqual });
  }
};

// -- throws / rejects ------------------------------------------------------------------------

/** The placeholder objects that show only the compared keys in a validation object's diff. */
class Comparison {
  constructor(obj, keys, actual) {
    for (const key of keys) {
      if (key in obj) {
        if (actual !== undefined && typeof actual[key] === "string" && isRegExp(obj[key]) &&
            regExpMatches(obj[key], actual[key])) {
          this[key] = actual[key];
        } else {
          this[key] = obj[key];
        }
      }
    }
  }
}

function compareExceptionKey(actual, expected, key, message, keys, fn) {
  if (!(key in actual) || !isDeepStrictEqual(actual[key], expected[key])) {
    if (!message) {
      const a = new Comparison(actual, keys);
      const b = new Comparison(expected, keys, actual);
      const err = new AssertionError({ actual: a, expected: b, operator: "deepStrictEqual",
                                       stackStartFn: fn });
      err.actual = actual;
      err.expected = expected;
      err.operator = fn.name;
      throw err;
    }
    innerFail({ actual, expected, message, operator: fn.name, stackStartFn: fn });
  }
}

/** Whether the thrown `actual` matches `expected` (a RegExp, validation object or Error
 * instance, Error class, or validation function), else an AssertionError. */
function expectedException(actual, expected, message, fn) {
  let generated = false;
  let throwError = false;
  if (typeof expected !== "function") {
    if (isRegExp(expected)) {
      const str = String(actual);
      if (regExpMatches(expected, str)) return;
      if (!message) {
        generated = true;
        message = "The input did not match the regular expression " +
          `${inspect(expected)}. Input:\n\n${inspect(str)}\n`;
      }
      throwError = true;
    } else if (typeof actual !== "object" || actual === null) {
      const err = new AssertionError({ actual, expected, message, operator: "deepStrictEqual",
                                       stackStartFn: fn });
      err.operator = fn.name;
      throw err;
    } else {
      const keys = ObjectKeys(expected);
      if (expected instanceof Error) {
        keys.push("name", "message");
      } else if (keys.length === 0) {
        throw invalidArgValue("error", expected, "may not be an empty object");
      }
      for (const key of keys) {
        if (typeof actual[key] === "string" && isRegExp(expected[key]) &&
            regExpMatches(expected[key], actual[key])) {
          continue;
        }
        compareExceptionKey(actual, expected, key, message, keys, fn);
      }
      return;
    }
  } else if (expected.prototype !== undefined && actual instanceof expected) {
    return;
  } else if (ReflectApply(ObjectPrototypeIsPrototypeOf, Error, [expected])) {
    if (!message) {
      generated = true;
      message = `The error is expected to be an instance of "${expected.name}". Received `;
      if (isNativeError(actual) || actual instanceof Error) {
        const name = (actual.constructor && actual.constructor.name) || actual.name;
        if (expected.name === name) {
          message += "an error with identical name but a different prototype.";
        } else {
          message += `"${name}"`;
        }
        if (actual.message) message += `\n\nError message:\n\n${actual.message}`;
      } else {
        message += `"${inspect(actual, { depth: -1 })}"`;
      }
    }
    throwError = true;
  } else {
    const res = ReflectApply(expected, {}, [actual]);
    if (res !== true) {
      if (!message) {
        generated = true;
        const name = expected.name ? `"${expected.name}" ` : "";
        message = `The ${name}validation function is expected to return "true". Received ${inspect(res)}`;
        if (isNativeError(actual) || actual instanceof Error) message += `\n\nCaught error:\n\n${actual}`;
      }
      throwError = true;
    }
  }
  if (throwError) {
    const err = new AssertionError({ actual, expected, message, operator: fn.name,
                                     stackStartFn: fn });
    err.generatedMessage = generated;
    throw err;
  }
}

function getActual(fn) {
  if (typeof fn !== "function") throw invalidArgType("fn", "Function", fn);
  try {
    fn();
  } catch (e) {
    return e;
  }
  return NO_EXCEPTION;
}

function checkIsPromise(value) {
  return isPromise(value) || (value !== null && typeof value === "object" &&
    typeof value.then === "function" && typeof value.catch === "function");
}

async function waitForActual(promiseFn) {
  let resultPromise;
  if (typeof promiseFn === "function") {
    resultPromise = promiseFn();
    if (!checkIsPromise(resultPromise)) {
      throw codedError(TypeError, "ERR_INVALID_RETURN_VALUE",
                       "Expected instance of Promise to be returned from the \"promiseFn\" " +
                       `function but got ${describeReceived(resultPromise)}.`);
    }
  } else if (checkIsPromise(promiseFn)) {
    resultPromise = promiseFn;
  } else {
    throw invalidArgType("promiseFn", ["Function", "Promise"], promiseFn);
  }
  try {
    await resultPromise;
  } catch (e) {
    return e;
  }
  return NO_EXCEPTION;
}

function expectsError(stackStartFn, actual, error, message, argLen) {
  if (typeof error === "string") {
    if (argLen === 3) {
      throw invalidArgType("error", ["Object", "Error", "Function", "RegExp"], error);
    }
    if (typeof actual === "object" && actual !== null) {
      if (actual.message === error) {
        throw codedError(TypeError, "ERR_AMBIGUOUS_ARGUMENT",
                         `The "error/message" argument is ambiguous. The error message "${actual.message}" is identical to the message.`);
      }
    } else if (actual === error) {
      throw codedError(TypeError, "ERR_AMBIGUOUS_ARGUMENT",
                       `The "error/message" argument is ambiguous. The error "${actual}" is identical to the message.`);
    }
    message = error;
    error = undefined;
  } else if (error != null && typeof error !== "object" && typeof error !== "function") {
    throw invalidArgType("error", ["Object", "Error", "Function", "RegExp"], error);
  }
  if (actual === NO_EXCEPTION) {
    let details = "";
    if (error && error.name) details += ` (${error.name})`;
    details += message ? `: ${message}` : ".";
    const fnType = stackStartFn === assert.rejects ? "rejection" : "exception";
    innerFail({ actual: undefined, expected: error, operator: stackStartFn.name,
                message: `Missing expected ${fnType}${details}`, stackStartFn });
  }
  if (!error) return;
  expectedException(actual, error, message, stackStartFn);
}

function hasMatchingError(actual, expected) {
  if (typeof expected !== "function") {
    if (isRegExp(expected)) return regExpMatches(expected, String(actual));
    throw invalidArgType("expected", ["Function", "RegExp"], expected);
  }
  if (expected.prototype !== undefined && actual instanceof expected) return true;
  if (ReflectApply(ObjectPrototypeIsPrototypeOf, Error, [expected])) return false;
  return ReflectApply(expected, {}, [actual]) === true;
}

function expectsNoError(stackStartFn, actual, error, message) {
  if (actual === NO_EXCEPTION) return;
  if (typeof error === "string") {
    message = error;
    error = undefined;
  }
  if (!error || hasMatchingError(actual, error)) {
    const details = message ? `: ${message}` : ".";
    const fnType = stackStartFn === assert.doesNotReject ? "rejection" : "exception";
    innerFail({ actual, expected: error, operator: stackStartFn.name,
                message: `Got unwanted ${fnType}${details}\nActual message: "${actual && actual.message}"`,
                stackStartFn });
  }
  throw actual;
}

assert.throws = function throws(promiseFn, ...args) {
  expectsError(throws, getActual(promiseFn), args[0], args[1], args.length + 1);
};

/** Runs `fn` with `options` in effect (again after an await). */
function withOptions(options, fn) {
  const saved = currentOptions;
  currentOptions = options;
  try {
    return fn();
  } finally {
    currentOptions = saved;
  }
}

assert.rejects = async function rejects(promiseFn, ...args) {
  const options = currentOptions;
  const actual = await waitForActual(promiseFn);
  withOptions(options, () => expectsError(rejects, actual, args[0], args[1], args.length + 1));
};

assert.doesNotThrow = function doesNotThrow(fn, ...args) {
  expectsNoError(doesNotThrow, getActual(fn), ...args);
};

assert.doesNotReject = async function doesNotReject(fn, ...args) {
  const options = currentOptions;
  const actual = await waitForActual(fn);
  withOptions(options, () => expectsNoError(doesNotReject, actual, ...args));
};

assert.ifError = function ifError(err) {
  if (err === null || err === undefined) return;
  let message = "ifError got unwanted exception: ";
  if (typeof err === "object" && typeof err.message === "string") {
    if (err.message.length === 0 && err.constructor) message += err.constructor.name;
    else message += err.message;
  } else {
    message += inspect(err);
  }
  const newErr = new AssertionError({ actual: err, expected: null, operator: "ifError", message,
                                      stackStartFn: ifError });
  // The original error's own frames follow the assertion's (as Node's).
  const origStack = err && typeof err.stack === "string" ? err.stack : null;
  if (origStack !== null && typeof newErr.stack === "string") {
    const origFrames = origStack.split("\n").filter((line) => /^\s+at /.test(line));
    const newLines = newErr.stack.split("\n");
    const head = newLines.filter((line) => !/^\s+at /.test(line));
    const frames = newLines.filter((line) => /^\s+at /.test(line));
    newErr.stack = [...head, ...origFrames, ...frames].join("\n");
  }
  throw newErr;
};

function internalMatch(string, regexp, message, fn) {
  if (!isRegExp(regexp)) throw invalidArgType("regexp", "RegExp", regexp);
  const match = fn === assert.match;
  if (typeof string !== "string" || regExpMatches(regexp, string) !== match) {
    if (message instanceof Error) throw message;
    const generated = !message;
    message = message || (typeof string !== "string"
      ? `The "string" argument must be of type string. Received type ${typeof string} (${inspect(string)})`
      : `${match ? "The input did not match the regular expression "
        : "The input was expected to not match the regular expression "}${inspect(regexp)}. Input:\n\n${inspect(string)}\n`);
    const err = new AssertionError({ actual: string, expected: regexp, message, operator: fn.name,
                                     stackStartFn: fn });
    err.generatedMessage = generated;
    throw err;
  }
}

assert.match = function match(string, regexp, message) {
  internalMatch(string, regexp, message, match);
};

assert.doesNotMatch = function doesNotMatch(string, regexp, message) {
  internalMatch(string, regexp, message, doesNotMatch);
};

// -- Assert instances ------------------------------------------------------------------------

const kOptions = Symbol("kOptions");
const METHODS = ["fail", "equal", "notEqual", "deepEqual", "notDeepEqual", "deepStrictEqual",
                 "notDeepStrictEqual", "partialDeepStrictEqual", "strictEqual", "notStrictEqual",
                 "throws", "rejects", "doesNotThrow", "doesNotReject", "ifError", "match",
                 "doesNotMatch"];

/** new assert.Assert([options]): the assertions with their own options: diff ("simple" or
 * "full", what their errors' `diff` says), strict (default true: equal is strictEqual, ...)
 * and skipPrototype (deepStrictEqual compares no prototypes). Its methods work detached too
 * (with the default options). */
function Assert(options) {
  if (!new.target) {
    throw codedError(TypeError, "ERR_CONSTRUCT_CALL_REQUIRED",
                     "Class constructor Assert cannot be invoked without 'new'");
  }
  options = { __proto__: null, strict: true, skipPrototype: false, ...options };
  if (options.diff !== undefined && options.diff !== "simple" && options.diff !== "full") {
    throw invalidArgValue("options.diff", options.diff, "must be one of: 'simple', 'full'");
  }
  this.AssertionError = AssertionError;
  Object.defineProperty(this, kOptions, {
    __proto__: null,
    value: { __proto__: null, diff: options.diff === undefined ? "simple" : options.diff,
             strict: Boolean(options.strict), skipPrototype: Boolean(options.skipPrototype) },
  });
  if (options.strict) {
    this.equal = this.strictEqual;
    this.deepEqual = this.deepStrictEqual;
    this.notEqual = this.notStrictEqual;
    this.notDeepEqual = this.notDeepStrictEqual;
  }
}

function optionsOf(self) {
  return self !== null && typeof self === "object" && self[kOptions] !== undefined
    ? self[kOptions] : DEFAULT_OPTIONS;
}

Assert.prototype.ok = function ok(...args) {
  withOptions(optionsOf(this), () => innerOk(ok, args.length, ...args));
};
for (const name of METHODS) {
  const method = assert[name];
  const wrapped = {
    [name](...args) {
      return withOptions(optionsOf(this), () => ReflectApply(method, undefined, args));
    },
  }[name];
  Object.defineProperty(wrapped, "length", { __proto__: null, value: method.length });
  Assert.prototype[name] = wrapped;
}
assert.Assert = Assert;

// -- strict mode -----------------------------------------------------------------------------

function strict(...args) {
  innerOk(strict, args.length, ...args);
}

assert.strict = Object.assign(strict, assert, {
  equal: assert.strictEqual,
  deepEqual: assert.deepStrictEqual,
  notEqual: assert.notStrictEqual,
  notDeepEqual: assert.notDeepStrictEqual,
});
assert.strict.strict = assert.strict;

module.exports = assert;
