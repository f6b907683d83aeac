// POST /creator-saas/posts {"title", "body"}: a post of the caller's (RLS:
// creator_id must be their auth.uid()). The audit trigger records it with the
// caller as actor, the request id and the client IP.
import type { Caller } from "./caller.ts";
import { asCreator } from "./as_creator.ts";

/** The body, checked against policy.json's schema by the core. */
export interface NewPost {
  title: string;
  body?: string;
}

/** Inserts the post as the caller. */
export async function createPost(caller: Caller, post: NewPost) {
  return await asCreator(caller, async (sql) => {
    const [row] = await sql`insert into public.posts (creator_id, title, body)
      values ((select auth.uid()), ${post.title}, ${post.body ?? ""}) returning id, creator_id, title, body, created_at`;
    return row;
  });
}
