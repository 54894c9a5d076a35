// The Web IDL shape of Headers, Request and Response: what idlharness checks.

const interfaces = {
  Headers: {
    length: 0,
    operations: { append: 2, delete: 1, get: 1, getSetCookie: 0, has: 1, set: 2, forEach: 1,
      keys: 0, values: 0, entries: 0 },
    attributes: [],
    statics: {},
    instance: () => new Headers(),
  },
  Request: {
    length: 1,
    operations: { clone: 0, arrayBuffer: 0, blob: 0, bytes: 0, formData: 0, json: 0, text: 0 },
    attributes: ["method", "url", "headers", "destination", "referrer", "referrerPolicy", "mode",
      "credentials", "cache", "redirect", "integrity", "keepalive", "isReloadNavigation",
      "isHistoryNavigation", "signal", "duplex", "body", "bodyUsed"],
    statics: {},
    instance: () => new Request("https://example.com/"),
  },
  Response: {
    length: 0,
    operations: { clone: 0, arrayBuffer: 0, blob: 0, bytes: 0, formData: 0, json: 0, text: 0 },
    // `webSocket`: the Workers API's member (a 101 response's WebSocket; 37_websocket.js).
    attributes: ["type", "url", "redirected", "status", "ok", "statusText", "headers", "body",
      "bodyUsed", "webSocket"],
    statics: { error: 0, redirect: 1, json: 1 },
    instance: () => new Response(),
  },
};

for (const [name, spec] of Object.entries(interfaces)) {
  const iface = globalThis[name];

  test(() => {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_true(desc.writable);
    assert_false(desc.enumerable);
    assert_true(desc.configurable);
    assert_equals(typeof iface, "function");
    assert_equals(iface.name, name);
    assert_equals(iface.length, spec.length);
  }, `${name}: interface object`);

  test(() => {
    const desc = Object.getOwnPropertyDescriptor(iface, "prototype");
    assert_false(desc.writable);
    assert_false(desc.enumerable);
    assert_false(desc.configurable);
    assert_equals(Object.getPrototypeOf(iface.prototype), Object.prototype);
    assert_equals(iface.prototype.constructor, iface);
    assert_false(Object.getOwnPropertyDescriptor(iface.prototype, "constructor").enumerable);
  }, `${name}: interface prototype object`);

  test(() => {
    const desc = Object.getOwnPropertyDescriptor(iface.prototype, Symbol.toStringTag);
    assert_equals(desc.value, name);
    assert_false(desc.writable);
    assert_false(desc.enumerable);
    assert_true(desc.configurable);
    assert_equals(Object.prototype.toString.call(spec.instance()), `[object ${name}]`);
    assert_equals(Object.prototype.toString.call(iface.prototype), `[object ${name}]`);
  }, `${name}: @@toStringTag`);

  test(() => {
    assert_throws_js(TypeError, () => iface());
    assert_throws_js(TypeError, () => iface.call(spec.instance()));
  }, `${name}: cannot be called as a function`);

  test(() => {
    const instance = spec.instance();
    assert_true(instance instanceof iface);
    assert_equals(Object.getPrototypeOf(instance), iface.prototype);
    assert_array_equals(Object.getOwnPropertyNames(instance), [], "no own properties");
    assert_array_equals(Object.getOwnPropertySymbols(instance), []);
  }, `${name}: instances`);

  test(() => {
    class Sub extends iface {
      constructor() {
        if (name === "Request") super("https://example.com/");
        else super();
      }
    }
    const sub = new Sub();
    assert_true(sub instanceof iface);
    assert_true(sub instanceof Sub);
  }, `${name}: can be subclassed`);

  for (const [op, length] of Object.entries(spec.operations)) {
    test(() => {
      const desc = Object.getOwnPropertyDescriptor(iface.prototype, op);
      assert_equals(typeof desc.value, "function");
      assert_true(desc.writable);
      assert_true(desc.enumerable);
      assert_true(desc.configurable);
      assert_equals(desc.value.name, op);
      assert_equals(desc.value.length, length);
      assert_false("prototype" in desc.value, "not a constructor");
    }, `${name}: operation ${op}`);

    test(() => {
      const fn = iface.prototype[op];
      const args = [() => {}, "a", "b"];
      for (const receiver of [undefined, null, {}, 1, iface.prototype]) {
        let threw = false;
        let result;
        try {
          result = fn.apply(receiver, args);
        } catch (e) {
          threw = true;
          assert_true(e instanceof TypeError, `TypeError for ${String(receiver)}`);
        }
        if (!threw) {
          assert_true(result instanceof Promise, `a rejected promise for ${String(receiver)}`);
          result.catch(() => {});
        }
      }
    }, `${name}: operation ${op} checks its receiver`);
  }

  for (const attr of spec.attributes) {
    test(() => {
      const desc = Object.getOwnPropertyDescriptor(iface.prototype, attr);
      assert_equals(typeof desc.get, "function");
      assert_equals(desc.set, undefined, "read-only");
      assert_true(desc.enumerable);
      assert_true(desc.configurable);
      assert_equals(desc.get.name, `get ${attr}`);
      assert_equals(desc.get.length, 0);
      for (const receiver of [undefined, null, {}, iface.prototype]) {
        assert_throws_js(TypeError, () => desc.get.call(receiver), String(receiver));
      }
    }, `${name}: attribute ${attr}`);
  }

  for (const [op, length] of Object.entries(spec.statics)) {
    test(() => {
      const desc = Object.getOwnPropertyDescriptor(iface, op);
      assert_equals(typeof desc.value, "function");
      assert_true(desc.writable);
      assert_true(desc.enumerable);
      assert_true(desc.configurable);
      assert_equals(desc.value.name, op);
      assert_equals(desc.value.length, length);
    }, `${name}: static operation ${op}`);
  }

  test(() => {
    const expected = new Set([...Object.keys(spec.operations), ...spec.attributes, "constructor"]);
    for (const key of Object.getOwnPropertyNames(iface.prototype)) {
      assert_true(expected.has(key), `unexpected member ${key}`);
    }
  }, `${name}: no members beyond the IDL`);
}

