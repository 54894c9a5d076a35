// performance (High Resolution Time, Performance Timeline and User Timing: marks and
// measures), PerformanceObserver (of marks and measures, the only entry types there are
// here) and navigator (userAgent, hardwareConcurrency).
//
// The clock is the isolate's time origin plus Date.now() deltas, clamped to never go
// backwards (V8 offers scripts no finer clock), so times have millisecond resolution.
// Exports: internals.performance, internals.navigator.

const {
  ArrayPrototypeFilter,
  ArrayPrototypeIncludes,
  ArrayPrototypePush,
  ArrayPrototypeSlice,
  ArrayPrototypeSort,
  ArrayPrototypeSplice,
  ObjectFreeze,
  ReflectApply,
  Symbol: SymbolCtor,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl, DOMException } = internals;
const { converters } = webidl;
const { EventTarget } = internals.events;
const clock = internals.highResolutionTime;

const illegalConstructorKey = SymbolCtor("performance");

// --- PerformanceEntry and its subclasses --------------------------------------------------------

let entryData;

class PerformanceEntry {
  #data;

  constructor(key = undefined, data = undefined) {
    if (key !== illegalConstructorKey) webidl.illegalConstructor();
    this.#data = data;
  }

  static {
    entryData = (self, member) => {
      if (self === null || typeof self !== "object" || !(#data in self)) {
        throw new TypeErrorCtor(
          `Failed to read the '${member}' property from 'PerformanceEntry': Illegal invocation`,
        );
      }
      return self.#data;
    };
  }

  get name() {
    return entryData(this, "name").name;
  }

  get entryType() {
    return entryData(this, "entryType").entryType;
  }

  get startTime() {
    return entryData(this, "startTime").startTime;
  }

  get duration() {
    return entryData(this, "duration").duration;
  }

  toJSON() {
    const d = entryData(this, "toJSON");
    const json = { name: d.name, entryType: d.entryType, startTime: d.startTime, duration: d.duration };
    if (d.entryType === "mark" || d.entryType === "measure") json.detail = d.detail;
    return json;
  }
}

webidl.configureInterface(PerformanceEntry);

const convertMarkOptions = webidl.createDictionaryConverter("PerformanceMarkOptions", [
  { key: "detail", converter: converters.any },
  { key: "startTime", converter: converters.double },
]);

/** A structured clone of a mark's or measure's detail (null when absent). */
function cloneDetail(detail) {
  if (detail === undefined || detail === null) return null;
  return internals.structuredClone.clone(detail);
}

class PerformanceMark extends PerformanceEntry {
  constructor(markName, markOptions = undefined) {
    const prefix = "Failed to construct 'PerformanceMark'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    markName = converters.DOMString(markName, prefix, "Argument 1");
    const opts = convertMarkOptions(markOptions, prefix, "Argument 2");
    let startTime;
    if (opts.startTime !== undefined) {
      if (opts.startTime < 0) {
        throw new TypeErrorCtor(`${prefix}: '${markName}' cannot have a negative start time.`);
      }
      startTime = opts.startTime;
    } else {
      startTime = clock.now();
    }
    super(illegalConstructorKey, {
      name: markName,
      entryType: "mark",
      startTime,
      duration: 0,
      detail: cloneDetail(opts.detail),
    });
  }

