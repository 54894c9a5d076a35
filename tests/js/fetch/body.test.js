// The Body mixin (Fetch standard §5.3) on Request and Response: consumers, bodyUsed, the
// "unusable" errors, MIME types, text decoding and JSON.

const URL_A = "https://example.com/a";
const enc = (s) => new TextEncoder().encode(s);

function streamOf(...chunks) {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(typeof chunk === "string" ? enc(chunk) : chunk);
      c.close();
    },
  });
}

// Body holders: each makes a Request or a Response around a body and headers.
const holders = {
  Response: (body, headers) => new Response(body, { headers }),
  Request: (body, headers) => new Request(URL_A, { method: "POST", body, headers, duplex: "half" }),
};

for (const [kind, make] of Object.entries(holders)) {
  // --- Each consumer on each kind of body ------------------------------------------------------
  const sources = [
    ["string", () => '"123456"'],
    ["Uint8Array", () => enc('"123456"')],
    ["ArrayBuffer", () => enc('"123456"').buffer],
    ["Int8Array", () => new Int8Array(enc('x"123456"x').buffer, 1, 8)],
    ["DataView", () => new DataView(enc('x"123456"x').buffer, 1, 8)],
    ["Blob", () => new Blob(['"123', '456"'])],
    ["ReadableStream", () => streamOf('"12', "34", '56"')],
  ];
  for (const [label, source] of sources) {
    promise_test(async () => {
      const r = make(source());
      assert_false(r.bodyUsed);
      assert_equals(await r.text(), '"123456"');
      assert_true(r.bodyUsed);
    }, `${kind}: text() of a ${label} body`);

    promise_test(async () => {
      const r = make(source());
      assert_equals(await r.json(), "123456");
      assert_true(r.bodyUsed);
    }, `${kind}: json() of a ${label} body`);

    promise_test(async () => {
      const r = make(source());
      const ab = await r.arrayBuffer();
      assert_true(ab instanceof ArrayBuffer);
      assert_array_equals(new Uint8Array(ab), enc('"123456"'));
      assert_true(r.bodyUsed);
    }, `${kind}: arrayBuffer() of a ${label} body`);

    promise_test(async () => {
      const r = make(source());
      const bytes = await r.bytes();
      assert_equals(Object.getPrototypeOf(bytes), Uint8Array.prototype);
      assert_array_equals(bytes, enc('"123456"'));
    }, `${kind}: bytes() of a ${label} body`);

    promise_test(async () => {
      const r = make(source(), { "Content-Type": "text/PLAIN" });
      const blob = await r.blob();
      assert_true(blob instanceof Blob);
      assert_equals(blob.type, "text/plain");
      assert_equals(blob.size, 8);
      assert_equals(await blob.text(), '"123456"');
    }, `${kind}: blob() of a ${label} body`);

    promise_test(async () => {
      const r = make(source());
      assert_equals(await new Response(r.body).text(), '"123456"');
    }, `${kind}: the ${label} body as a stream`);
  }

  // --- Used and locked bodies ------------------------------------------------------------------
  for (const method of ["text", "json", "arrayBuffer", "bytes", "blob", "formData"]) {
    promise_test(async () => {
      const r = make("a=b", { "Content-Type": "application/x-www-form-urlencoded" });
      await r.text();
      const error = await r[method]().then(() => null, (e) => e);
      assert_true(error instanceof TypeError, "TypeError");
      assert_equals(error.message, `Failed to execute '${method}' on '${kind}': body stream already read`);
    }, `${kind}: ${method}() after the body was read rejects with TypeError`);

    promise_test(async () => {
      const r = make("abc");
      r.body.getReader();
      const error = await r[method]().then(() => null, (e) => e);
      assert_true(error instanceof TypeError);
      assert_equals(error.message, `Failed to execute '${method}' on '${kind}': body stream is locked`);
      assert_false(r.bodyUsed, "locked, not disturbed");
    }, `${kind}: ${method}() of a locked body rejects with TypeError`);
  }

  promise_test(async () => {
    const r = make("abc");
    const reader = r.body.getReader();
    await reader.read();
    reader.releaseLock();
    assert_true(r.bodyUsed);
    await promise_rejects_js(null, TypeError, r.text());
  }, `${kind}: a body read through its stream is used`);

  promise_test(async () => {
    const r = make("abc");
    const p1 = r.text();
    const p2 = r.text();
    assert_equals(await p1, "abc");
    await promise_rejects_js(null, TypeError, p2);
  }, `${kind}: the body is used at once`);

  promise_test(async () => {
    const r = make("abc");
    await r.text();
    const stream = r.body;
    assert_true(stream instanceof ReadableStream);
    assert_true(stream.locked, "a consumed body's stream stays locked");
    assert_equals(r.body, stream, "and is the same object afterwards");
  }, `${kind}: the stream of a consumed body is locked`);

  promise_test(async () => {
    const r = make(streamOf("abc"));
    await r.arrayBuffer();
    assert_true(r.body.locked);
    assert_true(r.bodyUsed);
  }, `${kind}: a consumed stream body is locked and used`);

  promise_test(async () => {
    const r = make("abc");
    await r.body.cancel();
    assert_true(r.bodyUsed);
    await promise_rejects_js(null, TypeError, r.text());
  }, `${kind}: a cancelled body is used`);

  promise_test(async () => {
    const r = make("abc");
    const stream = r.body;
    assert_equals(r.body, stream, "[SameObject] in practice");
    assert_false(r.bodyUsed);
    assert_equals(await r.text(), "abc");
  }, `${kind}: asking for body does not use it`);

  // --- Bodies that are null or empty --------------------------------------------------------
  promise_test(async () => {
    const r = kind === "Response" ? new Response() : new Request(URL_A, { method: "POST" });
    assert_equals(r.body, null);
    assert_equals(await r.text(), "");
    assert_equals((await r.arrayBuffer()).byteLength, 0);
    assert_equals((await r.bytes()).length, 0);
    assert_equals((await r.blob()).size, 0);
    await promise_rejects_js(null, SyntaxError, r.json());
    await promise_rejects_js(null, TypeError, r.formData());
    assert_false(r.bodyUsed, "a null body is never used");
  }, `${kind}: consuming a null body`);

  promise_test(async () => {
    const r = kind === "Response"
      ? new Response(null, { headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" } })
      : new Request(URL_A, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" } });
    const fd = await r.formData();
    assert_true(fd instanceof FormData);
    assert_equals([...fd].length, 0);
    assert_false(r.bodyUsed);
  }, `${kind}: formData() of a null body with the urlencoded type`);

  promise_test(async () => {
    const r = kind === "Response"
      ? new Response(null, { headers: { "Content-Type": 'multipart/form-data; boundary="boundary"' } })
      : new Request(URL_A, { method: "POST", headers: { "Content-Type": 'multipart/form-data; boundary="boundary"' } });
    await promise_rejects_js(null, TypeError, r.formData());
  }, `${kind}: formData() of a null body with the multipart type`);

  for (const [label, body] of [["string", ""], ["Blob", new Blob([])], ["ArrayBuffer", new ArrayBuffer(0)],
    ["URLSearchParams", new URLSearchParams("")], ["stream", null]]) {
    promise_test(async () => {
      const r = make(label === "stream" ? streamOf() : body);
      assert_false(r.bodyUsed);
      assert_equals(await r.text(), "");
      assert_true(r.bodyUsed, "an empty body is used once read");
    }, `${kind}: an empty ${label} body`);
  }

  // --- text() decoding ------------------------------------------------------------------------
  for (const [label, bytes, expected] of [
    ["a UTF-8 BOM", [0xef, 0xbb, 0xbf, 0x61], "a"],
    ["two UTF-8 BOMs", [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x61], "\uFEFFa"],
    ["a BOM not at the start", [0x61, 0xef, 0xbb, 0xbf], "a\uFEFF"],
    ["only a BOM", [0xef, 0xbb, 0xbf], ""],
    ["a UTF-16LE BOM", [0xff, 0xfe, 0x61, 0x00], "\uFFFD\uFFFDa\u0000"],
    ["invalid UTF-8", [0x61, 0xc3, 0x28, 0x80], "a\uFFFD(\uFFFD"],
    ["a truncated sequence", [0xe2, 0x82], "\uFFFD"],
    ["multi-byte characters", [0xc3, 0xa4, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], "ä€😀"],
  ]) {
    promise_test(async () => {
      assert_equals(await make(new Uint8Array(bytes)).text(), expected);
    }, `${kind}: text() of ${label}`);
  }

  promise_test(async () => {
    const chunks = [enc("€").subarray(0, 1), enc("€").subarray(1), enc("x")];
    assert_equals(await make(streamOf(...chunks)).text(), "€x", "characters split across chunks");
  }, `${kind}: text() joins chunks before decoding`);

  // --- json() -----------------------------------------------------------------------------------
  for (const value of ["null", "1", "true", '"string"', "[1,2]", '{"a":{"b":[]}}', " 1 "]) {
    promise_test(async () => {
      assert_equals(JSON.stringify(await make(value).json()), JSON.stringify(JSON.parse(value)));
    }, `${kind}: json() of ${JSON.stringify(value)}`);
  }

  for (const value of ["undefined", "{", "a", "[", "", "{'a':1}", "1 2", "\uFEFF\uFEFF1"]) {
    promise_test(async () => {
      await promise_rejects_js(null, SyntaxError, make(value).json());
    }, `${kind}: json() of bad JSON ${JSON.stringify(value)} rejects with SyntaxError`);
  }

  promise_test(async () => {
    assert_equals(await make(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])).json(), 1);
  }, `${kind}: json() skips a UTF-8 BOM`);

  // --- blob() types -------------------------------------------------------------------------------
  for (const [contentType, expected] of [
    [undefined, "text/plain;charset=UTF-8"],
    ["Text/Html", "text/html"],
    ["text/html; Charset=\"utf-8\"", "text/html;charset=utf-8"],
    ["text/plain;charset=gbk;x=y", "text/plain;charset=gbk;x=y"],
    ["nonsense", ""],
    ["", ""],
    ["text/html, */*", "text/html"],
    ["text/html;charset=gbk, text/html", "text/html;charset=gbk"],
  ]) {
    promise_test(async () => {
      const r = make("x", contentType === undefined ? undefined : { "Content-Type": contentType });
      assert_equals((await r.blob()).type, expected);
    }, `${kind}: blob() type for Content-Type ${JSON.stringify(contentType)}`);
  }

  promise_test(async () => {
    const r = make("x", { "Content-Type": "text/plain" });
    r.headers.set("Content-Type", "test/test");
    assert_equals((await r.blob()).type, "test/test");
  }, `${kind}: blob() uses the Content-Type at the time of reading`);

  promise_test(async () => {
    const r = make("hello");
    const clone = r.clone();
    r.headers.delete("Content-Type");
    assert_equals((await r.blob()).type, "");
    assert_equals((await clone.blob()).type, "text/plain;charset=UTF-8");
  }, `${kind}: removing the implicit Content-Type`);

  promise_test(async () => {
    const r = make(new ArrayBuffer(0));
    r.headers.set("Content-Type", "text/plain");
    assert_equals((await r.blob()).type, "text/plain");
  }, `${kind}: setting a missing Content-Type`);

  promise_test(async () => {
    const r = make(new Blob([""], { type: "Text/Plain" }));
    assert_equals(r.headers.get("content-type"), "text/plain");
    assert_equals((await r.blob()).type, "text/plain");
  }, `${kind}: a Blob body's type`);

  // --- formData() -----------------------------------------------------------------------------------
  promise_test(async () => {
    const fd = await make("a=1&b=2+3&c=%26&a=4&=e&f", { "Content-Type": "application/x-www-form-urlencoded" }).formData();
    assert_array_equals([...fd].map((p) => p.join("=")), ["a=1", "b=2 3", "c=&", "a=4", "=e", "f="]);
  }, `${kind}: formData() of an urlencoded body`);

  promise_test(async () => {
    const fd = await make(new URLSearchParams({ x: "1 2", y: "ä" })).formData();
    assert_equals(fd.get("x"), "1 2");
    assert_equals(fd.get("y"), "ä");
  }, `${kind}: formData() of a URLSearchParams body`);

  promise_test(async () => {
    const body = "--B\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n" +
      "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n" +
      "Content-Type: text/csv\r\n\r\n1,2\r\n--B--\r\n";
    const fd = await make(body, { "Content-Type": "multipart/form-data; boundary=B" }).formData();
    assert_equals(fd.get("field"), "value");
    const file = fd.get("file");
    assert_true(file instanceof File);
    assert_equals(file.name, "a.txt");
    assert_equals(file.type, "text/csv");
    assert_equals(await file.text(), "1,2");
  }, `${kind}: formData() of a multipart body`);

  promise_test(async () => {
    const source = new FormData();
    source.append("name", "value");
    source.append("file", new Blob(["content"], { type: "text/plain" }), "f.txt");
    const fd = await make(source).formData();
    assert_equals(fd.get("name"), "value");
    assert_equals(fd.get("file").name, "f.txt");
    assert_equals(await fd.get("file").text(), "content");
  }, `${kind}: a FormData body round-trips through formData()`);

  promise_test(async () => {
    const fd = await make("a=b", { "Content-Type": "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8" }).formData();
    assert_equals(fd.get("a"), "b");
  }, `${kind}: formData() matches the MIME essence case-insensitively`);

  for (const contentType of [undefined, "text/plain", "multipart/form-data", "multipart/form-data; boundary=", "application/json"]) {
    promise_test(async () => {
      const r = make("a=b", contentType === undefined ? undefined : { "Content-Type": contentType });
      await promise_rejects_js(null, TypeError, r.formData());
    }, `${kind}: formData() with Content-Type ${JSON.stringify(contentType)} rejects with TypeError`);
  }

  promise_test(async () => {
    await promise_rejects_js(null, TypeError,
      make("garbage", { "Content-Type": "multipart/form-data; boundary=B" }).formData());
  }, `${kind}: formData() of a malformed multipart body rejects with TypeError`);

  // --- Receivers, promises and shapes ----------------------------------------------------------
  promise_test(async () => {
    const proto = kind === "Response" ? Response.prototype : Request.prototype;
    for (const method of ["text", "json", "arrayBuffer", "bytes", "blob", "formData"]) {
      const p = proto[method].call({});
      assert_true(p instanceof Promise, method + " returns a promise");
      await promise_rejects_js(null, TypeError, p);
    }
    assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(proto, "body").get.call({}));
    assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(proto, "bodyUsed").get.call({}));
  }, `${kind}: Body members check their receiver`);

  promise_test(async () => {
    const r = make("abc");
    const p = r.text();
    assert_true(p instanceof Promise);
    assert_not_equals(r.clone, undefined);
    await p;
  }, `${kind}: consumers return promises`);

  promise_test(async () => {
    const big = "x".repeat(1 << 20);
    assert_equals((await make(big).text()).length, 1 << 20);
    const chunks = [];
    for (let i = 0; i < 64; i++) chunks.push(new Uint8Array(16384).fill(i));
    const bytes = await make(streamOf(...chunks)).bytes();
    assert_equals(bytes.length, 64 * 16384);
    assert_equals(bytes[16384 * 63], 63);
  }, `${kind}: large bodies`);

  promise_test(async () => {
    const r = make(enc("byob body"));
    const reader = r.body.getReader({ mode: "byob" });
    const { value } = await reader.read(new Uint8Array(64));
    assert_equals(new TextDecoder().decode(value), "byob body");
    assert_true((await reader.read(new Uint8Array(8))).done);
  }, `${kind}: a byte body can be read with a BYOB reader`);
}

