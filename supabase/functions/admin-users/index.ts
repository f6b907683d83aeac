// admin-users: a tenant's admin lists its members, changes their roles, and
// invites new members (who join only by accepting, through `me`). Before the
// handler runs, the core has checked a verified user token, the path's tenant
// against the token's tenant_id (403 TENANT_MISMATCH; the invitation routes
// act on the token's tenant_id itself), the admin role (and users:write for
// changes), uuid path parameters, the query, and the body schema (422
// VALIDATION_FAILED). The database checks again under RLS (as the caller),
// and the audit trigger records every change with the admin as actor.
import { guard } from "../_shared/guard.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import { listMembers } from "./list_members.ts";
import { changeMemberRole } from "./change_member_role.ts";
import { type InvitationRequest, inviteMember } from "./invite_member.ts";
import { listInvitations } from "./list_invitations.ts";
import { revokeInvitation } from "./revoke_invitation.ts";

const fetch = guard(policy, async (req, { route, identity, params, body, requestId, clientIp }) => {
  const caller = {
    claims: identity.claims ?? {},
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  };
  switch (route) {
    case "GET /admin-users/:tenant_id/members":
      return Response.json(await listMembers(caller, params.tenant_id, new URL(req.url).searchParams));
    case "PATCH /admin-users/:tenant_id/members/:user_id":
      return Response.json(await changeMemberRole(caller, params.tenant_id, params.user_id, body as { role: string }));
    case "POST /admin-users/invitations":
      return Response.json(await inviteMember(caller, identity.tenant_id, body as InvitationRequest), { status: 201 });
    case "GET /admin-users/invitations":
      return Response.json(await listInvitations(caller, identity.tenant_id, new URL(req.url).searchParams));
    case "DELETE /admin-users/invitations/:invitation_id":
      await revokeInvitation(caller, identity.tenant_id, params.invitation_id);
      return new Response(null, { status: 204 });
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
