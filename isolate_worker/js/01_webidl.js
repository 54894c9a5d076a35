// Web IDL plumbing shared by every Web API file: how globals are exposed, how classes are
// made to look like IDL interfaces, and the argument conversions the standards name.
// Exports: internals.exposeGlobal, internals.webidl.

const {
  ArrayIteratorPrototype,
  ArrayPrototypePush,
  FunctionPrototypeCall,
  MathFloor,
  MathMin,
  MathMax,
  MathRound,
  MathTrunc,
  NumberIsFinite,
  NumberIsNaN,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetOwnPropertyDescriptors,
  ObjectGetPrototypeOf,
  ObjectSetPrototypeOf,
  ReflectOwnKeys,
  SafeWeakMap,
  String: StringCtor,
  SymbolIterator,
  SymbolToStringTag,
  TypeError: TypeErrorCtor,
} = primordials;

// The global object is the object of a [Global] interface (WorkerGlobalScope), so Web IDL
// puts three kinds of properties on it ("Interface object", "Namespaces", "Attributes",
// "Operations" in its JavaScript binding):
//   * interface objects (Event, Headers, ...) and namespaces (console): data properties,
//     writable, configurable, not enumerable (exposeGlobal);
//   * the interface's regular operations (setTimeout, atob, fetch, ...): data properties on
//     the global itself, writable, enumerable and configurable (exposeGlobalOperation);
//   * its regular attributes (self, performance, ...): accessor properties on the global
//     itself, enumerable and configurable (exposeGlobalAttribute).