// --- Script interference ------------------------------------------------------------------------

promise_test(async () => {
  const resp = new Response(streamOf("hello"));
  Object.prototype.then = (onFulfilled) => {
    delete Object.prototype.then;
    onFulfilled({ done: false, value: enc("bye") });
  };
  try {
    assert_equals(await resp.text(), "hello");
  } finally {
    delete Object.prototype.then;
  }
}, "Object.prototype.then cannot inject chunks into a stream body's text()");

for (const injected of [undefined, 8.2, { done: false, value: undefined }]) {
  promise_test(async () => {
    const resp = new Response(streamOf("hello"));
    Object.prototype.then = (onFulfilled) => {
      delete Object.prototype.then;
      onFulfilled(injected);
    };
    try {
      assert_equals(await resp.text(), "hello");
    } finally {
      delete Object.prototype.then;
    }
  }, `Object.prototype.then cannot inject ${JSON.stringify(injected)}`);
}

promise_test(async () => {
  const resp = new Response(enc("hello"));
  Object.prototype.then = (onFulfilled) => {
    delete Object.prototype.then;
    onFulfilled({ done: false, value: enc("bye") });
  };
  try {
    assert_equals(await resp.text(), "hello");
  } finally {
    delete Object.prototype.then;
  }
}, "Object.prototype.then cannot intercept a byte body's text()");

