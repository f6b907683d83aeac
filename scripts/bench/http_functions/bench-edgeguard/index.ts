// The over-HTTP benchmark's edgeguard function: `me`'s auth (user tokens,
// audience `authenticated`), limits exempt, as in ../../cold/edgeguard_fn.ts.
import { guard } from "../../../../supabase/functions/_shared/guard.ts";

const policy = {
  auth: ["user"],
  audience: "authenticated",
  routes: [{ method: "GET", path: "/bench-edgeguard", limits: { exempt: true } }],
};

export default { fetch: guard(policy, () => new Response("ok")) };
