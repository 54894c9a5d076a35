// Streams the request body straight back: `curl -T bigfile localhost:8080 > copy`.
export default {
  fetch(request) {
    if (request.body === null) return new Response("POST or PUT something\n", { status: 400 });
    return new Response(request.body, {
      headers: { "content-type": request.headers.get("content-type") ?? "application/octet-stream" },
    });
  },
};
