// Custom access token hook (Supabase Auth, HTTP): input `{user_id, claims,
// authentication_method}`, output `{"claims": …}`. Every claim Supabase put
// in (iss, aud, exp, iat, sub, role, aal, session_id, email, phone,
// is_anonymous, app_metadata …) is returned unchanged; the database adds
// `user_role`, `tenant_id` (absent without a membership) and `permissions`
// through public.custom_access_token_hook (migration 20261123000500), the
// same function a Postgres hook would use.
import type { Sql } from "../_shared/db/connect_postgres.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { HookAnswer } from "./answer_once.ts";

export interface AccessTokenEvent {
  user_id: string;
  claims: Record<string, unknown>;
  authentication_method?: string;
}

/** The hook's answer for `event` (already verified and schema-checked). */
export async function customAccessToken(sql: Sql, event: AccessTokenEvent): Promise<HookAnswer> {
  // The token is for `user_id`: a payload whose claims name someone else is refused.
  if (event.claims.sub !== undefined && event.claims.sub !== event.user_id) {
    throw new GuardError("INVALID_BODY", "claims.sub does not match user_id");
  }
  const [row] = await sql`select public.custom_access_token_hook(${sql.json(event as never)}) as event`;
  const claims = (row?.event as { claims?: unknown } | undefined)?.claims;
  if (!claims || typeof claims !== "object") throw new Error("custom_access_token_hook returned no claims");
  return { status: 200, body: { claims } };
}
