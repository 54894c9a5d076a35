// The Cache API as Cloudflare Workers has it: `caches.default` and `caches.open(name)`, each
// a Cache with put(), match() and delete() keyed by URL, for GET requests only.
//
// Entries live in the isolate's memory, within a budget (`host.config.cacheBytes`: an eighth
// of the isolate's memory limit, at most 64 MiB), the least recently used leaving first; an
// entry may take a quarter of it (put() reads a streamed body only that far). As
// in Workers a cache is best effort: an entry may be gone at any time (evicted, expired, or
// its isolate replaced), and each worker process has a cache of its own.
//
// What put() stores follows the response's own caching headers, as Workers' cache does:
// `Cache-Control: no-store`, `no-cache` or `private`, a `Set-Cookie` (unless
// `private=Set-Cookie`, which stores the response without it) or a zero lifetime store
// nothing; the lifetime is `s-maxage`, else `max-age`, else `Expires`, else two hours for a
// status that is cacheable by default (RFC 9111 4.2.2). match() answers a conditional
// request (`If-None-Match`, `If-Modified-Since`) with a 304 and a single byte range with a 206,
// except for an entry with a Content-Encoding (see `encoded`).

const {
  ArrayPrototypeIncludes,
  ArrayPrototypePush,
  ArrayPrototypeSlice,
  DateNow,
  DateParse,
  MathMax,
  MathMin,
  NumberParseInt,
  PromiseReject,
  PromiseResolve,
  PromiseWithResolvers,
  RegExpPrototypeExec,
  SafeMap,
  SafeWeakMap,
  StringPrototypeIncludes,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeSplit,
  StringPrototypeToLowerCase,
  StringPrototypeTrim,
  TypeError: TypeErrorCtor,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeSubarray,
  Uint8Array: Uint8ArrayCtor,
} = primordials;

const { host, webidl } = internals;
// Header list "get" (values combined) and a copy without a name's fields (30_headers.js).
const { listGet: headerValue, listWithout: withoutField } = internals.headers;
const { converters } = webidl;

const DEFAULT_LIFETIME = 2 * 60 * 60 * 1000; // ms, for a status cacheable by default
const CACHEABLE_BY_DEFAULT = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];
const NOT_MODIFIED_FIELDS = ["cache-control", "content-location", "date", "etag", "expires",
  "last-modified", "vary"];
const kInternal = primordials.Symbol("Cache");
// Bytes an entry costs besides its strings and body (its record, header list, Uint8Array and
// buffer, the map's slot): ~500 measured with 300,000 one-byte entries.
const ENTRY_OVERHEAD = 600;

/** One stored response. */
class Entry {
  constructor(key, status, statusText, headers, body, expires, encodeBody) {
    this.key = key;
    this.status = status;
    this.statusText = statusText;
    this.headers = headers; // flat list [name, value, ...]
    this.body = body; // Uint8Array, never handed out (each match gets a copy)
    this.expires = expires; // ms since the epoch
    // "manual": the body is in its Content-Encoding already (the script's own bytes), and a
    // match() sends it as it is; "automatic": it is plain and goes out compressed again.
    this.encodeBody = encodeBody;
    // What it holds in the heap: the body, its key twice (the map's and its own) and its
    // headers at two bytes a character, and ENTRY_OVERHEAD for the objects themselves.
    this.size = TypedArrayPrototypeGetLength(body) + ENTRY_OVERHEAD + 4 * key.length;
    for (let i = 0; i < headers.length; i++) this.size += 2 * headers[i].length;
  }
}

/** Every cache of the isolate: one map in recency order, one budget. */
const store = {
  __proto__: null,
  entries: new SafeMap(), // `${cache name}\n${url}` -> Entry, least recently used first
  bytes: 0,

  get(key) {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expires <= DateNow()) {
      this.bytes -= entry.size;
      return undefined;
    }
    this.entries.set(key, entry); // the most recently used now
    return entry;
  },

  put(entry) {
    this.delete(entry.key);
    const budget = host.config.cacheBytes;
    if (entry.size > budget / 4) return; // one entry may take at most a quarter
    this.entries.set(entry.key, entry);
    this.bytes += entry.size;
    if (this.bytes <= budget) return;
    const entries = primordials.SafeMapValues(this.entries); // least recently used first
    for (let i = 0; i < entries.length && this.bytes > budget; i++) {
      this.entries.delete(entries[i].key);
      this.bytes -= entries[i].size;
    }
  },

  delete(key) {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.bytes -= entry.size;
    return entry.expires > DateNow();
  },
};

// -- caching headers ---------------------------------------------------------------------

