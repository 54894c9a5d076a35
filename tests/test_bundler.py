"""The bundler in-process: imports confined to the project root, Node's module resolution.

Each project is written under ``tmp_path`` by the test; bundles are evaluated in a bare V8
context whose ``__isoflow_register_module`` evaluates the modules and keeps the entry's
exports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isoflow.isolate_worker import bundler, script
from isoflow.isolate_worker.v8 import V8Context
from tests.conftest import write_files

SECRET = "TOPSECRET-7f3a"


def evaluate(entry: Path, root: Path | None = None, cache_dir: Path | None = None) -> object:
    """Bundle ``entry`` and return ``JSON`` of its default export's ``value``."""
    bundle = bundler.build(entry, root=root, cache_dir=cache_dir)
    ctx = V8Context()
    try:
        ctx.eval("globalThis.__isoflow_register_module = (f) => { globalThis.__entry = f(); };")
        ctx.eval(bundle.code)
        return json.loads(ctx.eval("JSON.stringify(__entry.default.value)"))
    finally:
        ctx.close()


def refused(entry: Path, root: Path | None = None) -> str:
    with pytest.raises(bundler.BundleError) as info:
        bundler.build(entry, root=root)
    message = str(info.value)
    assert "\n" not in message and SECRET not in message
    return message


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A project folder ``app`` next to files it must not read."""
    write_files(tmp_path, {
        "secret.json": json.dumps({"token": SECRET}),
        ".env": f"TOKEN={SECRET}\n",
        "bad.js": f"{SECRET} is not JavaScript {{\n",
        "node_modules/evil/index.js": f"export default '{SECRET}';\n",
        "elsewhere/index.js": f"export default '{SECRET}';\n",
    })
    (tmp_path / "app").mkdir()
    return tmp_path / "app"


@pytest.mark.parametrize("source", [
    "import s from '../secret.json'; export default { value: s };",
    "import '../.env'; export default { value: 1 };",
    "import x from '../bad.js'; export default { value: x };",
    "import s from '__ABS__'; export default { value: s };",
    "const s = require('../secret.json'); export default { value: s };",
    "export default { value: import('../secret.json') };",
    "import s from './sub/../../secret.json'; export default { value: s };",
])
def test_imports_outside_the_project_root_fail_with_one_line(outside, source):
    source = source.replace("__ABS__", str(outside.parent / "secret.json"))
    (outside / "index.mjs").write_text(source)
    message = refused(outside / "index.mjs")
    assert f"from {outside / 'index.mjs'} is outside the project root {outside}" in message
    assert message.startswith("import '")


@pytest.mark.parametrize("specifier", ["./a\\u0000b", "./" + "a" * 5000, "./x/" * 2000])
def test_unusable_specifiers_are_a_clear_error(outside, specifier):
    (outside / "index.mjs").write_text(f"import x from '{specifier}'; export default {{ x }};")
    message = refused(outside / "index.mjs")
    assert message.startswith(f"{outside / 'index.mjs'}: cannot ")


def test_a_symlink_inside_the_root_pointing_outside_is_refused(outside):
    (outside / "data.json").symlink_to(outside.parent / "secret.json")
    (outside / "index.mjs").write_text("import s from './data.json'; export default { value: s };")
    message = refused(outside / "index.mjs")
    assert message.endswith("(through a symlink): imports are confined to it")


def test_node_modules_outside_the_root_are_not_searched(outside):
    (outside / "index.mjs").write_text("import e from 'evil'; export default { value: e };")
    assert "cannot find package 'evil'" in refused(outside / "index.mjs")


def test_a_linked_package_outside_the_root_is_refused(outside):
    (outside / "node_modules").mkdir()
    (outside / "node_modules" / "evil").symlink_to(outside.parent / "node_modules" / "evil")
    (outside / "index.mjs").write_text("import e from 'evil'; export default { value: e };")
    assert "(through a symlink)" in refused(outside / "index.mjs")


def test_a_package_entry_outside_the_root_is_refused(outside):
    write_files(outside, {
        "node_modules/p/package.json": json.dumps({"main": "../../../secret.json"}),
        "node_modules/q/package.json": json.dumps({"exports": "./../../../secret.json"}),
        "index.mjs": "import p from 'p'; export default { value: p };",
        "index2.mjs": "import q from 'q'; export default { value: q };",
    })
    assert "is outside the project root" in refused(outside / "index.mjs")
    assert "is outside the project root" in refused(outside / "index2.mjs")


def test_the_configured_root_widens_and_is_validated(outside):
    (outside / "index.mjs").write_text("import s from '../secret.json'; export default { value: s };")
    assert evaluate(outside / "index.mjs", root=outside.parent) == {"token": SECRET}
    with pytest.raises(bundler.BundleError, match="does not contain the script"):
        bundler.build(outside / "index.mjs", root=outside.parent / "elsewhere")


def test_the_default_root_is_the_nearest_folder_with_package_json(tmp_path):
    write_files(tmp_path, {"p/package.json": "{}", "p/src/deep/index.ts": ""})
    assert bundler.project_root(tmp_path / "p/src/deep/index.ts") == tmp_path / "p"
    assert bundler.project_root(tmp_path / "p/package.json") == tmp_path / "p"
    write_files(tmp_path, {"q/src/index.ts": ""})
    assert bundler.project_root(tmp_path / "q/src/index.ts") == tmp_path / "q/src"


# -- resolution as Node and esbuild do it, inside the root ------------------------------------

PACKAGES = {
    "package.json": json.dumps({"name": "app", "imports": {
        "#internal": "./src/internal.mts", "#lib/*": "./src/lib/*.js", "#dep": "cond"}}),
    "node_modules/cond/package.json": json.dumps({"name": "cond", "exports": {
        ".": {"types": "./x.d.ts", "require": "./cjs.cjs", "worker": "./worker.mjs",
              "import": "./esm.mjs", "default": "./default.js"},
        "./features/*": {"import": "./feat/*.mjs"},
        "./features/special": "./feat/special-one.mjs",
        "./package.json": "./package.json",
    }}),
    "node_modules/cond/worker.mjs": "export default 'worker';\n",
    "node_modules/cond/feat/a.mjs": "export const name = 'feature-a';\n",
    "node_modules/cond/feat/special-one.mjs": "export const name = 'special';\n",
    "node_modules/legacy/package.json": json.dumps({"main": "lib/main"}),
    "node_modules/legacy/lib/main.cjs": "exports.kind = 'cjs-main';\n",
    "node_modules/esm-first/package.json": json.dumps({"module": "m.mjs", "main": "c.cjs"}),
    "node_modules/esm-first/m.mjs": "export const kind = 'module-field';\n",
    "node_modules/@scope/pkg/index.js": "module.exports = 'scoped-index';\n",
    "src/internal.mts": "export const internal: string = 'internal';\n",
    "src/lib/util.js": "export const util = 'util';\n",
    "src/dir/index.ts": "export const dir = 'dir-index';\n",
    "src/b.mjs": "export const one = 1;\nexport default 'b-default';\n",
    "src/reexport.ts": "export * as ns from './b.mjs';\n",
    "src/typed.ts": "export const typed = 'ts-for-js';\n",
    "src/data.json": '{"n": 3}',
    "src/note.txt": "a <b>note</b>\n",
    "src/index.ts": """
        import { ns } from './reexport';
        import cond from 'cond';
        import { name as feature } from 'cond/features/a';
        import { name as special } from 'cond/features/special';
        import condPkg from 'cond/package.json';
        import { kind } from 'legacy';
        import { kind as esmKind } from 'esm-first';
        import scoped from '@scope/pkg';
        import { internal } from '#internal';
        import { util } from '#lib/util';
        import dep from '#dep';
        import { dir } from './dir';
        import { typed } from './typed.js';
        import data from './data.json';
        import note from './note.txt';
        const lazy = () => import('./b.mjs');
        export default { value: {
          ns: [ns.one, ns.default], cond, feature, special, condName: condPkg.name, kind,
          esmKind, scoped, internal, util, dep, dir, typed, n: data.n, note,
          lazy: typeof lazy,
        } };
    """,
}


def test_node_resolution_inside_the_root(tmp_path):
    write_files(tmp_path, PACKAGES)
    assert evaluate(tmp_path / "src/index.ts") == {
        "ns": [1, "b-default"], "cond": "worker", "feature": "feature-a", "special": "special",
        "condName": "cond", "kind": "cjs-main", "esmKind": "module-field",
        "scoped": "scoped-index", "internal": "internal", "util": "util", "dep": "worker",
        "dir": "dir-index", "typed": "ts-for-js", "n": 3, "note": "a <b>note</b>\n",
        "lazy": "function",
    }


def test_cloudflare_workers_is_provided_and_other_cloudflare_modules_are_named(tmp_path):
    write_files(tmp_path, {
        "main.mjs": "import { WorkerEntrypoint, RpcTarget } from 'cloudflare:workers';\n"
                    "export default { value: [typeof WorkerEntrypoint, typeof RpcTarget] };\n",
        "sockets.mjs": "import { connect } from 'cloudflare:sockets';\n"
                        "export default { value: typeof connect };\n",
        "email.mjs": "import { EmailMessage } from 'cloudflare:email';\n",
    })
    assert evaluate(tmp_path / "main.mjs") == ["function", "function"]
    assert evaluate(tmp_path / "sockets.mjs") == "function"
    assert refused(tmp_path / "email.mjs").endswith(
        "module 'cloudflare:email' is not available in isoflow")


def test_files_of_other_types_are_not_run_as_javascript(tmp_path):
    write_files(tmp_path, {".env": f"TOKEN={SECRET}\n", "main.mjs": "import './.env';\n"})
    message = refused(tmp_path / "main.mjs")
    assert message == f"{tmp_path / '.env'}: cannot import an extensionless file: modules " \
        "are .js .mjs .cjs .ts .mts .cts .tsx or .json, text is .txt or .html"


def test_an_imports_target_naming_itself_is_an_error(tmp_path):
    write_files(tmp_path, {"package.json": json.dumps({"imports": {"#a": "#a"}}),
                           "main.mjs": "import a from '#a';\nexport default { value: a };\n"})
    assert "cannot find package '#a'" in refused(tmp_path / "main.mjs")


@pytest.mark.parametrize("main", [".", "./", "../loop", "./again"])
def test_a_main_field_that_leads_back_to_its_folder_is_passed_over(tmp_path, main):
    # Node: the main file, else the main's index, else the folder's index (never a loop).
    write_files(tmp_path, {
        "node_modules/loop/package.json": json.dumps({"main": main}),
        "node_modules/loop/again/package.json": json.dumps({"main": ".."}),
        "main.mjs": "import x from 'loop';\nexport default { value: x };\n",
    })
    message = refused(tmp_path / "main.mjs")
    assert message.startswith(f"{tmp_path / 'main.mjs'}: cannot find module 'loop'")
    (tmp_path / "node_modules/loop/index.js").write_text("export default 'index';\n")
    assert evaluate(tmp_path / "main.mjs") == "index"


def test_the_cache_builds_again_when_what_an_import_names_changes(tmp_path):
    # Not only an edited module: a package.json's main, a file added where resolution looks
    # first, a symlink moved (each served the bundle built before, from the cache).
    app, cache = tmp_path / "app", tmp_path / "cache"
    write_files(app, {
        "package.json": "{}",
        "node_modules/lib/package.json": json.dumps({"main": "a.js"}),
        "node_modules/lib/a.js": "export default 'A';\n",
        "node_modules/lib/b.js": "export default 'B';\n",
        "util.js": "export default 'js';\n",
        "one.js": "export default 'one';\n", "two.js": "export default 'two';\n",
        "main.mjs": "import lib from 'lib'; import util from './util'; import link from "
                    "'./link.js';\nexport default { value: [lib, util, link] };\n",
    })
    (app / "link.js").symlink_to(app / "one.js")

    def value() -> object:
        return evaluate(app / "main.mjs", cache_dir=cache)

    assert value() == ["A", "js", "one"]
    assert value() == ["A", "js", "one"]  # from the cache
    (app / "node_modules/lib/package.json").write_text(json.dumps({"main": "b.js"}))
    assert value() == ["B", "js", "one"]
    (app / "util.mjs").write_text("export default 'mjs';\n")  # tried before .js? no: after
    (app / "util").mkdir()
    (app / "util/index.js").write_text("export default 'dir';\n")
    assert value() == ["B", "js", "one"]  # "./util" is still util.js
    (app / "util.js").unlink()
    assert value() == ["B", "mjs", "one"]
    (app / "link.js").unlink()
    (app / "link.js").symlink_to(app / "two.js")
    assert value() == ["B", "mjs", "two"]


def test_an_unexported_subpath_is_a_clear_error(tmp_path):
    write_files(tmp_path, {**PACKAGES, "src/index.ts": "import x from 'cond/private';\n"
                           "export default { value: x };\n"})
    assert "package 'cond' does not export './private'" in refused(tmp_path / "src/index.ts")


def test_every_form_of_import_and_export_is_bundled(tmp_path):
    write_files(tmp_path, {
        "m.mjs": "export const a = 'a';\nexport default 'def';\nexport function f() "
                 "{ return 'f'; }\nglobalThis.__order = (globalThis.__order || '') + 'm';\n",
        "side.mjs": "globalThis.__order = (globalThis.__order || '') + 's';\n",
        "re.mjs": "export * from './m.mjs';\nexport * as star from './m.mjs';\n"
                  "export { default } from './m.mjs';\nexport { a as renamed, f } from './m.mjs';\n"
                  "export { default as def2 } from './m.mjs';\n",
        "cjs.cjs": "module.exports = { c: 'cjs' };\n",
        "main.mjs": """
            import './side.mjs';
            import def, * as ns from './m.mjs';
            import def3, { a, f as g } from './m.mjs';
            import { default as d2 } from './m.mjs';
            import re, { renamed, star, def2, f } from './re.mjs';
            import * as reAll from './re.mjs';
            import cjs, { c } from './cjs.cjs';
            const req = require('./cjs.cjs');
            export default { value: {
              def, nsA: ns.a, def3, a, g: g(), d2, re, renamed, starA: star.a, def2, f: f(),
              reAllA: reAll.a, cjs: cjs.c, c, req: req.c, order: globalThis.__order,
              lazy: typeof import('./m.mjs').then,
            } };
        """,
    })
    assert evaluate(tmp_path / "main.mjs") == {
        "def": "def", "nsA": "a", "def3": "def", "a": "a", "g": "f", "d2": "def", "re": "def",
        "renamed": "a", "starA": "a", "def2": "def", "f": "f", "reAllA": "a", "cjs": "cjs",
        "c": "cjs", "req": "cjs", "order": "sm", "lazy": "function",
    }


# -- CommonJS interop, as esbuild does it -------------------------------------------------------

COMMONJS = {
    "package.json": json.dumps({"name": "app"}),
    "node_modules/fn/package.json": json.dumps({"main": "./lib/index.js"}),
    "node_modules/fn/lib/index.js": "module.exports = function fn() { return 'fn'; };\n"
                                    "module.exports.extra = 'extra';\n",
    # what tsc and Babel publish: __esModule plus exports.default
    "node_modules/flagged/index.js": "'use strict';\n"
        "Object.defineProperty(exports, '__esModule', { value: true });\n"
        "exports.default = 'flagged-default';\nexports.named = 'flagged-named';\n"
        "try { exports.optional = require('not-installed'); }\n"
        "catch (e) { exports.optional = e.code; }\n",
    "node_modules/dual/package.json": json.dumps({"exports": {".": {
        "types": "./index.d.ts", "import": "./esm.mjs", "require": "./cjs.cjs"}}}),
    "node_modules/dual/esm.mjs": "export default 'dual-esm';\n",
    "node_modules/dual/cjs.cjs": "module.exports = 'dual-cjs';\n",
    "node_modules/both/package.json": json.dumps({"module": "m.mjs", "main": "c.js"}),
    "node_modules/both/m.mjs": "export const kind = 'module';\n",
    "node_modules/both/c.js": "exports.kind = 'main';\n",
    "src/esm.mjs": "export default 'esm-default';\nexport const n = 1;\n",
    "src/data.json": '{"k": [1, 2]}',
    "src/a.cjs": "exports.early = 'a-early';\nconst b = require('./b.cjs');\n"
                 "exports.seenByB = b.seen;\nexports.late = 'a-late';\n",
    "src/b.cjs": "const a = require('./a.cjs');\n"
                 "exports.seen = JSON.stringify(a);\n",  # a's exports so far, as in Node
    "src/req.js": "exports.dual = require('dual');\nexports.kind = require('both').kind;\n",
    "src/node.mjs": "import flagged from 'flagged';\nexport const nodeMode = flagged;\n",
    "src/index.ts": """
        import fn, { extra } from 'fn';
        import * as fnNs from 'fn';
        import flagged, { named } from 'flagged';
        import * as flaggedNs from 'flagged';
        import dualImport from 'dual';
        import { kind } from 'both';
        import { nodeMode } from './node.mjs';
        const esm = require('./esm.mjs');
        const data = require('./data.json');
        const a = require('./a.cjs');
        const req = require('./req.js');
        export default { value: {
          fn: fn(), extra, nsDefault: fnNs.default(), nsExtra: fnNs.extra,
          flagged, named, flaggedNs: flaggedNs.default, optional: (flaggedNs as any).optional,
          dualImport, dualRequire: req.dual, kind, requireKind: req.kind,
          nodeMode, esm: [esm.default, esm.n, esm.__esModule], data,
          cycle: [a.seenByB, a.late],
        } };
    """,
}


def test_commonjs_interop_as_esbuild_does_it(tmp_path):
    write_files(tmp_path, COMMONJS)
    assert evaluate(tmp_path / "src/index.ts") == {
        "fn": "fn", "extra": "extra", "nsDefault": "fn", "nsExtra": "extra",
        "flagged": "flagged-default", "named": "flagged-named", "flaggedNs": "flagged-default",
        "optional": "MODULE_NOT_FOUND",  # a require() in a try block is left to fail
        "dualImport": "dual-esm", "dualRequire": "dual-cjs", "kind": "module",
        "requireKind": "main",
        # Node mode (.mjs): module.exports is the default export, __esModule or not
        "nodeMode": {"default": "flagged-default", "named": "flagged-named",
                     "optional": "MODULE_NOT_FOUND"},
        "esm": ["esm-default", 1, True], "data": {"k": [1, 2]},
        "cycle": ['{"early":"a-early"}', "a-late"],
    }


def test_a_commonjs_entry_exports_its_handler(tmp_path):
    write_files(tmp_path, {"main.cjs": "const fn = require('./fn.js');\n"
                                       "module.exports = { value: fn() };\n",
                           "fn.js": "module.exports = () => 'cjs-entry';\n"})
    assert evaluate(tmp_path / "main.cjs") == "cjs-entry"


def test_a_require_that_cannot_be_resolved_outside_try_fails_the_build(tmp_path):
    write_files(tmp_path, {"main.mjs": "try { require('./opt.js'); } catch {}\n"
                                       "require('./opt.js');\nexport default {};\n"})
    assert refused(tmp_path / "main.mjs") == \
        f"{tmp_path / 'main.mjs'}: cannot find module './opt.js'"


def load_script(path: Path) -> V8Context:
    """``script.load`` into a bare context that records addEventListener's listener."""
    ctx = V8Context()
    ctx.eval("globalThis.__isoflow_register_module = (f) => { globalThis.__entry = f(); };"
             "globalThis.addEventListener = (type, f) => { globalThis.__listener = f; };")
    try:
        script.load(ctx.eval, path)
    except BaseException:
        ctx.close()
        raise
    return ctx


