//! Erasure confirmation tokens for the `account` function. Every rule
//! (secret choice, token format, lifetime) lives in
//! `edgeguard_core::erasure`; this converts strings and JSON.

use edgeguard_core::erasure::ErasureConfirm as CoreConfirm;
use edgeguard_core::Denial;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::json;
use wasm_bindgen::prelude::*;

/// The confirmation-token issuer and checker of one function, built once
/// from its environment (`CSRF_SECRET`, else `SECRET_KEY`).
#[wasm_bindgen]
pub struct ErasureConfirm {
    inner: Result<CoreConfirm, Denial>,
}

fn refusal(d: &Denial) -> String {
    json!({"ok": false, "code": d.code.as_str(), "status": d.code.status(), "reason": d.reason})
        .to_string()
}

fn seconds(now_ms: f64) -> u64 {
    if now_ms.is_finite() && now_ms >= 0.0 {
        (now_ms / 1000.0).trunc() as u64
    } else {
        u64::MAX
    }
}

#[wasm_bindgen]
impl ErasureConfirm {
    /// `env_json`: a JSON object of environment values. Throws only when it
    /// is not such an object; a missing or short secret answers
    /// `MISCONFIGURED` on use.
    #[wasm_bindgen(constructor)]
    pub fn new(env_json: &str) -> Result<ErasureConfirm, JsError> {
        let env: SortedMap<String, String> = serde_json::from_str(env_json)
            .map_err(|_| JsError::new("env: not a JSON object of strings"))?;
        Ok(ErasureConfirm {
            inner: CoreConfirm::from_env(&env),
        })
    }

    /// `{"ok":true,"token","expires_at_s","expires_in_s"}` for `user_id` at
    /// `now_ms` (`Date.now()`), or a refusal `{"ok":false,"code","status","reason"}`.
    pub fn issue(&self, user_id: &str, now_ms: f64) -> String {
        match self
            .inner
            .as_ref()
            .map(|c| c.issue(user_id, seconds(now_ms)))
        {
            Ok(Ok(t)) => json!({"ok": true, "token": t.token, "expires_at_s": t.expires_at_s,
                                "expires_in_s": t.expires_in_s})
            .to_string(),
            Ok(Err(d)) => refusal(&d),
            Err(d) => refusal(d),
        }
    }

    /// `{"ok":true}` when `token` confirms the erasure of `user_id` at
    /// `now_ms`, else a refusal (403 `FORBIDDEN`, or 500 `MISCONFIGURED`).
    pub fn check(&self, token: &str, user_id: &str, now_ms: f64) -> String {
        match self
            .inner
            .as_ref()
            .map(|c| c.check(token, user_id, seconds(now_ms)))
        {
            Ok(Ok(())) => json!({"ok": true}).to_string(),
            Ok(Err(d)) => refusal(&d),
            Err(d) => refusal(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn issues_and_checks_through_the_core() {
        let env = json!({"CSRF_SECRET": "x".repeat(32)}).to_string();
        let c = ErasureConfirm::new(&env).unwrap();
        let t = parse(&c.issue("u1", 1_800_000_000_000.0));
        assert_eq!(t["ok"], true);
        assert_eq!(t["expires_in_s"], 300);
        let token = t["token"].as_str().unwrap();
        assert_eq!(
            parse(&c.check(token, "u1", 1_800_000_001_000.0))["ok"],
            true
        );
        let other = parse(&c.check(token, "u2", 1_800_000_001_000.0));
        assert_eq!(
            (other["code"].as_str(), other["status"].as_u64()),
            (Some("FORBIDDEN"), Some(403))
        );
        let none = ErasureConfirm::new("{}").unwrap();
        assert_eq!(parse(&none.issue("u1", 1.0))["code"], "MISCONFIGURED");
    }
}
