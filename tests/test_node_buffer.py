"""node:buffer, node:events, node:util and node:path where they must match Node exactly:
argument checks with Node's error codes and messages, and the edge cases of methods that
libraries call. Each test is one isolate (``run_project``) checking many things at once."""

from __future__ import annotations

from tests.test_node_compat import run_project

# Runs a check and gives back what it threw as [code, constructor name, message], or its value.
CATCH = """
const caught = (fn) => {
  try { const value = fn(); return ['returned', value === undefined ? null : value]; }
  catch (e) { return [e.code ?? null, e.constructor.name, e.message]; }
};
"""


def test_buffer_construction_and_argument_errors_follow_node(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import { Buffer, kMaxLength, constants } from 'node:buffer';
        const B: any = Buffer;
        const ab = new ArrayBuffer(8);
        globalThis.__result = {
          // Buffer is a function: the old Buffer(size) and new Buffer(string) still work
          called: [B(3).length, new B('hi').toString(), B([1, 2]).length,
                   Buffer.isBuffer(B(1)), B(1) instanceof Buffer, B(1).constructor === Buffer],
          sizeWithEncoding: caught(() => new B(2, 'utf8')),
          // typed arrays are copied element by element, each truncated to a byte
          wide: [...Buffer.from(new Uint16Array([1, 256, 513]))],
          sharesMemory: (() => { const b = Buffer.from(ab, 2, 4); b[0] = 7;
                                 return new Uint8Array(ab)[2]; })(),
          pastEnd: [caught(() => Buffer.from(ab, 9)), caught(() => Buffer.from(ab, 2, 7))],
          notAnEncoding: Buffer.from('hé', 5 as any).length,
          stopsAtPadding: [Buffer.from('=bad'.repeat(10), 'base64').length,
                           Buffer.from('aGk=aGk=', 'base64').toString()],
          sizes: [caught(() => Buffer.alloc('1' as any)), caught(() => Buffer.alloc(-1)),
                  kMaxLength === 2 ** 53 - 1 && constants.MAX_LENGTH === kMaxLength],
          args: [caught(() => Buffer.compare(Buffer.alloc(1), 'x' as any)),
                 caught(() => Buffer.concat('x' as any)),
                 caught(() => Buffer.concat([Buffer.alloc(1), 'x' as any])),
                 caught(() => Buffer.alloc(1).equals([1] as any)),
                 caught(() => Buffer.byteLength(5 as any)),
                 caught(() => Buffer.from(5 as any))],
          byteLength: [Buffer.byteLength(new SharedArrayBuffer(3) as any),
                       Buffer.byteLength('aGk', 'base64'), Buffer.byteLength('abcd', 'hex')],
          concat: [...Buffer.concat([Buffer.from([1]), Buffer.from([2])], 4)],
          copyBytesFrom: [...Buffer.copyBytesFrom(new Uint16Array([1, 2, 3]), 1, 1)],
          of: [...(Buffer as any).of(1, 257)],
        };
    """})
    received = "Received type string ('x')"
    assert result == {
        "called": [3, "hi", 2, True, True, True],
        "sizeWithEncoding": ["ERR_INVALID_ARG_TYPE", "TypeError",
                             'The "string" argument must be of type string. '
                             "Received type number (2)"],
        "wide": [1, 0, 1], "sharesMemory": 7,
        "pastEnd": [["ERR_BUFFER_OUT_OF_BOUNDS", "RangeError",
                     '"offset" is outside of buffer bounds'],
                    ["ERR_BUFFER_OUT_OF_BOUNDS", "RangeError",
                     '"length" is outside of buffer bounds']],
        "notAnEncoding": 3, "stopsAtPadding": [0, "hi"],
        "sizes": [["ERR_INVALID_ARG_TYPE", "TypeError",
                   'The "size" argument must be of type number. ' + "Received type string ('1')"],
                  ["ERR_OUT_OF_RANGE", "RangeError",
                   'The value of "size" is out of range. It must be >= 0 && <= '
                   "9007199254740991. Received -1"], True],
        "args": [["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "buf2" argument must be an instance of Buffer or Uint8Array. ' + received],
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "list" argument must be an instance of Array. ' + received],
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "list[1]" argument must be an instance of Buffer or Uint8Array. '
                  + received],
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "otherBuffer" argument must be an instance of Buffer or Uint8Array. '
                  "Received an instance of Array"],
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "string" argument must be of type string or an instance of Buffer or '
                  "ArrayBuffer. Received type number (5)"],
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  "The first argument must be of type string or an instance of Buffer, "
                  "ArrayBuffer, or Array or an Array-like Object. Received type number (5)"]],
        "byteLength": [3, 2, 2], "concat": [1, 2, 0, 0], "copyBytesFrom": [2, 0], "of": [1, 1],
    }


def test_buffer_reads_writes_and_bounds_follow_node(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import { Buffer } from 'node:buffer';
        const b = Buffer.alloc(4);
        globalThis.__result = {
          offsets: [caught(() => b.readUInt8(1.5)), caught(() => b.readUInt8('1' as any)),
                    caught(() => b.readUInt16LE(3)), caught(() => Buffer.alloc(2).readUInt32LE(0)),
                    caught(() => b.readUIntBE(0, 7)), caught(() => (b as any).readUIntLE())],
          values: [caught(() => b.writeUInt8(300)), caught(() => b.writeInt16BE(-40000)),
                   caught(() => Buffer.alloc(6).writeUIntLE(2 ** 48, 0, 6)),
                   caught(() => Buffer.alloc(8).writeBigUInt64LE(-1n)),
                   caught(() => Buffer.alloc(8).writeBigInt64LE(1 as any))],
          written: [b.writeUInt16BE('258' as any, 1), [...b]],
          // utf8 writes whole characters only; ucs2 whole code units
          partial: [Buffer.alloc(2).write('aé'), Buffer.alloc(3).write('ab', 'utf16le')],
          writeArgs: [caught(() => b.write('x', 5)), caught(() => b.write('x', 0, 9)),
                      caught(() => b.write(1 as any))],
          toString: [caught(() => Buffer.from('abc').toString(null as any)),
                     Buffer.from('abc').toString('utf8', 2, 1), Buffer.from('abc').toString('utf8', -1, 2.9),
                     Buffer.from('abc').toString(undefined, 1)],
          copy: [caught(() => b.copy('x' as any)), caught(() => b.copy(Buffer.alloc(2), 0, 5)),
                 (() => { const t = new Uint16Array(2); Buffer.from([1, 2, 3, 4]).copy(t, 1);
                          return [...new Uint8Array(t.buffer)]; })(),
                 (() => { const s = Buffer.from('abcdef'); s.copy(s, 2, 0, 4); return s.toString(); })()],
          compare: [Buffer.from('abc').compare(Buffer.from('xbc'), 1, 3, 1, 3),
                    caught(() => Buffer.from('abc').compare(Buffer.from('x'), 0, 5)),
                    caught(() => Buffer.from('abc').compare('x' as any))],
        };
    """})
    assert result == {
        "offsets": [
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "offset" is out of range. It must be an integer. Received 1.5'],
            ["ERR_INVALID_ARG_TYPE", "TypeError",
             'The "offset" argument must be of type number. ' + "Received type string ('1')"],
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "offset" is out of range. It must be >= 0 and <= 2. Received 3'],
            ["ERR_BUFFER_OUT_OF_BOUNDS", "RangeError", "Attempt to access memory outside buffer bounds"],
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "byteLength" is out of range. It must be >= 1 and <= 6. Received 7'],
            ["ERR_INVALID_ARG_TYPE", "TypeError",
             'The "offset" argument must be of type number. Received undefined']],
        "values": [
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "value" is out of range. It must be >= 0 and <= 255. Received 300'],
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "value" is out of range. It must be >= -32768 and <= 32767. '
             "Received -40000"],
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "value" is out of range. It must be >= 0 and < 2 ** 48. '
             "Received 281_474_976_710_656"],
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "value" is out of range. It must be >= 0n and < 2n ** 64n. '
             "Received -1n"],
            [None, "TypeError", "Cannot mix BigInt and other types, use explicit conversions"]],
        "written": [3, [0, 1, 2, 0]],
        "partial": [1, 2],
        "writeArgs": [
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "offset" is out of range. It must be >= 0 && <= 4. Received 5'],
            ["ERR_OUT_OF_RANGE", "RangeError",
             'The value of "length" is out of range. It must be >= 0 && <= 4. Received 9'],
            ["ERR_INVALID_ARG_TYPE", "TypeError",
             'The "argument" argument must be of type string. Received type number (1)']],
        "toString": [["ERR_UNKNOWN_ENCODING", "TypeError", "Unknown encoding: null"], "", "ab", "bc"],
        "copy": [["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "target" argument must be an instance of Buffer or Uint8Array. '
                  "Received type string ('x')"],
                 ["ERR_OUT_OF_RANGE", "RangeError",
                  'The value of "sourceStart" is out of range. It must be >= 0 && <= 4. '
                  "Received 5"],
                 [0, 1, 2, 3], "ababcd"],  # targetStart counts bytes of any view
        "compare": [0,
                    ["ERR_OUT_OF_RANGE", "RangeError",
                     'The value of "targetEnd" is out of range. It must be >= 0 && <= 1. '
                     "Received 5"],
                    ["ERR_INVALID_ARG_TYPE", "TypeError",
                     'The "target" argument must be an instance of Buffer or Uint8Array. '
                     "Received type string ('x')"]],
    }


