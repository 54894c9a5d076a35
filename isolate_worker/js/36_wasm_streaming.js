// WebAssembly.compileStreaming() and WebAssembly.instantiateStreaming() (the WebAssembly
// Web API, "compile a potential WebAssembly response"): over a Response or a promise of
// one, which must be `application/wasm` with an ok status; its body is read whole, then
// compiled by V8's asynchronous WebAssembly.compile(). V8 defines neither without an
// embedder's streaming callback, which mini-racer does not set.

const {
  FunctionPrototypeCall,
  ObjectDefineProperty,
  PromisePrototypeThen,
  PromiseResolve,
  StringPrototypeToLowerCase,
  TypeError: TypeErrorCtor,
} = primordials;

const WebAssemblyNamespace = globalThis.WebAssembly;

if (typeof WebAssemblyNamespace === "object" && WebAssemblyNamespace !== null &&
    WebAssemblyNamespace.compileStreaming === undefined) {
  // Captured before any script runs: a script that replaces them changes nothing here.
  const compile = WebAssemblyNamespace.compile;
  const instantiate = WebAssemblyNamespace.instantiate;
  const arrayBuffer = internals.response.Response.prototype.arrayBuffer;

  /** The WebAssembly Web API's "compile a potential WebAssembly response". */
  const compilePotentialWebAssemblyResponse = (source, method) => {
    const prefix = `Failed to execute '${method}' on 'WebAssembly'`;
    return PromisePrototypeThen(PromiseResolve(source), (response) => {
      if (!internals.response.isResponse(response)) {
        throw new TypeErrorCtor(`${prefix}: An argument must be provided, which must be a ` +
          "Response or Promise<Response> object");
      }
      const mimeType = internals.headers.get(internals.response.headers(response), "content-type");
      // Header values are stored without leading or trailing HTTP whitespace.
      if (mimeType === null || StringPrototypeToLowerCase(mimeType) !== "application/wasm") {
        throw new TypeErrorCtor(`${prefix}: Incorrect response MIME type. Expected 'application/wasm'.`);
      }
      const status = internals.response.status(response);
      if (status < 200 || status > 299) {
        throw new TypeErrorCtor(`${prefix}: HTTP status code is not ok`);
      }
      return PromisePrototypeThen(FunctionPrototypeCall(arrayBuffer, response),
        (bytes) => compile(bytes));
    });
  };

  const operations = {
    compileStreaming(source) {
      return compilePotentialWebAssemblyResponse(source, "compileStreaming");
    },
    instantiateStreaming(source, importObject = undefined) {
      return PromisePrototypeThen(
        compilePotentialWebAssemblyResponse(source, "instantiateStreaming"),
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
