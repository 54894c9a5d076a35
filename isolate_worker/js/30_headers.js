// Headers (Fetch standard, https://fetch.spec.whatwg.org/#headers-class).
//
// A header list is a flat array [name0, value0, name1, value1, ...]. Names keep the case they
// were first given in (they reach the wire that way) and are compared case-insensitively.
// Iteration follows "sort and combine": lower-cased names in order, values of equal names
// joined with ", ", except Set-Cookie whose values stay separate; the sorted list is cached
// until the next change, and iterators are live (they hold an index into it).
//
// Guards: "immutable" (every change throws), "request", "response" and "none" (no filtering:
// like the other server runtimes, isoflow has no forbidden header names), and
// "request-no-cors" (only CORS-safelisted request-headers get in).
// Exports internals.headers for Request/Response/fetch and the bridge.

const {
  Array: ArrayCtor,
  ArrayIsArray,
  ArrayIteratorPrototype,
  ArrayPrototypePush,
  ArrayPrototypeSlice,
  ArrayPrototypeSort,
  ArrayPrototypeSplice,
  FunctionPrototypeCall,
  NullArray,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ReflectOwnKeys,
  RegExpPrototypeExec,
  SafeMap,
  SafeWeakMap,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
  StringPrototypeToLowerCase,
  SymbolIterator,
  TypeError: TypeErrorCtor,
} = primordials;
const { webidl } = internals;

// The built-in iteration machinery, captured before user code runs: a fast path may skip the
// iterator protocol only while iterating would provably do the same thing.
const ArrayValues = ArrayCtor.prototype[SymbolIterator];
const ArrayIteratorNext = ArrayIteratorPrototype.next;

// Checks run by a search for what must not occur, with the built-in exec on plain RegExps: it
// consults nothing a script can patch (their `lastIndex` is their own, and scripts never see
// them), V8 keeps it on its fast path (a SafeRegExp, with its own prototype, is not), and
// it is 3-8x faster than a loop over the characters (one per header, per request).
// token = 1*tchar (RFC 9110): a header name, and a method.
const NOT_TCHAR = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const NOT_BYTE = /[^\x00-\xff]/;
const NOT_IN_VALUE = /[\0\n\r]/;

function isValidName(name) {
  return name.length > 0 && RegExpPrototypeExec(NOT_TCHAR, name) === null;
}

function isHttpWhitespace(c) {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** "Normalize" a header value: strip leading and trailing HTTP whitespace bytes. */
function normalizeValue(value) {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(StringPrototypeCharCodeAt(value, start))) start++;
  while (end > start && isHttpWhitespace(StringPrototypeCharCodeAt(value, end - 1))) end--;
  return start === 0 && end === value.length ? value : StringPrototypeSlice(value, start, end);
}

/** A header value: no NUL, CR or LF, no leading or trailing tab or space (normalized). */
function isValidValue(value) {
  const n = value.length;
  if (n > 0) {
    const first = StringPrototypeCharCodeAt(value, 0);
    const last = StringPrototypeCharCodeAt(value, n - 1);
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  }
  return RegExpPrototypeExec(NOT_IN_VALUE, value) === null;
}

/** Web IDL ByteString conversion. */
function toByteString(v, prefix, context) {
  const s = typeof v === "string" ? v : webidl.converters.DOMString(v, prefix, context);
  const found = RegExpPrototypeExec(NOT_BYTE, s);
  if (found !== null) {
    throw new TypeErrorCtor(
      `${prefix}: ${context} is not a valid ByteString: the character at index ${found.index} is greater than 255.`,
    );
  }
  return s;
}

/**
 * A name argument converted to ByteString and checked to be a header name. A header name is
 * ASCII, so for a string the token check alone decides both.
 */
function toHeaderName(v, prefix) {
  const name = typeof v === "string" ? v : toByteString(v, prefix, "Argument 1");
  if (!isValidName(name)) {
    throw new TypeErrorCtor(`${prefix}: Invalid header name: "${name}"`);
  }
  return name;
}

function invalidName(name, prefix) {
  return new TypeErrorCtor(`${prefix}: Invalid header name: "${name}"`);
}