/** Expose an interface object or a namespace: writable, configurable, not enumerable. */
internals.exposeGlobal = function exposeGlobal(name, value) {
  ObjectDefineProperty(globalThis, name, {
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
};

/** Expose several interface objects at once: exposeGlobals({ URL, URLSearchParams }). */
internals.exposeGlobals = function exposeGlobals(record) {
  for (const name of ReflectOwnKeys(record)) internals.exposeGlobal(name, record[name]);
};

/**
 * Expose `fn` as a regular operation of the global scope: a data property of the global
 * object itself, writable, enumerable and configurable (no operation of the global scope is
 * [LegacyUnforgeable]).
 */
internals.exposeGlobalOperation = function exposeGlobalOperation(name, fn) {
  ObjectDefineProperty(globalThis, name, {
    value: fn,
    writable: true,
    configurable: true,
    enumerable: true,
  });
};

/** Expose several operations at once: exposeGlobalOperations({ atob, btoa }). */
internals.exposeGlobalOperations = function exposeGlobalOperations(record) {
  for (const name of ReflectOwnKeys(record)) internals.exposeGlobalOperation(name, record[name]);
};

/** Web IDL's receiver check for a member of the global scope: `this`, or the global. */
function globalReceiver(thisValue, what) {
  if (thisValue === undefined || thisValue === null) return globalThis;
  if (thisValue !== globalThis) throw new TypeErrorCtor(`${what}: Illegal invocation`);
  return thisValue;
}

/**
 * Expose a regular attribute of the global scope: an accessor property of the global object
 * itself, enumerable and configurable, whose getter (named "get <name>", length 0) returns
 * `get()`. A readonly attribute has no setter. A [Replaceable] one (`replaceable: true`) has
 * a setter ("set <name>", length 1) that replaces the accessor by an own data property
 * holding the value (Web IDL "[Replaceable]": CreateDataPropertyOrThrow). Called on
 * anything but the global object (or undefined / null, which stand for it), the getter and
 * setter throw TypeError.
 */
internals.exposeGlobalAttribute = function exposeGlobalAttribute(name, get, options = {}) {
  const what = `Failed to read the '${name}' property from 'WorkerGlobalScope'`;
  const getter = ObjectGetOwnPropertyDescriptor({
    get [name]() {
      globalReceiver(this, what);
      return get();
    },
  }, name).get;
  let setter;
  if (options.replaceable) {
    const setWhat = `Failed to set the '${name}' property on 'WorkerGlobalScope'`;
    setter = ObjectGetOwnPropertyDescriptor({
      set [name](value) {
        const target = globalReceiver(this, setWhat);
        ObjectDefineProperty(target, name, {
          __proto__: null, value, writable: true, enumerable: true, configurable: true,
        });
      },
    }, name).set;
  }
  ObjectDefineProperty(globalThis, name, {
    get: getter,
    set: setter,
    enumerable: true,
    configurable: true,
  });
};

const webidl = {};
internals.webidl = webidl;

// The runtime's interfaces: prototype -> interface name. Every class made an interface by
// configureInterface is registered, so an object whose prototype chain reaches one is a
// platform object of that interface (or of a subclass of it): structuredClone rejects those
// that are not serializable instead of copying them as empty plain objects. (An ordinary
// object made with Object.create(URL.prototype) is rejected too, where a browser would
// copy it: instances carry no common brand the check could read instead.)
const interfacePrototypes = new SafeWeakMap();

/**
 * Make a class look like a Web IDL interface: operations and attributes on the prototype
 * are enumerable, `prototype` is not writable, and Symbol.toStringTag names the class.
 */
webidl.configureInterface = function configureInterface(klass, name = klass.name) {
  const proto = klass.prototype;
  interfacePrototypes.set(proto, name);
  const descs = ObjectGetOwnPropertyDescriptors(proto);
  for (const key of ReflectOwnKeys(descs)) {
    if (key === "constructor" || typeof key === "symbol") continue;
    const desc = descs[key];
    if (!desc.enumerable) {
      desc.enumerable = true;
      ObjectDefineProperty(proto, key, desc);
    }
  }
  // Static operations are enumerable too.
  const sdescs = ObjectGetOwnPropertyDescriptors(klass);
  for (const key of ReflectOwnKeys(sdescs)) {
    if (key === "prototype" || key === "length" || key === "name" || typeof key === "symbol") {
      continue;
    }
    const desc = sdescs[key];
    if (!desc.enumerable) {
      desc.enumerable = true;
      ObjectDefineProperty(klass, key, desc);
    }
  }
  if (!ObjectGetOwnPropertyDescriptor(proto, SymbolToStringTag)) {
    ObjectDefineProperty(proto, SymbolToStringTag, {
      value: name,
      writable: false,
      enumerable: false,
      configurable: true,
    });
  }
  return klass;
};

/**
 * The name of the runtime interface `value` is an instance of (its nearest interface
 * prototype), or null for objects that are not platform objects.
 */
webidl.interfaceOf = function interfaceOf(value) {
  let proto = ObjectGetPrototypeOf(value);
  while (proto !== null) {
    const name = interfacePrototypes.get(proto);
    if (name !== undefined) return name;
    proto = ObjectGetPrototypeOf(proto);
  }
  return null;
};

/** A TypeError whose message names where it happened: "Failed to execute 'x' on 'Y': ..." */
webidl.makeException = function makeException(ErrorType, message, prefix, context) {
  let text = message;
  if (context) text = `${context} ${text}`;
  if (prefix) text = `${prefix}: ${text}`;
  return new ErrorType(text);
};

webidl.illegalConstructor = function illegalConstructor() {
  throw new TypeErrorCtor("Illegal constructor");
};

webidl.requiredArguments = function requiredArguments(length, required, prefix) {
  if (length < required) {
    throw new TypeErrorCtor(
      `${prefix}: ${required} argument${required === 1 ? "" : "s"} required, but only ${length} present.`,
    );
  }
};

webidl.type = function type(v) {
  if (v === null) return "Null";
  switch (typeof v) {
    case "undefined": return "Undefined";
    case "boolean": return "Boolean";
    case "number": return "Number";
    case "string": return "String";
    case "symbol": return "Symbol";
    case "bigint": return "BigInt";
    default: return "Object"; // object and function
  }
};

const converters = {};
webidl.converters = converters;

converters.any = (v) => v;

converters.boolean = (v) => !!v;

converters.object = (v, prefix, context) => {
  if (webidl.type(v) !== "Object") {
    throw webidl.makeException(TypeErrorCtor, "is not an object.", prefix, context);
  }
  return v;
};

converters.DOMString = (v, prefix, context, opts = {}) => {
  if (typeof v === "string") return v;
  if (v === null && opts.treatNullAsEmptyString) return "";
  if (typeof v === "symbol") {
    throw webidl.makeException(
      TypeErrorCtor, "is a symbol, which cannot be converted to a string.", prefix, context,
    );
  }
  return StringCtor(v);
};

// ByteString: a string whose code units are all <= 0xFF.
converters.ByteString = (v, prefix, context) => {
  const s = converters.DOMString(v, prefix, context);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) {
      throw webidl.makeException(
        TypeErrorCtor,
        `is not a valid ByteString: character at index ${i} has a value greater than 255.`,
        prefix,
        context,
      );
    }
  }
  return s;
};

