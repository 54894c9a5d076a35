"""Run a Workers project from its wrangler file, as ``wrangler dev`` would.

``isoflow serve PROJECT`` (or ``dev``), where PROJECT is a folder holding ``wrangler.json``,
``wrangler.jsonc`` or ``wrangler.toml`` (wrangler's order), or one such file. What isoflow
honours: ``main``, ``vars`` (string values), ``compatibility_flags`` (``nodejs_compat``;
the legacy ``node_compat = true`` too), ``triggers.crons``, ``limits.cpu_ms`` and
``dev.port``/``dev.ip``; secrets come from ``.dev.vars`` next to the file. Every other key
is named in :attr:`WranglerProject.ignored`, which the command line prints once at start.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .cron import Cron, CronError
from .settings import COMPAT_FLAGS

WRANGLER_FILES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
DEV_PORT = 8787  # wrangler dev's
# What `main` may name: a module the bundler compiles (its MODULE_EXTENSIONS but .json; not
# imported from it here: the bundler costs the supervisor's start 40 ms of imports).
ENTRY_EXTENSIONS = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx")
# Keys that need nothing from isoflow (descriptive, or wrangler's own tooling).
_HARMLESS = frozenset({"$schema", "name", "main", "compatibility_date", "vars",
                       "compatibility_flags", "node_compat", "triggers", "limits", "dev",
                       "workers_dev", "minify", "keep_vars", "upload_source_maps",
                       "send_metrics", "no_bundle", "find_additional_modules",
                       "preserve_file_names", "base_dir"})


class WranglerError(Exception):
    """The project cannot be run; ``str()`` is one line naming the file (and line)."""


@dataclass
class WranglerProject:
    path: Path  # the wrangler file
    main: Path
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # from .dev.vars
    compatibility_flags: list[str] = field(default_factory=list)
    crons: list[str] = field(default_factory=list)
    cpu_ms: int | None = None
    port: int | None = None
    host: str | None = None
    ignored: list[str] = field(default_factory=list)  # keys isoflow does not honour

    @property
    def root(self) -> Path:
        """The project folder: the script's imports are confined to it."""
        return self.path.parent


def find(path: Path) -> Path | None:
    """The wrangler file ``path`` names (itself, or the one in that folder), or None when
    ``path`` is a script."""
    if path.is_dir():
        for name in WRANGLER_FILES:
            if (path / name).is_file():
                return path / name
        raise WranglerError(f"{path}: a folder with no {', '.join(WRANGLER_FILES)}")
    if path.name.startswith("wrangler.") or path.suffix in (".toml", ".jsonc"):
        return path
    return None


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas as plain JSON, every line where it was (so a
    parse error's line is the file's). ``//`` and ``/*`` inside strings are kept."""
    out: list[str] = []
    comma: int | None = None  # where in out a comma awaits the next significant character
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            comma = None
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j == -1 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j == -1 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            if not ch.isspace():
                if ch in "}]" and comma is not None:
                    out[comma] = " "  # a trailing comma
                comma = len(out) if ch == "," else None
            out.append(ch)
            i += 1
    return "".join(out)


# dotenv's line (the `dotenv` package wrangler reads .dev.vars with): a name, `=` (or `: `),
# a value single-, double- or backtick-quoted (over lines, too) or bare up to a `#`.
_DOTENV_LINE = re.compile(
    r"^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)"
    r"(\s*'(?:\\'|[^'])*'|\s*\"(?:\\\"|[^\"])*\"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?"
    r"\s*(?:#.*)?$", re.M | re.ASCII)
_QUOTED = re.compile(r"^(['\"`])([\s\S]*)\1$", re.M)


