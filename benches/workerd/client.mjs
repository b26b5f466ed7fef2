// Drives the session-check benchmark: makes an ES256 key and token, writes the workerd config
// into <site>, starts workerd, times the routes of entry.mjs and prints the per-check costs and
// their ratios to the bare crypto.subtle.verify floor.
//
//   node client.mjs <workerd binary> <site dir> [checks per request] [rounds]
import { generateKeyPairSync, sign } from "node:crypto";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const [workerd, site, perRequest = "2000", rounds = "9"] = process.argv.slice(2);
const N = Number(perRequest);
const ROUNDS = Number(rounds);

const issuer = "https://bench.wacht.test";
const b64 = (data) => Buffer.from(data).toString("base64url");
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const now = Math.floor(Date.now() / 1000);
const input = `${b64(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "k1" }))}.${b64(JSON.stringify({
  iss: issuer, sub: "user_bench", sid: "sess_bench", iat: now, exp: now + 3600,
  organization_id: "org_1", organization_permissions: ["user:read"],
}))}`;
const token = `${input}.${b64(sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }))}`;
const text = (value) => JSON.stringify(value);
const bindings = {
  TOKEN: token,
  PEM: publicKey.export({ format: "pem", type: "spki" }),
  JWK: JSON.stringify(publicKey.export({ format: "jwk" })),
  ISSUER: issuer,
};
writeFileSync(join(site, "workerd.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "entry.mjs", esModule = embed "entry.mjs"),
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    ${Object.entries(bindings).map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`).join(",\n    ")},
  ],
);
`);

const workerdVersion = (await new Promise((resolve) => {
  let out = "";
  const version = spawn(workerd, ["--version"]);
  version.stdout.on("data", (chunk) => { out += chunk; });
  version.on("exit", () => resolve(out.trim()));
}));
const child = spawn(workerd, ["serve", join(site, "workerd.capnp"), "--control-fd", "3"], {
  stdio: ["ignore", "inherit", "inherit", "pipe"],
});
const port = await new Promise((resolve, reject) => {
  let seen = "";
  child.stdio[3].on("data", (chunk) => {
    seen += chunk;
    const match = seen.match(/"socket":"http","port":(\d+)/);
    if (match) resolve(Number(match[1]));
  });
  child.on("exit", (code) => reject(new Error(`workerd exited (${code})`)));
});
const base = `http://127.0.0.1:${port}`;

async function timed(route, n) {
  const started = process.hrtime.bigint();
  const response = await fetch(`${base}/${route}?n=${n}`);
  const passed = Number(await response.text());
  const elapsed = Number(process.hrtime.bigint() - started) / 1e3;
  if (response.status !== 200 || passed !== n) {
    throw new Error(`${route}: HTTP ${response.status}, ${passed} of ${n} checks passed`);
  }
  return elapsed;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const routes = ["js", "interop", "webcrypto", "rustcrypto"];
const perCheck = Object.fromEntries(routes.map((route) => [route, []]));
try {
  for (const route of routes) await timed(route, 200); // warm up: JIT, key imports
  // Rounds interleave the routes, so drift on a noisy machine hits them alike; each sample
  // subtracts an empty request's time (the HTTP round trip).
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of routes) {
      const empty = await timed(route, 0);
      perCheck[route].push((await timed(route, N) - empty) / N);
    }
  }
} finally {
  child.kill();
}
// Each round's ratio to that round's floor, then the median: robust to drift between rounds.
const ratio = (route) => median(perCheck[route].map((cost, round) => cost / perCheck.js[round]));
console.log(`${workerdVersion}: ${N} checks per request, median of ${ROUNDS} rounds`);
console.log("route        µs per check   ratio to the floor (median of per-round ratios)");
for (const route of routes) {
  console.log(`${route.padEnd(12)} ${median(perCheck[route]).toFixed(1).padStart(12)}   ${ratio(route).toFixed(2)}×`);
}