function invalidValue(name, prefix) {
  return new TypeErrorCtor(`${prefix}: Invalid header value for "${name}"`);
}

// --- Header lists -----------------------------------------------------------------------------

/** Whether header name `name` is a byte-case-insensitive match for lower-case `lname`. */
function nameMatches(name, lname) {
  return name.length === lname.length &&
    (name === lname || StringPrototypeToLowerCase(name) === lname);
}

function listIndexOf(list, lname) {
  for (let i = 0; i < list.length; i += 2) {
    if (nameMatches(list[i], lname)) return i;
  }
  return -1;
}

/** Header list "get": the values of `lname` joined with ", ", or null. */
function listGet(list, lname) {
  let result = null;
  for (let i = 0; i < list.length; i += 2) {
    if (nameMatches(list[i], lname)) {
      result = result === null ? list[i + 1] : `${result}, ${list[i + 1]}`;
    }
  }
  return result;
}

// Each list's names by their lowercase, as first written (what append reuses): a lookup, not
// a scan of the list per append (16,000 distinct names took 2 s). Made at a list's first
// append; kept by the three functions that change a list's names (only this file does).
const firstNames = new SafeWeakMap();

function namesOf(list) {
  let names = firstNames.get(list);
  if (names === undefined) {
    names = new SafeMap();
    for (let i = 0; i < list.length; i += 2) {
      const lname = StringPrototypeToLowerCase(list[i]);
      if (!names.has(lname)) names.set(lname, list[i]);
    }
    firstNames.set(list, names);
  }
  return names;
}

/** Header list "delete". */
/** A copy of a header list without the fields named `lname` (lower-case). */
function listWithout(list, lname) {
  const out = NullArray();
  for (let i = 0; i < list.length; i += 2) {
    if (!nameMatches(list[i], lname)) ArrayPrototypePush(out, list[i], list[i + 1]);
  }
  return out;
}

function listDelete(list, lname) {
  for (let i = list.length - 2; i >= 0; i -= 2) {
    if (nameMatches(list[i], lname)) ArrayPrototypeSplice(list, i, 2);
  }
  const names = firstNames.get(list);
  if (names !== undefined) names.delete(lname);
}

/** Header list "append": an existing header's name casing is reused. */
function listAppend(list, name, value) {
  const names = namesOf(list);
  const lname = StringPrototypeToLowerCase(name);
  const first = names.get(lname);
  if (first === undefined) names.set(lname, name);
  ArrayPrototypePush(list, first === undefined ? name : first, value);
}

/** Header list "set": replace the first `name` header's value and drop the others. */
function listSet(list, name, value) {
  const lname = StringPrototypeToLowerCase(name);
  const first = listIndexOf(list, lname);
  if (first === -1) {
    ArrayPrototypePush(list, name, value);
    const names = firstNames.get(list);
    if (names !== undefined) names.set(lname, name);
    return;
  }
  list[first + 1] = value;
  for (let i = list.length - 2; i > first; i -= 2) {
    if (nameMatches(list[i], lname)) ArrayPrototypeSplice(list, i, 2);
  }
}

/** Header list "sort and combine": [[lowercase name, value], ...]. */
function sortAndCombineList(list) {
  // One pass: each name's values combined as listGet would (in list order), Set-Cookie's
  // kept apart; a lookup per name instead of a scan of the list per name (quadratic).
  const names = [];
  const combined = { __proto__: null };
  const cookies = [];
  for (let i = 0; i < list.length; i += 2) {
    const lname = StringPrototypeToLowerCase(list[i]);
    const value = list[i + 1];
    if (lname === "set-cookie") ArrayPrototypePush(cookies, value);
    const seen = combined[lname];
    if (seen === undefined) {
      combined[lname] = value;
      ArrayPrototypePush(names, lname);
    } else {
      combined[lname] = `${seen}, ${value}`;
    }
  }
  ArrayPrototypeSort(names);
  const out = [];
  for (let n = 0; n < names.length; n++) {
    const lname = names[n];
    if (lname === "set-cookie") {
      for (let i = 0; i < cookies.length; i++) ArrayPrototypePush(out, [lname, cookies[i]]);
    } else {
      ArrayPrototypePush(out, [lname, combined[lname]]);
    }
  }
  return out;
}

