// doctor: allow function.public liveness probe, answers anyone by design (docs/doctor.md)
// health: liveness for anyone (never rate limited); `/health/ip` shows secret-key
// callers how the client IP resolves on this deploy, and nothing else.
import { guard } from "../_shared/guard.ts";
import { loadWasm } from "../_shared/runtime/load_wasm.ts";
import policy from "./policy.json" with { type: "json" };

const fetch = guard(policy, (_req, ctx) =>
  ctx.route === "GET /health/ip"
    ? Response.json(ctx.clientIp())
    : Response.json({ status: "ok", version: loadWasm().version() }));

export default { fetch };
