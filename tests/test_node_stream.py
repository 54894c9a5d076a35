"""node:stream (and stream/promises, stream/web), node:timers (and timers/promises) and
process.stdout / process.stderr under ``nodejs_compat``: one project (bundling node:stream is
most of the cost) runs in one isolate until its script sets ``globalThis.__result``, after its
timers and promises have run; each test checks its part of that result."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from isoflow.isolate_worker import script
from isoflow.isolate_worker.bridge import Bridge, BridgeConfig
from tests.conftest import write_files

AC_LOG = 6  # the action a console call sends (js/29_host.js)


def run_until_result(root, source: str, limit: float = 5.0) -> tuple[object, list[tuple[str, str]]]:
    """Load ``source`` as ``src/index.js`` with nodejs_compat, let the loop run until it sets
    ``globalThis.__result``; that result (JSON) and the (level, text) of each console line."""
    write_files(root, {"src/index.js": source})
    logs: list[tuple[str, str]] = []

    def on_action(action, data):
        if isinstance(action, list) and action and action[0] == AC_LOG:
            logs.append((action[1], action[3]))

    async def scenario() -> str:
        loop = asyncio.get_running_loop()
        bridge = Bridge(loop, on_action, lambda failure: None, BridgeConfig())
        try:
            script.load(bridge.eval, root / "src/index.js", compat_flags=("nodejs_compat",))
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                await asyncio.sleep(0.005)
                if bridge.eval("globalThis.__result !== undefined") is True:
                    break
            return bridge.eval("JSON.stringify(globalThis.__result ?? null)")
        finally:
            bridge.close()

    return json.loads(asyncio.run(scenario())), logs


SOURCE = """
        const stream = require('node:stream');
        const { Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished } = stream;
        const { Buffer } = require('node:buffer');
        const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
        const code = (f) => { try { f(); return null; } catch (e) { return e.code; } };

        const streamPromises = require('node:stream/promises');
        const web = require('node:stream/web');
        const timers = require('node:timers');
        const timersPromises = require('node:timers/promises');
        const process = require('node:process');

        const results = {};

        /** The core classes: each check's values into `out`. */
        async function core(out) {
          // paused mode: read(n) takes bytes off the buffer; 'readable' says there is more (a
          // 'readable' listener keeps the stream paused: isPaused() is true)
          const paused = new Readable({ read() {} });
          paused.push('hello '); paused.push(Buffer.from('world'));
          const readable = [];
          paused.on('readable', () => readable.push(paused.readableLength));
          await tick();
          out.paused = [String(paused.read(3)), String(paused.read()), paused.read(), readable,
                        paused.isPaused(), paused.readableFlowing];

          // flowing mode: a 'data' listener starts the flow; pause() stops it until resume()
          const chunks = ['a', 'b', 'c'];
          const flowing = new Readable({ read() { this.push(chunks.length ? chunks.shift() : null); } });
          flowing.setEncoding('utf8');
          const seen = [];
          flowing.on('data', (chunk) => {
            seen.push(chunk);
            if (chunk === 'a') { flowing.pause(); seen.push(`paused:${flowing.isPaused()}`); setTimeout(() => flowing.resume(), 1); }
          });
          await new Promise((resolve) => flowing.on('end', resolve));
          out.flowing = [seen, flowing.readableEnded, flowing.readableFlowing];

          // object mode: any value but null is one chunk; the highWaterMark counts objects
          const objects = new Readable({ objectMode: true, read() {} });
          const pushed = [objects.push({ n: 1 }), objects.push(0), objects.push('s')];
          out.objects = [pushed, objects.readableLength, objects.readableHighWaterMark,
                         objects.read(), objects.read(), objects.readableLength];

          // backpressure: the first write starts at once; write() is false once the buffered
          // length reaches the highWaterMark,
          // then 'drain' once the buffer is empty again
          const events = [];
          const slow = new Writable({
            highWaterMark: 4,
            write(chunk, encoding, callback) { events.push(`write ${chunk}`); setTimeout(callback, 1); },
          });
          slow.on('drain', () => events.push(`drain ${slow.writableLength}`));
          events.push(slow.write('ab'), slow.write('cd'), slow.writableNeedDrain, slow.writableLength);
          await new Promise((resolve) => slow.once('drain', resolve));
          slow.end('!');
          await new Promise((resolve) => slow.on('finish', resolve));
          out.backpressure = [events, slow.writableFinished];

          // Transform with flush, then PassThrough, through pipeline()
          const upper = new Transform({
            transform(chunk, encoding, callback) { callback(null, String(chunk).toUpperCase()); },
            flush(callback) { this.push('.'); callback(); },
          });
          const collected = [];
          const sink = new Writable({ write(chunk, e, callback) { collected.push(String(chunk)); callback(); } });
          const error = await new Promise((resolve) => pipeline(Readable.from(['x', 'y']), upper, new PassThrough(), sink, resolve));
          out.pipeline = [error === undefined, collected];

          // an error in the middle: the callback gets it and every stream is destroyed
          const source = new Readable({ read() { this.push('data'); } });
          const failing = new Transform({ transform(c, e, callback) { callback(new Error('broken')); } });
          const dest = new Writable({ write(c, e, callback) { callback(); } });
          const failure = await new Promise((resolve) => pipeline(source, failing, dest, resolve));
          out.pipelineError = [failure.message, source.destroyed, failing.destroyed, dest.destroyed];

          // finished(): normal end, and a close before the end
          const done = new PassThrough();
          const finishedWith = new Promise((resolve) => finished(done, (err) => resolve(err === undefined ? 'ok' : err.code)));
          done.resume(); done.end('z');
          const early = new PassThrough();
          const earlyWith = new Promise((resolve) => finished(early, (err) => resolve(err.code)));
          early.destroy();
          out.finished = [await finishedWith, await earlyWith];

          // destroy(err): 'error' then 'close', once; errored / destroyed report it
          const order = [];
          const d = new Duplex({ read() {}, write(c, e, cb) { cb(); } });
          d.on('error', (e) => order.push(`error ${e.message}`));
          d.on('close', () => order.push('close'));
          d.destroy(new Error('bad')); d.destroy(new Error('again'));
          order.push(`sync ${d.destroyed}`);
          await tick();
          out.destroy = [order, d.errored.message, d.closed];

          // Readable.from(async iterable) and async iteration; a break destroys the stream
          async function* numbers() { for (let i = 1; i <= 5; i++) { await null; yield i; } }
          const iterated = [];
          for await (const n of Readable.from(numbers())) iterated.push(n);
          const broken = Readable.from(numbers());
          for await (const n of broken) { if (n === 2) break; }
          out.iterate = [iterated, broken.destroyed, await Readable.from([1, 2, 3, 4]).filter((n) => n % 2 === 0).map((n) => n * 10).toArray()];

          out.errors = [code(() => new Writable().write(null)), code(() => new Readable({ highWaterMark: -1 })),
                        code(() => Readable.from(42)), await new Promise((resolve) => {
                          const w = new Writable({ write(c, e, cb) { cb(); } });
                          w.on('error', (e) => resolve(e.code)); w.end(); w.write('late');
                        })];
          out.misc = [stream.Stream === stream, new PassThrough() instanceof Writable,
                      new Transform() instanceof Duplex, stream.getDefaultHighWaterMark(false),
                      stream.getDefaultHighWaterMark(true), stream.isReadable(Readable.from([])),
                      stream.isErrored(d), stream.isDisturbed(broken), typeof stream.compose];
        }

        /** Web adapters, stream/promises, the timers and process.stdout. */
        async function webAndTimers(out) {
          // toWeb / fromWeb round trip: bytes come out as Uint8Arrays, go back as Buffers
          const webReadable = Readable.toWeb(Readable.from([Buffer.from('ab'), Buffer.from('cd')], { objectMode: false }));
          const back = Readable.fromWeb(webReadable, { encoding: 'utf8' });
          let text = '';
          for await (const chunk of back) text += chunk;
          const reader = Readable.toWeb(Readable.from(['p', 'q'])).getReader();
          const first = await reader.read();
          const written = [];
          const webWritable = Writable.toWeb(new Writable({ write(c, e, cb) { written.push(String(c)); cb(); } }));
          const writer = webWritable.getWriter();
          await writer.write(new TextEncoder().encode('w1')); await writer.close();
          const sunk = [];
          const fromWebWritable = Writable.fromWeb(new WritableStream({ write(chunk) { sunk.push(new TextDecoder().decode(chunk)); } }));
          await streamPromises.pipeline(Readable.from(['s1', 's2']), fromWebWritable);
          const pair = Duplex.fromWeb(new TransformStream({ transform(c, ctl) { ctl.enqueue(c.toUpperCase()); } }), { objectMode: true });
          pair.end('dup');
          const [dup] = await pair.toArray();
          out.web = [text, first.value, written, sunk, dup, web.ReadableStream === ReadableStream,
                     web.TransformStream === TransformStream, typeof web.CompressionStream,
                     typeof web.TextDecoderStream, typeof web.CountQueuingStrategy];

          // stream/promises: pipeline resolves (or rejects with the error), finished too
          const pt = new PassThrough();
          const finishedPt = streamPromises.finished(pt);
          pt.resume(); pt.end('x');
          await finishedPt;
          const rejected = await streamPromises.pipeline(
            Readable.from(['a']), async function* (source) { for await (const c of source) throw new Error(`no ${c}`); },
          ).then(() => 'resolved', (e) => e.message);
          out.promises = [rejected, require('node:stream').promises === streamPromises];

          // timers/promises: values, AbortSignal (an AbortError, code ABORT_ERR), setInterval
          const value = await timersPromises.setTimeout(2, 'later');
          const immediate = await timersPromises.setImmediate('now');
          const ac = new AbortController();
          const cancelled = timersPromises.setTimeout(10000, 'never', { signal: ac.signal });
          ac.abort();
          const abortError = await cancelled.catch((e) => [e.name, e.code]);
          const ticks = [];
          for await (const v of timersPromises.setInterval(1, 'tick')) { ticks.push(v); if (ticks.length === 3) break; }
          const ac2 = new AbortController();
          const interval = timersPromises.setInterval(1, 'i', { signal: ac2.signal });
          await interval.next();
          ac2.abort();
          const intervalAbort = await interval.next().catch((e) => e.name);
          const preAborted = await timersPromises.setImmediate('x', { signal: AbortSignal.abort() }).catch((e) => e.code);
          out.timersPromises = [value, immediate, abortError, ticks, intervalAbort, preAborted];

          // node:timers: Timeout objects (unref, refresh, a number as a primitive), immediates in order
          const order = [];
          const t = timers.setTimeout(() => order.push('cleared'), 1);
          timers.clearTimeout(t);
          const n = timers.setTimeout(() => order.push('by number'), 1);
          timers.clearTimeout(+n);
          timers.setImmediate(() => order.push('immediate 1'));
          const im = timers.setImmediate(() => order.push('skipped'));
          timers.setImmediate((a, b) => order.push(`immediate ${a + b}`), 1, 1);
          timers.clearImmediate(im);
          const kept = timers.setTimeout(function () { order.push(`timeout ${this === kept}`); }, 3);
          await timersPromises.setTimeout(20);
          out.timers = [order, kept.unref() === kept, kept.hasRef(), typeof +kept,
                        typeof timers.promises.setTimeout];

          // process.stdout / stderr: writable streams printing through console, a line at a time
          process.stdout.write('one ');
          process.stdout.write(Buffer.from('two\\nthree\\nfour'));
          process.stderr.write('oops\\n', () => {});
          await timersPromises.setTimeout(5);
          Readable.from(['piped\\n']).pipe(process.stdout);
          await timersPromises.setTimeout(5);
          // many small writes of one long line: linear, and written in 64 Ki-character pieces
          for (let i = 0; i < 20000; i++) process.stdout.write('0123456789');
          process.stdout.write('\\n');
          await timersPromises.setTimeout(5);
          out.stdio = [process.stdout.isTTY, process.stdout instanceof Writable, process.stdout.writable];
        }

        (async () => {
          for (const [name, part] of [['core', core], ['web', webAndTimers]]) {
            const out = {};
            try {
              await part(out);
            } catch (e) {
              out.failed = String(e && e.stack);
            }
            results[name] = out;
          }
          globalThis.__result = results;
        })();
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The one isolate run all checks share (bundling node:stream takes most of the time)."""
    result, logs = run_until_result(tmp_path_factory.mktemp("stream"), SOURCE)
    return {"result": result, "logs": logs}


def test_readable_writable_transform_and_pipeline(project):
    assert project["result"]["core"] == {
        "paused": ["hel", "lo world", None, [11], True, False],
        "flowing": [["a", "paused:true", "b", "c"], True, True],
        "objects": [[True, True, True], 3, 16, {"n": 1}, 0, 1],
        "backpressure": [["write ab", True, False, True, 4, "write cd", "drain 0", "write !"], True],
        "pipeline": [True, ["X", "Y", "."]],
        "pipelineError": ["broken", True, True, True],
        "finished": ["ok", "ERR_STREAM_PREMATURE_CLOSE"],
        "destroy": [["sync true", "error bad", "close"], "bad", True],
        "iterate": [[1, 2, 3, 4, 5], True, [20, 40]],
        "errors": ["ERR_STREAM_NULL_VALUES", "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE",
                   "ERR_STREAM_WRITE_AFTER_END"],
        "misc": [True, True, True, 65536, 16, True, True, True, "function"],
    }




def test_web_adapters_promises_timers_and_stdio(project):
    assert project["result"]["web"] == {
        "web": ["abcd", "p", ["w1"], ["s1", "s2"], "DUP", True, True, "function", "function",
                "function"],
        "promises": ["no a", True],
        "timersPromises": ["later", "now", ["AbortError", "ABORT_ERR"], ["tick", "tick", "tick"],
                           "AbortError", "ABORT_ERR"],
        "timers": [["immediate 1", "immediate 2", "timeout true"], True, False, "number",
                   "function"],
        "stdio": [False, True, True],
    }
    # "one " waits for its line's end; "four" (no newline) is printed once the task is over
    long = "0123456789" * 20000
    assert project["logs"] == [("info", "one two"), ("info", "three"), ("error", "oops"),
                               ("info", "four"), ("info", "piped"), ("info", long[:65540]),
                               ("info", long[65540:131080]), ("info", long[131080:196620]),
                               ("info", long[196620:])]
