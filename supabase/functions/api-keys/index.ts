// api-keys: users create, list, revoke and rotate their API keys (egk_…;
// docs/api-keys.md). The core checks every body and mints every key; only the
// keyed hash is stored, through the service (clients cannot write api_keys),
// and the plaintext appears once, in the creation or rotation answer. Listing
// runs as the caller under RLS. Every change is audited with the caller as actor.
import { guard } from "../_shared/guard.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import { callerOf } from "./caller.ts";
import { createKey } from "./create_key.ts";
import { listKeys } from "./list_keys.ts";
import { revokeKey } from "./revoke_key.ts";
import { rotateKey } from "./rotate_key.ts";

const fetch = guard(policy, async (req, { route, identity, params, rawBody, requestId, clientIp }) => {
  const caller = callerOf(identity, {
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  });
  switch (route) {
    case "POST /api-keys":
      return Response.json(await createKey(caller, rawBody), { status: 201, headers: { "cache-control": "no-store" } });
    case "GET /api-keys":
      return Response.json(await listKeys(caller, new URL(req.url).searchParams));
    case "DELETE /api-keys/:id":
      await revokeKey(caller, params.id);
      return new Response(null, { status: 204 });
    case "POST /api-keys/:id/rotate":
      return Response.json(await rotateKey(caller, params.id, rawBody), { status: 201, headers: { "cache-control": "no-store" } });
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
