// META: internals
// HTML §9.5 channel messaging: MessageChannel, MessagePort and MessageEvent.

/** The next `type` event at `target`. */
const next = (target, type = "message") =>
  new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));

test(() => {
  const { port1, port2 } = new MessageChannel();
  assert_true(port1 instanceof MessagePort);
  assert_true(port2 instanceof MessagePort);
  assert_true(port1 instanceof EventTarget);
  assert_not_equals(port1, port2);
  const channel = new MessageChannel();
  assert_equals(channel.port1, channel.port1, "the same object every time");
  assert_throws_js(TypeError, () => new MessagePort());
  assert_throws_js(TypeError, () => MessagePort());
  assert_equals(port1.onmessage, null);
  assert_equals(port1.onmessageerror, null);
  assert_equals(Object.prototype.toString.call(port1), "[object MessagePort]");
  assert_equals(Object.prototype.toString.call(channel), "[object MessageChannel]");
}, "MessageChannel has two entangled MessagePorts; MessagePort is not constructible");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  const order = [];
  port2.onmessage = (e) => order.push(e.data);
  port1.postMessage("one");
  port1.postMessage("two");
  order.push("sync");
  await Promise.resolve();
  assert_array_equals(order, ["sync"], "not delivered in the posting task's microtasks");
  const e = await next(port2);
  assert_true(e instanceof MessageEvent);
  assert_equals(e.type, "message");
  assert_true(e.isTrusted);
  assert_equals(e.origin, "");
  assert_equals(e.lastEventId, "");
  assert_equals(e.source, null);
  assert_array_equals(e.ports, []);
  assert_true(Object.isFrozen(e.ports));
  assert_equals(e.ports, e.ports, "the same frozen array");
  assert_false(e.bubbles || e.cancelable || e.composed || e.defaultPrevented);
  assert_equals(e.eventPhase, Event.NONE, "after its dispatch");
  await next(port2);
  assert_array_equals(order, ["sync", "one", "two"]);
}, "messages arrive asynchronously, in order, through onmessage (which starts the port)");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  const value = { date: new Date(7), map: new Map([["k", [1, 2]]]), nested: { s: "x" } };
  value.self = value;
  port1.postMessage(value);
  port2.start();
  const { data } = await next(port2);
  assert_not_equals(data, value, "a structured clone");
  assert_equals(data.self, data, "cycles survive");
  assert_equals(data.date.getTime(), 7);
  assert_array_equals(data.map.get("k"), [1, 2]);
  assert_equals(data.nested.s, "x");
}, "messages are structured clones");

promise_test(async (t) => {
  const { port1, port2 } = new MessageChannel();
  let received = 0;
  port2.addEventListener("message", () => received++);
  port1.postMessage(1);
  await new Promise((r) => setTimeout(r, 5));
  assert_equals(received, 0, "addEventListener does not start the port");
  const arrived = next(port2);
  port2.start();
  await arrived;
  assert_equals(received, 1, "queued messages are delivered once started");
}, "the port message queue is disabled until start()");

test(() => {
  const { port1 } = new MessageChannel();
  assert_throws_dom("DataCloneError", () => port1.postMessage(() => {}));
  assert_throws_dom("DataCloneError", () => port1.postMessage(new URL("https://a.example/")));
  assert_throws_dom("DataCloneError", () => port1.postMessage(null, [port1]),
    "a port cannot transfer itself");
  assert_throws_js(TypeError, () => port1.postMessage());
}, "postMessage throws for values that cannot be cloned and for transferring the port itself");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  port1.postMessage({ buffer }, [buffer]);
  assert_equals(buffer.byteLength, 0, "detached on the sender");
  port2.start();
  const { data } = await next(port2);
  assert_array_equals(new Uint8Array(data.buffer), [1, 2, 3]);
  const second = new ArrayBuffer(4);
  port1.postMessage(second, { transfer: [second] });
  assert_true(second.detached, "the options form transfers too");
  const e = await next(port2);
  assert_equals(e.data.byteLength, 4);
}, "ArrayBuffers in the transfer list are transferred (detached on the sender)");

promise_test(async () => {
  const outer = new MessageChannel();
  const inner = new MessageChannel();
  outer.port1.postMessage({ reply: inner.port2 }, [inner.port2]);
  assert_throws_dom("DataCloneError", () => outer.port1.postMessage(null, [inner.port2]),
    "a transferred port is detached");
  outer.port2.start();
  const e = await next(outer.port2);
  const port = e.data.reply;
  assert_true(port instanceof MessagePort);
  assert_not_equals(port, inner.port2, "a new object");
  assert_array_equals(e.ports, [port], "the transferred ports are the event's ports");
  // The new port is entangled with the other end, and its queue starts disabled.
  inner.port1.postMessage("through the moved port");
  port.start();
  assert_equals((await next(port)).data, "through the moved port");
  port.postMessage("back");
  inner.port1.start();
  assert_equals((await next(inner.port1)).data, "back");
}, "MessagePorts are transferable; the other end stays entangled with the new port");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  const buffer = new ArrayBuffer(1);
  port1.postMessage(buffer, [port2, buffer]);
  assert_true(buffer.detached, "the message is still serialized with transfer");
  let delivered = false;
  port2.onmessage = () => { delivered = true; };
  await new Promise((r) => setTimeout(r, 5));
  assert_false(delivered, "a message transferring its target port is dropped");
}, "a message whose transfer list holds the target port is doomed");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  let delivered = 0;
  port2.onmessage = () => delivered++;
  const closed = next(port2, "close");
  port1.close();
  port1.postMessage("after close");
  port1.close(); // twice is fine
  await closed;
  port2.postMessage("to a closed port");
  await new Promise((r) => setTimeout(r, 5));
  assert_equals(delivered, 0);
  assert_throws_dom("DataCloneError", () => new MessageChannel().port1.postMessage(null, [port1]),
    "a closed port is detached and cannot be transferred");
}, "close() disentangles both ends and fires close at the other end");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  port2.postMessage(1);
  port2.postMessage(2);
  port1.start();
  await next(port1);
  port1.close();
  let more = false;
  port1.addEventListener("message", () => { more = true; });
  await new Promise((r) => setTimeout(r, 5));
  assert_false(more, "messages still queued at close() are not delivered");
}, "close() drops the queued messages");

