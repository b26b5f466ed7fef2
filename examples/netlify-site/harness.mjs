// Checks for `.ci/netlify` (Node 18+, no packages): the guide's two functions, served by
// Netlify's own local tooling or by `cargo lambda watch`, called over HTTP.
//
//   node harness.mjs wait <base-url> <seconds>               until both functions answer
//   node harness.mjs check <emulator.json> <base-url>        the guide's outcomes; exit 1 on a failure
//   node harness.mjs env-file <quickstart-output> <env-file> the env file block the quickstart printed
//   node harness.mjs curls <env-file> <admin-url> <machine-url>
//                                                            the README's curls: 200 for the valid
//                                                            token and key
//
// <base-url> serves `/.netlify/functions/<name>` (`netlify functions:serve`). <emulator.json>
// holds the line `cargo run --example workers_emulator` prints.
import { readFileSync, writeFileSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
const ADMIN = "/.netlify/functions/admin-users";
const MACHINE = "/.netlify/functions/machine-users";

function readEmulator(path) {
  return JSON.parse(readFileSync(path, "utf8").split("\n")[0]);
}

async function call(url, headers) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(30000) });
  const raw = await response.text();
  let body = null;
  try {
    body = JSON.parse(raw);
  } catch {
    // reported by the caller
  }
  return { status: response.status, headers: response.headers, raw, body };
}

