// Headers (Fetch standard, https://fetch.spec.whatwg.org/#headers-class).
//
// A header list keeps names as given (they reach the wire in that case) and compares them
// case-insensitively. Iteration follows "sort and combine": lower-cased names in order,
// values of equal names joined with ", ", except Set-Cookie whose values stay separate.
// Exports internals.headers for Request/Response/fetch and the bridge.

const {
  ArrayPrototypePush,
  ArrayPrototypeSort,
  ArrayPrototypeSplice,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectSetPrototypeOf,
  ReflectOwnKeys,
  RegExpPrototypeTest,
  StringPrototypeCharCodeAt,
  StringPrototypeToLowerCase,
  SymbolIterator,
  SymbolToStringTag,
  TypeError: TypeErrorCtor,
  ArrayIteratorPrototype,
} = primordials;
const { webidl } = internals;

// Slots are private fields; `slots` gives the rest of this file access to them.
let slots;

// token = 1*tchar (RFC 9110)
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isValidName(name) {
  return RegExpPrototypeTest(TOKEN, name);
}

/** Strip leading and trailing HTTP whitespace (tab, space, CR, LF). */
function normalizeValue(value) {
  let start = 0;
  let end = value.length;
  while (start < end) {
    const c = StringPrototypeCharCodeAt(value, start);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    start++;
  }
  while (end > start) {
    const c = StringPrototypeCharCodeAt(value, end - 1);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    end--;
  }
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isValidValue(value) {
  for (let i = 0; i < value.length; i++) {
    const c = StringPrototypeCharCodeAt(value, i);
    if (c === 0x00 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

function checkName(name, prefix) {
  if (!isValidName(name)) throw new TypeErrorCtor(`${prefix}: Invalid header name: "${name}"`);
}

function checkValue(name, value, prefix) {
  if (!isValidValue(value)) {
    throw new TypeErrorCtor(`${prefix}: Invalid header value for "${name}"`);
  }
}

function checkGuard(headers, prefix) {
  if (slots.guard(headers) === "immutable") throw new TypeErrorCtor(`${prefix}: Headers are immutable`);
}

// A header list is a flat array [name0, value0, name1, value1, ...].
function listIndexOf(list, lname, from = 0) {
  for (let i = from; i < list.length; i += 2) {
    if (list[i] === lname || StringPrototypeToLowerCase(list[i]) === lname) return i;
  }
  return -1;
}

function listGet(list, lname) {
  let result = null;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === lname || StringPrototypeToLowerCase(list[i]) === lname) {
      result = result === null ? list[i + 1] : `${result}, ${list[i + 1]}`;
    }
  }
  return result;
}

function listDelete(list, lname) {
  for (let i = list.length - 2; i >= 0; i -= 2) {
    if (list[i] === lname || StringPrototypeToLowerCase(list[i]) === lname) {
      ArrayPrototypeSplice(list, i, 2);
    }
  }
}

function listSet(list, name, value) {
  const lname = StringPrototypeToLowerCase(name);
  const first = listIndexOf(list, lname);
  if (first === -1) {
    ArrayPrototypePush(list, name, value);
    return;
  }
  list[first + 1] = value;
  for (let i = list.length - 2; i > first; i -= 2) {
    if (StringPrototypeToLowerCase(list[i]) === lname) ArrayPrototypeSplice(list, i, 2);
  }
}

/** "sort and combine": [[lowercase name, value], ...] */
function sortAndCombine(headers) {
  const cached = slots.sorted(headers);
  if (cached !== null) return cached;
  const list = slots.list(headers);
  const names = [];
  const seen = { __proto__: null };
  for (let i = 0; i < list.length; i += 2) {
    const lname = StringPrototypeToLowerCase(list[i]);
    if (!(lname in seen)) {
      seen[lname] = true;
      ArrayPrototypePush(names, lname);
    }
  }
  ArrayPrototypeSort(names);
  const out = [];
  for (const lname of names) {
    if (lname === "set-cookie") {
      for (let i = 0; i < list.length; i += 2) {
        if (StringPrototypeToLowerCase(list[i]) === lname) ArrayPrototypePush(out, [lname, list[i + 1]]);
      }
    } else {
      ArrayPrototypePush(out, [lname, listGet(list, lname)]);
    }
  }
  slots.setSorted(headers, out);
  return out;
}

function appendChecked(headers, name, value, prefix) {
  value = normalizeValue(value);
  checkName(name, prefix);
  checkValue(name, value, prefix);
  checkGuard(headers, prefix);
  ArrayPrototypePush(slots.list(headers), name, value);
  slots.setSorted(headers, null);
}

function fill(headers, init, prefix) {
  if (webidl.type(init) !== "Object") {
    throw new TypeErrorCtor(`${prefix}: The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.`);
  }
  if (slots.is(init)) {
    const list = slots.list(init);
    for (let i = 0; i < list.length; i += 2) appendChecked(headers, list[i], list[i + 1], prefix);
    return;
  }
  const method = init[SymbolIterator];
  if (method !== undefined && method !== null) {
    if (typeof method !== "function") {
      throw new TypeErrorCtor(`${prefix}: The provided value is not iterable.`);
    }
    const pairs = webidl.createSequenceConverter(
      webidl.createSequenceConverter(webidl.converters.ByteString),
    )(init, prefix, "Argument 1");
    for (const pair of pairs) {
      if (pair.length !== 2) {
        throw new TypeErrorCtor(
          `${prefix}: Invalid header pair: expected a sequence of 2 items, got ${pair.length}.`,
        );
      }
      appendChecked(headers, pair[0], pair[1], prefix);
    }
    return;
  }
  const record = webidl.createRecordConverter(
    webidl.converters.ByteString, webidl.converters.ByteString,
  )(init, prefix, "Argument 1");
  for (const key of ReflectOwnKeys(record)) appendChecked(headers, key, record[key], prefix);
}

class Headers {
  #list = [];
  #guard = "none";
  #sorted = null;

  static {
    slots = {
      is: (h) => h !== null && typeof h === "object" && #list in h,
      list: (h) => h.#list,
      guard: (h) => h.#guard,
      sorted: (h) => h.#sorted,
      setList(h, list) {
        h.#list = list;
        h.#sorted = null;
      },
      setGuard(h, guard) {
        h.#guard = guard;
      },
      setSorted(h, sorted) {
        h.#sorted = sorted;
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
    name = webidl.converters.ByteString(name, prefix, "Argument 1");
    value = webidl.converters.ByteString(value, prefix, "Argument 2");
    appendChecked(this, name, value, prefix);
  }

  delete(name) {
    const prefix = "Failed to execute 'delete' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = webidl.converters.ByteString(name, prefix, "Argument 1");
    checkName(name, prefix);
    checkGuard(this, prefix);
    const lname = StringPrototypeToLowerCase(name);
    if (listIndexOf(this.#list, lname) === -1) return;
    listDelete(this.#list, lname);
    this.#sorted = null;
  }

  get(name) {
    const prefix = "Failed to execute 'get' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = webidl.converters.ByteString(name, prefix, "Argument 1");
    checkName(name, prefix);
    return listGet(this.#list, StringPrototypeToLowerCase(name));
  }

  getSetCookie() {
    brand(this, "Failed to execute 'getSetCookie' on 'Headers'");
    const list = this.#list;
    const out = [];
    for (let i = 0; i < list.length; i += 2) {
      if (StringPrototypeToLowerCase(list[i]) === "set-cookie") ArrayPrototypePush(out, list[i + 1]);
    }
    return out;
  }

  has(name) {
    const prefix = "Failed to execute 'has' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 1, prefix);
    name = webidl.converters.ByteString(name, prefix, "Argument 1");
    checkName(name, prefix);
    return listIndexOf(this.#list, StringPrototypeToLowerCase(name)) !== -1;
  }

  set(name, value) {
    const prefix = "Failed to execute 'set' on 'Headers'";
    brand(this, prefix);
    webidl.requiredArguments(arguments.length, 2, prefix);
    name = webidl.converters.ByteString(name, prefix, "Argument 1");
    value = normalizeValue(webidl.converters.ByteString(value, prefix, "Argument 2"));
    checkName(name, prefix);
    checkValue(name, value, prefix);
    checkGuard(this, prefix);
    listSet(this.#list, name, value);
    this.#sorted = null;
  }

  forEach(callback, thisArg = undefined) {
    const prefix = "Failed to execute 'forEach' on 'Headers'";
    brand(this, prefix);
    if (typeof callback !== "function") {
      throw new TypeErrorCtor(`${prefix}: parameter 1 is not of type 'Function'.`);
    }
    for (let i = 0; ; i++) {
      const pairs = sortAndCombine(this);
      if (i >= pairs.length) break;
      callback.call(thisArg, pairs[i][1], pairs[i][0], this);
    }
  }

  keys() {
    brand(this, "Failed to execute 'keys' on 'Headers'");
    return createIterator(this, "key");
  }

  values() {
    brand(this, "Failed to execute 'values' on 'Headers'");
    return createIterator(this, "value");
  }

  entries() {
    brand(this, "Failed to execute 'entries' on 'Headers'");
    return createIterator(this, "key+value");
  }
}

function brand(self, prefix) {
  if (!slots.is(self)) {
    throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
  }
}

// Headers iterators (Web IDL pair iterators): live over the sorted-and-combined list.
class HeadersIterator {
  #target;
  #index = 0;
  #kind;

  constructor(target, kind) {
    this.#target = target;
    this.#kind = kind;
  }

  next() {
    if (this === null || typeof this !== "object" || !(#target in this)) {
      throw new TypeErrorCtor("next called on an object that is not a Headers iterator");
    }
    const pairs = sortAndCombine(this.#target);
    const index = this.#index;
    if (index >= pairs.length) return { value: undefined, done: true };
    this.#index = index + 1;
    const pair = pairs[index];
    if (this.#kind === "key") return { value: pair[0], done: false };
    if (this.#kind === "value") return { value: pair[1], done: false };
    return { value: [pair[0], pair[1]], done: false };
  }
}
const HeadersIteratorPrototype = HeadersIterator.prototype;
ObjectSetPrototypeOf(HeadersIteratorPrototype, ObjectGetPrototypeOf(ArrayIteratorPrototype));
delete HeadersIteratorPrototype.constructor;
ObjectDefineProperty(HeadersIteratorPrototype, SymbolToStringTag, {
  value: "Headers Iterator", configurable: true,
});
ObjectDefineProperty(HeadersIteratorPrototype, "next", {
  ...ObjectGetOwnPropertyDescriptor(HeadersIteratorPrototype, "next"), enumerable: true,
});

function createIterator(target, kind) {
  return new HeadersIterator(target, kind);
}

webidl.configureInterface(Headers);
ObjectDefineProperty(Headers.prototype, SymbolIterator, {
  value: Headers.prototype.entries, writable: true, enumerable: false, configurable: true,
});

/** Headers over an existing flat list, without validation (lists from the wire/Python). */
function headersFromList(list, guard) {
  const h = new Headers();
  slots.setList(h, list);
  slots.setGuard(h, guard);
  return h;
}

internals.headers = {
  Headers,
  fromList: headersFromList,
  /** The flat header list [name, value, ...] (not a copy). */
  isHeaders: (x) => slots.is(x),
  list: (headers) => slots.list(headers),
  guard: (headers) => slots.guard(headers),
  setGuard: (headers, guard) => slots.setGuard(headers, guard),
  /** A new, independent Headers with the same list. */
  copy: (headers, guard) => headersFromList([...slots.list(headers)], guard),
  fill,
  get: (headers, lname) => listGet(slots.list(headers), lname),
  /** set without validation or guard check, for the runtime's own use */
  setUnchecked(headers, name, value) {
    listSet(slots.list(headers), name, value);
    slots.setSorted(headers, null);
  },
  isValidName,
  isValidValue,
  normalizeValue,
};

internals.exposeGlobal("Headers", Headers);
