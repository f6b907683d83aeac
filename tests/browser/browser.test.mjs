// A real browser as the client: Debian's Chromium, driven by puppeteer-core,
// loads tests/browser/page from its own origin and calls the functions with
// supabase-js `functions.invoke` through a function server that allows that
// origin (CORS_ORIGINS): real preflights, an origin that is not allowed, the
// CSRF flow with cookies, a 429 shown to the user. `npm test` runs it with
// node's test runner against the test stack's database and dev keys.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import * as jose from "jose";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const stateDir = process.env.EDGEGUARD_STATE_DIR ?? `${root}/.local`;
const dbPort = process.env.EDGEGUARD_DB_PORT ?? "54322";
const chromium = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  }).on("error", reject);
});

/** A static server for the page (its own origin). */
async function servePage() {
  const files = {
    "/": ["text/html", `${root}/tests/browser/page/index.html`],
    "/app.js": ["text/javascript", `${root}/tests/browser/page/app.js`],
    "/supabase.js": ["text/javascript", `${root}/node_modules/@supabase/supabase-js/dist/umd/supabase.js`],
  };
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const f = files[new URL(req.url, "http://x").pathname];
    if (!f) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": f[0] }).end(readFileSync(f[1]));
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

let page, browser, pageServer, otherServer, api, apiUrl, keys, output = "";

before(async () => {
  if (!chromium) return;
  pageServer = await servePage();
  otherServer = await servePage();
  keys = JSON.parse(readFileSync(`${stateDir}/keys/dev-keys.json`, "utf8"));
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  api = spawn(`${root}/node_modules/.bin/deno`, ["run", "-A", `${root}/scripts/serve.ts`], {
    cwd: root,
    env: {
      ...process.env,
      EDGEGUARD_STATE_DIR: stateDir,
      EDGEGUARD_API_PORT: String(apiPort),
      EDGEGUARD_DB_PORT: dbPort,
      EDGEGUARD_EXTRA_FUNCTIONS_DIRS: `${root}/tests/fixtures/functions`,
      CORS_ORIGINS: pageServer.origin,
      CORS_ALLOW_CREDENTIALS: "true",
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  api.stdout.on("data", (d) => (output += d));
  api.stderr.on("data", (d) => (output += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${apiUrl}/functions/v1/health`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`function server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-gpu"],
  });
});

after(async () => {
  await browser?.close();
  api?.kill();
  await pageServer?.close();
  await otherServer?.close();
});

async function open(origin, token = "") {
  const p = await browser.newPage();
  const config = encodeURIComponent(JSON.stringify({ api: apiUrl, key: keys.env.SUPABASE_PUBLISHABLE_KEY, token }));
  await p.goto(`${origin}/#${config}`);
  await p.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
  return p;
}

async function userToken() {
  const key = await jose.importJWK(keys.private_jwk, "ES256");
  return await new jose.SignJWT({ role: "authenticated", aud: "authenticated", email: "browser@example.com", aal: "aal1", is_anonymous: false })
    .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: keys.private_jwk.kid })
    .setSubject(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key);
}

test("the browser client runs (Chromium is installed)", { skip: chromium ? false : "chromium is not installed and could not be installed (apt-get install chromium): the browser tests cannot run here" }, async (t) => {
  await t.test("a real CORS preflight from an allowed origin, then the call", async () => {
    page = await open(pageServer.origin);
    const before = output.length;
    const result = await page.evaluate(() => window.edgeguardDemo.createItem());
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.data.route, "POST /request-probe/items");
    assert.match(output.slice(before), /OPTIONS \/functions\/v1\/request-probe\/items 204/, "the browser sent a preflight and got 204");
  });

  await t.test("an origin that is not allowed is refused by the browser (no readable answer)", async () => {
    const other = await open(otherServer.origin);
    const result = await other.evaluate(() => window.edgeguardDemo.createItem());
    assert.equal(result.ok, false);
    assert.equal(result.error.name, "FunctionsFetchError", JSON.stringify(result));
    await other.close();
  });

  await t.test("CSRF with cookies: the token and cookie pass, a form without the token is 403", async () => {
    const ok = await page.evaluate(() => window.edgeguardDemo.submitForm(true));
    assert.deepEqual(ok, { status: 200, code: null, tokenIssued: true });
    const refused = await page.evaluate(() => window.edgeguardDemo.submitForm(false));
    assert.deepEqual(refused, { status: 403, code: "CSRF_FAILED", tokenIssued: true });
  });

  await t.test("a 429 is shown to the user with its Retry-After", async () => {
    const p = await open(pageServer.origin, await userToken());
    const results = await p.evaluate(() => window.edgeguardDemo.callUntilLimited(4));
    assert.deepEqual(results.slice(0, 3).map((r) => r.status), [200, 200, 200], JSON.stringify(results));
    const limited = results[3];
    assert.equal(limited.status, 429, JSON.stringify(limited));
    assert.equal(limited.code, "RATE_LIMITED");
    assert.ok(Number(limited.retryAfter) > 0, "Retry-After is exposed to the page");
    assert.ok(limited.requestId, "x-request-id is exposed to the page");
    const shown = await p.$eval("#status", (e) => e.textContent);
    assert.match(shown, /Too many requests: try again in \d+ s \(RATE_LIMITED\)/);
    await p.close();
  });
});