// Until both functions answer a call without credentials with their JSON 401 (the CLI builds
// them with cargo first: cold, that takes minutes).
async function wait(base, seconds) {
  const until = Date.now() + Number(seconds) * 1000;
  let last = "";
  while (Date.now() < until) {
    try {
      const answers = await Promise.all([call(`${base}${ADMIN}`, {}), call(`${base}${MACHINE}`, {})]);
      if (answers.every((answer) => answer.status === 401 && answer.body?.error === "unauthenticated")) {
        return;
      }
      last = answers.map((answer) => `${answer.status} ${answer.raw.slice(0, 120)}`).join(" | ");
    } catch (error) {
      last = error.cause?.message ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.error(`the functions did not answer within ${seconds} s; last: ${last}`);
  process.exit(1);
}

// Prints one line per case, returns whether it passed.
function report(name, problems, summary) {
  console.log(`${problems.length ? "FAIL" : "ok  "} ${name.padEnd(40)} -> ${summary}`);
  for (const problem of problems) console.log(`     ${problem}`);
  return problems.length === 0;
}

async function check(emulatorPath, base) {
  const { tokens, api_keys: keys, env } = readEmulator(emulatorPath);
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const apiKey = (key) => ({ "x-api-key": key });
  const twentyUsers = (body) => Array.isArray(body?.users) && body.users.length === 20;
  // [name, path, headers, status, reason (non-200) or a check of the 200 body]
  const cases = [
    ["admin: no token", ADMIN, {}, 401, "missing_token"],
    ["admin: expired token", ADMIN, bearer(tokens.expired), 401, "token_expired"],
    ["admin: token without user:read", ADMIN, bearer(tokens.without_user_read), 403, "missing_permission"],
    ["admin: token with user:read", ADMIN, bearer(tokens.with_user_read), 200,
      (body) => twentyUsers(body) && body.requested_by === "user_carol"],
    ["machine: no API key", MACHINE, {}, 401, "missing_credential"],
    ["machine: unknown API key", MACHINE, apiKey(keys.unknown), 401, "invalid_credential"],
    ["machine: key without user:read", MACHINE, apiKey(keys.without_user_read), 403, "permission_denied"],
    ["machine: key with user:read", MACHINE, apiKey(keys.with_user_read), 200,
      (body) => twentyUsers(body) && body.key_name === "reporting job"],
    ["machine: rate-limited key, 1st call", MACHINE, apiKey(keys.rate_limited), 200, twentyUsers],
    ["machine: rate-limited key, 2nd call", MACHINE, apiKey(keys.rate_limited), 429, "rate_limited"],
  ];
  let failed = 0;
  for (const [name, path, headers, status, expected] of cases) {
    const problems = [];
    let summary = "";
    try {
      const answer = await call(`${base}${path}`, headers);
      summary = `${answer.status} ${answer.raw.slice(0, 140)}`;
      if (answer.status !== status) problems.push(`expected status ${status}`);
      if (!answer.body) problems.push("the body is not JSON");
      if (!(answer.headers.get("content-type") ?? "").startsWith("application/json")) {
        problems.push(`content-type ${answer.headers.get("content-type")}`);
      }
      if (status === 200) {
        if (answer.body && !expected(answer.body)) problems.push("unexpected body");
      } else if (answer.body?.reason !== expected) {
        problems.push(`expected reason ${expected}`);
      }
      if (status === 401 && !answer.headers.get("www-authenticate")) problems.push("no WWW-Authenticate");
      if (status === 429 && !/^\d+$/.test(answer.headers.get("retry-after") ?? "")) {
        problems.push("no Retry-After in seconds");
      }
      // What a caller sees never holds a credential or the backend key.
      const secrets = [...Object.values(tokens), ...Object.values(keys), env.WACHT_API_KEY];
      if (secrets.some((secret) => answer.raw.includes(secret))) problems.push("a secret is in the answer");
    } catch (error) {
      problems.push(`request failed: ${error.cause?.message ?? error.message}`);
    }
    if (!report(name, problems, summary)) failed += 1;
  }
  console.log(`${cases.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// The `NAME="value"` lines the quickstart prints after "As an env file".
function envFile(outputPath, envPath) {
  const output = readFileSync(outputPath, "utf8");
  const lines = output.split("\n").filter((line) => /^WACHT_[A-Z0-9_]+=".*"$/.test(line));
  if (lines.length < 4) {
    console.error(`no env file block in the quickstart's output:\n${output}`);
    process.exit(1);
  }
  writeFileSync(envPath, lines.join("\n") + "\n");
}

function readEnvFile(path) {
  return Object.fromEntries(
    readFileSync(path, "utf8")
      .split("\n")
      .map((line) => line.match(/^([A-Z0-9_]+)="(.*)"$/))
      .filter(Boolean)
      .map(([, name, value]) => [name, value]),
  );
}

// The README's two curls (a token and a key with user:read), plus the refusals next to them.
async function curls(envPath, adminUrl, machineUrl) {
  const env = readEnvFile(envPath);
  const cases = [
    ["admin: token with user:read", adminUrl, { authorization: `Bearer ${env.WACHT_TEST_TOKEN_WITH_USER_READ}` }, 200],
    ["admin: token without user:read", adminUrl, { authorization: `Bearer ${env.WACHT_TEST_TOKEN_WITHOUT_USER_READ}` }, 403],
    ["admin: expired token", adminUrl, { authorization: `Bearer ${env.WACHT_TEST_TOKEN_EXPIRED}` }, 401],
    ["machine: key with user:read", machineUrl, { "x-api-key": env.WACHT_TEST_API_KEY_WITH_USER_READ }, 200],
    ["machine: key without user:read", machineUrl, { "x-api-key": env.WACHT_TEST_API_KEY_WITHOUT_USER_READ }, 403],
  ];
  let failed = 0;
  for (const [name, url, headers, status] of cases) {
    const problems = [];
    let summary = "";
    try {
      const answer = await call(url, headers);
      summary = `${answer.status} ${answer.raw.slice(0, 140)}`;
      if (answer.status !== status) problems.push(`expected status ${status}`);
      if (status === 200 && answer.body?.users?.length !== 20) problems.push("expected 20 users");
    } catch (error) {
      problems.push(`request failed: ${error.cause?.message ?? error.message}`);
    }
    if (!report(name, problems, summary)) failed += 1;
  }
  console.log(`${cases.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

switch (command) {
  case "wait":
    await wait(...args);
    break;
  case "check":
    await check(...args);
    break;
  case "env-file":
    envFile(...args);
    break;
  case "curls":
    await curls(...args);
    break;
  default:
    console.error("usage: node harness.mjs wait|check|env-file|curls …");
    process.exit(2);
}
