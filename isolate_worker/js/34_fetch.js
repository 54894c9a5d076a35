// fetch() (Fetch standard, https://fetch.spec.whatwg.org/#fetch-method), run by the worker's
// Python side with aiohttp (isolate_worker/fetch.py).
//
// Actions (JS -> Python)                            Events (Python -> JS)
//   [AC_FETCH, id, method, url, headers, body,        [EV_FETCH_HEAD, id, status, statusText,
//    length, redirect]                                  headers, url, redirected, coding]
//   [AC_FETCH_DATA, id, offset, length]  upload       [EV_FETCH_DATA, id, offset, length]
//   [AC_FETCH_END, id]                   upload end   [EV_FETCH_END, id]
//   [AC_FETCH_CREDIT, id, size]  body pulled          [EV_FETCH_ERROR, id, message]
//   [AC_FETCH_ABORT, id]                              [EV_FETCH_CREDIT, id, size] upload credit
// `body` is null, "bytes" or "stream" (sent as AC_FETCH_DATA under credit), or
// ["request", sid]: the incoming request's body, untouched, which Python pipes to the
// upstream itself without it entering V8.
//
// The response body is a native byte stream: Python reads the upstream socket only while
// the script pulls (credit), and a body nobody touches can be forwarded natively
// (90_serve.js, AC_FORWARD). `coding` is the format its raw bytes are in ("gzip", "deflate",
// "brotli") and which Python decodes them from as the script reads, or "" (as they came).
//
// A data: URL never reaches Python: it is answered here (Fetch standard §4.2 "scheme fetch",
// "data"), see fetchDataURL below.

const {
  ObjectSetPrototypeOf,
  PromisePrototypeThen,
  PromiseReject,
  PromiseResolve,
  PromiseWithResolvers,
  RegExpPrototypeExec,
  SafeMap,
  SafeMapValues,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeStartsWith,
  StringPrototypeToLowerCase,
  TypedArrayPrototypeGetLength,
  TypeError: TypeErrorCtor,
} = primordials;
const { host } = internals;

const { AC_FETCH, AC_FETCH_DATA, AC_FETCH_END, AC_FETCH_CREDIT, AC_FETCH_ABORT } = internals.kinds;
const { EV_FETCH_HEAD, EV_FETCH_DATA, EV_FETCH_END, EV_FETCH_ERROR, EV_FETCH_CREDIT } =
  internals.kinds;

let nextId = 1;
const inflight = new SafeMap(); // id -> FetchState

// A response body the script dropped without reading must not keep its upstream
// connection (and our Python task) waiting forever: the state holds the body's Inflow only
// weakly (the stream itself holds it strongly), so once the script lets go of the stream,
// the Inflow is collected and this registry aborts the fetch.
const dropped = new primordials.FinalizationRegistry((id) => {
  const state = inflight.get(id);
  if (state !== undefined) state.abort(new TypeErrorCtor("the response body was dropped"));
});

class FetchState {
  constructor(id, request, resolve, reject, owner) {
    this.id = id;
    this.request = request;
    this.resolve = resolve;
    this.reject = reject;
    this.bodyRef = null; // WeakRef to the body's Inflow, once the head arrived
    this.upload = null; // Outflow of the request body
    this.signal = null;
    this.abortHandle = null;
    this.settled = false;
    this.owner = owner; // the job (90_serve.js) this fetch is charged to
  }

  get body() {
    return this.bodyRef === null ? null : (this.bodyRef.deref() ?? null);
  }

  finish() {
    if (!inflight.delete(this.id)) return;
    this.owner.fetches--;
    this.owner.settled();
    if (this.abortHandle !== null) {
      internals.abort.removeAlgorithm(this.signal, this.abortHandle);
      this.abortHandle = null;
    }
  }

