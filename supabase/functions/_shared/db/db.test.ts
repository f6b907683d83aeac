// db.ts against a real Postgres with the migrations applied.
// SUPABASE_DB_URL set: that database (bootstrap + migrations applied; the test
// writes only rows it creates, under fresh ids). Not set: a throw-away cluster
// started with scripts/pg.sh in a temporary state dir, destroyed afterwards.
import { createDb, DatabaseError, DatabaseMisconfigured, DatabaseUnavailable, toDatabaseError } from "./db.ts";
import type { Db, Tx } from "./db.ts";
import { checkpointSigner } from "./audit_checkpoint.ts";
import { GuardError } from "../http/respond_error.ts";
import { assert, eq } from "../test_assert.ts";

const root = new URL("../../../../", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function pgsh(env: Record<string, string>, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: [`${root}scripts/pg.sh`, ...args],
    env,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(`pg.sh ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** A migrated database: the given one, or a throw-away cluster. */
async function database(): Promise<{ url: string; stop: () => Promise<void> }> {
  const given = Deno.env.get("SUPABASE_DB_URL");
  if (given) return { url: given, stop: async () => {} };
  const port = freePort();
  const env = {
    EDGEGUARD_STATE_DIR: await Deno.makeTempDir({ prefix: "edgeguard-dbtest-" }),
    EDGEGUARD_DB_PORT: String(port),
    EDGEGUARD_PG_FAST: "1",
  };
  await pgsh(env, "start");
  try {
    await pgsh(env, "migrate");
  } catch (e) {
    await pgsh(env, "destroy");
    throw e;
  }
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await pgsh(env, "destroy");
      await Deno.remove(env.EDGEGUARD_STATE_DIR, { recursive: true });
    },
  };
}

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

/** A fresh tenant with an admin and a member (ids unique per run). */
async function fixture(db: Db) {
  const tenant = crypto.randomUUID();
  const admin = crypto.randomUUID();
  const member = crypto.randomUUID();
  const stranger = crypto.randomUUID();
  await db.asAdmin(async (sql) => {
    await sql`insert into auth.users (id, email) values
      (${admin}, ${`admin-${admin}@db.test`}), (${member}, ${`member-${member}@db.test`}),
      (${stranger}, ${`stranger-${stranger}@db.test`})`;
    await sql`insert into public.tenants (id, slug, name) values (${tenant}, ${`t-${
      tenant.slice(0, 8)
    }`}, 'db.ts test')`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values
      (${tenant}, ${admin}, 'admin'), (${tenant}, ${member}, 'customer')`;
    await sql`insert into public.profiles (id, display_name) values (${member}, 'Member'), (${stranger}, 'Stranger')`;
  });
  const claims = (sub: string) => ({ sub, role: "authenticated", aud: "authenticated" });
  return {
    tenant,
    admin,
    member,
    stranger,
    adminClaims: claims(admin),
    memberClaims: claims(member),
    strangerClaims: claims(stranger),
  };
}

