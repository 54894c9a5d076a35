// URLPattern, from the URL Pattern Standard: its examples, and the behaviour of each
// algorithm (constructor string parser, pattern parser, canonicalization, regexp and pattern
// string generation, matching) checked through the API.

const ALL = ["protocol", "username", "password", "hostname", "port", "pathname", "search", "hash"];

function components(p) {
  return Object.fromEntries(ALL.map((k) => [k, p[k]]));
}

test(() => {
  const p = new URLPattern({ pathname: "/books/:id" });
  assert_true(p.test("https://example.com/books/123"));
  assert_false(p.test("https://example.com/books"));
  assert_false(p.test("https://example.com/books/1/2"));
  const r = p.exec("https://example.com/books/123?x#y");
  assert_equals(r.pathname.input, "/books/123");
  assert_equals(r.pathname.groups.id, "123");
  assert_equals(r.protocol.input, "https");
  assert_equals(r.protocol.groups[0], "https", "a wildcard component's group is named 0");
  assert_equals(r.search.input, "x");
  assert_array_equals(r.inputs, ["https://example.com/books/123?x#y"]);
  assert_equals(p.protocol, "*");
  assert_equals(p.pathname, "/books/:id");
  assert_false(p.hasRegExpGroups);
}, "a URLPatternInit with a named group; unspecified components are wildcards");

test(() => {
  const p = new URLPattern("https://example.com/books/:id");
  assert_object_equals(components(p), {
    protocol: "https", username: "*", password: "*", hostname: "example.com", port: "",
    pathname: "/books/:id", search: "*", hash: "*",
  });
  assert_true(p.test("https://example.com/books/7?a=1#h"));
  assert_false(p.test("http://example.com/books/7"));
  assert_false(p.test("https://example.com:8443/books/7"), "port is fixed to the empty string");
  // ":" starts a named group, so a password separator in a pattern string is escaped.
  const q = new URLPattern("https://user\\:pw@example.com:8080/a?b#c");
  assert_object_equals(components(q), {
    protocol: "https", username: "user", password: "pw", hostname: "example.com", port: "8080",
    pathname: "/a", search: "b", hash: "c",
  });
}, "constructor strings");

test(() => {
  assert_throws_js(TypeError, () => new URLPattern("/books/:id"), "relative, no base");
  const p = new URLPattern("/books/:id", "https://example.com/shop/?q=1#top");
  assert_equals(p.protocol, "https");
  assert_equals(p.hostname, "example.com");
  assert_equals(p.pathname, "/books/:id");
  assert_equals(p.search, "*");
  assert_equals(p.username, "*", "a pattern does not take credentials from its base");
  const rel = new URLPattern({ pathname: "c/:x", baseURL: "https://example.com/a/b" });
  assert_equals(rel.pathname, "/a/c/:x", "a relative pathname resolves against the base's directory");
  const base = new URLPattern({ baseURL: "https://example.com/a?q#h" });
  assert_object_equals(components(base), {
    protocol: "https", username: "*", password: "*", hostname: "example.com", port: "",
    pathname: "/a", search: "q", hash: "h",
  });
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/a" }, "https://example.com"),
    "a baseURL with a dictionary");
  assert_throws_js(TypeError, () => new URLPattern({ baseURL: "not a url" }));
}, "baseURL");

test(() => {
  const p = new URLPattern({ pathname: "/books/:id?" });
  assert_true(p.test({ pathname: "/books" }));
  assert_true(p.test({ pathname: "/books/1" }));
  assert_equals(p.exec({ pathname: "/books" }).pathname.groups.id, undefined);
  const plus = new URLPattern({ pathname: "/files/:path+" });
  assert_equals(plus.exec({ pathname: "/files/a/b/c" }).pathname.groups.path, "a/b/c");
  assert_false(plus.test({ pathname: "/files" }));
  const star = new URLPattern({ pathname: "/files/:path*" });
  assert_true(star.test({ pathname: "/files" }));
  assert_equals(star.exec({ pathname: "/files/x/y" }).pathname.groups.path, "x/y");
}, "modifiers ?, + and * on named groups (with the / prefix)");

