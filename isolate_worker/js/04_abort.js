// AbortController and AbortSignal (DOM standard §3.1, §3.2).
//
// Dependent signals (AbortSignal.any) follow only non-dependent "source" signals, so a
// chain of any() calls stays flat. A source holds its dependents weakly, except those
// that have something to do when aborted (an abort listener or algorithm): those it holds
// strongly until they abort, so `AbortSignal.any([s]).onabort = f` works without the
// script keeping the signal while a long-lived source does not accumulate dead ones.
// Exports: internals.abort.

const {
  MathMax,
  ObjectFreeze,
  SafeMap,
  SafeSet,
  SafeWeakRef,
  Symbol: SymbolCtor,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;
const { EventTarget, defineEventHandler, createTrustedEvent, dispatch } = internals.events;
const { DOMException } = internals;

const illegalConstructorKey = SymbolCtor("AbortSignal");

let getSignalState;

function newSignalState() {
  return {
    reason: undefined, // aborted <=> reason !== undefined
    algorithms: new SafeMap(), // handle -> algorithm, in insertion order
    nextHandle: 1,
    dependent: false,
    sourceSignals: new SafeSet(), // of AbortSignal (dependent signals only)
    dependentSignals: new SafeSet(), // of SafeWeakRef<AbortSignal>
    liveDependents: 0, // size of dependentSignals at the last prune
    retained: new SafeSet(), // dependents held strongly (they have work to do on abort)
  };
}

class AbortSignal extends EventTarget {
  #state;

  constructor(key = undefined) {
    if (key !== illegalConstructorKey) webidl.illegalConstructor();
    super();
    this.#state = newSignalState();
  }

  static {
    getSignalState = (signal) =>
      signal !== null && typeof signal === "object" && #state in signal ? signal.#state : null;
  }

  static abort(reason = undefined) {
    const signal = createAbortSignal();
    getSignalState(signal).reason = reason === undefined ? defaultAbortReason() : reason;
    return signal;
  }

  static timeout(milliseconds) {
    const prefix = "Failed to execute 'timeout' on 'AbortSignal'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const ms = converters["unsigned long long"](milliseconds, prefix, "Argument 1", {
      enforceRange: true,
    });
    const signal = createAbortSignal();
    internals.timers.setTimeout(() => {
      signalAbort(signal, new DOMException("The operation timed out.", "TimeoutError"));
    }, ms);
    return signal;
  }

  static any(signals) {
    const prefix = "Failed to execute 'any' on 'AbortSignal'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const list = convertSignalSequence(signals, prefix, "Argument 1");
    return createDependentSignal(list);
  }

  get aborted() {
    return getState(this, "aborted").reason !== undefined;
  }

  get reason() {
    return getState(this, "reason").reason;
  }

  throwIfAborted() {
    const reason = getState(this, "throwIfAborted").reason;
    if (reason !== undefined) throw reason;
  }
}

function getState(signal, member) {
  const state = getSignalState(signal);
  if (state === null) {
    throw new TypeErrorCtor(
      `Failed to read the '${member}' property from 'AbortSignal': Illegal invocation`,
    );
  }
  return state;
}

webidl.configureInterface(AbortSignal);
defineEventHandler(AbortSignal.prototype, "abort");

const isAbortSignal = (value) => getSignalState(value) !== null;
const convertAbortSignal = webidl.createInterfaceConverter("AbortSignal", isAbortSignal);
const convertSignalSequence = webidl.createSequenceConverter(convertAbortSignal);

function defaultAbortReason() {
  return new DOMException("signal is aborted without reason", "AbortError");
}

function createAbortSignal() {
  const signal = new AbortSignal(illegalConstructorKey);
  internals.events.onListenersChanged(signal, (type) => {
    if (type === "abort") updateRetention(signal);
  });
  return signal;
}

// --- Abort algorithms and "signal abort" -------------------------------------------------

/** DOM "add" an abort algorithm; returns a handle for removeAlgorithm. */
function addAlgorithm(signal, algorithm) {
  const state = getSignalState(signal);
  if (state.reason !== undefined) return 0;
  const handle = state.nextHandle++;
  state.algorithms.set(handle, algorithm);
  if (state.algorithms.size === 1) updateRetention(signal);
  return handle;
}

/** DOM "remove" an abort algorithm. */
function removeAlgorithm(signal, handle) {
  const state = getSignalState(signal);
  if (state.algorithms.delete(handle) && state.algorithms.size === 0) updateRetention(signal);
}

