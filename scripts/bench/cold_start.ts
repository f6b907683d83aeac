// Cold start (fresh isolates): separate Deno processes, each importing one
// function module and answering N requests with new ES256 user tokens (inline
// JWKS, limits exempt), for N = 1, 10, 100, 1000: edgeguard (cold/edgeguard_fn.ts,
// guard()) and the anchor @supabase/server withSupabase({auth:'user'})
// (cold/anchor_fn.ts). Processes are interleaved: each round runs every
// (N, implementation) once, in a rotating order, and ratios are taken within
// a round (anchor / edgeguard), reported as the median over rounds.
// Times are measured inside each process from the start of the function
// module's import (Deno's own boot, the same for both, is not counted).
// Then one process each answers 10 000 distinct tokens: peak RSS and the V8
// heap after a GC (memory per isolate).
// Run: deno run -A scripts/bench/cold_start.ts [--rounds 7] [--no-mem]
import { makeFixture } from "./cold/fixture.ts";

const args = Deno.args;
const argValue = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = argValue("--rounds", 7);
const NS = [1, 10, 100, 1000];
const MEM_N = 10_000;
const withMem = !args.includes("--no-mem");
const IMPLS = ["edgeguard", "anchor"] as const;
type Impl = typeof IMPLS[number];

const fixtureData = await makeFixture(withMem ? MEM_N : Math.max(...NS));
const fixture = await Deno.makeTempFile({ prefix: "edgeguard-cold-", suffix: ".json" });
await Deno.writeTextFile(fixture, JSON.stringify(fixtureData));
const child = new URL("./cold/child.ts", import.meta.url).pathname;

interface Sample {
  import_ms: number;
  first_ms: number;
  total_ms: number;
  [k: string]: number;
}
async function spawn(impl: Impl, n: number, mem = false): Promise<Sample> {
  const flags = mem ? ["--v8-flags=--expose-gc"] : [];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, child, impl, String(n), fixture, ...(mem ? ["mem"] : [])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`${impl} N=${n}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").pop()!);
}

try {
  // One unmeasured process each: Deno's module and npm caches are warm for every measured one.
  for (const impl of IMPLS) await spawn(impl, 1);

  const samples = new Map<string, Sample[]>();
  const key = (impl: Impl, n: number) => `${impl}/${n}`;
  let turn = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const n of NS) {
      const order = turn++ % 2 === 0 ? IMPLS : [...IMPLS].reverse();
      for (const impl of order) {
        const s = await spawn(impl, n);
        samples.set(key(impl, n), [...(samples.get(key(impl, n)) ?? []), s]);
      }
    }
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const f = (x: number) => x.toFixed(1);
  const ratio = (n: number, field: keyof Sample) => {
    const a = samples.get(key("anchor", n))!, e = samples.get(key("edgeguard", n))!;
    return median(a.map((s, i) => s[field] / e[i][field]));
  };
  const med = (impl: Impl, n: number, field: keyof Sample) => median(samples.get(key(impl, n))!.map((s) => s[field]));

  console.log(`### Cold start: fresh Deno process, import + N requests (new ES256 token each), ${ROUNDS} processes per cell\n`);
  console.log("| N | anchor first ms | edgeguard first ms | first: edgeguard / anchor time | anchor total ms | edgeguard total ms | total: anchor / edgeguard time (> 1: edgeguard faster) |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const n of NS) {
    console.log(
      `| ${n} | ${f(med("anchor", n, "first_ms"))} | ${f(med("edgeguard", n, "first_ms"))} | ` +
        `${(1 / ratio(n, "first_ms")).toFixed(2)}× | ${f(med("anchor", n, "total_ms"))} | ${f(med("edgeguard", n, "total_ms"))} | ` +
        `${ratio(n, "total_ms").toFixed(2)}× |`,
    );
  }
  const firstAll = NS.flatMap((n) => samples.get(key("edgeguard", n))!.map((s) => s.first_ms));
  const firstAnchor = NS.flatMap((n) => samples.get(key("anchor", n))!.map((s) => s.first_ms));
  console.log(
    `\nTime to first response over all ${firstAll.length} processes each: edgeguard ${f(median(firstAll))} ms ` +
      `(import ${f(median(NS.flatMap((n) => samples.get(key("edgeguard", n))!.map((s) => s.import_ms))))} ms), ` +
      `anchor ${f(median(firstAnchor))} ms (import ${f(median(NS.flatMap((n) => samples.get(key("anchor", n))!.map((s) => s.import_ms))))} ms): ` +
      `edgeguard takes ${(median(firstAll) / median(firstAnchor)).toFixed(2)}× the anchor's time.`,
  );
  // Crossover: where edgeguard's total becomes no slower than the anchor's (totals' medians, linear in N between points).
  const diff = NS.map((n) => med("edgeguard", n, "total_ms") - med("anchor", n, "total_ms"));
  let crossover = "";
  if (diff.every((d) => d <= 0)) crossover = "none: edgeguard is at least as fast at every N measured";
  else if (diff.every((d) => d > 0)) crossover = "none: the anchor is faster at every N measured";
  else {
    for (let i = 1; i < NS.length; i++) {
      if ((diff[i - 1] > 0) !== (diff[i] > 0)) {
        const at = NS[i - 1] + (NS[i] - NS[i - 1]) * diff[i - 1] / (diff[i - 1] - diff[i]);
        crossover += `${crossover ? "; " : ""}between N=${NS[i - 1]} and N=${NS[i]} (≈${Math.round(at)} requests, linear)`;
      }
    }
  }
  console.log(`Crossover (total time): ${crossover}. Ratios: median over rounds of the per-round ratio.`);

  if (withMem) {
    console.log(`\n### Memory per isolate: ${MEM_N} requests, each a distinct ES256 token (one process each)\n`);
    console.log("| implementation | peak RSS MiB | RSS after MiB | V8 heap used before import MiB | V8 heap used after, post-GC MiB | external after MiB | total ms |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    const mib = (b: number) => (b / 1048576).toFixed(1);
    for (const impl of IMPLS) {
      const s = await spawn(impl, MEM_N, true);
      console.log(
        `| ${impl} | ${mib(s.peak_rss)} | ${mib(s.rss_after)} | ${mib(s.heap_before)} | ${mib(s.heap_after)} | ${mib(s.external_after)} | ${f(s.total_ms)} |`,
      );
    }
  }
} finally {
  await Deno.remove(fixture).catch(() => {});
}