test(() => {
  const p = new URLPattern({ pathname: "/books/:id(\\d+)" });
  assert_true(p.test({ pathname: "/books/123" }));
  assert_false(p.test({ pathname: "/books/abc" }));
  assert_true(p.hasRegExpGroups);
  assert_equals(p.pathname, "/books/:id(\\d+)");
  const anon = new URLPattern({ pathname: "/(\\d+)/(\\w+)" });
  assert_object_equals(anon.exec({ pathname: "/12/ab" }).pathname.groups, { 0: "12", 1: "ab" });
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/(\\d+" }), "unbalanced");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/(?<x>a)" }), "regexp starting with ?");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/()" }), "empty regexp");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/(é)" }), "non-ASCII regexp");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/([)" }), "invalid regexp");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/([^/]+)" }),
    "patterns compile with the v flag: / is escaped in a class");
}, "regexp groups");

test(() => {
  const p = new URLPattern({ pathname: "/*.jpg" });
  assert_object_equals(p.exec({ pathname: "/images/cat.jpg" }).pathname.groups, { 0: "images/cat" });
  assert_false(p.test({ pathname: "/images/cat.png" }));
  assert_equals(p.pathname, "/*.jpg");
  const host = new URLPattern({ hostname: "{*.}?example.com" });
  assert_true(host.test({ hostname: "example.com" }));
  assert_true(host.test({ hostname: "www.example.com" }));
  assert_false(host.test({ hostname: "example.org" }));
  assert_equals(host.exec({ hostname: "a.b.example.com" }).hostname.groups[0], "a.b");
  const sub = new URLPattern({ hostname: ":sub.example.com" });
  assert_equals(sub.exec({ hostname: "api.example.com" }).hostname.groups.sub, "api");
  assert_false(sub.test({ hostname: "a.b.example.com" }), "a segment stops at the . delimiter");
}, "wildcards and hostname segments");

test(() => {
  const p = new URLPattern({ pathname: "/blog/:id{/comments}?" });
  assert_true(p.test({ pathname: "/blog/1" }));
  assert_true(p.test({ pathname: "/blog/1/comments" }));
  assert_false(p.test({ pathname: "/blog/1/other" }));
  const g = new URLPattern({ pathname: "/{:lang/}?docs" });
  assert_equals(g.exec({ pathname: "/en/docs" }).pathname.groups.lang, "en");
  assert_true(g.test({ pathname: "/docs" }));
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/{a" }), "unclosed group");
}, "groups with { }");

test(() => {
  const p = new URLPattern({ pathname: "/\\:literal\\*" });
  assert_true(p.test({ pathname: "/:literal*" }));
  assert_false(p.test({ pathname: "/x" }));
  assert_equals(p.pathname, "/\\:literal\\*");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/:a/:a" }), "duplicate names");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/:" }), "a name is required");
  assert_throws_js(TypeError, () => new URLPattern({ pathname: "/a\\" }), "trailing backslash");
}, "escapes and invalid patterns");

test(() => {
  const p = new URLPattern({ pathname: "/FOO/:x" }, { ignoreCase: true });
  assert_true(p.test({ pathname: "/foo/bar" }));
  assert_true(new URLPattern("https://example.com/A", { ignoreCase: true }).test("https://example.com/a"));
  assert_false(new URLPattern({ pathname: "/FOO" }).test({ pathname: "/foo" }));
  assert_false(new URLPattern({ protocol: "HTTP" }, { ignoreCase: true }).test({ protocol: "https" }));
}, "ignoreCase");

