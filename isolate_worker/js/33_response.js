// Response (Fetch standard, https://fetch.spec.whatwg.org/#response-class).
// Exports internals.response for the bridge (reading a handler's answer) and fetch().

const {
  JSONStringify,
  RegExpPrototypeTest,
  SafeSet,
  Symbol: SymbolCtor,
  RangeError: RangeErrorCtor,
  TypeError: TypeErrorCtor,
} = primordials;
const { webidl } = internals;
const { Headers } = internals.headers;
const bodyApi = internals.body;

const NULL_BODY_STATUS = new SafeSet([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new SafeSet([301, 302, 303, 307, 308]);
// reason-phrase = *( HTAB / SP / VCHAR / obs-text )
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

const ResponseInit = webidl.createDictionaryConverter("ResponseInit", [
  { key: "status", converter: (v, p, c) => webidl.converters["unsigned short"](v, p, c), defaultValue: 200 },
  { key: "statusText", converter: webidl.converters.ByteString, defaultValue: "" },
  { key: "headers", converter: (v) => v },
]);

let slots;

class Response {
  #type = "default";
  #urlList = [];
  #status = 200;
  #statusText = "";
  #headers;
  #body = null;

  static {
    slots = {
      is: (r) => r !== null && typeof r === "object" && #type in r,
      body(r, prefix) {
        if (!slots.is(r)) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
        return r.#body;
      },
      headers: (r) => r.#headers,
      status: (r) => r.#status,
      setBody(r, body) {
        r.#body = body;
      },
      setStatus(r, status, statusText) {
        r.#status = status;
        r.#statusText = statusText;
      },
      /** Build a response without validation (fetch results, Response.error). */
      make({ type = "default", status = 200, statusText = "", headers, body = null, urlList = [] }) {
        const r = new Response(null, undefined, kInternal);
        r.#type = type;
        r.#status = status;
        r.#statusText = statusText;
        r.#headers = headers;
        r.#body = body;
        r.#urlList = urlList;
        return r;
      },
      clone(r) {
        const c = new Response(null, undefined, kInternal);
        c.#type = r.#type;
        c.#status = r.#status;
        c.#statusText = r.#statusText;
        c.#headers = internals.headers.copy(r.#headers, internals.headers.guard(r.#headers));
        c.#body = r.#body === null ? null : bodyApi.cloneBody(r.#body);
        c.#urlList = [...r.#urlList];
        return c;
      },
    };
  }

  constructor(body = null, init = undefined, internal = undefined) {
    if (internal === kInternal) {
      this.#headers = internals.headers.fromList([], "response");
      return;
    }
    const prefix = "Failed to construct 'Response'";
    const opts = ResponseInit(init, prefix, "Argument 2");
    this.#headers = internals.headers.fromList([], "response");
    let extracted = null;
    if (body !== null && body !== undefined) extracted = bodyApi.extractBody(body);
    initializeResponse(this, opts, extracted, prefix);
  }

  static error() {
    return slots.make({
      type: "error", status: 0, headers: internals.headers.fromList([], "immutable"),
    });
  }

  static redirect(url, status = 302) {
    const prefix = "Failed to execute 'redirect' on 'Response'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = webidl.converters.USVString(url, prefix, "Argument 1");
    const parsed = parseURL(url, prefix);
    status = webidl.converters["unsigned short"](status, prefix, "Argument 2");
    if (!REDIRECT_STATUS.has(status)) {
      throw new RangeErrorCtor(`${prefix}: Invalid status code ${status}`);
    }
    return slots.make({
      status,
      headers: internals.headers.fromList(["location", parsed], "immutable"),
    });
  }

  static json(data, init = undefined) {
    const prefix = "Failed to execute 'json' on 'Response'";
    const opts = ResponseInit(init, prefix, "Argument 2");
    const text = JSONStringify(data);
    if (text === undefined) {
      throw new TypeErrorCtor(`${prefix}: The data is not JSON serializable`);
    }
    const r = slots.make({ headers: internals.headers.fromList([], "response") });
    const extracted = { body: bodyApi.extractBody(text).body, type: "application/json" };
    initializeResponse(r, opts, extracted, prefix);
    return r;
  }

  get type() {
    check(this, "type");
    return this.#type;
  }

  get url() {
    check(this, "url");
    const list = this.#urlList;
    if (list.length === 0) return "";
    const last = list[list.length - 1];
    const hash = last.indexOf("#");
    return hash === -1 ? last : last.slice(0, hash);
  }

  get redirected() {
    check(this, "redirected");
    return this.#urlList.length > 1;
  }

  get status() {
    check(this, "status");
    return this.#status;
  }

  get ok() {
    check(this, "ok");
    return this.#status >= 200 && this.#status <= 299;
  }

  get statusText() {
    check(this, "statusText");
    return this.#statusText;
  }

  get headers() {
    check(this, "headers");
    return this.#headers;
  }

  clone() {
    check(this, "clone", "execute");
    if (bodyApi.isUnusable(this.#body)) {
      throw new TypeErrorCtor("Failed to execute 'clone' on 'Response': Response body is already used");
    }
    return slots.clone(this);
  }
}

const kInternal = SymbolCtor("internal");

function check(self, name, verb = "read the") {
  if (!slots.is(self)) {
    throw new TypeErrorCtor(
      `Failed to ${verb === "execute" ? `execute '${name}' on` : `read the '${name}' property from`} 'Response': Illegal invocation`,
    );
  }
}

function parseURL(url, prefix) {
  const parsed = internals.url !== undefined ? internals.url.parse(url) : null;
  if (parsed === null || parsed === undefined) {
    if (internals.url === undefined && /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) return url;
    throw new TypeErrorCtor(`${prefix}: Invalid URL: ${url}`);
  }
  return internals.url.serialize(parsed);
}

/** "initialize a response" */
function initializeResponse(response, init, extracted, prefix) {
  const status = init.status;
  if (status < 200 || status > 599) {
    throw new RangeErrorCtor(`${prefix}: The status provided (${status}) is outside the range [200, 599].`);
  }
  if (!RegExpPrototypeTest(REASON_PHRASE, init.statusText)) {
    throw new TypeErrorCtor(`${prefix}: Invalid statusText`);
  }
  const headers = slots.headers(response);
  if (init.headers !== undefined) internals.headers.fill(headers, init.headers, prefix);
  slots.setStatus(response, status, init.statusText);
  if (extracted !== null) {
    if (NULL_BODY_STATUS.has(status)) {
      throw new TypeErrorCtor(`${prefix}: Response with null body status cannot have body`);
    }
    slots.setBody(response, extracted.body);
    if (extracted.type !== null && !headers.has("content-type")) {
      internals.headers.setUnchecked(headers, "content-type", extracted.type);
    }
  }
}

webidl.configureInterface(Response);
bodyApi.installBodyMixin(Response, "Response", slots.body, slots.headers);

internals.response = {
  Response,
  isResponse: slots.is,
  make: slots.make,
  body: (r) => slots.body(r, "response"),
  headers: slots.headers,
  status: slots.status,
  setBody: slots.setBody,
  NULL_BODY_STATUS,
  REDIRECT_STATUS,
};

internals.exposeGlobal("Response", Response);
