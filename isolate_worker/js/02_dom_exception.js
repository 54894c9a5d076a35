// DOMException (Web IDL standard, "DOMException custom bindings").
//
// An instance is a real Error object (it has [[ErrorData]], a `stack`, and
// Error.isError(e) is true) whose prototype chain is DOMException.prototype ->
// Error.prototype, while the DOMException constructor itself inherits from
// Function.prototype. name, message, code and cause are brand-checked getters on the
// prototype, never own properties of the instance.
// Exports: internals.DOMException, internals.domException.

const {
  Error: ErrorCtor,
  Function: FunctionCtor,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectSetPrototypeOf,
  ReflectConstruct,
  ReflectDeleteProperty,
  SafeWeakMap,
  TypeError: TypeErrorCtor,
} = primordials;

const { converters } = internals.webidl;

// The error names table: name -> legacy code (0 for names without one).
const ERROR_CODES = ObjectFreeze({
  __proto__: null,
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InUseAttributeError: 10,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
});

// The legacy code constants, exposed on the constructor and on the prototype.
const LEGACY_CONSTANTS = [
  ["INDEX_SIZE_ERR", 1], ["DOMSTRING_SIZE_ERR", 2], ["HIERARCHY_REQUEST_ERR", 3],
  ["WRONG_DOCUMENT_ERR", 4], ["INVALID_CHARACTER_ERR", 5], ["NO_DATA_ALLOWED_ERR", 6],
  ["NO_MODIFICATION_ALLOWED_ERR", 7], ["NOT_FOUND_ERR", 8], ["NOT_SUPPORTED_ERR", 9],
  ["INUSE_ATTRIBUTE_ERR", 10], ["INVALID_STATE_ERR", 11], ["SYNTAX_ERR", 12],
  ["INVALID_MODIFICATION_ERR", 13], ["NAMESPACE_ERR", 14], ["INVALID_ACCESS_ERR", 15],
  ["VALIDATION_ERR", 16], ["TYPE_MISMATCH_ERR", 17], ["SECURITY_ERR", 18],
  ["NETWORK_ERR", 19], ["ABORT_ERR", 20], ["URL_MISMATCH_ERR", 21],
  ["QUOTA_EXCEEDED_ERR", 22], ["TIMEOUT_ERR", 23], ["INVALID_NODE_TYPE_ERR", 24],
  ["DATA_CLONE_ERR", 25],
];

// Internal slots of each DOMException: { name, message, cause }.
const slots = new SafeWeakMap();

function getSlots(self, member) {
  const s = typeof self === "object" && self !== null ? slots.get(self) : undefined;
  if (s === undefined) {
    throw new TypeErrorCtor(
      `Failed to read the '${member}' property from 'DOMException': Illegal invocation`,
    );
  }
  return s;
}

const optionsConverter = internals.webidl.createDictionaryConverter("DOMExceptionOptions", [
  { key: "cause", converter: converters.any },
  { key: "name", converter: converters.DOMString, defaultValue: "Error" },
]);

const prefix = "Failed to construct 'DOMException'";

class DOMException {
  constructor(message = undefined, options = undefined) {
    const msg = message === undefined ? "" : converters.DOMString(message, prefix, "Argument 1");
    let name = "Error";
    let cause;
    // (DOMExceptionOptions or DOMString): null, undefined and objects are the dictionary,
    // anything else is converted to the name.
    if (options === undefined || options === null ||
        typeof options === "object" || typeof options === "function") {
      const dict = optionsConverter(options, prefix, "Argument 2");
      name = dict.name;
      cause = dict.cause;
    } else {
      name = converters.DOMString(options, prefix, "Argument 2");
    }
    // An Error object, so the instance has [[ErrorData]] and a stack; new.target keeps
    // subclasses working. V8 takes the stack's header message from the constructor's
    // argument; the own `message` property that creates is removed again.
    const self = ReflectConstruct(ErrorCtor, [msg], new.target);
    ReflectDeleteProperty(self, "message");
    slots.set(self, { name, message: msg, cause });
    return self;
  }

  get name() {
    return getSlots(this, "name").name;
  }

  get message() {
    return getSlots(this, "message").message;
  }

  get code() {
    const code = ERROR_CODES[getSlots(this, "code").name];
    return code === undefined ? 0 : code;
  }

  get cause() {
    return getSlots(this, "cause").cause;
  }
}

internals.webidl.configureInterface(DOMException);
ObjectSetPrototypeOf(DOMException.prototype, ErrorCtor.prototype);
// Web IDL: the interface object inherits from Function.prototype, not from Error.
ObjectSetPrototypeOf(DOMException, FunctionCtor.prototype);

for (const [key, value] of LEGACY_CONSTANTS) {
  const desc = { value, writable: false, enumerable: true, configurable: false };
  ObjectDefineProperty(DOMException, key, desc);
  ObjectDefineProperty(DOMException.prototype, key, desc);
}

/** Whether `value` is a DOMException made by the constructor (not a look-alike). */
function isDOMException(value) {
  return typeof value === "object" && value !== null && slots.has(value);
}

/** The internal name/message (unaffected by shadowing properties), for serialization. */
function getData(exception) {
  const s = slots.get(exception);
  return { name: s.name, message: s.message };
}

internals.DOMException = DOMException;
internals.domException = {
  ERROR_CODES,
  isDOMException,
  getData,
  /** A new DOMException: internals.domException.create("bad", "SyntaxError"). */
  create(message, name) {
    return new DOMException(message, name);
  },
};
internals.exposeGlobal("DOMException", DOMException);
