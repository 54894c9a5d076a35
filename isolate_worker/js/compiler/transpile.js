// Runs in the bundler's throwaway isolate, next to TypeScript's compiler (not in workers).
// __isoflowTranspile({ source, fileName }) -> JSON { code, map, diagnostics, imports, isModule }
function __isoflowTranspile(arg) {
  const compilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    sourceMap: true,
    esModuleInterop: true,
    allowJs: true,
  };
  if (/\.tsx$/.test(arg.fileName)) compilerOptions.jsx = ts.JsxEmit.React;
  const out = ts.transpileModule(arg.source, {
    fileName: arg.fileName,
    reportDiagnostics: true,
    compilerOptions,
  });
  const diagnostics = (out.diagnostics || [])
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      let line = 0;
      if (d.file && d.start !== undefined) {
        line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
      }
      return { line, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") };
    });
  const imports = ts.preProcessFile(arg.source, true, true).importedFiles.map((f) => f.fileName);
  const sf = ts.createSourceFile(arg.fileName, arg.source, ts.ScriptTarget.ES2022, false);
  return JSON.stringify({
    code: out.outputText,
    map: out.sourceMapText || "",
    diagnostics,
    imports,
    isModule: ts.isExternalModule(sf),
  });
}
