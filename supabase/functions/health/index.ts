// doctor: allow function.public liveness probe, answers anyone by design (SPEC §5)
// health: liveness for anyone; never rate limited.
import { guard } from "../_shared/guard.ts";
import { loadWasm } from "../_shared/load_wasm.ts";
import policy from "./policy.json" with { type: "json" };

const fetch = guard(policy, () => Response.json({ status: "ok", version: loadWasm().version() }));

export default { fetch };

if (import.meta.main) Deno.serve(fetch);
