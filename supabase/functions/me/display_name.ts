// The profile's initial display name, from Supabase Auth's `user_metadata`
// claim (display_name, full_name or name: what sign-up forms and OAuth
// providers fill in). Not security-relevant: it only seeds a profile field.
import type { Claims } from "../_shared/db/db.ts";

/** The trimmed display name when it fits `profiles.display_name` (1–100 characters), else null. */
export function displayNameOf(claims: Claims): string | null {
  const meta = claims.user_metadata;
  if (!meta || typeof meta !== "object" || Array.isArray(meta)) return null;
  const m = meta as Record<string, unknown>;
  for (const key of ["display_name", "full_name", "name"]) {
    const v = m[key];
    if (typeof v !== "string") continue;
    const t = v.trim();
    if (t.length >= 1 && [...t].length <= 100) return t;
  }
  return null;
}
