// sales-assistant (recipe, examples/ai-sales-assistant/README.md): an AI
// sales assistant for a multi-tenant shop. Before a handler runs, the core has
// checked the credential (a user token; the publishable key on the public lead
// form), the path's tenant against the token's (403 TENANT_MISMATCH), the
// role ladder's grants (403 FORBIDDEN), the endpoint class's rate limit (429
// RATE_LIMITED), the parameters and the body schema (422 VALIDATION_FAILED),
// and CORS against CORS_ORIGINS. The handlers only charge quotas and read or
// write rows; the database checks again under RLS.
import { guard } from "../../../../supabase/functions/_shared/guard.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import { type Caller } from "./caller.ts";
import { type ChatRequest, chat } from "./chat.ts";
import { readUsage } from "./read_usage.ts";
import { captureLead, type LeadRequest } from "./capture_lead.ts";
import { listLeads } from "./list_leads.ts";

const fetch = guard(policy, async (req, { route, identity, params, body, requestId, clientIp }) => {
  const caller: Caller = {
    claims: identity.claims ?? {},
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  };
  switch (route) {
    case "POST /sales-assistant/:tenant_id/chat":
      return Response.json(await chat(caller, params.tenant_id, body as ChatRequest));
    case "GET /sales-assistant/:tenant_id/usage":
      return Response.json(await readUsage(caller, params.tenant_id));
    case "GET /sales-assistant/:tenant_id/leads":
      return Response.json(await listLeads(caller, params.tenant_id, new URL(req.url).searchParams));
    case "POST /sales-assistant/leads":
      return Response.json(await captureLead(caller, body as LeadRequest), { status: 201 });
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
