"""Event and action kinds of the bridge (the numbers the JS files use too).

Events go Python -> JS, actions JS -> Python; the channel is described in js/29_host.js,
serving in js/90_serve.js, outbound fetch in js/34_fetch.js, native ops in ops.py.
This module is the one place they are defined: the JS files get every ``EV_``/``AC_`` name
at load as ``internals.kinds`` (runtime.py), and ``ACTIONS`` says what each action holds.
"""

import re
import reprlib
from collections.abc import Callable
from typing import Any

# events
EV_REQUEST, EV_DATA, EV_END, EV_CANCEL, EV_CREDIT = 1, 2, 3, 4, 5
EV_FETCH_HEAD, EV_FETCH_DATA, EV_FETCH_END, EV_FETCH_ERROR, EV_FETCH_CREDIT = 6, 7, 8, 9, 10
EV_OP_RESULT = 11
EV_SCHEDULED = 12
EV_WS_MESSAGE, EV_WS_CLOSE, EV_WS_CREDIT, EV_WS_OPEN, EV_WS_ERROR = 13, 14, 15, 16, 17
EV_SOCKET_OPEN, EV_SOCKET_DATA, EV_SOCKET_END, EV_SOCKET_CREDIT, EV_SOCKET_CLOSED = (
    18, 19, 20, 21, 22)
EV_SOCKET_ERROR = 23

# actions
AC_HEAD, AC_DATA, AC_END, AC_ERROR, AC_CREDIT, AC_LOG, AC_DONE = 1, 2, 3, 4, 5, 6, 7
AC_FETCH, AC_FETCH_DATA, AC_FETCH_END, AC_FETCH_CREDIT, AC_FETCH_ABORT = 8, 9, 10, 11, 12
AC_FORWARD = 13
AC_OP, AC_OP_DATA = 14, 15
AC_WS_ACCEPT, AC_WS_DATA, AC_WS_SEND, AC_WS_CLOSE, AC_WS_CREDIT, AC_WS_CONNECT = (
    16, 17, 18, 19, 20, 21)
AC_COMPLETE = 22  # a response's head, whole body and end in one action (js/90_serve.js)
AC_WS_MESSAGE = 23  # a WebSocket message of one piece: AC_WS_DATA and AC_WS_SEND in one
WS_ACTIONS = frozenset({AC_WS_ACCEPT, AC_WS_DATA, AC_WS_SEND, AC_WS_CLOSE, AC_WS_CREDIT,
                        AC_WS_CONNECT, AC_WS_MESSAGE})  # js/37_websocket.js, websocket.py
AC_SOCKET_CONNECT, AC_SOCKET_DATA, AC_SOCKET_END, AC_SOCKET_CREDIT, AC_SOCKET_CLOSE = (
    24, 25, 26, 27, 28)
AC_SOCKET_TLS = 29
SOCKET_ACTIONS = frozenset({AC_SOCKET_CONNECT, AC_SOCKET_DATA, AC_SOCKET_END, AC_SOCKET_CREDIT,
                            AC_SOCKET_CLOSE, AC_SOCKET_TLS})  # js/37_sockets.js, sockets.py

# actions whose bytes are in outBin: [kind, id, offset, length] (AC_COMPLETE: then status,
# headers; AC_WS_MESSAGE: then binary)
DATA_ACTIONS = frozenset({AC_DATA, AC_FETCH_DATA, AC_OP_DATA, AC_WS_DATA, AC_COMPLETE,
                          AC_WS_MESSAGE, AC_SOCKET_DATA})


# -- what an action may look like -----------------------------------------------------------
# V8 hands Python whatever the runtime's JS built. Like frame heads (protocol/frames.py),
# every action is checked against this table before it is acted on (bridge.py), so a
# malformed one fails the stream, fetch or op it belongs to, never the worker.