Deno.test({
  name: "db: asUser / asAdmin against Postgres",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const pg = await database();
    const db = createDb(pg.url, { max: 8 });
    try {
      const f = await fixture(db);
      const rid = (n: number) => `req-db-ts-${n}-${f.tenant.slice(0, 8)}`;

      await t.step("asUser runs under RLS as the caller", async () => {
        const mine = await db.asUser(f.memberClaims, (sql) => sql`select id from public.tenants`);
        eq(mine.length, 1, "the member sees one tenant");
        eq(mine[0].id, f.tenant, "their own");
        const none = await db.asUser(
          f.strangerClaims,
          (sql) => sql`select id from public.tenants where id = ${f.tenant}`,
        );
        eq(none.length, 0, "a stranger sees none");
        const who = await db.asUser(f.memberClaims, (sql) => sql`select current_user as role, auth.uid() as uid`);
        eq(who[0].role, "authenticated", "role");
        eq(who[0].uid, f.member, "auth.uid()");
      });

      await t.step("anon claims run as anon", async () => {
        const e = await rejects(db.asUser({ role: "anon" }, (sql) => sql`select id from public.tenants`));
        assert(e instanceof DatabaseError, `DatabaseError, got ${e}`);
        eq((e as DatabaseError).sqlstate, "42501", "permission denied for anon");
      });

      await t.step("an RLS refusal is a DatabaseError with only its SQLSTATE", async () => {
        const e = await rejects(
          db.asUser(
            f.memberClaims,
            (sql) =>
              sql`insert into public.tenant_members (tenant_id, user_id, role) values (${f.tenant}, ${f.stranger}, 'admin')`,
          ),
        );
        assert(e instanceof DatabaseError, `DatabaseError, got ${e}`);
        eq((e as DatabaseError).sqlstate, "42501", "sqlstate");
        eq((e as Error).message, "database error 42501", "message without SQL or server text");
        assert(!JSON.stringify(e).includes("insert"), "no SQL in the serialised error");
      });

      await t.step("a unique violation carries its constraint name", async () => {
        const e = await rejects(
          db.asAdmin((sql) =>
            sql`insert into public.tenants (id, slug, name) values (${crypto.randomUUID()}, ${`t-${
              f.tenant.slice(0, 8)
            }`}, 'dup')`
          ),
        );
        assert(e instanceof DatabaseError, `DatabaseError, got ${e}`);
        eq((e as DatabaseError).sqlstate, "23505", "sqlstate");
        eq((e as DatabaseError).constraint, "tenants_slug_key", "constraint");
      });

      await t.step("asAdmin bypasses RLS as service_role and records the actor", async () => {
        const rows = await db.asAdmin(async (sql) => {
          await sql`update public.tenant_members set role = 'moderator' where tenant_id = ${f.tenant} and user_id = ${f.member}`;
          return await sql`select actor_id, db_role, request_id, host(client_ip) as ip, user_agent, actor_claims ->> 'sub' as sub
                           from public.audit_logs where tenant_id = ${f.tenant} and table_name = 'tenant_members'
                           order by seq desc limit 1`;
        }, { actorClaims: f.adminClaims, requestId: rid(1), clientIp: "192.0.2.44", userAgent: "db.test/1" });
        eq(rows[0].actor_id, f.admin, "actor is the user");
        eq(rows[0].db_role, "service_role", "database role");
        eq(rows[0].request_id, rid(1), "request id");
        eq(rows[0].ip, "192.0.2.44", "client ip");
        eq(rows[0].user_agent, "db.test/1", "user agent");
      });

      await t.step("asUser writes are audited with the user as actor", async () => {
        await db.asUser(
          f.memberClaims,
          (sql) => sql`update public.profiles set display_name = 'Renamed' where id = ${f.member}`,
          { requestId: rid(2) },
        );
        const rows = await db.asAdmin((sql) =>
          sql`select actor_id, db_role from public.audit_logs where request_id = ${rid(2)}`
        );
        eq(rows.length, 1, "one audit row");
        eq(rows[0].actor_id, f.member, "actor");
        eq(rows[0].db_role, "authenticated", "database role");
      });

      await t.step("settings are transaction-local: nothing leaks to the next use of a connection", async () => {
        const one = createDb(pg.url, { max: 1 });
        try {
          await one.asUser(f.memberClaims, (sql) => sql`select 1`, { requestId: "leak-check" });
          const after = await one.asAdmin((sql) =>
            sql`select current_user as role, coalesce(current_setting('request.jwt.claims', true), '') as claims,
                       coalesce(current_setting('edgeguard.request_id', true), '') as rid`
          );
          eq(after[0].role, "service_role", "role of the next transaction");
          eq(after[0].claims, "", "no claims left over");
          eq(after[0].rid, "", "no request id left over");
        } finally {
          await one.end();
        }
      });

      await t.step("a throwing fn rolls the transaction back", async () => {
        const e = await rejects(db.asUser(f.memberClaims, async (sql) => {
          await sql`update public.profiles set display_name = 'Never' where id = ${f.member}`;
          throw new RangeError("handler failed");
        }));
        assert(e instanceof RangeError, "the handler's own error passes through");
        const rows = await db.asAdmin((sql) => sql`select display_name from public.profiles where id = ${f.member}`);
        eq(rows[0].display_name, "Renamed", "unchanged");
      });

      await t.step("values are parameters, never SQL", async () => {
        const hostile = "'); drop table public.tenants; --";
        const rows = await db.asUser(f.memberClaims, (sql) => sql`select ${hostile}::text as v`);
        eq(rows[0].v, hostile, "round trip");
        const still = await db.asAdmin((sql) =>
          sql`select count(*)::int as n from public.tenants where id = ${f.tenant}`
        );
        eq(still[0].n, 1, "tenants intact");
      });

      await t.step("concurrent audited writers never fork the tenant's chain", async () => {
        // distinct rows (no row lock serialises them) in overlapping transactions
        const writers = Array.from({ length: 24 }, (_, i) =>
          db.asAdmin(async (sql) => {
            await sql`select private.audit_event(${f.tenant}, 'test.concurrent', ${sql.json({ i })})`;
            await sql`select pg_sleep(0.01)`;
          }, { actorClaims: f.adminClaims }));
        await Promise.all(writers);
        const v = await db.asAdmin((sql) =>
          sql`select valid, rows_checked::int as n, reason from public.verify_audit_chain(${f.tenant})`
        );
        eq(v[0].valid, true, `chain valid (${v[0].reason})`);
        const seq = await db.asAdmin((sql) =>
          sql`select count(*)::int as n, max(seq)::int as max, count(distinct prev_hash)::int as links
              from public.audit_logs where chain_id = ${f.tenant}`
        );
        eq(seq[0].n, seq[0].max, "seq 1..n without gaps");
        eq(seq[0].links, seq[0].n - 1, "every prev_hash distinct: one successor per row");
        assert(seq[0].n >= 24, "all writes audited");
      });

      await t.step("a tenant admin verifies the chain through asUser", async () => {
        const v = await db.asUser(
          f.adminClaims,
          (sql) => sql`select valid from public.verify_audit_chain(${f.tenant})`,
        );
        eq(v[0].valid, true, "valid");
        const e = await rejects(
          db.asUser(f.memberClaims, (sql) => sql`select valid from public.verify_audit_chain(${f.tenant})`),
        );
        eq((e as DatabaseError).sqlstate, "42501", "a member may not");
      });

      await t.step("wrong password: DatabaseUnavailable, nothing of the URL in it", async () => {
        const url = new URL(pg.url);
        url.password = "wrong-password-not-logged";
        const bad = createDb(url.toString(), { connectTimeout: 3 });
        try {
          const e = await rejects(bad.asUser(f.memberClaims, (sql) => sql`select 1`));
          assert(e instanceof DatabaseUnavailable, `DatabaseUnavailable, got ${e}`);
          eq((e as DatabaseUnavailable).reason, "28P01", "reason");
          const text = `${(e as Error).message} ${JSON.stringify(e)} ${(e as Error).stack}`;
          assert(!text.includes("wrong-password-not-logged") && !text.includes("postgresql://"), text);
        } finally {
          await bad.end();
        }
      });

      await t.step("the admin path runs as service_role, which owns nothing and cannot edit the log", async () => {
        const [who] = await db.asAdmin((sql) =>
          sql`select current_user as role,
                     (select count(*)::int from pg_catalog.pg_class c where c.relowner = (
                        select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)) as owned`
        );
        eq(who.role, "service_role", "role");
        eq(who.owned, 0, "owns no table");
        for (
          const attempt of [
            (sql: Tx) => sql`alter table public.audit_logs disable trigger user`,
            (sql: Tx) => sql`update public.audit_logs set user_agent = 'rewritten'`,
            (sql: Tx) => sql`delete from private.audit_checkpoints`,
            (sql: Tx) => sql`update private.audit_chain_heads set seq = seq`,
          ]
        ) {
          const e = await rejects(db.asAdmin(attempt));
          assert(e instanceof DatabaseError, `DatabaseError, got ${e}`);
          eq((e as DatabaseError).sqlstate, "42501", "refused");
        }
      });

      await t.step("audit checkpoints: a writing transaction signs its chain's head, verifiable with the public key", async () => {
        const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
        const seed = (await crypto.subtle.exportKey("jwk", pair.privateKey)).d!;
        const lines: string[] = [];
        const signer = checkpointSigner({ AUDIT_SIGNING_KEY: seed });
        assert(signer.state === "wanted", `signer: ${signer.state}`);
        const ready = await signer.ready();
        eq(ready.state, "enabled", "signer");
        const signing = createDb(pg.url, { max: 2, auditSigner: signer });
        const logged = console.log;
        console.log = (line: string) => lines.push(line);
        try {
          const count = async () =>
            (await db.asAdmin((sql) =>
              sql`select count(*)::int as n from private.audit_checkpoints where chain_id = ${f.tenant}`
            ))[0].n;
          const before = await count();
          await signing.asUser(f.memberClaims, (sql) => sql`select id from public.tenants`);
          eq(await count(), before, "a read-only transaction signs nothing");
          await signing.asUser(f.adminClaims, async (sql) => {
            await sql`update public.tenants set name = 'signed once' where id = ${f.tenant}`;
            await sql`update public.tenants set name = 'signed twice' where id = ${f.tenant}`;
          });
          eq(await count(), before + 1, "one checkpoint per chain per transaction");
          const [cp] = await db.asAdmin((sql) =>
            sql`select k.chain_id, k.seq::text as seq, k.head_hash, k.signed_at_ms::text as at, k.key_id, k.signature,
                       h.seq::text as head_seq, h.hash as head
                from private.audit_checkpoints k join private.audit_chain_heads h using (chain_id)
                where k.chain_id = ${f.tenant} order by k.seq desc limit 1`
          );
          eq(`${cp.seq} ${cp.head_hash}`, `${cp.head_seq} ${cp.head}`, "the checkpoint is the chain's head");
          eq(cp.key_id, ready.state === "enabled" ? ready.keyId : "", "key id");
          // an independent check of the byte-exact message and the signature (WebCrypto, not the core)
          const message = `edgeguard-audit-checkpoint/v1\nchain=${cp.chain_id}\nseq=${cp.seq}\nhash=${cp.head_hash}\nsigned_at=${cp.at}\n`;
          const sig = Uint8Array.from(atob(cp.signature.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
          const data = new TextEncoder().encode(message);
          assert(await crypto.subtle.verify("Ed25519", pair.publicKey, sig, data), "signature verifies");
          assert(!await crypto.subtle.verify("Ed25519", pair.publicKey, sig, data.map((b, i) => i === 40 ? b ^ 1 : b)), "not for another message");
          const line = lines.find((l) => l.includes("audit checkpoint"));
          assert(line !== undefined, "one log line");
          assert(line!.includes(`chain=${cp.chain_id} seq=${cp.seq} hash=${cp.head_hash}`) && line!.includes(`sig=${cp.signature}`), line!);
          assert(!lines.join("\n").includes(seed), "the seed is never logged");
        } finally {
          console.log = logged;
          await signing.end();
        }
      });

      await t.step("audit checkpoints: a write without a usable key in production is MISCONFIGURED and rolls back", async () => {
        const signer = checkpointSigner({ APP_ENV: "production" });
        assert(signer.state === "wanted", `signer: ${signer.state}`);
        eq((await signer.ready()).state, "misconfigured", "signer");
        const strict = createDb(pg.url, { max: 1, auditSigner: signer });
        try {
          const rows = await strict.asUser(f.memberClaims, (sql) => sql`select id from public.tenants`);
          eq(rows.length, 1, "reads still work");
          const e = await rejects(strict.asUser(f.adminClaims, (sql) =>
            sql`update public.tenants set name = 'never committed' where id = ${f.tenant}`));
          assert(e instanceof GuardError, `GuardError, got ${e}`);
          eq((e as GuardError).code, "MISCONFIGURED", "code");
          const [t] = await db.asAdmin((sql) => sql`select name from public.tenants where id = ${f.tenant}`);
          eq(t.name, "signed twice", "the write was rolled back");
        } finally {
          await strict.end();
        }
      });
    } finally {
      await db.end();
      await pg.stop();
    }
  },
});

Deno.test({
  name: "db: unreachable database is DatabaseUnavailable (503 UNAVAILABLE)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const url = `postgresql://postgres:secret-not-logged@127.0.0.1:${freePort()}/postgres`;
    const db = createDb(url, { connectTimeout: 2 });
    try {
      for (
        const run of [
          () => db.asUser({ sub: crypto.randomUUID(), role: "authenticated" }, (sql) => sql`select 1`),
          () => db.asAdmin((sql) => sql`select 1`),
        ]
      ) {
        const e = await rejects(run());
        assert(e instanceof DatabaseUnavailable, `DatabaseUnavailable, got ${e}`);
        eq((e as DatabaseUnavailable).code, "UNAVAILABLE", "code");
        eq((e as DatabaseUnavailable).status, 503, "status");
        eq((e as Error).message, "database unavailable", "message");
        const text = `${(e as Error).message} ${JSON.stringify(e)} ${(e as Error).stack}`;
        assert(
          !text.includes("secret-not-logged") && !text.includes("postgresql://") && !text.includes("select"),
          text,
        );
      }
    } finally {
      await db.end();
    }
  },
});