test(() => {
  const e = new MessageEvent("message");
  assert_equals(e.data, null);
  assert_equals(e.origin, "");
  assert_equals(e.lastEventId, "");
  assert_equals(e.source, null);
  assert_array_equals(e.ports, []);
  const { port1 } = new MessageChannel();
  const f = new MessageEvent("m", {
    data: { a: 1 }, origin: "https://a.example", lastEventId: "7", source: port1, ports: [port1],
  });
  assert_equals(f.data.a, 1);
  assert_equals(f.origin, "https://a.example");
  assert_equals(f.lastEventId, "7");
  assert_equals(f.source, port1);
  assert_array_equals(f.ports, [port1]);
  assert_equals(f.ports, f.ports, "the same frozen array");
  assert_true(Object.isFrozen(f.ports));
  assert_throws_js(TypeError, () => new MessageEvent("m", { source: {} }));
  assert_throws_js(TypeError, () => new MessageEvent("m", { ports: [{}] }));
  assert_throws_js(TypeError, () => new MessageEvent());
  // A third argument from a script changes nothing: the init is converted as always.
  const h = new MessageEvent("m", { origin: { toString: () => "o" }, bubbles: 1 }, {});
  assert_equals(h.origin, "o");
  assert_true(h.bubbles);
  assert_equals(new Event("e", { cancelable: "yes" }, {}).cancelable, true);
  const g = new MessageEvent("x");
  g.initMessageEvent("y", true, true, "d", "o", "l", null, []);
  assert_equals(g.type, "y");
  assert_true(g.bubbles);
  assert_equals(g.data, "d");
  assert_equals(g.origin, "o");
  assert_equals(g.lastEventId, "l");
}, "MessageEvent constructor and initMessageEvent");

promise_test(async () => {
  const { port1, port2 } = new MessageChannel();
  const copy = structuredClone({ port: port1 }, { transfer: [port1] });
  assert_not_equals(copy.port, port1);
  assert_throws_dom("DataCloneError", () => structuredClone(port2), "not serializable");
  copy.port.postMessage("via structuredClone");
  port2.start();
  assert_equals((await next(port2)).data, "via structuredClone");
}, "structuredClone transfers ports too");

promise_test(async () => {
  // A platform object whose deserialization fails in the receiving realm (a test-only
  // serializable interface: nothing in the runtime fails this way by itself).
  class Fragile {}
  __internals.structuredClone.registerSerializable({
    tag: "Fragile",
    is: (v) => v instanceof Fragile,
    serialize: () => ({}),
    deserialize: () => { throw new Error("cannot deserialize"); },
  });
  const { port1, port2 } = new MessageChannel();
  let messages = 0;
  port2.onmessage = () => messages++;
  const error = next(port2, "messageerror");
  port1.postMessage(new Fragile());
  const e = await error;
  assert_true(e instanceof MessageEvent);
  assert_equals(e.data, null);
  assert_equals(messages, 0);
}, "a message that cannot be deserialized fires messageerror");

test(() => {
  for (const attr of ["onmessage", "onmessageerror", "onclose"]) {
    const { get, set } = Object.getOwnPropertyDescriptor(MessagePort.prototype, attr);
    assert_equals(get.name, `get ${attr}`);
    assert_equals(set.name, `set ${attr}`);
  }
}, "MessagePort event handler accessors are named like IDL attribute accessors");

promise_test(async () => {
  // Delivering a message is a task of its own, not a timer: a long run of messages
  // neither raises the timer nesting level nor gets itself clamped to 4 ms per message.
  const { port1, port2 } = new MessageChannel();
  const order = [];
  await new Promise((resolve) => {
    let hops = 0;
    port2.onmessage = () => {
      if (++hops < 10) {
        port1.postMessage(hops);
        return;
      }
      setTimeout(() => order.push("4ms"), 4);
      setTimeout(() => order.push("0ms"), 0);
      setTimeout(resolve, 30);
    };
    port1.postMessage(0);
  });
  port1.close();
  assert_array_equals(order, ["0ms", "4ms"]);
}, "message delivery does not count as timer nesting");
