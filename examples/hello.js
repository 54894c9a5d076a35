// The smallest worker: `isoflow serve examples/hello.js`, then `curl localhost:8080`.
addEventListener("fetch", (event) => {
  event.respondWith(new Response("Hello from isoflow!\n", {
    headers: { "content-type": "text/plain; charset=utf-8" },
  }));
});