/** Cache-Control's directives: lower-case name -> value (null without one). */
function directives(value) {
  const out = new SafeMap();
  if (value === null) return out;
  const parts = StringPrototypeSplit(value, ",");
  for (let i = 0; i < parts.length; i++) {
    const part = StringPrototypeTrim(parts[i]);
    if (part === "") continue;
    const eq = StringPrototypeIndexOf(part, "=");
    if (eq === -1) {
      out.set(StringPrototypeToLowerCase(part), null);
    } else {
      let arg = StringPrototypeTrim(StringPrototypeSlice(part, eq + 1));
      if (arg.length >= 2 && arg[0] === '"' && arg[arg.length - 1] === '"') {
        arg = StringPrototypeSlice(arg, 1, -1);
      }
      out.set(StringPrototypeToLowerCase(StringPrototypeTrim(StringPrototypeSlice(part, 0, eq))), arg);
    }
  }
  return out;
}

const DIGITS = /^\d+$/;
const BYTE_RANGE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

function seconds(value) {
  if (value === null || value === undefined || RegExpPrototypeExec(DIGITS, value) === null) {
    return null;
  }
  return NumberParseInt(value, 10);
}

/** How long a response may be kept (ms) and its header list, or null: not stored. */
function storable(status, list) {
  const control = directives(headerValue(list, "cache-control"));
  if (control.has("no-store") || control.has("no-cache")) return null;
  const privateFields = control.get("private");
  if (privateFields === null) return null; // `private` alone: the whole response
  if (headerValue(list, "set-cookie") !== null) {
    if (privateFields === undefined ||
        !StringPrototypeIncludes(StringPrototypeToLowerCase(privateFields), "set-cookie")) {
      return null;
    }
    list = withoutField(list, "set-cookie");
  }
  let lifetime = seconds(control.get("s-maxage")) ?? seconds(control.get("max-age"));
  if (lifetime !== null) {
    lifetime *= 1000;
  } else {
    const expires = headerValue(list, "expires");
    if (expires !== null) {
      // Counted from the response's Date when it has one; an invalid Expires is in the past.
      const date = DateParse(headerValue(list, "date") ?? "");
      lifetime = DateParse(expires) - (date >= 0 ? date : DateNow());
      if (!(lifetime > 0)) return null;
    } else if (ArrayPrototypeIncludes(CACHEABLE_BY_DEFAULT, status)) {
      lifetime = DEFAULT_LIFETIME;
    } else {
      return null;
    }
  }
  if (lifetime <= 0) return null;
  return { __proto__: null, lifetime, list };
}

// -- requests ------------------------------------------------------------------------------

/** The key and method of a Request or URL argument. */
function requestOf(value, prefix) {
  if (internals.request.isRequest(value)) {
    return {
      __proto__: null,
      url: internals.request.url(value),
      method: internals.request.method(value),
      headers: internals.headers.list(internals.request.headers(value)),
    };
  }
  const text = converters.USVString(value, prefix, "Argument 1");
  const url = internals.url.parse(text);
  if (url === null) throw new TypeErrorCtor(`${prefix}: Invalid URL "${text}".`);
  return { __proto__: null, url: internals.url.serialize(url), method: "GET", headers: [] };
}

function keyOf(name, url) {
  const hash = StringPrototypeIndexOf(url, "#");
  return `${name}\n${hash === -1 ? url : StringPrototypeSlice(url, 0, hash)}`;
}

function matchOptions(options, prefix) {
  if (options === undefined || options === null) return false;
  if (typeof options !== "object") {
    throw new TypeErrorCtor(`${prefix}: The provided value is not of type 'CacheQueryOptions'.`);
  }
  return !!options.ignoreMethod;
}

// -- answers from an entry -----------------------------------------------------------------

/** The weak comparison of entity tags (RFC 9110 8.8.3.2) against an If-None-Match list. */
function etagMatches(condition, etag) {
  if (StringPrototypeTrim(condition) === "*") return true;
  const strip = (tag) => {
    tag = StringPrototypeTrim(tag);
    return tag.length > 2 && tag[0] === "W" && tag[1] === "/" ? StringPrototypeSlice(tag, 2) : tag;
  };
  const target = strip(etag);
  const tags = StringPrototypeSplit(condition, ",");
  for (let i = 0; i < tags.length; i++) if (strip(tags[i]) === target) return true;
  return false;
}

