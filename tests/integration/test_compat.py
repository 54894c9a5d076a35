"""Compatibility: realistic Workers scripts, written the way Cloudflare's docs show them,
served unchanged (router, JSON API, HTML rewriting with streams, cookies, signed URLs)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp

from tests.conftest import fetch, run

ROUTER = r"""
// A tiny router in the style of itty-router, with path parameters.
class Router {
  constructor() { this.routes = []; }
  add(method, pattern, handler) {
    const keys = [];
    const re = new RegExp("^" + pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return "([^/]+)"; }) + "$");
    this.routes.push({ method, re, keys, handler });
    return this;
  }
  get(p, h) { return this.add("GET", p, h); }
  post(p, h) { return this.add("POST", p, h); }
  async handle(request, env, ctx) {
    const url = new URL(request.url);
    for (const r of this.routes) {
      const m = url.pathname.match(r.re);
      if (m && r.method === request.method) {
        const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
        return r.handler(request, { params, url, env, ctx });
      }
    }
    return new Response("Not found", { status: 404 });
  }
}

// -- a JSON API with an in-memory store ---------------------------------------------------
const todos = new Map();
let nextId = 1;

const json = (data, status = 200) => Response.json(data, { status });

// -- signed URLs (HMAC-SHA256, as in Cloudflare's "sign requests" example) ------------------
const encoder = new TextEncoder();
async function hmacKey(secret) {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" },
    false, ["sign", "verify"]);
}
function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

// -- HTML rewriting with streams: "title" becomes "TITLE", even split across chunks --------
function rewriteTitles() {
  const decoder = new TextDecoder();
  let carry = "";
  const KEEP = "title".length - 1; // a word cut in half waits for the next chunk
  return new TransformStream({
    transform(chunk, controller) {
      const text = (carry + decoder.decode(chunk, { stream: true })).replaceAll("title", "TITLE");
      carry = text.slice(-KEEP);
      controller.enqueue(encoder.encode(text.slice(0, -KEEP)));
    },
    flush(controller) {
      controller.enqueue(encoder.encode((carry + decoder.decode()).replaceAll("title", "TITLE")));
    },
  });
}

const router = new Router()
  .get("/", () => new Response("home"))
  .get("/todos", () => json([...todos.values()]))
  .post("/todos", async (request) => {
    let body;
    try {
      body = await request.json();
    } catch {
      return json({ error: "invalid JSON" }, 400);
    }
    if (typeof body.title !== "string") return json({ error: "title required" }, 422);
    const todo = { id: nextId++, title: body.title, done: false };
    todos.set(todo.id, todo);
    return json(todo, 201);
  })
  .get("/todos/:id", (request, { params }) => {
    const todo = todos.get(Number(params.id));
    return todo ? json(todo) : json({ error: "not found" }, 404);
  })
  .get("/cookies", (request) => {
    const cookies = Object.fromEntries((request.headers.get("cookie") ?? "").split(/;\s*/)
      .filter(Boolean).map((c) => c.split("=")));
    const visits = Number(cookies.visits ?? 0) + 1;
    const headers = new Headers({ "content-type": "text/plain" });
    headers.append("set-cookie", `visits=${visits}; Path=/; HttpOnly`);
    headers.append("set-cookie", `last=${Date.now()}; Path=/`);
    return new Response(`visit ${visits}`, { headers });
  })
  .get("/signed/:name", async (request, { params, url, env }) => {
    const expires = Number(url.searchParams.get("expires"));
    const signature = url.searchParams.get("sig") ?? "";
    if (!expires || Date.now() / 1000 > expires) return new Response("link expired", { status: 403 });
    const key = await hmacKey(env.SIGNING_SECRET);
    const ok = await crypto.subtle.verify("HMAC", key, fromHex(signature),
      encoder.encode(`${params.name}:${expires}`));
    return ok ? new Response(`here is ${params.name}`) : new Response("bad signature", { status: 403 });
  })
  .get("/page", (request, { env }) => {
    const html = "<html><body>" + Array.from({ length: 200 }, (_, i) => `<h1>title ${i}</h1><p>text</p>`).join("") + "</body></html>";
    // Deliver the page in small odd-sized pieces to exercise the rewriter's carry-over.
    const bytes = encoder.encode(html);
    let offset = 0;
    const source = new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 37));
        offset += 37;
      },
    });
    return new Response(source.pipeThrough(rewriteTitles()), {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  });

export default {
  fetch: (request, env, ctx) => router.handle(request, env, ctx),
};
"""

SECRET = "compat-secret"


def start(serve):
    return serve(ROUTER, "--var", f"SIGNING_SECRET={SECRET}", workers=1, name="app.mjs")


def test_router_and_json_api(serve):
    server = start(serve)
    assert run(fetch(server.url("/")))[2] == b"home"
    assert run(fetch(server.url("/nope")))[0] == 404
    status, _, body = run(fetch(server.url("/todos"), "POST", json={"title": "write tests"}))
    assert status == 201 and json.loads(body) == {"id": 1, "title": "write tests", "done": False}
    assert run(fetch(server.url("/todos"), "POST", data=b"{not json"))[0] == 400
    assert run(fetch(server.url("/todos"), "POST", json={"nope": 1}))[0] == 422
    assert json.loads(run(fetch(server.url("/todos/1")))[2])["title"] == "write tests"
    assert run(fetch(server.url("/todos/99")))[0] == 404
    assert len(json.loads(run(fetch(server.url("/todos")))[2])) == 1


def test_cookies_round_trip(serve):
    server = start(serve)

    async def two_visits():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            async with s.get(server.url("/cookies")) as r:
                first = await r.text()
                set_cookies = r.headers.getall("Set-Cookie")
            async with s.get(server.url("/cookies")) as r:
                return first, set_cookies, await r.text()

    first, set_cookies, second = run(two_visits())
    assert first == "visit 1" and second == "visit 2"
    assert len(set_cookies) == 2 and set_cookies[0].startswith("visits=1;")


def test_signed_url_checked_with_hmac(serve):
    server = start(serve)
    expires = int(time.time()) + 60
    sig = hmac.new(SECRET.encode(), f"report.pdf:{expires}".encode(), hashlib.sha256).hexdigest()
    ok = run(fetch(server.url(f"/signed/report.pdf?expires={expires}&sig={sig}")))
    assert ok[0] == 200 and ok[2] == b"here is report.pdf"
    bad = run(fetch(server.url(f"/signed/other.pdf?expires={expires}&sig={sig}")))
    assert bad[0] == 403 and bad[2] == b"bad signature"
    old = run(fetch(server.url(f"/signed/report.pdf?expires={int(time.time()) - 1}&sig={sig}")))
    assert old[0] == 403 and old[2] == b"link expired"


def test_html_rewritten_through_a_transform_stream(serve):
    server = start(serve)
    status, headers, body = run(fetch(server.url("/page")))
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    html = body.decode()
    assert html.count("<h1>TITLE ") == 200 and "<h1>title" not in html
    assert html.endswith("</body></html>")
