//! Verifies an audit log export against its signed checkpoints, trusting
//! nothing but the public key(s) (docs/security.md, "Audit log integrity").
//!
//! Input: the JSON of `private.audit_export()` —
//! `{"format":"edgeguard-audit-export/v1","chains":[{"chain_id","rows":[{"id","seq","prev_hash","hash","canonical"}],"checkpoints":[{"seq","hash","signed_at_ms","key_id","signature"}]}]}`
//! — plus, optionally, checkpoints copied from the function logs (lines
//! `audit checkpoint chain=… seq=… hash=… signed_at=… key_id=… sig=…`), so that
//! checkpoints removed from the database still count.
//!
//! Per chain the rows are re-chained from their canonical text (the exact
//! bytes that were hashed: SHA-256 of it must be the row's hash, and it must
//! begin with the row's chain id, seq and prev_hash), then every checkpoint's
//! signature is checked and its head compared with the row at its seq.
//!
//! Verdict: any broken link, bad or unknown signature, or a signed head the
//! rows no longer reach is a failure. Rows after the last valid checkpoint
//! are an "unverified tail": reported, not a failure, since nothing signed
//! speaks for them yet.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::audit_checkpoint::{is_chain_id, is_hash, Checkpoint, VerifyKey};

/// The `format` an export must declare.
pub const EXPORT_FORMAT: &str = "edgeguard-audit-export/v1";

/// Why an export could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// Not JSON, or not the export's shape; the text says where.
    Malformed(String),
    /// A different `format`.
    UnknownFormat,
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::Malformed(what) => write!(f, "malformed export: {what}"),
            ExportError::UnknownFormat => write!(f, "export format is not {EXPORT_FORMAT}"),
        }
    }
}

impl std::error::Error for ExportError {}

/// One finding that makes a chain fail verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// seq does not count 1, 2, 3, … (a row removed or moved).
    SequenceGap,
    /// prev_hash is not the previous row's hash.
    PrevHashMismatch,
    /// The canonical text does not start with the row's chain, seq and prev_hash.
    CanonicalMismatch,
    /// SHA-256 of the canonical text is not the row's hash (content changed).
    RowHashMismatch,
    /// A checkpoint's fields are not well-formed.
    MalformedCheckpoint,
    /// A checkpoint names a key id none of the given public keys has.
    UnknownKey,
    /// A checkpoint's signature does not verify (forged or altered checkpoint).
    SignatureInvalid,
    /// The row at a validly signed seq has another hash (rows rewritten).
    CheckpointMismatch,
    /// A validly signed seq lies past the last row (rows removed).
    RowsRemoved,
    /// A validly signed seq lies past a broken link (rows altered before it).
    CheckpointAfterBreak,
}

impl Failure {
    /// The stable name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::SequenceGap => "sequence_gap",
            Failure::PrevHashMismatch => "prev_hash_mismatch",
            Failure::CanonicalMismatch => "canonical_mismatch",
            Failure::RowHashMismatch => "row_hash_mismatch",
            Failure::MalformedCheckpoint => "malformed_checkpoint",
            Failure::UnknownKey => "unknown_key",
            Failure::SignatureInvalid => "signature_invalid",
            Failure::CheckpointMismatch => "checkpoint_mismatch",
            Failure::RowsRemoved => "rows_removed",
            Failure::CheckpointAfterBreak => "checkpoint_after_break",
        }
    }
}

/// A failure and the seq it concerns (a row's or a checkpoint's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What failed.
    pub failure: Failure,
    /// The seq concerned, when there is one.
    pub seq: Option<u64>,
    /// Where the checkpoint came from (`database` or `log`), for checkpoint findings.
    pub source: Option<&'static str>,
}

