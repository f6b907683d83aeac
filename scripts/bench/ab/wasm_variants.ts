// A/B of wasm builds (BENCHMARKS.md, "Cold start and footprint"): identity
// cases (c) new ES256 token, (d) repeated token and (e) HS256 new token for
// several copies of supabase/functions/_shared/ that differ only in wasm/,
// imported into one Deno process and interleaved per round as in
// ../identity.ts. Each case's figure is the median of per-round time ratios
// first/this (> 1: this variant is faster).
//   cp -r supabase/functions/_shared /tmp/a; (rebuild, or replace wasm/); cp -r supabase/functions/_shared /tmp/b
//   deno run -A scripts/bench/ab/wasm_variants.ts /tmp/a /tmp/b
import { identityTokens } from "../identity_tokens.ts";
import { type InterleavedResult, measureInterleaved } from "../measure.ts";

const dirs = Deno.args.map((d) => (d.startsWith("/") ? d : `${Deno.cwd()}/${d}`));
if (dirs.length < 2) throw new Error("usage: wasm_variants.ts <_shared copy> <_shared copy> [...]");
const tokens = await identityTokens("ab");

const opts = { batch: 20, rounds: 60, warmup: 300 };
const BATCH = { es256: 100, repeated: 1000, hs256: 400 };
const calls = (batch: number) => batch * opts.rounds + opts.warmup;
async function mint(n: number, alg: "ES256" | "HS256"): Promise<Request[]> {
  const request = (token: string) => new Request("http://localhost/ab", { headers: { authorization: `Bearer ${token}` } });
  return (await tokens.mint(n, alg)).map(request);
}
const policy = { auth: ["user"], routes: [{ method: "GET", path: "/ab", limits: { exempt: true } }] };
const through = (h: (r: Request) => Promise<Response>, requests: Request[]) => async (i: number) => {
  const res = await h(requests[i]);
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
};
const cases: Record<"c" | "d" | "e", { name: string; batch: number; call: (i: number) => Promise<void> }[]> = { c: [], d: [], e: [] };
for (const [k, dir] of dirs.entries()) {
  const { guard } = await import(`${dir}/guard.ts`);
  const edge = guard(policy, () => new Response("ok"));
  const token = (await mint(1, "ES256"))[0].headers.get("authorization")!;
  const repeated = Array.from({ length: calls(BATCH.repeated) }, () => new Request("http://localhost/ab", { headers: { authorization: token } }));
  cases.c.push({ name: `(c) new ES256 token: ${k} ${dir}`, batch: BATCH.es256, call: through(edge, await mint(calls(BATCH.es256), "ES256")) });
  cases.d.push({ name: `(d) repeated token: ${k} ${dir}`, batch: BATCH.repeated, call: through(edge, repeated) });
  cases.e.push({ name: `(e) HS256 new token: ${k} ${dir}`, batch: BATCH.hs256, call: through(edge, await mint(calls(BATCH.hs256), "HS256")) });
}
const row = (r: InterleavedResult) =>
  `| ${r.name} | ${r.medianUs.toFixed(1)} | ${r.p10Us.toFixed(1)}–${r.p90Us.toFixed(1)} | ${r.ratio.toFixed(3)} (${r.ratioP10.toFixed(2)}–${r.ratioP90.toFixed(2)}) |`;
console.log("| case | median µs/request | p10–p90 µs | time ratio first/this (p10–p90) |\n| --- | ---: | ---: | ---: |");
for (const group of [cases.c, cases.e, cases.d]) {
  for (const r of await measureInterleaved(group, group[0].name, opts)) console.log(row(r));
}