  get detail() {
    return entryData(this, "detail").detail;
  }
}

webidl.configureInterface(PerformanceMark);

// Made only by measure(): PerformanceEntry's constructor rejects every other caller.
class PerformanceMeasure extends PerformanceEntry {
  get detail() {
    return entryData(this, "detail").detail;
  }
}

webidl.configureInterface(PerformanceMeasure);

// --- The performance entry buffer ---------------------------------------------------------------

// The performance entry buffer of user timing entries, in insertion order.
let entries = [];

const convertTimeOrMark = (v, prefix, context) =>
  typeof v === "number" ? converters.double(v, prefix, context) : converters.DOMString(v, prefix, context);

const convertMeasureOptions = webidl.createDictionaryConverter("PerformanceMeasureOptions", [
  { key: "detail", converter: converters.any },
  { key: "duration", converter: converters.double },
  { key: "end", converter: convertTimeOrMark },
  { key: "start", converter: convertTimeOrMark },
]);

/** User Timing "convert a mark to a timestamp". */
function convertMarkToTimestamp(mark, prefix) {
  if (typeof mark === "string") {
    for (let i = entries.length - 1; i >= 0; i--) {
      const d = entryData(entries[i], "");
      if (d.entryType === "mark" && d.name === mark) return d.startTime;
    }
    throw new DOMException(`${prefix}: The mark '${mark}' does not exist.`, "SyntaxError");
  }
  if (mark < 0) throw new TypeErrorCtor(`${prefix}: '${mark}' is a negative time stamp.`);
  return mark;
}

function isMeasureOptionsObject(value) {
  return value === null || value === undefined || typeof value === "object" ||
    typeof value === "function";
}

/** Performance Timeline "filter buffer by name and type" (of `list`, default the buffer). */
function filterEntries(name, type, list = entries) {
  if (name !== undefined) list = ArrayPrototypeFilter(list, (e) => entryData(e, "").name === name);
  if (type !== undefined) {
    list = ArrayPrototypeFilter(list, (e) => entryData(e, "").entryType === type);
  }
  // Chronological order of startTime (a stable sort keeps insertion order for ties).
  return ArrayPrototypeSort(ArrayPrototypeSlice(list),
    (a, b) => entryData(a, "").startTime - entryData(b, "").startTime);
}

function clearEntries(type, name) {
  entries = ArrayPrototypeFilter(entries, (e) => {
    const d = entryData(e, "");
    return d.entryType !== type || (name !== undefined && d.name !== name);
  });
}

// --- PerformanceObserver (Performance Timeline) --------------------------------------------------

// The global's "frozen array of supported entry types", in alphabetical order: the entry
// types this runtime makes (User Timing's). [SameObject]: always the same array.
const supportedEntryTypes = ObjectFreeze(["mark", "measure"]);

// The global's "list of registered performance observer objects":
// [{ observer, options: [PerformanceObserverInit, ...] }, ...].
const registeredObservers = [];
let observerTaskQueued = false;

let observerSlots;

const convertObserverInit = webidl.createDictionaryConverter("PerformanceObserverInit", [
  { key: "buffered", converter: converters.boolean },
  { key: "entryTypes", converter: webidl.createSequenceConverter(converters.DOMString) },
  { key: "type", converter: converters.DOMString },
]);

function findRegistered(observer) {
  for (let i = 0; i < registeredObservers.length; i++) {
    if (registeredObservers[i].observer === observer) return i;
  }
  return -1;
}

/** Whether one of `options` (a registered observer's options list) asks for `entryType`. */
function wantsType(options, entryType) {
  for (let i = 0; i < options.length; i++) {
    const o = options[i];
    if (o.type === entryType) return true;
    if (o.entryTypes !== undefined && ArrayPrototypeIncludes(o.entryTypes, entryType)) return true;
  }
  return false;
}

/** Performance Timeline "queue a PerformanceEntry": to the interested observers and the buffer. */
function queueEntry(entry) {
  const entryType = entryData(entry, "").entryType;
  let observed = false;
  for (let i = 0; i < registeredObservers.length; i++) {
    const reg = registeredObservers[i];
    if (wantsType(reg.options, entryType)) {
      ArrayPrototypePush(observerSlots(reg.observer).buffer, entry);
      observed = true;
    }
  }
  // Marks and measures have no buffer size limit: the entry is always added.
  ArrayPrototypePush(entries, entry);
  // The task would find every observer's buffer empty otherwise: it is not queued (no timer
  // per mark for a script that observes nothing).
  if (observed) queueObserverTask();
}

/** Performance Timeline "queue the PerformanceObserver task". */
function queueObserverTask() {
  if (observerTaskQueued) return;
  observerTaskQueued = true;
  internals.timers.setTimeout(runObserverTask, 0);
}

function runObserverTask() {
  observerTaskQueued = false;
  const notifyList = ArrayPrototypeSlice(registeredObservers);
  for (let i = 0; i < notifyList.length; i++) {
    const reg = notifyList[i];
    const po = reg.observer;
    const slots = observerSlots(po);
    if (slots.buffer.length === 0) continue;
    const list = new PerformanceObserverEntryList(illegalConstructorKey, slots.buffer);
    slots.buffer = [];
    const callbackOptions = {};
    if (slots.requiresDroppedEntries) {
      // Marks and measures are never dropped.
      callbackOptions.droppedEntriesCount = 0;
      slots.requiresDroppedEntries = false;
    }
    try {
      ReflectApply(slots.callback, po, [list, po, callbackOptions]);
    } catch (e) {
      internals.events.reportException(e);
    }
  }
}

class PerformanceObserver {
  #slots;