/// The verdict on one chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// The chain id (tenant id, or the nil uuid).
    pub chain_id: String,
    /// Rows in the export.
    pub rows: u64,
    /// Rows from seq 1 whose links and hashes hold.
    pub intact_rows: u64,
    /// Checkpoints whose signature verified and whose head the rows reach.
    pub valid_checkpoints: u64,
    /// The highest seq covered by a valid checkpoint.
    pub verified_through: Option<u64>,
    /// Rows after `verified_through` (all rows when there is none).
    pub unverified_tail: u64,
    /// Everything that failed.
    pub findings: Vec<Finding>,
}

impl ChainReport {
    /// Whether nothing failed.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "chain_id": self.chain_id,
            "status": if self.ok() { "ok" } else { "fail" },
            "rows": self.rows,
            "intact_rows": self.intact_rows,
            "valid_checkpoints": self.valid_checkpoints,
            "verified_through": self.verified_through,
            "unverified_tail": self.unverified_tail,
            "failures": self.findings.iter().map(|f| json!({
                "reason": f.failure.as_str(), "seq": f.seq, "source": f.source,
            })).collect::<Vec<_>>(),
        })
    }
}

struct Row {
    seq: u64,
    prev_hash: Option<String>,
    hash: String,
    canonical: String,
}

struct SignedHead {
    seq: Value,
    hash: Value,
    signed_at_ms: Value,
    key_id: Value,
    signature: Value,
    source: &'static str,
}

fn field<'a>(v: &'a Value, name: &str, at: &str) -> Result<&'a Value, ExportError> {
    v.get(name)
        .ok_or_else(|| ExportError::Malformed(format!("{at}: missing {name}")))
}

