// The one worker script every runtime in bench/compare serves, unchanged.
//   /                      "Hello, world!"
//   /generate?bytes=N      N bytes from a ReadableStream whose pull enqueues 64 KiB chunks
//   /proxy?upstream=URL    return fetch(URL): an untouched upstream body, forwarded
//   /slow?chunks=N&ms=T    one 64-byte chunk at once, then one every T ms (time to first byte)
//   /upload?upstream=URL   POST request.body to URL untouched, with the request's Content-Length
const CHUNK = new Uint8Array(65536).fill(120);

function generate(total) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(CHUNK.length, total - sent);
      controller.enqueue(CHUNK.slice(0, n));
      sent += n;
    },
  });
}

function slow(chunks, ms) {
  const line = new TextEncoder().encode("x".repeat(63) + "\n");
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent >= chunks) return controller.close();
      if (sent > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      controller.enqueue(line.slice());
      sent += 1;
    },
  });
}

export default {
  fetch(request) {
    const url = new URL(request.url);
    const query = url.searchParams;
    switch (url.pathname) {
      case "/generate":
        return new Response(generate(Number(query.get("bytes"))), {
          headers: { "content-type": "application/octet-stream" },
        });
      case "/proxy":
        return fetch(query.get("upstream"));
      case "/upload": {
        const length = request.headers.get("content-length");
        return fetch(query.get("upstream"), {
          method: "POST",
          body: request.body,
          headers: length === null ? {} : { "content-length": length },
          duplex: "half", // the Fetch standard asks for it with a stream body (isoflow does)
        });
      }
      case "/slow":
        return new Response(slow(Number(query.get("chunks") ?? 10), Number(query.get("ms") ?? 100)), {
          headers: { "content-type": "text/plain" },
        });
      default:
        return new Response("Hello, world!\n");
    }
  },
};
