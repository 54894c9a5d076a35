"""node:crypto and node:async_hooks under nodejs_compat: the argument checks, error codes and
edge cases Node's own tests hold them to (each project is one whole isolate: many checks in one)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from tests.test_node_compat import run_project

CATCH = "const code = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };"


def test_hash_and_hmac_objects_behave_as_nodes(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import crypto from 'node:crypto';
        import { Buffer } from 'node:buffer';
        const { createHash, createHmac, Hash, Hmac } = crypto;
        const hex = (h) => h.digest('hex');
        const finished = createHash('sha256'); finished.digest();
        const mac = createHmac('sha1', 'key').update('data');
        const macFirst = mac.digest('hex');
        let calls = 0;
        const boom = { toString() { calls++; throw new Error('encoding boom'); } };
        const retried = createHash('md5').update('x');
        const bytes = new Uint8Array([104, 105, 33, 33]);
        const mutated = createHash('sha1').update(bytes); bytes[0] = 0;
        const base = createHash('sha512').update('ab');
        const branch = base.copy().update('c');
        globalThis.__result = {
          withoutNew: [Hash('sha256') instanceof Hash, Hmac('sha256', 'k') instanceof Hmac,
                       hex(Hash('md5').update('a')), hex(Hmac('md5', 'k').update('a'))],
          noAlgorithm: code(() => createHash()),
          badHmacName: code(() => createHmac(null, 'k')),
          badKey: code(() => createHmac('sha1', null))[1],
          unknownHmac: code(() => createHmac('sha7', 'k')),
          unknownHash: code(() => createHash('whirlpool'))[1],
          aliases: [hex(createHash('SHA-256').update('a')), hex(createHash('RSA-SHA1').update('a'))],
          finalized: [code(() => finished.digest())[1], code(() => finished.update('x'))[1],
                      code(() => finished.copy())[1]],
          macAgain: [macFirst, mac.digest('hex'), mac.digest().length, mac.digest('buffer').length,
                     code(() => mac.update('x'))[1]],
          encodingThrows: [code(() => retried.digest(boom))[2], calls, hex(retried)],
          digestEncodings: [Buffer.isBuffer(createHash('sha1').digest('no-such-encoding')),
                            Buffer.isBuffer(createHash('sha1').digest('buffer')),
                            createHash('sha1').update('t').digest('ucs2') ===
                              createHash('sha1').update('t').digest().toString('ucs2'),
                            createHash('sha1').update('t').digest('BASE64')],
          updateNothing: code(() => createHash('sha1').update()),
          updateNumber: code(() => createHash('sha1').update(42))[2],
          oddHex: code(() => createHash('sha1').update('abc', 'hex')),
          updateEncodings: [hex(createHash('sha1').update('ff00', 'HEX')),
                            hex(createHash('sha1').update('/w==', 'base64')),
                            hex(createHash('sha1').update('\\u00ff', 'latin1')),
                            hex(createHash('sha1').update('é', 'no-such-encoding')),
                            hex(createHash('sha1').update('é'))],
          views: [hex(createHash('sha1').update(Buffer.from('hi!!'))),
                  hex(createHash('sha1').update(new Uint16Array(Buffer.from('hi!!').buffer.slice(0, 4)))),
                  hex(createHash('sha1').update(new DataView(new TextEncoder().encode('xhi!!').buffer, 1))),
                  hex(createHash('sha1').update('hi!!')), hex(mutated)],
          copies: [hex(base), hex(branch)],
          outputLength: [hex(createHash('sha256', { outputLength: 32 })),
                         code(() => createHash('sha256', { outputLength: 28 }))[1],
                         code(() => createHash('sha256', { outputLength: 'x' }))[2],
                         code(() => createHash('sha256', { outputLength: 0.5 }))[2],
                         code(() => createHash('sha1').copy({ outputLength: 2 ** 40 }))[2]],
        };
    """})
    sha1 = lambda b: hashlib.sha1(b).hexdigest()  # noqa: E731
    assert result["withoutNew"] == [True, True, hashlib.md5(b"a").hexdigest(),
                                    hmac.new(b"k", b"a", "md5").hexdigest()]
    assert result["noAlgorithm"] == ["TypeError", "ERR_INVALID_ARG_TYPE",
                                     'The "algorithm" argument must be of type string. Received undefined']
    assert result["badHmacName"] == ["TypeError", "ERR_INVALID_ARG_TYPE",
                                     'The "hmac" argument must be of type string. Received null']
    assert result["badKey"] == "ERR_INVALID_ARG_TYPE"
    assert result["unknownHmac"] == ["TypeError", "ERR_CRYPTO_INVALID_DIGEST", "Invalid digest: sha7"]
    assert result["unknownHash"] == "ERR_CRYPTO_INVALID_DIGEST"
    assert result["aliases"] == [hashlib.sha256(b"a").hexdigest(), sha1(b"a")]
    assert result["finalized"] == ["ERR_CRYPTO_HASH_FINALIZED"] * 3
    # an Hmac digested again gives an empty result (a string unless "buffer" is asked), as Node
    assert result["macAgain"] == [hmac.new(b"key", b"data", "sha1").hexdigest(), "", 0, 0,
                                  "ERR_CRYPTO_HASH_FINALIZED"]
    # the encoding is made a string before the hash is finished: it can still be digested
    assert result["encodingThrows"] == ["encoding boom", 1, hashlib.md5(b"x").hexdigest()]
    assert result["digestEncodings"] == [True, True, True,
                                         base64.b64encode(hashlib.sha1(b"t").digest()).decode()]
    assert result["updateNothing"] == [
        "TypeError", "ERR_INVALID_ARG_TYPE",
        'The "data" argument must be of type string or an instance of Buffer, TypedArray, or '
        "DataView. Received undefined"]
    assert result["updateNumber"].endswith("Received type number (42)")
    assert result["oddHex"] == ["TypeError", "ERR_INVALID_ARG_VALUE",
                                "The argument 'encoding' is invalid for data of length 3. Received 'hex'"]
    assert result["updateEncodings"] == [sha1(b"\xff\x00"), sha1(b"\xff"), sha1(b"\xff"),
                                         sha1("é".encode()), sha1("é".encode())]
    assert result["views"] == [sha1(b"hi!!")] * 5
    assert result["copies"] == [hashlib.sha512(b"ab").hexdigest(), hashlib.sha512(b"abc").hexdigest()]
    assert result["outputLength"] == [
        hashlib.sha256(b"").hexdigest(), "ERR_OSSL_EVP_NOT_XOF_OR_INVALID_LENGTH",
        'The "options.outputLength" property must be of type number. Received type string (\'x\')',
        'The value of "options.outputLength" is out of range. It must be an integer. Received 0.5',
        'The value of "options.outputLength" is out of range. It must be >= 0 && <= 4294967295. '
        "Received 1_099_511_627_776"]


