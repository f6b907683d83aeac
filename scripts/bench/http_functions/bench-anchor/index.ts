// The over-HTTP benchmark's anchor: @supabase/server withSupabase({auth:'user'}).
import { withSupabase } from "npm:@supabase/server@1.8.1";

export default { fetch: withSupabase({ auth: "user" }, (_req: Request) => Promise.resolve(new Response("ok"))) };