def test_a_script_that_uses_require_is_bundled(tmp_path, outside):
    write_files(tmp_path, {"lib.js": "exports.greet = (who) => 'hello ' + who;\n",
                           "sw.js": "const { greet } = require('./lib.js');\n"
                                    "addEventListener('fetch', () => greet('sw'));\n"})
    ctx = load_script(tmp_path / "sw.js")
    try:  # no default export: a service-worker script, its listener registered
        assert ctx.eval("JSON.stringify([__entry, __listener()])") == '[null,"hello sw"]'
    finally:
        ctx.close()
    (outside / "sw.js").write_text("const s = require('../secret.json');\n"
                                   "addEventListener('fetch', () => s);\n")
    with pytest.raises(script.ScriptError) as info:
        load_script(outside / "sw.js")
    assert "'../secret.json' from " in str(info.value)
    assert f"is outside the project root {outside}" in str(info.value)


def test_import_meta_has_the_module_s_url_and_says_which_is_the_entry(tmp_path):
    # It was a SyntaxError ("Cannot use 'import.meta' outside a module"): the bundle is
    # CommonJS. The url is the module's path in the project, not on the host.
    write_files(tmp_path, {
        "package.json": "{}",
        "src/lib.ts": "export const here = import.meta.url;\nexport const main = import.meta.main;\n",
        "src/index.ts": "import { here, main } from './lib';\n"
                        "export default { value: [import.meta.url, import.meta.main, here, main] };\n",
    })
    assert evaluate(tmp_path / "src/index.ts") == ["file:///src/index.ts", True,
                                                   "file:///src/lib.ts", False]


