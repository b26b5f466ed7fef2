// workerd entry for the session-check benchmark. Routes (all take `?n=`):
//   /js         n bare crypto.subtle.verify calls on the token (the platform's floor)
//   /interop    n crypto.subtle.verify calls made from Rust (wasm-bindgen, JsFuture)
//   /webcrypto  n full session checks in Rust, signatures with WebCrypto
//   /rustcrypto n full session checks in Rust, signatures with RustCrypto
// Each answers the number of checks that passed. workerd's clocks do not advance while a
// request computes, so the client times the requests (benches/workerd/client.mjs).
import { initSync, check_many, interop_many } from "./index.js";
import wasm from "./index_bg.wasm";
initSync({ module: wasm });

let floor;

async function jsFloor(env) {
  if (!floor) {
    const [header, payload, signature] = env.TOKEN.split(".");
    const key = await crypto.subtle.importKey(
      "jwk", JSON.parse(env.JWK), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const base64 = signature.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    floor = { key, signature: bytes, data: new TextEncoder().encode(`${header}.${payload}`) };
  }
  return floor;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "1");
    let passed = 0;
    if (url.pathname === "/js") {
      const { key, signature, data } = await jsFloor(env);
      for (let i = 0; i < n; i++) {
        if (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, data)) {
          passed++;
        }
      }
    } else if (url.pathname === "/interop") {
      const { key, signature, data } = await jsFloor(env);
      passed = await interop_many(crypto.subtle, { name: "ECDSA", hash: "SHA-256" }, key, signature, data, n);
    } else if (url.pathname === "/webcrypto" || url.pathname === "/rustcrypto") {
      passed = await check_many(env.TOKEN, env.PEM, env.ISSUER, n, url.pathname === "/webcrypto");
    } else {
      return new Response("not found", { status: 404 });
    }
    return new Response(String(passed));
  },
};
