// DOMException: Web IDL's DOMException interface and its custom bindings.

test(() => {
  const e = new DOMException();
  assert_equals(e.name, "Error");
  assert_equals(e.message, "");
  assert_equals(e.code, 0);
  assert_equals(e.cause, undefined);
}, "new DOMException() has name Error, empty message, code 0");

test(() => {
  const e = new DOMException("boom", "NotSupportedError");
  assert_equals(e.name, "NotSupportedError");
  assert_equals(e.message, "boom");
  assert_equals(e.code, DOMException.NOT_SUPPORTED_ERR);
}, "constructor takes message and name");

test(() => {
  assert_equals(new DOMException(null).message, "null");
  assert_equals(new DOMException(undefined).message, "");
  assert_equals(new DOMException(12).message, "12");
  assert_equals(new DOMException("m", undefined).name, "Error");
  assert_equals(new DOMException("m", 42).name, "42");
}, "message and name are converted to strings, undefined means the default");

test(() => {
  const e = new DOMException("m", { name: "TimeoutError", cause: "why" });
  assert_equals(e.name, "TimeoutError");
  assert_equals(e.code, 23);
  assert_equals(e.cause, "why");
  assert_equals(new DOMException("m", {}).name, "Error");
  assert_equals(new DOMException("m", null).name, "Error");
}, "the second argument may be an options dictionary with name and cause");

test(() => {
  assert_throws_js(TypeError, () => DOMException());
  assert_throws_js(TypeError, () => DOMException("m", "AbortError"));
}, "cannot be called without new");

test(() => {
  const err = { name: "thrown" };
  assert_throws_exactly(err, () => new DOMException({ toString() { throw err; } }));
  assert_throws_js(TypeError, () => new DOMException(Symbol("s")));
}, "message conversion errors propagate");

test(() => {
  const e = new DOMException("message", "name");
  for (const key of ["name", "message", "code", "cause"]) {
    assert_false(Object.prototype.hasOwnProperty.call(e, key), `${key} is not own`);
    const desc = Object.getOwnPropertyDescriptor(DOMException.prototype, key);
    assert_equals(typeof desc.get, "function", `${key} is a getter`);
    assert_equals(desc.set, undefined, `${key} has no setter`);
    assert_true(desc.enumerable, `${key} is enumerable`);
    assert_true(desc.configurable, `${key} is configurable`);
  }
}, "name, message, code and cause are prototype getters");

test(() => {
  for (const key of ["name", "message", "code", "cause"]) {
    const getter = Object.getOwnPropertyDescriptor(DOMException.prototype, key).get;
    assert_throws_js(TypeError, () => getter.call({}), key);
    assert_throws_js(TypeError, () => getter.call(new Error("x")), key);
    assert_throws_js(TypeError, () => getter.call(Object.create(DOMException.prototype)), key);
  }
}, "getters perform brand checks");

test(() => {
  assert_equals(Object.getPrototypeOf(DOMException.prototype), Error.prototype);
  assert_equals(Object.getPrototypeOf(DOMException), Function.prototype);
  assert_true(new DOMException() instanceof Error);
  assert_true(new DOMException() instanceof DOMException);
}, "the prototype inherits from Error.prototype, the constructor from Function.prototype");

test(() => {
  assert_true(Error.isError(new DOMException()));
}, "instances are real errors (Error.isError)");

test(() => {
  const e = new DOMException("message", "name");
  assert_equals(Object.prototype.toString.call(e), "[object DOMException]");
  assert_equals(Object.prototype.toString.call(DOMException.prototype), "[object DOMException]");
}, "class string is DOMException");

test(() => {
  const e = new DOMException("message", "name");
  assert_false(Object.prototype.hasOwnProperty.call(DOMException.prototype, "toString"));
  assert_equals(e.toString(), "name: message");
  Object.defineProperty(e, "name", { value: "new name" });
  Object.defineProperty(e, "message", { value: "new message" });
  assert_equals(e.toString(), "new name: new message");
}, "toString is inherited from Error.prototype");

test(() => {
  assert_throws_js(TypeError, () => DOMException.prototype.toString());
}, "DOMException.prototype.toString() throws because of the brand checks");

test(() => {
  const e = new DOMException("message", "InvalidCharacterError");
  Object.defineProperty(e, "name", { value: "WrongDocumentError" });
  assert_equals(e.code, 5);
}, "code is not affected by shadowing the name property");

test(() => {
  let e;
  try {
    throw new DOMException("message", "SyntaxError");
  } catch (err) {
    e = err;
  }
  assert_equals(typeof e.stack, "string");
  assert_true(e.stack.startsWith("SyntaxError: message"), e.stack);
}, "instances have a stack that starts with name and message");

const NAMES_AND_CODES = [
  ["IndexSizeError", 1], ["HierarchyRequestError", 3], ["WrongDocumentError", 4],
  ["InvalidCharacterError", 5], ["NoModificationAllowedError", 7], ["NotFoundError", 8],
  ["NotSupportedError", 9], ["InUseAttributeError", 10], ["InvalidStateError", 11],
  ["SyntaxError", 12], ["InvalidModificationError", 13], ["NamespaceError", 14],
  ["InvalidAccessError", 15], ["TypeMismatchError", 17], ["SecurityError", 18],
  ["NetworkError", 19], ["AbortError", 20], ["URLMismatchError", 21],
  ["QuotaExceededError", 22], ["TimeoutError", 23], ["InvalidNodeTypeError", 24],
  ["DataCloneError", 25], ["DOMStringSizeError", 0], ["NoDataAllowedError", 0],
  ["ValidationError", 0], ["EncodingError", 0], ["NotReadableError", 0],
  ["UnknownError", 0], ["ConstraintError", 0], ["DataError", 0], ["OperationError", 0],
  ["NotAllowedError", 0], ["Error", 0], ["abortError", 0],
];

for (const [name, code] of NAMES_AND_CODES) {
  test(() => {
    const e = new DOMException("msg", name);
    assert_equals(e.name, name);
    assert_equals(e.code, code);
  }, `name ${name} has legacy code ${code}`);
}

const CONSTANTS = [
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

test(() => {
  for (const [key, value] of CONSTANTS) {
    for (const holder of [DOMException, DOMException.prototype, new DOMException()]) {
      assert_equals(holder[key], value, key);
    }
    for (const holder of [DOMException, DOMException.prototype]) {
      const desc = Object.getOwnPropertyDescriptor(holder, key);
      assert_false(desc.writable, `${key} writable`);
      assert_true(desc.enumerable, `${key} enumerable`);
      assert_false(desc.configurable, `${key} configurable`);
    }
  }
}, "legacy code constants are on the constructor and the prototype, read-only");

test(() => {
  class MyError extends DOMException {
    constructor() {
      super("sub", "AbortError");
    }
  }
  const e = new MyError();
  assert_true(e instanceof MyError);
  assert_true(e instanceof DOMException);
  assert_equals(e.name, "AbortError");
  assert_equals(e.code, 20);
}, "DOMException can be subclassed");

test(() => {
  const desc = Object.getOwnPropertyDescriptor(globalThis, "DOMException");
  assert_true(desc.writable);
  assert_false(desc.enumerable);
  assert_true(desc.configurable);
  assert_equals(DOMException.length, 0);
  assert_equals(DOMException.name, "DOMException");
}, "global property and constructor shape follow Web IDL");
