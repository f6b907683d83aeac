// One fresh isolate of the cold-start benchmark (run by ../cold_start.ts):
// imports one function module and answers N requests, each with a new ES256
// token, one after another. Prints one JSON line: milliseconds from the start
// of the import to the first response (body read), and to the N-th.
//   deno run -A child.ts <edgeguard|anchor> <N> <fixture.json>
//   deno run -A --v8-flags=--expose-gc child.ts <edgeguard|anchor> <N> <fixture.json> mem
// The `mem` form builds each Request just before its call (so the requests do
// not count) and also prints peak RSS and the V8 heap after N requests and a GC.
// Nothing of the code under test is loaded before the timer starts: this
// file imports nothing statically.
const [which, nArg, fixturePath, mode] = Deno.args;
const memMode = mode === "mem";
const n = Number(nArg);
const fixture = JSON.parse(Deno.readTextFileSync(fixturePath)) as { env: Record<string, string>; tokens: string[] };
if (!(n >= 1 && n <= fixture.tokens.length)) throw new Error(`child: N must be 1..${fixture.tokens.length}`);
for (const [k, v] of Object.entries(fixture.env)) Deno.env.set(k, v);
const request = (t: string) => new Request("http://localhost/me", { headers: { authorization: `Bearer ${t}` } });
const requests = memMode ? [] : fixture.tokens.slice(0, n).map(request);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = Deno.memoryUsage();
const module = which === "edgeguard" ? "./edgeguard_fn.ts" : which === "anchor" ? "./anchor_fn.ts" : "";
if (!module) throw new Error("child: edgeguard or anchor");

const t0 = performance.now();
const fn = (await import(module)).default as { fetch: (req: Request) => Promise<Response> };
const imported = performance.now();
let first = 0;
for (let i = 0; i < n; i++) {
  const res = await fn.fetch(memMode ? request(fixture.tokens[i]) : requests[i]);
  const body = await res.text();
  if (res.status !== 200 || body !== "ok") throw new Error(`child: ${which} answered ${res.status} ${body}`);
  if (i === 0) first = performance.now();
}
const end = performance.now();
const out: Record<string, number> = { import_ms: imported - t0, first_ms: first - t0, total_ms: end - t0 };
if (memMode) {
  gc?.();
  const after = Deno.memoryUsage();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  Object.assign(out, {
    rss_before: before.rss,
    heap_before: before.heapUsed,
    external_before: before.external,
    rss_after: after.rss,
    heap_after: after.heapUsed,
    external_after: after.external,
    peak_rss: hwm ? Number(hwm[1]) * 1024 : NaN,
  });
}
console.log(JSON.stringify(out));
