// services-platform (recipe, examples/services-platform/README.md): a
// multi-tenant services platform whose users sign in with Clerk (a
// third-party issuer, docs/issuers.md) or Supabase Auth. Before a handler
// runs, the core has picked the token's issuer by its `iss`, verified it with
// that issuer's keys only, mapped Clerk's org / role / permissions to
// tenant_id / user_role / permissions, checked the path's tenant (403
// TENANT_MISMATCH), the ladder admin > moderator > provider > customer >
// guest and its grants (403 FORBIDDEN), CSRF for the browser's cookie
// requests (403 CSRF_FAILED), the rate limit and the body schema. The
// handlers run as the caller under RLS, which sees the mapped claims.
import { guard } from "../../../../supabase/functions/_shared/guard.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import type { Caller } from "./caller.ts";
import { listServices } from "./list_services.ts";
import { type NewService, offerService } from "./offer_service.ts";
import { removeService } from "./remove_service.ts";
import { listBookings } from "./list_bookings.ts";
import { bookService, type NewBooking } from "./book_service.ts";

const fetch = guard(policy, async (req, { route, identity, params, body, requestId, clientIp, csrfToken }) => {
  const caller: Caller = {
    claims: identity.claims ?? {},
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  };
  const tenant = params.tenant_id;
  switch (route) {
    case "GET /services-platform/me": {
      const { sub, tenant_id, user_role, permissions, email } = identity;
      return Response.json({ sub, tenant_id, user_role, permissions, email, issuer: identity.claims?.issuer ?? "supabase" });
    }
    case "GET /services-platform/csrf":
      return Response.json(csrfToken());
    case "GET /services-platform/:tenant_id/services":
      return Response.json(await listServices(caller, tenant));
    case "POST /services-platform/:tenant_id/services":
      return Response.json(await offerService(caller, tenant, body as NewService), { status: 201 });
    case "DELETE /services-platform/:tenant_id/services/:service_id":
      await removeService(caller, tenant, params.service_id);
      return new Response(null, { status: 204 });
    case "GET /services-platform/:tenant_id/bookings":
      return Response.json(await listBookings(caller, tenant));
    case "POST /services-platform/:tenant_id/bookings":
      return Response.json(await bookService(caller, tenant, body as NewBooking), { status: 201 });
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