// USVString: lone surrogates become U+FFFD.
converters.USVString = (v, prefix, context) => {
  const s = converters.DOMString(v, prefix, context);
  return typeof s.toWellFormed === "function" ? s.toWellFormed() : s;
};

function censorNegativeZero(x) {
  return x === 0 ? 0 : x;
}

function integerPart(n) {
  return censorNegativeZero(MathTrunc(n));
}

function evenRound(x) {
  // Round half to even, as Web IDL's [Clamp] requires.
  if ((x > 0 && x % 1 === 0.5 && (x & 1) === 0) ||
      (x < 0 && x % 1 === -0.5 && (x & 1) === 1)) {
    return censorNegativeZero(MathFloor(x));
  }
  return censorNegativeZero(MathRound(x));
}

function makeIntegerConverter(bitLength, signed) {
  // Web IDL: 64-bit integers are limited to the doubles that are exact (2^53 - 1).
  let upperBound = signed ? 2 ** (bitLength - 1) - 1 : 2 ** bitLength - 1;
  let lowerBound = signed ? -(2 ** (bitLength - 1)) : 0;
  if (bitLength === 64) {
    upperBound = 2 ** 53 - 1;
    lowerBound = signed ? -(2 ** 53) + 1 : 0;
  }
  const twoToTheBitLength = 2 ** bitLength;
  const twoToOneLessThanTheBitLength = 2 ** (bitLength - 1);
  return (v, prefix, context, opts = {}) => {
    let x = +v;
    if (typeof v === "bigint") {
      throw webidl.makeException(TypeErrorCtor, "is a BigInt.", prefix, context);
    }
    x = censorNegativeZero(x);
    if (opts.enforceRange) {
      if (!NumberIsFinite(x)) {
        throw webidl.makeException(TypeErrorCtor, "is not a finite number.", prefix, context);
      }
      x = integerPart(x);
      if (x < lowerBound || x > upperBound) {
        throw webidl.makeException(
          TypeErrorCtor, `is outside the accepted range of ${lowerBound} to ${upperBound}, inclusive.`,
          prefix, context,
        );
      }
      return x;
    }
    if (!NumberIsNaN(x) && opts.clamp) {
      x = MathMin(MathMax(x, lowerBound), upperBound);
      return evenRound(x);
    }
    if (!NumberIsFinite(x) || x === 0) return 0;
    x = integerPart(x);
    if (x >= lowerBound && x <= upperBound) return x;
    x = x % twoToTheBitLength;
    if (x < 0) x += twoToTheBitLength;
    if (signed && x >= twoToOneLessThanTheBitLength) return x - twoToTheBitLength;
    return x;
  };
}

converters.byte = makeIntegerConverter(8, true);
converters.octet = makeIntegerConverter(8, false);
converters.short = makeIntegerConverter(16, true);
converters["unsigned short"] = makeIntegerConverter(16, false);
converters.long = makeIntegerConverter(32, true);
converters["unsigned long"] = makeIntegerConverter(32, false);
converters["long long"] = makeIntegerConverter(64, true);
converters["unsigned long long"] = makeIntegerConverter(64, false);

