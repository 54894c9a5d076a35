// console (WHATWG Console standard), printing through the bridge to the supervisor's log.
// Every line is tagged by the bridge with the worker and, when it can tell, the request.
// Values are printed readably (a small util.inspect): strings quoted inside objects,
// nested objects to depth 2, Map/Set/typed arrays/errors/classes recognisable, cycles marked.

const {
  ArrayIsArray,
  ArrayPrototypeJoin,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  DateNow,
  DatePrototypeToISOString,
  ErrorPrototypeToString,
  JSONStringify,
  MapPrototypeEntries,
  MathMax,
  NumberIsNaN,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypeToString,
  ObjectSetPrototypeOf,
  ReflectOwnKeys,
  RegExpPrototypeToString,
  SafeMap,
  SafeSet,
  SetPrototypeValues,
  StringPrototypeRepeat,
  StringPrototypeReplace,
  SymbolPrototypeToString,
  SymbolToStringTag,
  ArrayBufferIsView,
  parseFloat: ParseFloat,
  parseInt: ParseInt,
} = primordials;

const MAX_ARRAY = 100;
const MAX_STRING_IN_OBJECT = 10000;

function quote(s) {
  const q = JSONStringify(s);
  return `'${StringPrototypeReplace(q.slice(1, -1), /\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function constructorName(obj) {
  let proto = obj;
  for (let i = 0; i < 10 && proto !== null; i++) {
    const desc = primordials.ObjectGetOwnPropertyDescriptor(proto, "constructor");
    if (desc !== undefined && typeof desc.value === "function" && desc.value.name !== "") {
      return desc.value.name;
    }
    proto = ObjectGetPrototypeOf(proto);
  }
  return null;
}

function formatKey(key) {
  if (typeof key === "symbol") return `[${SymbolPrototypeToString(key)}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : quote(key);
}

function inspect(value, depth = 2, seen = new SafeSet(), nested = false) {
  switch (typeof value) {
    case "string":
      if (!nested) return value;
      return quote(value.length > MAX_STRING_IN_OBJECT ? `${value.slice(0, MAX_STRING_IN_OBJECT)}...` : value);
    case "number":
      return Object.is(value, -0) ? "-0" : `${value}`;
    case "bigint":
      return `${value}n`;
    case "boolean":
      return `${value}`;
    case "undefined":
      return "undefined";
    case "symbol":
      return SymbolPrototypeToString(value);
    case "function": {
      const isClass = /^class[\s{]/.test(primordials.FunctionPrototypeToString(value));
      const name = value.name ? `: ${value.name}` : " (anonymous)";
      return isClass ? `[class ${value.name || "(anonymous)"}]` : `[Function${name}]`;
    }
    default:
      break;
  }
  if (value === null) return "null";
  if (seen.has(value)) return "[Circular]";
  try {
    seen.add(value);
    return inspectObject(value, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function inspectObject(value, depth, seen) {
  const tag = ObjectPrototypeToString(value);
  if (value instanceof primordials.Error || tag === "[object Error]") {
    const stack = value.stack;
    return typeof stack === "string" && stack !== "" ? stack : ErrorPrototypeToString(value);
  }
  if (tag === "[object Date]") {
    const t = primordials.DatePrototypeGetTime(value);
    return NumberIsNaN(t) ? "Invalid Date" : DatePrototypeToISOString(value);
  }
  if (tag === "[object RegExp]") return RegExpPrototypeToString(value);
  if (tag === "[object Promise]") return "Promise { <state unknown> }";
  const name = constructorName(value);
  if (ArrayIsArray(value)) {
    if (depth < 0) return "[Array]";
    const items = [];
    const n = Math.min(value.length, MAX_ARRAY);
    for (let i = 0; i < n; i++) ArrayPrototypePush(items, inspect(value[i], depth - 1, seen, true));
    if (value.length > MAX_ARRAY) ArrayPrototypePush(items, `... ${value.length - MAX_ARRAY} more items`);
    return wrap(items, "[", "]");
  }
  if (ArrayBufferIsView(value) && tag !== "[object DataView]") {
    const items = [];
    const n = Math.min(value.length, MAX_ARRAY);
    for (let i = 0; i < n; i++) ArrayPrototypePush(items, inspect(value[i], depth - 1, seen, true));
    if (value.length > MAX_ARRAY) ArrayPrototypePush(items, `... ${value.length - MAX_ARRAY} more items`);
    return `${name ?? "TypedArray"}(${value.length}) ${wrap(items, "[", "]")}`;
  }
  if (tag === "[object Map]") {
    if (depth < 0) return "[Map]";
    const items = [];
    for (const [k, v] of MapPrototypeEntries(value)) {
      ArrayPrototypePush(items, `${inspect(k, depth - 1, seen, true)} => ${inspect(v, depth - 1, seen, true)}`);
    }
    return `Map(${value.size}) ${wrap(items, "{", "}")}`;
  }
  if (tag === "[object Set]") {
    if (depth < 0) return "[Set]";
    const items = [];
    for (const v of SetPrototypeValues(value)) ArrayPrototypePush(items, inspect(v, depth - 1, seen, true));
    return `Set(${value.size}) ${wrap(items, "{", "}")}`;
  }
  if (tag === "[object ArrayBuffer]") {
    return `ArrayBuffer { byteLength: ${value.byteLength} }`;
  }
  if (depth < 0) return name && name !== "Object" ? `[${name}]` : "[Object]";
  const items = [];
  for (const key of ReflectOwnKeys(value)) {
    const desc = primordials.ObjectGetOwnPropertyDescriptor(value, key);
    if (desc === undefined || !desc.enumerable) continue;
    const shown = "value" in desc
      ? inspect(desc.value, depth - 1, seen, true)
      : desc.get && desc.set ? "[Getter/Setter]" : desc.get ? "[Getter]" : "[Setter]";
    ArrayPrototypePush(items, `${formatKey(key)}: ${shown}`);
  }
  // Web API objects keep their state in private fields; show their iterable content.
  if (items.length === 0 && typeof value.entries === "function" && name !== "Object" &&
      (name === "Headers" || name === "URLSearchParams" || name === "FormData")) {
    try {
      for (const [k, v] of value.entries()) {
        ArrayPrototypePush(items, `${quote(`${k}`)}: ${inspect(v, depth - 1, seen, true)}`);
      }
    } catch {
      // not iterable after all
    }
  }
  const prefix = name === null ? "[Object: null prototype] " : name !== "Object" ? `${name} ` : "";
  return `${prefix}${wrap(items, "{", "}")}`;
}

function wrap(items, open, close) {
  if (items.length === 0) return `${open}${close}`;
  const line = `${open} ${ArrayPrototypeJoin(items, ", ")} ${close}`;
  if (line.length <= 76) return line;
  return `${open}\n  ${ArrayPrototypeJoin(ArrayPrototypeMap(items, (s) => s.replace(/\n/g, "\n  ")), ",\n  ")}\n${close}`;
}

/** Format console arguments: printf-style directives in a leading string, then the rest. */
function formatArgs(args) {
  if (args.length === 0) return "";
  const out = [];
  let rest = 0;
  const first = args[0];
  if (typeof first === "string") {
    rest = 1;
    let text = "";
    let last = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first[i] !== "%") continue;
      const d = first[i + 1];
      let piece = null;
      if (d === "%") {
        piece = "%";
      } else if (rest < args.length && "sdifoOjc".includes(d)) {
        const arg = args[rest++];
        if (d === "s") piece = typeof arg === "string" ? arg : inspect(arg, 1, new SafeSet(), false);
        else if (d === "d" || d === "i") {
          // Formatter (§2.2): %d and %i are %parseInt%(current, 10), a Symbol is NaN (a
          // BigInt keeps its digits and "n", as browsers print it).
          piece = typeof arg === "bigint" ? `${arg}n` : typeof arg === "symbol" ? "NaN" : `${ParseInt(arg, 10)}`;
        } else if (d === "f") piece = typeof arg === "symbol" ? "NaN" : `${ParseFloat(arg)}`;
        else if (d === "o" || d === "O") piece = inspect(arg, 4, new SafeSet(), true);
        else if (d === "j") piece = JSONStringify(arg);
        else piece = ""; // %c: CSS, meaningless in a log
      }
      if (piece !== null) {
        text += first.slice(last, i) + piece;
        last = i + 2;
        i++;
      }
    }
    text += first.slice(last);
    ArrayPrototypePush(out, text);
  }
  for (let i = rest; i < args.length; i++) ArrayPrototypePush(out, inspect(args[i]));
  return ArrayPrototypeJoin(out, " ");
}

let groupIndent = "";
const counts = new SafeMap();
const timers = new SafeMap();

function emit(level, text) {
  const line = groupIndent === "" ? text : groupIndent + text.replace(/\n/g, `\n${groupIndent}`);
  const st = internals.serve.owner();
  internals.host.log(level, st === null ? 0 : st.sid, line);
}

function table(data, columns) {
  if (data === null || typeof data !== "object") return formatArgs([data]);
  const rows = [];
  const keys = new SafeSet();
  const entries = data instanceof primordials.Map ? [...data.entries()] : ObjectKeys(data).map((k) => [k, data[k]]);
  let hasValues = false;
  for (const [k, row] of entries) {
    const cells = { "(index)": `${k}` };
    if (row !== null && typeof row === "object") {
      for (const c of ObjectKeys(row)) {
        if (columns === undefined || columns.includes(c)) {
          keys.add(c);
          cells[c] = inspect(row[c], 0, new SafeSet(), true);
        }
      }
    } else {
      hasValues = true;
      cells.Values = inspect(row, 0, new SafeSet(), true);
    }
    ArrayPrototypePush(rows, cells);
  }
  const header = ["(index)", ...keys, ...(hasValues ? ["Values"] : [])];
  const widths = header.map((h) => MathMax(h.length, ...rows.map((r) => (r[h] ?? "").length)) + 2);
  const pad = (s, w) => {
    const left = Math.floor((w - s.length) / 2);
    return StringPrototypeRepeat(" ", left) + s + StringPrototypeRepeat(" ", w - s.length - left);
  };
  const line = (l, m, r) => l + widths.map((w) => StringPrototypeRepeat("─", w)).join(m) + r;
  const out = [line("┌", "┬", "┐"), `│${header.map((h, i) => pad(h, widths[i])).join("│")}│`, line("├", "┼", "┤")];
  for (const r of rows) out.push(`│${header.map((h, i) => pad(r[h] ?? "", widths[i])).join("│")}│`);
  out.push(line("└", "┴", "┘"));
  return out.join("\n");
}

// The console namespace (§1). Its operations are Web IDL namespace operations: enumerable
// data properties whose `length` counts the required arguments only (none is required).
const console = {
  log: (...args) => emit("info", formatArgs(args)),
  info: (...args) => emit("info", formatArgs(args)),
  debug: (...args) => emit("debug", formatArgs(args)),
  warn: (...args) => emit("warn", formatArgs(args)),
  error: (...args) => emit("error", formatArgs(args)),
  trace: (...args) => {
    const stack = new primordials.Error().stack.split("\n").slice(2).join("\n");
    emit("info", `Trace${args.length ? `: ${formatArgs(args)}` : ""}\n${stack}`);
  },
  dir: (item = undefined, options = undefined) => emit("info", inspect(item, 2, new SafeSet(), true)),
  dirxml: (...args) => emit("info", formatArgs(args)),
  assert: (condition = false, ...args) => {
    if (condition) return;
    emit("error", `Assertion failed${args.length ? `: ${formatArgs(args)}` : ""}`);
  },
  table: (tabularData = undefined, properties = undefined) => emit("info", table(tabularData, properties)),
  // The label of the counting and timing methods is a DOMString: converted once, up front.
  count: (label = "default") => {
    label = `${label}`;
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    emit("info", `${label}: ${n}`);
  },
  countReset: (label = "default") => {
    label = `${label}`;
    if (counts.has(label)) counts.set(label, 0);
    else emit("warn", `Count for '${label}' does not exist`);
  },
  group: (...args) => {
    if (args.length) emit("info", formatArgs(args));
    groupIndent += "  ";
  },
  groupCollapsed: (...args) => console.group(...args),
  groupEnd: () => {
    groupIndent = groupIndent.slice(0, -2);
  },
  time: (label = "default") => {
    label = `${label}`;
    if (timers.has(label)) {
      emit("warn", `Timer '${label}' already exists`);
      return;
    }
    timers.set(label, DateNow());
  },
  timeLog: (label = "default", ...args) => {
    label = `${label}`;
    const start = timers.get(label);
    if (start === undefined) {
      emit("warn", `Timer '${label}' does not exist`);
      return;
    }
    emit("info", `${label}: ${DateNow() - start}ms${args.length ? ` ${formatArgs(args)}` : ""}`);
  },
  timeEnd: (label = "default") => {
    label = `${label}`;
    const start = timers.get(label);
    if (start === undefined) {
      emit("warn", `Timer '${label}' does not exist`);
      return;
    }
    timers.delete(label);
    emit("info", `${label}: ${DateNow() - start}ms`);
  },
};

// "For historical web-compatibility reasons, the namespace object for console must have as its
// [[Prototype]] an empty object, created as if by ObjectCreate(%ObjectPrototype%), instead of
// %ObjectPrototype%." (§1); like every namespace object it has a @@toStringTag of "console"
// (Web IDL §3.13.1: not writable, not enumerable, configurable).
ObjectSetPrototypeOf(console, ObjectCreate(ObjectPrototype));
ObjectDefineProperty(console, SymbolToStringTag, {
  value: "console",
  writable: false,
  enumerable: false,
  configurable: true,
});

internals.inspect = inspect;
internals.formatArgs = formatArgs;
internals.exposeGlobal("console", console);
