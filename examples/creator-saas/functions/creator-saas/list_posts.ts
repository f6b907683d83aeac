// GET /creator-saas/posts[?limit=]: the caller's posts, newest first. No
// owner test here: RLS admits only the creator's own rows, for a token and
// for an API key alike.
import type { Caller } from "./caller.ts";
import { asCreator } from "./as_creator.ts";

/** Up to `limit` (default 50) of the caller's posts. */
export async function listPosts(caller: Caller, query: URLSearchParams) {
  const limit = Number(query.get("limit") ?? "50");
  return await asCreator(caller, async (sql) => ({
    posts: await sql`select id, creator_id, title, body, created_at from public.posts
                     order by created_at desc, id limit ${limit}`,
  }));
}
