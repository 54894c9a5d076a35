"""The JavaScript half of the runtime: which files make it up and how they are loaded.

Every file ``js/NN_name.js`` is evaluated, in the order of its number, as the body of
``function (primordials, internals) { "use strict"; ... }``. ``primordials`` holds the
built-ins captured before user code runs (``00_primordials.js``); ``internals`` is the
private namespace the runtime files share. Neither is reachable from user scripts once
:func:`load_runtime` has finished. ``internals.kinds`` holds the bridge's event and action
kinds by name (kinds.py, their one definition); a file takes the ones it uses into local
constants when it loads (``const { AC_HEAD } = internals.kinds;``), and naming a kind that
does not exist throws there.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

from .kinds import js_kinds

JS_DIR = Path(__file__).parent / "js"

_BOOT = "__isoflow_boot"
_BOOT_BEGIN = (
    f'Object.defineProperty(globalThis, "{_BOOT}", '
    "{ value: { primordials: {}, internals: Object.create(null) }, configurable: true }); "
    # Runs before any other code: Object, Proxy and TypeError are still the built-ins.
    f"globalThis.{_BOOT}.internals.kinds = new Proxy("
    f"Object.freeze(Object.assign(Object.create(null), {json.dumps(js_kinds())})), "
    '{ get(kinds, name) { if (name in kinds || typeof name !== "string") return kinds[name]; '
    'throw new TypeError(`no bridge kind ${String(name)} (kinds.py)`); } }); 0'
)
_BOOT_END = f"delete globalThis.{_BOOT}; 0"


def runtime_files() -> list[Path]:
    """The runtime's JS files, in load order."""
    return sorted(p for p in JS_DIR.glob("[0-9][0-9]_*.js"))


def wrap_runtime_file(name: str, source: str) -> str:
    """Wrap one runtime file so it runs with ``primordials`` and ``internals`` in scope.

    The wrapper shares the file's first line, so V8's line numbers match the file's.
    """
    return (
        '(function (primordials, internals) { "use strict"; '
        f"{source}\n}}).call(undefined, globalThis.{_BOOT}.primordials, "
        f"globalThis.{_BOOT}.internals);\n//# sourceURL=isoflow:{name}\n"
    )


@functools.cache
def runtime_sources() -> tuple[tuple[str, str], ...]:
    """(file name, wrapped source) for every runtime file, read once per process."""
    return tuple(
        (p.name, wrap_runtime_file(p.name, p.read_text(encoding="utf-8")))
        for p in runtime_files()
    )


def load_runtime(
    evaluate: Callable[[str], object],
    *,
    before_seal: Callable[[], None] | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> None:
    """Evaluate the runtime into a fresh context through ``evaluate(code)``.

    ``extra`` are further (name, source) files run with the same scope (test helpers);
    ``before_seal`` runs after the files and before the private boot object is removed.
    """
    evaluate(_BOOT_BEGIN)
    for _name, source in runtime_sources():
        evaluate(source)
    for name, source in extra:
        evaluate(wrap_runtime_file(name, source))
    if before_seal is not None:
        before_seal()
    evaluate(_BOOT_END)
