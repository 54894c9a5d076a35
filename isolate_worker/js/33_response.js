// Response (Fetch standard, https://fetch.spec.whatwg.org/#response-class).
// Exports internals.response for the bridge (reading a handler's answer) and fetch().

const {
  ArrayPrototypeSlice,
  JSONStringify,
  ObjectFreeze,
  RegExpPrototypeTest,
  SafeSet,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  Symbol: SymbolCtor,
  RangeError: RangeErrorCtor,
  TypeError: TypeErrorCtor,
} = primordials;
const { webidl } = internals;
const bodyApi = internals.body;
const headersApi = internals.headers;

const NULL_BODY_STATUS = new SafeSet([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new SafeSet([301, 302, 303, 307, 308]);
// reason-phrase = *( HTAB / SP / VCHAR / obs-text )
const REASON_PHRASE = new primordials.SafeRegExp(/^[\t\x20-\x7e\x80-\xff]*$/);
const kInternal = SymbolCtor("internal");

/**
 * ResponseInit conversion (members in lexicographic order): { encodeBody, headers, status,
 * statusText, webSocket }, `headers` being a converted HeadersInit or undefined; Workers'
 * members: `encodeBody` "automatic" (the body is compressed on its way out to the
 * Content-Encoding its headers name: 90_serve.js) or "manual" (it is sent as it is),
 * `webSocket` a WebSocket or null.
 */
function convertResponseInit(init, prefix) {
  const type = webidl.type(init);
  if (type === "Undefined" || type === "Null") {
    return { encodeBody: "automatic", headers: undefined, status: 200, statusText: "",
      webSocket: null };
  }
  if (type !== "Object") {
    throw new TypeErrorCtor(`${prefix}: The provided value is not of type 'ResponseInit'.`);
  }
  let encodeBody = init.encodeBody;
  if (encodeBody === undefined) {
    encodeBody = "automatic";
  } else {
    encodeBody = webidl.converters.DOMString(encodeBody, prefix, "Member ResponseInit.encodeBody");
    if (encodeBody !== "automatic" && encodeBody !== "manual") {
      throw new TypeErrorCtor(`${prefix}: Member ResponseInit.encodeBody must be "automatic" ` +
        `or "manual", not "${encodeBody}".`);
    }
  }
  let headers = init.headers;
  if (headers !== undefined) headers = headersApi.convertInit(headers, prefix);
  let status = init.status;
  status = status === undefined
    ? 200
    : webidl.converters["unsigned short"](status, prefix, "Member ResponseInit.status");
  let statusText = init.statusText;
  statusText = statusText === undefined
    ? ""
    : webidl.converters.ByteString(statusText, prefix, "Member ResponseInit.statusText");
  let webSocket = init.webSocket;
  if (webSocket === undefined || webSocket === null) {
    webSocket = null;
  } else if (!internals.websocket.isWebSocket(webSocket)) {
    throw new TypeErrorCtor(`${prefix}: Member ResponseInit.webSocket is not of type 'WebSocket'.`);
  }
  return { encodeBody, headers, status, statusText, webSocket };
}

let slots;

class Response {
  #type = "default";
  #urlList = null; // null: empty
  #status = 200;
  #statusText = "";
  #headers = null;
  #body = null;
  #webSocket = null;
  #encodeBody = "automatic";

  static {
    slots = {
      is: (r) => typeof r === "object" && r !== null && #type in r,
      body(r, prefix) {
        if (!slots.is(r)) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
        return r.#body;
      },
      headers: (r) => r.#headers,
      status: (r) => r.#status,
      statusText: (r) => r.#statusText,
      type: (r) => r.#type,
      webSocket: (r) => r.#webSocket,
      encodeBody: (r) => r.#encodeBody,
      setBody(r, body) {
        r.#body = body;
      },
      /** Build a response without validation (fetch results). */
      make({ type = "default", status = 200, statusText = "", headers, body = null, urlList = null,
        webSocket = null }) {
        const r = new Response(null, undefined, kInternal);
        r.#type = type;
        r.#status = status;
        r.#statusText = statusText;
        r.#headers = headers;
        r.#body = body;
        r.#urlList = urlList;
        r.#webSocket = webSocket;
        return r;
      },
      /** "initialize a response" with a converted ResponseInit and a body with type. */
      initialize(r, init, extracted, prefix) {
        const status = init.status;
        const webSocket = init.webSocket ?? null;
        if ((status < 200 || status > 599) && !(status === 101 && webSocket !== null)) {
          throw new RangeErrorCtor(
            `${prefix}: The status provided (${status}) is outside the range [200, 599].`,
          );
        }
        if (webSocket !== null && status !== 101) {
          throw new RangeErrorCtor(`${prefix}: Responses with a WebSocket must have status ` +
            `code 101, not ${status}.`);
        }
        r.#webSocket = webSocket;
        r.#encodeBody = init.encodeBody ?? "automatic";
        const statusText = init.statusText;
        if (statusText !== "" && !RegExpPrototypeTest(REASON_PHRASE, statusText)) {
          throw new TypeErrorCtor(`${prefix}: Invalid statusText.`);
        }
        r.#status = status;
        r.#statusText = statusText;
        const headers = r.#headers;
        if (init.headers !== undefined) headersApi.fillConverted(headers, init.headers, prefix);
        if (extracted !== null) {
          if (NULL_BODY_STATUS.has(status)) {
            throw new TypeErrorCtor(
              `${prefix}: Response with null body status (${status}) cannot have body.`,
            );
          }
          r.#body = extracted.body;
          if (extracted.type !== null && !headersApi.has(headers, "content-type")) {
            headersApi.appendUnchecked(headers, "Content-Type", extracted.type);
          }
        }
      },
    };
  }

  constructor(body = null, init = undefined, internal = undefined) {
    if (internal === kInternal) return;
    const prefix = "Failed to construct 'Response'";
    if (body !== null) body = bodyApi.convertBodyInit(body, prefix, "Argument 1");
    const opts = convertResponseInit(init, prefix);
    this.#headers = headersApi.fromList([], "response");
    const extracted = body === null ? null : bodyApi.extractBody(body, false, prefix);
    slots.initialize(this, opts, extracted, prefix);
  }

  static error() {
    return slots.make({
      type: "error", status: 0, headers: headersApi.fromList([], "immutable"),
    });
  }

  static redirect(url, status = 302) {
    const prefix = "Failed to execute 'redirect' on 'Response'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    url = webidl.converters.USVString(url, prefix, "Argument 1");
    status = webidl.converters["unsigned short"](status, prefix, "Argument 2");
    const parsed = internals.request.parseURL(url);
    if (parsed === null) throw new TypeErrorCtor(`${prefix}: Invalid URL: '${url}'`);
    if (!REDIRECT_STATUS.has(status)) {
      throw new RangeErrorCtor(`${prefix}: Invalid redirect status code ${status}.`);
    }
    return slots.make({
      status,
      headers: headersApi.fromList(["Location", internals.url.serialize(parsed)], "immutable"),
    });
  }

  static json(data, init = undefined) {
    const prefix = "Failed to execute 'json' on 'Response'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const opts = convertResponseInit(init, prefix);
    const text = JSONStringify(data);
    if (text === undefined) {
      throw new TypeErrorCtor(`${prefix}: The data is not JSON serializable.`);
    }
    const r = slots.make({ headers: headersApi.fromList([], "response") });
    const extracted = { body: bodyApi.extractBody(text).body, type: "application/json" };
    slots.initialize(r, opts, extracted, prefix);
    return r;
  }

  get type() {
    check(this, "type");
    return this.#type;
  }

  get url() {
    check(this, "url");
    const list = this.#urlList;
    if (list === null || list.length === 0) return "";
    const last = list[list.length - 1];
    const hash = StringPrototypeIndexOf(last, "#");
    return hash === -1 ? last : StringPrototypeSlice(last, 0, hash);
  }

  get redirected() {
    check(this, "redirected");
    return this.#urlList !== null && this.#urlList.length > 1;
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

  /** Workers API: the WebSocket of a 101 response, else null. */
  get webSocket() {
    check(this, "webSocket");
    return this.#webSocket;
  }

  clone() {
    const prefix = "Failed to execute 'clone' on 'Response'";
    if (!slots.is(this)) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
    if (bodyApi.isUnusable(this.#body)) {
      throw new TypeErrorCtor(`${prefix}: Response body is already used`);
    }
    const c = new Response(null, undefined, kInternal);
    c.#type = this.#type;
    c.#status = this.#status;
    c.#statusText = this.#statusText;
    c.#headers = headersApi.copy(this.#headers, headersApi.guard(this.#headers));
    c.#body = this.#body === null ? null : bodyApi.cloneBody(this.#body);
    c.#urlList = this.#urlList === null ? null : ArrayPrototypeSlice(this.#urlList);
    c.#encodeBody = this.#encodeBody;
    return c;
  }
}

function check(self, name) {
  if (!slots.is(self)) {
    throw new TypeErrorCtor(`Failed to read the '${name}' property from 'Response': Illegal invocation`);
  }
}

webidl.configureInterface(Response);
bodyApi.installBodyMixin(Response, "Response", slots.body, slots.headers);

internals.response = ObjectFreeze({
  Response,
  isResponse: slots.is,
  make: slots.make,
  body: (r) => slots.body(r, "response"),
  headers: slots.headers,
  status: slots.status,
  statusText: slots.statusText,
  type: slots.type,
  webSocket: slots.webSocket,
  encodeBody: slots.encodeBody,
  setBody: slots.setBody,
  NULL_BODY_STATUS,
  REDIRECT_STATUS,
});

internals.exposeGlobal("Response", Response);