def test_one_shot_hash_and_secret_keys(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import { hash, createHmac, createSecretKey, KeyObject } from 'node:crypto';
        import { Buffer } from 'node:buffer';
        const key = createSecretKey(Buffer.from('0b0b0b', 'hex'));
        const fromString = createSecretKey('secret', 'utf8');
        globalThis.__result = {
          hash: [hash('sha1', 'abc'), hash('sha256', Buffer.from('abc'), 'base64'),
                 Buffer.isBuffer(hash('md5', 'abc', 'buffer')),
                 hash('sha1', 'abc', { outputEncoding: 'base64url' })],
          hashErrors: [code(() => hash(1, 'abc'))[1], code(() => hash('sha1', 7))[1],
                       code(() => hash('sha1', 'abc', 5))[1],
                       code(() => hash('sha1', 'abc', 'nope'))],
          key: [key instanceof KeyObject, key.type, key.symmetricKeySize,
                key.export().toString('hex'), key.export({ format: 'jwk' }),
                key.equals(createSecretKey(Buffer.from([11, 11, 11]))),
                key.equals(fromString), Object.prototype.toString.call(key)],
          macWithKey: [createHmac('sha256', key).update('m').digest('hex'),
                       createHmac('sha256', Buffer.from('0b0b0b', 'hex')).update('m').digest('hex'),
                       createHmac('sha256', 'c2VjcmV0', { encoding: 'base64' }).update('m').digest('hex')],
          keyErrors: [code(() => createSecretKey(5))[1], code(() => createSecretKey(key))[1],
                      code(() => new KeyObject('secret', 1))[1]],
        };
    """})
    assert result["hash"] == [hashlib.sha1(b"abc").hexdigest(),
                              base64.b64encode(hashlib.sha256(b"abc").digest()).decode(), True,
                              base64.urlsafe_b64encode(hashlib.sha1(b"abc").digest()).decode().rstrip("=")]
    assert result["hashErrors"][:3] == ["ERR_INVALID_ARG_TYPE"] * 3
    assert result["hashErrors"][3] == ["TypeError", "ERR_INVALID_ARG_VALUE",
                                       "The argument 'outputEncoding' is invalid. Received 'nope'"]
    assert result["key"] == [True, "secret", 3, "0b0b0b", {"kty": "oct", "k": "CwsL"}, True, False,
                             "[object KeyObject]"]
    mac = hmac.new(b"\x0b\x0b\x0b", b"m", "sha256").hexdigest()
    assert result["macWithKey"] == [mac, mac, hmac.new(b"secret", b"m", "sha256").hexdigest()]
    assert result["keyErrors"] == ["ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE",
                                   "ERR_ILLEGAL_CONSTRUCTOR"]


def test_random_functions_check_arguments_as_node(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import crypto from 'node:crypto';
        import { Buffer } from 'node:buffer';
        const { randomBytes, randomFill, randomFillSync, randomInt, randomUUID, timingSafeEqual } = crypto;
        const order = [];
        randomBytes(3.7, (err, buf) => order.push(['bytes', err, buf.length]));
        randomFill(new Uint8Array(4), (err, buf) => order.push(['fill', err, buf.length]));
        randomInt(5, 6, (err, n) => order.push(['int', err, n]));
        order.push('sync');
        const bytes = randomFillSync(Buffer.alloc(10), 5);
        const words = randomFillSync(new Uint32Array(4), 1, 2);
        const shared = new Uint8Array(randomFillSync(new SharedArrayBuffer(64)));
        globalThis.__result = { order,
          sizes: [randomBytes(0).length, randomBytes(3.7).length],
          sizeErrors: [code(() => randomBytes())[2], code(() => randomBytes('1'))[2],
                       code(() => randomBytes(-1))[2], code(() => randomBytes(2 ** 31))[2],
                       code(() => randomBytes(1, 'callback'))[1]],
          filled: [bytes.subarray(0, 5).every((b) => b === 0), bytes.subarray(5).some((b) => b !== 0),
                   words[0], words[3], words[1] !== 0 || words[2] !== 0, shared.some((b) => b !== 0)],
          fillErrors: [code(() => randomFillSync('abc'))[2], code(() => randomFillSync(Buffer.alloc(10), 'x'))[2],
                       code(() => randomFillSync(Buffer.alloc(10), 11))[2],
                       code(() => randomFillSync(Buffer.alloc(10), 1, 10))[2],
                       code(() => randomFill(Buffer.alloc(10), 0, 10, 'cb'))[1]],
          ints: [randomInt(-3, -2), randomInt(1), Number.isSafeInteger(randomInt(2 ** 48 - 1))],
          intErrors: [code(() => randomInt('10'))[2], code(() => randomInt(1.5, 10))[2],
                      code(() => randomInt(3, 2))[2], code(() => randomInt(2 ** 48))[2],
                      code(() => randomInt(1, 2 ** 48 + 2))[2], code(() => randomInt(0, 1, 7))[1]],
          uuid: [/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(
                   randomUUID({ disableEntropyCache: true })),
                 code(() => randomUUID(1))[1], code(() => randomUUID({ disableEntropyCache: 1 }))[1]],
          safeEqual: [timingSafeEqual(new Uint16Array([1]), new Uint8Array([1, 0])),
                      timingSafeEqual(new ArrayBuffer(2), Buffer.alloc(2)),
                      code(() => timingSafeEqual('ab', Buffer.from('ab')))[2]],
          aliases: ['pseudoRandomBytes', 'prng', 'rng'].map((name) =>
            [Object.getOwnPropertyDescriptor(crypto, name)?.enumerable, typeof crypto[name]]),
        };
    """})
    assert result["order"] == ["sync", ["bytes", None, 3], ["fill", None, 4], ["int", None, 5]]
    assert result["sizes"] == [0, 3]
    assert result["sizeErrors"] == [
        'The "size" argument must be of type number. Received undefined',
        "The \"size\" argument must be of type number. Received type string ('1')",
        'The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received -1',
        'The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received 2147483648',
        "ERR_INVALID_ARG_TYPE"]
    assert result["filled"] == [True, True, 0, 0, True, True]
    assert result["fillErrors"] == [
        "The \"buf\" argument must be an instance of ArrayBuffer or ArrayBufferView. "
        "Received type string ('abc')",
        "The \"offset\" argument must be of type number. Received type string ('x')",
        'The value of "offset" is out of range. It must be >= 0 && <= 10. Received 11',
        'The value of "size + offset" is out of range. It must be <= 10. Received 11',
        "ERR_INVALID_ARG_TYPE"]
    assert result["ints"] == [-3, 0, True]
    assert result["intErrors"] == [
        "The \"max\" argument must be a safe integer. Received type string ('10')",
        'The "min" argument must be a safe integer. Received type number (1.5)',
        'The value of "max" is out of range. It must be greater than the value of "min" (3). Received 2',
        'The value of "max" is out of range. It must be <= 281474976710655. Received 281_474_976_710_656',
        'The value of "max - min" is out of range. It must be <= 281474976710655. '
        "Received 281_474_976_710_657",
        "ERR_INVALID_ARG_TYPE"]
    assert result["uuid"] == [True, "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"]
    assert result["safeEqual"] == [True, True,
                                   'The "buf1" argument must be an instance of ArrayBuffer, Buffer, '
                                   "TypedArray, or DataView. Received type string ('ab')"]
    assert result["aliases"] == [[False, "function"]] * 3