promise_test(async () => {
  const saved = {
    parse: JSON.parse, blob: globalThis.Blob, fd: globalThis.FormData,
    decode: TextDecoder.prototype.decode, then: Promise.prototype.then,
  };
  JSON.parse = () => "patched";
  globalThis.Blob = function () { throw new Error("patched Blob"); };
  globalThis.FormData = function () { throw new Error("patched FormData"); };
  TextDecoder.prototype.decode = () => "patched";
  try {
    assert_equals((await new Response('{"a":1}').json()).a, 1);
    assert_equals(await new Response("text").text(), "text");
    assert_equals((await new Response("b").blob()).size, 1);
    const fd = await new Response(new URLSearchParams("a=b")).formData();
    assert_equals(fd.get("a"), "b");
  } finally {
    JSON.parse = saved.parse;
    globalThis.Blob = saved.blob;
    globalThis.FormData = saved.fd;
    TextDecoder.prototype.decode = saved.decode;
  }
}, "patched globals do not affect the Body consumers");

promise_test(async () => {
  const saved = URLSearchParams.prototype.toString;
  URLSearchParams.prototype.toString = () => "patched=1";
  try {
    assert_equals(await new Response(new URLSearchParams("a=b")).text(), "a=b");
  } finally {
    URLSearchParams.prototype.toString = saved;
  }
}, "a URLSearchParams body does not call a patched toString");