// --- CORS-safelisted request-headers (the "request-no-cors" guard) ---------------------------

const NO_CORS_SAFELISTED_NAMES = ["accept", "accept-language", "content-language", "content-type"];
const PRIVILEGED_NO_CORS_NAMES = ["range"];

function isNoCorsSafelistedName(lname) {
  for (let i = 0; i < NO_CORS_SAFELISTED_NAMES.length; i++) {
    if (NO_CORS_SAFELISTED_NAMES[i] === lname) return true;
  }
  return false;
}

function isCorsUnsafeByte(c) {
  return (c < 0x20 && c !== 0x09) || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3a ||
    c === 0x3c || c === 0x3e || c === 0x3f || c === 0x40 || c === 0x5b || c === 0x5c ||
    c === 0x5d || c === 0x7b || c === 0x7d || c === 0x7f;
}

function hasCorsUnsafeByte(value) {
  for (let i = 0; i < value.length; i++) {
    if (isCorsUnsafeByte(StringPrototypeCharCodeAt(value, i))) return true;
  }
  return false;
}

function isLanguageByte(c) {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x20 || c === 0x2a || c === 0x2c || c === 0x2d || c === 0x2e || c === 0x3b ||
    c === 0x3d;
}

function isAsciiDigit(c) {
  return c >= 0x30 && c <= 0x39;
}

/** Fetch "parse a single range header value" (whitespace not allowed): [start, end] or null. */
function parseSingleRange(value) {
  let position = 0;
  const n = value.length;
  while (position < n && value[position] !== "=") position++;
  if (StringPrototypeToLowerCase(StringPrototypeSlice(value, 0, position)) !== "bytes") return null;
  if (value[position] !== "=") return null;
  position++;
  let start = position;
  while (position < n && isAsciiDigit(StringPrototypeCharCodeAt(value, position))) position++;
  const rangeStart = position > start ? +StringPrototypeSlice(value, start, position) : null;
  if (value[position] !== "-") return null;
  position++;
  start = position;
  while (position < n && isAsciiDigit(StringPrototypeCharCodeAt(value, position))) position++;
  const rangeEnd = position > start ? +StringPrototypeSlice(value, start, position) : null;
  if (position < n) return null;
  if (rangeStart === null && rangeEnd === null) return null;
  if (rangeStart !== null && rangeEnd !== null && rangeStart > rangeEnd) return null;
  return [rangeStart, rangeEnd];
}

/** Fetch "CORS-safelisted request-header" for (lower-case name, value). */
function isCorsSafelistedRequestHeader(lname, value) {
  if (value.length > 128) return false;
  switch (lname) {
    case "accept":
      return !hasCorsUnsafeByte(value);
    case "accept-language":
    case "content-language":
      for (let i = 0; i < value.length; i++) {
        if (!isLanguageByte(StringPrototypeCharCodeAt(value, i))) return false;
      }
      return true;
    case "content-type": {
      if (hasCorsUnsafeByte(value)) return false;
      const mimeType = internals.mimeType.parse(value);
      if (mimeType === null) return false;
      const essence = internals.mimeType.essence(mimeType);
      return essence === "application/x-www-form-urlencoded" ||
        essence === "multipart/form-data" || essence === "text/plain";
    }
    case "range": {
      const range = parseSingleRange(value);
      return range !== null && range[0] !== null;
    }
    default:
      return false;
  }
}

function isNoCorsSafelistedRequestHeader(lname, value) {
  return isNoCorsSafelistedName(lname) && isCorsSafelistedRequestHeader(lname, value);
}

function removePrivilegedNoCorsHeaders(list) {
  for (let i = 0; i < PRIVILEGED_NO_CORS_NAMES.length; i++) listDelete(list, PRIVILEGED_NO_CORS_NAMES[i]);
}

// --- Headers ----------------------------------------------------------------------------------

