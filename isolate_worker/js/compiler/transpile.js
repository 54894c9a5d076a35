// Runs in the bundler's throwaway isolate, next to TypeScript's compiler (not in workers).
// __isoflowTranspile({ source, fileName, lowerAsync }) -> JSON { code, map, diagnostics,
// imports, isModule, requires, tolerant }. lowerAsync: async functions become generators
// driven by TypeScript's __awaiter (for node:async_hooks, see prelude.js).
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
    transformers: {
      before: [hoistImports, importMeta],
      after: [dynamicImports, ...(arg.lowerAsync ? [ts.transformES2018, ts.transformES2017] : [])],
    },
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
  // The imports are read from the CommonJS output, where every form (`export * as ns from`,
  // `import()`, `require()`) is a require() call and type-only imports are gone.
  // (import() calls are require.dynamic calls there: read as the require() calls they are.)
  const output = out.outputText.replaceAll("require.dynamic(", "require(");
  const imports = ts.preProcessFile(output, true, true).importedFiles
    .map((f) => f.fileName);
  const sf = ts.createSourceFile(arg.fileName, arg.source, ts.ScriptTarget.ES2022, false);
  return JSON.stringify({
    ...requireCalls(arg.source, output),
    code: out.outputText,
    map: out.sourceMapText || "",
    diagnostics,
    imports,
    isModule: ts.isExternalModule(sf),
    ...topLevelAwait(sf),
  });
}

// Whether the module's own top level awaits (`await`, `for await`, `await using`), and the
// specifiers of its import declarations (and `export ... from`), in order: an ES module
// with top-level await, or importing one that has it, runs as an async function after
// those (prelude.js __evaluate).
function topLevelAwait(sf) {
  let awaits = false;
  const visit = (node) => {
    if (awaits) return;
    if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) {
      // Its body is not the top level; its computed name and decorators are.
      if (node.name !== undefined && ts.isComputedPropertyName(node.name)) visit(node.name);
      if (node.modifiers !== undefined) node.modifiers.forEach(visit);
      return;
    }
    if (ts.isAwaitExpression(node) ||
        (ts.isForOfStatement(node) && node.awaitModifier !== undefined) ||
        (ts.isVariableDeclarationList(node) &&
          (node.flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing)) {
      awaits = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const staticImports = [];
  for (const s of sf.statements) {
    const typeOnly = ts.isImportDeclaration(s) ? s.importClause?.isTypeOnly : s.isTypeOnly;
    if (isImportRequest(s) && ts.isStringLiteral(s.moduleSpecifier) && !typeOnly) {
      staticImports.push(s.moduleSpecifier.text);
    }
  }
  return { topLevelAwait: awaits, staticImports };
}

// The require() calls of the source ({ requires }: resolved as require() is, see the
// bundler's REQUIRE_CONDITIONS) unless also imported, and those of the output every call of
// which sits in a `try` block ({ tolerant }): as esbuild does, one that cannot be resolved
// is left to fail when called (`try { require("optional") } catch {}`).
function requireCalls(source, code) {
  const fromSource = scanRequires(source);
  const imported = ts.preProcessFile(source, true, false).importedFiles.map((f) => f.fileName);
  const requires = [...fromSource.inTry, ...fromSource.outside]
    .filter((spec) => !imported.includes(spec));
  const fromOutput = scanRequires(code);
  const tolerant = [...fromOutput.inTry].filter((spec) => !fromOutput.outside.has(spec));
  return { requires, tolerant };
}

function scanRequires(code) {
  const sf = ts.createSourceFile("x.ts", code, ts.ScriptTarget.ES2022, true);
  const inTry = new Set();
  const outside = new Set();
  const visit = (node, guarded) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) &&
        node.expression.text === "require" && node.arguments.length === 1 &&
        ts.isStringLiteralLike(node.arguments[0])) {
      (guarded ? inTry : outside).add(node.arguments[0].text);
    }
    if (ts.isTryStatement(node)) {
      visit(node.tryBlock, true);
      if (node.catchClause) visit(node.catchClause, guarded);
      if (node.finallyBlock) visit(node.finallyBlock, guarded);
      return;
    }
    ts.forEachChild(node, (child) => visit(child, guarded));
  };
  visit(sf, false);
  return { inTry, outside };
}

// `import.meta` has no place in CommonJS output (V8 refuses it there): it becomes the module
// function's parameter of that name, the object the bundle's loader makes for the module
// (prelude.js: { url, main }), as esbuild's CommonJS output does with an object of its own.
function importMeta(context) {
  const visit = (node) => {
    if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      return context.factory.createIdentifier("__isoflow_import_meta");
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (sf) => ts.visitNode(sf, visit);
}

// TypeScript's CommonJS output for import(): `.then(() => __importStar(require("x")))`, and
// `.then((s) => __importStar(require(s)))` for a computed specifier. Its require becomes
// require.dynamic, which runs a module with top-level await and waits for it (prelude.js).
function dynamicImports(context) {
  const f = context.factory;
  const named = (node, name) => ts.isIdentifier(node) && ts.idText(node) === name;
  const visit = (node) => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) &&
        named(node.expression.name, "then") && node.arguments.length === 1 &&
        ts.isArrowFunction(node.arguments[0])) {
      const arrow = node.arguments[0];
      const star = arrow.body;
      if (ts.isCallExpression(star) && named(star.expression, "__importStar") &&
          star.arguments.length === 1 && ts.isCallExpression(star.arguments[0]) &&
          named(star.arguments[0].expression, "require")) {
        const call = star.arguments[0];
        const dynamic = f.updateCallExpression(
          call, f.createPropertyAccessExpression(f.createIdentifier("require"), "dynamic"),
          undefined, call.arguments);
        const body = f.updateCallExpression(star, star.expression, undefined, [dynamic]);
        return f.updateCallExpression(node, ts.visitNode(node.expression, visit), undefined, [
          f.updateArrowFunction(arrow, arrow.modifiers, arrow.typeParameters, arrow.parameters,
                                arrow.type, arrow.equalsGreaterThanToken, body)]);
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (sf) => ts.visitNode(sf, visit);
}

/** An import declaration, or an `export ... from`: a statement that loads a module. */
function isImportRequest(s) {
  return ts.isImportDeclaration(s) || (ts.isExportDeclaration(s) && s.moduleSpecifier !== undefined);
}

// ES modules load their imports before their body runs wherever the import statements
// stand; TypeScript's CommonJS output require()s them where they stand. So the import
// declarations (and `export ... from`) move to the top first, in their order, as esbuild
// does: `f(); import { f } from "./f"` works.
function hoistImports(context) {
  return (sf) => {
    if (!ts.isExternalModule(sf)) return sf;
    const requests = sf.statements.filter(isImportRequest);
    if (requests.length === 0) return sf;
    const rest = sf.statements.filter((s) => !isImportRequest(s));
    return context.factory.updateSourceFile(sf, [...requests, ...rest]);
  };
}