fn parse_rows(chain: &Value, at: &str) -> Result<Vec<Row>, ExportError> {
    let rows = field(chain, "rows", at)?
        .as_array()
        .ok_or_else(|| ExportError::Malformed(format!("{at}: rows is not an array")))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let at = format!("{at}.rows[{i}]");
            let bad = |what: &str| ExportError::Malformed(format!("{at}: {what}"));
            Ok(Row {
                seq: field(r, "seq", &at)?.as_u64().ok_or_else(|| bad("seq"))?,
                prev_hash: match field(r, "prev_hash", &at)? {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => return Err(bad("prev_hash")),
                },
                hash: field(r, "hash", &at)?
                    .as_str()
                    .ok_or_else(|| bad("hash"))?
                    .to_owned(),
                canonical: field(r, "canonical", &at)?
                    .as_str()
                    .ok_or_else(|| bad("canonical"))?
                    .to_owned(),
            })
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Re-chains `rows`: the number of intact rows from seq 1, and the first finding.
fn rechain(chain_id: &str, rows: &[Row]) -> (u64, Option<Finding>) {
    let mut prev: Option<&str> = None;
    for (i, row) in rows.iter().enumerate() {
        let expect = i as u64 + 1;
        let fail = |failure| {
            let seq = Some(row.seq);
            (
                i as u64,
                Some(Finding {
                    failure,
                    seq,
                    source: None,
                }),
            )
        };
        if row.seq != expect {
            return fail(Failure::SequenceGap);
        }
        if row.prev_hash.as_deref() != prev {
            return fail(Failure::PrevHashMismatch);
        }
        // jsonb's text form of the array's first three elements
        let prefix = match prev {
            None => format!("[\"{chain_id}\", {}, null, ", row.seq),
            Some(p) => format!("[\"{chain_id}\", {}, \"{p}\", ", row.seq),
        };
        if !row.canonical.starts_with(&prefix) {
            return fail(Failure::CanonicalMismatch);
        }
        if !is_hash(&row.hash) || hex(&Sha256::digest(row.canonical.as_bytes())) != row.hash {
            return fail(Failure::RowHashMismatch);
        }
        prev = Some(&row.hash);
    }
    (rows.len() as u64, None)
}

fn check_head(
    chain_id: &str,
    head: &SignedHead,
    keys: &[VerifyKey],
) -> Result<Checkpoint, Failure> {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    let (Some(seq), Some(hash), Some(at), Some(key_id), Some(sig)) = (
        head.seq.as_u64(),
        s(&head.hash),
        head.signed_at_ms.as_u64(),
        s(&head.key_id),
        s(&head.signature),
    ) else {
        return Err(Failure::MalformedCheckpoint);
    };
    let checkpoint =
        Checkpoint::new(chain_id, seq, &hash, at).map_err(|_| Failure::MalformedCheckpoint)?;
    let key = keys
        .iter()
        .find(|k| k.key_id() == key_id)
        .ok_or(Failure::UnknownKey)?;
    key.verify(&checkpoint, &sig)
        .map_err(|_| Failure::SignatureInvalid)?;
    Ok(checkpoint)
}

fn verify_chain(
    chain_id: &str,
    rows: &[Row],
    heads: &[SignedHead],
    keys: &[VerifyKey],
) -> ChainReport {
    let (intact, broken) = rechain(chain_id, rows);
    let mut findings: Vec<Finding> = broken.into_iter().collect();
    let mut verified_through: Option<u64> = None;
    let mut valid = 0;
    for head in heads {
        let seq = head.seq.as_u64();
        let finding = |failure| Finding {
            failure,
            seq,
            source: Some(head.source),
        };
        match check_head(chain_id, head, keys) {
            Err(failure) => findings.push(finding(failure)),
            Ok(cp) => {
                let at = cp.seq();
                if at > rows.len() as u64 {
                    findings.push(finding(Failure::RowsRemoved));
                } else if at > intact {
                    findings.push(finding(Failure::CheckpointAfterBreak));
                } else if rows[(at - 1) as usize].hash != cp.head_hash() {
                    findings.push(finding(Failure::CheckpointMismatch));
                } else {
                    valid += 1;
                    verified_through = verified_through.max(Some(at));
                }
            }
        }
    }
    findings.sort_by_key(|f| (f.seq, f.failure.as_str()));
    findings.dedup();
    ChainReport {
        chain_id: chain_id.to_owned(),
        rows: rows.len() as u64,
        intact_rows: intact,
        valid_checkpoints: valid,
        verified_through,
        unverified_tail: rows.len() as u64 - verified_through.unwrap_or(0),
        findings,
    }
}

/// Reads checkpoints from function log text: every line holding
/// `audit checkpoint ` followed by `key=value` words (`chain`, `seq`, `hash`,
/// `signed_at`, `key_id`, `sig`). Lines missing a word are skipped; values
/// are checked when verified. Returns (chain id, head) pairs.
fn log_heads(log: &str) -> Vec<(String, SignedHead)> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(start) = line.find("audit checkpoint ") else {
            continue;
        };
        let rest = &line[start + "audit checkpoint ".len()..];
        let words: BTreeMap<&str, &str> = rest
            .split(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == '}')
            .filter_map(|w| w.split_once('='))
            .collect();
        let get = |k: &str| words.get(k).copied();
        let (Some(chain), Some(seq), Some(hash), Some(at), Some(key_id), Some(sig)) = (
            get("chain"),
            get("seq"),
            get("hash"),
            get("signed_at"),
            get("key_id"),
            get("sig"),
        ) else {
            continue;
        };
        let number =
            |s: &str| crate::audit_checkpoint::parse_decimal(s).map_or(Value::Null, |n| json!(n));
        out.push((
            chain.to_owned(),
            SignedHead {
                seq: number(seq),
                hash: json!(hash),
                signed_at_ms: number(at),
                key_id: json!(key_id),
                signature: json!(sig),
                source: "log",
            },
        ));
    }
    out
}

