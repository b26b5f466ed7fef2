// Helpers for `.ci/workers` (Node 18+, no packages):
//
//   node harness.mjs config <emulator.json> <site-dir>         writes <site-dir>/workerd.capnp
//   node harness.mjs wait <base-url> <seconds>                 until the Worker answers
//   node harness.mjs check <emulator.json> <base-url>          the checks; exit 1 on a failure
//
// <emulator.json> holds the line `cargo run --example workers_emulator` prints.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
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

// The workerd configuration: the Worker's modules (the entry, wasm-bindgen's `index.js` and
// `index_bg.wasm`, and every `snippets/**.js` the bindings import), one text binding per
// variable of the emulator's `env`, a socket on 127.0.0.1:8787 (`workerd serve
// --socket-addr http=<addr>` moves it), and outbound fetches allowed to loopback (workerd
// refuses `local` addresses otherwise: "connecting to 127.0.0.1:… is not allowed").
function config(emulatorPath, site) {
  const emulator = readEmulator(emulatorPath);
  const snippets = filesUnder(site)
    .map((path) => relative(site, path).split(sep).join("/"))
    .filter((name) => name.startsWith("snippets/") && name.endsWith(".js"))
    .sort();
  const modules = [
    `(name = "entry.mjs", esModule = embed "entry.mjs")`,
    `(name = "index.js", esModule = embed "index.js")`,
    `(name = "index_bg.wasm", wasm = embed "index_bg.wasm")`,
    ...snippets.map((name) => `(name = ${text(name)}, esModule = embed ${text(name)})`),
  ];
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
  if (failed) {
    console.log(`${failed} of ${total} checks failed`);
    process.exit(1);
  }
  console.log(`all ${total} checks passed`);
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
  default:
    console.error("usage: node harness.mjs config|wait|check …");
    process.exit(2);
}
