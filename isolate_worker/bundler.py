"""Turn an ES-module (or TypeScript) worker into one classic script V8 can evaluate.

mini-racer evaluates classic scripts only, so module workers are compiled at load time:
each file is transpiled to CommonJS by TypeScript's own compiler (``ts.transpileModule``,
shipped as ``typescriptServices.js`` in the ``dukpy`` package and run in a throwaway V8
isolate), its imports are found with ``ts.preProcessFile`` and resolved (relative paths,
and bare specifiers from ``node_modules`` of the project folder), and a small CommonJS
linker joins the files into one script that ends by handing the entry's exports to the
runtime (``__isoflow_register_module``). Each generated line is mapped back to its file and
line (from TypeScript's source maps), so errors name the user's file.

Results are cached on disk by content hash, so N workers compile once.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .v8 import JSEvalException, V8Context

COMPILER_VERSION = "ts-5.7.3/1"
_JS = Path(__file__).parent / "js" / "compiler"
MODULE_EXTENSIONS = (".ts", ".mts", ".tsx", ".js", ".mjs", ".cjs", ".json")
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class BundleError(Exception):
    """A module graph that cannot be built; the message names the file and line."""


@dataclass
class Module:
    path: Path
    code: str
    line_map: list[int]  # generated line (0-based) -> original line (1-based), 0 unknown
    deps: dict[str, int] = field(default_factory=dict)  # specifier -> module index


@dataclass
class Bundle:
    code: str
    # (first bundle line, file, line map of that file's generated code), sorted
    segments: list[tuple[int, str, list[int]]]

    def locate(self, line: int) -> tuple[str, int] | None:
        """Original (file, line) of a 1-based bundle line, if it belongs to a module."""
        found = None
        for start, path, lines in self.segments:
            if start <= line:
                found = (start, path, lines)
            else:
                break
        if found is None:
            return None
        start, path, lines = found
        idx = line - start
        if 0 <= idx < len(lines) and lines[idx]:
            return path, lines[idx]
        return None

    def to_json(self) -> str:
        return json.dumps({"code": self.code, "segments": self.segments})

    @classmethod
    def from_json(cls, text: str) -> Bundle:
        data = json.loads(text)
        return cls(data["code"], [tuple(s) for s in data["segments"]])  # type: ignore[misc]


class _Compiler:
    """TypeScript's compiler in its own isolate, loaded on first use."""

    def __init__(self) -> None:
        self._v8: V8Context | None = None

    def _ctx(self) -> V8Context:
        if self._v8 is None:
            source = (
                resources.files("dukpy")
                .joinpath("jsmodules/typescriptServices.js")
                .read_text(encoding="utf-8")
            )
            self._v8 = V8Context()
            self._v8.eval(source + "\n;0")
            self._v8.eval((_JS / "transpile.js").read_text(encoding="utf-8"))
        return self._v8

    def transpile(self, source: str, filename: str) -> dict:
        arg = json.dumps({"source": source, "fileName": filename})
        return json.loads(self._ctx().eval(f"__isoflowTranspile({arg})"))

    def close(self) -> None:
        if self._v8 is not None:
            self._v8.close()
            self._v8 = None




def _vlq_lines(mappings: str) -> list[int]:
    """From a source map's mappings, the original line (1-based) of each generated line."""
    result: list[int] = []
    src_line = 0
    for group in mappings.split(";"):
        first: int | None = None
        for segment in group.split(","):
            if not segment:
                continue
            values: list[int] = []
            shift = value = 0
            for ch in segment:
                digit = _BASE64.index(ch)
                value += (digit & 31) << shift
                if digit & 32:
                    shift += 5
                else:
                    values.append(-(value >> 1) if value & 1 else value >> 1)
                    shift = value = 0
            if len(values) >= 4:
                src_line += values[2]
                if first is None:
                    first = src_line + 1
        result.append(first or 0)
    return result