promise_test(async () => {
  const saved = Blob.prototype.stream;
  Blob.prototype.stream = () => { throw new Error("patched"); };
  try {
    const r = new Response(new Blob(["blob body"]));
    assert_equals(await new Response(r.body).text(), "blob body");
  } finally {
    Blob.prototype.stream = saved;
  }
}, "a Blob body's stream does not call a patched Blob.prototype.stream");

const creationCases = {
  request: () => new Request(URL_A, { method: "POST", body: "hi" }).body,
  response: () => new Response("bye").body,
  consumeEmptyResponse: () => new Response().text(),
  consumeNonEmptyResponse: () => new Response(new Uint8Array([64])).text(),
  consumeNonEmptyRequest: () => new Request(URL_A, { method: "POST", body: "yes" }).arrayBuffer(),
  proxiedRequest: () => {
    const r = new Request(URL_A, { method: "POST", body: "p" });
    r.body;
    return new Request(r).text();
  },
  clonedResponse: () => new Response("c").clone().text(),
};
for (const [label, create] of Object.entries(creationCases)) {
  for (const accessor of ["start", "type", "size", "highWaterMark", "pull", "cancel", "preventClose", "preventAbort"]) {
    promise_test(async () => {
      Object.defineProperty(Object.prototype, accessor, {
        get() { throw Error(`Object.prototype.${accessor} was accessed`); },
        configurable: true,
      });
      try {
        await create();
      } finally {
        delete Object.prototype[accessor];
      }
    }, `a throwing Object.prototype.${accessor} does not affect '${label}'`);
  }
}

promise_test(async () => {
  const fd = await new Response(new FormData()).formData();
  assert_equals([...fd].length, 0);
  const fd2 = await new Request(URL_A, { method: "POST", body: new FormData() }).formData();
  assert_equals([...fd2].length, 0);
}, "an empty FormData body round-trips");
