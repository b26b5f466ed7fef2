// Helpers for `.ci/workers` (Node 18+, no packages):
//
//   node harness.mjs config <emulator.json> <site-dir>         writes <site-dir>/workerd.capnp
//   node harness.mjs wait <base-url> <seconds>                 until the Worker answers
//   node harness.mjs check <emulator.json> <base-url>          the checks; exit 1 on a failure
//   node harness.mjs faults <emulator.json> <site-dir> <workerd>
//                                                              broken peers: the same Worker
//                                                              against faulty JWKS and gateway
//
// <emulator.json> holds the line `cargo run --example workers_emulator` prints.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, relative, sep } from "node:path";

const [command, ...args] = process.argv.slice(2);

function readEmulator(path) {
  return JSON.parse(readFileSync(path, "utf8").split("\n")[0]);
}

// A Cap'n Proto text literal (its escapes are C's; JSON's are a subset for these values).
function text(value) {
  return JSON.stringify(String(value));
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

// The Worker's modules: the entry, wasm-bindgen's `index.js` and `index_bg.wasm`, and every
// `snippets/**.js` the bindings import.
function modulesOf(site) {
  const snippets = filesUnder(site)
    .map((path) => relative(site, path).split(sep).join("/"))
    .filter((name) => name.startsWith("snippets/") && name.endsWith(".js"))
    .sort();
  return [
    `(name = "entry.mjs", esModule = embed "entry.mjs")`,
    `(name = "index.js", esModule = embed "index.js")`,
    `(name = "index_bg.wasm", wasm = embed "index_bg.wasm")`,
    ...snippets.map((name) => `(name = ${text(name)}, esModule = embed ${text(name)})`),
  ];
}

// The workerd configuration: the Worker's modules (the entry, wasm-bindgen's `index.js` and
// `index_bg.wasm`, and every `snippets/**.js` the bindings import), one text binding per
// variable of the emulator's `env`, a socket on 127.0.0.1:8787 (`workerd serve
// --socket-addr http=<addr>` moves it), and outbound fetches allowed to loopback (workerd
// refuses `local` addresses otherwise: "connecting to 127.0.0.1:… is not allowed").
function config(emulatorPath, site) {
  const emulator = readEmulator(emulatorPath);
  const modules = modulesOf(site);
  const bindings = Object.entries(emulator.env).map(
    ([name, value]) => `(name = ${text(name)}, text = ${text(value)})`,
  );
  const capnp = `# Written by examples/workers/harness.mjs for .ci/workers; not checked in.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The Worker's fetch() may reach 127.0.0.1 (the local Wacht).
    (name = "loopback-allowed", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    ${modules.join(",\n    ")},
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    ${bindings.join(",\n    ")},
  ],
  globalOutbound = "loopback-allowed",
);
`;
  writeFileSync(join(site, "workerd.capnp"), capnp);
}

async function wait(base, seconds) {
  const deadline = Date.now() + Number(seconds) * 1000;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/`, { signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      return;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.error(`the Worker did not answer at ${base} within ${seconds} s (${last})`);
  process.exit(1);
}

async function check(emulatorPath, base) {
  const { tokens, api_keys: keys } = readEmulator(emulatorPath);
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const apiKey = (key) => ({ "x-api-key": key });
  // [name, path, headers, status, reason (non-200) or a check of the 200 body]
  const cases = [
    ["admin: no token", "/admin/users", {}, 401, "missing_token"],
    ["admin: expired token", "/admin/users", bearer(tokens.expired), 401, "token_expired"],
    ["admin: token without user:read", "/admin/users", bearer(tokens.without_user_read), 403, "missing_permission"],
    ["admin: token with user:read", "/admin/users", bearer(tokens.with_user_read), 200, (body) => body.user_id === "user_carol"],
    ["machine: no API key", "/machine/users", {}, 401, "missing_credential"],
    ["machine: unknown API key", "/machine/users", apiKey(keys.unknown), 401, "invalid_credential"],
    ["machine: key without user:read", "/machine/users", apiKey(keys.without_user_read), 403, "permission_denied"],
    ["machine: key with user:read", "/machine/users", apiKey(keys.with_user_read), 200, (body) => typeof body.key_id === "string"],
    ["machine: rate-limited key, 1st call", "/machine/users", apiKey(keys.rate_limited), 200, (body) => typeof body.key_id === "string"],
    ["machine: rate-limited key, 2nd call", "/machine/users", apiKey(keys.rate_limited), 429, "rate_limited"],
  ];
  let failed = 0;
  const total = cases.length + 1;
  // First, while the Worker has fetched no key yet: concurrent requests in one isolate, each
  // needing the JWKS (workerd refuses I/O objects shared across requests) and the gateway.
  {
    const burst = [
      ...Array.from({ length: 6 }, () => ["/admin/users", bearer(tokens.with_user_read)]),
      ...Array.from({ length: 6 }, () => ["/machine/users", apiKey(keys.with_user_read)]),
    ];
    const statuses = await Promise.all(
      burst.map(([path, headers]) =>
        fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(20000) })
          .then(async (response) => {
            const raw = await response.text();
            return response.status === 200 ? 200 : `${response.status} ${raw.slice(0, 200)}`;
          })
          .catch((error) => `request failed: ${error.cause?.message ?? error.message}`),
      ),
    );
    const wrong = statuses.filter((status) => status !== 200);
    const name = `both: ${burst.length} concurrent allowed calls, cold`;
    console.log(`${wrong.length ? "FAIL" : "ok  "} ${name.padEnd(38)} -> ${statuses.length - wrong.length} x 200`);
    for (const status of new Set(wrong)) console.log(`     ${status}`);
    if (wrong.length) failed += 1;
  }
  for (const [name, path, headers, status, expected] of cases) {
    const problems = [];
    let summary = "";
    let shown = "";
    try {
      const response = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(20000) });
      const raw = await response.text();
      shown = raw.slice(0, 300);
      let body = null;
      try {
        body = JSON.parse(raw);
      } catch {
        problems.push("the body is not JSON");
      }
      summary = `${response.status}`;
      if (response.status !== status) problems.push(`expected status ${status}`);
      if (status === 200) {
        summary += ` ${shown}`;
        if (body && !expected(body)) problems.push("unexpected body");
      } else if (body) {
        // The rejection: {"error", "reason", "message", ...} as JSON, not cached, and a
        // Bearer challenge on 401s.
        summary += ` ${body.error}/${body.reason}`;
        for (const field of ["error", "reason", "message"]) {
          if (typeof body[field] !== "string") problems.push(`no "${field}" string`);
        }
        if (body.reason !== expected) problems.push(`expected reason ${expected}`);
        const type = response.headers.get("content-type") ?? "";
        if (!type.startsWith("application/json")) problems.push(`content-type is ${JSON.stringify(type)}`);
        if (response.headers.get("cache-control") !== "no-store") problems.push("no Cache-Control: no-store");
        if (status === 401 && !(response.headers.get("www-authenticate") ?? "").startsWith("Bearer ")) {
          problems.push("no WWW-Authenticate: Bearer challenge");
        }
      }
      if (status === 429) {
        const retryAfter = response.headers.get("retry-after");
        summary += ` Retry-After: ${retryAfter}`;
        if (!/^[1-9][0-9]*$/.test(retryAfter ?? "")) problems.push("no positive Retry-After header");
        if (body && String(body.retry_after) !== retryAfter) problems.push(`body retry_after ${body.retry_after} differs from the header`);
      }
    } catch (error) {
      problems.push(`request failed: ${error.cause?.message ?? error.message}`);
    }
    const mark = problems.length === 0 ? "ok  " : "FAIL";
    console.log(`${mark} ${name.padEnd(38)} -> ${summary}${problems.length ? `  (${problems.join("; ")})` : ""}`);
    if (problems.length) {
      failed += 1;
      if (shown) console.log(`     body: ${shown}`);
    }
  }
  failed += await checkWebhooks(emulatorPath, base);
  if (failed) {
    console.log(`${failed} of ${total + WEBHOOK_CASES} checks failed`);
    process.exit(1);
  }
  console.log(`all ${total + WEBHOOK_CASES} checks passed`);
}

// A delivery as Wacht's platform makes it, signed here with Node's crypto (an implementation
// independent of the Worker's RustCrypto and the emulator's aws-lc-rs).
function delivery(secret, type, data, { id, timestamp }) {
  const body = JSON.stringify({ type, timestamp: new Date(timestamp * 1000).toISOString(), data });
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "Wacht-Webhook/1.0",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `v1,${signature}`,
    },
  };
}

const WEBHOOK_CASES = 4;

// `POST /hooks`, `#[wacht::webhook(event = "user.created")]`: the number of failed checks.
async function checkWebhooks(emulatorPath, base) {
  const secret = readEmulator(emulatorPath).env.WACHT_WEBHOOK_SECRET;
  const other = "whsec_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";
  const now = Math.floor(Date.now() / 1000);
  const ava = { entity_id: 42, entity_type: "user", id: "42", first_name: "Ava" };
  // [name, delivery, status, reason (refusals), check of a 200's body]
  const cases = [
    ["webhook: signed user.created", delivery(secret, "user.created", ava, { id: "msg_1", timestamp: now }), 200, null, (body) => body.webhook_id === "msg_1" && body.first_name === "Ava"],
    ["webhook: forged (another secret)", delivery(other, "user.created", ava, { id: "msg_2", timestamp: now }), 401, "signature_mismatch"],
    ["webhook: 10 minutes old", delivery(secret, "user.created", ava, { id: "msg_3", timestamp: now - 600 }), 401, "stale_timestamp"],
    ["webhook: user.deleted (not taken)", delivery(secret, "user.deleted", ava, { id: "msg_4", timestamp: now }), 204, null],
  ];
  let failed = 0;
  for (const [name, { body: sent, headers }, status, reason, check] of cases) {
    const problems = [];
    let summary = "";
    try {
      const response = await fetch(`${base}/hooks`, { method: "POST", headers, body: sent, signal: AbortSignal.timeout(20000) });
      const raw = await response.text();
      summary = `${response.status} ${raw.slice(0, 200)}`;
      if (response.status !== status) problems.push(`expected status ${status}`);
      if (status === 204 && raw !== "") problems.push("a 204 with a body");
      if (status === 200 && !check(JSON.parse(raw))) problems.push("unexpected body");
      if (reason) {
        const body = JSON.parse(raw);
        if (body.reason !== reason) problems.push(`expected reason ${reason}`);
        if (response.headers.get("www-authenticate") !== null) problems.push("a WWW-Authenticate challenge on a webhook 401");
      }
    } catch (error) {
      problems.push(`request failed: ${error.cause?.message ?? error.message}`);
    }
    console.log(`${problems.length ? "FAIL" : "ok  "} ${name.padEnd(38)} -> ${summary}${problems.length ? `  (${problems.join("; ")})` : ""}`);
    if (problems.length) failed += 1;
  }
  return failed;
}


// Broken peers, as tests/faults.rs plays them natively: the same Worker, configured against a
// JWKS or a gateway that redirects (to the real one, whose answer would be accepted), never
// answers, answers 2 MiB, or is down. Every such call must end in the typed 503, within the
// timeout (1.5 s here), and a redirect must never be followed. One workerd process serves one
// Worker per case, each on its own socket.
async function faults(emulatorPath, site, workerd) {
  const emulator = readEmulator(emulatorPath);
  const { env, tokens, api_keys: keys } = emulator;
  const servers = [];
  const held = [];
  const listen = (handler) =>
    new Promise((resolve) => {
      const server = createServer(handler);
      server.listen(0, "127.0.0.1", () => {
        servers.push(server);
        resolve(`http://127.0.0.1:${server.address().port}`);
      });
    });
  const jwksOrigin = new URL(emulator.jwks_url).origin;
  const gatewayOrigin = new URL(env.WACHT_GATEWAY_URL).origin;
  const fault = {
    // To the real service: following it would get a valid answer.
    redirect: (origin) =>
      listen((req, res) => {
        res.writeHead(307, { location: `${origin}${req.url}` });
        res.end();
      }),
    slow: () => listen((req, res) => held.push(res)),
    huge: () =>
      listen((req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = 32; // 2 MiB, chunked (no content-length)
        const write = () => {
          while (left > 0) {
            left -= 1;
            if (!res.write(chunk)) return res.once("drain", write);
          }
          res.end();
        };
        write();
      }),
    down: async () => {
      const url = await listen(() => {});
      const server = servers.pop();
      await new Promise((resolve) => server.close(resolve));
      return url;
    },
  };
  const expected = {
    gateway: { redirect: "gateway_error", slow: "gateway_timeout", huge: "gateway_invalid_response", down: "gateway_unreachable" },
    jwks: { redirect: "keys_unavailable", slow: "keys_timeout", huge: "keys_unavailable", down: "keys_unavailable" },
  };
  const cases = [];
  for (const kind of Object.keys(fault)) {
    const gateway = await fault[kind](gatewayOrigin);
    cases.push({
      name: `gateway ${kind}`,
      env: { ...env, WACHT_GATEWAY_URL: gateway, WACHT_HTTP_TIMEOUT_MS: "1500" },
      path: "/machine/users",
      headers: { "x-api-key": keys.with_user_read },
      reason: expected.gateway[kind],
    });
    const jwks = await fault[kind](jwksOrigin);
    cases.push({
      name: `JWKS ${kind}`,
      env: {
        ...env,
        WACHT_PUBLISHABLE_KEY: `pk_test_${Buffer.from(jwks).toString("base64")}`,
        WACHT_HTTP_TIMEOUT_MS: "1500",
      },
      path: "/admin/users",
      headers: { authorization: `Bearer ${tokens.with_user_read}` },
      reason: expected.jwks[kind],
    });
  }
  // After the TTL: a JWKS that answered once, then hangs. The request that refreshes waits
  // for its own fetch (up to the timeout) and then uses the keys it holds; the requests that
  // arrive meanwhile are served the held keys at once (wasm32 shares no fetch across requests).
  const relay = emulator.relay;
  let relayHangs = false;
  if (relay) {
    const port = Number(new URL(relay.origin).port);
    await new Promise((resolve) => {
      const server = createServer(async (req, res) => {
        if (relayHangs) return held.push(res);
        const upstream = await fetch(`${jwksOrigin}${req.url}`);
        res.writeHead(upstream.status, { "content-type": "application/json" });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      });
      server.listen(port, "127.0.0.1", () => {
        servers.push(server);
        resolve();
      });
    });
  }
  const refreshEnv = relay && {
    ...env,
    WACHT_PUBLISHABLE_KEY: `pk_test_${Buffer.from(relay.origin).toString("base64")}`,
    WACHT_JWKS_TTL_SECONDS: "1",
    WACHT_HTTP_TIMEOUT_MS: "1500",
  };
  const modules = modulesOf(site);
  const workers = [...cases.map((c) => c.env), ...(relay ? [refreshEnv] : [])];
  const services = workers.map(
    (bindings, i) => `(name = "case${i}", worker = (
      modules = [${modules.join(", ")}],
      compatibilityDate = "2026-11-01",
      bindings = [${Object.entries(bindings).map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`).join(", ")}],
      globalOutbound = "loopback-allowed",
    ))`,
  );
  const sockets = workers.map((_, i) => `(name = "case${i}", address = "127.0.0.1:0", http = (), service = "case${i}")`);
  writeFileSync(
    join(site, "faults.capnp"),
    `# Written by examples/workers/harness.mjs (faults); not checked in.
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")},
    (name = "loopback-allowed", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [${sockets.join(", ")}],
);
`,
  );
  const child = spawn(workerd, ["serve", join(site, "faults.capnp"), "--control-fd", "3"], {
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
  let failed = 0;
  try {
    const ports = await new Promise((resolve, reject) => {
      let seen = "";
      const found = {};
      child.stdio[3].on("data", (chunk) => {
        seen += chunk;
        for (const match of seen.matchAll(/"socket":"(case\d+)","port":(\d+)/g)) found[match[1]] = Number(match[2]);
        if (Object.keys(found).length === workers.length) resolve(found);
      });
      child.on("exit", (code) => reject(new Error(`workerd exited (${code})`)));
      setTimeout(() => reject(new Error("workerd did not report its sockets")), 60000);
    });
    const results = await Promise.all(
      cases.map(async (c, i) => {
        const started = Date.now();
        try {
          const response = await fetch(`http://127.0.0.1:${ports[`case${i}`]}${c.path}`, {
            headers: c.headers,
            signal: AbortSignal.timeout(20000),
          });
          const raw = await response.text();
          let body = {};
          try {
            body = JSON.parse(raw);
          } catch {}
          return { c, status: response.status, reason: body.reason, raw, ms: Date.now() - started };
        } catch (error) {
          return { c, status: 0, reason: `request failed: ${error.cause?.message ?? error.message}`, raw: "", ms: Date.now() - started };
        }
      }),
    );
    for (const { c, status, reason, raw, ms } of results) {
      const problems = [];
      if (status !== 503) problems.push("expected status 503");
      if (reason !== c.reason) problems.push(`expected reason ${c.reason}`);
      if (ms > 10000) problems.push("took longer than 10 s");
      const mark = problems.length ? "FAIL" : "ok  ";
      console.log(`${mark} fault: ${c.name.padEnd(31)} -> ${status} ${reason} (${ms} ms)${problems.length ? `  (${problems.join("; ")}) ${raw.slice(0, 200)}` : ""}`);
      if (problems.length) failed += 1;
    }
    if (relay) {
      const base = `http://127.0.0.1:${ports[`case${workers.length - 1}`]}`;
      const call = async () => {
        const started = Date.now();
        const response = await fetch(`${base}/admin/users`, {
          headers: { authorization: `Bearer ${relay.token}` },
          signal: AbortSignal.timeout(20000),
        });
        await response.text();
        return { status: response.status, ms: Date.now() - started };
      };
      const first = await call();
      await new Promise((resolve) => setTimeout(resolve, 1200)); // past the 1 s TTL
      relayHangs = true;
      const burst = await Promise.all(Array.from({ length: 5 }, call));
      const fast = burst.filter((r) => r.status === 200 && r.ms < 700).length;
      const problems = [];
      if (first.status !== 200) problems.push(`the first call answered ${first.status}`);
      if (burst.some((r) => r.status !== 200)) problems.push("a call was refused: the held keys must serve");
      if (fast < 4) problems.push(`only ${fast} of 5 were served at once`);
      const shown = burst.map((r) => `${r.status}/${r.ms}ms`).join(" ");
      const mark = problems.length ? "FAIL" : "ok  ";
      console.log(`${mark} fault: ${"JWKS hangs after the TTL".padEnd(31)} -> ${shown}${problems.length ? `  (${problems.join("; ")})` : ""}`);
      if (problems.length) failed += 1;
      // The refresh that hung for its whole timeout was a failure: the back-off started, so
      // a second burst (the JWKS still hanging) is served the held keys at once, every call.
      // Without recording it, one call per timeout window waits the full timeout for ever.
      const second = await Promise.all(Array.from({ length: 5 }, call));
      const secondFast = second.filter((r) => r.status === 200 && r.ms < 700).length;
      const secondShown = second.map((r) => `${r.status}/${r.ms}ms`).join(" ");
      const secondOk = secondFast === second.length;
      console.log(`${secondOk ? "ok  " : "FAIL"} fault: ${"second burst, JWKS still hangs".padEnd(31)} -> ${secondShown}${secondOk ? "" : `  (only ${secondFast} of 5 were served at once: the hung refresh started no back-off)`}`);
      if (!secondOk) failed += 1;
    }
  } finally {
    child.kill();
    for (const res of held) res.destroy();
    for (const server of servers) server.close();
  }
  if (failed) {
    console.log(`${failed} of ${workers.length} fault checks failed`);
    process.exit(1);
  }
  console.log(`all ${workers.length} fault checks passed`);
  process.exit(0);
}

switch (command) {
  case "config":
    config(...args);
    break;
  case "wait":
    await wait(...args);
    break;
  case "check":
    await check(...args);
    break;
  case "faults":
    await faults(...args);
    break;
  default:
    console.error("usage: node harness.mjs config|wait|check …");
    process.exit(2);
}
