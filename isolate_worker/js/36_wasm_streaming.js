// WebAssembly.compileStreaming() and WebAssembly.instantiateStreaming() (the WebAssembly
// Web API, "compile a potential WebAssembly response"): over a Response or a promise of
// one, which must be `application/wasm` with an ok status; its body is read whole, then
// compiled by V8's asynchronous WebAssembly.compile(). V8 defines neither without an
// embedder's streaming callback, which mini-racer does not set.

const {
  FunctionPrototypeCall,
  ObjectDefineProperty,
  ObjectHasOwn,
  PromisePrototypeThen,
  PromiseReject,
  PromiseResolve,
  StringPrototypeToLowerCase,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const WebAssemblyNamespace = globalThis.WebAssembly;

if (typeof WebAssemblyNamespace === "object" && WebAssemblyNamespace !== null &&
    WebAssemblyNamespace.compileStreaming === undefined) {
  // Captured before any script runs: a script that replaces them changes nothing here.
  const compile = WebAssemblyNamespace.compile;
  const instantiate = WebAssemblyNamespace.instantiate;
  const arrayBuffer = internals.response.Response.prototype.arrayBuffer;

  // WebAssembly JS API: dictionary WebAssemblyCompileOptions {
  //   USVString? importedStringConstants; sequence<USVString> builtins; };
  const convertCompileOptions = webidl.createDictionaryConverter("WebAssemblyCompileOptions", [
    { key: "builtins", converter: webidl.createSequenceConverter(webidl.converters.USVString) },
    {
      key: "importedStringConstants",
      converter: (v, prefix, context) =>
        (v === null ? null : webidl.converters.USVString(v, prefix, context)),
    },
  ]);

  /**
   * The converted options as V8's WebAssembly.compile() reads them: a fresh object with
   * only the members given (null importedStringConstants is "not given"), or undefined.
   */
  const compileOptionsForV8 = (options) => {
    // The members the converted dictionary holds (a null-prototype record).
    const hasBuiltins = ObjectHasOwn(options, "builtins");
    const constants = ObjectHasOwn(options, "importedStringConstants")
      ? options.importedStringConstants : null;
    const hasConstants = constants !== null;
    if (!hasBuiltins && !hasConstants) return undefined;
    const out = { __proto__: null };
    if (hasBuiltins) out.builtins = options.builtins;
    if (hasConstants) out.importedStringConstants = constants;
    return out;
  };

  /**
   * The WebAssembly Web API's "compile a potential WebAssembly response" with `source`
   * already converted to a promise (Web IDL Promise<Response>) and `options` to a
   * WebAssemblyCompileOptions.
   */
  const compilePotentialWebAssemblyResponse = (source, options, prefix) =>
    PromisePrototypeThen(source, (response) => {
      if (!internals.response.isResponse(response)) {
        throw new TypeErrorCtor(`${prefix}: An argument must be provided, which must be a ` +
          "Response or Promise<Response> object");
      }
      const mimeType = internals.headers.get(internals.response.headers(response), "content-type");
      // Header values are stored without leading or trailing HTTP whitespace.
      if (mimeType === null || StringPrototypeToLowerCase(mimeType) !== "application/wasm") {
        throw new TypeErrorCtor(`${prefix}: Incorrect response MIME type. Expected 'application/wasm'.`);
      }
      // "If response is not CORS-same-origin": an opaque (or opaque-redirect) response.
      const type = internals.response.type(response);
      if (type !== "basic" && type !== "cors" && type !== "default") {
        throw new TypeErrorCtor(`${prefix}: The response is not CORS-same-origin.`);
      }
      const status = internals.response.status(response);
      if (status < 200 || status > 299) {
        throw new TypeErrorCtor(`${prefix}: HTTP status code is not ok`);
      }
      const v8Options = compileOptionsForV8(options);
      return PromisePrototypeThen(FunctionPrototypeCall(arrayBuffer, response),
        (bytes) => (v8Options === undefined ? compile(bytes) : compile(bytes, v8Options)));
    });

  // Web IDL: the arguments are converted before the operation's steps run, and a
  // conversion that throws makes an operation returning a promise return a rejected one.
  const operations = {
    compileStreaming(source, options = undefined) {
      const prefix = "Failed to execute 'compileStreaming' on 'WebAssembly'";
      let promise;
      let converted;
      try {
        promise = PromiseResolve(source);
        converted = convertCompileOptions(options, prefix, "Argument 2");
      } catch (e) {
        return PromiseReject(e);
      }
      return compilePotentialWebAssemblyResponse(promise, converted, prefix);
    },
    instantiateStreaming(source, importObject = undefined, options = undefined) {
      const prefix = "Failed to execute 'instantiateStreaming' on 'WebAssembly'";
      let promise;
      let converted;
      try {
        promise = PromiseResolve(source);
        // optional object importObject
        if (importObject !== undefined) {
          importObject = webidl.converters.object(importObject, prefix, "Argument 2");
        }
        converted = convertCompileOptions(options, prefix, "Argument 3");
      } catch (e) {
        return PromiseReject(e);
      }
      // WebAssembly JS API, "instantiate a promise of a module".
      return PromisePrototypeThen(
        compilePotentialWebAssemblyResponse(promise, converted, prefix),
        (module) => PromisePrototypeThen(instantiate(module, importObject),
          (instance) => ({ module, instance })),
      );
    },
  };
  const names = ["compileStreaming", "instantiateStreaming"];
  for (let i = 0; i < names.length; i++) {
    ObjectDefineProperty(WebAssemblyNamespace, names[i], {
      value: operations[names[i]], writable: true, enumerable: true, configurable: true,
    });
  }
}