test(() => {
  const desc = Object.getOwnPropertyDescriptor(Headers.prototype, Symbol.iterator);
  assert_equals(desc.value, Headers.prototype.entries);
  assert_true(desc.writable);
  assert_false(desc.enumerable);
  assert_true(desc.configurable);
}, "Headers: @@iterator is entries");

test(() => {
  const it = new Headers().entries();
  const proto = Object.getPrototypeOf(it);
  const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  assert_equals(Object.getPrototypeOf(proto), iteratorPrototype);
  assert_equals(Object.getPrototypeOf(new Headers().keys()), proto, "one prototype for every kind");
  assert_array_equals(Object.getOwnPropertyNames(proto), ["next"]);
  const next = Object.getOwnPropertyDescriptor(proto, "next");
  assert_true(next.writable);
  assert_true(next.enumerable);
  assert_true(next.configurable);
  assert_equals(next.value.length, 0);
  assert_equals(next.value.name, "next");
  const tag = Object.getOwnPropertyDescriptor(proto, Symbol.toStringTag);
  assert_equals(tag.value, "Headers Iterator");
  assert_false(tag.writable);
  assert_false(tag.enumerable);
  assert_true(tag.configurable);
  assert_equals(it[Symbol.iterator](), it, "iterators are iterable");
}, "Headers: the iterator prototype object");

test(() => {
  const Request_ = Request;
  const Response_ = Response;
  const Headers_ = Headers;
  globalThis.Headers = function () { throw new Error("patched"); };
  try {
    const r = new Request_("https://example.com/", { headers: { a: "1" } });
    assert_true(r.headers instanceof Headers_);
    const res = new Response_("x", { headers: [["b", "2"]] });
    assert_equals(res.headers.get("b"), "2");
  } finally {
    globalThis.Headers = Headers_;
  }
}, "replacing the Headers global does not affect Request and Response");

test(() => {
  const saved = {};
  for (const key of ["push", "slice", "sort", "splice", Symbol.iterator]) saved[key] = Array.prototype[key];
  const savedNext = Object.getPrototypeOf([][Symbol.iterator]()).next;
  for (const key of ["push", "slice", "sort", "splice"]) Array.prototype[key] = () => { throw new Error("patched " + key); };
  try {
    const h = new Headers([["b", "2"], ["a", "1"]]);
    h.append("c", "3");
    h.set("a", "x");
    h.delete("b");
    const keys = [];
    h.forEach((v, k) => { keys[keys.length] = k; });
    assert_equals(keys.join(), "a,c");
    const r = new Request("https://example.com/", { method: "POST", body: "x", headers: h });
    assert_equals(r.headers.get("c"), "3");
    r.clone();
    new Response("y", { headers: h }).clone();
  } finally {
    for (const key of Object.keys(saved)) Array.prototype[key] = saved[key];
    Array.prototype[Symbol.iterator] = saved[Symbol.iterator];
    Object.getPrototypeOf([][Symbol.iterator]()).next = savedNext;
  }
}, "patched Array.prototype methods do not break the fetch classes");