/// Verifies `export_json` (and the checkpoints found in `log_text`, if any)
/// with `keys`. One report per chain, in chain id order.
pub fn verify_export(
    export_json: &str,
    log_text: Option<&str>,
    keys: &[VerifyKey],
) -> Result<Vec<ChainReport>, ExportError> {
    // strict: an export with duplicate keys could mean one thing here and another elsewhere
    let export: Value = crate::strict_json::parse(export_json.as_bytes())
        .map_err(|e| ExportError::Malformed(e.to_string()))?;
    if export.get("format").and_then(Value::as_str) != Some(EXPORT_FORMAT) {
        return Err(ExportError::UnknownFormat);
    }
    let chains = field(&export, "chains", "export")?
        .as_array()
        .ok_or_else(|| ExportError::Malformed("chains is not an array".into()))?;
    let mut input: BTreeMap<String, (Vec<Row>, Vec<SignedHead>)> = BTreeMap::new();
    for (i, chain) in chains.iter().enumerate() {
        let at = format!("chains[{i}]");
        let id = field(chain, "chain_id", &at)?
            .as_str()
            .filter(|s| is_chain_id(s))
            .ok_or_else(|| ExportError::Malformed(format!("{at}: chain_id")))?;
        let rows = parse_rows(chain, &at)?;
        let heads = field(chain, "checkpoints", &at)?
            .as_array()
            .ok_or_else(|| ExportError::Malformed(format!("{at}: checkpoints is not an array")))?
            .iter()
            .map(|c| SignedHead {
                seq: c.get("seq").cloned().unwrap_or(Value::Null),
                hash: c.get("hash").cloned().unwrap_or(Value::Null),
                signed_at_ms: c.get("signed_at_ms").cloned().unwrap_or(Value::Null),
                key_id: c.get("key_id").cloned().unwrap_or(Value::Null),
                signature: c.get("signature").cloned().unwrap_or(Value::Null),
                source: "database",
            })
            .collect();
        if input.insert(id.to_owned(), (rows, heads)).is_some() {
            return Err(ExportError::Malformed(format!(
                "{at}: chain {id} listed twice"
            )));
        }
    }
    for (chain, head) in log_heads(log_text.unwrap_or("")) {
        if is_chain_id(&chain) {
            input.entry(chain).or_default().1.push(head);
        }
    }
    Ok(input
        .iter()
        .map(|(id, (rows, heads))| verify_chain(id, rows, heads, keys))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_checkpoint::SigningKey;

    const CHAIN: &str = "aaaaaaaa-0000-4000-8000-000000000000";

    fn key() -> SigningKey {
        SigningKey::from_seed_bytes([5u8; 32]).unwrap()
    }

    /// A chain of `n` rows shaped like the database's canonical text.
    fn rows(n: u64) -> Vec<Value> {
        let mut out = Vec::new();
        let mut prev: Option<String> = None;
        for seq in 1..=n {
            let p = prev
                .as_ref()
                .map_or("null".to_owned(), |p| format!("\"{p}\""));
            let canonical =
                format!("[\"{CHAIN}\", {seq}, {p}, 1764000000000000, {{\"n\": {seq}}}]");
            let hash = hex(&Sha256::digest(canonical.as_bytes()));
            out.push(json!({"id": seq, "seq": seq, "prev_hash": prev, "hash": hash, "canonical": canonical}));
            prev = Some(hash);
        }
        out
    }

    fn checkpoint(k: &SigningKey, rows: &[Value], seq: u64) -> Value {
        let hash = rows[(seq - 1) as usize]["hash"].as_str().unwrap();
        let cp = Checkpoint::new(CHAIN, seq, hash, 1_764_000_000_000).unwrap();
        json!({"seq": seq, "hash": hash, "signed_at_ms": 1_764_000_000_000u64,
               "key_id": k.key_id(), "signature": k.sign(&cp)})
    }

    fn export(rows: &[Value], checkpoints: &[Value]) -> String {
        json!({"format": EXPORT_FORMAT, "chains": [{"chain_id": CHAIN, "rows": rows, "checkpoints": checkpoints}]})
            .to_string()
    }

    fn verify(rows: &[Value], cps: &[Value]) -> ChainReport {
        let r = verify_export(&export(rows, cps), None, &[key().verify_key()]).unwrap();
        assert_eq!(r.len(), 1);
        r[0].clone()
    }

    fn reasons(r: &ChainReport) -> Vec<&'static str> {
        r.findings.iter().map(|f| f.failure.as_str()).collect()
    }

    /// Re-chains rows after editing them, as the owner of the table could.
    fn rechain_as_owner(rows: &mut [Value]) {
        let mut prev: Option<String> = None;
        for (i, row) in rows.iter_mut().enumerate() {
            let seq = i + 1;
            let p = prev
                .as_ref()
                .map_or("null".to_owned(), |p| format!("\"{p}\""));
            let content = row["canonical"]
                .as_str()
                .unwrap()
                .splitn(4, ", ")
                .nth(3)
                .unwrap()
                .to_owned();
            let canonical = format!("[\"{CHAIN}\", {seq}, {p}, {content}");
            let hash = hex(&Sha256::digest(canonical.as_bytes()));
            row["prev_hash"] = json!(prev);
            row["hash"] = json!(hash);
            row["canonical"] = json!(canonical);
            prev = Some(hash);
        }
    }

    #[test]
    fn honest_log_verifies_with_an_unverified_tail() {
        let rs = rows(5);
        let r = verify(
            &rs,
            &[checkpoint(&key(), &rs, 2), checkpoint(&key(), &rs, 4)],
        );
        assert!(r.ok(), "{:?}", r.findings);
        assert_eq!(
            (r.verified_through, r.unverified_tail, r.valid_checkpoints),
            (Some(4), 1, 2)
        );
        let none = verify(&rs, &[]);
        assert!(none.ok());
        assert_eq!((none.verified_through, none.unverified_tail), (None, 5));
        assert_eq!(none.to_json()["status"], "ok");
    }

    #[test]
    fn owner_rewrite_with_recomputed_chain_fails() {
        let rs = rows(5);
        let cps = [checkpoint(&key(), &rs, 4)];
        let mut forged = rs.clone();
        forged[1]["canonical"] = json!(forged[1]["canonical"]
            .as_str()
            .unwrap()
            .replace("{\"n\": 2}", "{\"n\": 20}"));
        rechain_as_owner(&mut forged);
        assert_eq!(reasons(&verify(&forged, &cps)), ["checkpoint_mismatch"]);
        // …and rewriting the checkpoint's hash too breaks its signature
        let mut cp = cps[0].clone();
        cp["hash"] = forged[3]["hash"].clone();
        let r = verify(&forged, &[cp]);
        assert_eq!(reasons(&r), ["signature_invalid"]);
        assert_eq!(r.to_json()["status"], "fail");
        // …and re-signing with another key is an unknown key
        let other = SigningKey::from_seed_bytes([6u8; 32]).unwrap();
        assert_eq!(
            reasons(&verify(&forged, &[checkpoint(&other, &forged, 4)])),
            ["unknown_key"]
        );
    }

    #[test]
    fn rewrite_after_the_last_checkpoint_is_only_an_unverified_tail() {
        let rs = rows(5);
        let cps = [checkpoint(&key(), &rs, 3)];
        let mut forged = rs.clone();
        forged[4]["canonical"] = json!(forged[4]["canonical"]
            .as_str()
            .unwrap()
            .replace("{\"n\": 5}", "{\"n\": 50}"));
        rechain_as_owner(&mut forged);
        let r = verify(&forged, &cps);
        assert!(r.ok());
        assert_eq!(r.unverified_tail, 2);
    }

    #[test]
    fn broken_links_and_removed_rows_fail() {
        let rs = rows(5);
        let cps = [checkpoint(&key(), &rs, 5)];
        let mut edited = rs.clone();
        edited[2]["canonical"] =
            json!(edited[2]["canonical"].as_str().unwrap().replace("3}", "4}"));
        assert_eq!(
            reasons(&verify(&edited, &cps)),
            ["row_hash_mismatch", "checkpoint_after_break"]
        );
        let mut gap = rs.clone();
        gap.remove(1);
        assert_eq!(reasons(&verify(&gap, &cps))[0], "sequence_gap");
        assert_eq!(reasons(&verify(&rs[..3], &cps)), ["rows_removed"]);
        let mut relinked = rs.clone();
        relinked[3]["prev_hash"] = json!("0".repeat(64));
        assert_eq!(reasons(&verify(&relinked, &[]))[0], "prev_hash_mismatch");
        let mut moved = rs.clone();
        moved[0]["canonical"] = json!(moved[0]["canonical"]
            .as_str()
            .unwrap()
            .replace(CHAIN, "bbbbbbbb-0000-4000-8000-000000000000"));
        assert_eq!(reasons(&verify(&moved, &[]))[0], "canonical_mismatch");
    }

    #[test]
    fn malformed_checkpoints_fail() {
        let rs = rows(2);
        let mut cp = checkpoint(&key(), &rs, 2);
        cp["signature"] = json!("!");
        assert_eq!(reasons(&verify(&rs, &[cp.clone()])), ["signature_invalid"]);
        cp["seq"] = json!("2");
        assert_eq!(reasons(&verify(&rs, &[cp])), ["malformed_checkpoint"]);
    }

    #[test]
    fn checkpoints_from_the_log_count_when_the_database_lost_them() {
        let rs = rows(4);
        let cp = checkpoint(&key(), &rs, 3);
        let line = format!(
            "{{\"level\":\"info\",\"msg\":\"audit checkpoint chain={CHAIN} seq=3 hash={} signed_at=1764000000000 key_id={} sig={}\"}}",
            cp["hash"].as_str().unwrap(), key().key_id(), cp["signature"].as_str().unwrap());
        let keys = [key().verify_key()];
        let ok = &verify_export(&export(&rs, &[]), Some(&line), &keys).unwrap()[0];
        assert!(ok.ok());
        assert_eq!(ok.verified_through, Some(3));
        // the owner removed the checkpoint and rewrote row 2: the log copy still tells
        let mut forged = rs.clone();
        forged[1]["canonical"] = json!(forged[1]["canonical"]
            .as_str()
            .unwrap()
            .replace("2}", "22}"));
        rechain_as_owner(&mut forged);
        let r = &verify_export(&export(&forged, &[]), Some(&line), &keys).unwrap()[0];
        assert_eq!(reasons(r), ["checkpoint_mismatch"]);
        assert_eq!(r.findings[0].source, Some("log"));
        // a whole chain removed: its logged checkpoint reaches no row
        let gone = json!({"format": EXPORT_FORMAT, "chains": []}).to_string();
        assert_eq!(
            reasons(&verify_export(&gone, Some(&line), &keys).unwrap()[0]),
            ["rows_removed"]
        );
    }

    #[test]
    fn garbage_exports_are_errors_not_panics() {
        let keys = [key().verify_key()];
        for bad in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"format":"x"}"#,
            r#"{"format":"edgeguard-audit-export/v1"}"#,
            r#"{"format":"edgeguard-audit-export/v1","chains":{}}"#,
            r#"{"format":"edgeguard-audit-export/v1","chains":[{"chain_id":"x","rows":[],"checkpoints":[]}]}"#,
            r#"{"format":"edgeguard-audit-export/v1","chains":[{"chain_id":"aaaaaaaa-0000-4000-8000-000000000000","rows":[{"seq":-1}],"checkpoints":[]}]}"#,
            r#"{"format":"edgeguard-audit-export/v1","format":"edgeguard-audit-export/v1","chains":[]}"#,
        ] {
            assert!(verify_export(bad, None, &keys).is_err(), "{bad}");
        }
        for log in [
            "audit checkpoint",
            "audit checkpoint chain= seq= hash= signed_at= key_id= sig=",
            "\u{0}audit checkpoint seq=99999999999999999999999",
        ] {
            let r = verify_export(&export(&rows(1), &[]), Some(log), &keys).unwrap();
            assert!(r.iter().all(|c| c.chain_id == CHAIN));
        }
    }
}