test(() => {
  assert_equals(new URLPattern({ protocol: "HTTPS:" }).protocol, "https");
  assert_equals(new URLPattern({ hostname: "EXAMPLE.com" }).hostname, "example.com");
  assert_equals(new URLPattern({ hostname: "bücher.example" }).hostname, "xn--bcher-kva.example");
  assert_equals(new URLPattern({ pathname: "/café" }).pathname, "/caf%C3%A9");
  assert_equals(new URLPattern({ pathname: "/a b" }).pathname, "/a%20b");
  assert_equals(new URLPattern({ search: "?q=a b" }).search, "q=a%20b");
  assert_equals(new URLPattern({ hash: "#a b" }).hash, "a%20b");
  assert_equals(new URLPattern({ protocol: "https", port: "443" }).port, "", "default port");
  assert_throws_js(TypeError, () => new URLPattern({ hostname: "exa mple" }));
  assert_throws_js(TypeError, () => new URLPattern({ port: "99999" }));
  assert_true(new URLPattern({ pathname: "/caf%C3%A9" }).test("https://a.example/café"));
}, "components are canonicalized as the URL parser does");

test(() => {
  // ":" starts a named group: the colons of an address pattern are escaped.
  assert_throws_js(TypeError, () => new URLPattern({ hostname: "[::1]" }));
  const p = new URLPattern({ hostname: "[\\:\\:1]" });
  assert_equals(p.hostname, "[\\:\\:1]");
  assert_true(p.test("http://[::1]:8080/"));
  const q = new URLPattern("http://[\\:\\:1]:8080/x");
  assert_equals(q.hostname, "[\\:\\:1]");
  assert_equals(q.port, "8080");
  assert_throws_js(TypeError, () => new URLPattern({ hostname: "[\\:\\:g]" }));
}, "IPv6 hostnames");

test(() => {
  const p = new URLPattern({ protocol: "data", pathname: "text/plain,*" });
  assert_true(p.test("data:text/plain,hello"));
  assert_false(p.test("data:text/html,hello"));
  const q = new URLPattern("data\\:text/plain,*");
  assert_equals(q.protocol, "data", "an escaped colon still ends the protocol");
  assert_equals(q.pathname, "text/plain,*");
  assert_throws_js(TypeError, () => new URLPattern("data:text/plain,*"),
    "unescaped, \":text\" is a named group: a relative pattern with no base");
}, "non-special schemes have opaque pathnames");

test(() => {
  const p = new URLPattern({ pathname: "/foo" });
  assert_true(p.test("/foo", "https://example.com"));
  const r = p.exec("/foo", "https://example.com");
  assert_array_equals(r.inputs, ["/foo", "https://example.com"]);
  assert_throws_js(TypeError, () => p.test({ pathname: "/foo" }, "https://example.com"));
  assert_false(p.test("/foo"), "a relative URL with no base does not match");
  assert_equals(p.exec("not a url"), null);
  const init = { pathname: "/foo" };
  const byInit = p.exec(init);
  assert_object_equals(byInit.inputs[0], { pathname: "/foo" });
  assert_true(new URLPattern().test(), "everything matches the empty pattern's wildcards");
  assert_true(new URLPattern({}).test("https://any.example/thing?x#y"));
}, "test() and exec() inputs");

test(() => {
  const p = new URLPattern({ pathname: "/:a/:b" });
  const r = p.exec({ pathname: "/1/2", baseURL: "https://example.com" });
  assert_equals(r.protocol.input, "https");
  assert_equals(r.hostname.input, "example.com");
  assert_object_equals(r.pathname.groups, { a: "1", b: "2" });
  assert_equals(new URLPattern({ pathname: "/a/:b" }).exec({ pathname: "c", baseURL: "https://e.example/a/x" })
    .pathname.groups.b, "c", "a relative pathname in a URLPatternInit resolves against baseURL");
}, "matching a URLPatternInit with a baseURL");