# Field types: each a test of one value `v`. `type(v) is int`: True is no int, 1.0 neither.
FIELD_TYPES: dict[str, str] = {
    "int": "type(v) is int",
    "size": "type(v) is int and v >= 0",
    "str": "type(v) is str",
    "flag": "type(v) in (bool, int) and v in (0, 1)",
    "list": "type(v) is list",
    "strings": "type(v) is list and all(type(s) is str for s in v)",
    "headers": "type(v) is list and len(v) % 2 == 0 and all(type(s) is str for s in v)",
    # 34_fetch.js: no body, known bytes, a stream, or a request's body passed on
    "body": 'v is None or v == "bytes" or v == "stream" or (type(v) is list and len(v) == 2 '
            'and v[0] == "request" and type(v[1]) is int)',
}
# kind: (owner of the id in field 1, the fields after the kind). Owners: "stream" (a
# request), "fetch", "op", "websocket" (a stream if > 0, else an outbound socket), "socket"
# (a TCP socket of cloudflare:sockets' connect()), or None.
ACTIONS: dict[int, tuple[str | None, tuple[str, ...]]] = {
    AC_HEAD: ("stream", ("int", "int", "headers", "int")),  # sid, status, headers, length|-1
    AC_DATA: ("stream", ("int", "size", "size")),  # sid, offset, length (into outBin)
    AC_END: ("stream", ("int",)),
    AC_ERROR: ("stream", ("int", "int", "str", "flag")),  # sid, status, message, runtime's
    AC_CREDIT: ("stream", ("int", "size")),
    AC_LOG: (None, ("str", "int", "str")),  # level, sid, message
    AC_DONE: ("stream", ("int",)),
    AC_COMPLETE: ("stream", ("int", "size", "size", "int", "headers")),  # + status, headers
    # fid, method, url, headers, body, length|-1, redirect
    AC_FETCH: ("fetch", ("int", "str", "str", "headers", "body", "int", "str")),
    AC_FETCH_DATA: ("fetch", ("int", "size", "size")),
    AC_FETCH_END: ("fetch", ("int",)),
    AC_FETCH_CREDIT: ("fetch", ("int", "size")),
    AC_FETCH_ABORT: ("fetch", ("int",)),
    AC_FORWARD: ("stream", ("int", "int")),  # sid, fid
    AC_OP: ("op", ("int", "str", "list", "flag")),  # id, name, args, has bytes
    AC_OP_DATA: ("op", ("int", "size", "size")),
    AC_WS_ACCEPT: ("websocket", ("int", "headers")),
    AC_WS_DATA: ("websocket", ("int", "size", "size")),
    AC_WS_SEND: ("websocket", ("int", "flag", "size")),  # id, binary, size
    AC_WS_MESSAGE: ("websocket", ("int", "size", "size", "flag")),  # + binary
    AC_WS_CLOSE: ("websocket", ("int", "int", "str")),  # id, code, reason
    AC_WS_CREDIT: ("websocket", ("int", "size")),  # id, messages taken
    AC_WS_CONNECT: ("websocket", ("int", "str", "headers", "strings")),  # url, headers, protocols
    # id, hostname, port, secureTransport ("off", "on", "starttls"), allowHalfOpen
    AC_SOCKET_CONNECT: ("socket", ("int", "str", "int", "str", "flag")),
    AC_SOCKET_DATA: ("socket", ("int", "size", "size")),
    AC_SOCKET_END: ("socket", ("int",)),  # the writable side closed: half-close
    AC_SOCKET_CREDIT: ("socket", ("int", "size")),  # bytes the readable side may take
    AC_SOCKET_CLOSE: ("socket", ("int",)),
    AC_SOCKET_TLS: ("socket", ("int", "int")),  # startTls(): id, the new socket's id
}
ACTION_OWNERS = {kind: owner for kind, (owner, _) in ACTIONS.items()}
# The same for events (Python -> JS): what fails when one cannot be handed to JS.
EVENT_OWNERS: dict[int, str] = {
    EV_REQUEST: "stream", EV_DATA: "stream", EV_END: "stream", EV_CREDIT: "stream",
    EV_SCHEDULED: "stream", EV_FETCH_HEAD: "fetch", EV_FETCH_DATA: "fetch",
    EV_FETCH_END: "fetch", EV_FETCH_ERROR: "fetch", EV_FETCH_CREDIT: "fetch",
    EV_OP_RESULT: "op", EV_SOCKET_OPEN: "socket", EV_SOCKET_DATA: "socket",
    EV_SOCKET_END: "socket", EV_SOCKET_CREDIT: "socket", EV_SOCKET_CLOSED: "socket",
    EV_SOCKET_ERROR: "socket",
}
ACTION_NAMES = {v: k for k, v in globals().items() if k.startswith("AC_")}
if set(ACTION_NAMES) != set(ACTIONS) or not set(ACTIONS) >= DATA_ACTIONS:
    raise RuntimeError("every AC_ kind needs one row in ACTIONS")


