// creator-saas (recipe, examples/creator-saas/README.md): a creator's API.
// Before a handler runs, the core has checked the credential — a Supabase
// access token or one of the creator's API keys (egk_…, HMAC-hashed, compared
// in constant time; it acts as its owner) —, the per-IP limits (60/min and
// 1000/h; `health` exempt) with 429 + Retry-After, the ladder admin > creator
// (admin: the e-mails in ADMIN_EMAILS) and the body and query schemas. The
// handlers run as the caller under RLS; their first call creates the
// creator's row; every write is audited with the client IP.
import { guard } from "../../../../supabase/functions/_shared/guard.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import type { Caller } from "./caller.ts";
import { showCreator } from "./show_creator.ts";
import { listPosts } from "./list_posts.ts";
import { createPost, type NewPost } from "./create_post.ts";
import { listCreators } from "./list_creators.ts";

const fetch = guard(policy, async (req, { route, identity, body, requestId, clientIp }) => {
  if (route === "GET /creator-saas/health") return Response.json({ ok: true });
  const caller: Caller = {
    claims: identity.claims ?? {},
    via: identity.kind,
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  };
  const query = new URL(req.url).searchParams;
  switch (route) {
    case "GET /creator-saas/me":
      return Response.json(await showCreator(caller));
    case "GET /creator-saas/posts":
      return Response.json(await listPosts(caller, query));
    case "POST /creator-saas/posts":
      return Response.json(await createPost(caller, body as NewPost), { status: 201 });
    case "GET /creator-saas/admin/creators":
      return Response.json(await listCreators(caller, query));
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
