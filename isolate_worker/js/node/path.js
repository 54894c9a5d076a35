// node:path under nodejs_compat: the POSIX flavour (as on Workers; the cwd is "/").
"use strict";

function checkString(value, name) {
  if (typeof value !== "string") {
    const error = new TypeError(`The "${name}" argument must be of type string. ` +
                                `Received ${value === null ? "null" : typeof value}`);
    error.code = "ERR_INVALID_ARG_TYPE";
    throw error;
  }
}

/** Resolves "." and ".." segments (Node's normalizeString). */
function normalizeString(path, allowAboveRoot) {
  const out = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (allowAboveRoot) out.push("..");
    } else {
      out.push(segment);
    }
  }
  return out.join("/");
}

const posix = {
  sep: "/",
  delimiter: ":",

  resolve(...args) {
    let resolved = "";
    let absolute = false;
    for (let i = args.length - 1; i >= -1 && !absolute; i--) {
      const path = i >= 0 ? args[i] : "/";
      checkString(path, `paths[${i}]`);
      if (path === "") continue;
      resolved = `${path}/${resolved}`;
      absolute = path[0] === "/";
    }
    resolved = normalizeString(resolved, !absolute);
    return absolute ? `/${resolved}` : resolved.length > 0 ? resolved : ".";
  },

  normalize(path) {
    checkString(path, "path");
    if (path === "") return ".";
    const absolute = path[0] === "/";
    const trailing = path[path.length - 1] === "/";
    let out = normalizeString(path, !absolute);
    if (out === "" && !absolute) out = ".";
    if (out !== "" && trailing) out += "/";
    return absolute ? `/${out}` : out;
  },

  isAbsolute(path) {
    checkString(path, "path");
    return path.length > 0 && path[0] === "/";
  },

  join(...args) {
    const parts = [];
    for (const arg of args) {
      checkString(arg, "path");
      if (arg !== "") parts.push(arg);
    }
    return parts.length === 0 ? "." : posix.normalize(parts.join("/"));
  },

  relative(from, to) {
    checkString(from, "from");
    checkString(to, "to");
    if (from === to) return "";
    const a = posix.resolve(from).split("/").filter(Boolean);
    const b = posix.resolve(to).split("/").filter(Boolean);
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
  },

  toNamespacedPath(path) {
    return path;
  },

  dirname(path) {
    checkString(path, "path");
    if (path === "") return ".";
    let end = path.length;
    while (end > 1 && path[end - 1] === "/") end--;
    const slash = path.lastIndexOf("/", end - 1);
    if (slash === -1) return ".";
    if (slash === 0) return "/";
    let stop = slash;
    while (stop > 1 && path[stop - 1] === "/") stop--;
    return path.slice(0, stop);
  },

  basename(path, suffix) {
    checkString(path, "path");
    if (suffix !== undefined) checkString(suffix, "suffix");
    let end = path.length;
    while (end > 0 && path[end - 1] === "/") end--;
    const base = path.slice(path.lastIndexOf("/", end - 1) + 1, end);
    if (suffix !== undefined && suffix !== base && base.endsWith(suffix)) {
      return base.slice(0, base.length - suffix.length);
    }
    return base;
  },

  extname(path) {
    checkString(path, "path");
    const base = posix.basename(path);
    const dot = base.lastIndexOf(".");
    if (dot <= 0) return "";
    return base.slice(dot);
  },

  format(object) {
    if (object === null || typeof object !== "object") {
      throw new TypeError('The "pathObject" argument must be of type object.');
    }
    const dir = object.dir || object.root;
    const base = object.base || `${object.name || ""}${object.ext ? (object.ext[0] === "." ? "" : ".") + object.ext : ""}`;
    if (!dir) return base;
    return dir === object.root ? `${dir}${base}` : `${dir}/${base}`;
  },

  parse(path) {
    checkString(path, "path");
    const root = path[0] === "/" ? "/" : "";
    if (path === "" || path === "/") return { root, dir: root, base: "", ext: "", name: "" };
    const base = posix.basename(path);
    const ext = posix.extname(path);
    let dir = posix.dirname(path);
    if (dir === "." && path[0] !== ".") dir = "";
    return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
  },
};
posix.posix = posix;
posix.win32 = null; // not provided

module.exports = posix;