// Slots are private fields; `slots` gives the rest of this file access to them.
let slots;

/**
 * Headers "validate" for the name and (normalized) value. Its "return false" (a forbidden
 * name) cannot happen here: there are no forbidden header names.
 */
function validate(headers, name, value, prefix) {
  if (!isValidName(name)) throw invalidName(name, prefix);
  if (!isValidValue(value)) throw invalidValue(name, prefix);
  if (slots.guard(headers) === "immutable") {
    throw new TypeErrorCtor(`${prefix}: Headers are immutable`);
  }
}

/** Headers "append" (name and value already ByteStrings). */
function appendHeader(headers, name, value, prefix) {
  value = normalizeValue(value);
  validate(headers, name, value, prefix);
  const list = slots.list(headers);
  if (slots.guard(headers) === "request-no-cors") {
    const lname = StringPrototypeToLowerCase(name);
    const current = listGet(list, lname);
    const temporary = current === null ? value : `${current}, ${value}`;
    if (!isNoCorsSafelistedRequestHeader(lname, temporary)) return;
  }
  listAppend(list, name, value);
  if (slots.guard(headers) === "request-no-cors") removePrivilegedNoCorsHeaders(list);
  slots.changed(headers);
}

/**
 * Iterate `object` with iterator method `method` (the Web IDL "create a sequence from an
 * iterable" loop), calling `step(value)` for each value.
 */
function iterate(object, method, step, prefix) {
  if (ArrayIsArray(object) && method === ArrayValues &&
      ArrayIteratorPrototype.next === ArrayIteratorNext) {
    // What the built-in array iterator would do, without its allocations.
    for (let i = 0; i < object.length; i++) step(object[i]);
    return;
  }
  const iterator = FunctionPrototypeCall(method, object);
  if (webidl.type(iterator) !== "Object") {
    throw new TypeErrorCtor(`${prefix}: The iterator is not an object.`);
  }
  const next = iterator.next;
  for (;;) {
    const result = FunctionPrototypeCall(next, iterator);
    if (webidl.type(result) !== "Object") {
      throw new TypeErrorCtor(`${prefix}: The iterator result is not an object.`);
    }
    if (result.done) return;
    step(result.value);
  }
}

/**
 * Convert a HeadersInit value, (sequence<sequence<ByteString>> or record<ByteString,
 * ByteString>), as Web IDL does: to a list of header pairs (arrays, whose size `fill` checks).
 * With `keepList`, a Headers object that its own iterator would iterate is converted to a
 * Headers holding a copy of its header list instead: the same headers, taken at the same
 * point, with their names' case kept (for Request, whose headers reach the wire).
 */
function convertInit(init, prefix, keepList = false) {
  if (webidl.type(init) !== "Object") {
    throw new TypeErrorCtor(
      `${prefix}: The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.`,
    );
  }
  const method = init[SymbolIterator];
  if (method !== undefined && method !== null) {
    if (typeof method !== "function") {
      throw new TypeErrorCtor(`${prefix}: The object's [Symbol.iterator] is not a function.`);
    }
    if (method === HeadersPrototypeEntries && slots.is(init) &&
        HeadersIteratorPrototype.next === HeadersIteratorNext) {
      // A Headers object iterated by its own iterator: its sorted and combined pairs.
      if (keepList) return headersFromList(ArrayPrototypeSlice(slots.list(init)), "none");
      return ArrayPrototypeSlice(sortAndCombine(init));
    }
    const pairs = primordials.NullArray();
    iterate(init, method, (item) => {
      if (webidl.type(item) !== "Object") {
        throw new TypeErrorCtor(`${prefix}: A header pair is not an iterable object.`);
      }
      const itemMethod = item[SymbolIterator];
      if (typeof itemMethod !== "function") {
        throw new TypeErrorCtor(`${prefix}: A header pair is not an iterable object.`);
      }
      const pair = primordials.NullArray();
      iterate(item, itemMethod, (v) => {
        ArrayPrototypePush(pair, toByteString(v, prefix, "A header name or value"));
      }, prefix);
      ArrayPrototypePush(pairs, pair);
    }, prefix);
    return pairs;
  }
  // record<ByteString, ByteString>: own enumerable keys, each key converted before its value
  // is read (Web IDL "converting to a record").
  const pairs = primordials.NullArray();
  const keys = ReflectOwnKeys(init);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const desc = ObjectGetOwnPropertyDescriptor(init, key);
    if (desc === undefined || !desc.enumerable) continue;
    if (typeof key === "symbol") {
      throw new TypeErrorCtor(`${prefix}: A header name is a symbol.`);
    }
    const name = toByteString(key, prefix, "A header name");
    const value = toByteString(init[key], prefix, `The value of header "${name}"`);
    ArrayPrototypePush(pairs, [name, value]);
  }
  return pairs;
}

