// User API key benchmark (docs/api-keys.md), one Deno process, per-request medians:
//   (a) guard(): headers only, no credential (anchor: the floor of a guarded request)
//   (b) Guard.begin alone with a mistyped key: the checksum refusal, no I/O
//       (the whole first step of the pipeline: route, request id, credentials, answer)
//   (c) guard(): a verified key reused from the isolate (≤ 1 s old)
//   (d) guard(): a counted key (uses), so every request makes its one
//       private.api_key_verify call on a real Postgres
//   (e) one `select 1` on the same pool: the price of one round trip, the
//       reference for (d)
// Targets: (b) ≤ 2 µs, (c) ≤ 25 µs, (d) one database round trip.
// Run: deno run -A scripts/bench/api_keys.ts --db postgresql://... (a migrated, seeded database)
import postgres from "npm:postgres@3.4.9";
import { measureInterleaved, reportInterleaved } from "./measure.ts";

const arg = (name: string) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};
const dbUrl = arg("db") ?? Deno.env.get("EDGEGUARD_DB_URL") ??
  "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
Deno.env.set("SUPABASE_DB_URL", dbUrl); // db.ts reads it at first use
const { guard } = await import("../../supabase/functions/_shared/guard.ts");
const { loadWasm } = await import("../../supabase/functions/_shared/runtime/load_wasm.ts");
const { loadHandlersWasm } = await import("../../supabase/functions/_shared/runtime/load_handlers_wasm.ts");
const { closeDb } = await import("../../supabase/functions/_shared/db/db.ts");
const { connectPostgres } = await import("../../supabase/functions/_shared/db/connect_postgres.ts");

const env = { APP_ENV: "development", SECRET_KEY: "bench-pepper-0123456789abcdef0123456789abcdef" };
const OWNER = "aaaaaaaa-0000-4000-8000-000000000004"; // seeded customer of tenant A
const TENANT = "aaaaaaaa-0000-4000-8000-000000000000";

const wasm = loadWasm();
const handlers = await loadHandlersWasm();
function mint(name: string, uses: number | null) {
  const a = JSON.parse(handlers.apiKeyCreate(
    new TextEncoder().encode(JSON.stringify({ name, scopes: ["services:read"], uses })),
    JSON.stringify(["services:read"]),
    JSON.stringify(env),
  ));
  if (!a.ok) throw new Error(a.reason);
  return a as { key: string; prefix: string; key_hash: string };
}
const cached = mint("bench cached", null);
const counted = mint("bench counted", 1_000_000_000);
const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
for (const k of [cached, counted]) {
  await sql`insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes, uses_remaining)
            values (${TENANT}, ${OWNER}, 'bench', ${k.prefix}, ${k.key_hash}, '{services:read}',
                    ${k === counted ? 1_000_000_000 : null})`;
}

const ok = () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
const exempt = { exempt: true };
const none = guard({ auth: ["none"], routes: [{ method: "GET", path: "/k", limits: exempt }] }, ok, { env });
const keyed = guard({ auth: ["apikey"], routes: [{ method: "GET", path: "/k", limits: exempt }] }, ok, { env });
const core = new wasm.Guard(JSON.stringify({ auth: ["apikey"], routes: [{ method: "GET", path: "/k", limits: exempt }] }), JSON.stringify(env), false);
const typo = cached.key.slice(0, 20) + (cached.key[20] === "a" ? "b" : "a") + cached.key.slice(21);

const req = (key?: string) => new Request("http://fn.local/k", { headers: key ? { "x-api-key": key } : {} });
for (const [name, f, key, want] of [["none", none, undefined, 200], ["cached", keyed, cached.key, 200], ["counted", keyed, counted.key, 200], ["typo", keyed, typo, 401]] as const) {
  const res = await f(req(key));
  if (res.status !== want) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}
const typoReq = req(typo);
const refusal = core.begin(typoReq, undefined, Date.now());
if (refusal.kind !== "refuse" || refusal.code !== "INVALID_API_KEY" || !refusal.reason.includes("checksum")) throw new Error(JSON.stringify(refusal));

const drain = async (p: Promise<Response>) => (await p).body?.cancel();
const ANCHOR = "(a) guard(): headers only, no credential";
const opts = { batch: 400, rounds: 40, warmup: 400 };
const n = 2000 * 40 + 2000;
const noKey = Array.from({ length: 400 * 40 + 400 }, () => req());
const cachedReqs = Array.from({ length: 400 * 40 + 400 }, () => req(cached.key));
const countedReqs = Array.from({ length: 20 * 40 + 400 }, () => req(counted.key));
const pool = connectPostgres();
const load = Deno.loadavg()[0];
const results = await measureInterleaved([
  { name: ANCHOR, call: (i) => drain(none(noKey[i])) },
  { name: "(b) Guard.begin, mistyped key: checksum refusal (no I/O)", batch: 2000, call: (i) => core.begin(typoReq, undefined, i % n) },
  { name: "(c) guard(): verified key reused in the isolate (≤ 1 s)", call: (i) => drain(keyed(cachedReqs[i])) },
  { name: "(d) guard(): counted key, one private.api_key_verify call each", batch: 20, call: (i) => drain(keyed(countedReqs[i])) },
  { name: "(e) one `select 1` round trip on the same pool (reference for d)", batch: 20, call: () => pool.then((sql) => sql`select 1`).then(() => undefined) },
], ANCHOR, opts);
reportInterleaved(`API keys (load average ${load.toFixed(1)} at start)`, results, ANCHOR);

await sql`delete from public.api_keys where key_hash in (${cached.key_hash}, ${counted.key_hash})`;
await sql.end();
await closeDb();
