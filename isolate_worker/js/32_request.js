// Request (Fetch standard, https://fetch.spec.whatwg.org/#request-class).
//
// There is no document here, so the "relevant settings object" is thin: its API base URL
// (for relative URLs and referrers) is `globalThis.location.href` when a script or test
// harness defines one, and there is none otherwise (a relative URL is then a TypeError, as
// in Cloudflare Workers). Without a base URL there is no origin either, and any parsed
// referrer is kept.
// Exports internals.request for the bridge (incoming requests) and fetch().

const {
  ObjectFreeze,
  StringPrototypeToUpperCase,
  Symbol: SymbolCtor,
  TypeError: TypeErrorCtor,
} = primordials;
const { webidl } = internals;
const bodyApi = internals.body;
const headersApi = internals.headers;

const kInternal = SymbolCtor("internal");

// --- Enumerations and RequestInit -------------------------------------------------------------

const REFERRER_POLICIES = [
  "", "no-referrer", "no-referrer-when-downgrade", "same-origin", "origin", "strict-origin",
  "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url",
];
const MODES = ["navigate", "same-origin", "no-cors", "cors"];
const CREDENTIALS = ["omit", "same-origin", "include"];
const CACHE_MODES = ["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"];
const REDIRECTS = ["follow", "error", "manual"];
const DUPLEXES = ["half"];
const PRIORITIES = ["high", "low", "auto"];

function includes(list, value) {
  for (let i = 0; i < list.length; i++) if (list[i] === value) return true;
  return false;
}

function enumConverter(name, values) {
  return (v, prefix, context) => {
    const s = webidl.converters.DOMString(v, prefix, context);
    if (!includes(values, s)) {
      throw new TypeErrorCtor(`${prefix}: ${context}: '${s}' is not a valid value for enumeration ${name}.`);
    }
    return s;
  };
}

function convertSignal(v, prefix, context) {
  if (v === null) return null;
  if (!internals.abort.isAbortSignal(v)) {
    throw new TypeErrorCtor(`${prefix}: ${context} is not of type 'AbortSignal'.`);
  }
  return v;
}

function convertHeadersInit(v, prefix) {
  // Converted here, in member order, like any HeadersInit (a Headers object through its
  // @@iterator). A Headers its own iterator would iterate comes back as a copy of its header
  // list, appended header by header below: the same headers as its sorted and combined pairs,
  // with the names' case kept for the wire.
  return headersApi.convertInit(v, prefix, true);
}

// Members in lexicographic order, as Web IDL reads them.
const REQUEST_INIT_MEMBERS = [
  ["body", (v, p, c) => (v === null ? null : bodyApi.convertBodyInit(v, p, c))],
  ["cache", enumConverter("RequestCache", CACHE_MODES)],
  ["credentials", enumConverter("RequestCredentials", CREDENTIALS)],
  ["duplex", enumConverter("RequestDuplex", DUPLEXES)],
  ["headers", convertHeadersInit],
  ["integrity", webidl.converters.DOMString],
  ["keepalive", webidl.converters.boolean],
  ["method", webidl.converters.ByteString],
  ["mode", enumConverter("RequestMode", MODES)],
  ["priority", enumConverter("RequestPriority", PRIORITIES)],
  ["redirect", enumConverter("RequestRedirect", REDIRECTS)],
  ["referrer", webidl.converters.USVString],
  ["referrerPolicy", enumConverter("ReferrerPolicy", REFERRER_POLICIES)],
  ["signal", convertSignal],
  ["window", (v) => v],
];

/**
 * RequestInit conversion: an object holding the members present (not undefined) in `init`,
 * each converted; `present` counts them ("init is not empty").
 */
function convertRequestInit(init, prefix) {
  const out = { present: 0 };
  const type = webidl.type(init);
  if (type === "Undefined" || type === "Null") return out;
  if (type !== "Object") {
    throw new TypeErrorCtor(`${prefix}: The provided value is not of type 'RequestInit'.`);
  }
  for (let i = 0; i < REQUEST_INIT_MEMBERS.length; i++) {
    const member = REQUEST_INIT_MEMBERS[i];
    const key = member[0];
    const value = init[key];
    if (value === undefined) continue;
    out[key] = member[1](value, prefix, `Member RequestInit.${key}`);
    out.present++;
  }
  return out;
}