test(() => {
  // Generated pattern strings (the getters) are normalized.
  const cases = [
    [{ pathname: "/:id" }, "/:id"],
    [{ pathname: "/([^\\/]+?)" }, "/([^\\/]+?)"],
    [{ pathname: "/(.*)" }, "/*"],
    [{ pathname: "/:a(.*)" }, "/:a(.*)"],
    [{ pathname: "{/a}?" }, "{/a}?"],
    [{ pathname: "/:name\\a" }, "{/:name}a"], // "a" would continue the name
    [{ pathname: "{:name\\b}" }, "{:name\\b}"],
    [{ pathname: "/{:a}b" }, "/{:a}b"],
    [{ hostname: "{:a.}?b" }, "{:a.}?b"],
  ];
  for (const [init, expected] of cases) {
    const p = new URLPattern(init);
    const got = init.hostname !== undefined ? p.hostname : p.pathname;
    assert_equals(got, expected, JSON.stringify(init));
  }
}, "pattern strings are normalized");

test(() => {
  assert_equals(typeof URLPattern, "function");
  assert_equals(Object.prototype.toString.call(new URLPattern()), "[object URLPattern]");
  assert_throws_js(TypeError, () => URLPattern.prototype.test.call({}, "https://a.example/"));
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(URLPattern.prototype, "pathname").get.call({}));
  assert_throws_dom("DataCloneError", () => structuredClone(new URLPattern()));
}, "URLPattern is a Web IDL interface");

test(() => {
  assert_equals(new URLPattern("https://example.com:443/").port, "", "default port in a string");
  assert_equals(new URLPattern("https://example.com").pathname, "*", "no path: any path");
  assert_equals(new URLPattern("https://example.com/foo?").search, "");
  const p = new URLPattern("https://example.com/books/:id?q=*");
  assert_equals(p.pathname, "/books/:id?q=*", "a ? after a name is its modifier ...");
  assert_equals(p.search, "*");
  const escaped = new URLPattern("https://example.com/books/:id\\?q=*");
  assert_equals(escaped.pathname, "/books/:id", "... an escaped one starts the search");
  assert_equals(escaped.search, "q=*");
  const opt = new URLPattern("https://example.com/books/:id?");
  assert_equals(opt.pathname, "/books/:id?");
  assert_true(new URLPattern({ pathname: "/foo/bar" }).test({ pathname: "/foo/./baz/../bar" }),
    "inputs are canonicalized (dot segments)");
  assert_true(new URLPattern("https://{sub.}?example.com/*").test("https://sub.example.com/x"));
}, "more constructor strings");

test(() => {
  // The port component is compiled without a protocol, so its fixed text is canonicalized
  // against no scheme: a "443" there is an ordinary number, not https's default port.
  const tail = new URLPattern({ protocol: "https", port: "443*" });
  assert_equals(tail.port, "443*");
  assert_true(tail.test({ protocol: "https", port: "4431" }));
  assert_false(tail.test({ protocol: "https", port: "8080" }));
  assert_equals(tail.exec({ protocol: "https", port: "4431" }).port.groups[0], "1");
  const head = new URLPattern({ port: "*443" });
  assert_equals(head.port, "*443");
  assert_true(head.test({ protocol: "http", port: "8443" }));
  assert_false(head.test({ protocol: "http", port: "8080" }));
  assert_equals(new URLPattern({ port: "{80}80" }).port, "8080");
  // A whole default port with its protocol is still dropped.
  assert_equals(new URLPattern({ protocol: "https", port: "443" }).port, "");
  assert_equals(new URLPattern({ protocol: "http", port: "80" }).port, "");
}, "a default port number inside a port pattern is kept");

test(() => {
  const p = new URLPattern({ pathname: "/:id((?<digits>\\d+))/:rest" });
  const r = p.exec({ pathname: "/42/x" });
  assert_not_equals(r, null);
  assert_array_equals(Object.keys(r.pathname.groups), ["id", "rest"],
    "a named group written inside a regexp is not a URLPattern group");
  assert_equals(r.pathname.groups.id, "42");
  const q = new URLPattern({ hash: "(a(?<inner>b))" });
  assert_object_equals(q.exec({ hash: "ab" }).hash.groups, { 0: "ab" });
  assert_false("undefined" in q.exec({ hash: "ab" }).hash.groups);
}, "exec() groups hold only the pattern's own groups");