def test_async_local_storage_and_async_resource_api(tmp_path):
    result = run_project(tmp_path, {"src/index.ts": CATCH + """
        import { AsyncLocalStorage, AsyncResource, createHook, executionAsyncId,
                 triggerAsyncId } from 'node:async_hooks';
        const als = new AsyncLocalStorage({ defaultValue: 'default', name: 'requests' });
        const plain = new AsyncLocalStorage();
        const bound = als.run('bound', () => AsyncLocalStorage.bind((a, b) => [als.getStore(), a, b]));
        const snapshot = als.run('snap', () => AsyncLocalStorage.snapshot());
        const r1 = new AsyncResource('job'), r2 = new AsyncResource('job', { triggerAsyncId: 7 });
        const that = {};
        const inScope = r2.bind(function (x) { return [this, x, executionAsyncId(), triggerAsyncId()]; }, that);
        const ownThis = r1.bind(function () { return this; });
        const hook = createHook({ init() {} });
        hook.enable();
        const emptyTypeHooked = code(() => new AsyncResource(''));
        hook.disable();
        globalThis.__result = {
          defaults: [als.name, plain.name, als.getStore(), als.run('s', () => als.getStore()),
                     als.run('s', () => als.exit(() => als.getStore())), plain.getStore()],
          options: code(() => new AsyncLocalStorage(5))[1],
          bind: [bound(1, 2), bound.length, als.run('other', () => snapshot(() => als.getStore()))],
          bindErrors: [1, 'fn', {}, null].map((v) => code(() => AsyncLocalStorage.bind(v))[1]),
          ids: [r1.asyncId() !== r2.asyncId(), r1.asyncId() > 1, r2.triggerAsyncId(),
                r1.runInAsyncScope(() => executionAsyncId()) === r1.asyncId(),
                executionAsyncId() !== r1.asyncId()],
          scope: (() => { const [t, x, id, trigger] = inScope(9);
                          return [t === that, x, id === r2.asyncId(), trigger, inScope.length,
                                  inScope.asyncResource === r2]; })(),
          ownThis: [ownThis.call('s'), ownThis.call(undefined)],
          resourceErrors: [code(() => new AsyncResource())[1], code(() => new AsyncResource('t', -4)),
                           code(() => new AsyncResource('t', Math.PI))[1],
                           code(() => r1.bind('fn'))[1], emptyTypeHooked[1],
                           new AsyncResource('').asyncId() > 0,
                           code(() => createHook({ before: 1 }))[1]],
          staticBind: AsyncResource.bind(function named() { return this; }, undefined, 'x')(),
        };
    """})
    assert result["defaults"] == ["requests", "", "default", "s", None, None]
    assert result["options"] == "ERR_INVALID_ARG_TYPE"
    assert result["bind"] == [["bound", 1, 2], 2, "snap"]
    assert result["bindErrors"] == ["ERR_INVALID_ARG_TYPE"] * 4
    assert result["ids"] == [True, True, 7, True, True]
    assert result["scope"] == [True, 9, True, 7, 1, True]
    assert result["ownThis"] == ["s", None]
    assert result["resourceErrors"] == [
        "ERR_INVALID_ARG_TYPE", ["RangeError", "ERR_INVALID_ASYNC_ID", "Invalid triggerAsyncId value: -4"],
        "ERR_INVALID_ASYNC_ID", "ERR_INVALID_ARG_TYPE", "ERR_ASYNC_TYPE", True, "ERR_ASYNC_CALLBACK"]
    assert result["staticBind"] == "x"
