// node:url under nodejs_compat: the WHATWG URL and URLSearchParams (the globals), file URL
// conversions (POSIX by default, as the cwd "/" of node:path; { windows: true } for Windows
// paths), url.format(URL, options), domainToASCII/domainToUnicode, urlToHttpOptions, and the
// legacy url.parse/format/resolve/resolveObject and Url.
"use strict";

const path = require("node:path");
const {
  codedError, invalidArgType, invalidArgValue,
} = require("node:util")[Symbol.for("isoflow.node.internals")];

const { apply: ReflectApply } = Reflect;
const URLCtor = globalThis.URL;
const URLSearchParamsCtor = globalThis.URLSearchParams;
const decodeURIComponentOriginal = decodeURIComponent;
const StringPrototypeCharCodeAt = String.prototype.charCodeAt;
const StringPrototypeCodePointAt = String.prototype.codePointAt;
const StringFromCodePoint = String.fromCodePoint;
const encoder = new TextEncoder();
const encode = TextEncoder.prototype.encode;

const getter = (name) => Object.getOwnPropertyDescriptor(URLCtor.prototype, name).get;
const urlGetters = {};
for (const name of ["href", "protocol", "username", "password", "host", "hostname", "port",
  "pathname", "search", "hash"]) {
  urlGetters[name] = getter(name);
}
/** A URL's component, read with the getter the runtime defined (a subclass cannot fake it). */
const part = (url, name) => ReflectApply(urlGetters[name], url, []);

/** Node's isURL: a URL, or an object that looks like one (href and protocol, no legacy
 * auth/path). */
function isURL(value) {
  return Boolean(value && value.href && value.protocol && value.auth === undefined &&
                 value.path === undefined);
}

// -- domains ---------------------------------------------------------------------------------

