"""Module workers compiled into the bundle cache before the workers need them
(isolate_worker/prebuild.py): a real process, a real compile, the real cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoflow.isolate_worker import bundler, prebuild

MODULE = 'import { greet } from "./lib.mjs";\nexport default { fetch() { return new Response(greet()); } };\n'
LIB = 'export function greet() { return "hi"; }\n'


def _manifest(cache: Path, script: Path) -> Path:
    entry = script.resolve()
    return bundler.manifest_path(cache, entry, bundler.project_root(entry))


@pytest.mark.parametrize("name, source, module", [
    ("a.mjs", "anything", True), ("a.ts", "anything", True),
    ("a.js", 'export default { fetch() {} };\n', True),
    ("a.js", 'const x = require("./y");\n', True),
    ("a.js", 'addEventListener("fetch", (e) => e.respondWith(new Response("x")));\n', False),
    ("a.js", '// import x from "y" in a comment\nlet exported = 1;\n', False),
])
def test_what_looks_like_a_module(tmp_path, name, source, module):
    path = tmp_path / name
    path.write_text(source)
    assert prebuild.looks_like_module(path) is module


def test_a_module_is_compiled_into_the_cache_once(tmp_path):
    project = tmp_path / "app"
    project.mkdir()
    script = project / "worker.mjs"
    script.write_text(MODULE)
    (project / "lib.mjs").write_text(LIB)
    cache = tmp_path / "cache"
    process = prebuild.start(script, cache, None, [])
    assert process is not None and process.wait(60) == 0
    assert _manifest(cache, script).is_file()
    assert len(list(cache.glob("*.bundle.json"))) == 1
    # The workers read what it built: the same bundle a build of their own would give.
    built = bundler.build(script.resolve(), cache_dir=cache)
    assert "greet" in built.code
    assert prebuild.start(script, cache, None, []) is None  # built already: nothing to do


def test_a_classic_script_or_a_broken_module_leaves_the_cache_alone(tmp_path):
    classic = tmp_path / "classic.js"
    classic.write_text('addEventListener("fetch", (e) => e.respondWith(new Response("x")));\n')
    cache = tmp_path / "cache"
    assert prebuild.start(classic, cache, None, []) is None
    broken = tmp_path / "broken.mjs"
    broken.write_text("export default { fetch( {\n")
    process = prebuild.start(broken, cache, None, [])
    assert process is not None and process.wait(60) == 0  # the workers will say what is wrong
    assert not list(cache.glob("*.bundle.json"))