  constructor(callback) {
    const prefix = "Failed to construct 'PerformanceObserver'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (typeof callback !== "function") {
      throw new TypeErrorCtor(`${prefix}: The callback provided as parameter 1 is not a function.`);
    }
    // observer type: "undefined", "single" or "multiple".
    this.#slots = { callback, buffer: [], observerType: "undefined", requiresDroppedEntries: false };
  }

  static {
    observerSlots = (self, member) => {
      if (self === null || typeof self !== "object" || !(#slots in self)) {
        throw new TypeErrorCtor(
          `Failed to execute '${member}' on 'PerformanceObserver': Illegal invocation`,
        );
      }
      return self.#slots;
    };
  }

  observe(options = undefined) {
    const slots = observerSlots(this, "observe");
    const prefix = "Failed to execute 'observe' on 'PerformanceObserver'";
    options = convertObserverInit(options, prefix, "Argument 1");
    if (options.entryTypes === undefined && options.type === undefined) {
      throw new TypeErrorCtor(`${prefix}: An observe() call must include either entryTypes or type.`);
    }
    if (options.entryTypes !== undefined && (options.type !== undefined || options.buffered !== undefined)) {
      throw new TypeErrorCtor(
        `${prefix}: An observe() call must not include both entryTypes and type or buffered.`);
    }
    if (slots.observerType === "undefined") {
      slots.observerType = options.entryTypes !== undefined ? "multiple" : "single";
    }
    if (slots.observerType === "single" && options.entryTypes !== undefined) {
      throw new DOMException(
        `${prefix}: This observer has called observe() with type; it cannot use entryTypes.`,
        "InvalidModificationError");
    }
    if (slots.observerType === "multiple" && options.type !== undefined) {
      throw new DOMException(
        `${prefix}: This observer has called observe() with entryTypes; it cannot use type.`,
        "InvalidModificationError");
    }
    slots.requiresDroppedEntries = true;
    const index = findRegistered(this);
    if (slots.observerType === "multiple") {
      // Unsupported types are ignored; with none left, nothing is registered.
      const types = ArrayPrototypeFilter(options.entryTypes,
        (t) => ArrayPrototypeIncludes(supportedEntryTypes, t));
      if (types.length === 0) return;
      const init = { __proto__: null, entryTypes: types };
      if (index !== -1) registeredObservers[index].options = [init];
      else ArrayPrototypePush(registeredObservers, { __proto__: null, observer: this, options: [init] });
      return;
    }
    if (!ArrayPrototypeIncludes(supportedEntryTypes, options.type)) return;
    const init = { __proto__: null, type: options.type, buffered: options.buffered === true };
    if (index !== -1) {
      const list = registeredObservers[index].options;
      let replaced = false;
      for (let i = 0; i < list.length; i++) {
        if (list[i].type === init.type) {
          list[i] = init;
          replaced = true;
        }
      }
      if (!replaced) ArrayPrototypePush(list, init);
    } else {
      ArrayPrototypePush(registeredObservers, { __proto__: null, observer: this, options: [init] });
    }
    if (init.buffered) {
      const buffered = ArrayPrototypeFilter(entries, (e) => entryData(e, "").entryType === init.type);
      for (let i = 0; i < buffered.length; i++) ArrayPrototypePush(slots.buffer, buffered[i]);
      queueObserverTask();
    }
  }

  disconnect() {
    const slots = observerSlots(this, "disconnect");
    const index = findRegistered(this);
    if (index !== -1) ArrayPrototypeSplice(registeredObservers, index, 1);
    slots.buffer = [];
  }

  takeRecords() {
    const slots = observerSlots(this, "takeRecords");
    const list = slots.buffer;
    slots.buffer = [];
    return list;
  }

  static get supportedEntryTypes() {
    return supportedEntryTypes;
  }
}

webidl.configureInterface(PerformanceObserver);

let entryListSlot;

class PerformanceObserverEntryList {
  #entries;

