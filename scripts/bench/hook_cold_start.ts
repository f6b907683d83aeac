// Auth hook cold start: a fresh Deno process (a new isolate, as after a
// platform recycle) imports the auth-hooks function and answers one signed
// custom-access-token request against a real Postgres. Supabase Auth gives a
// hook 5 s in all, retries included (docs/platform.md). Reports the median of
// 7 processes: spawn → answer, and its parts (module import, first answer).
//
//   deno run -A scripts/bench/hook_cold_start.ts --db postgresql://…   (npm run bench runs it)
import { Webhook } from "npm:standardwebhooks@1.1.1";

const root = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");
const args = Deno.args;
const db = args[args.indexOf("--db") + 1];

if (args.includes("--child")) {
  const started = performance.now();
  const mod = await import(`${root}/supabase/functions/auth-hooks/index.ts`);
  const imported = performance.now();
  const secret = Deno.env.get("AUTH_HOOK_SECRET")!;
  const user = crypto.randomUUID();
  const t = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    user_id: user,
    claims: { aud: "authenticated", exp: t + 3600, iat: t, sub: user, email: "", phone: "", role: "authenticated", aal: "aal1", session_id: crypto.randomUUID(), is_anonymous: false },
    authentication_method: "password",
  });
  const id = `msg_${crypto.randomUUID()}`;
  const signature = new Webhook(secret.replace(/^v1,/, "")).sign(id, new Date(t * 1000), body);
  const res = await mod.default.fetch(new Request("http://fn.local/auth-hooks/custom-access-token", {
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(t), "webhook-signature": signature },
    body,
  }));
  const text = await res.text();
  const answered = performance.now();
  if (res.status !== 200 || !text.includes('"claims"')) {
    console.error(`unexpected answer ${res.status}: ${text.slice(0, 200)}`);
    Deno.exit(1);
  }
  console.log(JSON.stringify({ import_ms: imported - started, first_ms: answered - imported }));
  Deno.exit(0);
}

if (!db) {
  console.error("usage: hook_cold_start.ts --db postgresql://…");
  Deno.exit(2);
}
const secret = `v1,whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const runs: { total: number; import_ms: number; first_ms: number }[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--child"],
    env: { SUPABASE_DB_URL: db, AUTH_HOOK_SECRET: secret, APP_ENV: "development", EDGEGUARD_LOG_IPS: "keep" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const total = performance.now() - t0;
  if (out.code !== 0) {
    console.error(new TextDecoder().decode(out.stderr));
    Deno.exit(1);
  }
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  runs.push({ total, ...JSON.parse(lines[lines.length - 1]) });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number) => x.toFixed(0);
console.log("| fresh process, one signed custom-access-token request (7 processes) | median ms | max ms |");
console.log("| --- | ---: | ---: |");
console.log(`| spawn → answer (Deno start, import, wasm, database connect + query) | ${f(median(runs.map((r) => r.total)))} | ${f(Math.max(...runs.map((r) => r.total)))} |`);
console.log(`| import of the function module | ${f(median(runs.map((r) => r.import_ms)))} | ${f(Math.max(...runs.map((r) => r.import_ms)))} |`);
console.log(`| first answer after import (signature, connect, query) | ${f(median(runs.map((r) => r.first_ms)))} | ${f(Math.max(...runs.map((r) => r.first_ms)))} |`);
console.log(`\nSupabase Auth's budget for the whole hook call, retries included: 5000 ms.`);