converters["unrestricted double"] = (v, prefix, context) => {
  if (typeof v === "bigint") {
    throw webidl.makeException(TypeErrorCtor, "is a BigInt.", prefix, context);
  }
  return +v;
};

converters.double = (v, prefix, context) => {
  const x = converters["unrestricted double"](v, prefix, context);
  if (!NumberIsFinite(x)) {
    throw webidl.makeException(TypeErrorCtor, "is not a finite floating-point value.", prefix, context);
  }
  return x;
};

/** An IDL enumeration: the value, converted to a string, must be one of `values`. */
webidl.createEnumConverter = function createEnumConverter(name, values) {
  return (v, prefix, context) => {
    const s = converters.DOMString(v, prefix, context);
    for (let i = 0; i < values.length; i++) {
      if (values[i] === s) return s;
    }
    throw webidl.makeException(
      TypeErrorCtor, `The provided value '${s}' is not a valid enum value of type ${name}.`,
      prefix, context,
    );
  };
};

// Dictionary converter -> its member groups, most-base dictionary first:
// [{ name, members (sorted) }, ...]. A derived dictionary's converter extends its parent's.
const dictionaryGroups = new SafeWeakMap();

function byKey(a, b) {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * A dictionary converter. `members` is the dictionary's own members, a list of
 *   { key, converter, required?, defaultValue? }
 * and `parent`, for a dictionary that inherits (`dictionary B : A`), the converter made
 * here for A. Web IDL ("converting a JavaScript value to a dictionary") reads the members
 * of the most-base dictionary first and those of each derived one after, each dictionary's
 * own members in lexicographic order: not all of them sorted together.
 */
webidl.createDictionaryConverter = function createDictionaryConverter(name, members, parent) {
  const own = { name, members: [...members].sort(byKey) };
  let groups = [own];
  if (parent !== undefined && parent !== null) {
    const inherited = dictionaryGroups.get(parent);
    if (inherited === undefined) {
      throw new TypeErrorCtor(`${name}: the parent is not a dictionary converter`);
    }
    groups = [...inherited, own];
  }
  const converter = (v, prefix, context) => {
    const t = webidl.type(v);
    if (t !== "Undefined" && t !== "Null" && t !== "Object") {
      throw webidl.makeException(
        TypeErrorCtor, `can not be converted to '${name}' because it is not an object.`,
        prefix, context,
      );
    }
    // A record, not an ordinary object: a member that was not given is absent, whatever a
    // script put on Object.prototype.
    const result = { __proto__: null };
    for (let g = 0; g < groups.length; g++) {
      const { name: declaredIn, members: list } = groups[g];
      for (let i = 0; i < list.length; i++) {
        const member = list[i];
        const raw = t === "Object" ? v[member.key] : undefined;
        if (raw !== undefined) {
          result[member.key] = member.converter(
            raw, prefix, `'${member.key}' of '${declaredIn}'${context ? ` (${context})` : ""}`,
          );
        } else if (member.required) {
          throw webidl.makeException(
            TypeErrorCtor,
            `can not be converted to '${name}' because '${member.key}' is required in '${declaredIn}'.`,
            prefix, context,
          );
        } else if ("defaultValue" in member) {
          result[member.key] = member.defaultValue;
        }
      }
    }
    return result;
  };
  dictionaryGroups.set(converter, groups);
  return converter;
};

/** sequence<T> from any iterable. */
webidl.createSequenceConverter = function createSequenceConverter(converter) {
  return (v, prefix, context) => {
    if (webidl.type(v) !== "Object") {
      throw webidl.makeException(TypeErrorCtor, "can not be converted to sequence.", prefix, context);
    }
    const method = v[SymbolIterator];
    if (typeof method !== "function") {
      throw webidl.makeException(TypeErrorCtor, "can not be converted to sequence.", prefix, context);
    }
    const iter = method.call(v);
    const out = [];
    for (;;) {
      const res = iter.next();
      if (webidl.type(res) !== "Object") {
        throw webidl.makeException(TypeErrorCtor, "iterator result is not an object.", prefix, context);
      }
      if (res.done) break;
      ArrayPrototypePush(out, converter(res.value, prefix, context));
    }
    return out;
  };
};

/** Converter that checks brand by `instanceof`-free internal slot lookup. */
webidl.createInterfaceConverter = function createInterfaceConverter(name, isInstance) {
  return (v, prefix, context) => {
    if (!isInstance(v)) {
      throw webidl.makeException(TypeErrorCtor, `is not of type '${name}'.`, prefix, context);
    }
    return v;
  };
};

const IteratorPrototype = ObjectGetPrototypeOf(ArrayIteratorPrototype);
const KEY = 0;
const VALUE = 1;
const KEY_VALUE = 2;

/**
 * A Web IDL pair iterator (`iterable<K, V>`): the interface's default iterator objects and
 * its forEach. `pairsOf(target)` gives the target's current list of [key, value] pairs; it
 * is read again at every step, so iterators and forEach are live over the list. The
 * iterators share one prototype, which inherits from %IteratorPrototype% and has the
 * toStringTag "<name> Iterator"; its `next` throws TypeError(`nextError`) when called on
 * anything else. Returns { prototype, next, keys(target), values(target), entries(target),
 * forEach(target, callback, thisArg) }; the interface makes its own checks first.
 */
webidl.createPairIterator = function createPairIterator(name, pairsOf, nextError) {
  class PairIterator {
    #target;
    #kind;
    #index = 0;

    constructor(target, kind) {
      this.#target = target;
      this.#kind = kind;
    }

    next() {
      if (typeof this !== "object" || this === null || !(#target in this)) {
        throw new TypeErrorCtor(nextError);
      }
      const pairs = pairsOf(this.#target);
      const index = this.#index;
      if (index >= pairs.length) return { value: undefined, done: true };
      this.#index = index + 1;
      const pair = pairs[index];
      if (this.#kind === KEY) return { value: pair[0], done: false };
      if (this.#kind === VALUE) return { value: pair[1], done: false };
      return { value: [pair[0], pair[1]], done: false };
    }
  }
  const prototype = PairIterator.prototype;
  const next = prototype.next;
  ObjectSetPrototypeOf(prototype, IteratorPrototype);
  delete prototype.constructor;
  ObjectDefineProperty(prototype, SymbolToStringTag, {
    value: `${name} Iterator`, writable: false, enumerable: false, configurable: true,
  });
  ObjectDefineProperty(prototype, "next", {
    value: next, writable: true, enumerable: true, configurable: true,
  });
  return {
    prototype,
    next,
    keys: (target) => new PairIterator(target, KEY),
    values: (target) => new PairIterator(target, VALUE),
    entries: (target) => new PairIterator(target, KEY_VALUE),
    forEach(target, callback, thisArg) {
      for (let i = 0; ; i++) {
        const pairs = pairsOf(target);
        if (i >= pairs.length) return;
        const pair = pairs[i];
        FunctionPrototypeCall(callback, thisArg, pair[1], pair[0], target);
      }
    },
  };
};

// Host hooks. The bridge (9x_*.js, loaded last) replaces them when the runtime runs in a
// worker; these defaults keep every runtime file usable on a bare isolate (JS unit tests).
/** Called at the start of every task the runtime runs (timer, I/O event): the CPU watchdog. */
internals.taskHook = () => {};
/**
 * Called with what a callback the runtime invokes and then forgets returned (a timer, a
 * queueMicrotask callback, an event listener): a promise there is watched for an unhandled
 * rejection (92_global_scope.js).
 */
internals.trackCallbackResult = () => {};
/** Report an exception nobody caught (a timer callback that threw, ...). */
internals.reportException = (e) => {
  internals.lastReportedException = e;
};
