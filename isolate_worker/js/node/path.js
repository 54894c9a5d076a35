// node:path under nodejs_compat: the POSIX flavour (as on Workers; the cwd is "/").
"use strict";

const { invalidArgType } = require("node:util")[Symbol.for("isoflow.node.internals")];

function checkString(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "string", value);
}

const SLASH = 47, DOT = 46;

/** Scans `path` from its end as Node's basename, extname and parse do: the last segment's
 * [start, end) and its last dot (-1: none, or one that starts no extension). */
function lastSegment(path, first) {
  let startDot = -1, startPart = 0, end = -1, matchedSlash = true, preDotState = 0;
  for (let i = path.length - 1; i >= first; --i) {
    const code = path.charCodeAt(i);
    if (code === SLASH) {
      if (!matchedSlash) {
        startPart = i + 1;
        break;
      }
      continue;
    }
    if (end === -1) {
      matchedSlash = false;
      end = i + 1;
    }
    if (code === DOT) {
      if (startDot === -1) startDot = i;
      else if (preDotState !== 1) preDotState = 1;
    } else if (startDot !== -1) {
      preDotState = -1;
    }
  }
  // "..", ".x" and "x" have no extension
  if (startDot === -1 || end === -1 || preDotState === 0 ||
      (preDotState === 1 && startDot === end - 1 && startDot === startPart + 1)) {
    startDot = -1;
  }
  return { startPart, end, startDot };
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
    if (args.length === 0) return ".";
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

  /** Node's: only the slashes before the last segment go ("/a//b" is "/a/", "//a" is "//"). */
  dirname(path) {
    checkString(path, "path");
    if (path.length === 0) return ".";
    const hasRoot = path.charCodeAt(0) === SLASH;
    let end = -1;
    let matchedSlash = true;
    for (let i = path.length - 1; i >= 1; --i) {
      if (path.charCodeAt(i) === SLASH) {
        if (!matchedSlash) {
          end = i;
          break;
        }
      } else {
        matchedSlash = false;
      }
    }
    if (end === -1) return hasRoot ? "/" : ".";
    if (hasRoot && end === 1) return "//";
    return path.slice(0, end);
  },

  /** Node's: a suffix is cut character by character from the end ("aaa/bbb" less "a/bbb" is "bbb"). */
  basename(path, suffix) {
    if (suffix !== undefined) checkString(suffix, "suffix");
    checkString(path, "path");
    let start = 0, end = -1, matchedSlash = true;
    if (suffix !== undefined && suffix.length > 0 && suffix.length <= path.length) {
      if (suffix === path) return "";
      let extIdx = suffix.length - 1;
      let firstNonSlashEnd = -1;
      for (let i = path.length - 1; i >= 0; --i) {
        const code = path.charCodeAt(i);
        if (code === SLASH) {
          if (!matchedSlash) {
            start = i + 1;
            break;
          }
        } else {
          if (firstNonSlashEnd === -1) {
            matchedSlash = false;
            firstNonSlashEnd = i + 1;
          }
          if (extIdx >= 0) {
            if (code === suffix.charCodeAt(extIdx)) {
              if (--extIdx === -1) end = i;
            } else {
              extIdx = -1;
              end = firstNonSlashEnd;
            }
          }
        }
      }
      if (start === end) end = firstNonSlashEnd;
      else if (end === -1) end = path.length;
      return path.slice(start, end);
    }
    for (let i = path.length - 1; i >= 0; --i) {
      if (path.charCodeAt(i) === SLASH) {
        if (!matchedSlash) {
          start = i + 1;
          break;
        }
      } else if (end === -1) {
        matchedSlash = false;
        end = i + 1;
      }
    }
    return end === -1 ? "" : path.slice(start, end);
  },

  extname(path) {
    checkString(path, "path");
    const { end, startDot } = lastSegment(path, 0);
    return startDot === -1 ? "" : path.slice(startDot, end);
  },

  format(object) {
    if (object === null || typeof object !== "object" || Array.isArray(object)) {
      throw invalidArgType("pathObject", "Object", object);
    }
    const dir = object.dir || object.root;
    const base = object.base || `${object.name || ""}${object.ext ? (object.ext[0] === "." ? "" : ".") + object.ext : ""}`;
    if (!dir) return base;
    return dir === object.root ? `${dir}${base}` : `${dir}/${base}`;
  },

  parse(path) {
    checkString(path, "path");
    const out = { root: "", dir: "", base: "", ext: "", name: "" };
    if (path.length === 0) return out;
    const absolute = path.charCodeAt(0) === SLASH;
    if (absolute) out.root = "/";
    const { startPart, end, startDot } = lastSegment(path, absolute ? 1 : 0);
    if (end !== -1) {
      const start = startPart === 0 && absolute ? 1 : startPart;
      out.base = path.slice(start, end);
      if (startDot === -1) {
        out.name = out.base;
      } else {
        out.name = path.slice(start, startDot);
        out.ext = path.slice(startDot, end);
      }
    }
    if (startPart > 0) out.dir = path.slice(0, startPart - 1);
    else if (absolute) out.dir = "/";
    return out;
  },
};
posix.posix = posix;
posix.win32 = null; // not provided

module.exports = posix;
