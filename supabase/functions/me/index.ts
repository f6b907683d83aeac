// me: the verified identity of the caller and their profile (created on the
// first call), and the invitations addressed to them, which they accept or
// decline. Everything runs as the caller, under RLS. `GET /me` also accepts a
// user API key (acting as its owner); invitations need the user's own token.
import { guard } from "../_shared/guard.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import { showMe } from "./show_me.ts";
import { listMyInvitations } from "./list_my_invitations.ts";
import { acceptInvitation } from "./accept_invitation.ts";
import { declineInvitation } from "./decline_invitation.ts";

const fetch = guard(policy, async (req, { route, identity, params, requestId, clientIp }) => {
  const claims = identity.claims ?? {};
  const ctx = { requestId, clientIp: clientIp().client_ip ?? undefined, userAgent: req.headers.get("user-agent") ?? undefined };
  switch (route) {
    case "GET /me":
      return Response.json(await showMe(identity, ctx));
    case "GET /me/invitations":
      return Response.json(await listMyInvitations(claims, ctx));
    case "POST /me/invitations/:invitation_id/accept":
      return Response.json(await acceptInvitation(claims, ctx, params.invitation_id));
    case "POST /me/invitations/:invitation_id/decline":
      await declineInvitation(claims, ctx, params.invitation_id);
      return new Response(null, { status: 204 });
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
