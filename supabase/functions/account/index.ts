// account: a signed-in user exports every row about them, or erases their
// account (docs/privacy.md). Erasure takes two requests: POST
// /account/erasure-token returns a confirmation token the core signs for this
// user (5 minutes), and DELETE /account {"confirm": token} erases in one
// transaction. Before the handler runs the core has checked the user token,
// CSRF for cookie callers, the rate limits (per user, across isolates) and
// the body. The database does the work (private.account_export,
// private.erase_user); the audit chain records both and stays verifiable.
import { guard } from "../_shared/guard.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import { exportAccount } from "./export_account.ts";
import { issueErasureToken } from "./issue_erasure_token.ts";
import { eraseAccount } from "./erase_account.ts";

const fetch = guard(policy, async (req, { route, identity, body, requestId, clientIp }) => {
  const caller = {
    userId: identity.sub ?? "",
    claims: identity.claims ?? {},
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  };
  if (!caller.userId) throw new GuardError("FORBIDDEN", "the token names no user");
  switch (route) {
    case "GET /account/export":
      return await exportAccount(caller);
    case "POST /account/erasure-token":
      return Response.json(await issueErasureToken(caller));
    case "DELETE /account":
      return Response.json(await eraseAccount(caller, (body as { confirm: string }).confirm));
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
