// META: internals
// The fetch event a service-worker script's listeners get (js/91_worker.js): members on its
// prototype, state private; respondWith once, and only while the event is dispatched.

const dispatchFetch = globalThis.__internals.worker.dispatchFetch;
let listener = () => {};
addEventListener("fetch", (event) => listener(event));

test(() => {
  const request = new Request("http://a.test/x");
  const response = new Response("ok");
  let seen;
  listener = (event) => {
    seen = event;
    event.respondWith(response);
  };
  assert_equals(dispatchFetch(request), response);
  assert_equals(seen.type, "fetch");
  assert_equals(seen.request, request);
  assert_true(seen instanceof Event);
  assert_array_equals(Object.keys(seen), ["isTrusted"], "own: only isTrusted (unforgeable)");
  for (const name of ["request", "respondWith", "waitUntil", "passThroughOnException"]) {
    assert_true(name in Object.getPrototypeOf(seen), name);
  }
}, "the handler's response comes back; the event's members are on its prototype");

test(() => {
  let errors = [];
  listener = (event) => {
    event.respondWith(new Response("first"));
    try {
      event.respondWith(new Response("second"));
    } catch (e) {
      errors.push(e.name);
    }
  };
  assert_equals(dispatchFetch(new Request("http://a.test/")).status, 200);
  assert_array_equals(errors, ["InvalidStateError"]);
}, "respondWith() a second time throws InvalidStateError");

promise_test(async () => {
  let later;
  listener = (event) => {
    later = event;
    event.respondWith(new Response("now"));
  };
  dispatchFetch(new Request("http://a.test/"));
  await Promise.resolve();
  assert_throws_dom("InvalidStateError", () => later.respondWith(new Response("late")));
}, "respondWith() after the dispatch throws InvalidStateError");

test(() => {
  listener = () => {};
  assert_throws_js(TypeError, () => dispatchFetch(new Request("http://a.test/")));
  listener = (event) => event.respondWith(new Response("x"));
  const event = (() => {
    let e;
    listener = (ev) => {
      e = ev;
      ev.respondWith(new Response("x"));
    };
    dispatchFetch(new Request("http://a.test/"));
    return e;
  })();
  const respondWith = Object.getPrototypeOf(event).respondWith;
  assert_throws_js(TypeError, () => respondWith.call({}, new Response("x")), "brand check");
  assert_throws_js(TypeError, () => Reflect.getOwnPropertyDescriptor(
    Object.getPrototypeOf(event), "request").get.call({}));
  assert_throws_js(TypeError, () => new (Object.getPrototypeOf(event).constructor)(), "not constructible");
}, "no respondWith() is a TypeError; members check their receiver");
