"""The runtimes bench/compare runs: isoflow and its peers workerd, Deno and Bun.

The peers come from npm (their packages ship the binaries), pinned below and installed into
``bench/.cache/compare-npm``. Each runtime serves the same ``worker.mjs`` unchanged; only the
small launch files differ (workerd's capnp config, Bun's two-line ``Bun.serve`` wrapper).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = REPO / "bench" / ".cache"
NPM_DIR = CACHE / "compare-npm"
SCRIPT = HERE / "worker.mjs"

# npm package -> pinned version. Bump together with RESULTS.md.
PEERS = {"workerd": "1.20261117.1", "deno": "2.9.6", "bun": "1.4.5"}

# Where each package's binary lands, most specific first (the platform package that the
# wrapper package lists in optionalDependencies, then the wrapper's own copy or shim).
BINARIES = {
    "workerd": ["@cloudflare/workerd-linux-64/bin/workerd", "workerd/bin/workerd"],
    "deno": ["@deno/linux-x64-glibc/deno", "deno/deno"],
    "bun": ["@oven/bun-linux-x64/bin/bun", "@oven/bun-linux-x64-baseline/bin/bun",
            "bun/bin/bun.exe", "bun/bin/bun"],
}

COMPATIBILITY_DATE = "2025-01-01"


@dataclass
class Runtime:
    name: str
    version: str
    binary: Path | None = None  # a peer's executable; None for isoflow
    notes: str = ""
    # isoflow only: worker processes, how fetch() is allowed to reach the loopback upstream
    # ("flag", "config" or None: it cannot), extra `isoflow serve` options
    workers: int = 2
    fetch_mode: str | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def can_proxy(self) -> bool:
        return self.name != "isoflow" or self.fetch_mode is not None

    def prepare(self, workdir: Path, port: int) -> list[str]:
        """Writes the launch files into ``workdir``; returns the command that serves the
        shared script on 127.0.0.1:``port``."""
        script = workdir / "worker.mjs"
        script.write_text(SCRIPT.read_text())
        if self.name == "isoflow":
            serve = [sys.executable, "-m", "isoflow.supervisor", "serve"]
            if self.fetch_mode == "config":
                config = workdir / "isoflow.toml"
                config.write_text(ISOFLOW_CONFIG.format(port=port, workers=self.workers))
                return [*serve, "--config", str(config), *self.extra_args]
            flag = ["--allow-fetch-to", "loopback"] if self.fetch_mode == "flag" else []
            return [*serve, str(script), "--host", "127.0.0.1", "--port", str(port),
                    "--workers", str(self.workers), "--log-level", "WARNING", *flag,
                    *self.extra_args]
        assert self.binary is not None
        if self.name == "workerd":
            config = workdir / "workerd.capnp"
            config.write_text(WORKERD_CONFIG.format(port=port, date=COMPATIBILITY_DATE))
            return [str(self.binary), "serve", str(config)]
        if self.name == "deno":
            return [str(self.binary), "serve", "--allow-net", "--host", "127.0.0.1",
                    "--port", str(port), str(script)]
        if self.name == "bun":
            main = workdir / "bun-main.mjs"
            main.write_text(BUN_MAIN.format(port=port))
            return [str(self.binary), str(main)]
        raise ValueError(self.name)


# The default "internet" service of workerd refuses loopback; this one allows it so that the
# worker can fetch() the local upstream.
WORKERD_CONFIG = """\
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "{date}",
);
"""

# isoflow from a config file: the way to allow fetch() to loopback before the CLI had a flag.
ISOFLOW_CONFIG = """\
[[listeners]]
host = "127.0.0.1"
port = {port}

[log]
level = "warning"
access_log = false

[fetch]
allow_loopback = true

[scripts.bench]
path = "worker.mjs"
workers = {workers}