/** DOM "signal abort". */
function signalAbort(signal, reason) {
  const state = getSignalState(signal);
  if (state.reason !== undefined) return;
  state.reason = reason === undefined ? defaultAbortReason() : reason;
  const dependentsToAbort = [];
  for (const ref of state.dependentSignals) {
    const dependent = ref.deref();
    if (dependent === undefined) continue;
    const depState = getSignalState(dependent);
    if (depState.reason === undefined) {
      depState.reason = state.reason;
      dependentsToAbort[dependentsToAbort.length] = dependent;
    }
  }
  // Aborted signals need no link to anything any more.
  state.dependentSignals.clear();
  state.retained.clear();
  runAbortSteps(signal, state);
  for (let i = 0; i < dependentsToAbort.length; i++) {
    const dependent = dependentsToAbort[i];
    releaseFromSources(dependent);
    runAbortSteps(dependent, getSignalState(dependent));
  }
}

/** DOM "run the abort steps": the algorithms, then a trusted `abort` event. */
function runAbortSteps(signal, state) {
  const algorithms = state.algorithms;
  state.algorithms = new SafeMap();
  for (const algorithm of algorithms.values()) {
    try {
      algorithm();
    } catch (e) {
      internals.events.reportException(e);
    }
  }
  dispatch(signal, createTrustedEvent("abort"));
}

// --- Dependent signals -------------------------------------------------------------------

/** DOM "create a dependent abort signal" from a list of AbortSignals. */
function createDependentSignal(signals) {
  const result = createAbortSignal();
  const resultState = getSignalState(result);
  for (let i = 0; i < signals.length; i++) {
    const reason = getSignalState(signals[i]).reason;
    if (reason !== undefined) {
      resultState.reason = reason;
      return result;
    }
  }
  resultState.dependent = true;
  for (let i = 0; i < signals.length; i++) {
    const state = getSignalState(signals[i]);
    if (!state.dependent) {
      linkSource(result, resultState, signals[i]);
    } else {
      for (const source of state.sourceSignals) linkSource(result, resultState, source);
    }
  }
  return result;
}

function linkSource(dependent, dependentState, source) {
  if (dependentState.sourceSignals.has(source)) return;
  dependentState.sourceSignals.add(source);
  const sourceState = getSignalState(source);
  sourceState.dependentSignals.add(new SafeWeakRef(dependent));
  pruneDeadDependents(sourceState);
}

/** Drop the weak references whose signal was collected, when the set has doubled. */
function pruneDeadDependents(state) {
  const set = state.dependentSignals;
  if (set.size < MathMax(32, 2 * state.liveDependents)) return;
  for (const ref of set) {
    if (ref.deref() === undefined) set.delete(ref);
  }
  state.liveDependents = set.size;
}

/** A dependent signal is held strongly by its sources while it has work to do on abort. */
function updateRetention(signal) {
  const state = getSignalState(signal);
  if (!state.dependent || state.reason !== undefined) return;
  const needed = state.algorithms.size > 0 || internals.events.hasListeners(signal, "abort");
  for (const source of state.sourceSignals) {
    const retained = getSignalState(source).retained;
    if (needed) retained.add(signal);
    else retained.delete(signal);
  }
}

function releaseFromSources(signal) {
  const state = getSignalState(signal);
  for (const source of state.sourceSignals) getSignalState(source).retained.delete(signal);
}

// --- AbortController ---------------------------------------------------------------------

class AbortController {
  #signal;

  constructor() {
    this.#signal = createAbortSignal();
  }

  static #check(self, member) {
    if (self === null || typeof self !== "object" || !(#signal in self)) {
      throw new TypeErrorCtor(
        `Failed to execute '${member}' on 'AbortController': Illegal invocation`,
      );
    }
    return self.#signal;
  }

  get signal() {
    return AbortController.#check(this, "signal");
  }

  abort(reason = undefined) {
    signalAbort(AbortController.#check(this, "abort"), reason);
  }
}

webidl.configureInterface(AbortController);

internals.abort = ObjectFreeze({
  AbortSignal,
  AbortController,
  isAbortSignal,
  /** The IDL conversion to AbortSignal (a TypeError for anything else). */
  convertAbortSignal,
  isAborted: (signal) => getSignalState(signal).reason !== undefined,
  getReason: (signal) => getSignalState(signal).reason,
  createAbortSignal,
  addAlgorithm,
  removeAlgorithm,
  signalAbort,
  createDependentSignal,
});

internals.exposeGlobals({ AbortController, AbortSignal });
