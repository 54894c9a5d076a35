"""Fuzzing the bridge's event writing with a real V8 isolate: events from empty to several
times the size of each shared buffer (inJson, inBin), carrying arbitrary text and bytes,
all cross into JavaScript intact and in order, and the pump keeps serving afterwards.

A test event kind, registered through ``extra_runtime``, echoes what JS received (the text,
the byte count and a checksum) back as a log action (the bridge passes only actions of
``kinds.ACTIONS``): ``[AC_LOG, "echo <count> <checksum>", index, text]``.
"""

from __future__ import annotations

import asyncio
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoflow.isolate_worker.bridge import Bridge, BridgeConfig, encode_event
from isoflow.isolate_worker.kinds import AC_LOG

IN_JSON = 4 << 10  # tiny buffers, so that examples reach several times their size
IN_BIN = 4 << 10
ECHO = 99
ECHO_JS = """
internals.host.on(99, (ev) => {
  const bytes = ev.length > 3 ? internals.host.eventBytes(ev) : null;
  let sum = 1, sum2 = 0;  // Adler-32, as zlib.adler32 computes it
  if (bytes !== null) {
    for (let i = 0; i < bytes.length; i++) {
      sum = (sum + bytes[i]) % 65521;
      sum2 = (sum2 + sum) % 65521;
    }
  }
  const n = bytes === null ? -1 : bytes.length;
  internals.host.queueAction([internals.kinds.AC_LOG, `echo ${n} ${sum2 * 65536 + sum}`,
                              ev[1], ev[2]]);
});
"""

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Header-like text: each code unit one byte (latin-1), as header bytes reach the script;
# plus some text beyond U+00FF (the ASCII-escape fallback) and lone surrogates.
latin1 = st.binary(max_size=3 * IN_JSON).map(lambda b: b.decode("latin-1"))
texts = latin1 | st.text(max_size=2 * IN_JSON) | st.sampled_from(["", "\ud800", "\x00\xff"])
payloads = st.none() | st.binary(max_size=3 * IN_BIN)
events = st.lists(st.tuples(texts, payloads), min_size=1, max_size=8)


class Echo:
    """A bridge whose isolate echoes every test event; collects the echoes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.echoes: list[list] = []
        self.failures: list = []
        self.arrived = asyncio.Event()
        config = BridgeConfig(in_json_size=IN_JSON, in_bin_size=IN_BIN)

        async def make() -> Bridge:
            return Bridge(asyncio.get_running_loop(), self._on_action, self.failures.append,
                          config, extra_runtime=(("test:echo.js", ECHO_JS),))

        self.bridge = self.loop.run_until_complete(make())

    def _on_action(self, action: list, data) -> None:
        if action[0] == AC_LOG and action[1].startswith("echo "):
            _, n, checksum = action[1].split()
            self.echoes.append([action[2], action[3], int(n), int(checksum)])
            self.arrived.set()

    def roundtrip(self, batch: list[tuple[str, bytes | None]]) -> list[list]:
        async def run() -> list[list]:
            self.echoes.clear()
            for i, (text, payload) in enumerate(batch):
                self.bridge.send([ECHO, i, text], payload)
            async with asyncio.timeout(20):
                while len(self.echoes) < expected:
                    self.arrived.clear()
                    await self.arrived.wait()
            return list(self.echoes)

        # A payload larger than inBin is split by send() into events of inBin bytes each.
        expected = sum(1 if p is None else max(1, -(-len(p) // IN_BIN)) for _t, p in batch)
        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.bridge.close()
        self.loop.close()


@pytest.fixture(scope="module")
def echo():
    e = Echo()
    yield e
    e.close()


def expected_echoes(batch: list[tuple[str, bytes | None]]) -> list[list]:
    out = []
    for i, (text, payload) in enumerate(batch):
        if payload is None:
            out.append([i, text, -1, 1])
            continue
        pieces = [payload[j:j + IN_BIN] for j in range(0, len(payload), IN_BIN)] or [b""]
        out.extend([i, text, len(p), zlib.adler32(p)] for p in pieces)
    return out


def js_text(text: str) -> str:
    """What JS holds after the round trip: lone surrogates come back as U+FFFD from JSON."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@FUZZ
@given(batch=events)
def test_events_of_any_size_cross_intact(echo: Echo, batch) -> None:
    got = echo.roundtrip(batch)
    want = expected_echoes(batch)
    assert [[i, js_text(t), n, s] for i, t, n, s in got] == \
        [[i, js_text(t), n, s] for i, t, n, s in want]
    assert not echo.failures and not echo.bridge.failed


def test_header_bytes_cost_one_byte_each() -> None:
    """0x80-0xFF travel as single bytes (latin-1), not as six-byte JSON escapes."""
    text = bytes(range(0x80, 0x100)).decode("latin-1")
    assert len(encode_event([1, text])) == len(text) + len('[1,""]')
    assert encode_event([1, "\u20ac"]) == b'[1,"\\u20ac"]'  # beyond latin-1: escaped


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=st.lists(json_values, max_size=6))
def test_the_reused_encoder_writes_what_json_dumps_writes(value) -> None:
    """The bridge builds its C JSON encoder once (bridge._compact_encoder): same bytes as
    json.dumps, latin-1 where it fits, else ASCII escapes."""
    try:
        want = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("latin-1")
    except UnicodeEncodeError:
        want = json.dumps(value, separators=(",", ":")).encode("ascii")
    assert encode_event(value) == want


def test_an_event_that_cannot_be_encoded_fails_alone(echo: Echo) -> None:
    """It is dropped and reported; the events behind it are delivered."""
    refused = []
    echo.bridge._on_refused = lambda item, error, *, event: refused.append((item[0], event))
    try:
        async def run() -> None:
            echo.echoes.clear()
            echo.bridge.send([ECHO, 0, object()])  # not JSON
            echo.bridge.send([ECHO, 1, "after"])
            async with asyncio.timeout(10):
                while not echo.echoes:
                    echo.arrived.clear()
                    await echo.arrived.wait()

        echo.loop.run_until_complete(run())
    finally:
        echo.bridge._on_refused = None
    assert refused == [(ECHO, True)]
    assert echo.echoes == [[1, "after", -1, 1]]