def test_buffer_search_fill_swap_and_encoding_methods(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import { Buffer, isAscii, isUtf8 } from 'node:buffer';
        import buffer from 'node:buffer';
        import { inspect } from 'node:util';
        const abc = Buffer.from('abcabc');
        const swapped = (n: number, m: string) => [...(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) as any)[m]()];
        const inspected = [inspect(Buffer.from('hi')), inspect(Buffer.alloc(60)).slice(-20)];
        (buffer as any).INSPECT_MAX_BYTES = 1;
        inspected.push(inspect(Buffer.from('hi')));
        const tagged: any = Buffer.from('a'); tagged.tag = 1;
        inspected.push(inspect(tagged));
        (buffer as any).INSPECT_MAX_BYTES = 50;
        globalThis.__result = {
          indexOf: [abc.indexOf('c', null as any), abc.indexOf('', 10), abc.indexOf('bc', -3),
                    abc.indexOf(0x62 + 256), abc.indexOf('b', 'latin1'), abc.indexOf('c', 3.9)],
          lastIndexOf: [abc.lastIndexOf('c', 4), abc.lastIndexOf('b', -5), abc.lastIndexOf('a', -7),
                        abc.lastIndexOf(0x63, 100), abc.lastIndexOf(''), abc.lastIndexOf('c', NaN)],
          // utf16le matches start on a code unit
          ucs2: [Buffer.from('\\u6100\\u0062', 'utf16le').indexOf('a', 0, 'utf16le'),
                 Buffer.from('ab', 'utf16le').includes('b', 0, 'utf16le')],
          searchArgs: caught(() => abc.indexOf({} as any)),
          fill: [[...Buffer.alloc(3, 1).fill('')], Buffer.alloc(5, 'ab').fill('xy', 1, 4).toString(),
                 Buffer.alloc(4).fill('6869', 'hex').toString(), [...Buffer.alloc(2).fill(true as any)],
                 caught(() => Buffer.alloc(2).fill('zz', 'hex')),
                 caught(() => Buffer.alloc(2).fill('a', 0, 3)),
                 caught(() => Buffer.alloc(2).fill('a', 'nope' as any))],
          swap: [swapped(8, 'swap16'), swapped(8, 'swap32'), swapped(8, 'swap64'),
                 caught(() => Buffer.alloc(3).swap16())],
          perEncoding: [(() => { const b = Buffer.alloc(4); return [(b as any).utf8Write('hé', 1), [...b]]; })(),
                        (Buffer.from('hi') as any).hexSlice(), (Buffer.from('hé', 'latin1') as any).latin1Slice(1),
                        caught(() => (Buffer.alloc(1) as any).asciiWrite('ww', 0, 2))],
          checks: [isAscii(Buffer.from('abc')), isAscii(Buffer.from('é')), isUtf8(new Uint8Array([0xff])),
                   caught(() => isAscii('abc' as any))[0]],
          inspected,
          toLocale: Buffer.prototype.toLocaleString === Buffer.prototype.toString,
        };
    """})
    assert result == {
        "indexOf": [2, 6, 4, 1, 1, 5],
        "lastIndexOf": [2, 1, -1, 5, 6, 5],
        "ucs2": [-1, True],
        "searchArgs": ["ERR_INVALID_ARG_TYPE", "TypeError",
                       'The "value" argument must be one of type number or string or an instance '
                       "of Buffer or Uint8Array. Received an instance of Object"],
        "fill": [[0, 0, 0], "axyxa", "hihi", [1, 1],
                 ["ERR_INVALID_ARG_VALUE", "TypeError",
                  "The argument 'value' is invalid. Received 'zz'"],
                 ["ERR_OUT_OF_RANGE", "RangeError",
                  'The value of "end" is out of range. It must be >= 0 && <= 2. Received 3'],
                 ["ERR_UNKNOWN_ENCODING", "TypeError", "Unknown encoding: nope"]],
        "swap": [[2, 1, 4, 3, 6, 5, 8, 7], [4, 3, 2, 1, 8, 7, 6, 5], [8, 7, 6, 5, 4, 3, 2, 1],
                 ["ERR_INVALID_BUFFER_SIZE", "RangeError", "Buffer size must be a multiple of 16-bits"]],
        "perEncoding": [[3, [0, 104, 195, 169]], "6869", "é",
                        ["ERR_BUFFER_OUT_OF_BOUNDS", "RangeError", '"length" is outside of buffer bounds']],
        "checks": [True, False, False, "ERR_INVALID_ARG_TYPE"],
        "inspected": ["<Buffer 68 69>", "0 ... 10 more bytes>", "<Buffer 68 ... 1 more byte>",
                      "<Buffer 61, tag: 1>"],
        "toLocale": True,
    }


def test_events_util_path_and_process_follow_node(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import EventEmitter from 'node:events';
        import util from 'node:util';
        import path from 'node:path';
        import process from 'node:process';
        const warnings: any[] = [];
        process.on('warning', (w: any) => warnings.push([w.name, w.message.slice(0, 60), w.count ?? null]));
        const e = new EventEmitter();
        e.setMaxListeners(1);
        e.on('x', () => {}); e.on('x', () => {});
        process.emitWarning('careful', 'MyWarning');
        const old = util.deprecate((x: number) => x * 2, 'old api', 'DEP_X');
        const doubled = [old(1), old(2)];  // warns once
        const plain: any = {};
        EventEmitter.prototype.on.call(plain, 'y', () => {});
        const cb = util.callbackify(async function work(a: number) { return a; });
        const falsy = util.callbackify(() => Promise.reject(0));
        falsy((err: any) => { globalThis.__result.falsy = [err.code, err.reason]; });
        util.promisify((cb: any) => cb(null, 'first', 'second'))().then((v: any) => {
          globalThis.__result.promisified = v;
        });
        globalThis.__result = {
          events: [caught(() => e.on('x', null as any)), caught(() => e.setMaxListeners(-1)),
                   caught(() => e.emit('error', 'text')), caught(() => e.emit('error')),
                   caught(() => EventEmitter.setMaxListeners(1, 'x' as any)),
                   EventEmitter.prototype.listenerCount.call(plain, 'y'),
                   caught(() => new EventEmitter({ captureRejections: 1 as any })),
                   (() => { const t = new EventTarget(); const before = (EventEmitter as any).getMaxListeners(t);
                            EventEmitter.setMaxListeners(3, t);
                            return [before, (EventEmitter as any).getMaxListeners(t),
                                    (EventEmitter as any).getMaxListeners(new AbortController().signal)]; })()],
          format: [util.format(), util.format('%s:%s', undefined), util.format('%d %d', 42),
                   util.format('%s', -0), util.format('%i', 42n), util.format('%%s', 1),
                   util.format('%s', { toString() { return 'custom'; } }), util.format('a', 'b', 1),
                   util.format('%o'), util.format('%s%', 'x'),
                   util.format('%s', new Date(0)), util.format('%s', new (class Foo {
                     toString() { return 'Bar'; } })()),
                   util.format(Object.create(Error.prototype, { name: { value: 'BadError' },
                                                                message: { value: 'foo' } })),
                   util.inspect([1, , , 4]), caught(() => util.formatWithOptions(null as any, 'x'))[0]],
          separator: (() => { util.inspect.defaultOptions.numericSeparator = true;
                              const out = [util.inspect(1234567.891), util.format('%d', 12345)];
                              util.inspect.defaultOptions.numericSeparator = false; return out; })(),
          callbackified: [cb.name, cb.length],
          deprecate: [doubled, old.length, caught(() => util.deprecate(() => {}, 'm', 1 as any))[0]],
          deepEqual: [util.isDeepStrictEqual(new Number(1), new Number(2)),
                      util.isDeepStrictEqual(new Set([{ a: 1 }]), new Set([{ a: 1 }])),
                      util.isDeepStrictEqual(new Map([[{ k: 1 }, 'v']]), new Map([[{ k: 1 }, 'v']])),
                      util.isDeepStrictEqual([1, , 3], [1, undefined, 3]),
                      util.isDeepStrictEqual(Object.defineProperty({}, 'hidden', { value: 1 }), {}),
                      util.isDeepStrictEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])),
                      util.isDeepStrictEqual({ [Symbol.for('s')]: 1 }, { [Symbol.for('s')]: 2 }),
                      // a URL's state is internal (no own keys): its href is compared
                      util.isDeepStrictEqual(new URL('http://a/'), new URL('http://b/')),
                      util.isDeepStrictEqual(new URL('http://a/x'), new URL('http://a/x'))],
          // brand checks: a Symbol.toStringTag or a prototype does not fool them
          types: [util.types.isDate({ [Symbol.toStringTag]: 'Date' }),
                  util.types.isNativeError(Object.create(Error.prototype)),
                  util.types.isNativeError(new RangeError()),
                  util.types.isArgumentsObject((function () { return arguments; })()),
                  util.types.isNumberObject(new Number(1)), util.types.isStringObject('s'),
                  util.types.isMapIterator(new Map().keys()), util.types.isSetIterator(new Set().values()),
                  util.types.isBoxedPrimitive(Object(1n)), util.types.isExternal({})],
          inherits: [caught(() => util.inherits(null as any, Object)),
                     caught(() => util.inherits(function A() {}, {} as any))],
          path: [path.dirname('//a'), path.dirname('/a//b'), path.dirname('a/b/'),
                 path.basename('aaa/bbb', 'a/bbb'), path.basename('/a/b.js/', '.js'),
                 path.extname('..'), path.extname('file.'), path.extname('.bashrc'),
                 path.parse('/srv/u/f.txt'), path.parse('./.x'), path.join(),
                 caught(() => path.format(null as any)), caught(() => path.join('a', 1 as any))],
        };
        queueMicrotask(() => queueMicrotask(() => { globalThis.__result.warnings = warnings; }));
        // events.once: an AbortSignal, an EventTarget, its options checked
        const once = (...args: any[]) => (EventEmitter as any).once(...args).then(
          (value: any) => value, (err: any) => [err.name, err.code]);
        const target = new EventTarget();
        Promise.all([once(new EventEmitter(), 'go', { signal: AbortSignal.abort() }),
                     once(target, 'ping').then(([event]: any) => event.type),
                     once(new EventEmitter(), 'go', null)]).then((onces) => {
          globalThis.__result.onces = onces;
        });
        target.dispatchEvent(new Event('ping'));
        // captureRejections: an async listener's rejection becomes an 'error' event
        const capturing = new EventEmitter({ captureRejections: true });
        capturing.on('job', async () => { throw new Error('async boom'); });
        capturing.on('error', (err: Error) => { globalThis.__result.captured = err.message; });
        capturing.emit('job');
    """})
    assert result == {
        "events": [["ERR_INVALID_ARG_TYPE", "TypeError",
                    'The "listener" argument must be of type function. Received null'],
                   ["ERR_OUT_OF_RANGE", "RangeError",
                    'The value of "setMaxListeners" is out of range. It must be >= 0. Received -1'],
                   ["ERR_UNHANDLED_ERROR", "Error", "Unhandled error. ('text')"],
                   ["ERR_UNHANDLED_ERROR", "Error", "Unhandled error."],
                   ["ERR_INVALID_ARG_TYPE", "TypeError",
                    'The "eventTargets" argument must be an instance of EventEmitter or '
                    "EventTarget. Received type string ('x')"],
                   1,
                   ["ERR_INVALID_ARG_TYPE", "TypeError",
                    'The "options.captureRejections" property must be of type boolean. '
                    "Received type number (1)"],
                   [10, 3, 0]],
        "captured": "async boom",
        "warnings": [["MaxListenersExceededWarning",
                      "Possible EventEmitter memory leak detected. 2 x listeners ad", 2],
                     ["MyWarning", "careful", None], ["DeprecationWarning", "old api", None]],
        "format": ["", "undefined:%s", "42 %d", "-0", "42n", "%s 1", "custom", "a b 1", "%o", "x%",
                   "1970-01-01T00:00:00.000Z", "Bar", "[BadError: foo]", "[ 1, <2 empty items>, 4 ]",
                   "ERR_INVALID_ARG_TYPE"],
        "separator": ["1_234_567.891", "12_345"],
        "callbackified": ["workCallbackified", 2],
        "deprecate": [[2, 4], 1, "ERR_INVALID_ARG_TYPE"],
        "deepEqual": [False, True, True, False, True, False, False, False, True],
        "types": [False, False, True, True, True, False, True, True, True, False],
        "falsy": ["ERR_FALSY_VALUE_REJECTION", 0],
        "promisified": "first",
        "onces": [["AbortError", "ABORT_ERR"], "ping", ["TypeError", "ERR_INVALID_ARG_TYPE"]],
        "inherits": [["ERR_INVALID_ARG_TYPE", "TypeError",
                      'The "ctor" argument must be of type function. Received null'],
                     ["ERR_INVALID_ARG_TYPE", "TypeError",
                      'The "superCtor.prototype" property must be of type object. '
                      "Received undefined"]],
        "path": ["//", "/a/", "a", "bbb", "b", "", ".", "",
                 {"root": "/", "dir": "/srv/u", "base": "f.txt", "ext": ".txt", "name": "f"},
                 {"root": "", "dir": ".", "base": ".x", "ext": "", "name": ".x"}, ".",
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "pathObject" argument must be of type object. Received null'],
                 ["ERR_INVALID_ARG_TYPE", "TypeError",
                  'The "path" argument must be of type string. Received type number (1)']],
    }
