"""CPU and memory limits: the offending request gets a 503, the isolate is replaced."""

from __future__ import annotations

from tests.conftest import fetch, run

LIMITS = """
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/spin") { while (true) {} }
    if (path === "/spin-in-microtask") { await null; while (true) {} }
    if (path === "/spin-in-timer") {
      setTimeout(() => { while (true) {} }, 1);
      return new Promise(() => {});
    }
    if (path === "/oom") { const a = []; while (true) a.push(new Array(100000).fill(1.5)); }
    globalThis.counter = (globalThis.counter ?? 0) + 1;
    return new Response(`alive ${globalThis.counter}`);
  },
};
"""


def start(serve):
    return serve(LIMITS, "--cpu-limit", "0.3", "--memory-limit", "64", workers=1,
                 name="limits.mjs")


def test_endless_loop_in_handler_gets_503_and_isolate_is_replaced(serve):
    server = start(serve)
    assert run(fetch(server.url("/")))[2] == b"alive 1"
    status, _, body = run(fetch(server.url("/spin")))
    assert status == 503
    assert b"CPU time limit" in body
    # A fresh isolate: the global counter starts again.
    assert run(fetch(server.url("/")))[2] == b"alive 1"
    server.wait_log("exceeded its CPU time limit; replacing the isolate")


def test_endless_loop_after_an_await_is_stopped_too(serve):
    server = start(serve)
    status, _, body = run(fetch(server.url("/spin-in-microtask")))
    assert status == 503 and b"CPU time limit" in body
    assert run(fetch(server.url("/")))[0] == 200


def test_endless_loop_in_a_timer_is_stopped(serve):
    server = start(serve)
    status, _, body = run(fetch(server.url("/spin-in-timer")))
    assert status == 503 and b"CPU time limit" in body
    assert run(fetch(server.url("/")))[0] == 200


def test_memory_blow_up_gets_503_and_isolate_is_replaced(serve):
    server = start(serve)
    status, _, body = run(fetch(server.url("/oom")))
    assert status == 503
    assert b"memory limit" in body
    assert run(fetch(server.url("/")))[2] == b"alive 1"
