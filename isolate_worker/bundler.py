"""Turn an ES-module (or TypeScript) worker into one classic script V8 can evaluate.

mini-racer evaluates classic scripts only, so module workers are compiled at load time:
each file is transpiled to CommonJS by TypeScript's own compiler (``ts.transpileModule``,
shipped as ``typescriptServices.js`` in the ``dukpy`` package and run in a throwaway V8
isolate), its imports (every ``require()`` of the output) are resolved as Node and esbuild
do, confined to the script's project root (:class:`_Resolver`), and a small CommonJS
linker joins the files into one script that ends by handing the entry's exports to the
runtime (``__isoflow_register_module``). Each generated line is mapped back to its file and
line (from TypeScript's source maps), so errors name the user's file.

CommonJS interop is esbuild's (js/compiler/prelude.js): ``__esModule`` respected except in
Node-mode files (:func:`_node_mode`), ``require()`` resolved with the ``require`` condition,
one in a ``try`` block left to fail when it runs. Under ``nodejs_compat`` the ``node:``
built-ins are isoflow's own CommonJS modules (js/node/), bundled like the user's files.

Results are cached on disk by content hash, so N workers compile once.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from .v8 import V8Context

COMPILER_VERSION = "ts-5.7.3/12"  # the bundler's version too: part of every cache key
_JS = Path(__file__).parent / "js" / "compiler"
MODULE_EXTENSIONS = (".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".json")
TEXT_EXTENSIONS = (".txt", ".html")  # imported as a string, as wrangler's default rules do
_COMPILE_AS = {".mjs": ".js", ".mts": ".ts", ".cjs": ".js", ".cts": ".ts"}
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# node: built-ins under the nodejs_compat compatibility flag: isoflow's own CommonJS
# modules (js/node/NAME.js), bundled with the scripts that import them. With the flag,
# a bare "buffer" is the built-in too, as with wrangler.
NODE_DIR = Path(__file__).parent / "js" / "node"
NODE_COMPAT_FLAGS = frozenset({"nodejs_compat", "nodejs_compat_v2"})
NODE_PROVIDED = {"assert": "assert", "assert/strict": "assert_strict",
                 "async_hooks": "async_hooks", "buffer": "buffer", "crypto": "crypto",
                 "events": "events", "path": "path", "path/posix": "path",
                 "process": "process", "querystring": "querystring",
                 "stream": "stream", "stream/promises": "stream_promises",
                 "stream/web": "stream_web", "string_decoder": "string_decoder",
                 "timers": "timers", "timers/promises": "timers_promises", "url": "url",
                 "util": "util", "util/types": "util_types"}
NODE_BUILTINS = frozenset({
    "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console",
    "constants", "crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain",
    "events", "fs", "fs/promises", "http", "http2", "https", "inspector", "module", "net",
    "os", "path", "path/posix", "path/win32", "perf_hooks", "process", "punycode",
    "querystring", "readline", "repl", "stream", "stream/promises", "stream/web",
    "string_decoder", "sys", "timers", "timers/promises", "tls", "trace_events", "tty", "url",
    "util", "util/types", "v8", "vm", "wasi", "worker_threads", "zlib",
})
# What only the built-ins may require: the runtime's host object (js/93_node_host.js) and
# the AsyncLocalStorage context (js/compiler/prelude.js).
NODE_HOST = ("isoflow:host", "isoflow:als")
# Workers' own modules isoflow provides (in NODE_DIR, built-ins as the node: ones are),
# whatever the compatibility flags.
CLOUDFLARE_PROVIDED = {"cloudflare:workers": "cloudflare_workers",
                       "cloudflare:sockets": "cloudflare_sockets"}


class BundleError(Exception):
    """A module graph that cannot be built; the message names the file and line."""


class ModuleNotFound(BundleError):
    """An import names no module (never raised for one outside the root: that is refused)."""


@dataclass
class Module:
    path: Path
    code: str
    line_map: list[int]  # generated line (0-based) -> original line (1-based), 0 unknown
    deps: dict[str, int | str] = field(default_factory=dict)  # specifier -> index, or error
    esm: bool = False  # an ES module (its exports are a namespace, see _node_mode)
    builtin: bool = False  # a node: built-in (js/node/): runs first, may require NODE_HOST
    top_level_await: bool = False
    static_imports: list[str] = field(default_factory=list)  # in order (top-level await)


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


class CompilerFailed(Exception):
    """TypeScript's compiler threw (not a diagnostic: those are BundleErrors)."""


