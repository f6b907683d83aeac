// What `supabase functions deploy` bundles (docs/platform.md): every folder
// of supabase/functions with an index.ts, resolved with DENO_NO_PACKAGE_JSON=1
// (the root package.json and node_modules are ignored), so every npm:
// specifier must carry its exact version, and every function must import
// without them and export `default { fetch }`.
import { readFunctionsConfig } from "./read_functions_config.ts";

const root = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");
const functionsDir = `${root}/supabase/functions`;

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(functionsDir)) {
    if (!e.isDirectory || e.name.startsWith("_") || e.name.startsWith(".")) continue;
    try {
      if ((await Deno.stat(`${functionsDir}/${e.name}/index.ts`)).isFile) names.push(e.name);
    } catch { /* not a function */ }
  }
  return names.sort();
}

/** The machine's network settings (proxies, CA stores, registry) and nothing else. */
function passThrough(): Record<string, string> {
  const out: Record<string, string> = { DENO_TLS_CA_STORE: Deno.env.get("DENO_TLS_CA_STORE") ?? "mozilla,system" };
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (/^(PATH|DENO_CERT|SSL_CERT_FILE|SSL_CERT_DIR|NPM_CONFIG_REGISTRY|(HTTPS?|NO|ALL)_PROXY)$/i.test(k)) out[k] = v;
  }
  return out;
}

async function sources(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) await sources(p, out);
    else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

Deno.test("every npm: specifier a function ships is pinned to the exact version package.json tests", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(`${root}/package.json`));
  const versions: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };
  let seen = 0;
  for (const file of await sources(functionsDir)) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/["']npm:((?:@[^/"']+\/)?[^@"'/]+)(?:@([^/"']+))?[^"']*["']/g)) {
      seen++;
      const [, name, version] = m;
      assert(version && /^\d+\.\d+\.\d+$/.test(version), `${file}: npm:${name} must name an exact version (deploy ignores package.json)`);
      assert(versions[name] === version, `${file}: npm:${name}@${version}, but package.json tests ${versions[name]}`);
    }
  }
  assert(seen > 0, "found the npm: imports");
});

Deno.test("the deployable functions are exactly the ones in config.toml, and no test-only function is among them", async () => {
  const names = await functionNames();
  const config = readFunctionsConfig(await Deno.readTextFile(`${root}/supabase/config.toml`));
  const configured = [...config.keys()].sort();
  assert(JSON.stringify(names) === JSON.stringify(configured), `functions ${names} vs config ${configured}`);
  assert(!names.includes("request-probe"), "the test-only probe is never deployable");
});

Deno.test("every function imports as the deploy bundler resolves it: DENO_NO_PACKAGE_JSON=1, no node_modules", async () => {
  const cache = `${Deno.env.get("EDGEGUARD_STATE_DIR") ?? `${root}/.local`}/deno-deploy-cache`;
  const work = await Deno.makeTempDir({ prefix: "edgeguard-deploy-" });
  try {
    const probe = `${work}/probe.ts`;
    await Deno.writeTextFile(probe, [
      "const mod = await import(Deno.args[0]);",
      "if (typeof mod.default?.fetch !== 'function') { console.error('no default { fetch }'); Deno.exit(3); }",
      "const extra = Object.keys(mod).filter((k) => k !== 'default');",
      "if (extra.length) { console.error('exports besides default: ' + extra); Deno.exit(4); }",
    ].join("\n"));
    for (const name of await functionNames()) {
      const url = new URL(`file://${functionsDir}/${name}/index.ts`).href;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--node-modules-dir=none", "--no-lock", "--quiet", probe, url],
        cwd: work,
        clearEnv: true,
        env: { ...passThrough(), DENO_NO_PACKAGE_JSON: "1", DENO_DIR: cache, HOME: Deno.env.get("HOME") ?? work, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert(out.code === 0, `${name}: exit ${out.code}: ${err.split("\n").slice(0, 5).join(" | ")}`);
      assert(!/node_modules/.test(err), `${name} reached into node_modules`);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

/** The modules `entry` imports when it is loaded: static imports only (`import()` and `import type` excluded), by `deno info`. */
async function staticImports(entry: string): Promise<{ loaded: Set<string>; reachable: Set<string> }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, `deno info ${entry}: ${new TextDecoder().decode(out.stderr).slice(0, 500)}`);
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[] }[];
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const todo = [...graph.roots];
  while (todo.length) {
    const s = todo.pop()!;
    if (loaded.has(s)) continue;
    loaded.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) {
      if (d.code && !d.isDynamic) todo.push(d.code.specifier);
    }
  }
  return { loaded, reachable: new Set(graph.modules.map((m) => m.specifier)) };
}

Deno.test("a fresh isolate loads only the pipeline's wasm: the handlers' module is imported on first use, never with a function", async () => {
  const wasmDir = `file://${functionsDir}/_shared/wasm`;
  const pipeline = `${wasmDir}/edgeguard_wasm_bytes.json`;
  const handlers = [`${wasmDir}/edgeguard_handlers_bytes.json`, `${wasmDir}/edgeguard_handlers.js`];
  // the functions whose handlers call it (webhook verification, API keys, erasure tokens, alerts)
  const callers = ["account", "api-keys", "audit", "auth-hooks", "webhooks"];
  const names = await functionNames();
  assert(names.includes("me") && callers.every((c) => names.includes(c)), `functions: ${names}`);
  for (const name of names) {
    const { loaded, reachable } = await staticImports(`${functionsDir}/${name}/index.ts`);
    assert(loaded.has(pipeline), `${name} loads the pipeline module`);
    for (const h of handlers) assert(!loaded.has(h), `${name} loads ${h.slice(wasmDir.length + 1)} at start`);
    if (callers.includes(name)) {
      // deploy bundles dynamic imports with literal specifiers: the bytes ship with the function
      for (const h of handlers) assert(reachable.has(h), `${name} cannot reach ${h.slice(wasmDir.length + 1)}`);
    }
  }
});
