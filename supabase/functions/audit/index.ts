// audit: a tenant's audit readers (admins, or any role the project grants
// audit:read) page through the tenant's audit log, verify its hash chain
// against the signed checkpoints, and read hourly security metrics
// (docs/database.md, "Audit API"). A scheduler holding the secret key runs
// the security alerts (POST /audit/alerts/deliver, docs/alerts.md). Before
// the handler runs the core has
// checked a verified user token, the audit:read permission and the query;
// the tenant is the token's tenant_id. The database checks again from the
// membership it holds (RLS and private.has_tenant_permission), as the caller.
import { guard } from "../_shared/guard.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import { listLogs } from "./list_logs.ts";
import { verifyChain } from "./verify_chain.ts";
import { readMetrics } from "./read_metrics.ts";
import { deliverAlerts } from "./deliver_alerts.ts";

const fetch = guard(
  policy,
  async (req, { route, identity, requestId, clientIp }) => {
    if (route === "POST /audit/alerts/deliver") return Response.json(await deliverAlerts(requestId));
    if (!identity.tenant_id) {
      throw new GuardError(
        "FORBIDDEN",
        "the token names no tenant",
      );
    }
    const caller = {
      claims: identity.claims ?? {},
      tenantId: identity.tenant_id,
      requestId,
      clientIp: clientIp().client_ip ?? undefined,
      userAgent: req.headers.get("user-agent") ?? undefined,
    };
    const query = new URL(req.url).searchParams;
    switch (route) {
      case "GET /audit/logs":
        return Response.json(await listLogs(caller, query));
      case "GET /audit/verify":
        return Response.json(await verifyChain(caller));
      case "GET /audit/metrics":
        return Response.json(await readMetrics(caller, query));
    }
    throw new GuardError("NOT_FOUND", "no handler for this route");
  },
);

export default { fetch };