_VALUE = re.compile(r"\bv\b")  # the value in a FIELD_TYPES test


class ActionError(ValueError):
    """An action from V8 that does not match its row of ``ACTIONS``."""


def _compile(kind: int, fields: tuple[str, ...]) -> Callable[[list[Any], int], bool]:
    """One function testing a whole action of ``kind``: ``(action, outBin size) -> ok``.

    Compiled from the table once (as dataclasses compiles ``__init__``), so that a good
    action costs a few inline tests and one call, not a call per field.
    """
    tests = [f"len(a) == {len(fields) + 1}"]
    tests += ["(" + _VALUE.sub(f"a[{i}]", FIELD_TYPES[t]) + ")" for i, t in enumerate(fields, 1)]
    if kind in DATA_ACTIONS:
        tests.append("a[2] + a[3] <= out_size")
    scope: dict[str, Any] = {}
    exec(f"def ok(a, out_size):\n    return {' and '.join(tests)}\n", scope)
    return scope["ok"]


_FIELD_TESTS = {t: eval(f"lambda v: {test}") for t, test in FIELD_TYPES.items()}
_CHECKS = {kind: _compile(kind, fields) for kind, (_, fields) in ACTIONS.items()}


def header_pairs(flat: list[str]) -> list[list[str]]:
    """An action's headers (flat: name, value, ...) as the protocol's [name, value] pairs."""
    return [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]


def valid_action(action: Any, out_size: int) -> bool:
    """Whether ``action`` matches its row of ``ACTIONS`` (a data action's bytes inside
    outBin, ``out_size`` bytes). Cheap: the bridge asks it for every action."""
    kind = action[0] if type(action) is list and action else None
    ok = _CHECKS.get(kind) if type(kind) is int else None
    return ok is not None and ok(action, out_size)


def check_action(action: Any, out_size: int) -> None:
    """Raise :class:`ActionError`, saying what is wrong, unless ``valid_action``."""
    if not valid_action(action, out_size):
        raise action_error(action, out_size)


def action_error(action: Any, out_size: int) -> ActionError:
    """The error saying what is wrong with ``action`` (only asked for a malformed one)."""
    kind = action[0] if type(action) is list and action else None
    row = ACTIONS.get(kind) if type(kind) is int else None
    if row is None:
        return ActionError(f"unknown action {_brief(action)}")
    name, fields = ACTION_NAMES[kind], row[1]
    if len(action) != len(fields) + 1:
        return ActionError(f"{name}: expected {len(fields)} fields, got {len(action) - 1}")
    for i, t in enumerate(fields, 1):
        if not _FIELD_TESTS[t](action[i]):
            return ActionError(f"{name}: field {i} must be {t}, got {_brief(action[i])}")
    return ActionError(f"{name}: bytes {action[2]}+{action[3]} lie outside outBin "
                       f"({out_size} bytes)")


_repr = reprlib.Repr()  # bounded, whatever the size or depth of a malformed action
_repr.maxlevel, _repr.maxlist, _repr.maxdict, _repr.maxstring = 3, 6, 4, 40
_brief = _repr.repr


def js_kinds() -> dict[str, int | list[int]]:
    """Every kind by name, and ``DATA_ACTIONS``, as the runtime's JS files get them
    (``internals.kinds``)."""
    kinds: dict[str, int | list[int]] = {
        k: v for k, v in globals().items() if k[:3] in ("AC_", "EV_")}
    kinds["DATA_ACTIONS"] = sorted(DATA_ACTIONS)
    return kinds
