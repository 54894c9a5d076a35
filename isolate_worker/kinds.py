"""Event and action kinds of the bridge (the numbers the JS files use too).

Events go Python -> JS, actions JS -> Python; the channel is described in js/29_host.js,
serving in js/90_serve.js, outbound fetch in js/34_fetch.js, native ops in ops.py.
"""

# events
EV_REQUEST, EV_DATA, EV_END, EV_CANCEL, EV_CREDIT = 1, 2, 3, 4, 5
EV_FETCH_HEAD, EV_FETCH_DATA, EV_FETCH_END, EV_FETCH_ERROR, EV_FETCH_CREDIT = 6, 7, 8, 9, 10
EV_OP_RESULT = 11
EV_SCHEDULED = 12
EV_WS_MESSAGE, EV_WS_CLOSE, EV_WS_CREDIT, EV_WS_OPEN, EV_WS_ERROR = 13, 14, 15, 16, 17

# actions
AC_HEAD, AC_DATA, AC_END, AC_ERROR, AC_CREDIT, AC_LOG, AC_DONE = 1, 2, 3, 4, 5, 6, 7
AC_FETCH, AC_FETCH_DATA, AC_FETCH_END, AC_FETCH_CREDIT, AC_FETCH_ABORT = 8, 9, 10, 11, 12
AC_FORWARD = 13
AC_OP, AC_OP_DATA = 14, 15
AC_WS_ACCEPT, AC_WS_DATA, AC_WS_SEND, AC_WS_CLOSE, AC_WS_CREDIT, AC_WS_CONNECT = (
    16, 17, 18, 19, 20, 21)
WS_ACTIONS = frozenset({AC_WS_ACCEPT, AC_WS_DATA, AC_WS_SEND, AC_WS_CLOSE, AC_WS_CREDIT,
                        AC_WS_CONNECT})  # js/37_websocket.js, websocket.py

# actions whose bytes are in outBin: [kind, id, offset, length]
DATA_ACTIONS = frozenset({AC_DATA, AC_FETCH_DATA, AC_OP_DATA, AC_WS_DATA})
