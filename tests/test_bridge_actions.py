"""Actions coming out of V8 are checked against ``kinds.ACTIONS`` before they are acted on.

The validator on its own (hypothesis: every well-formed action passes, every malformed one
raises ``ActionError`` and nothing else), then a real worker with a real isolate whose
runtime is made to emit malformed actions: the stream (or TCP socket) fails, the bridge keeps
pumping and the next request is answered.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isoflow import protocol as p
from isoflow.isolate_worker import bridge as bridge_module
from isoflow.isolate_worker import script as script_loader
from isoflow.isolate_worker.bridge import Bridge
from isoflow.isolate_worker.kinds import (
    AC_DATA,
    AC_HEAD,
    AC_SOCKET_CLOSE,
    AC_SOCKET_CONNECT,
    ACTIONS,
    DATA_ACTIONS,
    FIELD_TYPES,
    ActionError,
    check_action,
    js_kinds,
)
from isoflow.isolate_worker.worker import Worker, WorkerOptions

OUT = 4096  # outBin size for the validator tests

# -- the validator ------------------------------------------------------------------------

ints = st.integers(min_value=-(2**53), max_value=2**53)
strings = st.lists(st.text(max_size=8), max_size=6)
GOOD: dict[str, st.SearchStrategy] = {
    "int": ints,
    "size": st.integers(min_value=0, max_value=OUT),
    "str": st.text(max_size=20),
    "flag": st.sampled_from([0, 1, True, False]),
    "list": st.lists(st.integers() | st.text(max_size=4), max_size=4),
    "strings": strings,
    "headers": strings.map(lambda s: s[: len(s) // 2 * 2]),
    "body": st.sampled_from([None, "bytes", "stream"]) | ints.map(lambda n: ["request", n]),
}
assert set(GOOD) == set(FIELD_TYPES)
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=12,
)


@st.composite
def good_actions(draw: st.DrawFn) -> list[Any]:
    kind = draw(st.sampled_from(sorted(ACTIONS)))
    action = [kind, *(draw(GOOD[t]) for t in ACTIONS[kind][1])]
    if kind in DATA_ACTIONS:  # offset + length inside outBin
        action[2] = draw(st.integers(min_value=0, max_value=OUT - action[3]))
    return action


def matches(value: Any, field_type: str) -> bool:
    return eval(f"lambda v: {FIELD_TYPES[field_type]}")(value)


@settings(max_examples=300, deadline=None)
@given(good_actions())
def test_a_well_formed_action_passes(action: list[Any]) -> None:
    check_action(action, OUT)
    check_action(json.loads(json.dumps(action)), OUT)  # as it arrives from the pump


@settings(max_examples=300, deadline=None)
@given(good_actions(), st.data())
def test_a_field_of_the_wrong_type_is_refused(action: list[Any], data: st.DataObject) -> None:
    fields = ACTIONS[action[0]][1]
    i = data.draw(st.integers(min_value=1, max_value=len(fields)))
    bad = data.draw(json_values.filter(lambda v: not matches(v, fields[i - 1])))
    action[i] = bad
    with pytest.raises(ActionError, match=f"field {i} must be {fields[i - 1]}"):
        check_action(action, OUT)


@settings(max_examples=200, deadline=None)
@given(good_actions(), st.data())
def test_a_wrong_arity_is_refused(action: list[Any], data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        action.append(data.draw(json_values))
    else:
        action.pop()
    with pytest.raises(ActionError):
        check_action(action, OUT)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_anything_else_is_refused_never_crashes(value: Any) -> None:
    try:
        check_action(value, OUT)
    except ActionError:
        return
    assert type(value) is list and value[0] in ACTIONS  # by chance, a well-formed action


@pytest.mark.parametrize(("action", "error"), [
    ([99, 1], "unknown action"),
    ([True, 1], "unknown action"),  # True == 1, but it is no kind
    ([AC_DATA, 1, 4000, 97], "outside outBin"),
    ([AC_DATA, 1, -1, 10], "field 2 must be size"),
    ([AC_HEAD, 1.0, 200, [], 0], "field 1 must be int"),
    ([AC_HEAD, 1, 200, ["a"], 0], "field 3 must be headers"),
    ([AC_HEAD, 1, 200, [["a", "b"]], 0], "field 3 must be headers"),
])
def test_refusals_say_what_is_wrong(action: list[Any], error: str) -> None:
    with pytest.raises(ActionError, match=error):
        check_action(action, OUT)


def test_the_runtime_gets_every_kind() -> None:
    """No JS file defines a kind of its own: each takes them from internals.kinds."""
    import re

    from isoflow.isolate_worker.runtime import runtime_files

    literal = re.compile(r"\b(?:AC|EV)_[A-Z_]+\s*=\s*\d")
    for path in runtime_files():
        assert not literal.search(path.read_text(encoding="utf-8")), path.name
    assert js_kinds()["AC_HEAD"] == AC_HEAD


def test_a_kind_that_does_not_exist_fails_at_load() -> None:
    """A misspelt kind is an error when the file loads, not an `undefined` kind later."""
    from isoflow.isolate_worker.runtime import load_runtime
    from isoflow.isolate_worker.v8 import JSEvalException, V8Context

    async def load() -> None:
        v8 = V8Context(asyncio.get_running_loop())
        try:
            load_runtime(v8.eval, extra=(("test:typo.js", "const { AC_HAED } = internals.kinds;"),))
        finally:
            v8.close()

    with pytest.raises(JSEvalException, match="no bridge kind AC_HAED"):
        asyncio.run(load())


# -- a real worker, a real isolate ----------------------------------------------------------

# A test hook in the runtime: a response carrying `x-corrupt: <JSON action>` has its head
# action replaced by that action ("$sid" stands for the stream's id); its body is a stream,
# so that its head goes as AC_HEAD (known bytes would go with it as one AC_COMPLETE). An
# AC_COMPLETE carrying `x-status: N` has its status replaced by N. Offsets into outBin
# are the flush's own (29_host.js): bad ones are left to the validator's tests above.
# The next connect() of cloudflare:sockets after `globalThis.corruptNextSocket(action)`
# queues that action instead of its AC_SOCKET_CONNECT ("$id": the socket's id).
CORRUPT_JS = """
const host = internals.host, queue = host.queueAction;
const { AC_HEAD, AC_SOCKET_CONNECT } = internals.kinds;
let socketAction = null;
globalThis.corruptNextSocket = (action) => { socketAction = action; };
const sendWhole = host.Outflow.prototype.sendWhole;
host.Outflow.prototype.sendWhole = function (kind, bytes, head) {
  const list = head[1];  // a null-prototype array: no indexOf
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === "x-status") head = [Number(list[i + 1]), list];
  }
  return sendWhole.call(this, kind, bytes, head);
};
host.queueAction = (action) => {
  if (action[0] === AC_SOCKET_CONNECT && socketAction !== null) {
    queue(socketAction.map((x) => (x === "$id" ? action[1] : x)));
    socketAction = null;
    return;
  }
  const list = action[0] === AC_HEAD ? action[3] : [];
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === "x-corrupt") {
      queue(JSON.parse(list[i + 1]).map((x) => (x === "$sid" ? action[1] : x)));
      return;
    }
  }
  queue(action);
};
"""
SCRIPT = """
addEventListener("fetch", (e) => {
  const query = new URL(e.request.url).searchParams;
  const corrupt = query.get("action"), big = query.get("big"), status = query.get("status");
  const headers = big !== null ? { "x-big": "y".repeat(Number(big)) }
    : status !== null ? { "x-status": status } : {};
  e.respondWith(corrupt === null ? new Response("ok", { headers })
    : new Response(new Blob(["ok"]).stream(), { headers: { "x-corrupt": corrupt } }));
});
"""
# connect() of cloudflare:sockets (to a loopback address: the worker refuses it, no packet
# is sent), the corrupted action given as `?socket=<JSON action>` in its place.
SOCKETS_SCRIPT = """
import { connect } from "cloudflare:sockets";

