// A small test harness for JavaScript tests run inside the isoflow isolate.
//
// Its API is a subset of the web-platform-tests' testharness.js, so tests ported from WPT
// (and tests written by us in the same style) run unchanged:
//   test(fn, name), promise_test(fn, name), async_test(fn, name)
//   assert_true/false/equals/not_equals/array_equals/throws_js/throws_dom/..., promise_rejects_*
//   t.step_func, t.step_func_done, t.unreached_func, t.step_timeout, t.add_cleanup, t.done
// Tests are registered when the file is evaluated and run one at a time, in file order,
// when Python asks (tests/js/conftest.py): each becomes its own pytest case.
/* eslint-disable no-unused-vars */
"use strict";

(function () {
  const registry = [];
  const byName = new Map();
  let current = null;

  class AssertionError extends Error {
    constructor(message) {
      super(message);
      this.name = "AssertionError";
    }
  }

  function fmt(v) {
    try {
      if (typeof v === "string") return JSON.stringify(v);
      if (typeof v === "number" && Object.is(v, -0)) return "-0";
      if (typeof v === "bigint") return `${v}n`;
      if (typeof v === "symbol") return v.toString();
      if (typeof v === "function") return `function ${v.name || "(anonymous)"}`;
      if (v instanceof Error) return `${v.name}: ${v.message}`;
      if (Array.isArray(v)) return `[${v.map(fmt).join(", ")}]`;
      if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v).join(", ")}]`;
      if (v && typeof v === "object") {
        const tag = Object.prototype.toString.call(v);
        if (tag !== "[object Object]") return tag;
        return `{${Object.keys(v).map((k) => `${k}: ${fmt(v[k])}`).join(", ")}}`;
      }
      return String(v);
    } catch {
      return "<unprintable>";
    }
  }

  function assert(cond, fname, description, message, subs) {
    if (cond) return;
    let text = message;
    for (const [k, v] of Object.entries(subs || {})) text = text.split(`\${${k}}`).join(fmt(v));
    throw new AssertionError(`${fname}: ${description ? description + ": " : ""}${text}`);
  }

  function same(a, b) {
    // WPT's same_value: NaN equals NaN, +0 differs from -0.
    if (typeof a === "number" && typeof b === "number" && a !== a && b !== b) return true;
    return Object.is(a, b);
  }

  class Test {
    constructor(name, fn, kind) {
      this.name = name;
      this.fn = fn;
      this.kind = kind;
      this.state = "pending";
      this.message = "";
      this.cleanups = [];
      this.timers = new Set();
      this.finished = false;
      this._resolveAsync = null;
    }
    step(fn, thisArg, ...args) {
      if (this.finished) return undefined;
      try {
        return fn.apply(thisArg, args);
      } catch (e) {
        this.fail(e);
        return undefined;
      }
    }
    step_func(fn, thisArg) {
      const t = this;
      return function (...args) {
        return t.step(fn, thisArg === undefined ? this : thisArg, ...args);
      };
    }
    step_func_done(fn, thisArg) {
      const t = this;
      return function (...args) {
        if (fn) t.step(fn, thisArg === undefined ? this : thisArg, ...args);
        t.done();
      };
    }
    unreached_func(description) {
      return this.step_func(() => {
        assert(false, "assert_unreached", description, "Reached unreachable code");
      });
    }
    step_timeout(fn, ms, ...args) {
      const id = setTimeout(() => {
        this.timers.delete(id);
        this.step(fn, this, ...args);
      }, ms);
      this.timers.add(id);
      return id;
    }
    step_wait(cond, description, timeout = 3000, interval = 10) {
      const start = Date.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          let ok = false;
          try {
            ok = cond();
          } catch (e) {
            reject(e);
            return;
          }
          if (ok) resolve();
          else if (Date.now() - start > timeout) reject(new AssertionError(`step_wait: ${description}`));
          else this.step_timeout(check, interval);
        };
        check();
      });
    }
    add_cleanup(fn) {
      this.cleanups.push(fn);
    }
    done() {
      if (this._resolveAsync) this._resolveAsync();
    }
    fail(e) {
      if (this.finished) return;
      this.state = "fail";
      this.message = e && e.stack ? String(e.stack) : fmt(e);
      if (this._resolveAsync) this._resolveAsync();
    }
  }

  function register(kind, fn, name) {
    if (typeof fn === "string" && typeof name === "function") [fn, name] = [name, fn];
    let unique = String(name ?? `unnamed test ${registry.length + 1}`);
    if (byName.has(unique)) {
      let i = 2;
      while (byName.has(`${unique} (${i})`)) i++;
      unique = `${unique} (${i})`;
    }
    const t = new Test(unique, fn, kind);
    registry.push(t);
    byName.set(unique, t);
    return t;
  }

  async function run(t) {
    current = t;
    t.state = "running";
    try {
      if (t.kind === "sync") {
        t.fn(t);
      } else if (t.kind === "promise") {
        const r = t.fn(t);
        if (!r || typeof r.then !== "function") {
          throw new AssertionError("promise_test: test body must return a promise");
        }
        await r;
      } else {
        await new Promise((resolve) => {
          t._resolveAsync = resolve;
          t.step(t.fn, t, t);
        });
      }
      if (t.state === "running") t.state = "pass";
    } catch (e) {
      t.fail(e);
    } finally {
      t.finished = true;
      for (const id of t.timers) clearTimeout(id);
      for (const c of t.cleanups.reverse()) {
        try {
          const r = c();
          if (r && typeof r.then === "function") await r;
        } catch (e) {
          if (t.state === "pass") {
            t.state = "fail";
            t.message = `cleanup failed: ${e && e.stack ? e.stack : fmt(e)}`;
          }
        }
      }
      current = null;
    }
  }

  const harness = {
    list() {
      return JSON.stringify(registry.map((t) => t.name));
    },
    start(name) {
      const t = byName.get(name);
      if (!t) return "unknown";
      run(t);
      return "started";
    },
    status(name) {
      const t = byName.get(name);
      if (!t) return JSON.stringify({ state: "fail", message: `no test named ${name}` });
      if (t.state === "running" || t.state === "pending" || !t.finished) {
        return JSON.stringify({ state: "running" });
      }
      return JSON.stringify({ state: t.state, message: t.message });
    },
  };
  Object.defineProperty(globalThis, "__harness", { value: harness });

  const g = globalThis;
  g.test = (fn, name) => register("sync", fn, name);
  g.promise_test = (fn, name) => register("promise", fn, name);
  g.async_test = (fn, name) => register("async", fn, name);
  g.setup = () => {};
  g.done = () => {};
  g.step_timeout = (fn, ms, ...args) => setTimeout(fn, ms, ...args);
  g.AssertionError = AssertionError;
  g.format_value = fmt;

  g.assert_true = (actual, description) =>
    assert(actual === true, "assert_true", description, "expected true got ${actual}", { actual });
  g.assert_false = (actual, description) =>
    assert(actual === false, "assert_false", description, "expected false got ${actual}", { actual });
  g.assert_equals = (actual, expected, description) =>
    assert(same(actual, expected), "assert_equals", description,
      "expected ${expected} but got ${actual}", { actual, expected });
  g.assert_not_equals = (actual, expected, description) =>
    assert(!same(actual, expected), "assert_not_equals", description,
      "got disallowed value ${actual}", { actual });
  g.assert_in_array = (actual, expected, description) =>
    assert(expected.indexOf(actual) !== -1, "assert_in_array", description,
      "value ${actual} not in array ${expected}", { actual, expected });
  g.assert_array_equals = (actual, expected, description) => {
    assert(typeof actual === "object" && actual !== null && "length" in actual,
      "assert_array_equals", description, "value is ${actual}, expected array", { actual });
    assert(actual.length === expected.length, "assert_array_equals", description,
      "lengths differ, expected ${expected} got ${actual}", { actual, expected });
    for (let i = 0; i < actual.length; i++) {
      assert(same(actual[i], expected[i]), "assert_array_equals", description,
        `expected property ${i} to be \${expected} but got \${actual}`,
        { actual: actual[i], expected: expected[i] });
    }
  };
  g.assert_object_equals = (actual, expected, description) => {
    const check = (a, e, path) => {
      if (typeof e !== "object" || e === null) {
        assert(same(a, e), "assert_object_equals", description,
          `property ${path} expected \${e} got \${a}`, { a, e });
        return;
      }
      assert(typeof a === "object" && a !== null, "assert_object_equals", description,
        `property ${path} expected object got \${a}`, { a });
      for (const k of Object.keys(e)) check(a[k], e[k], `${path}.${k}`);
      for (const k of Object.keys(a)) {
        assert(k in e, "assert_object_equals", description, `unexpected property ${path}.${k}`);
      }
    };
    check(actual, expected, "");
  };
  g.assert_less_than = (a, e, d) => assert(a < e, "assert_less_than", d,
    "expected a number less than ${e} but got ${a}", { a, e });
  g.assert_greater_than = (a, e, d) => assert(a > e, "assert_greater_than", d,
    "expected a number greater than ${e} but got ${a}", { a, e });
  g.assert_less_than_equal = (a, e, d) => assert(a <= e, "assert_less_than_equal", d,
    "expected a number less than or equal to ${e} but got ${a}", { a, e });
  g.assert_greater_than_equal = (a, e, d) => assert(a >= e, "assert_greater_than_equal", d,
    "expected a number greater than or equal to ${e} but got ${a}", { a, e });
  g.assert_approx_equals = (a, e, eps, d) => assert(Math.abs(a - e) <= eps,
    "assert_approx_equals", d, "expected ${e} +/- ${eps} but got ${a}", { a, e, eps });
  g.assert_own_property = (obj, name, d) => assert(Object.prototype.hasOwnProperty.call(obj, name),
    "assert_own_property", d, `expected property "${String(name)}" missing`);
  g.assert_not_own_property = (obj, name, d) => assert(!Object.prototype.hasOwnProperty.call(obj, name),
    "assert_not_own_property", d, `unexpected property "${String(name)}" is found`);
  g.assert_class_string = (obj, cls, d) => {
    const actual = Object.prototype.toString.call(obj);
    const expected = `[object ${cls}]`;
    assert(actual === expected, "assert_class_string", d,
      "expected ${expected} but got ${actual}", { actual, expected });
  };
  g.assert_unreached = (d) => assert(false, "assert_unreached", d, "Reached unreachable code");
  g.assert_implements = (cond, d) => assert(!!cond, "assert_implements", d, "not implemented");
  g.assert_implements_optional = g.assert_implements;

  function checkThrown(fname, e, Ctor, description) {
    assert(typeof e === "object" && e !== null, fname, description,
      "${e} thrown, not an object", { e });
    assert(e.constructor === Ctor, fname, description,
      `${fmt(e)} thrown, expected ${Ctor.name}`);
  }

  g.assert_throws_js = (Ctor, fn, description) => {
    let thrown = false;
    try {
      fn();
    } catch (e) {
      thrown = true;
      checkThrown("assert_throws_js", e, Ctor, description);
    }
    assert(thrown, "assert_throws_js", description, `${fn} did not throw`);
  };

  const domCodes = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
    InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8,
    NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13,
    NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18,
    NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22,
    TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };

  function checkDom(fname, e, type, description) {
    assert(typeof e === "object" && e !== null, fname, description,
      "${e} thrown, not an object", { e });
    let name = type;
    if (typeof type === "number") {
      name = Object.keys(domCodes).find((k) => domCodes[k] === type);
    }
    assert(e.name === name, fname, description, `${fmt(e)} thrown, expected DOMException ${name}`);
    if (typeof DOMException === "function") {
      assert(e instanceof DOMException, fname, description, `${fmt(e)} is not a DOMException`);
    }
    if (name in domCodes) {
      assert(e.code === domCodes[name], fname, description, `wrong code ${e.code} for ${name}`);
    }
  }

  g.assert_throws_dom = (type, fnOrCtor, maybeFn, maybeDescription) => {
    let fn = fnOrCtor;
    let description = maybeFn;
    if (typeof maybeFn === "function") {
      fn = maybeFn;
      description = maybeDescription;
    }
    let thrown = false;
    try {
      fn();
    } catch (e) {
      thrown = true;
      checkDom("assert_throws_dom", e, type, description);
    }
    assert(thrown, "assert_throws_dom", description, `${fn} did not throw`);
  };

  g.assert_throws_exactly = (value, fn, description) => {
    let thrown = false;
    try {
      fn();
    } catch (e) {
      thrown = true;
      assert(same(e, value), "assert_throws_exactly", description,
        "${e} thrown, expected ${value}", { e, value });
    }
    assert(thrown, "assert_throws_exactly", description, `${fn} did not throw`);
  };

  async function rejects(promise, check, fname, description) {
    let settled = false;
    try {
      await promise;
      settled = true;
    } catch (e) {
      check(e);
      return;
    }
    assert(!settled, fname, description, "promise fulfilled, expected rejection");
  }

  g.promise_rejects_js = (t, Ctor, promise, description) =>
    rejects(promise, (e) => checkThrown("promise_rejects_js", e, Ctor, description),
      "promise_rejects_js", description);
  g.promise_rejects_dom = (t, type, promiseOrCtor, maybePromise, maybeDescription) => {
    let promise = promiseOrCtor;
    let description = maybePromise;
    if (maybePromise && typeof maybePromise.then === "function") {
      promise = maybePromise;
      description = maybeDescription;
    }
    return rejects(promise, (e) => checkDom("promise_rejects_dom", e, type, description),
      "promise_rejects_dom", description);
  };
  g.promise_rejects_exactly = (t, value, promise, description) =>
    rejects(promise, (e) => assert(same(e, value), "promise_rejects_exactly", description,
      "${e} thrown, expected ${value}", { e, value }), "promise_rejects_exactly", description);

  g.current_test = () => current;
})();
