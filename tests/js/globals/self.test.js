// HTML WorkerGlobalScope: `readonly attribute WorkerGlobalScope self`.
test(() => {
  assert_equals(self, globalThis);
  assert_equals(self.self, globalThis);
  assert_equals(typeof self.addEventListener, "function");
}, "self is the global object");

test(() => {
  const desc = Object.getOwnPropertyDescriptor(globalThis, "self");
  assert_equals(typeof desc.get, "function", "an accessor");
  assert_equals(desc.set, undefined, "readonly");
  assert_true(desc.enumerable);
  assert_true(desc.configurable);
  assert_equals(desc.get.call(undefined), globalThis);
  assert_equals(desc.get.name, "get self");
}, "self is a readonly accessor attribute");

test(() => {
  assert_throws_js(TypeError, () => {
    "use strict";
    self = 1;
  });
  assert_equals(self, globalThis);
}, "assigning self in strict code throws and leaves it alone");