def parse_dev_vars(text: str) -> dict[str, str]:
    """A ``.dev.vars`` file, read as dotenv reads it: ``NAME=value`` lines, ``#`` comments,
    values in quotes (a double-quoted one's ``\\n`` and ``\\r`` are a newline and a carriage
    return), a quoted value over several lines."""
    values: dict[str, str] = {}
    for m in _DOTENV_LINE.finditer(re.sub(r"\r\n?", "\n", text)):
        value = (m.group(2) or "").strip()
        quote = value[:1]
        value = _QUOTED.sub(r"\2", value)
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        values[m.group(1)] = value
    return values


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise WranglerError(f"{path}: cannot read: {e}") from None
    try:
        toml = path.suffix == ".toml"
        data = tomllib.loads(text) if toml else json.loads(strip_jsonc(text))
    except tomllib.TOMLDecodeError as e:
        raise WranglerError(f"{path}: {e}") from None
    except json.JSONDecodeError as e:
        raise WranglerError(f"{path}:{e.lineno}: {e.msg}") from None
    except RecursionError:
        raise WranglerError(f"{path}: nested too deeply") from None
    if not isinstance(data, dict):
        raise WranglerError(f"{path}: expected a table of settings")
    return data


def load(path: Path) -> WranglerProject:
    """The project of the wrangler file at ``path``; WranglerError if it cannot run."""
    path = path.resolve()
    data = _read(path)
    main = data.get("main")
    if not isinstance(main, str) or not main:
        raise WranglerError(f'{path}: no main: the Worker\'s entry (main = "src/index.ts")')
    try:
        project = WranglerProject(path, (path.parent / main).resolve())
        found = project.main.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long
        raise WranglerError(f"{path}: main: {main[:200]!r} is not a usable path") from None
    folder = path.parent.resolve()
    if not project.main.is_relative_to(folder):  # the project's folder is its modules' root
        raise WranglerError(f"{path}: main: {main} is outside the project's folder {folder}")
    if project.main.suffix not in ENTRY_EXTENSIONS:
        raise WranglerError(f"{path}: main: {main} is not a module (.js .mjs .cjs .ts .mts "
                            ".cts .tsx)")
    if not found:
        raise WranglerError(f"{path}: main: {project.main}: no such file")
    ignored = project.ignored
    variables = data.get("vars") or {}
    if not isinstance(variables, dict):
        raise WranglerError(f"{path}: vars: expected a table of NAME = \"value\"")
    for name, value in variables.items():
        if isinstance(value, str):
            project.vars[name] = value
        else:
            ignored.append(f"vars.{name} (only string values)")
    flags = data.get("compatibility_flags") or []
    for flag in flags if isinstance(flags, list) else []:
        if flag in COMPAT_FLAGS:
            project.compatibility_flags.append(flag)
        else:
            ignored.append(f"compatibility_flags {flag!r}")
    if data.get("node_compat") is True and "nodejs_compat" not in project.compatibility_flags:
        project.compatibility_flags.append("nodejs_compat")
    triggers = data.get("triggers") or {}
    crons = triggers.get("crons") if isinstance(triggers, dict) else None
    if isinstance(crons, list):
        project.crons = [c for c in crons if isinstance(c, str)]
        for text in project.crons:  # refused here, so that check refuses what serve would
            try:
                Cron.parse(text)
            except CronError as e:
                raise WranglerError(f"{path}: triggers.crons: {text!r}: {e}") from None
    limits = data.get("limits") or {}
    if isinstance(limits, dict):
        if isinstance(limits.get("cpu_ms"), int) and limits["cpu_ms"] > 0:
            project.cpu_ms = limits["cpu_ms"]
        ignored += [f"limits.{k}" for k in limits if k != "cpu_ms"]
    dev = data.get("dev") or {}
    if isinstance(dev, dict):
        port = dev.get("port")
        if port is not None:
            if type(port) is not int or not 1 <= port <= 65535:
                raise WranglerError(f"{path}: dev.port: expected a port 1-65535, got {port!r}")
            project.port = port
        if isinstance(dev.get("ip"), str):
            project.host = "127.0.0.1" if dev["ip"] == "localhost" else dev["ip"]
        ignored += [f"dev.{k}" for k in dev if k not in ("port", "ip")]
    ignored += [key for key in data if key not in _HARMLESS]
    dev_vars = path.parent / ".dev.vars"
    if dev_vars.is_file():
        try:
            project.secrets = parse_dev_vars(dev_vars.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise WranglerError(f"{dev_vars}: cannot read: {e}") from None
        for name in project.secrets:
            project.vars.pop(name, None)  # .dev.vars overrides vars, as in wrangler dev
    return project
