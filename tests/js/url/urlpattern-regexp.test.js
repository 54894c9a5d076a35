// META: internals
// URLPattern's compiled regexps: a component without regexp groups is compiled without the
// "v" flag (so that V8's linear-time engine can take over a hostile input) and must match
// exactly as the standard's "v" (or "vi") regexp does.

const { compileComponent } = __internals.urlPattern;

function seeded(seed) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

const PATTERN_PIECES = ["/", "-", ".", "a", "B", "%2F", ":x", ":y", ":z", "*", "(.*)", "([^\\/]+?)",
  "?", "+", "{", "}", "{-:w}", "{/:v}?", "\\*", "\\:"];
const INPUT_PIECES = ["/", "-", ".", "a", "A", "b", "B", "%2F", "%2f", "x", "*", ":"];

function pick(random, pieces, most) {
  let s = "";
  const n = 1 + Math.floor(random() * most);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(random() * pieces.length)];
  return s;
}

test(() => {
  const random = seeded(7);
  let compared = 0;
  let matched = 0;
  for (let i = 0; i < 400; i++) {
    const pattern = pick(random, PATTERN_PIECES, 6);
    const ignoreCase = i % 2 === 1;
    for (const delimiter of ["/", "."]) {
      let component;
      try {
        component = compileComponent(pattern, (s) => s, { delimiter, prefix: delimiter, ignoreCase });
      } catch {
        continue;
      }
      if (component.hasRegexpGroups) continue;
      assert_equals(component.regexp.flags, "", `${pattern}: compiled without flags`);
      const spec = new RegExp(component.regexp.source, ignoreCase ? "vi" : "v");
      for (let j = 0; j < 20; j++) {
        const input = pick(random, INPUT_PIECES, 8);
        const got = component.regexp.exec(input);
        const want = spec.exec(input);
        assert_equals(JSON.stringify(got), JSON.stringify(want), `${pattern} against ${input}`);
        compared++;
        if (want !== null) matched++;
      }
    }
  }
  assert_greater_than(compared, 4000);
  assert_greater_than(matched, 200, "the inputs reach matches, not only misses");
}, "a component without regexp groups matches as the standard's v-flag regexp does");

test(() => {
  const options = { delimiter: "/", prefix: "/", ignoreCase: false };
  assert_equals(compileComponent("/:id(\\d+)", (s) => s, options).regexp.flags, "v",
    "a regexp group keeps the v flag");
  assert_equals(compileComponent("/é/:x", (s) => s, options).regexp.flags, "v",
    "a non-ASCII regexp keeps the v flag");
  assert_equals(compileComponent("/a/:x", (s) => s, { ...options, ignoreCase: true }).regexp.flags, "");
}, "which components keep the standard's flags");

test(() => {
  // Segment wildcards split by fixed text backtrack polynomially on a run of separators:
  // with the "v" flag this exec takes tens of seconds of CPU; V8's linear-time engine
  // answers it in milliseconds once the backtracking passes its limit.
  const p = new URLPattern({ pathname: "/files/:a-:b-:c-:d.:ext" });
  assert_equals(p.exec({ pathname: `/files/${"-".repeat(400)}` }), null);
  const ci = new URLPattern({ pathname: "/files/:a-:b-:c-:d.:ext" }, { ignoreCase: true });
  assert_equals(ci.exec({ pathname: `/FILES/${"-".repeat(400)}` }), null);
  assert_equals(ci.exec({ pathname: "/FILES/a-b-c-d.txt" }).pathname.groups.ext, "txt");
}, "a hostile path does not make a pattern of segment wildcards backtrack for seconds");