[[routes]]
script = "bench"
"""

BUN_MAIN = """\
import worker from "./worker.mjs";
Bun.serve({{ hostname: "127.0.0.1", port: {port}, fetch: worker.fetch }});
"""


# --- isoflow ----------------------------------------------------------------------------

def isoflow_runtime(workers: int, extra_args: list[str]) -> Runtime:
    try:
        version = importlib.metadata.version("isoflow")
    except importlib.metadata.PackageNotFoundError:
        sys.exit("isoflow is not installed in this Python: run with .venv/bin/python "
                 "(or `pip install -e .` first)")
    rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    version = f"{version} ({rev})" if rev else version
    mode = isoflow_fetch_mode()
    how = {"flag": "`--allow-fetch-to loopback`", "config": "a config file's `[fetch]`",
           None: "nothing: it cannot reach the upstream"}[mode]
    return Runtime("isoflow", version, workers=workers, fetch_mode=mode, extra_args=extra_args,
                   notes=f"{workers} workers + supervisor; fetch() to loopback allowed by {how}")


def isoflow_fetch_mode() -> str | None:
    """How this isoflow lets fetch() reach loopback: "flag" (`--allow-fetch-to loopback`),
    "config" (a TOML file with `[fetch] allow_loopback = true`) or None (it cannot)."""
    text = subprocess.run([sys.executable, "-m", "isoflow.supervisor", "serve", "--help"],
                          capture_output=True, text=True).stdout
    if "--allow-fetch-to" in text:
        return "flag"
    return "config" if "--config" in text else None


# --- the peers, from npm ----------------------------------------------------------------

def _find_binary(package: str) -> Path | None:
    for rel in BINARIES[package]:
        path = NPM_DIR / "node_modules" / rel
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def _installed_version(package: str) -> str | None:
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((NPM_DIR / "node_modules" / package / "package.json").read_text())
        return meta.get("version")
    return None


def _binary_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else ""


def _npm_error(stderr: str) -> list[str]:
    """The telling lines of npm's error output (its code and message, not the stack)."""
    lines = [line.removeprefix("npm error").strip() for line in stderr.splitlines()]
    useful = [line for line in lines if line.startswith(("code ", "FetchError", "404", "E"))]
    return (useful or [line for line in lines if line][-2:])[:3]


def install_peers(wanted: list[str], offline: bool = False) -> tuple[list[Runtime], list[str]]:
    """Installs the pinned peers that are missing; returns the usable ones and the messages
    about the others (each says why it is skipped)."""
    missing = [p for p in wanted if _installed_version(p) != PEERS[p] or not _find_binary(p)]
    messages: list[str] = []
    if missing and offline:
        messages.append(f"skipping {', '.join(missing)}: not in {NPM_DIR} and --offline given")
    elif missing:
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        specs = [f"{p}@{PEERS[p]}" for p in missing]
        print(f"installing {' '.join(specs)} from npm into {NPM_DIR} ...", flush=True)
        try:
            out = subprocess.run(
                ["npm", "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund",
                 "--no-save", "--loglevel", "error", *specs],
                capture_output=True, text=True, timeout=600,
            )
            failure = _npm_error(out.stderr) if out.returncode else []
        except FileNotFoundError:
            failure = ["npm is not installed"]
        except subprocess.TimeoutExpired:
            failure = ["npm install timed out after 600 s"]
        if failure:
            messages.append("skipping the peers: npm could not install them (is the npm "
                            "registry reachable?): " + " / ".join(failure))
    runtimes = []
    for package in wanted:
        binary = _find_binary(package)
        if binary is None or _installed_version(package) != PEERS[package]:
            if not any(m.startswith("skipping") for m in messages):
                messages.append(f"skipping {package}: no {package}@{PEERS[package]} binary "
                                f"under {NPM_DIR}/node_modules")
            continue
        reported = _binary_version(binary)
        if not reported:
            messages.append(f"skipping {package}: {binary} --version failed")
            continue
        version = PEERS[package] + (f" ({reported})" if PEERS[package] not in reported else "")
        runtimes.append(Runtime(package, version, binary, notes="1 process"))
    return runtimes, messages