// --- The settings object's API base URL ---------------------------------------------------------

/** The API base URL record (from `globalThis.location.href`), or null. */
function apiBaseURL() {
  let href;
  try {
    const location = primordials.globalThis.location;
    if (location === undefined || location === null) return null;
    href = location.href;
  } catch {
    return null;
  }
  if (typeof href !== "string") return null;
  return internals.url.parse(href);
}

/** Parse `input` against the API base URL: a URL record or null. */
function parseURL(input) {
  return internals.url.parse(input, apiBaseURL());
}

function includesCredentials(record) {
  return record.username !== "" || record.password !== "";
}

/** A method: a token. Forbidden methods: CONNECT, TRACE, TRACK (any case). */
function normalizeMethod(method, prefix) {
  if (!headersApi.isValidName(method)) { // a method is a token, as a header name is
    throw new TypeErrorCtor(`${prefix}: '${method}' is not a valid HTTP method.`);
  }
  const upper = StringPrototypeToUpperCase(method);
  if (upper === "CONNECT" || upper === "TRACE" || upper === "TRACK") {
    throw new TypeErrorCtor(`${prefix}: '${method}' HTTP method is unsupported.`);
  }
  switch (upper) {
    case "DELETE": case "GET": case "HEAD": case "OPTIONS": case "POST": case "PUT":
      return upper;
    default:
      return method;
  }
}

// --- Request ------------------------------------------------------------------------------------

let slots;

class Request {
  #method = "GET";
  #url = "";
  #headers = null;
  #body = null;
  // null until needed when no signal is followed; an incoming request's (make) holds the
  // function that makes it until then: most requests never look at their signal.
  #signal = null;
  #redirect = "follow";
  #mode = "cors";
  #credentials = "same-origin";
  #cache = "default";
  #referrer = "client"; // "client", "no-referrer" or a serialized URL
  #referrerPolicy = "";
  #integrity = "";
  #keepalive = false;
  #priority = "auto";
  #reloadNavigation = false;
  #historyNavigation = false;
  #extra = null; // runtime data attached to incoming requests (request id, client, ...)