/** Headers "fill" from a converted HeadersInit (convertInit's result). */
function fillConverted(headers, pairs, prefix) {
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair.length !== 2) {
      throw new TypeErrorCtor(
        `${prefix}: Invalid header pair: expected a sequence of 2 items, got ${pair.length}.`,
      );
    }
    appendHeader(headers, pair[0], pair[1], prefix);
  }
}

/** Headers "fill" from a HeadersInit value. */
function fill(headers, init, prefix) {
  fillConverted(headers, convertInit(init, prefix), prefix);
}

/** "sort and combine" of a Headers object's list, cached until the list changes. */
function sortAndCombine(headers) {
  let sorted = slots.sorted(headers);
  if (sorted === null) {
    sorted = sortAndCombineList(slots.list(headers));
    slots.setSorted(headers, sorted);
  }
  return sorted;
}

function brand(self, prefix) {
  if (!slots.is(self)) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
}

class Headers {
  #list = primordials.NullArray(); // null prototype: no script setter sees the list
  #guard = "none";
  #sorted = null;

  static {
    slots = {
      is: (h) => typeof h === "object" && h !== null && #list in h,
      list: (h) => h.#list,
      guard: (h) => h.#guard,
      sorted: (h) => h.#sorted,
      setSorted(h, sorted) {
        h.#sorted = sorted;
      },
      changed(h) {
        h.#sorted = null;
      },
      init(h, list, guard) {
        h.#list = primordials.ObjectSetPrototypeOf(list, null);
        h.#guard = guard;
        h.#sorted = null;
      },
      setGuard(h, guard) {
        h.#guard = guard;
      },
    };
  }

  constructor(init = undefined) {
    if (init !== undefined) fill(this, init, "Failed to construct 'Headers'");
  }

  append(name, value) {
    const prefix = "Failed to execute 'append' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 2, prefix);
    name = toByteString(name, prefix, "Argument 1");
    value = toByteString(value, prefix, "Argument 2");
    appendHeader(this, name, value, prefix);
  }