Deno.test("db: a missing or non-Postgres URL is DatabaseMisconfigured (500 MISCONFIGURED)", () => {
  for (const url of ["", "mysql://x@y/z", "http://127.0.0.1:5432/"]) {
    let caught: unknown;
    try {
      createDb(url);
    } catch (e) {
      caught = e;
    }
    assert(caught instanceof DatabaseMisconfigured, `misconfigured for ${JSON.stringify(url)}`);
    eq((caught as DatabaseMisconfigured).code, "MISCONFIGURED", "code");
  }
});

Deno.test("db: error classification", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  assert(toDatabaseError(refused) instanceof DatabaseUnavailable, "ECONNREFUSED");
  const shutdown = Object.assign(new Error("terminating connection"), { name: "PostgresError", code: "57P01" });
  assert(toDatabaseError(shutdown) instanceof DatabaseUnavailable, "admin shutdown");
  const broken = Object.assign(new Error("x"), { name: "PostgresError", code: "08006" });
  assert(toDatabaseError(broken) instanceof DatabaseUnavailable, "connection failure class 08");
  const rls = Object.assign(new Error('new row violates row-level security policy for table "t"'), {
    name: "PostgresError",
    code: "42501",
  });
  const mapped = toDatabaseError(rls);
  assert(
    mapped instanceof DatabaseError && mapped.sqlstate === "42501" && !mapped.message.includes("policy"),
    "RLS error",
  );
  const own = new TypeError("not a database error");
  eq(toDatabaseError(own), own, "other errors pass through");
});
