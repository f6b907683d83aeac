// The owner-rewrite attack on the audit log (docs/security.md, "Audit log
// integrity"): rows written through a function over HTTP get a signed
// checkpoint; the database owner then rewrites a row, recomputes the whole
// chain and head (the plain chain check passes) and rewrites the checkpoint
// hashes too. `edgeguard audit verify`, holding only the public key, reports
// FAIL; with the checkpoints deleted instead, the copies in the function log
// still make it FAIL; the honest log verifies OK.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, devKeys, functionsUrl, mintToken, stateDir } from "./stack.ts";
import { auditVerify } from "./audit_support.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const ADMIN_A = "aaaaaaaa-0000-4000-8000-000000000001";

/** Changes a fresh member's role through the admin-users function (audited rows in tenant A's chain). */
async function auditedWrite(sql: postgres.Sql): Promise<string> {
  const member = crypto.randomUUID();
  await sql`insert into auth.users (id, aud, role, email) values (${member}, 'authenticated', 'authenticated', ${`cp-${member}@tenant.test`})`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${A}, ${member}, 'customer')`;
  const token = await mintToken({
    sub: ADMIN_A,
    email: "admin@tenant-a.test",
    user_role: "admin",
    tenant_id: A,
  });
  const res = await fetch(`${functionsUrl}/admin-users/${A}/members/${member}`, {
    method: "PATCH",
    body: JSON.stringify({ role: "moderator" }),
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return member;
}

async function exportChain(sql: postgres.Sql | postgres.TransactionSql): Promise<string> {
  const [row] = await sql`select private.audit_export(array[${A}::uuid])::text as export`;
  return row.export;
}

/**
 * The attack, as the owning role, in a transaction rolled back afterwards: the
 * member's recorded role change now says "guest"; every prev_hash, hash and the
 * head are recomputed; the checkpoints are then rewritten to match, or deleted.
 * Returns the database's own verdict and the export as the attacker left it.
 */
async function ownerRewrite(sql: postgres.Sql, member: string, checkpoints: "rewrite" | "delete") {
  let plainCheck: { valid: boolean; reason: string | null } | undefined;
  let forged = "";
  await sql.begin(async (tx) => {
    await tx`alter table public.audit_logs disable trigger user`;
    await tx`alter table private.audit_checkpoints disable trigger user`;
    await tx`update public.audit_logs set new_record = jsonb_set(new_record, '{role}', '"guest"')
             where chain_id = ${A} and table_name = 'tenant_members' and operation = 'UPDATE'
               and row_pk ->> 'user_id' = ${member}`;
    const rows = await tx`select id from public.audit_logs where chain_id = ${A} order by seq`;
    for (const r of rows) {
      await tx`update public.audit_logs a
               set prev_hash = (select p.hash from public.audit_logs p where p.chain_id = a.chain_id and p.seq = a.seq - 1)
               where a.id = ${r.id}`;
      await tx`update public.audit_logs a set hash = private.audit_row_hash(a) where a.id = ${r.id}`;
    }
    await tx`update private.audit_chain_heads h set hash = a.hash
             from public.audit_logs a where h.chain_id = ${A} and a.chain_id = h.chain_id and a.seq = h.seq`;
    if (checkpoints === "rewrite") {
      await tx`update private.audit_checkpoints k set head_hash = a.hash
               from public.audit_logs a where k.chain_id = ${A} and a.chain_id = k.chain_id and a.seq = k.seq`;
    } else {
      await tx`delete from private.audit_checkpoints where chain_id = ${A}`;
    }
    await tx`alter table public.audit_logs enable trigger user`;
    await tx`alter table private.audit_checkpoints enable trigger user`;
    [plainCheck] = await tx`select valid, reason from public.verify_audit_chain(${A}::uuid)` as unknown as {
      valid: boolean;
      reason: string | null;
    }[];
    forged = await exportChain(tx);
    throw new Error("undo the attack");
  }).catch((e) => {
    if (!(e instanceof Error) || e.message !== "undo the attack") throw e;
  });
  return { plainCheck, forged };
}

Deno.test("audit checkpoints: the owner-rewrite attack is reported, the honest log verifies", async () => {
  const keys = await devKeys();
  const publicKey = keys.env.AUDIT_VERIFY_KEY;
  assert.ok(publicKey, "the stack has an audit key pair");
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const member = await auditedWrite(sql);
    const [cp] = await sql`
      select k.seq::text as seq, k.head_hash, h.seq::text as head_seq, h.hash as head
      from private.audit_checkpoints k join private.audit_chain_heads h using (chain_id)
      where k.chain_id = ${A} order by k.seq desc limit 1`;
    assert.ok(cp, "the function's transaction wrote a checkpoint");
    assert.deepEqual([cp.seq, cp.head_hash], [cp.head_seq, cp.head], "of the chain's head");

    // honest: OK, every row covered by the checkpoint
    const honest = await auditVerify(await exportChain(sql), publicKey);
    assert.equal(honest.code, 0, JSON.stringify(honest.report));
    assert.equal(honest.report.status, "ok");
    assert.equal(honest.report.chains[0].verified_through, Number(cp.seq));
    assert.equal(honest.report.chains[0].unverified_tail, 0);

    const rewrite = await ownerRewrite(sql, member, "rewrite");
    assert.equal(rewrite.plainCheck?.valid, true, "the rewrite passes the database's own checks");
    const forged = rewrite.forged;
    assert.notEqual(forged, await exportChain(sql), "the rewrite changed the export");

    const attacked = await auditVerify(forged, publicKey);
    assert.equal(attacked.code, 1, JSON.stringify(attacked.report));
    assert.equal(attacked.report.status, "fail");
    const reasons = attacked.report.chains[0].failures.map((f: { reason: string }) => f.reason);
    assert.ok(reasons.includes("signature_invalid"), JSON.stringify(reasons));

    // the checkpoints deleted instead: the export alone cannot tell (an unverified
    // tail), the checkpoints kept in the function log can
    const erased = await ownerRewrite(sql, member, "delete");
    assert.equal(erased.plainCheck?.valid, true, "the rewrite passes the database's own checks");
    const blind = await auditVerify(erased.forged, publicKey);
    assert.equal(blind.code, 0, JSON.stringify(blind.report));
    assert.equal(blind.report.chains[0].verified_through, null, "nothing signed left in the database");
    const withLog = await auditVerify(erased.forged, publicKey, ["--log", `${stateDir}/serve.log`]);
    assert.equal(withLog.code, 1, JSON.stringify(withLog.report));
    // the log also holds checkpoints of chains this export leaves out (reported as removed): read A's
    const logged = withLog.report.chains.find((c: { chain_id: string }) => c.chain_id === A).failures;
    assert.ok(
      logged.some((f: { reason: string; source: string }) => f.reason === "checkpoint_mismatch" && f.source === "log"),
      JSON.stringify(logged),
    );

    // rolled back: the real log still verifies
    const after = await auditVerify(await exportChain(sql), publicKey);
    assert.equal(after.code, 0, JSON.stringify(after.report));
    await sql`delete from auth.users where id = ${member}`;
  } finally {
    await sql.end();
  }
});