  constructor(key = undefined, list = undefined) {
    if (key !== illegalConstructorKey) webidl.illegalConstructor();
    this.#entries = list;
  }

  static {
    entryListSlot = (self, member) => {
      if (self === null || typeof self !== "object" || !(#entries in self)) {
        throw new TypeErrorCtor(
          `Failed to execute '${member}' on 'PerformanceObserverEntryList': Illegal invocation`,
        );
      }
      return self.#entries;
    };
  }

  getEntries() {
    return filterEntries(undefined, undefined, entryListSlot(this, "getEntries"));
  }

  getEntriesByType(type) {
    const list = entryListSlot(this, "getEntriesByType");
    webidl.requiredArguments(arguments.length, 1,
      "Failed to execute 'getEntriesByType' on 'PerformanceObserverEntryList'");
    return filterEntries(undefined, converters.DOMString(type), list);
  }

  getEntriesByName(name, type = undefined) {
    const list = entryListSlot(this, "getEntriesByName");
    webidl.requiredArguments(arguments.length, 1,
      "Failed to execute 'getEntriesByName' on 'PerformanceObserverEntryList'");
    return filterEntries(converters.DOMString(name),
      type === undefined ? undefined : converters.DOMString(type), list);
  }
}

webidl.configureInterface(PerformanceObserverEntryList);

// --- Performance ---------------------------------------------------------------------------------

let performanceBrand;

class Performance extends EventTarget {
  #brand = true;

  constructor(key = undefined) {
    if (key !== illegalConstructorKey) webidl.illegalConstructor();
    super();
  }