async function settled(promise) {
  try {
    await promise;
    return "resolved";
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

export default {
  async fetch(request) {
    const action = new URL(request.url).searchParams.get("socket");
    if (action !== null) corruptNextSocket(JSON.parse(action));
    const socket = connect("127.0.0.1:9");
    const opened = await settled(socket.opened);
    return Response.json({ opened, closed: await settled(socket.closed) });
  },
};
"""


class InProcessWorker:
    """A Worker (not started: no link) on a loop of its own, its frames collected."""

    def __init__(self, tmp: Path, source: str = SCRIPT, name: str = "worker.js") -> None:
        self.loop = asyncio.new_event_loop()
        self.frames: list[p.Frame] = []
        self.arrived = asyncio.Event()
        script = tmp / name
        script.write_text(source)
        self.next_sid = 1

        async def make() -> Worker:
            worker = Worker(WorkerOptions("tcp://127.0.0.1:9", "w-actions", script))
            worker._send = self._collect
            # As Worker._new_bridge builds it, plus the test hook.
            bridge = Bridge(asyncio.get_running_loop(), worker._on_action,
                            worker._on_isolate_failure, worker.options.bridge,
                            extra_runtime=(("test:corrupt.js", CORRUPT_JS),),
                            on_batch_end=worker._on_batch_end, on_refused=worker._on_refused)
            script_loader.load(bridge.eval, script)
            worker.bridge = bridge
            return worker

        self.worker = self.loop.run_until_complete(make())
        self.bridge = self.worker.bridge

    def _collect(self, frame: p.Frame, *, copy: bool = True) -> bool:
        self.frames.append(frame)
        self.arrived.set()
        return True

    def request(self, query: str = "") -> list[p.Frame]:
        """The frames of one request's answer, up to its end or error."""
        sid, self.next_sid = self.next_sid, self.next_sid + 1

        async def run() -> list[p.Frame]:
            self.frames.clear()
            head = p.RequestHead(sid, f"r{sid}", "GET", f"http://test/{query}", [], "", False,
                                 1 << 20)
            self.worker._on_frames([head])
            async with asyncio.timeout(10):
                while not any(isinstance(f, p.ResponseEnd | p.ResponseComplete | p.ResponseError)
                              for f in self.frames):
                    self.arrived.clear()
                    await self.arrived.wait()
            return [f for f in self.frames if f.stream == sid]

        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.loop.run_until_complete(self.worker.close())
        self.loop.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory):
    w = InProcessWorker(tmp_path_factory.mktemp("actions"))
    yield w
    w.close()


@pytest.fixture(scope="module")
def sockets_worker(tmp_path_factory: pytest.TempPathFactory):
    w = InProcessWorker(tmp_path_factory.mktemp("socket-actions"), SOCKETS_SCRIPT, "worker.mjs")
    yield w
    w.close()


def answered(frames: list[p.Frame]) -> tuple[int, bytes]:
    """(status, body) of a response: head, body and end, or all three in one frame."""
    if isinstance(frames[-1], p.ResponseComplete):
        return frames[-1].status, bytes(frames[-1].data)
    head = next(f for f in frames if isinstance(f, p.ResponseHead))
    assert isinstance(frames[-1], p.ResponseEnd)
    return head.status, b"".join(bytes(f.data) for f in frames
                                 if isinstance(f, p.ResponseBody))


@pytest.mark.parametrize("action", [
    [AC_HEAD, "$sid", "200", [], 2],  # a status that is not an int
    [AC_HEAD, "$sid", 200, [["content-type", "text/plain"]], 2],  # headers not flat
    [AC_HEAD, "$sid", 200, ["x", 1], 2],  # a header value that is not a string
    [AC_HEAD, "$sid", 200, [], 2, "extra"],  # wrong arity
    [AC_DATA, "$sid", 0, 2, 0],  # a data action of five fields (JS copies no bytes for it)
    [AC_HEAD, "1", 200, [], 2],  # an id that is not an int: fails when its body comes
    [99, "$sid"],  # an unknown kind: likewise
], ids=["status", "nested-headers", "header-type", "arity", "data-arity", "id", "kind"])
def test_a_malformed_action_fails_its_stream_not_the_worker(worker: InProcessWorker,
                                                            action: list[Any]) -> None:
    frames = worker.request("?action=" + json.dumps(action).replace(" ", ""))
    errors = [f for f in frames if isinstance(f, p.ResponseError)]
    assert [e.status for e in errors] == [500] and "internal error" in errors[0].message
    assert not any(isinstance(f, p.ResponseHead | p.ResponseComplete) for f in frames)
    # The same isolate goes on serving.
    assert worker.worker.bridge is worker.bridge and worker.bridge.failed is None
    assert answered(worker.request()) == (200, b"ok")


@pytest.mark.parametrize(("action", "error"), [
    ([AC_SOCKET_CONNECT, "$id", "h", "80", "off", 0], "field 3 must be int, got '80'"),
    ([AC_SOCKET_CONNECT, "$id", ["h"], 80, "off", 0], "field 2 must be str"),
    ([AC_SOCKET_CONNECT, "$id", "h", 80, "off", 2], "field 5 must be flag"),
    ([AC_SOCKET_CONNECT, "$id", "h", 80], "expected 5 fields, got 3"),
    ([AC_SOCKET_CLOSE, "$id", "extra"], "AC_SOCKET_CLOSE: expected 1 fields, got 2"),
    # Well-formed, but no connection Python makes (connect() never sends them):
    ([AC_SOCKET_CONNECT, "$id", "h", 80, "maybe", 0], "connect() to h:80 failed: invalid options"),
    ([AC_SOCKET_CONNECT, "$id", "h", 0, "off", 0], "connect() to h:0 failed: invalid options"),
    ([AC_SOCKET_CONNECT, "$id", "h", 70000, "off", 0], "connect() to h:70000 failed: invalid"),
    # getaddrinfo() would look up "localhost" (a C string ends at the NUL):
    ([AC_SOCKET_CONNECT, "$id", "localhost\0.example", 80, "off", 0],
     "connect() failed: invalid hostname 'localhost\\x00.example'"),
], ids=["port-type", "host-type", "flag", "arity", "close-arity", "transport", "port-0",
        "port-too-big", "nul"])
def test_a_malformed_socket_action_fails_its_socket_not_the_worker(
        sockets_worker: InProcessWorker, action: list[Any], error: str) -> None:
    """cloudflare:sockets' connect() checks its arguments (a TypeError for a bad one); the
    actions it builds cannot be reached by a script. One the runtime got wrong is refused
    by the bridge, or by the worker's sockets: the socket's opened and closed reject with
    the reason, and the same isolate goes on serving."""
    query = "?socket=" + json.dumps(action, separators=(",", ":"))
    status, body = answered(sockets_worker.request(query))
    assert status == 200, body
    out = json.loads(body)
    assert error in out["opened"] and out["opened"].startswith("Error: "), out
    assert out["closed"] == out["opened"]
    assert sockets_worker.worker.bridge is sockets_worker.bridge
    assert sockets_worker.bridge.failed is None
    status, body = answered(sockets_worker.request())  # a socket of its own: refused
    assert json.loads(body)["opened"].startswith(
        "Error: connect() to 127.0.0.1:9 was refused: connections to loopback address")


def test_a_small_answer_is_one_response_complete_frame(worker: InProcessWorker) -> None:
    frames = worker.request()
    assert [type(f) for f in frames] == [p.ResponseComplete]
    assert answered(frames) == (200, b"ok")
    assert frames[0].stream not in worker.worker.streams  # released with it: no AC_DONE


def test_a_complete_answer_whose_head_might_not_fit_a_frame_goes_as_three(
        worker: InProcessWorker) -> None:
    frames = worker.request("?big=300000")  # 4 bytes a character could pass MAX_HEAD_BYTES
    assert [type(f) for f in frames] == [p.ResponseHead, p.ResponseBody, p.ResponseEnd]
    assert answered(frames) == (200, b"ok")
    assert len(dict(frames[0].headers)["x-big"]) == 300000
    assert frames[0].stream not in worker.worker.streams


def test_a_complete_answer_with_status_101_fails_its_stream(worker: InProcessWorker) -> None:
    frames = worker.request("?status=101")  # a WebSocket's 101 goes as AC_WS_ACCEPT
    assert [(type(f), getattr(f, "status", None)) for f in frames
            if not isinstance(f, p.Log)] == [(p.ResponseError, 502)]
    assert answered(worker.request()) == (200, b"ok")


def test_a_pump_result_that_does_not_fit_in_memory_replaces_the_isolate(
        worker: InProcessWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Millions of actions in one pump (a console.log loop, before log output was bounded)
    made json.loads raise MemoryError in the pump's callback: the pump never ran again and
    every later request on the worker waited for its wall time. (Last: it replaces the
    module's isolate.)"""
    loads = json.loads
    failed: list[str] = []

    def out_of_memory(text: str, *args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(text)
            raise MemoryError
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(bridge_module.json, "loads", out_of_memory)
    frames = worker.request()
    assert failed
    errors = [f for f in frames if isinstance(f, p.ResponseError)]
    assert [e.status for e in errors] == [500], frames
    assert worker.worker.bridge is not worker.bridge  # replaced
    worker.bridge = worker.worker.bridge
    assert answered(worker.request()) == (200, b"ok")