  /** End the fetch with `error`: the upload stops, then the promise or the body fails. */
  fail(error) {
    if (this.upload !== null) this.upload.cancel(error);
    if (!this.settled) {
      this.settled = true;
      this.reject(error);
    } else if (this.body !== null) {
      this.body.onError(error);
    }
    this.finish();
  }

  abort(reason) {
    if (!inflight.has(this.id)) return;
    host.queueAction([AC_FETCH_ABORT, this.id]);
    this.fail(reason);
  }
}

ObjectSetPrototypeOf(FetchState.prototype, null);

function fetch(input, init = undefined) {
  let request;
  try {
    internals.webidl.requiredArguments(arguments.length, 1, "Failed to execute 'fetch'");
    request = internals.request.forFetch(input, init);
  } catch (e) {
    return PromiseReject(e);
  }
  const signal = internals.request.signal(request);
  if (signal !== null && signal.aborted) return PromiseReject(signal.reason);
  const url = internals.request.url(request);
  const scheme = StringPrototypeToLowerCase(
    StringPrototypeSlice(url, 0, StringPrototypeIndexOf(url, ":")));
  if (scheme === "data") return fetchDataURL(request, url, signal);
  if (scheme !== "http" && scheme !== "https") {
    return PromiseReject(new TypeErrorCtor(`fetch failed: unsupported URL scheme '${scheme}:'`));
  }
  if (internals.websocket.wantsUpgrade(request)) { // a 101 with a webSocket (37_websocket.js)
    try {
      return internals.websocket.fetchUpgrade(request);
    } catch (e) {
      return PromiseReject(e);
    }
  }
  let owner;
  try {
    owner = internals.serve.chargeFetch(); // the last check: a refused fetch costs nothing
  } catch (e) {
    return PromiseReject(e);
  }

  const id = nextId++;
  const { promise, resolve, reject } = PromiseWithResolvers();
  const state = new FetchState(id, request, resolve, reject, owner);
  inflight.set(id, state);

  let bodySpec = null;
  let length = -1;
  let sendBody = null;
  const body = internals.request.body(request);
  if (body !== null) {
    const bytes = internals.body.takeSourceBytes(body);
    if (bytes !== null) {
      bodySpec = "bytes";
      length = bytes.length;
      sendBody = (out) => out.sendBytes(bytes);
    } else {
      const stream = internals.body.bodyStream(body);
      const native = host.untouchedNative(stream);
      if (native !== null && native.kind === "request") {
        host.claimNative(stream);
        bodySpec = ["request", native.id];
      } else {
        bodySpec = "stream";
        if (body.length !== null) length = body.length;
        sendBody = (out) => out.sendStream(stream);
      }
    }
  }
  const headers = internals.headers.list(internals.request.headers(request));
  host.queueAction([
    AC_FETCH, id, internals.request.method(request), url, headers, bodySpec, length,
    internals.request.redirect(request),
  ]);
  if (sendBody !== null) {
    state.upload = new host.Outflow(id, AC_FETCH_DATA, AC_FETCH_END, 0);
    state.upload.onError = (e) => state.abort(e);
    sendBody(state.upload);
  }
  if (signal !== null) {
    state.signal = signal;
    state.abortHandle = internals.abort.addAlgorithm(signal, () => state.abort(signal.reason));
  }
  return promise;
}

// --- data: URLs ---------------------------------------------------------------------------
//
// Answered without any network and without Python: no upstream, nothing left in flight for
// a job to wait for or abort, so a data: fetch is not charged to a job's subrequest budget
// (90_serve.js chargeFetch) and works where no job is current.

const BASE64_SUFFIX = new primordials.SafeRegExp(/;\u0020*base64$/i);
const DATA_URL_DEFAULT_TYPE = "text/plain;charset=US-ASCII";

