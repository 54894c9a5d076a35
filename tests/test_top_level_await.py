"""Top-level await in module workers: the bundle runs such modules as async functions,
after their imports and in ES module order; the loader waits for the entry to settle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isoflow.isolate_worker import bundler, script, worker
from isoflow.isolate_worker.v8 import JSEvalException, V8Context
from tests.conftest import write_files

REGISTER = """globalThis.__isoflow_register_module = (evaluate, lineMap, async) => {
  globalThis.__async = async;
  Promise.resolve(evaluate()).then((e) => { globalThis.__entry = e; },
                                   (e) => { globalThis.__failure = String(e); });
};"""


def evaluate(entry: Path) -> dict:
    """Bundle ``entry`` in a bare context: whether it is async, and its default export's
    ``value`` once settled (or what it failed with)."""
    bundle = bundler.build(entry, root=entry.parent)
    ctx = V8Context()
    try:
        ctx.eval(REGISTER)
        ctx.eval(bundle.code)  # its microtasks run when the eval's task ends
        return json.loads(ctx.eval(
            "JSON.stringify({ async: __async, failure: globalThis.__failure ?? null,"
            " value: globalThis.__entry?.default?.value ?? null })"))
    finally:
        ctx.close()


def test_modules_awaiting_at_the_top_run_after_their_imports_in_es_module_order(tmp_path):
    write_files(tmp_path, {
        "a.js": "globalThis.order = ['a'];\n",
        "b.ts": "const n: number = await Promise.resolve(41);\n"
                "globalThis.order.push('b' + n);\nawait 0;\nglobalThis.order.push('b-end');\n"
                "export const answer = n + 1;\n",
        "c.js": "import './a.js';\nglobalThis.order.push('c');\n",
        "d.js": "for await (const x of [Promise.resolve('d')]) globalThis.order.push(x);\n",
        "entry.js": "import './a.js';\nimport { answer } from './b.ts';\nimport './c.js';\n"
                    "import './d.js';\nglobalThis.order.push('entry');\n"
                    "export default { value: [answer, globalThis.order] };\n",
    })
    assert evaluate(tmp_path / "entry.js") == {
        "async": True, "failure": None,
        "value": [42, ["a", "b41", "b-end", "c", "d", "entry"]]}


def test_a_graph_without_top_level_await_stays_synchronous(tmp_path):
    write_files(tmp_path, {
        "lib.js": "export async function f() { return await 1; }\n",
        "entry.js": "import { f } from './lib.js';\n"
                    "export default { value: typeof f };\n",
    })
    assert evaluate(tmp_path / "entry.js") == {"async": False, "failure": None,
                                               "value": "function"}
    assert "async function (exports" not in bundler.build(tmp_path / "entry.js").code


def test_require_of_a_module_that_awaits_before_it_ran_throws_as_node_does(tmp_path):
    write_files(tmp_path, {
        "late.mjs": "await 0;\nexport const x = 1;\n",
        "entry.js": "const late = require('./late.mjs');\n"
                    "module.exports = { value: late.x };\n",
    })
    with pytest.raises(JSEvalException) as info:
        evaluate(tmp_path / "entry.js")
    assert "Error: Cannot require() file:///late.mjs before it has run: it uses top-level " \
           "await (import it with an import declaration)" in str(info.value)


def test_import_of_a_module_that_awaits_runs_it_and_waits_for_it(tmp_path):
    write_files(tmp_path, {
        "late.mjs": "globalThis.ran = (globalThis.ran ?? 0) + 1;\nawait 0;\n"
                    "export const x = 'late';\n",
        "entry.js": "const name = './late.mjs';\n"
                    "const [a, b] = [await import('./late.mjs'), await import(name)];\n"
                    "export default { value: [a.x, b.x, a === b, globalThis.ran] };\n",
    })
    assert evaluate(tmp_path / "entry.js") == {"async": True, "failure": None,
                                               "value": ["late", "late", True, 1]}


def test_concurrent_imports_share_one_evaluation_and_a_failed_one_fails_every_import(tmp_path):
    # Two requests' import() calls while a module (or its dependency) still awaits used to
    # get its exports unset, for good; an import after a failed evaluation got them too.
    turns = "for (let i = 0; i < 5; i++) await null;\n"
    write_files(tmp_path, {
        "shared.js": f"{turns}export const v = 'ready';\n",
        "lazyA.js": "import { v } from './shared.js';\nexport const seen = v;\n",
        "lazyB.js": "import { v } from './shared.js';\nexport const seen = v;\n",
        "fail.js": f"{turns}throw new Error('no');\n",
        "entry.js": """
            const seen = [];
            const log = (name) => [(m) => seen.push(`${name} ${m.seen ?? m.v}`),
                                   (e) => seen.push(`${name} ${e.message}`)];
            const first = [import('./lazyA.js').then(...log('a')),
                           import('./lazyB.js').then(...log('b')),
                           import('./shared.js').then(...log('s')),
                           import('./fail.js').then(...log('f1')),
                           import('./fail.js').then(...log('f2'))];
            Promise.all(first).then(() => import('./fail.js')).then(...log('f3'));
            export default { value: seen };
        """,
    })
    result = evaluate(tmp_path / "entry.js")
    assert sorted(result["value"]) == ["a ready", "b ready", "f1 no", "f2 no", "f3 no",
                                       "s ready"]


def test_only_typescript_s_import_calls_become_require_dynamic(tmp_path):
    text = "p.then(() => __importStar(require('./late.mjs')))"
    write_files(tmp_path, {
        "late.mjs": "await 0;\nexport const x = 1;\n",
        "entry.js": f"const m = await import('./late.mjs');\n"
                    f"export default {{ value: [m.x, {text!r}] }};\n",
    })
    assert evaluate(tmp_path / "entry.js")["value"] == [1, text]


def test_a_module_that_replaces_array_iteration_does_not_break_the_loader(tmp_path):
    write_files(tmp_path, {
        "spoil.js": "Array.prototype[Symbol.iterator] = function* () {};\nexport {};\n",
        "late.js": "await 0;\nexport const x = 'late';\n",
        "mid.js": "export { x } from './late.js';\n",  # its imports are walked after spoil.js
        "entry.js": "import './spoil.js';\nimport { x } from './mid.js';\n"
                    "export default { value: x };\n",
    })
    assert evaluate(tmp_path / "entry.js")["value"] == "late"


def write_worker(tmp_path: Path, top: str) -> Path:
    write_files(tmp_path, {
        "lib.js": top,
        "worker.js": "import './lib.js';\n"
                     "export default { fetch() { return new Response('ok'); } };\n",
    })
    return tmp_path / "worker.js"


def test_the_loader_waits_for_the_entry_and_names_where_a_rejection_came_from(tmp_path):
    assert worker.check(write_worker(tmp_path, "await null;\n")) is None
    error = worker.check(write_worker(tmp_path, "await null;\n\nthrow new Error('no config');\n"))
    assert error == f"{tmp_path / 'lib.js'}:3: Error: no config"


def test_a_top_level_await_that_never_settles_fails_the_load_with_a_clear_line(
        tmp_path, monkeypatch):
    monkeypatch.setattr(script, "SETTLE_SECONDS", 0.2)
    error = worker.check(write_worker(tmp_path, "await new Promise(() => {});\n"))
    assert error == (f"{tmp_path / 'worker.js'}: its top-level await did not settle within "
                     "0.2 s: a module's top level may await promises and imports, not I/O or "
                     "timers (do those in a handler)")


@pytest.mark.parametrize("top", [
    "await null;",
    "for await (const x of [1]) {}",  # V8 reads a classic script's `await` as a name: these
    "const [a] = [await 1];",         # are other syntax errors there, found before `export`
    "if (await 1) {}",
    "const t = `${await 1}`;",
    "const f = (x) => x; f(await 1);",
    "const o = { [await Promise.resolve('k')]: 1 };",
    "class A { [await Promise.resolve('m')]() { return 1; } }",  # a computed method name
    "const o = { get [await 'g']() { return 1; } };",
])
def test_a_js_file_that_awaits_at_the_top_is_a_module(tmp_path, top):
    write_files(tmp_path, {"worker.js": f"{top}\n"
                           "export default { fetch() { return new Response('ok'); } };\n"})
    assert worker.check(tmp_path / "worker.js") is None


def test_a_classic_script_s_syntax_error_is_still_v8_s(tmp_path):
    write_files(tmp_path, {"worker.js": "addEventListener('fetch', (e) => {\n"
                           "  e.respondWith(new Response('x');\n});\n"})
    assert worker.check(tmp_path / "worker.js") == \
        f"{tmp_path / 'worker.js'}:2: SyntaxError: missing ) after argument list"


def test_a_load_error_megabytes_long_is_cut_to_one_readable_line(tmp_path):
    write_files(tmp_path, {"worker.js": "await null;\nthrow new Error('x'.repeat(3e6));\n"
                                        "export default {};\n"})
    error = worker.check(tmp_path / "worker.js")
    assert error.startswith(f"{tmp_path / 'worker.js'}:2: Error: xxx")
    assert error.endswith("... (3,000,007 characters)") and len(error) < script.MESSAGE_MAX + 200


def test_a_rejection_whose_stack_getter_throws_is_still_named(tmp_path):
    error = worker.check(write_worker(
        tmp_path, "const e = new Error('no config');\n"
        "Object.defineProperty(e, 'stack', { get() { throw new Error('getter'); } });\n"
        "await null;\nthrow e;\n"))
    assert error == f"{tmp_path / 'worker.js'}: Error: no config"
