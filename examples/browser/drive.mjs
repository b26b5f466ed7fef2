// Drives examples/axum_pages (served with --serve) in headless Chromium through sign-in on the
// local Wacht and back to the permission-gated page. Run by .ci/browser:
//
//   node examples/browser/drive.mjs <playwright-core dir> <served JSON line> <output dir>
//
// Checks: signed out, /admin goes to the emulator's sign-in page; clicking "Sign in as
// user_reader" comes back to /admin, which shows "admin for user_reader"; the __auth_<scope>
// cookie is HttpOnly, Secure and SameSite=Lax; a reload makes no new exchange (the page still
// shows); a second browser signed in as user_plain gets the 403 JSON at /admin. A screenshot
// of the gated page is written to <output dir>/admin.png. Exits non-zero on any failure.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [playwrightDir, served, out] = process.argv.slice(2);
const require = createRequire(join(playwrightDir, "package.json"));
const { chromium } = require("playwright-core");
const { app, sign_in: signIn } = JSON.parse(served);

const failures = [];
const check = (ok, what, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ` (${detail})` : ""}`);
  if (!ok) failures.push(what);
};

mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app}/admin`);
  check(page.url().startsWith(signIn), "signed out, /admin goes to the sign-in page", page.url());
  check(
    new URL(page.url()).searchParams.get("redirect_uri") === `${app}/admin`,
    "redirect_uri is the page asked for",
    new URL(page.url()).searchParams.get("redirect_uri"),
  );
  await page.click("#sign-in-user_reader");
  await page.waitForURL(`${app}/admin`, { timeout: 10000 });
  const who = (await page.textContent("#who")) ?? "";
  check(who === "admin for user_reader", "back on /admin, signed in", who);
  await page.screenshot({ path: join(out, "admin.png") });
  const cookies = await context.cookies(app);
  const auth = cookies.find((c) => c.name.startsWith("__auth_"));
  check(!!auth, "the __auth_<scope> cookie is set", cookies.map((c) => c.name).join(", "));
  check(!!auth && auth.httpOnly && auth.secure && auth.sameSite === "Lax", "it is HttpOnly, Secure, SameSite=Lax");
  check(cookies.some((c) => c.name === "__session"), "the __session cookie reaches the app's host");
  await page.reload();
  check(((await page.textContent("#who")) ?? "") === "admin for user_reader", "a reload is still signed in");

  const other = await browser.newContext();
  const plain = await other.newPage();
  await plain.goto(`${app}/admin`);
  await plain.click("#sign-in-user_plain");
  await plain.waitForURL(`${app}/admin`, { timeout: 10000 });
  const body = (await plain.textContent("body")) ?? "";
  check(body.includes("missing_permission"), "user_plain gets the 403 at /admin, no redirect loop", body.slice(0, 120));
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} browser checks failed`);
  process.exit(1);
}
console.log("all browser checks passed");
