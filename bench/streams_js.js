// Pure-JS streams throughput, the same source for isoflow's isolate and for Node's web
// streams (bench/streams_js.py runs it in both). Only Web APIs are used; the host supplies
// `now()` (milliseconds). Each case moves `totalBytes` per run and is run again and again for
// at least `minMs` (after one warm-up run), so that a millisecond clock is precise enough.
//
// Cases (TOTAL bytes in CHUNK-byte chunks; the chunk is preallocated so that we measure the
// streams, not the allocator, except where a byte stream requires a fresh buffer per chunk):
//   read        ReadableStream (pull source) -> default reader loop
//   pipe        ReadableStream -> pipeThrough(identity TransformStream) -> pipeTo(WritableStream)
//   bytes-read  readable byte stream (enqueue transfers, so a fresh chunk each time) -> reader
//   tee-read    ReadableStream -> tee() -> both branches read concurrently

async function streamsBench({ totalBytes, chunkSize, minMs }) {
  const chunk = new Uint8Array(chunkSize);
  const count = Math.floor(totalBytes / chunkSize);

  function source() {
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent === count) {
          controller.close();
          return;
        }
        sent++;
        controller.enqueue(chunk);
      },
    }, { highWaterMark: 16 });
  }

  function byteSource() {
    let sent = 0;
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        if (sent === count) {
          controller.close();
          return;
        }
        sent++;
        controller.enqueue(new Uint8Array(chunkSize));
      },
    }, { highWaterMark: chunkSize * 16 });
  }

  async function readAllBytes(stream) {
    const reader = stream.getReader();
    let total = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return total;
      total += value.byteLength;
    }
  }

  const cases = {
    async read() {
      return readAllBytes(source());
    },
    async pipe() {
      let total = 0;
      await source()
        .pipeThrough(new TransformStream())
        .pipeTo(new WritableStream({ write(c) { total += c.byteLength; } }, { highWaterMark: 16 }));
      return total;
    },
    async "bytes-read"() {
      return readAllBytes(byteSource());
    },
    async "tee-read"() {
      const [a, b] = source().tee();
      const [x, y] = await Promise.all([readAllBytes(a), readAllBytes(b)]);
      return Math.min(x, y);
    },
  };

  const results = {};
  for (const [name, run] of Object.entries(cases)) {
    await run(); // warm-up
    let runs = 0;
    const t0 = now();
    let elapsed;
    do {
      const bytes = await run();
      if (bytes !== count * chunkSize) throw new Error(`${name}: moved ${bytes} bytes`);
      runs++;
      elapsed = now() - t0;
    } while (elapsed < minMs);
    const bytes = runs * count * chunkSize;
    results[name] = { runs, ms: elapsed, mbPerS: bytes / 1e6 / (elapsed / 1e3) };
  }
  return results;
}