def _package_entry(pkg_dir: Path, subpath: str) -> Path | None:
    """The file a package exposes for ``subpath`` ("." for the package itself)."""
    manifest = pkg_dir / "package.json"
    data: dict = {}
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError as e:
            raise BundleError(f"{manifest}: invalid package.json: {e}") from None
    exports = data.get("exports")
    if exports is not None:
        target = _match_exports(exports, subpath)
        if target is not None:
            return _resolve_file(pkg_dir / target)
    if subpath == ".":
        for key in ("module", "main"):
            if isinstance(data.get(key), str):
                found = _resolve_file(pkg_dir / data[key])
                if found is not None:
                    return found
        return _resolve_file(pkg_dir / "index")
    return _resolve_file(pkg_dir / subpath)


_CONDITIONS = ("workerd", "worker", "import", "module", "browser", "default", "require")


def _match_exports(exports: object, subpath: str) -> str | None:
    if isinstance(exports, str):
        return exports if subpath == "." else None
    if isinstance(exports, list):
        for item in exports:
            found = _match_exports(item, subpath)
            if found is not None:
                return found
        return None
    if not isinstance(exports, dict):
        return None
    if all(not k.startswith(".") for k in exports):  # a conditions object
        for cond in _CONDITIONS:
            if cond in exports:
                found = _match_exports(exports[cond], ".")
                if found is not None:
                    return found if subpath == "." else None
        return None
    if subpath in exports:
        return _match_exports(exports[subpath], ".")
    for key, value in exports.items():
        if "*" in key:
            prefix, suffix = key.split("*", 1)
            if subpath.startswith(prefix) and subpath.endswith(suffix):
                star = subpath[len(prefix) : len(subpath) - len(suffix)]
                target = _match_exports(value, ".")
                if target is not None:
                    return target.replace("*", star)
    return None


def _resolve_file(base: Path) -> Path | None:
    if base.is_file():
        return base.resolve()
    for ext in MODULE_EXTENSIONS:
        candidate = base.with_name(base.name + ext)
        if candidate.is_file():
            return candidate.resolve()
    if base.is_dir():
        pkg = base / "package.json"
        if pkg.is_file():
            found = _package_entry(base, ".")
            if found is not None:
                return found
        for ext in MODULE_EXTENSIONS:
            candidate = base / f"index{ext}"
            if candidate.is_file():
                return candidate.resolve()
    return None


def resolve(specifier: str, importer: Path, root: Path) -> Path:
    """Resolve an import the way bundlers for Workers do (relative, then node_modules)."""
    if specifier.startswith(("./", "../", "/")):
        base = (importer.parent / specifier) if not specifier.startswith("/") else Path(specifier)
        found = _resolve_file(base)
        if found is None:
            raise BundleError(f"{importer}: cannot find module '{specifier}'")
        return found
    if specifier.startswith("node:") or ":" in specifier.split("/")[0]:
        raise BundleError(f"{importer}: module '{specifier}' is not available in isoflow")
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    subpath = "." + specifier[len(name) :] if len(specifier) > len(name) else "."
    directory = importer.parent
    while True:
        pkg_dir = directory / "node_modules" / name
        if pkg_dir.is_dir():
            found = _package_entry(pkg_dir, subpath)
            if found is None:
                raise BundleError(f"{importer}: package '{name}' has no entry for '{subpath}'")
            return found
        if directory == root or directory.parent == directory:
            break
        directory = directory.parent
    raise BundleError(
        f"{importer}: cannot find package '{name}' (looked in node_modules up to {root})"
    )


