// GET /audit/verify: verify_audit_chain for the caller's tenant, every
// signed checkpoint compared with the chain (private.verify_tenant_audit,
// which checks audit:read from the membership; docs/database.md). Checking
// the signatures themselves takes the public key: `edgeguard audit verify`.
import { asAuditReader, type Caller } from "./caller.ts";

interface Report {
  valid: boolean;
  rows_checked: string;
  first_broken_id: string | null;
  first_broken_seq: string | null;
  reason: string | null;
  head_seq: string | null;
  checkpoints: string;
  last_checkpoint_seq: string | null;
  last_checkpoint_at: string | null;
}

const num = (v: string | null) => (v === null ? null : Number(v));

export async function verifyChain(caller: Caller) {
  const [report] = await asAuditReader(caller, (sql) =>
    sql<Report[]>`
        select valid, rows_checked::text, first_broken_id::text, first_broken_seq::text, reason,
               head_seq::text, checkpoints::text, last_checkpoint_seq::text, last_checkpoint_at
        from private.verify_tenant_audit(${caller.tenantId})`);
  return {
    tenant_id: caller.tenantId,
    valid: report.valid,
    rows_checked: Number(report.rows_checked),
    first_broken_id: num(report.first_broken_id),
    first_broken_seq: num(report.first_broken_seq),
    reason: report.reason,
    head_seq: num(report.head_seq),
    checkpoints: {
      count: Number(report.checkpoints),
      last_seq: num(report.last_checkpoint_seq),
      last_signed_at: report.last_checkpoint_at
        ? new Date(report.last_checkpoint_at).toISOString()
        : null,
    },
  };
}