def test_a_json_import_is_json(tmp_path):
    # As JSON.parse reads it: "__proto__" is a key of its own (an object literal set the
    # prototype), and NaN or Infinity are not JSON.
    write_files(tmp_path, {
        "data.json": '{"__proto__": {"polluted": true}, "a": [1, "\\u2028"]}',
        "main.mjs": "import d from './data.json';\nexport default { value: "
                    "[Object.keys(d), d.polluted ?? null, Object.getPrototypeOf(d) === "
                    "Object.prototype, d.a] };\n",
    })
    assert evaluate(tmp_path / "main.mjs") == [["__proto__", "a"], None, True, [1, "\u2028"]]
    (tmp_path / "data.json").write_text('{"n": NaN}')
    assert "data.json: invalid JSON: NaN is not JSON" in refused(tmp_path / "main.mjs")


def test_json_nested_too_deeply_is_one_clear_error(tmp_path):
    """Python's own parser ran out of stack: a traceback, and workers that crash-looped."""
    write_files(tmp_path, {"deep.json": "[" * 200_000 + "]" * 200_000,
                           "main.js": "import deep from './deep.json';\n"
                                      "export default { fetch: () => new Response('' + deep) };\n"})
    with pytest.raises(script.ScriptError) as info:
        load_script(tmp_path / "main.js")
    assert str(info.value) == f"{tmp_path / 'deep.json'}: JSON nested too deeply to import"