  delete(name) {
    const prefix = "Failed to execute 'delete' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = toHeaderName(name, prefix);
    validate(this, name, "", prefix);
    const lname = StringPrototypeToLowerCase(name);
    const noCors = this.#guard === "request-no-cors";
    if (noCors && !isNoCorsSafelistedName(lname) && lname !== "range") return;
    if (listIndexOf(this.#list, lname) === -1) return;
    listDelete(this.#list, lname);
    if (noCors) removePrivilegedNoCorsHeaders(this.#list);
    this.#sorted = null;
  }

  get(name) {
    const prefix = "Failed to execute 'get' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = toHeaderName(name, prefix);
    return listGet(this.#list, StringPrototypeToLowerCase(name));
  }

  getSetCookie() {
    brand(this, "Failed to execute 'getSetCookie' on 'Headers'");
    const list = this.#list;
    const out = [];
    for (let i = 0; i < list.length; i += 2) {
      if (nameMatches(list[i], "set-cookie")) ArrayPrototypePush(out, list[i + 1]);
    }
    return out;
  }

  has(name) {
    const prefix = "Failed to execute 'has' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = toHeaderName(name, prefix);
    return listIndexOf(this.#list, StringPrototypeToLowerCase(name)) !== -1;
  }

  set(name, value) {
    const prefix = "Failed to execute 'set' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 2, prefix);
    name = toByteString(name, prefix, "Argument 1");
    value = normalizeValue(toByteString(value, prefix, "Argument 2"));
    validate(this, name, value, prefix);
    const noCors = this.#guard === "request-no-cors";
    if (noCors && !isNoCorsSafelistedRequestHeader(StringPrototypeToLowerCase(name), value)) return;
    listSet(this.#list, name, value);
    if (noCors) removePrivilegedNoCorsHeaders(this.#list);
    this.#sorted = null;
  }

  forEach(callback, thisArg = undefined) {
    const prefix = "Failed to execute 'forEach' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (typeof callback !== "function") {
      throw new TypeErrorCtor(`${prefix}: The callback provided as parameter 1 is not a function.`);
    }
    pairIterator.forEach(this, callback, thisArg);
  }

  keys() {
    brand(this, "Failed to execute 'keys' on 'Headers'");
    return pairIterator.keys(this);
  }

  values() {
    brand(this, "Failed to execute 'values' on 'Headers'");
    return pairIterator.values(this);
  }

  entries() {
    brand(this, "Failed to execute 'entries' on 'Headers'");
    return pairIterator.entries(this);
  }
}

// Headers iterators (Web IDL default iterator objects of a pair iterator): live over the
// sorted-and-combined list.
const pairIterator = webidl.createPairIterator(
  "Headers", sortAndCombine, "Failed to execute 'next' on 'Headers Iterator': Illegal invocation",
);
const HeadersIteratorPrototype = pairIterator.prototype;
const HeadersIteratorNext = pairIterator.next;

webidl.configureInterface(Headers);
const HeadersPrototypeEntries = Headers.prototype.entries;
ObjectDefineProperty(Headers.prototype, SymbolIterator, {
  value: HeadersPrototypeEntries, writable: true, enumerable: false, configurable: true,
});

/** A Headers over an existing flat list, without validation (lists from the wire). */
function headersFromList(list, guard) {
  const h = new Headers();
  slots.init(h, list, guard);
  return h;
}

internals.headers = {
  Headers,
  fromList: headersFromList,
  isHeaders: (x) => slots.is(x),
  /** The flat header list [name, value, ...] (not a copy). */
  list: (headers) => slots.list(headers),
  guard: (headers) => slots.guard(headers),
  setGuard: (headers, guard) => slots.setGuard(headers, guard),
  /** A new, independent Headers with a copy of the list. */
  copy: (headers, guard) => headersFromList(ArrayPrototypeSlice(slots.list(headers)), guard),
  /**
   * HeadersInit conversion (Web IDL): header pairs for fillConverted, or with `keepList` a
   * Headers (a copy of a Headers init's list) where iterating it would give the same headers.
   */
  convertInit,
  fillConverted,
  fill,
  /** Headers "append" (validation and guard apply), for Request's header copying. */
  append: (headers, name, value, prefix) => appendHeader(headers, name, value, prefix),
  /** Empty the header list. */
  clear(headers) {
    slots.init(headers, [], slots.guard(headers));
  },
  /** Header list "get" (`lname` lower-case). */
  get: (headers, lname) => listGet(slots.list(headers), lname),
  /** The same on a flat list [name, value, ...]. */
  listGet,
  listWithout,
  /** Header list "contains" (`lname` lower-case). */
  has: (headers, lname) => listIndexOf(slots.list(headers), lname) !== -1,
  /** Header list "append", no validation or guard: for the runtime's own headers. */
  appendUnchecked(headers, name, value) {
    listAppend(slots.list(headers), name, value);
    slots.changed(headers);
  },
  /** Header list "set", no validation or guard: for the runtime's own headers. */
  setUnchecked(headers, name, value) {
    listSet(slots.list(headers), name, value);
    slots.changed(headers);
  },
  sortAndCombine: (headers) => sortAndCombine(headers),
  isValidName,
  isValidValue,
  normalizeValue,
  isCorsSafelistedRequestHeader,
  parseSingleRange,
};

internals.exposeGlobal("Headers", Headers);
