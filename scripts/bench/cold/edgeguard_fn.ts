// The function the cold-start benchmark imports for edgeguard: `me`'s auth
// (user tokens, audience `authenticated`) with limits exempt, through the same
// guard() and shared modules every function imports.
import { guard } from "../../../supabase/functions/_shared/guard.ts";

const policy = {
  auth: ["user"],
  audience: "authenticated",
  routes: [{ method: "GET", path: "/me", limits: { exempt: true } }],
};

export default { fetch: guard(policy, () => new Response("ok")) };