function notModified(entry, requestHeaders) {
  if (entry.status !== 200) return false;
  const ifNoneMatch = headerValue(requestHeaders, "if-none-match");
  if (ifNoneMatch !== null) {
    const etag = headerValue(entry.headers, "etag");
    return etag !== null && etagMatches(ifNoneMatch, etag);
  }
  const since = DateParse(headerValue(requestHeaders, "if-modified-since") ?? "");
  const modified = DateParse(headerValue(entry.headers, "last-modified") ?? "");
  return since >= 0 && modified >= 0 && modified <= since;
}

/** A single `bytes=` range of a body of `size` bytes: [start, end] (inclusive), "none" when
 * it cannot be satisfied, or null for no (or an unsupported) Range field. */
function byteRange(value, size) {
  if (value === null) return null;
  const m = RegExpPrototypeExec(BYTE_RANGE, value);
  if (m === null || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") { // the last N bytes
    const n = NumberParseInt(m[2], 10);
    if (n === 0 || size === 0) return "none";
    return [MathMax(0, size - n), size - 1];
  }
  const start = NumberParseInt(m[1], 10);
  if (start >= size) return "none";
  const end = m[2] === "" ? size - 1 : MathMin(NumberParseInt(m[2], 10), size - 1);
  if (end < start) return null; // not a valid range: ignored (RFC 9110 14.2)
  return [start, end];
}

/**
 * If-Range (RFC 9110 13.1.5): a range of the entry only if it is still the representation
 * the client has part of: its strong ETag (a weak one never matches), or exactly its
 * Last-Modified date; else the whole entry.
 */
function rangeApplies(entry, requestHeaders) {
  const condition = headerValue(requestHeaders, "if-range");
  if (condition === null) return true;
  const tag = StringPrototypeTrim(condition);
  if (tag[0] === '"' || (tag[0] === "W" && tag[1] === "/")) {
    const etag = headerValue(entry.headers, "etag");
    return tag[0] === '"' && etag !== null && StringPrototypeTrim(etag) === tag;
  }
  const modified = headerValue(entry.headers, "last-modified");
  return modified !== null && DateParse(tag) >= 0 && DateParse(tag) === DateParse(modified);
}

/**
 * Whether the entry names a Content-Encoding (other than identity). Its stored bytes are then
 * not the representation's (a fetch() body is kept decoded and compressed again on its way
 * out), and a range counts the representation's (RFC 9110 14.4): a 206 of them would count
 * bytes the client never sees. Its Range is ignored (14.2): the whole entry, 200.
 */
function encoded(entry) {
  const coding = headerValue(entry.headers, "content-encoding");
  return coding !== null && StringPrototypeToLowerCase(StringPrototypeTrim(coding)) !== "identity";
}

function answer(entry, requestHeaders) {
  const Response = internals.response.Response;
  if (notModified(entry, requestHeaders)) {
    const kept = [];
    for (let i = 0; i < entry.headers.length; i += 2) {
      if (ArrayPrototypeIncludes(NOT_MODIFIED_FIELDS, StringPrototypeToLowerCase(entry.headers[i]))) {
        ArrayPrototypePush(kept, entry.headers[i], entry.headers[i + 1]);
      }
    }
    return new Response(null, { status: 304, headers: pairs(kept) });
  }
  const size = TypedArrayPrototypeGetLength(entry.body);
  const range = entry.status === 200 && !encoded(entry) && rangeApplies(entry, requestHeaders)
    ? byteRange(headerValue(requestHeaders, "range"), size)
    : null;
  if (range === "none") {
    return new Response(null, {
      status: 416, headers: [["Content-Range", `bytes */${size}`]],
    });
  }
  if (range !== null) {
    const list = withoutField(entry.headers, "content-length");
    ArrayPrototypePush(list, "Content-Range", `bytes ${range[0]}-${range[1]}/${size}`);
    return new Response(TypedArrayPrototypeSubarray(entry.body, range[0], range[1] + 1), {
      status: 206, headers: pairs(list),
    });
  }
  const status = entry.status;
  const body = internals.response.NULL_BODY_STATUS.has(status) ? null : entry.body;
  return new Response(body, {
    status, statusText: entry.statusText, headers: pairs(entry.headers), encodeBody: entry.encodeBody,
  });
}

function pairs(list) {
  const out = [];
  for (let i = 0; i < list.length; i += 2) ArrayPrototypePush(out, [list[i], list[i + 1]]);
  return out;
}

// -- the interfaces ------------------------------------------------------------------------

const cacheNames = new SafeWeakMap(); // a Cache -> its name

function nameOf(cache, method) {
  const name = cacheNames.get(cache);
  if (name === undefined) {
    throw new TypeErrorCtor(`Failed to execute '${method}' on 'Cache': Illegal invocation`);
  }
  return name;
}

