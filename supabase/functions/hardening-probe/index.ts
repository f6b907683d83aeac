// hardening-probe: a test-only function that exercises every hardening step
// of guard() over HTTP (limits local/global/per-role, body and parameter
// checks, CSRF, errors). It returns what the guard handed it; it has no data.
import { guard } from "../_shared/guard.ts";
import { connectPostgres } from "../_shared/connect_postgres.ts";
import policy from "./policy.json" with { type: "json" };

const fetch = guard(policy, async (_req, ctx) => {
  switch (ctx.route) {
    case "GET /hardening-probe/boom":
      throw new Error(`probe failure at /srv/secret/path.ts:12:3 (${ctx.requestId})`);
    case "GET /hardening-probe/csrf": {
      const { token, expires_in_s, cookie } = ctx.csrfToken();
      const res = Response.json({ token, expires_in_s });
      if (cookie) res.headers.set("set-cookie", cookie);
      return res;
    }
    case "GET /hardening-probe/db": {
      const [row] = await connectPostgres()`select 1 as one`;
      return Response.json({ db: row.one });
    }
    default:
      return Response.json({ route: ctx.route, params: ctx.params, body: ctx.body, sub: ctx.identity.sub });
  }
});

export default { fetch };
