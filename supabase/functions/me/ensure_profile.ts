// The caller's profile, created on the first call: one INSERT ... ON CONFLICT
// DO NOTHING and one SELECT, both as the caller under RLS (the insert policy
// only lets a user create the row whose id is their own auth.uid()).
import { asUser, type Claims, DatabaseError, type RequestContext } from "../_shared/db/db.ts";
import { displayNameOf } from "./display_name.ts";

/** The profile row the caller sees. */
export interface Profile {
  id: string;
  display_name: string | null;
  avatar_url: string | null;
  created_at: string;
}

/** The profile, and whether this call created it; `profile` is null when the user has no account row. */
export interface EnsuredProfile {
  profile: Profile | null;
  created: boolean;
}

/**
 * Creates the caller's profile if missing and returns it. A verified token
 * whose user has no `auth.users` row (deleted account, token of a test
 * issuer) gets `profile: null` rather than an error.
 */
export async function ensureProfile(claims: Claims, ctx: RequestContext): Promise<EnsuredProfile> {
  const displayName = displayNameOf(claims);
  try {
    return await asUser(claims, async (sql) => {
      const inserted = await sql`
        insert into public.profiles (id, display_name)
        values ((select auth.uid()), ${displayName})
        on conflict (id) do nothing
        returning id`;
      const [row] = await sql<Profile[]>`
        select id, display_name, avatar_url, created_at
        from public.profiles
        where id = (select auth.uid())`;
      return { profile: row ? { ...row, created_at: new Date(row.created_at).toISOString() } : null, created: inserted.length > 0 };
    }, ctx);
  } catch (e) {
    // 23503: no auth.users row for this sub; 22P02: a sub that is not a uuid
    if (e instanceof DatabaseError && (e.sqlstate === "23503" || e.sqlstate === "22P02")) {
      return { profile: null, created: false };
    }
    throw e;
  }
}
