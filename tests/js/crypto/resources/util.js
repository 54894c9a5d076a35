// Helpers shared by the Web Crypto tests.

function hex(buffer) {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) :
    new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(s) {
  s = s.replace(/\s+/g, "");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

function utf8(s) {
  return new TextEncoder().encode(s);
}

function fromBase64(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function base64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The DER bytes of a PEM block. */
function pem(text) {
  return fromBase64(text.replace(/-----(BEGIN|END) [A-Z ]+-----/g, ""));
}

function repeat(byte, n) {
  return new Uint8Array(n).fill(byte);
}

/**
 * Whether `promise` settled before a microtask queued right after the call ran: WPT's
 * check that normalization errors reject "at once" and operation errors "in parallel".
 */
async function settlesEarly(promise) {
  let microtask = false;
  let early;
  const observed = promise.then(() => { early = !microtask; }, () => { early = !microtask; });
  Promise.resolve().then(() => { microtask = true; });
  await observed;
  return early;
}