  static {
    performanceBrand = (self, member) => {
      if (self === null || typeof self !== "object" || !(#brand in self)) {
        throw new TypeErrorCtor(`Failed to execute '${member}' on 'Performance': Illegal invocation`);
      }
    };
  }

  now() {
    performanceBrand(this, "now");
    return clock.now();
  }

  get timeOrigin() {
    performanceBrand(this, "timeOrigin");
    return clock.timeOrigin;
  }

  toJSON() {
    performanceBrand(this, "toJSON");
    return { timeOrigin: clock.timeOrigin };
  }

  mark(markName, markOptions = undefined) {
    performanceBrand(this, "mark");
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'mark' on 'Performance'");
    const entry = new PerformanceMark(markName, markOptions);
    queueEntry(entry);
    return entry;
  }

  clearMarks(markName = undefined) {
    performanceBrand(this, "clearMarks");
    clearEntries("mark", markName === undefined ? undefined : converters.DOMString(markName));
  }

  measure(measureName, startOrMeasureOptions = undefined, endMark = undefined) {
    performanceBrand(this, "measure");
    const prefix = "Failed to execute 'measure' on 'Performance'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    measureName = converters.DOMString(measureName, prefix, "Argument 1");
    let options = null;
    let startName;
    if (isMeasureOptionsObject(startOrMeasureOptions)) {
      options = convertMeasureOptions(startOrMeasureOptions, prefix, "Argument 2");
    } else {
      startName = converters.DOMString(startOrMeasureOptions, prefix, "Argument 2");
    }
    if (endMark !== undefined) endMark = converters.DOMString(endMark, prefix, "Argument 3");
    const hasOptions = options !== null && (options.start !== undefined ||
      options.end !== undefined || options.duration !== undefined || options.detail !== undefined);
    if (hasOptions) {
      if (endMark !== undefined) {
        throw new TypeErrorCtor(`${prefix}: options and an end mark cannot both be given.`);
      }
      if (options.start === undefined && options.end === undefined) {
        throw new TypeErrorCtor(`${prefix}: options need a start or an end.`);
      }
      if (options.start !== undefined && options.duration !== undefined && options.end !== undefined) {
        throw new TypeErrorCtor(`${prefix}: start, duration and end cannot all be given.`);
      }
    }
    let endTime;
    if (endMark !== undefined) {
      endTime = convertMarkToTimestamp(endMark, prefix);
    } else if (hasOptions && options.end !== undefined) {
      endTime = convertMarkToTimestamp(options.end, prefix);
    } else if (hasOptions && options.start !== undefined && options.duration !== undefined) {
      endTime = convertMarkToTimestamp(options.start, prefix) +
        convertMarkToTimestamp(options.duration, prefix);
    } else {
      endTime = clock.now();
    }
    let startTime;
    if (hasOptions && options.start !== undefined) {
      startTime = convertMarkToTimestamp(options.start, prefix);
    } else if (hasOptions && options.duration !== undefined && options.end !== undefined) {
      startTime = endTime - convertMarkToTimestamp(options.duration, prefix);
    } else if (startName !== undefined) {
      startTime = convertMarkToTimestamp(startName, prefix);
    } else {
      startTime = 0;
    }
    const entry = new PerformanceMeasure(illegalConstructorKey, {
      name: measureName,
      entryType: "measure",
      startTime,
      duration: endTime - startTime,
      detail: hasOptions ? cloneDetail(options.detail) : null,
    });
    queueEntry(entry);
    return entry;
  }

  clearMeasures(measureName = undefined) {
    performanceBrand(this, "clearMeasures");
    clearEntries("measure", measureName === undefined ? undefined : converters.DOMString(measureName));
  }

  getEntries() {
    performanceBrand(this, "getEntries");
    return filterEntries(undefined, undefined);
  }

  getEntriesByType(type) {
    performanceBrand(this, "getEntriesByType");
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'getEntriesByType' on 'Performance'");
    return filterEntries(undefined, converters.DOMString(type));
  }

  getEntriesByName(name, type = undefined) {
    performanceBrand(this, "getEntriesByName");
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'getEntriesByName' on 'Performance'");
    return filterEntries(converters.DOMString(name),
      type === undefined ? undefined : converters.DOMString(type));
  }
}

webidl.configureInterface(Performance);

const performance = new Performance(illegalConstructorKey);

// --- Navigator -----------------------------------------------------------------------------------

let hardwareConcurrency = 1;
let navigatorBrand;

class Navigator {
  #brand = true;

  constructor(key = undefined) {
    if (key !== illegalConstructorKey) webidl.illegalConstructor();
  }

  static {
    navigatorBrand = (self, member) => {
      if (self === null || typeof self !== "object" || !(#brand in self)) {
        throw new TypeErrorCtor(`Failed to read the '${member}' property from 'Navigator': Illegal invocation`);
      }
    };
  }

  get userAgent() {
    navigatorBrand(this, "userAgent");
    return "isoflow";
  }

  get hardwareConcurrency() {
    navigatorBrand(this, "hardwareConcurrency");
    return hardwareConcurrency;
  }
}

webidl.configureInterface(Navigator);

const navigator = new Navigator(illegalConstructorKey);

internals.performance = ObjectFreeze({
  performance,
  /** Drop every mark and measure (e.g. between two uses of an isolate). */
  clearEntries() {
    entries = [];
  },
});

internals.navigator = ObjectFreeze({
  navigator,
  /** The host sets how many threads the script may assume (default 1, one per isolate). */
  setHardwareConcurrency(n) {
    hardwareConcurrency = n;
  },
});

internals.exposeGlobals({
  Performance, PerformanceEntry, PerformanceMark, PerformanceMeasure, PerformanceObserver,
  PerformanceObserverEntryList, Navigator,
});
// High Resolution Time, partial WindowOrWorkerGlobalScope:
// `[Replaceable] readonly attribute Performance performance;`
internals.exposeGlobalAttribute("performance", () => performance, { replaceable: true });
// WorkerGlobalScope: `readonly attribute WorkerNavigator navigator;`
internals.exposeGlobalAttribute("navigator", () => navigator);