// What cannot be part of a domain given to domainToASCII (it would change how the URL parser
// reads the input, or is a forbidden domain code point).
const NOT_A_DOMAIN = /[\u0000-\u0020/?#:@\\[\]%<>^|\u007f]/;

/** url.domainToASCII(domain): the domain as the URL host parser writes it (IDNA, lowercase,
 * punycode), or "" when it is not a valid domain. */
function domainToASCII(domain) {
  if (arguments.length < 1) {
    throw codedError(TypeError, "ERR_MISSING_ARGS", 'The "domain" argument must be specified');
  }
  domain = `${domain}`;
  if (domain === "" || NOT_A_DOMAIN.test(domain)) return "";
  try {
    return part(new URLCtor(`ws://${domain}/`), "hostname");
  } catch {
    return "";
  }
}

// RFC 3492 (Punycode) decoding, for the "xn--" labels domainToUnicode shows.
const BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, INITIAL_BIAS = 72, INITIAL_N = 128;

function adapt(delta, numPoints, firstTime) {
  let k = 0;
  delta = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  delta += Math.floor(delta / numPoints);
  for (; delta > ((BASE - TMIN) * TMAX) >> 1; k += BASE) delta = Math.floor(delta / (BASE - TMIN));
  return Math.floor(k + ((BASE - TMIN + 1) * delta) / (delta + SKEW));
}

function digitOf(code) {
  if (code >= 48 && code <= 57) return code - 22; // 0-9: 26..35
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 97; // a-z
  return BASE;
}

/** A punycode label (without "xn--") as Unicode, or null when it is malformed. */
function punycodeDecode(input) {
  const output = [];
  let basic = input.lastIndexOf("-");
  if (basic < 0) basic = 0;
  for (let j = 0; j < basic; ++j) {
    const code = ReflectApply(StringPrototypeCharCodeAt, input, [j]);
    if (code >= 0x80) return null;
    output.push(code);
  }
  let n = INITIAL_N, bias = INITIAL_BIAS, i = 0;
  for (let index = basic > 0 ? basic + 1 : 0; index < input.length;) {
    const oldi = i;
    for (let w = 1, k = BASE; ; k += BASE) {
      if (index >= input.length) return null;
      const digit = digitOf(ReflectApply(StringPrototypeCharCodeAt, input, [index++]));
      if (digit >= BASE || digit > Math.floor((0x7fffffff - i) / w)) return null;
      i += digit * w;
      const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
      if (digit < t) break;
      if (w > Math.floor(0x7fffffff / (BASE - t))) return null;
      w *= BASE - t;
    }
    const out = output.length + 1;
    bias = adapt(i - oldi, out, oldi === 0);
    if (Math.floor(i / out) > 0x7fffffff - n) return null;
    n += Math.floor(i / out);
    i %= out;
    if (n > 0x10ffff) return null;
    output.splice(i++, 0, n);
  }
  return StringFromCodePoint(...output);
}

/** url.domainToUnicode(domain): the domain's Unicode form (its "xn--" labels decoded), or ""
 * when it is not a valid domain. */
function domainToUnicode(domain) {
  if (arguments.length < 1) {
    throw codedError(TypeError, "ERR_MISSING_ARGS", 'The "domain" argument must be specified');
  }
  const ascii = domainToASCII(domain);
  if (ascii === "") return "";
  const labels = ascii.split(".");
  for (let i = 0; i < labels.length; i++) {
    if (labels[i].startsWith("xn--")) {
      const decoded = punycodeDecode(labels[i].slice(4));
      if (decoded === null) return "";
      labels[i] = decoded;
    }
  }
  return labels.join(".");
}

// -- file URLs -------------------------------------------------------------------------------

function isWindowsOption(options) {
  return options !== null && options !== undefined && options.windows !== undefined
    ? Boolean(options.windows) : false; // isoflow's paths are POSIX ones
}

function invalidFileURLPath(message, url) {
  const error = codedError(TypeError, "ERR_INVALID_FILE_URL_PATH", `File URL path ${message}`);
  error.input = url;
  return error;
}

/** Whether `pathname` has %2F (or, for Windows, %5C) at `n`. */
function encodedSeparatorAt(pathname, n, windows) {
  const second = pathname[n + 1];
  const third = ReflectApply(StringPrototypeCodePointAt, pathname, [n + 2]) | 0x20;
  return (second === "2" && third === 102) || (windows && second === "5" && third === 99);
}

/** url.fileURLToPath(url[, options]): the path a file: URL names, percent-decoded. */
function fileURLToPath(input, options) {
  const windows = isWindowsOption(options);
  let url = input;
  if (typeof url === "string") url = new URLCtor(url);
  else if (!isURL(url)) throw invalidArgType("path", ["string", "URL"], url);
  const read = (name) => (url instanceof URLCtor ? part(url, name) : url[name]);
  if (read("protocol") !== "file:") {
    throw codedError(TypeError, "ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
  }
  const hostname = read("hostname");
  let pathname = read("pathname");
  for (let n = 0; n < pathname.length; n++) {
    if (pathname[n] === "%" && encodedSeparatorAt(pathname, n, windows)) {
      throw invalidFileURLPath(windows ? "must not include encoded \\ or / characters"
        : "must not include encoded / characters", url);
    }
  }
  if (!windows) {
    if (hostname !== "") {
      throw codedError(TypeError, "ERR_INVALID_FILE_URL_HOST",
                       'File URL host must be "localhost" or empty on linux');
    }
    return decodeURIComponentOriginal(pathname);
  }
  pathname = decodeURIComponentOriginal(pathname.replace(/\//g, "\\"));
  if (hostname !== "") return `\\\\${domainToUnicode(hostname)}${pathname}`; // UNC
  const letter = ReflectApply(StringPrototypeCodePointAt, pathname, [1]) | 0x20;
  if (letter < 97 || letter > 122 || pathname[2] !== ":") {
    throw invalidFileURLPath("must be absolute", url);
  }
  return pathname.slice(1);
}

// What pathToFileURL keeps as it is; everything else is percent-encoded (UTF-8).
const PATH_SAFE = /[A-Za-z0-9!$&'()*+,\-./:;=@_]/;

function encodePathChars(filepath) {
  let out = "";
  for (const char of filepath) {
    if (char.length === 1 && PATH_SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of ReflectApply(encode, encoder, [char])) {
      out += `%${byte < 16 ? "0" : ""}${byte.toString(16).toUpperCase()}`;
    }
  }
  return out;
}

/** A Windows path made absolute and normal ("\" separators, no "." or ".." segments);
 * isoflow has no Windows working directory: a relative path is taken from C:\. */
function win32Resolve(filepath) {
  let p = filepath.replace(/\//g, "\\");
  let root = "C:\\";
  const drive = /^([A-Za-z]):(\\?)/.exec(p);
  if (drive !== null) {
    root = `${drive[1]}:\\`;
    p = p.slice(drive[0].length);
  } else if (p.startsWith("\\")) {
    p = p.slice(1);
  }
  const out = [];
  for (const segment of p.split("\\")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return root + out.join("\\");
}

/** url.pathToFileURL(path[, options]): a file: URL for the path, resolved against "/" (or
 * as a Windows path with { windows: true }), with what a URL would read otherwise (%, \, ?,
 * #, controls, ...) percent-encoded. */
function pathToFileURL(filepath, options) {
  if (typeof filepath !== "string") throw invalidArgType("path", "string", filepath);
  const windows = isWindowsOption(options);
  // an extended-length path to a drive (\\?\C:\...) is that drive path
  if (windows && /^\\\\\?\\[A-Za-z]:/.test(filepath)) filepath = filepath.slice(4);
  if (windows && (filepath.startsWith("\\\\") || filepath.startsWith("//"))) {
    const resolved = filepath.replace(/\//g, "\\");
    // UNC: \\server\share\resource, or \\?\UNC\server\share\resource
    const prefix = resolved.startsWith("\\\\?\\UNC\\") ? 8 : 2;
    const hostnameEnd = resolved.indexOf("\\", prefix);
    if (hostnameEnd === -1) {
      throw invalidArgValue("path", resolved, "Missing UNC resource path");
    }
    if (hostnameEnd === prefix) throw invalidArgValue("path", resolved, "Empty UNC servername");
    const hostname = resolved.slice(prefix, hostnameEnd);
    const url = new URLCtor(`file://${hostname}/`);
    url.pathname = encodePathChars(resolved.slice(hostnameEnd).replace(/\\/g, "/"));
    return url;
  }
  let resolved = windows ? win32Resolve(filepath) : path.resolve(filepath);
  // resolve drops a trailing separator: keep it
  const last = filepath[filepath.length - 1];
  if ((last === "/" || (windows && last === "\\")) && !/[\\/]$/.test(resolved)) {
    resolved += windows ? "\\" : "/";
  }
  if (windows) resolved = `/${resolved.replace(/\\/g, "/")}`;
  return new URLCtor(`file://${encodePathChars(resolved)}`);
}

// -- format and http options -----------------------------------------------------------------

/** url.format(URL[, options]): the URL's serialization without its credentials (auth: false),
 * fragment or search, or with a Unicode host (unicode: true). */
function formatURL(url, options) {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    if (options !== null) throw invalidArgType("options", "Object", options);
  }
  const flag = (name, fallback) => (options && options[name] !== undefined
    ? Boolean(options[name]) : fallback);
  const auth = flag("auth", true), fragment = flag("fragment", true);
  const search = flag("search", true), unicode = flag("unicode", false);
  const protocol = part(url, "protocol");
  const href = part(url, "href");
  let out = protocol;
  if (href.startsWith(`${protocol}//`)) {
    out += "//";
    const username = part(url, "username"), password = part(url, "password");
    if (auth && (username !== "" || password !== "")) {
      out += `${username}${password !== "" ? `:${password}` : ""}@`;
    }
    const hostname = part(url, "hostname");
    out += unicode ? domainToUnicode(hostname) || hostname : hostname;
    const port = part(url, "port");
    if (port !== "") out += `:${port}`;
  }
  out += part(url, "pathname");
  if (search) out += part(url, "search");
  if (fragment) out += part(url, "hash");
  return out;
}

/** url.urlToHttpOptions(url): the options object http.request() takes for a URL. */
function urlToHttpOptions(url) {
  if (url === null || (typeof url !== "object" && typeof url !== "function")) {
    throw invalidArgType("url", "object", url);
  }
  const { hostname, pathname, port, username, password, search } = url;
  const options = {
    __proto__: null,
    ...url,
    protocol: url.protocol,
    hostname: hostname && hostname[0] === "[" ? hostname.slice(1, -1) : hostname,
    hash: url.hash,
    search,
    pathname,
    path: `${pathname || ""}${search || ""}`,
    href: url.href,
  };
  if (port !== "") options.port = Number(port);
  if (username || password) {
    options.auth = `${decodeURIComponentOriginal(username)}:${decodeURIComponentOriginal(password)}`;
  }
  return options;
}


// -- the legacy API: url.parse, url.format(urlObject), url.resolve, url.resolveObject, Url ---
// Node's lib/url.js algorithm (not WHATWG: it keeps what it is given, escapes a few
// characters, IDNA-encodes the host and splits the rest).

const querystring = require("node:querystring");

const protocolPattern = /^[a-z0-9.+-]+:/i;
const portPattern = /:[0-9]*$/;
const hostPattern = /^\/\/[^@/]+@[^@/]+/;
const simplePathPattern = /^(\/\/?(?!\/)[^?\s]*)(\?[^\s]*)?$/;
const hostlessProtocol = new Set(["javascript", "javascript:"]);
const unsafeProtocol = hostlessProtocol;
const slashedProtocol = new Set(["http", "http:", "https", "https:", "ftp", "ftp:", "gopher",
                                 "gopher:", "file", "file:", "ws", "ws:", "wss", "wss:"]);
const hostnameMaxLen = 255;
// What a host cannot hold after IDNA (would allow spoofing); IPv6 hosts may hold [ ] :
const forbiddenHostChars = /[\0\t\n\r #%/:<>?@[\\\]^|]/;
const forbiddenHostCharsIpv6 = /[\0\t\n\r #%/<>?@\\^|]/;
// Characters a parsed path, search or hash always gets escaped (RFC 2396 delimiters, unwise
// characters and ' against XSS).
const autoEscaped = { "\t": "%09", "\n": "%0A", "\r": "%0D", " ": "%20", '"': "%22", "'": "%27",
                      "<": "%3C", ">": "%3E", "\\": "%5C", "^": "%5E", "`": "%60", "{": "%7B",
                      "|": "%7C", "}": "%7D" };
const AUTO_ESCAPE = /[\t\n\r "'<>\\^`{|}]/g;
// What format() keeps unescaped in auth: A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = :
const AUTH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:]/;

function invalidURL(input) {
  const error = codedError(TypeError, "ERR_INVALID_URL", "Invalid URL");
  error.input = input;
  return error;
}

function escapeAuth(auth) {
  let out = "";
  for (const char of auth) {
    if (char.length === 1 && AUTH_SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of ReflectApply(encode, encoder, [char])) {
      out += `%${byte < 16 ? "0" : ""}${byte.toString(16).toUpperCase()}`;
    }
  }
  return out;
}

const isIpv6Hostname = (hostname) => hostname[0] === "[" && hostname[hostname.length - 1] === "]";

/** Cuts the hostname at its first character that no host may hold (a control, space or
 * forbidden host code point); the rest joins the path. */
function getHostname(self, rest, hostname, url) {
  for (let i = 0; i < hostname.length; ++i) {
    const code = ReflectApply(StringPrototypeCharCodeAt, hostname, [i]);
    // a ":" the port did not take (https://evil.com:.example.com) makes no host
    if (code === 58) throw invalidArgValue("url", url);
    if (code <= 0x20 || code === 0x7f || '"#%/:;<>?@[\\]^`{|}'.includes(hostname[i])) {
      self.hostname = hostname.slice(0, i);
      return `/${hostname.slice(i)}${rest}`;
    }
  }
  return rest;
}

/** The legacy URL object (url.parse's result): every field null until parsed. */
function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

Url.prototype.parse = function parse(url, parseQueryString, slashesDenoteHost) {
  if (typeof url !== "string") throw invalidArgType("url", "string", url);
  // Trim whitespace; before the query or hash, backslashes become slashes (as browsers do).
  let hasHash = false;
  let hasAt = false;
  let start = -1;
  let end = -1;
  let rest = "";
  let lastPos = 0;
  for (let i = 0, inWs = false, split = false; i < url.length; ++i) {
    const code = ReflectApply(StringPrototypeCharCodeAt, url, [i]);
    const isWs = code <= 0x20 || code === 0xa0 || code === 0xfeff; // C0 controls and spaces
    if (start === -1) {
      if (isWs) continue;
      lastPos = start = i;
    } else if (inWs) {
      if (!isWs) {
        end = -1;
        inWs = false;
      }
    } else if (isWs) {
      end = i;
      inWs = true;
    }
    if (!split) {
      if (code === 35 /* # */) {
        hasHash = true;
        split = true;
      } else if (code === 63 /* ? */) {
        split = true;
      } else if (code === 64 /* @ */) {
        hasAt = true;
      } else if (code === 92 /* \ */) {
        if (i - lastPos > 0) rest += url.slice(lastPos, i);
        rest += "/";
        lastPos = i + 1;
      }
    } else if (!hasHash && code === 35) {
      hasHash = true;
    }
  }
  if (start !== -1) {
    if (lastPos === start) {
      rest = end === -1 ? url.slice(start) : url.slice(start, end);
    } else if (end === -1 && lastPos < url.length) {
      rest += url.slice(lastPos);
    } else if (end !== -1 && lastPos < end) {
      rest += url.slice(lastPos, end);
    }
  }

  if (!slashesDenoteHost && !hasHash && !hasAt) {
    // a plain path (and query)
    const simplePath = simplePathPattern.exec(rest);
    if (simplePath) {
      this.path = rest;
      this.href = rest;
      this.pathname = simplePath[1];
      if (simplePath[2]) {
        this.search = simplePath[2];
        this.query = parseQueryString ? querystring.parse(this.search.slice(1))
          : this.search.slice(1);
      } else if (parseQueryString) {
        this.search = null;
        this.query = { __proto__: null };
      }
      return this;
    }
  }

  let proto = protocolPattern.exec(rest);
  let lowerProto = "";
  if (proto) {
    proto = proto[0];
    lowerProto = proto.toLowerCase();
    this.protocol = lowerProto;
    rest = rest.slice(proto.length);
  }

  // user@server is always a host; //foo/bar is host foo, path /bar when slashes denote a host
  let slashes;
  if (slashesDenoteHost || proto || hostPattern.test(rest)) {
    slashes = rest[0] === "/" && rest[1] === "/";
    if (slashes && !(proto && hostlessProtocol.has(lowerProto))) {
      rest = rest.slice(2);
      this.slashes = true;
    }
  }

  if (!hostlessProtocol.has(lowerProto) && (slashes || (proto && !slashedProtocol.has(proto)))) {
    // The host ends at the first / ? or #; the auth at the last @ before that
    // (http://a@b@c/ is auth a@b, host c); RFC 2396's non-host characters end it too.
    // tabs and newlines in the auth and host are dropped
    const authorityEnd = rest.search(/[/?#]/);
    const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
    if (/[\t\n\r]/.test(authority)) {
      rest = authority.replace(/[\t\n\r]/g, "") + (authorityEnd === -1 ? "" : rest.slice(authorityEnd));
    }
    let hostEnd = -1;
    let atSign = -1;
    let nonHost = -1;
    for (let i = 0; i < rest.length; ++i) {
      switch (rest[i]) {
        case "\t": case "\n": case "\r": case " ": case '"': case "%": case "'": case ";":
        case "<": case ">": case "\\": case "^": case "`": case "{": case "|": case "}":
          if (nonHost === -1) nonHost = i;
          break;
        case "#": case "/": case "?":
          if (nonHost === -1) nonHost = i;
          hostEnd = i;
          break;
        case "@":
          atSign = i;
          nonHost = -1;
          break;
      }
      if (hostEnd !== -1) break;
    }
    start = 0;
    if (atSign !== -1) {
      this.auth = decodeURIComponentOriginal(rest.slice(0, atSign));
      start = atSign + 1;
    }
    if (nonHost === -1) {
      this.host = rest.slice(start);
      rest = "";
    } else {
      this.host = rest.slice(start, nonHost);
      rest = rest.slice(nonHost);
    }
    this.parseHost();
    if (typeof this.hostname !== "string") this.hostname = "";
    const hostname = this.hostname;
    const ipv6Hostname = isIpv6Hostname(hostname);
    if (!ipv6Hostname) rest = getHostname(this, rest, hostname, url);
    if (this.hostname.length > hostnameMaxLen) this.hostname = "";
    else this.hostname = this.hostname.toLowerCase();
    if (this.hostname !== "") {
      if (ipv6Hostname) {
        if (forbiddenHostCharsIpv6.test(this.hostname)) throw invalidURL(url);
      } else {
        // IDNA: punycode for the labels that are not ASCII
        this.hostname = hostToASCII(this.hostname);
        if (this.hostname === "" || forbiddenHostChars.test(this.hostname)) throw invalidURL(url);
      }
    }
    this.host = (this.hostname || "") + (this.port ? `:${this.port}` : "");
    if (ipv6Hostname) {
      this.hostname = this.hostname.slice(1, -1);
      if (rest[0] !== "/") rest = `/${rest}`;
    }
  }

  if (!unsafeProtocol.has(lowerProto)) rest = rest.replace(AUTO_ESCAPE, (c) => autoEscaped[c]);

  let questionIdx = -1;
  let hashIdx = -1;
  for (let i = 0; i < rest.length; ++i) {
    if (rest[i] === "#") {
      this.hash = rest.slice(i);
      hashIdx = i;
      break;
    } else if (rest[i] === "?" && questionIdx === -1) {
      questionIdx = i;
    }
  }
  if (questionIdx !== -1) {
    if (hashIdx === -1) {
      this.search = rest.slice(questionIdx);
      this.query = rest.slice(questionIdx + 1);
    } else {
      this.search = rest.slice(questionIdx, hashIdx);
      this.query = rest.slice(questionIdx + 1, hashIdx);
    }
    if (parseQueryString) this.query = querystring.parse(this.query);
  } else if (parseQueryString) {
    this.search = null;
    this.query = { __proto__: null };
  }
  const useQuestionIdx = questionIdx !== -1 && (hashIdx === -1 || questionIdx < hashIdx);
  const firstIdx = useQuestionIdx ? questionIdx : hashIdx;
  if (firstIdx === -1) {
    if (rest.length > 0) this.pathname = rest;
  } else if (firstIdx > 0) {
    this.pathname = rest.slice(0, firstIdx);
  }
  if (slashedProtocol.has(lowerProto) && this.hostname && !this.pathname) this.pathname = "/";
  if (this.pathname || this.search) this.path = (this.pathname || "") + (this.search || "");
  this.href = this.format();
  return this;
};

Url.prototype.parseHost = function parseHost() {
  let host = this.host;
  let port = portPattern.exec(host);
  if (port) {
    port = port[0];
    if (port !== ":") this.port = port.slice(1);
    host = host.slice(0, host.length - port.length);
  }
  if (host) this.hostname = host;
};

/** A legacy hostname in ASCII (the URL host parser's IDNA), or "" when it has none. */
function hostToASCII(hostname) {
  if (/^[\x21-\x7e]*$/.test(hostname) && !/(^|\.)xn--/.test(hostname)) return hostname;
  try {
    return part(new URLCtor(`ws://${hostname}/`), "hostname");
  } catch {
    return "";
  }
}

Url.prototype.format = function format() {
  let auth = this.auth || "";
  if (auth) auth = `${escapeAuth(auth)}@`;
  let protocol = this.protocol || "";
  let pathname = this.pathname || "";
  let hash = this.hash || "";
  let host = "";
  let query = "";
  if (this.host) {
    host = auth + this.host;
  } else if (this.hostname) {
    host = auth + (this.hostname.includes(":") && !isIpv6Hostname(this.hostname)
      ? `[${this.hostname}]` : this.hostname);
    if (this.port) host += `:${this.port}`;
  }
  if (this.query !== null && typeof this.query === "object") {
    query = querystring.stringify(this.query);
  }
  let search = this.search || (query && `?${query}`) || "";
  if (protocol && protocol[protocol.length - 1] !== ":") protocol += ":";
  pathname = pathname.replace(/[#?]/g, (c) => (c === "#" ? "%23" : "%3F"));
  // Only the slashed protocols get "//" (not mailto:, xmpp:, ...), unless they had them.
  if (this.slashes || slashedProtocol.has(protocol)) {
    if (this.slashes || host) {
      if (pathname && pathname[0] !== "/") pathname = `/${pathname}`;
      host = `//${host}`;
    } else if (protocol.length >= 4 && protocol.startsWith("file")) {
      host = "//";
    }
  }
  search = search.replace(/#/g, "%23");
  if (hash && hash[0] !== "#") hash = `#${hash}`;
  if (search && search[0] !== "?") search = `?${search}`;
  return protocol + host + pathname + search + hash;
};

Url.prototype.resolve = function resolve(relative) {
  return this.resolveObject(urlParse(relative, false, true)).format();
};

Url.prototype.resolveObject = function resolveObject(relative) {
  if (typeof relative === "string") {
    const rel = new Url();
    rel.parse(relative, false, true);
    relative = rel;
  }
  const result = new Url();
  for (const key of Object.keys(this)) result[key] = this[key];
  // the hash always comes from relative (even "" removes it)
  result.hash = relative.hash;
  if (relative.href === "") {
    result.href = result.format();
    return result;
  }
  // //foo/bar keeps only the protocol
  if (relative.slashes && !relative.protocol) {
    for (const key of Object.keys(relative)) {
      if (key !== "protocol") result[key] = relative[key];
    }
    if (slashedProtocol.has(result.protocol) && result.hostname && !result.pathname) {
      result.path = result.pathname = "/";
    }
    result.href = result.format();
    return result;
  }
  if (relative.protocol && relative.protocol !== result.protocol) {
    // another protocol: a slashed one needs a host (and a path if it had one); others are
    // taken as they are
    if (!slashedProtocol.has(relative.protocol)) {
      for (const key of Object.keys(relative)) result[key] = relative[key];
      result.href = result.format();
      return result;
    }
    result.protocol = relative.protocol;
    if (!relative.host && !/^file:?$/.test(relative.protocol) &&
        !hostlessProtocol.has(relative.protocol)) {
      const relPath = (relative.pathname || "").split("/");
      while (relPath.length && !(relative.host = relPath.shift()));
      if (!relative.host) relative.host = "";
      if (!relative.hostname) relative.hostname = "";
      if (relPath[0] !== "") relPath.unshift("");
      if (relPath.length < 2) relPath.unshift("");
      result.pathname = relPath.join("/");
    } else {
      result.pathname = relative.pathname;
    }
    result.search = relative.search;
    result.query = relative.query;
    result.host = relative.host || "";
    result.auth = relative.auth;
    result.hostname = relative.hostname || relative.host;
    result.port = relative.port;
    if (result.pathname || result.search) {
      result.path = (result.pathname || "") + (result.search || "");
    }
    result.slashes = result.slashes || relative.slashes;
    result.href = result.format();
    return result;
  }

  const isSourceAbs = result.pathname && result.pathname[0] === "/";
  const isRelAbs = relative.host || (relative.pathname && relative.pathname[0] === "/");
  let mustEndAbs = isRelAbs || isSourceAbs || (result.host && relative.pathname);
  const removeAllDots = mustEndAbs;
  let srcPath = (result.pathname && result.pathname.split("/")) || [];
  const relPath = (relative.pathname && relative.pathname.split("/")) || [];
  const noLeadingSlashes = result.protocol && !slashedProtocol.has(result.protocol);

  // A URL without slashes lets ../.. climb into the host (its first path part).
  if (noLeadingSlashes) {
    result.hostname = "";
    result.port = null;
    if (result.host) {
      if (srcPath[0] === "") srcPath[0] = result.host;
      else srcPath.unshift(result.host);
    }
    result.host = "";
    if (relative.protocol) {
      relative.hostname = null;
      relative.port = null;
      result.auth = null;
      if (relative.host) {
        if (relPath[0] === "") relPath[0] = relative.host;
        else relPath.unshift(relative.host);
      }
      relative.host = null;
    }
    mustEndAbs = mustEndAbs && (relPath[0] === "" || srcPath[0] === "");
  }

  if (isRelAbs) {
    if (relative.host || relative.host === "") {
      if (result.host !== relative.host) result.auth = null;
      result.host = relative.host;
      result.port = relative.port;
    }
    if (relative.hostname || relative.hostname === "") {
      if (result.hostname !== relative.hostname) result.auth = null;
      result.hostname = relative.hostname;
    }
    result.search = relative.search;
    result.query = relative.query;
    srcPath = relPath;
  } else if (relPath.length) {
    // relative: the last segment gives way to relative's path
    srcPath.pop();
    srcPath = srcPath.concat(relPath);
    result.search = relative.search;
    result.query = relative.query;
  } else if (relative.search !== null && relative.search !== undefined) {
    // only a search (href="?foo")
    if (noLeadingSlashes) {
      result.hostname = result.host = srcPath.shift();
      // the auth may be stuck in the host (resolveObject('mailto:a@b', 'c@d'))
      const authInHost = result.host && result.host.indexOf("@") > 0 ? result.host.split("@") : false;
      if (authInHost) {
        result.auth = authInHost.shift();
        result.host = result.hostname = authInHost.shift();
      }
    }
    result.search = relative.search;
    result.query = relative.query;
    if (result.pathname !== null || result.search !== null) {
      result.path = (result.pathname ? result.pathname : "") + (result.search ? result.search : "");
    }
    result.href = result.format();
    return result;
  }

  if (!srcPath.length) {
    // no path at all
    result.pathname = null;
    result.path = result.search ? `/${result.search}` : null;
    result.href = result.format();
    return result;
  }

  // A path ending in . or .. gets a trailing slash; one ending in another segment does not.
  let last = srcPath.slice(-1)[0];
  const hasTrailingSlash = ((result.host || relative.host || srcPath.length > 1) &&
    (last === "." || last === "..")) || last === "";
  // drop ".", resolve ".." (`up`: how far above the root it climbs)
  let up = 0;
  for (let i = srcPath.length - 1; i >= 0; i--) {
    last = srcPath[i];
    if (last === ".") {
      srcPath.splice(i, 1);
    } else if (last === "..") {
      srcPath.splice(i, 1);
      up++;
    } else if (up) {
      srcPath.splice(i, 1);
      up--;
    }
  }
  if (!mustEndAbs && !removeAllDots) {
    while (up--) srcPath.unshift("..");
  }
  if (mustEndAbs && srcPath[0] !== "" && (!srcPath[0] || srcPath[0][0] !== "/")) {
    srcPath.unshift("");
  }
  if (hasTrailingSlash && srcPath.join("/").slice(-1) !== "/") srcPath.push("");
  const isAbsolute = srcPath[0] === "" || (srcPath[0] && srcPath[0][0] === "/");
  // put the host back
  if (noLeadingSlashes) {
    result.hostname = result.host = isAbsolute ? "" : srcPath.length ? srcPath.shift() : "";
    const authInHost = result.host && result.host.indexOf("@") > 0 ? result.host.split("@") : false;
    if (authInHost) {
      result.auth = authInHost.shift();
      result.host = result.hostname = authInHost.shift();
    }
  }
  mustEndAbs = mustEndAbs || (result.host && srcPath.length);
  if (mustEndAbs && !isAbsolute) srcPath.unshift("");
  if (srcPath.length > 0) {
    result.pathname = srcPath.join("/");
  } else {
    result.pathname = null;
    result.path = null;
  }
  if (result.pathname !== null || result.search !== null) {
    result.path = (result.pathname ? result.pathname : "") + (result.search ? result.search : "");
  }
  result.auth = relative.auth || result.auth;
  result.slashes = result.slashes || relative.slashes;
  result.href = result.format();
  return result;
};

/** url.parse(urlString[, parseQueryString[, slashesDenoteHost]]) (legacy). */
function urlParse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  const urlObject = new Url();
  urlObject.parse(url, parseQueryString, slashesDenoteHost);
  return urlObject;
}

/** url.resolve(from, to) (legacy): `to` resolved against `from` as a browser does a link. */
function urlResolve(source, relative) {
  return urlParse(source, false, true).resolve(relative);
}

function urlResolveObject(source, relative) {
  if (!source) return relative;
  return urlParse(source, false, true).resolveObject(relative);
}

/** url.format(URL[, options]), or (legacy) url.format(urlObject | urlString). */
function format(urlObject, options) {
  if (typeof urlObject === "string") {
    urlObject = urlParse(urlObject, true, false);
  } else if (urlObject === null || typeof urlObject !== "object") {
    throw invalidArgType("urlObject", ["Object", "string"], urlObject);
  } else if (urlObject instanceof URLCtor) {
    return formatURL(urlObject, options);
  }
  return ReflectApply(Url.prototype.format, urlObject, []);
}

module.exports = {
  URL: URLCtor,
  URLSearchParams: URLSearchParamsCtor,
  URLPattern: globalThis.URLPattern,
  domainToASCII,
  domainToUnicode,
  fileURLToPath,
  pathToFileURL,
  urlToHttpOptions,
  format,
  parse: urlParse,
  resolve: urlResolve,
  resolveObject: urlResolveObject,
  Url,
};
