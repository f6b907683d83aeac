// One fresh process: the first and second `Guard` construction and the first
// requests, timed one by one (BENCHMARKS.md, "Cold start and footprint"). Run
// it with and without --v8-flags=--no-wasm-lazy-compilation to see what is
// compiling and what is running; with --v8-flags=--prof on a build made with
// EDGEGUARD_WASM_PROFILE=1, the log's code-creation lines name every wasm
// function compiled and its machine-code size.
//   deno run -A scripts/bench/cold/setup_steps.ts <fixture.json> [<_shared dir>]
// (fixture: make_fixture.ts, or fixture.ts from code)
// Prints one JSON line of milliseconds.
const [fixturePath, sharedArg] = Deno.args;
const fixture = JSON.parse(Deno.readTextFileSync(fixturePath)) as { env: Record<string, string>; tokens: string[] };
const shared = sharedArg ?? new URL("../../../supabase/functions/_shared", import.meta.url).pathname;
const { loadWasm } = await import(`${shared}/runtime/load_wasm.ts`);
// Built before the timer: a fresh Deno's first Request costs milliseconds of its own.
const bare = new Request("http://localhost/me");
bare.headers.get("authorization");
const [first, second] = fixture.tokens.slice(0, 2).map((t) =>
  new Request("http://localhost/me", { headers: { authorization: `Bearer ${t}` } })
);
const policy = JSON.stringify({
  auth: ["user"],
  audience: "authenticated",
  routes: [{ method: "GET", path: "/me", limits: { exempt: true } }],
});
const env = JSON.stringify(fixture.env);
const ms: Record<string, number> = {};
let last = performance.now();
const mark = (name: string) => {
  const now = performance.now();
  ms[name] = Number((now - last).toFixed(2));
  last = now;
};
const wasm = loadWasm();
mark("load_wasm");
const guard = new wasm.Guard(policy, env, false);
mark("first_guard");
new wasm.Guard(policy, env, false);
mark("second_guard");
const kinds = [guard.begin(bare, undefined, Date.now()).kind];
mark("first_begin_no_token");
kinds.push(guard.begin(first, undefined, Date.now()).kind);
mark("first_es256_begin");
kinds.push(guard.begin(second, undefined, Date.now()).kind);
mark("second_es256_begin");
if (kinds.join() !== "refuse,allow,allow") throw new Error(`unexpected steps: ${kinds}`);
console.log(JSON.stringify(ms));