@pytest.mark.parametrize("name", ["sw.js", "module.mjs"])
def test_a_json_parse_failure_at_load_names_the_file_and_line(tmp_path, name):
    """V8 places a JSON.parse error in the JSON text ("undefined:1"): the line is the
    script's, from the stack."""
    handler = ("addEventListener('fetch', () => cfg);" if name.endswith(".js")
               else "export default { value: cfg };")
    (tmp_path / name).write_text(f"const a = 1;\nconst cfg = JSON.parse('{{bad');\n{handler}\n")
    with pytest.raises(script.ScriptError) as info:
        load_script(tmp_path / name)
    assert str(info.value) == (f"{tmp_path / name}:2: SyntaxError: Expected property name or "
                               "'}' in JSON at position 1 (line 1 column 2)")


def test_imports_are_hoisted_as_in_an_es_module(tmp_path):
    write_files(tmp_path, {
        "main.ts": "const value = [helper(), typeof ns.x, order.join('')];\n"
                   "export default { value };\n"
                   "import { helper, order } from './helper';\n"
                   "import * as ns from './x';\nexport * as again from './x';\n",
        "helper.ts": "export const order: string[] = [];\nexport function helper() "
                     "{ return 'hoisted'; }\norder.push('h');\n",
        "x.ts": "import { order } from './helper';\norder.push('x');\nexport const x = 1;\n",
    })
    assert evaluate(tmp_path / "main.ts") == ["hoisted", "number", "hx"]
