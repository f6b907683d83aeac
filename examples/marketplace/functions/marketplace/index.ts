// marketplace (recipe, examples/marketplace/README.md): a back office where
// customers place and follow their orders, agents work the orders assigned to
// them, and admins see and assign everything in their tenant. Before a handler
// runs, the core has checked the user token (every route), the path's tenant
// against the token's (403 TENANT_MISMATCH), the policy's ladder admin > agent
// > customer and its grants (403 FORBIDDEN), the per-group rate limit (429
// RATE_LIMITED + Retry-After), the parameters and the body schema. The
// handlers run as the caller under RLS, which decides which orders exist for
// whom; the audit trigger records every write with the caller as actor.
// Product images are uploads the core checks (type by magic bytes and
// structure, size, dimensions, file name) before the handler sees them.
import { guard } from "../../../../supabase/functions/_shared/guard.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import policy from "./policy.json" with { type: "json" };
import type { Caller } from "./caller.ts";
import { listOrders } from "./list_orders.ts";
import { getOrder } from "./get_order.ts";
import { type NewOrder, placeOrder } from "./place_order.ts";
import { type OrderUpdate, updateOrder } from "./update_order.ts";
import { assignAgent } from "./assign_agent.ts";
import { type CheckedUpload, putProductImage } from "./put_product_image.ts";
import { getProductImage } from "./get_product_image.ts";

const fetch = guard(policy, async (req, { route, identity, params, body, rawBody, requestId, clientIp }) => {
  const caller: Caller = {
    claims: identity.claims ?? {},
    requestId,
    clientIp: clientIp().client_ip ?? undefined,
    userAgent: req.headers.get("user-agent") ?? undefined,
  };
  const { tenant_id: tenant, order_id: order, product_id: product } = params;
  switch (route) {
    case "GET /marketplace/:tenant_id/orders":
      return Response.json(await listOrders(caller, tenant, new URL(req.url).searchParams));
    case "GET /marketplace/:tenant_id/orders/:order_id":
      return Response.json(await getOrder(caller, tenant, order));
    case "POST /marketplace/:tenant_id/orders":
      return Response.json(await placeOrder(caller, tenant, body as NewOrder), { status: 201 });
    case "PATCH /marketplace/:tenant_id/orders/:order_id":
      return Response.json(await updateOrder(caller, tenant, order, body as OrderUpdate));
    case "PUT /marketplace/:tenant_id/orders/:order_id/agent":
      return Response.json(await assignAgent(caller, tenant, order, (body as { agent_id: string | null }).agent_id));
    case "PUT /marketplace/:tenant_id/products/:product_id/image":
      return Response.json(await putProductImage(caller, tenant, product, body as CheckedUpload, rawBody));
    case "GET /marketplace/:tenant_id/products/:product_id/image":
      return await getProductImage(caller, tenant, product);
  }
  throw new GuardError("NOT_FOUND", "no handler for this route");
});

export default { fetch };
