//! Audit checkpoint signing for `_shared/db/audit_checkpoint.ts`. Every rule
//! (key format, message encoding, production refusal) lives in
//! `edgeguard_core::audit_checkpoint`; this converts strings and JSON.

use edgeguard_core::audit_checkpoint::{parse_decimal, Checkpoint, SignerConfig};
use edgeguard_core::sorted_map::SortedMap;
use serde_json::json;
use wasm_bindgen::prelude::*;

/// The checkpoint signer of one function, built once from its environment.
#[wasm_bindgen]
pub struct AuditSigner {
    config: SignerConfig,
}

#[wasm_bindgen]
impl AuditSigner {
    /// `env_json`: a JSON object of environment values (`AUDIT_SIGNING_KEY`,
    /// `APP_ENV`). Throws only when `env_json` is not such an object.
    #[wasm_bindgen(constructor)]
    pub fn new(env_json: &str) -> Result<AuditSigner, JsError> {
        let env: SortedMap<String, String> = serde_json::from_str(env_json)
            .map_err(|_| JsError::new("env: not a JSON object of strings"))?;
        Ok(AuditSigner {
            config: SignerConfig::from_env(&env),
        })
    }

    /// `{"ok":true,"enabled":true,"key_id":"…"}`, `{"ok":true,"enabled":false}`
    /// (no key outside production), or `{"ok":false,"code":"MISCONFIGURED","status":500,"reason":"…"}`.
    pub fn status(&self) -> String {
        match &self.config {
            SignerConfig::Enabled(k) => json!({"ok": true, "enabled": true, "key_id": k.key_id()}),
            SignerConfig::Disabled => json!({"ok": true, "enabled": false}),
            SignerConfig::Misconfigured(d) => refusal(d.code.as_str(), d.code.status(), &d.reason),
        }
        .to_string()
    }

    /// Signs the head `seq`/`head_hash` of chain `chain_id` at `signed_at_ms`
    /// (`Date.now()`). `seq` is a canonical decimal string (Postgres bigint).
    /// Returns `{"ok":true,"chain_id","seq","hash","signed_at_ms","key_id","signature"}`
    /// (all public) or a refusal (`MISCONFIGURED` without a usable key,
    /// `INTERNAL` for a malformed head).
    pub fn sign(&self, chain_id: &str, seq: &str, head_hash: &str, signed_at_ms: f64) -> String {
        let key = match &self.config {
            SignerConfig::Enabled(k) => k,
            SignerConfig::Disabled => {
                return refusal("MISCONFIGURED", 500, "AUDIT_SIGNING_KEY is not set").to_string()
            }
            SignerConfig::Misconfigured(d) => {
                return refusal(d.code.as_str(), d.code.status(), &d.reason).to_string()
            }
        };
        let at = if signed_at_ms.is_finite() && signed_at_ms >= 0.0 {
            signed_at_ms.trunc() as u64
        } else {
            u64::MAX
        };
        let checkpoint = parse_decimal(seq)
            .ok_or("seq is not a canonical decimal")
            .and_then(|s| Checkpoint::new(chain_id, s, head_hash, at).map_err(|e| e.as_str()));
        match checkpoint {
            Ok(c) => json!({
                "ok": true,
                "chain_id": c.chain_id(),
                "seq": c.seq().to_string(),
                "hash": c.head_hash(),
                "signed_at_ms": c.signed_at_ms(),
                "key_id": key.key_id(),
                "signature": key.sign(&c),
            })
            .to_string(),
            Err(reason) => refusal("INTERNAL", 500, &format!("audit head: {reason}")).to_string(),
        }
    }
}

fn refusal(code: &str, status: u16, reason: &str) -> serde_json::Value {
    json!({"ok": false, "code": code, "status": status, "reason": reason})
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeguard_core::audit_checkpoint::{SigningKey, VerifyKey};

    const CHAIN: &str = "00000000-0000-0000-0000-000000000000";
    const HASH: &str = "ab23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn signs_what_the_core_verifies() {
        let seed = SigningKey::from_seed_bytes([3u8; 32]).unwrap();
        let env = json!({"AUDIT_SIGNING_KEY": seed.seed_base64url()}).to_string();
        let s = AuditSigner::new(&env).unwrap();
        assert_eq!(parse(&s.status())["key_id"], seed.key_id());
        let out = parse(&s.sign(CHAIN, "7", HASH, 1_700_000_000_000.0));
        assert_eq!(out["ok"], true, "{out}");
        assert!(!out.to_string().contains(&seed.seed_base64url()));
        let pk = VerifyKey::from_base64url(&seed.verify_key().to_base64url()).unwrap();
        let cp = Checkpoint::new(CHAIN, 7, HASH, 1_700_000_000_000).unwrap();
        assert_eq!(pk.verify(&cp, out["signature"].as_str().unwrap()), Ok(()));
        for (seq, hash) in [("07", HASH), ("0", HASH), ("7", "nope"), ("x", HASH)] {
            assert_eq!(
                parse(&s.sign(CHAIN, seq, hash, 1.0))["code"],
                "INTERNAL",
                "{seq} {hash}"
            );
        }
        assert_eq!(
            parse(&s.sign(CHAIN, "7", HASH, f64::NAN))["code"],
            "INTERNAL"
        );
    }

    #[test]
    fn disabled_and_misconfigured() {
        let off = AuditSigner::new("{}").unwrap();
        assert_eq!(parse(&off.status()), json!({"ok": true, "enabled": false}));
        assert_eq!(
            parse(&off.sign(CHAIN, "1", HASH, 1.0))["code"],
            "MISCONFIGURED"
        );
        let prod = AuditSigner::new(r#"{"APP_ENV":"production"}"#).unwrap();
        assert_eq!(parse(&prod.status())["code"], "MISCONFIGURED");
        let short = AuditSigner::new(r#"{"AUDIT_SIGNING_KEY":"c2hvcnQ"}"#).unwrap();
        let st = parse(&short.status());
        assert_eq!(st["code"], "MISCONFIGURED");
        assert!(!st.to_string().contains("c2hvcnQ"));
    }
}