function isASCIIWhitespace(c) {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

/**
 * Fetch "data: URL processor" (https://fetch.spec.whatwg.org/#data-url-processor) of `url`,
 * a serialized data: URL: { mimeType (serialized), body (Uint8Array) }, or null for failure.
 */
function processDataURL(url) {
  // The URL serialized with "exclude fragment": in a serialization the first "#" starts the
  // fragment. Then the leading "data:" goes.
  const hash = StringPrototypeIndexOf(url, "#");
  const input = StringPrototypeSlice(url, 5, hash === -1 ? url.length : hash);
  const comma = StringPrototypeIndexOf(input, ",");
  if (comma === -1) return null;
  let start = 0;
  let end = comma;
  while (start < end && isASCIIWhitespace(StringPrototypeCharCodeAt(input, start))) start++;
  while (end > start && isASCIIWhitespace(StringPrototypeCharCodeAt(input, end - 1))) end--;
  let mimeType = StringPrototypeSlice(input, start, end);
  const encodedBody = internals.encoding.utf8Encode(StringPrototypeSlice(input, comma + 1));
  let body = internals.url.percentDecodeBytes(
    encodedBody, 0, TypedArrayPrototypeGetLength(encodedBody), false);
  // ";", any U+0020 SPACEs and an ASCII case-insensitive "base64" at the end.
  const base64 = RegExpPrototypeExec(BASE64_SUFFIX, mimeType);
  if (base64 !== null) {
    body = internals.base64.forgivingBase64Decode(internals.encoding.isomorphicDecode(body));
    if (body === null) return null;
    mimeType = StringPrototypeSlice(mimeType, 0, base64.index);
  }
  if (StringPrototypeStartsWith(mimeType, ";")) mimeType = `text/plain${mimeType}`;
  const record = internals.mimeType.parse(mimeType);
  return {
    __proto__: null,
    mimeType: record === null ? DATA_URL_DEFAULT_TYPE : internals.mimeType.serialize(record),
    body,
  };
}

// The abort algorithm of a data: fetch whose body the script dropped unread is removed
// from the signal (a long-lived signal must not collect one per fetch).
const droppedDataBodies = new primordials.FinalizationRegistry((held) => {
  internals.abort.removeAlgorithm(held.signal, held.handle);
});

/**
 * fetch() of a data: URL: the response is delivered a microtask later (the standard queues
 * a task), so an abort right after fetch() rejects; an abort after it errors the body while
 * it is still readable. The method does not matter (HEAD gets a null body as any HEAD
 * does); the request body is not read; redirect modes do not apply.
 */
function fetchDataURL(request, url, signal) {
  const data = processDataURL(url);
  const { promise, resolve, reject } = PromiseWithResolvers();
  let settled = false;
  let bodyRef = null; // WeakRef to the response's InnerBody
  let handle = 0;
  if (signal !== null) {
    handle = internals.abort.addAlgorithm(signal, () => {
      const reason = signal.reason;
      if (!settled) {
        settled = true;
        reject(reason);
        return;
      }
      const body = bodyRef === null ? undefined : bodyRef.deref();
      if (body === undefined) return;
      const stream = internals.body.bodyStream(body);
      if (internals.streams.isReadable(stream)) internals.streams.error(stream, reason);
    });
  }
  PromisePrototypeThen(PromiseResolve(undefined), () => {
    if (settled) return;
    settled = true;
    if (data === null) {
      if (signal !== null) internals.abort.removeAlgorithm(signal, handle);
      reject(new TypeErrorCtor("fetch failed: invalid data: URL"));
      return;
    }
    let body = null;
    if (internals.request.method(request) !== "HEAD") {
      body = new internals.body.InnerBody(null, data.body, TypedArrayPrototypeGetLength(data.body));
    }
    if (signal !== null) {
      if (body === null) {
        internals.abort.removeAlgorithm(signal, handle);
      } else {
        bodyRef = new primordials.SafeWeakRef(body);
        droppedDataBodies.register(body, { __proto__: null, signal, handle });
      }
    }
    resolve(internals.response.make({
      type: "basic",
      status: 200,
      statusText: "OK",
      headers: internals.headers.fromList(["Content-Type", data.mimeType], "immutable"),
      body,
      urlList: [url],
    }));
  });
  return promise;
}

function onHead(ev) {
  const id = ev[1], status = ev[2], statusText = ev[3], headerList = ev[4], url = ev[5];
  const redirected = ev[6], coding = ev[7];
  const state = inflight.get(id);
  if (state === undefined) return;
  internals.taskHook();
  const inflow = new host.Inflow(id, AC_FETCH_CREDIT, host.config.requestWindow, 0);
  inflow.onCancel = () => {
    if (inflight.has(id)) {
      host.queueAction([AC_FETCH_ABORT, id]);
      state.finish();
    }
  };
  state.bodyRef = new primordials.SafeWeakRef(inflow);
  dropped.register(inflow, id);
  host.markNative(inflow.stream, { kind: "fetch", id, coding }); // own keys only are read
  const nullBody = internals.response.NULL_BODY_STATUS.has(status) ||
    internals.request.method(state.request) === "HEAD";
  if (nullBody) inflow.onEnd();
  const urlList = redirected ? [internals.request.url(state.request), url] : [url];
  const response = internals.response.make({
    type: "basic", // a server-side fetch has no cross-origin filtering to report
    status,
    statusText,
    headers: internals.headers.fromList(headerList, "immutable"),
    body: nullBody ? null : new internals.body.InnerBody(inflow.stream, null, null),
    urlList,
  });
  state.settled = true;
  state.resolve(response);
}

host.on(EV_FETCH_HEAD, onHead);
host.on(EV_FETCH_DATA, (ev) => {
  const state = inflight.get(ev[1]);
  const bytes = host.eventBytes(ev);
  if (state !== undefined && state.body !== null) state.body.onData(bytes);
});
host.on(EV_FETCH_END, (ev) => {
  const state = inflight.get(ev[1]);
  if (state === undefined) return;
  if (state.body !== null) state.body.onEnd();
  state.finish();
});
// The errors of fetches whose upstream failed (refused, reset, a malformed or oversized
// response): a handler that lets one escape answers 502, as a gateway does (90_serve.js).
const upstreamFailures = new primordials.SafeWeakSet();

host.on(EV_FETCH_ERROR, (ev) => {
  const state = inflight.get(ev[1]);
  if (state === undefined) return;
  const error = new TypeErrorCtor(ev[2]);
  upstreamFailures.add(error);
  state.fail(error);
});
host.on(EV_FETCH_CREDIT, (ev) => {
  const state = inflight.get(ev[1]);
  if (state !== undefined && state.upload !== null) state.upload.addCredit(ev[2]);
});

internals.fetch = {
  fetch,
  /** Whether `error` is a fetch()'s rejection because its upstream failed. */
  isUpstreamFailure: (error) => upstreamFailures.has(error),
  /** Abort the unfinished fetches charged to `job` (90_serve.js); returns how many. */
  abortFor(job, reason) {
    if (job.fetches === 0) return 0;
    const states = SafeMapValues(inflight);
    let n = 0;
    for (let i = 0; i < states.length; i++) {
      if (states[i].owner === job) {
        states[i].abort(reason);
        n++;
      }
    }
    return n;
  },
  /** Python takes over fetch `id` (its body is forwarded natively): forget it here, once
   * the request body JavaScript sends it (its credit comes by this id) is all sent. */
  forget(id) {
    const state = inflight.get(id);
    if (state === undefined) return;
    const upload = state.upload;
    if (upload !== null && !upload.finished && !upload.cancelled) {
      upload.onFinish = () => state.finish();
      return;
    }
    state.finish();
  },
  inflight: () => inflight.size,
};

internals.exposeGlobalOperation("fetch", fetch); // partial WindowOrWorkerGlobalScope