def _cache_key(files: dict[Path, bytes]) -> str:
    h = hashlib.sha256(COMPILER_VERSION.encode())
    for path in sorted(files):
        h.update(str(path).encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return h.hexdigest()


def is_module_path(path: Path) -> bool:
    return path.suffix in (".ts", ".mts", ".tsx", ".mjs")


def build(entry: Path, *, cache_dir: Path | None = None, root: Path | None = None) -> Bundle:
    """Compile and link the module graph rooted at ``entry``."""
    entry = entry.resolve()
    root = (root or entry.parent).resolve()
    manifest = None
    if cache_dir is not None:
        manifest = cache_dir / f"{hashlib.sha256(str(entry).encode()).hexdigest()}.deps"
    # Fast path: the cached dependency list still hashes to a cached bundle.
    if manifest is not None and manifest.is_file():
        try:
            deps = [Path(p) for p in json.loads(manifest.read_text())]
            files = {p: p.read_bytes() for p in deps}
            cached = cache_dir / f"{_cache_key(files)}.bundle.json"  # type: ignore[operator]
            if cached.is_file():
                return Bundle.from_json(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    compiler = _Compiler()
    try:
        modules, files = _collect(entry, root, compiler)
    finally:
        compiler.close()
    bundle = _link(modules)
    if cache_dir is not None and manifest is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            target = cache_dir / f"{_cache_key(files)}.bundle.json"
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(bundle.to_json(), encoding="utf-8")
            tmp.replace(target)
            manifest.write_text(json.dumps([str(p) for p in files]))
        except OSError:
            pass
    return bundle


def _collect(
    entry: Path, root: Path, compiler: _Compiler
) -> tuple[list[Module], dict[Path, bytes]]:
    modules: list[Module] = []
    index: dict[Path, int] = {}
    files: dict[Path, bytes] = {}
    pending = [entry]
    index[entry] = 0
    while pending:
        path = pending.pop(0)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise BundleError(f"{path}: cannot read: {e.strerror}") from None
        files[path] = raw
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BundleError(f"{path}: not UTF-8 text") from None
        if path.suffix == ".json":
            try:
                json.loads(source)
            except ValueError as e:
                raise BundleError(f"{path}: invalid JSON: {e}") from None
            module = Module(path, f"module.exports = {source};", [1])
        else:
            try:
                # .mjs/.mts would make TypeScript keep ESM syntax: compile them as .js/.ts.
                name = {".mjs": ".js", ".mts": ".ts", ".cjs": ".js"}.get(path.suffix, path.suffix)
                out = compiler.transpile(source, path.stem + name)
            except JSEvalException as e:
                raise BundleError(f"{path}: the compiler failed: {e}") from None
            if out["diagnostics"]:
                d = out["diagnostics"][0]
                raise BundleError(f"{path}:{d['line']}: SyntaxError: {d['message']}")
            lines = _vlq_lines(json.loads(out["map"])["mappings"]) if out["map"] else []
            module = Module(path, out["code"], lines)
            for spec in dict.fromkeys(out["imports"]):
                dep = resolve(spec, path, root)
                if dep not in index:
                    index[dep] = len(index)
                    pending.append(dep)
                module.deps[spec] = index[dep]
        modules.append(module)
    modules.sort(key=lambda m: index[m.path])
    return modules, files


_PRELUDE = (_JS / "prelude.js").read_text(encoding="utf-8")


def _link(modules: list[Module]) -> Bundle:
    out = [_PRELUDE]
    line = _PRELUDE.count("\n") + 1
    segments: list[tuple[int, str, list[int]]] = []
    for i, m in enumerate(modules):
        header = f"__defs[{i}] = [{json.dumps(m.deps)}, function (exports, require, module) {{\n"
        out.append(header)
        line += header.count("\n")
        code = m.code.replace("//# sourceMappingURL=", "// sourceMappingURL=")
        if not code.endswith("\n"):
            code += "\n"
        segments.append((line, str(m.path), m.line_map))
        out.append(code)
        line += code.count("\n")
        out.append("}];\n")
        line += 1
    # The line map travels with the bundle: the runtime maps stack traces with it.
    files = sorted({path for _, path, _ in segments})
    line_map = {
        "files": files,
        "segments": [[start, files.index(path), lines] for start, path, lines in segments],
    }
    out.append(f"__isoflow_register_module(__require(0), {json.dumps(line_map)});\n}})();\n")
    return Bundle("".join(out), segments)
