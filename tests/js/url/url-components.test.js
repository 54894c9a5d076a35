// The URL getters: every component of URLs of each kind, and origin serialization
// (tuple origins for http(s)/ws(s)/ftp, blob: URLs taking their inner URL's origin when it
// is http(s), opaque origins serialized as "null").

const cases = [
  {"input": "https://user:pw@www.Example.com:8443/a/b.html?x=1&y=2#frag", "href": "https://user:pw@www.example.com:8443/a/b.html?x=1&y=2#frag", "origin": "https://www.example.com:8443", "protocol": "https:", "username": "user", "password": "pw", "host": "www.example.com:8443", "hostname": "www.example.com", "port": "8443", "pathname": "/a/b.html", "search": "?x=1&y=2", "hash": "#frag"},
  {"input": "http://[::1]:8080/", "href": "http://[::1]:8080/", "origin": "http://[::1]:8080", "protocol": "http:", "username": "", "password": "", "host": "[::1]:8080", "hostname": "[::1]", "port": "8080", "pathname": "/", "search": "", "hash": ""},
  {"input": "http://127.1:80/p", "href": "http://127.0.0.1/p", "origin": "http://127.0.0.1", "protocol": "http:", "username": "", "password": "", "host": "127.0.0.1", "hostname": "127.0.0.1", "port": "", "pathname": "/p", "search": "", "hash": ""},
  {"input": "file:///C:/dir/f.txt?q", "href": "file:///C:/dir/f.txt?q", "origin": "null", "protocol": "file:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "/C:/dir/f.txt", "search": "?q", "hash": ""},
  {"input": "file://host/share", "href": "file://host/share", "origin": "null", "protocol": "file:", "username": "", "password": "", "host": "host", "hostname": "host", "port": "", "pathname": "/share", "search": "", "hash": ""},
  {"input": "sc://u@opaque.host:22/p?q#f", "href": "sc://u@opaque.host:22/p?q#f", "origin": "null", "protocol": "sc:", "username": "u", "password": "", "host": "opaque.host:22", "hostname": "opaque.host", "port": "22", "pathname": "/p", "search": "?q", "hash": "#f"},
  {"input": "data:text/plain,hi?#", "href": "data:text/plain,hi?#", "origin": "null", "protocol": "data:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "text/plain,hi", "search": "", "hash": ""},
  {"input": "blob:https://example.com:8443/uuid", "href": "blob:https://example.com:8443/uuid", "origin": "https://example.com:8443", "protocol": "blob:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "https://example.com:8443/uuid", "search": "", "hash": ""},
  {"input": "blob:file:///x", "href": "blob:file:///x", "origin": "null", "protocol": "blob:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "file:///x", "search": "", "hash": ""},
  {"input": "blob:sc://x/y", "href": "blob:sc://x/y", "origin": "null", "protocol": "blob:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "sc://x/y", "search": "", "hash": ""},
  {"input": "ws://h/", "href": "ws://h/", "origin": "ws://h", "protocol": "ws:", "username": "", "password": "", "host": "h", "hostname": "h", "port": "", "pathname": "/", "search": "", "hash": ""},
  {"input": "wss://h:444/", "href": "wss://h:444/", "origin": "wss://h:444", "protocol": "wss:", "username": "", "password": "", "host": "h:444", "hostname": "h", "port": "444", "pathname": "/", "search": "", "hash": ""},
  {"input": "ftp://f/", "href": "ftp://f/", "origin": "ftp://f", "protocol": "ftp:", "username": "", "password": "", "host": "f", "hostname": "f", "port": "", "pathname": "/", "search": "", "hash": ""},
  {"input": "mailto:x@y", "href": "mailto:x@y", "origin": "null", "protocol": "mailto:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "x@y", "search": "", "hash": ""},
  {"input": "https://h/?", "href": "https://h/?", "origin": "https://h", "protocol": "https:", "username": "", "password": "", "host": "h", "hostname": "h", "port": "", "pathname": "/", "search": "", "hash": ""},
  {"input": "https://h/#", "href": "https://h/#", "origin": "https://h", "protocol": "https:", "username": "", "password": "", "host": "h", "hostname": "h", "port": "", "pathname": "/", "search": "", "hash": ""},
  {"input": "non-spec:/.//p", "href": "non-spec:/.//p", "origin": "null", "protocol": "non-spec:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "//p", "search": "", "hash": ""},
  {"input": "javascript:void(0)", "href": "javascript:void(0)", "origin": "null", "protocol": "javascript:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "void(0)", "search": "", "hash": ""},
  {"input": "http://xn--fa-hia.de/", "href": "http://xn--fa-hia.de/", "origin": "http://xn--fa-hia.de", "protocol": "http:", "username": "", "password": "", "host": "xn--fa-hia.de", "hostname": "xn--fa-hia.de", "port": "", "pathname": "/", "search": "", "hash": ""},
  {"input": "about:blank", "href": "about:blank", "origin": "null", "protocol": "about:", "username": "", "password": "", "host": "", "hostname": "", "port": "", "pathname": "blank", "search": "", "hash": ""}

];

for (const { input, ...expected } of cases) {
  test(() => {
    const url = new URL(input);
    for (const [key, value] of Object.entries(expected)) {
      assert_equals(url[key], value, key);
    }
  }, `components of ${JSON.stringify(input)}`);
}

test(() => {
  const url = new URL("https://example.com/a?b#c");
  assert_equals(String(url), url.href, "String()");
  assert_equals(`${url}`, url.href, "template");
  assert_equals(url.toString(), url.href, "toString");
  assert_equals(url.toJSON(), url.href, "toJSON");
  assert_equals(JSON.stringify({ url }), '{"url":"https://example.com/a?b#c"}', "JSON.stringify");
}, "href is the stringifier and toJSON");

test(() => {
  const url = new URL("https://example.com/");
  assert_equals(url.search, "", "search without query");
  assert_equals(url.hash, "", "hash without fragment");
  url.search = "?";
  assert_equals(url.href, "https://example.com/?", "an empty query still serializes its ?");
  assert_equals(url.search, "", "search of an empty query");
}, "search and hash are empty for null and empty components");