  static {
    /** The signal `r` follows, made now if it was left to be made; null if none. */
    const signalMade = (r) => {
      let s = r.#signal;
      if (typeof s === "function") {
        s = s();
        r.#signal = s;
      }
      return s;
    };
    slots = {
      is: (r) => typeof r === "object" && r !== null && #method in r,
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
      signal: signalMade,
      extra: (r) => r.#extra,
      /** An incoming request from the bridge: trusted values, no validation; `signal` is
       * a function that makes the request's signal when it is first needed. */
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
      /** The request fields "clone a request" and the constructor copy. */
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
        target.#priority = src.#priority;
        target.#reloadNavigation = src.#reloadNavigation;
        target.#historyNavigation = src.#historyNavigation;
        target.#extra = src.#extra;
      },
      signalOf(r) {
        if (signalMade(r) === null) r.#signal = internals.abort.createAbortSignal();
        return r.#signal;
      },
      /**
       * The constructor steps. `forFetch`: the request is fetch()'s own, never seen by the
       * script, so a stream body the script holds moves as it is instead of through a proxy
       * (the input is left used; fetch locks and reads the stream at once).
       */
      construct(r, input, init, forFetch) {
        const prefix = "Failed to construct 'Request'";
        // Web IDL argument conversion: (Request or USVString), then RequestInit.
        const inputRequest = slots.is(input) ? input : null;
        if (inputRequest === null) input = webidl.converters.USVString(input, prefix, "Argument 1");
        const opts = convertRequestInit(init, prefix);

        let followed = null;
        let fallbackMode = null;
        if (inputRequest === null) {
          const parsed = parseURL(input);
          if (parsed === null) throw new TypeErrorCtor(`${prefix}: Invalid URL: '${input}'`);
          if (includesCredentials(parsed)) {
            throw new TypeErrorCtor(
              `${prefix}: Request cannot be constructed from a URL that includes credentials: '${input}'`,
            );
          }
          r.#url = internals.url.serialize(parsed);
          fallbackMode = "cors";
        } else {
          slots.copyFrom(r, inputRequest);
          followed = slots.signal(inputRequest);
        }
        if (opts.window !== undefined && opts.window !== null) {
          throw new TypeErrorCtor(`${prefix}: 'window' can only be null.`);
        }
        if (opts.present > 0) {
          if (r.#mode === "navigate") r.#mode = "same-origin";
          r.#reloadNavigation = false;
          r.#historyNavigation = false;
          r.#referrer = "client";
          r.#referrerPolicy = "";
        }
        if (opts.referrer !== undefined) {
          const referrer = opts.referrer;
          if (referrer === "") {
            r.#referrer = "no-referrer";
          } else {
            const parsed = parseURL(referrer);
            if (parsed === null) throw new TypeErrorCtor(`${prefix}: Invalid referrer URL: '${referrer}'`);
            const base = apiBaseURL();
            if ((parsed.scheme === "about" && parsed.path === "client") ||
                (base !== null && internals.url.origin(parsed) !== internals.url.origin(base))) {
              r.#referrer = "client";
            } else {
              r.#referrer = internals.url.serialize(parsed);
            }
          }
        }
        if (opts.referrerPolicy !== undefined) r.#referrerPolicy = opts.referrerPolicy;
        const mode = opts.mode !== undefined ? opts.mode : fallbackMode;
        if (mode === "navigate") {
          throw new TypeErrorCtor(`${prefix}: Cannot construct a Request with a RequestInit whose mode member is set as 'navigate'.`);
        }
        if (mode !== null) r.#mode = mode;
        if (opts.credentials !== undefined) r.#credentials = opts.credentials;
        if (opts.cache !== undefined) r.#cache = opts.cache;
        if (r.#cache === "only-if-cached" && r.#mode !== "same-origin") {
          throw new TypeErrorCtor(`${prefix}: 'only-if-cached' can be set only with 'same-origin' mode.`);
        }
        if (opts.redirect !== undefined) r.#redirect = opts.redirect;
        if (opts.integrity !== undefined) r.#integrity = opts.integrity;
        if (opts.keepalive !== undefined) r.#keepalive = opts.keepalive;
        if (opts.method !== undefined) r.#method = normalizeMethod(opts.method, prefix);
        if (opts.signal !== undefined) followed = opts.signal;
        if (opts.priority !== undefined) r.#priority = opts.priority;
        // The signal follows the input's or init's (a dependent signal); with none to follow
        // it is made when first asked for.
        r.#signal = followed === null || followed === undefined
          ? null
          : internals.abort.createDependentSignal([followed]);

        // Headers: a copy of the input's list, guard "request" (or "request-no-cors").
        const headers = inputRequest === null
          ? headersApi.fromList([], "request")
          : headersApi.copy(inputRequest.#headers, "request");
        r.#headers = headers;
        if (r.#mode === "no-cors") {
          const method = r.#method;
          if (method !== "GET" && method !== "HEAD" && method !== "POST") {
            throw new TypeErrorCtor(`${prefix}: '${method}' is unsupported in no-cors mode.`);
          }
          headersApi.setGuard(headers, "request-no-cors");
        }
        if (opts.present > 0) {
          const source = opts.headers !== undefined ? opts.headers : headersApi.copy(headers, "none");
          headersApi.clear(headers);
          if (headersApi.isHeaders(source)) {
            const list = headersApi.list(source);
            for (let i = 0; i < list.length; i += 2) {
              headersApi.append(headers, list[i], list[i + 1], prefix);
            }
          } else {
            headersApi.fillConverted(headers, source, prefix);
          }
        }

        // The body.
        const inputBody = inputRequest === null ? null : inputRequest.#body;
        const hasInitBody = opts.body !== undefined && opts.body !== null;
        if ((hasInitBody || inputBody !== null) && (r.#method === "GET" || r.#method === "HEAD")) {
          throw new TypeErrorCtor(`${prefix}: Request with GET/HEAD method cannot have body.`);
        }
        let initBody = null;
        if (hasInitBody) {
          const extracted = bodyApi.extractBody(opts.body, r.#keepalive, prefix);
          initBody = extracted.body;
          if (extracted.type !== null && !headersApi.has(headers, "content-type")) {
            headersApi.append(headers, "Content-Type", extracted.type, prefix);
          }
        }
        const inputOrInitBody = initBody !== null ? initBody : inputBody;
        if (inputOrInitBody !== null && inputOrInitBody.source === null) {
          if (initBody !== null && opts.duplex === undefined) {
            throw new TypeErrorCtor(`${prefix}: The duplex member must be specified for a request with a streaming body.`);
          }
          if (r.#mode !== "same-origin" && r.#mode !== "cors") {
            throw new TypeErrorCtor(`${prefix}: A request with a streaming body must have mode 'same-origin' or 'cors'.`);
          }
        }
        let finalBody = inputOrInitBody;
        if (inputBody !== null) {
          if (initBody === null) {
            if (bodyApi.isUnusable(inputBody)) {
              throw new TypeErrorCtor(`${prefix}: Cannot construct a Request with a Request object that has already been used.`);
            }
            // Nothing below throws: the input's body moves here and the input is left used.
            finalBody = bodyApi.takeBody(inputBody, forFetch);
          } else if (!bodyApi.isUnusable(inputBody)) {
            // As browsers do (and the web-platform-tests expect): the replaced body is
            // disturbed too.
            bodyApi.disturbBody(inputBody);
          }
        }
        r.#body = finalBody;
      },
    };
  }

  constructor(input, init = undefined) {
    if (input === kInternal) return;
    webidl.requiredArguments(arguments.length, 1, "Failed to construct 'Request'");
    slots.construct(this, input, init, false);
  }

  get method() {
    check(this, "method");
    return this.#method;
  }

  get url() {
    check(this, "url");
    return this.#url;
  }

  get headers() {
    check(this, "headers");
    return this.#headers;
  }

  get destination() {
    check(this, "destination");
    return "";
  }

  get referrer() {
    check(this, "referrer");
    const referrer = this.#referrer;
    if (referrer === "no-referrer") return "";
    if (referrer === "client") return "about:client";
    return referrer;
  }

  get referrerPolicy() {
    check(this, "referrerPolicy");
    return this.#referrerPolicy;
  }

  get mode() {
    check(this, "mode");
    return this.#mode;
  }

  get credentials() {
    check(this, "credentials");
    return this.#credentials;
  }

  get cache() {
    check(this, "cache");
    return this.#cache;
  }

  get redirect() {
    check(this, "redirect");
    return this.#redirect;
  }

  get integrity() {
    check(this, "integrity");
    return this.#integrity;
  }

  get keepalive() {
    check(this, "keepalive");
    return this.#keepalive;
  }

  get isReloadNavigation() {
    check(this, "isReloadNavigation");
    return this.#reloadNavigation;
  }

  get isHistoryNavigation() {
    check(this, "isHistoryNavigation");
    return this.#historyNavigation;
  }

  get signal() {
    check(this, "signal");
    return slots.signalOf(this);
  }

  get duplex() {
    check(this, "duplex");
    return "half";
  }

  clone() {
    const prefix = "Failed to execute 'clone' on 'Request'";
    if (!slots.is(this)) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
    if (bodyApi.isUnusable(this.#body)) {
      throw new TypeErrorCtor(`${prefix}: Request body is already used`);
    }
    const c = new Request(kInternal);
    slots.copyFrom(c, this);
    c.#headers = headersApi.copy(this.#headers, headersApi.guard(this.#headers));
    c.#body = this.#body === null ? null : bodyApi.cloneBody(this.#body);
    // A signal that follows nothing can never abort, nor can one that follows it: both stay
    // unmade until asked for.
    const followed = slots.signal(this);
    c.#signal = followed === null
      ? null
      : internals.abort.createDependentSignal([followed]);
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

internals.request = ObjectFreeze({
  Request,
  isRequest: slots.is,
  make: slots.make,
  /** fetch()'s "invoke the initial value of Request as constructor with input and init". */
  forFetch(input, init) {
    const r = new Request(kInternal);
    slots.construct(r, input, init, true);
    return r;
  },
  body: (r) => slots.body(r, "request"),
  setBody: slots.setBody,
  headers: slots.headers,
  method: slots.method,
  url: slots.url,
  redirect: slots.redirect,
  /** The request's signal, or null when it follows none (it could never be aborted). */
  signal: slots.signal,
  extra: slots.extra,
  normalizeMethod,
  apiBaseURL,
  parseURL,
});

internals.exposeGlobal("Request", Request);