class _Compiler:
    """TypeScript's compiler in its own isolate, loaded on first use."""

    def __init__(self) -> None:
        self._v8: V8Context | None = None

    def _ctx(self) -> V8Context:
        if self._v8 is None:
            from .v8 import V8Context  # here: importing the bundler costs no V8 (prebuild.py)

            source = (
                resources.files("dukpy")
                .joinpath("jsmodules/typescriptServices.js")
                .read_text(encoding="utf-8")
            )
            self._v8 = V8Context()
            self._v8.eval(source + "\n;0")
            self._v8.eval((_JS / "transpile.js").read_text(encoding="utf-8"))
        return self._v8

    def transpile(self, source: str, filename: str, lower_async: bool = False) -> dict:
        """TypeScript's output and diagnostics; raises CompilerFailed if it throws."""
        from .v8 import JSEvalException

        arg = json.dumps({"source": source, "fileName": filename, "lowerAsync": lower_async})
        try:
            return json.loads(self._ctx().eval(f"__isoflowTranspile({arg})"))
        except JSEvalException as e:
            raise CompilerFailed(str(e)) from None

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


class _Outside(Exception):
    """A path the resolver would open lies outside the project root."""

    def __init__(self, through_symlink: bool) -> None:
        self.through_symlink = through_symlink


