// Request (Fetch standard, https://fetch.spec.whatwg.org/#request-class).
// Exports internals.request for the bridge (incoming requests) and fetch().

const {
  RegExpPrototypeTest,
  SafeSet,
  StringPrototypeToUpperCase,
  Symbol: SymbolCtor,
  TypeError: TypeErrorCtor,
} = primordials;
const { webidl } = internals;
const bodyApi = internals.body;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_METHODS = new SafeSet(["CONNECT", "TRACE", "TRACK"]);
const NORMALIZED_METHODS = new SafeSet(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const kInternal = SymbolCtor("internal");

const enumConverter = (name, values) => (v, prefix, context) => {
  const s = webidl.converters.DOMString(v, prefix, context);
  if (!values.includes(s)) {
    throw new TypeErrorCtor(`${prefix}: ${context} '${s}' is not a valid enum value of type ${name}.`);
  }
  return s;
};

const RequestInit = webidl.createDictionaryConverter("RequestInit", [
  { key: "method", converter: webidl.converters.ByteString },
  { key: "headers", converter: (v) => v },
  { key: "body", converter: (v) => v },
  { key: "referrer", converter: webidl.converters.USVString },
  { key: "referrerPolicy", converter: webidl.converters.DOMString },
  { key: "mode", converter: enumConverter("RequestMode", ["navigate", "same-origin", "no-cors", "cors"]) },
  { key: "credentials", converter: enumConverter("RequestCredentials", ["omit", "same-origin", "include"]) },
  { key: "cache", converter: enumConverter("RequestCache", ["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"]) },
  { key: "redirect", converter: enumConverter("RequestRedirect", ["follow", "error", "manual"]) },
  { key: "integrity", converter: webidl.converters.DOMString },
  { key: "keepalive", converter: webidl.converters.boolean },
  { key: "signal", converter: (v) => v },
  { key: "duplex", converter: enumConverter("RequestDuplex", ["half"]) },
  { key: "priority", converter: enumConverter("RequestPriority", ["high", "low", "auto"]) },
  { key: "window", converter: (v) => v },
]);

function normalizeMethod(method, prefix) {
  if (!RegExpPrototypeTest(TOKEN, method)) {
    throw new TypeErrorCtor(`${prefix}: '${method}' is not a valid HTTP method.`);
  }
  const upper = StringPrototypeToUpperCase(method);
  if (FORBIDDEN_METHODS.has(upper)) {
    throw new TypeErrorCtor(`${prefix}: '${method}' HTTP method is unsupported.`);
  }
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

function parseURL(input, prefix) {
  if (internals.url !== undefined) {
    const record = internals.url.parse(input);
    if (record === null || record === undefined) {
      throw new TypeErrorCtor(`${prefix}: Invalid URL: ${input}`);
    }
    if (record.username !== "" || record.password !== "") {
      throw new TypeErrorCtor(`${prefix}: Request cannot be constructed from a URL that includes credentials: ${input}`);
    }
    return internals.url.serialize(record);
  }
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\S*$/.test(input)) {
    throw new TypeErrorCtor(`${prefix}: Invalid URL: ${input}`);
  }
  return input;
}

function newSignal(followed) {
  const abort = internals.abort;
  if (abort === undefined) return null;
  if (followed !== null && followed !== undefined) {
    return abort.createDependentSignal([followed]);
  }
  return new globalThis.AbortController().signal;
}

let slots;

class Request {
  #method = "GET";
  #url = "";
  #headers;
  #body = null;
  #signal = null;
  #redirect = "follow";
  #mode = "cors";
  #credentials = "same-origin";
  #cache = "default";
  #referrer = "about:client";
  #referrerPolicy = "";
  #integrity = "";
  #keepalive = false;
  #duplex = "half";
  #extra = null; // runtime data attached to incoming requests (cf, request id)

  static {
    slots = {
      is: (r) => r !== null && typeof r === "object" && #method in r,
      body(r, prefix) {
        if (!slots.is(r)) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
        return r.#body;
      },
      setBody(r, body) {
        r.#body = body;
      },
      headers: (r) => r.#headers,
      method: (r) => r.#method,
      url: (r) => r.#url,
      redirect: (r) => r.#redirect,
      signal: (r) => r.#signal,
      extra: (r) => r.#extra,
      /** An incoming request from the bridge: trusted values, no validation. */
      make({ method, url, headers, body, signal, extra }) {
        const r = new Request(kInternal);
        r.#method = method;
        r.#url = url;
        r.#headers = headers;
        r.#body = body;
        r.#signal = signal;
        r.#extra = extra;
        return r;
      },
      copyFrom(target, src) {
        target.#method = src.#method;
        target.#url = src.#url;
        target.#redirect = src.#redirect;
        target.#mode = src.#mode;
        target.#credentials = src.#credentials;
        target.#cache = src.#cache;
        target.#referrer = src.#referrer;
        target.#referrerPolicy = src.#referrerPolicy;
        target.#integrity = src.#integrity;
        target.#keepalive = src.#keepalive;
      },
      init(r, input, init) {
        const prefix = "Failed to construct 'Request'";
        const opts = RequestInit(init, prefix, "Argument 2");
        let inputBody = null;
        let followed = null;
        if (slots.is(input)) {
          slots.copyFrom(r, input);
          inputBody = input.#body;
          followed = input.#signal;
        } else {
          r.#url = parseURL(webidl.converters.USVString(input, prefix, "Argument 1"), prefix);
        }
        if (opts.mode === "navigate") {
          throw new TypeErrorCtor(`${prefix}: Cannot construct a Request with a RequestInit whose mode member is set as 'navigate'.`);
        }
        if (opts.referrer !== undefined) r.#referrer = opts.referrer === "" ? "" : opts.referrer;
        if (opts.referrerPolicy !== undefined) r.#referrerPolicy = opts.referrerPolicy;
        if (opts.mode !== undefined) r.#mode = opts.mode;
        if (opts.credentials !== undefined) r.#credentials = opts.credentials;
        if (opts.cache !== undefined) r.#cache = opts.cache;
        if (opts.redirect !== undefined) r.#redirect = opts.redirect;
        if (opts.integrity !== undefined) r.#integrity = opts.integrity;
        if (opts.keepalive !== undefined) r.#keepalive = opts.keepalive;
        if (opts.method !== undefined) r.#method = normalizeMethod(opts.method, prefix);
        if (opts.signal !== undefined && opts.signal !== null) {
          if (internals.abort === undefined || !internals.abort.isAbortSignal(opts.signal)) {
            throw new TypeErrorCtor(`${prefix}: member signal is not of type AbortSignal.`);
          }
          followed = opts.signal;
        }
        r.#signal = newSignal(followed);
        // Headers: from init, else a copy of the input's.
        if (opts.headers !== undefined) {
          r.#headers = internals.headers.fromList([], "request");
          internals.headers.fill(r.#headers, opts.headers, prefix);
        } else if (slots.is(input)) {
          r.#headers = internals.headers.copy(input.#headers, "request");
        } else {
          r.#headers = internals.headers.fromList([], "request");
        }
        const hasInitBody = opts.body !== undefined && opts.body !== null;
        if ((hasInitBody || inputBody !== null) && (r.#method === "GET" || r.#method === "HEAD")) {
          throw new TypeErrorCtor(`${prefix}: Request with GET/HEAD method cannot have body.`);
        }
        let finalBody = inputBody;
        if (hasInitBody) {
          const extracted = bodyApi.extractBody(opts.body);
          finalBody = extracted.body;
          if (extracted.type !== null && !r.#headers.has("content-type")) {
            internals.headers.setUnchecked(r.#headers, "content-type", extracted.type);
          }
          if (finalBody.stream !== null && opts.duplex !== "half") {
            throw new TypeErrorCtor(`${prefix}: RequestInit's duplex member must be "half" when the body is a ReadableStream.`);
          }
        }
        if (!hasInitBody && inputBody !== null) {
          if (bodyApi.isUnusable(inputBody)) {
            throw new TypeErrorCtor(`${prefix}: Cannot construct a Request with a Request object that has already been used.`);
          }
          // The body moves to the new request; the input is left used.
          const left = new bodyApi.InnerBody(inputBody.stream, inputBody.source, inputBody.length);
          left.used = true;
          input.#body = left;
        }
        r.#body = finalBody;
        r.#extra = slots.is(input) ? input.#extra : null;
      },
    };
  }

  constructor(input, init = undefined) {
    if (input === kInternal) {
      this.#headers = internals.headers.fromList([], "request");
      return;
    }
    webidl.requiredArguments(arguments.length, 1, "Failed to construct 'Request'");
    slots.init(this, input, init);
  }

  get method() { check(this, "method"); return this.#method; }
  get url() { check(this, "url"); return this.#url; }
  get headers() { check(this, "headers"); return this.#headers; }
  get destination() { check(this, "destination"); return ""; }
  get referrer() {
    check(this, "referrer");
    if (this.#referrer === "") return "";
    if (this.#referrer === "about:client") return "about:client";
    return this.#referrer;
  }
  get referrerPolicy() { check(this, "referrerPolicy"); return this.#referrerPolicy; }
  get mode() { check(this, "mode"); return this.#mode; }
  get credentials() { check(this, "credentials"); return this.#credentials; }
  get cache() { check(this, "cache"); return this.#cache; }
  get redirect() { check(this, "redirect"); return this.#redirect; }
  get integrity() { check(this, "integrity"); return this.#integrity; }
  get keepalive() { check(this, "keepalive"); return this.#keepalive; }
  get isReloadNavigation() { check(this, "isReloadNavigation"); return false; }
  get isHistoryNavigation() { check(this, "isHistoryNavigation"); return false; }
  get duplex() { check(this, "duplex"); return this.#duplex; }
  get signal() {
    check(this, "signal");
    if (this.#signal === null) this.#signal = newSignal(null);
    return this.#signal;
  }

  /** Cloudflare-style extras (`request.cf`) are not provided. */
  get cf() { check(this, "cf"); return undefined; }

  clone() {
    if (!slots.is(this)) throw new TypeErrorCtor("Failed to execute 'clone' on 'Request': Illegal invocation");
    if (bodyApi.isUnusable(this.#body)) {
      throw new TypeErrorCtor("Failed to execute 'clone' on 'Request': Request body is already used");
    }
    const c = new Request(kInternal);
    slots.copyFrom(c, this);
    c.#headers = internals.headers.copy(this.#headers, internals.headers.guard(this.#headers));
    c.#body = this.#body === null ? null : bodyApi.cloneBody(this.#body);
    c.#signal = newSignal(this.#signal);
    c.#extra = this.#extra;
    return c;
  }
}

function check(self, name) {
  if (!slots.is(self)) {
    throw new TypeErrorCtor(`Failed to read the '${name}' property from 'Request': Illegal invocation`);
  }
}

webidl.configureInterface(Request);
bodyApi.installBodyMixin(Request, "Request", slots.body, slots.headers);

internals.request = {
  Request,
  isRequest: slots.is,
  make: slots.make,
  body: (r) => slots.body(r, "request"),
  setBody: slots.setBody,
  headers: slots.headers,
  method: slots.method,
  url: slots.url,
  redirect: slots.redirect,
  signal: slots.signal,
  extra: slots.extra,
  normalizeMethod,
};

internals.exposeGlobal("Request", Request);
