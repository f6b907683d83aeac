// The function the cold-start benchmark imports for the anchor:
// @supabase/server withSupabase({auth:'user'}), as in scripts/bench/identity.ts.
import { withSupabase } from "npm:@supabase/server@1.8.1";

export default { fetch: withSupabase({ auth: "user" }, (_req: Request) => Promise.resolve(new Response("ok"))) };
