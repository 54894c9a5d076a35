// The URL setters, each with the basic URL parser's state override: one test per case.
// Each case is [href, setter, value, expected]: expected lists the components that change
// (every other component must keep its value), or is "TypeError" when the setter throws.
// Covered: protocol (special/non-special switches, file restrictions, default ports),
// username/password (userinfo percent-encoding, URLs that cannot have them), host and
// hostname (ports, failures that leave the URL alone, partial updates, file hosts,
// localhost), port (trailing garbage, range, default port), pathname (dot segments,
// backslashes, opaque paths, "/." prefix), search and hash (leading ?/#, encode sets,
// opaque paths ending in spaces).

const KEYS = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];

const cases = [
  ["https://example.com/a", "href", "http://other.example/b?c#d", {"href": "http://other.example/b?c#d", "protocol": "http:", "host": "other.example", "hostname": "other.example", "pathname": "/b", "search": "?c", "hash": "#d"}],
  ["https://example.com/a", "href", "/relative", "TypeError"],
  ["https://example.com/a", "protocol", "http", {"href": "http://example.com/a", "protocol": "http:"}],
  ["https://example.com/a", "protocol", "HTTP:", {"href": "http://example.com/a", "protocol": "http:"}],
  ["https://example.com/a", "protocol", "wss:ignored/rest", {"href": "wss://example.com/a", "protocol": "wss:"}],
  ["https://example.com:80/a", "protocol", "http", {"href": "http://example.com/a", "protocol": "http:", "host": "example.com", "port": ""}],
  ["http://example.com:443/a", "protocol", "https", {"href": "https://example.com/a", "protocol": "https:", "host": "example.com", "port": ""}],
  ["https://example.com/a", "protocol", "foo", {"href": "https://example.com/a"}],
  ["foo://example.com/a", "protocol", "https", {"href": "foo://example.com/a"}],
  ["foo://example.com/a", "protocol", "bar", {"href": "bar://example.com/a", "protocol": "bar:"}],
  ["https://example.com/a", "protocol", "file", {"href": "file://example.com/a", "protocol": "file:"}],
  ["file:///a", "protocol", "https", {"href": "file:///a"}],
  ["file://host/a", "protocol", "https", {"href": "https://host/a", "protocol": "https:"}],
  ["https://u@example.com/a", "protocol", "file", {"href": "https://u@example.com/a"}],
  ["https://example.com:8080/a", "protocol", "file", {"href": "https://example.com:8080/a"}],
  ["https://example.com/a", "protocol", "ht tp", {"href": "https://example.com/a"}],
  ["https://example.com/a", "protocol", "1http", {"href": "https://example.com/a"}],
  ["https://example.com/a", "protocol", "", {"href": "https://example.com/a"}],
  ["mailto:x@y", "protocol", "sc", {"href": "sc:x@y", "protocol": "sc:"}],
  ["https://example.com/", "username", "user", {"href": "https://user@example.com/", "username": "user"}],
  ["https://example.com/", "username", "us er@:/ü", {"href": "https://us%20er%40%3A%2F%C3%BC@example.com/", "username": "us%20er%40%3A%2F%C3%BC"}],
  ["https://u:p@example.com/", "username", "", {"href": "https://:p@example.com/", "username": ""}],
  ["file:///a", "username", "x", {"href": "file:///a"}],
  ["sc:opaque", "username", "x", {"href": "sc:opaque"}],
  ["sc:///p", "username", "x", {"href": "sc:///p"}],
  ["https://example.com/", "password", "secret", {"href": "https://:secret@example.com/", "password": "secret"}],
  ["https://example.com/", "password", "p@ss:w/o", {"href": "https://:p%40ss%3Aw%2Fo@example.com/", "password": "p%40ss%3Aw%2Fo"}],
  ["https://u:p@example.com/", "password", "", {"href": "https://u@example.com/", "password": ""}],
  ["file://host/a", "password", "x", {"href": "file://host/a"}],
  ["https://example.com/a", "host", "other.example", {"href": "https://other.example/a", "host": "other.example", "hostname": "other.example"}],
  ["https://example.com/a", "host", "other.example:8080", {"href": "https://other.example:8080/a", "host": "other.example:8080", "hostname": "other.example", "port": "8080"}],
  ["https://example.com:8080/a", "host", "other.example", {"href": "https://other.example:8080/a", "host": "other.example:8080", "hostname": "other.example"}],
  ["https://example.com/a", "host", "other.example:443", {"href": "https://other.example/a", "host": "other.example", "hostname": "other.example"}],
  ["https://example.com/a", "host", "other.example:99999", {"href": "https://other.example/a", "host": "other.example", "hostname": "other.example"}],
  ["https://example.com/a", "host", "other.example:12abc", {"href": "https://other.example:12/a", "host": "other.example:12", "hostname": "other.example", "port": "12"}],
  ["https://example.com/a", "host", "other.example:", {"href": "https://other.example/a", "host": "other.example", "hostname": "other.example"}],
  ["https://example.com/a", "host", "", {"href": "https://example.com/a"}],
  ["https://example.com/a", "host", "ex ample", {"href": "https://example.com/a"}],
  ["https://example.com/a", "host", "[::1]:2", {"href": "https://[::1]:2/a", "host": "[::1]:2", "hostname": "[::1]", "port": "2"}],
  ["https://example.com/a", "host", "0x7f.1", {"href": "https://127.0.0.1/a", "host": "127.0.0.1", "hostname": "127.0.0.1"}],
  ["https://example.com/a", "host", "bücher.de", {"href": "https://xn--bcher-kva.de/a", "host": "xn--bcher-kva.de", "hostname": "xn--bcher-kva.de"}],
  ["https://example.com/a", "host", "h/path?q#f", {"href": "https://h/a", "host": "h", "hostname": "h"}],
  ["https://example.com/a", "host", "h\\x", {"href": "https://h/a", "host": "h", "hostname": "h"}],
  ["sc://example.com/a", "host", "h\\x", {"href": "sc://example.com/a"}],
  ["sc://example.com/a", "host", "", {"href": "sc:///a", "host": "", "hostname": ""}],
  ["sc://u@example.com/a", "host", "", {"href": "sc://u@example.com/a"}],
  ["sc://example.com:1/a", "host", "", {"href": "sc://example.com:1/a"}],
  ["sc:opaque", "host", "x", {"href": "sc:opaque"}],
  ["file://host/a", "host", "other", {"href": "file://other/a", "host": "other", "hostname": "other"}],
  ["file://host/a", "host", "localhost", {"href": "file:///a", "host": "", "hostname": ""}],
  ["file://host/a", "host", "", {"href": "file:///a", "host": "", "hostname": ""}],
  ["file://host/a", "host", "other:80", {"href": "file://host/a"}],
  ["https://example.com/a", "host", "@x", {"href": "https://example.com/a"}],
  ["https://example.com/a", "host", "x@y", {"href": "https://example.com/a"}],
  ["https://example.com:8080/a", "hostname", "other.example", {"href": "https://other.example:8080/a", "host": "other.example:8080", "hostname": "other.example"}],
  ["https://example.com/a", "hostname", "other.example:8080", {"href": "https://example.com/a"}],
  ["https://example.com/a", "hostname", "[::1]", {"href": "https://[::1]/a", "host": "[::1]", "hostname": "[::1]"}],
  ["https://example.com/a", "hostname", "", {"href": "https://example.com/a"}],
  ["sc://example.com/a", "hostname", "", {"href": "sc:///a", "host": "", "hostname": ""}],
  ["file://host/a", "hostname", "localhost", {"href": "file:///a", "host": "", "hostname": ""}],
  ["sc:opaque", "hostname", "x", {"href": "sc:opaque"}],
  ["https://example.com/a", "port", "8080", {"href": "https://example.com:8080/a", "host": "example.com:8080", "port": "8080"}],
  ["https://example.com:8080/a", "port", "", {"href": "https://example.com/a", "host": "example.com", "port": ""}],
  ["https://example.com/a", "port", "443", {"href": "https://example.com/a"}],
  ["https://example.com/a", "port", "8080abc", {"href": "https://example.com:8080/a", "host": "example.com:8080", "port": "8080"}],
  ["https://example.com:1/a", "port", "abc", {"href": "https://example.com:1/a"}],
  ["https://example.com/a", "port", "65536", {"href": "https://example.com/a"}],
  ["https://example.com/a", "port", "0080", {"href": "https://example.com:80/a", "host": "example.com:80", "port": "80"}],
  ["https://example.com/a", "port", "8080/x", {"href": "https://example.com:8080/a", "host": "example.com:8080", "port": "8080"}],
  ["file://host/a", "port", "80", {"href": "file://host/a"}],
  ["sc:opaque", "port", "80", {"href": "sc:opaque"}],
  ["sc://h/a", "port", "21", {"href": "sc://h:21/a", "host": "h:21", "port": "21"}],
  ["https://example.com/a", "port", " 80", {"href": "https://example.com/a"}],
  ["https://example.com/a", "pathname", "/x/y", {"href": "https://example.com/x/y", "pathname": "/x/y"}],
  ["https://example.com/a", "pathname", "x/../z", {"href": "https://example.com/z", "pathname": "/z"}],
  ["https://example.com/a", "pathname", "", {"href": "https://example.com/", "pathname": "/"}],
  ["https://example.com/a", "pathname", "?#", {"href": "https://example.com/%3F%23", "pathname": "/%3F%23"}],
  ["https://example.com/a", "pathname", "\\a\\b", {"href": "https://example.com/a/b", "pathname": "/a/b"}],
  ["sc://h/a", "pathname", "\\a\\b", {"href": "sc://h/\\a\\b", "pathname": "/\\a\\b"}],
  ["sc://h/a", "pathname", "", {"href": "sc://h", "pathname": ""}],
  ["sc://h/a", "pathname", "x", {"href": "sc://h/x", "pathname": "/x"}],
  ["sc:opaque", "pathname", "/x", {"href": "sc:opaque"}],
  ["sc:/a", "pathname", "//x", {"href": "sc:/.//x", "pathname": "//x"}],
  ["file:///C:/a", "pathname", "/D|/b", {"href": "file:///D:/b", "pathname": "/D:/b"}],
  ["https://example.com/a", "pathname", " a b ", {"href": "https://example.com/%20a%20b%20", "pathname": "/%20a%20b%20"}],
  ["https://example.com/a", "search", "q=1", {"href": "https://example.com/a?q=1", "search": "?q=1"}],
  ["https://example.com/a", "search", "?q=1", {"href": "https://example.com/a?q=1", "search": "?q=1"}],
  ["https://example.com/a?q", "search", "", {"href": "https://example.com/a", "search": ""}],
  ["https://example.com/a", "search", "?", {"href": "https://example.com/a?"}],
  ["https://example.com/a", "search", "??x", {"href": "https://example.com/a??x", "search": "??x"}],
  ["https://example.com/a", "search", "a b#c'd", {"href": "https://example.com/a?a%20b%23c%27d", "search": "?a%20b%23c%27d"}],
  ["sc://h/a", "search", "a b#c'd", {"href": "sc://h/a?a%20b%23c'd", "search": "?a%20b%23c'd"}],
  ["sc:opaque", "search", "x", {"href": "sc:opaque?x", "search": "?x"}],
  ["sc:opaque ", "search", "x", {"href": "sc:opaque?x", "search": "?x"}],
  ["data:space  ?q", "search", "", {"href": "data:space %20", "search": ""}],
  ["https://example.com/a", "hash", "f", {"href": "https://example.com/a#f", "hash": "#f"}],
  ["https://example.com/a", "hash", "#f", {"href": "https://example.com/a#f", "hash": "#f"}],
  ["https://example.com/a#f", "hash", "", {"href": "https://example.com/a", "hash": ""}],
  ["https://example.com/a", "hash", "#", {"href": "https://example.com/a#"}],
  ["https://example.com/a", "hash", "##x", {"href": "https://example.com/a##x", "hash": "##x"}],
  ["https://example.com/a", "hash", "a b`c", {"href": "https://example.com/a#a%20b%60c", "hash": "#a%20b%60c"}],
  ["sc:opaque", "hash", "x", {"href": "sc:opaque#x", "hash": "#x"}],
  ["data:space  #f", "hash", "", {"href": "data:space %20", "hash": ""}],
  ["https://example.com/a", "hash", "\tf\n", {"href": "https://example.com/a#f", "hash": "#f"}]

];

for (const [href, setter, value, expected] of cases) {
  test(() => {
    const url = new URL(href);
    const before = Object.fromEntries(KEYS.map((k) => [k, url[k]]));
    if (expected === "TypeError") {
      assert_throws_js(TypeError, () => {
        url[setter] = value;
      });
      for (const k of KEYS) assert_equals(url[k], before[k], `${k} unchanged after the throw`);
      return;
    }
    url[setter] = value;
    for (const k of KEYS) {
      assert_equals(url[k], k in expected ? expected[k] : before[k], k);
    }
  }, `set ${setter} of ${JSON.stringify(href)} to ${JSON.stringify(value)}`);
}