/** The request of match() or delete(), with its key; null for a method they pass over. */
function query(cache, method, count, request, options) {
  const prefix = `Failed to execute '${method}' on 'Cache'`;
  const name = nameOf(cache, method);
  webidl.requiredArguments(count, 1, prefix);
  const req = requestOf(request, prefix);
  if (req.method !== "GET" && !matchOptions(options, prefix)) return null;
  req.key = keyOf(name, req.url);
  return req;
}

/** `fn` run to a promise: a throw becomes a rejection. */
function promised(fn) {
  try {
    return PromiseResolve(fn());
  } catch (e) {
    return PromiseReject(e);
  }
}

class Cache {
  constructor(key = undefined, name = undefined) {
    if (key !== kInternal) webidl.illegalConstructor();
    cacheNames.set(this, name);
  }

  put(request, response) {
    return promised(() => {
      const prefix = "Failed to execute 'put' on 'Cache'";
      const name = nameOf(this, "put");
      webidl.requiredArguments(arguments.length, 2, prefix);
      const req = requestOf(request, prefix);
      if (!internals.response.isResponse(response)) {
        throw new TypeErrorCtor(`${prefix}: parameter 2 is not of type 'Response'.`);
      }
      if (req.method !== "GET") throw new TypeErrorCtor("Cannot cache response to non-GET request.");
      const status = internals.response.status(response);
      if (status === 206) {
        throw new TypeErrorCtor("Cannot cache response to a range request (206 Partial Content).");
      }
      const list = internals.headers.list(internals.response.headers(response));
      const vary = headerValue(list, "vary");
      if (vary !== null && StringPrototypeIndexOf(vary, "*") !== -1) {
        throw new TypeErrorCtor("Cannot cache response with 'Vary: *' header.");
      }
      if (status === 0 || status === 101 || internals.response.webSocket(response) !== null) {
        throw new TypeErrorCtor(`${prefix}: this Response cannot be cached.`);
      }
      const body = internals.response.body(response);
      if (internals.body.isUnusable(body)) {
        throw new TypeErrorCtor(`${prefix}: Response body is already used.`);
      }
      const statusText = internals.response.statusText(response);
      const encodeBody = internals.response.encodeBody(response);
      const key = keyOf(name, req.url);
      const keep = storable(status, list);
      const { promise, resolve, reject } = PromiseWithResolvers();
      const store_ = (bytes) => {
        if (keep !== null && bytes !== null) {
          store.put(new Entry(key, status, statusText, ArrayPrototypeSlice(keep.list), bytes,
            DateNow() + keep.lifetime, encodeBody));
        } else {
          store.delete(key); // a response that may not be kept replaces none either
        }
        resolve(undefined);
      };
      if (body === null) store_(new Uint8ArrayCtor(0));
      else internals.body.fullyRead(body, store_, reject, host.config.cacheBytes / 4);
      return promise;
    });
  }

  match(request, options = undefined) {
    return promised(() => {
      const req = query(this, "match", arguments.length, request, options);
      const entry = req === null ? undefined : store.get(req.key);
      return entry === undefined ? undefined : answer(entry, req.headers);
    });
  }

  delete(request, options = undefined) {
    return promised(() => {
      const req = query(this, "delete", arguments.length, request, options);
      return req !== null && store.delete(req.key);
    });
  }
}
webidl.configureInterface(Cache);

const caches = new SafeMap(); // name -> Cache
let defaultCache = null;

class CacheStorage {
  constructor(key = undefined) {
    if (key !== kInternal) webidl.illegalConstructor();
  }

  get default() {
    if (this !== cacheStorage) {
      throw new TypeErrorCtor("Failed to read the 'default' property from 'CacheStorage': Illegal invocation");
    }
    defaultCache ??= new Cache(kInternal, "");
    return defaultCache;
  }

  open(cacheName) {
    return promised(() => {
      const prefix = "Failed to execute 'open' on 'CacheStorage'";
      if (this !== cacheStorage) throw new TypeErrorCtor(`${prefix}: Illegal invocation`);
      webidl.requiredArguments(arguments.length, 1, prefix);
      const name = `:${converters.USVString(cacheName, prefix, "Argument 1")}`;
      let cache = caches.get(name);
      if (cache === undefined) {
        cache = new Cache(kInternal, name);
        caches.set(name, cache);
      }
      return cache;
    });
  }
}
webidl.configureInterface(CacheStorage);

const cacheStorage = new CacheStorage(kInternal);

internals.exposeGlobals({ Cache, CacheStorage });
internals.exposeGlobalAttribute("caches", () => cacheStorage);
