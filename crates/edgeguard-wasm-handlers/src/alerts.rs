//! Signed security alerts for the `audit` function's delivery route. Every
//! rule (configuration, body, signature) lives in `edgeguard_core::alerts`;
//! this converts strings and JSON.

use edgeguard_core::alerts::{Alert, AlertError, AlertSender as CoreSender};
use edgeguard_core::sorted_map::SortedMap;
use serde_json::json;
use wasm_bindgen::prelude::*;

/// The alert signer of one function, built once from its environment
/// (`SECURITY_WEBHOOK_URL`, `SECURITY_WEBHOOK_SECRET`, `APP_ENV`,
/// `EDGEGUARD_LOG_IPS`).
#[wasm_bindgen]
pub struct AlertSender {
    inner: Result<CoreSender, AlertError>,
}

fn refusal(e: &AlertError) -> serde_json::Value {
    let code = e.code();
    json!({"ok": false, "configured": *e != AlertError::NotConfigured, "code": code.as_str(),
           "status": code.status(), "reason": e.reason()})
}

fn seconds(now_ms: f64) -> i64 {
    if now_ms.is_finite() && now_ms >= 0.0 {
        (now_ms / 1000.0).trunc() as i64
    } else {
        0
    }
}

#[wasm_bindgen]
impl AlertSender {
    /// `env_json`: a JSON object of environment values. Throws only when it
    /// is not such an object; a missing or invalid configuration is reported
    /// by `status` and `prepare`.
    #[wasm_bindgen(constructor)]
    pub fn new(env_json: &str) -> Result<AlertSender, JsError> {
        let env: SortedMap<String, String> = serde_json::from_str(env_json)
            .map_err(|_| JsError::new("env: not a JSON object of strings"))?;
        Ok(AlertSender {
            inner: CoreSender::from_env(&env),
        })
    }

    /// `{"ok":true}`, or `{"ok":false,"configured","code","status","reason"}`
    /// (`configured: false` when `SECURITY_WEBHOOK_URL` is unset: alerts are kept, not sent).
    pub fn status(&self) -> String {
        match &self.inner {
            Ok(_) => json!({"ok": true}).to_string(),
            Err(e) => refusal(e).to_string(),
        }
    }

    /// The signed request for one outbox alert
    /// (`{"id","type","detected_at","data"}`) at `now_ms` (`Date.now()`):
    /// `{"ok":true,"url","headers":[[name,value],…],"body"}`, or a refusal.
    pub fn prepare(&self, alert_json: &str, now_ms: f64) -> String {
        let sender = match &self.inner {
            Ok(s) => s,
            Err(e) => return refusal(e).to_string(),
        };
        match Alert::from_json(alert_json).and_then(|a| sender.prepare(&a, seconds(now_ms))) {
            Ok(d) => {
                json!({"ok": true, "url": d.url, "headers": d.headers, "body": d.body}).to_string()
            }
            Err(e) => refusal(&e).to_string(),
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
    fn prepares_through_the_core() {
        let env = json!({
            "SECURITY_WEBHOOK_URL": "http://127.0.0.1:9/alerts",
            // doctor: allow source.hardcoded_secret the Standard Webhooks specification's test vector
            "SECURITY_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        })
        .to_string();
        let s = AlertSender::new(&env).unwrap();
        assert_eq!(parse(&s.status())["ok"], true);
        let alert = json!({"id": "a1", "type": "security.audit_chain", "detected_at": "t",
                           "data": {"rule": "audit_chain"}})
        .to_string();
        let d = parse(&s.prepare(&alert, 1_800_000_000_500.0));
        assert_eq!(d["ok"], true);
        assert_eq!(d["url"], "http://127.0.0.1:9/alerts");
        assert_eq!(d["headers"][1], json!(["webhook-id", "alert_a1"]));
        assert_eq!(d["headers"][2], json!(["webhook-timestamp", "1800000000"]));
        let bad = parse(&s.prepare("{}", 1.0));
        assert_eq!(
            (bad["code"].as_str(), bad["status"].as_u64()),
            (Some("INTERNAL"), Some(500))
        );

        let none = parse(&AlertSender::new("{}").unwrap().status());
        assert_eq!(
            (none["ok"].as_bool(), none["configured"].as_bool()),
            (Some(false), Some(false))
        );
        let half = parse(
            &AlertSender::new(r#"{"SECURITY_WEBHOOK_URL":"https://a.example"}"#)
                .unwrap()
                .status(),
        );
        assert_eq!(
            (half["configured"].as_bool(), half["code"].as_str()),
            (Some(true), Some("MISCONFIGURED"))
        );
    }
}