# Conditions of package.json "exports"/"imports" a Workers bundle matches (wrangler's
# workerd, worker, browser, then esbuild's import, module, default). As in Node and esbuild,
# the package's own key order picks among those present.
CONDITIONS = frozenset({"workerd", "worker", "browser", "import", "module", "default"})
# A require() call matches "require" instead of "import" and "module", and prefers a
# package's "main" to its "module", as esbuild does: it wants CommonJS exports.
REQUIRE_CONDITIONS = frozenset({"workerd", "worker", "browser", "require", "default"})
_TS_FOR_JS = {".js": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",)}


def _quote(specifier: str) -> str:
    """The specifier for a one-line message: escaped, quoted, cut at 200 characters."""
    text = json.dumps(specifier)[1:-1].replace("'", "\\'")
    return f"'{text[:200]}...'" if len(text) > 200 else f"'{text}'"


def _world_writable(directory: Path) -> bool:
    try:
        return bool(directory.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return True


def project_root(script: Path, root: Path | None = None) -> Path:
    """The folder a script's imports are confined to (real path, symlinks resolved).

    ``root`` (the config's per-script ``root``) must be a folder holding the script. By
    default: the nearest folder from the script's own up that holds a ``package.json``, never
    the filesystem root, the home folder or a folder others may write to (``/tmp``), and
    the script's folder when there is none.
    """
    script = Path(os.path.realpath(script))
    if root is not None:
        real = Path(os.path.realpath(root))
        if not real.is_dir():
            raise BundleError(f"the project root {root} is not a folder")
        if real not in script.parents:
            raise BundleError(f"the project root {root} does not contain the script {script}")
        return real
    home = Path(os.path.realpath(Path.home()))
    for directory in script.parents:
        if directory.parent == directory or directory == home or _world_writable(directory):
            break
        if (directory / "package.json").is_file():
            return directory
    return script.parent


class _Resolver:
    """Node's and esbuild's module resolution, confined to one project root.

    Every path is checked before it is opened or even tested for existence: first as
    written (``../`` and absolute paths), then with its symlinks resolved.
    """

    def __init__(self, root: Path, nodejs_compat: bool = False) -> None:
        self.root = root
        self.nodejs_compat = nodejs_compat
        self.conditions = CONDITIONS  # of the resolve() call in progress
        self.main_fields = ("module", "main")
        # What resolution depended on, for the cache to check: every path looked at, with
        # what it was (probe_state), and the package.json files read.
        self.probes: dict[Path, str] = {}
        self.manifests: dict[Path, bytes] = {}

    def inside(self, path: Path) -> Path:
        """``path`` with its symlinks resolved; _Outside if it is not in the root."""
        lexical = Path(os.path.normpath(path))
        if lexical != self.root and self.root not in lexical.parents:
            raise _Outside(False)
        real = Path(os.path.realpath(lexical))
        if real != self.root and self.root not in real.parents:
            raise _Outside(True)
        return real

    def probe_state(self, path: Path) -> str:
        """What ``path`` is: "file:REAL", "dir:REAL" (REAL: its symlinks resolved) or
        "none"; _Outside if it is not in the root."""
        real = self.inside(path)
        try:
            mode = real.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            return "none"
        kind = "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "none"
        return "none" if kind == "none" else f"{kind}:{real}"

    def _probe(self, path: Path, kind: str) -> Path | None:
        state = self.probes[Path(os.path.normpath(path))] = self.probe_state(path)
        return Path(state[len(kind) + 1:]) if state.startswith(kind + ":") else None

    def _file(self, path: Path) -> Path | None:
        return self._probe(path, "file")

    def _dir(self, path: Path) -> Path | None:
        return self._probe(path, "dir")

    def _manifest(self, pkg_dir: Path) -> dict:
        manifest = self._file(pkg_dir / "package.json")
        if manifest is None:
            return {}
        raw = self.manifests[manifest] = manifest.read_bytes()
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise BundleError(f"{manifest}: invalid package.json: not UTF-8") from None
        except ValueError as e:  # json's messages give a position, never the text
            raise BundleError(f"{manifest}: invalid package.json: {e}") from None
        return data if isinstance(data, dict) else {}

    def resolve(self, specifier: str, importer: Path, *, require: bool = False) -> Path:
        """The file ``specifier`` imported (or ``require``d) from ``importer`` names;
        BundleError if none."""
        quoted = _quote(specifier)
        self.conditions = REQUIRE_CONDITIONS if require else CONDITIONS
        self.main_fields = ("main", "module") if require else ("module", "main")
        try:
            found = self._resolve(specifier, importer, quoted)
        except _Outside as e:
            how = " (through a symlink)" if e.through_symlink else ""
            raise BundleError(f"import {quoted} from {importer} is outside the project "
                              f"root {self.root}{how}: imports are confined to it") from None
        except (OSError, ValueError) as e:  # a NUL byte, a name too long, ...
            reason = e.strerror if isinstance(e, OSError) else "invalid path"
            raise BundleError(f"{importer}: cannot resolve {quoted}: {reason}") from None
        return found

    def _resolve(self, specifier: str, importer: Path, quoted: str) -> Path:
        if specifier.startswith(("./", "../", "/")) or specifier in (".", ".."):
            found = self._load(importer.parent / specifier)
            if found is None:
                raise ModuleNotFound(f"{importer}: cannot find module {quoted}")
            return found
        if specifier.startswith("#"):
            return self._package_import(specifier, importer, quoted)
        name = specifier.removeprefix("node:")
        if specifier.startswith("node:") or (self.nodejs_compat and name in NODE_BUILTINS):
            return self._builtin(name, importer, quoted)
        if specifier in CLOUDFLARE_PROVIDED:
            return NODE_DIR / f"{CLOUDFLARE_PROVIDED[specifier]}.js"
        if ":" in specifier.split("/")[0]:
            raise ModuleNotFound(f"{importer}: module {quoted} is not available in isoflow")
        try:
            return self._package(specifier, importer, quoted)
        except ModuleNotFound as e:
            if name in NODE_BUILTINS:
                raise ModuleNotFound(f"{e}; it is a Node built-in: {_NEEDS_FLAG}") from None
            raise

    def _builtin(self, name: str, importer: Path, quoted: str) -> Path:
        if not self.nodejs_compat:
            raise ModuleNotFound(f"{importer}: module {quoted} is a Node built-in: {_NEEDS_FLAG}")
        if name not in NODE_PROVIDED:
            have = ", ".join(f"node:{n}" for n in sorted(NODE_PROVIDED))
            raise ModuleNotFound(f"{importer}: module {quoted} is not provided by isoflow's "
                                 f"nodejs_compat (it has {have})")
        return NODE_DIR / f"{NODE_PROVIDED[name]}.js"

    def _load(self, base: Path, following: frozenset[Path] = frozenset()) -> Path | None:
        """A file as written, with an extension added, or a folder's entry (LOAD_AS_FILE/DIR).
        ``following``: the folders whose ``main`` led here (a ``main`` that leads back to
        one of them, ``"."`` say, is passed over as a ``main`` naming nothing is)."""
        found = self._file(base)
        if found is not None:
            return found
        for ext in MODULE_EXTENSIONS:
            found = self._file(base.with_name(base.name + ext))
            if found is not None:
                return found
        for ext in _TS_FOR_JS.get(base.suffix, ()):  # "./x.js" written for x.ts
            found = self._file(base.with_suffix(ext))
            if found is not None:
                return found
        folder = self._dir(base)
        if folder is None:
            return None
        data = self._manifest(base)
        for key in self.main_fields:
            if isinstance(data.get(key), str) and folder not in following:
                found = self._load(base / data[key], following | {folder})
                if found is not None:
                    return found
        for ext in MODULE_EXTENSIONS:
            found = self._file(base / f"index{ext}")
            if found is not None:
                return found
        return None

    def _package(self, specifier: str, importer: Path, quoted: str) -> Path:
        parts = specifier.split("/")
        name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
        subpath = "." + specifier[len(name):]
        if name.strip(".@/") == "" or "\\" in name:
            raise BundleError(f"{importer}: {quoted} is not a valid package name")
        directory = importer.parent
        while True:
            pkg_dir = self._dir(directory / "node_modules" / name)
            if pkg_dir is not None:
                return self._package_entry(pkg_dir, subpath, importer, quoted)
            if directory == self.root:
                break
            directory = directory.parent
        raise ModuleNotFound(f"{importer}: cannot find package '{name}' for {quoted} (looked "
                          f"in node_modules from {importer.parent} up to {self.root})")

    def _package_entry(self, pkg_dir: Path, subpath: str, importer: Path, quoted: str) -> Path:
        data = self._manifest(pkg_dir)
        exports = data.get("exports")
        if exports is not None:
            target = _match(exports, subpath, self.conditions, exports=True)
            if target is None or not target.startswith("./"):
                raise ModuleNotFound(f"{importer}: package {pkg_dir.name!r} does not export "
                                  f"{subpath!r} (for {quoted})")
            found = self._load(pkg_dir / target)
        elif subpath == ".":
            found = self._load(pkg_dir)
        else:
            found = self._load(pkg_dir / subpath)
        if found is None:
            raise ModuleNotFound(f"{importer}: cannot find module {quoted} in {pkg_dir}")
        return found

    def _package_import(self, specifier: str, importer: Path, quoted: str) -> Path:
        """``#name`` from the ``imports`` of the nearest package.json (Node's subpath imports)."""
        directory = importer.parent
        while self._file(directory / "package.json") is None:
            if directory == self.root:
                raise ModuleNotFound(f"{importer}: {quoted}: no package.json up to {self.root}")
            directory = directory.parent
        imports = self._manifest(directory).get("imports")
        target = (_match(imports, specifier, self.conditions, exports=False)
                  if imports is not None else None)
        if target is None:
            raise ModuleNotFound(f"{importer}: {quoted} is not in the \"imports\" of "
                              f"{directory / 'package.json'}")
        if target.startswith("./"):
            found = self._load(directory / target)
            if found is None:
                raise ModuleNotFound(f"{importer}: cannot find module {quoted} ({target})")
            return found
        return self._package(target, directory / "package.json", quoted)  # a bare name


_NEEDS_FLAG = ('it needs the nodejs_compat flag: compatibility_flags = ["nodejs_compat"] in the '
               "script's config, or --compat-flag nodejs_compat")


def _match(mapping: object, key: str, conditions: frozenset[str], *,
           exports: bool) -> str | None:
    """Node's PACKAGE_IMPORTS_EXPORTS_RESOLVE: the target ``key`` maps to, or None."""
    if exports and (not isinstance(mapping, dict) or not any(k.startswith(".") for k in mapping)):
        mapping = {".": mapping}  # "exports": "./x.js", [...] or a conditions object
    if not isinstance(mapping, dict):
        return None
    if key in mapping and "*" not in key:
        return _target(mapping[key], None, conditions)
    best: tuple[str, str] | None = None
    for pattern in mapping:
        prefix, star, suffix = pattern.partition("*")
        if (star and "*" not in suffix and key.startswith(prefix) and key.endswith(suffix)
                and len(key) >= len(pattern)
                and (best is None or len(prefix) > len(best[0].partition("*")[0]))):
            best = (pattern, key[len(prefix):len(key) - len(suffix)])
    if best is None:
        return None
    return _target(mapping[best[0]], best[1], conditions)


def _target(target: object, star: str | None, conditions: frozenset[str]) -> str | None:
    if isinstance(target, str):
        return target if star is None else target.replace("*", star)
    if isinstance(target, list):
        for item in target:
            found = _target(item, star, conditions)
            if found is not None:
                return found
        return None
    if isinstance(target, dict):
        for condition, value in target.items():
            if condition in conditions:
                found = _target(value, star, conditions)
                if found is not None:
                    return found
    return None


def resolve(specifier: str, importer: Path, root: Path) -> Path:
    """Resolve an import as Node and esbuild do, confined to ``root`` (a real path)."""
    return _Resolver(root).resolve(specifier, importer)


@functools.cache
def _node_digest() -> str:
    """A digest of the node: built-ins' sources: part of the key of a bundle that may hold them."""
    h = hashlib.sha256()
    for path in sorted(NODE_DIR.glob("*.js")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _flags_key(flags: frozenset[str]) -> str:
    nodejs = bool(flags & NODE_COMPAT_FLAGS)
    return f"nodejs_compat:{_node_digest()}" if nodejs else ""


def _cache_key(files: dict[Path, bytes], root: Path, flags: frozenset[str] = frozenset()) -> str:
    h = hashlib.sha256(f"{COMPILER_VERSION}\0{root}\0{_flags_key(flags)}\0".encode())
    for path in sorted(files):
        h.update(str(path).encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return h.hexdigest()


# CommonJS in a script: a call of require() with a literal, module.exports, exports.x.
COMMONJS = re.compile(r"\brequire\s*\(\s*['\"`]|\bmodule\.exports\b|(?<![.\w$])exports\.[\w$]")


def is_module_path(path: Path) -> bool:
    return path.suffix in (".ts", ".mts", ".cts", ".tsx", ".mjs", ".cjs")


def manifest_path(cache_dir: Path, entry: Path, root: Path,
                  flags: frozenset[str] = frozenset()) -> Path:
    """The cache's list of the files a build of ``entry`` read (JSON), for the fast path and
    for ``isoflow dev``'s watcher. ``entry`` and ``root`` are real paths."""
    key = hashlib.sha256(f"{entry}\0{root}\0{_flags_key(flags)}".encode()).hexdigest()
    return cache_dir / f"{key}.deps"


def build(entry: Path, *, cache_dir: Path | None = None, root: Path | None = None,
          compat_flags: Iterable[str] = ()) -> Bundle:
    """Compile and link the module graph rooted at ``entry``, confined to its project root.

    ``root``: the script's configured root (see :func:`project_root` for the default).
    ``compat_flags``: the script's compatibility flags (``nodejs_compat`` brings node:
    built-ins).
    """
    entry = entry.resolve()
    root = project_root(entry, root)
    flags = frozenset(compat_flags)
    if cache_dir is None:
        return _compile(entry, root, flags)[0]
    manifest = manifest_path(cache_dir, entry, root, flags)
    bundle = _from_cache(cache_dir, manifest, root, flags)
    if bundle is not None:
        return bundle
    # One process compiles; the others starting at the same time (a pool's workers) wait
    # for it and then find the bundle in the cache.
    with _compile_lock(cache_dir, manifest):
        bundle = _from_cache(cache_dir, manifest, root, flags)
        if bundle is not None:
            return bundle
        bundle, files, probes = _compile(entry, root, flags)
        with contextlib.suppress(OSError):
            target = cache_dir / f"{_cache_key(files, root, flags)}.bundle.json"
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(bundle.to_json(), encoding="utf-8")
            tmp.replace(target)
            manifest.write_text(json.dumps({
                "files": [str(p) for p in files],
                "probes": [[str(p), state] for p, state in probes.items()],
            }))
    return bundle


def _from_cache(cache_dir: Path, manifest: Path, root: Path,
                flags: frozenset[str]) -> Bundle | None:
    """The cached bundle, if every path its resolution looked at is what it was (a file
    added beside one, a symlink moved, a package gone: built again) and the files it read
    (modules, package.json) still hash to one."""
    if not manifest.is_file():
        return None
    try:
        recorded = _recorded(manifest)
        resolver = _Resolver(root)
        for path, state in recorded["probes"]:
            if resolver.probe_state(Path(path)) != state:
                return None
        files = {p: p.read_bytes() for p in map(resolver.inside, map(Path, recorded["files"]))}
        cached = cache_dir / f"{_cache_key(files, root, flags)}.bundle.json"
        if cached.is_file():
            return Bundle.from_json(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, _Outside):
        pass
    return None


def _recorded(manifest: Path) -> dict:
    """What a cache manifest records (``files``, ``probes``); ValueError for an older
    isoflow's (a list of files), OSError if unread."""
    recorded = json.loads(manifest.read_text())
    if not isinstance(recorded, dict):
        raise ValueError("an older isoflow's manifest")
    return recorded


def manifest_paths(manifest: Path) -> list[Path]:
    """The paths a cached build depends on (its files, and where resolution looked and found
    nothing or something else): what ``isoflow dev`` watches. OSError/ValueError if unread."""
    recorded = _recorded(manifest)
    return [Path(p) for p in recorded["files"]] + [Path(p) for p, _ in recorded["probes"]]


@contextlib.contextmanager
def _compile_lock(cache_dir: Path, manifest: Path) -> Iterator[None]:
    """An exclusive lock for compiling one entry (none if the cache cannot be written)."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(manifest.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                     0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _compile(entry: Path, root: Path, flags: frozenset[str],
             ) -> tuple[Bundle, dict[Path, bytes], dict[Path, str]]:
    """The bundle, the project files it was built from (modules, package.json files) and
    what resolution looked at (_Resolver.probes)."""
    compiler = _Compiler()
    try:
        nodejs = bool(flags & NODE_COMPAT_FLAGS)
        modules, files, probes = _collect(entry, root, compiler, nodejs)
        if any(m.path == NODE_DIR / "async_hooks.js" for m in modules):
            modules, files, probes = _collect(entry, root, compiler, nodejs, lower_async=True)
    finally:
        compiler.close()
    return _link(modules, root), files, probes


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _collect(
    entry: Path, root: Path, compiler: _Compiler, nodejs_compat: bool = False,
    lower_async: bool = False,
) -> tuple[list[Module], dict[Path, bytes], dict[Path, str]]:
    """The modules of the graph (the entry first), the project files read (modules and
    package.json files; not the node: built-ins: those are isoflow's, keyed by
    :func:`_node_digest`) and the resolver's probes. ``lower_async``: for
    node:async_hooks, async functions are compiled to generators whose every resumption
    restores the AsyncLocalStorage context (js/compiler/prelude.js ``__alsAwaiter``)."""
    modules: list[Module] = []
    index: dict[Path, int] = {}
    files: dict[Path, bytes] = {}
    resolver = _Resolver(root, nodejs_compat)
    pending = [entry]
    index[entry] = 0
    while pending:
        path = pending.pop(0)
        if path != entry and path.suffix not in MODULE_EXTENSIONS + TEXT_EXTENSIONS:
            kind = f"a {path.suffix!r}" if path.suffix else "an extensionless"
            raise BundleError(f"{path}: cannot import {kind} file: modules are .js .mjs .cjs "
                              ".ts .mts .cts .tsx or .json, text is .txt or .html")
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise BundleError(f"{path}: cannot read: {e.strerror}") from None
        builtin = path.parent == NODE_DIR
        if not builtin:
            files[path] = raw
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BundleError(f"{path}: not UTF-8 text") from None  # no byte of it quoted
        if path.suffix == ".json":
            try:
                json.loads(source, parse_constant=_not_json)
            except ValueError as e:
                raise BundleError(f"{path}: invalid JSON: {e}") from None
            except RecursionError:
                raise BundleError(f"{path}: JSON nested too deeply to import") from None
            # Parsed as JSON by JSON.parse, not spliced in as an object literal (where a
            # "__proto__" key sets the prototype instead of being a key of its own).
            module = Module(path, f"module.exports = JSON.parse({json.dumps(source)});", [1])
        elif path.suffix in TEXT_EXTENSIONS:
            module = Module(path, f"module.exports = {json.dumps(source)};", [1])
        else:
            try:
                # .mjs/.mts would make TypeScript keep ESM syntax: compile them as .js/.ts.
                name = _COMPILE_AS.get(path.suffix, path.suffix)
                out = compiler.transpile(source, path.stem + name,
                                         lower_async and path.parent != NODE_DIR)
            except CompilerFailed as e:
                raise BundleError(f"{path}: the compiler failed: {e}") from None
            if out["diagnostics"]:
                d = out["diagnostics"][0]
                raise BundleError(f"{path}:{d['line']}: SyntaxError: {d['message']}")
            lines = _vlq_lines(json.loads(out["map"])["mappings"]) if out["map"] else []
            code = out["code"]
            if not builtin and _node_mode(path, resolver):
                code = _node_interop(code)
            if lower_async:
                code = code.replace(_AWAITER, _ALS_AWAITER, 1)
            module = Module(path, code, lines, esm=out["isModule"], builtin=builtin,
                            top_level_await=out["topLevelAwait"],
                            static_imports=out["staticImports"])
            requires = set(out["requires"])
            for spec in dict.fromkeys(out["imports"]):
                try:
                    if builtin:  # they import one another as "node:NAME", and the host
                        if spec in NODE_HOST:
                            continue
                        dep = NODE_DIR / f"{NODE_PROVIDED[spec.removeprefix('node:')]}.js"
                    else:
                        dep = resolver.resolve(spec, path, require=spec in requires)
                except ModuleNotFound as e:
                    if spec not in out["tolerant"]:
                        raise
                    module.deps[spec] = str(e)  # thrown by that require() when it runs
                    continue
                if dep not in index:
                    index[dep] = len(index)
                    pending.append(dep)
                module.deps[spec] = index[dep]
        modules.append(module)
    modules.sort(key=lambda m: index[m.path])
    return modules, {**files, **resolver.manifests}, resolver.probes


_PRELUDE = (_JS / "prelude.js").read_text(encoding="utf-8")

# TypeScript's interop helpers (its 5.7 output, exactly) and the same in esbuild's "node
# mode": an ES module written for Node (.mjs, .mts, or "type": "module") that imports a
# CommonJS module gets its module.exports as the default export even when it sets
# __esModule, as Node does. Only the exports of real ES modules pass through.
_NODE_INTEROP = (
    ("if (mod && mod.__esModule) return mod;",
     "if (mod && mod.__esModule && __isESM(mod)) return mod;"),
    ('return (mod && mod.__esModule) ? mod : { "default": mod };',
     'return (mod && mod.__esModule && __isESM(mod)) ? mod : { "default": mod };'),
)


# TypeScript's __awaiter, and the same calling the prelude's, which carries the
# AsyncLocalStorage context across every await (node:async_hooks).
_AWAITER = "var __awaiter = (this && this.__awaiter) || function"
_ALS_AWAITER = "var __awaiter = __alsAwaiter || function"


def _node_interop(code: str) -> str:
    for old, new in _NODE_INTEROP:
        code = code.replace(old, new, 1)
    return code


def _node_mode(path: Path, resolver: _Resolver) -> bool:
    """Whether esbuild treats ``path`` as written for Node: .mjs/.mts, or in a package whose
    nearest package.json says ``"type": "module"``."""
    if path.suffix in (".mjs", ".mts"):
        return True
    if path.suffix in (".cjs", ".cts"):
        return False
    for directory in path.parents:
        if resolver._file(directory / "package.json") is not None:
            return resolver._manifest(directory).get("type") == "module"
        if directory == resolver.root:
            break
    return False


def _meta_url(path: Path, root: Path) -> str:
    """A module's ``import.meta.url``: ``file:///`` and its path in the project (the host's
    folders are none of the script's business), ``node:NAME`` for a built-in."""
    if path.parent == NODE_DIR:
        return f"node:{path.stem}"
    try:
        return "file:///" + path.relative_to(root).as_posix()
    except ValueError:
        return "file:///" + path.name


def _async_modules(modules: list[Module]) -> list[list[int] | None]:
    """For each module, None, or if it awaits at its top level or imports (statically) one
    that does, the module numbers of its static imports in order: it runs as an async
    function after those (prelude.js ``__evaluate``), as an ES module with top-level await
    does."""
    imports: list[list[int]] = []
    for m in modules:
        deps = (m.deps.get(spec) for spec in m.static_imports)
        imports.append([d for d in deps if isinstance(d, int)])
    awaits = [m.top_level_await for m in modules]
    changed = any(awaits)
    while changed:  # async spreads to every module that imports an async one
        changed = False
        for i, deps_of in enumerate(imports):
            if not awaits[i] and any(awaits[d] for d in deps_of):
                awaits[i] = changed = True
    return [deps_of if awaiting else None for deps_of, awaiting
            in zip(imports, awaits, strict=True)]


def _link(modules: list[Module], root: Path) -> Bundle:
    out = [_PRELUDE]
    line = _PRELUDE.count("\n") + 1
    segments: list[tuple[int, str, list[int]]] = []
    awaiting = _async_modules(modules)
    for i, m in enumerate(modules):
        kind = "function" if awaiting[i] is None else "async function"
        header = (f"__defs[{i}] = [{json.dumps(m.deps)}, {kind} (exports, require, module, "
                  "__isoflow_import_meta) {\n")
        out.append(header)
        line += header.count("\n")
        code = m.code.replace("//# sourceMappingURL=", "// sourceMappingURL=")
        if not code.endswith("\n"):
            code += "\n"
        segments.append((line, str(m.path), m.line_map))
        out.append(code)
        line += code.count("\n")
        out.append(f"}}, {json.dumps(m.esm)}, {json.dumps(m.builtin)}, "
                   f"{json.dumps(_meta_url(m.path, root))}, {json.dumps(awaiting[i])}];\n")
        line += 1
    # The line map travels with the bundle: the runtime maps stack traces with it.
    files = sorted({path for _, path, _ in segments})
    line_map = {
        "files": files,
        "segments": [[start, files.index(path), lines] for start, path, lines in segments],
    }
    out.append(f"__isoflow_register_module((host) => __entry(0, host), {json.dumps(line_map)}, "
               f"{json.dumps(awaiting[0] is not None)});\n}})();\n")
    return Bundle("".join(out), segments)
