// A response produced as it is sent: each line leaves as soon as it is made.
export default {
  fetch(request, env, ctx) {
    const encoder = new TextEncoder();
    let n = 0;
    const body = new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.enqueue(encoder.encode(`tick ${n}\n`));
        if (++n === 10) controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  },
};
