//! Signed security alerts (docs/alerts.md).
//!
//! The database detects what crosses a threshold and keeps each alert in an
//! outbox; the `audit` function's delivery route hands every due alert to
//! [`AlertSender::prepare`], which builds the body and signs it with
//! Standard Webhooks, and POSTs the result to `SECURITY_WEBHOOK_URL`. The
//! secret (`SECURITY_WEBHOOK_SECRET`, `whsec_<base64>`) stays in the
//! function's environment: it never enters the database.
//!
//! # Delivery
//!
//! * `webhook-id`: `alert_<outbox id>`, the same on every retry, so a
//!   receiver that de-duplicates by message id (as Standard Webhooks asks)
//!   acts once.
//! * `webhook-timestamp`: the attempt's time (Unix seconds); each retry is
//!   signed again, so a receiver's tolerance window never refuses a late retry.
//! * `webhook-signature`: `v1,<base64 HMAC-SHA256>` over
//!   `"{id}.{timestamp}.{body}"` per active secret (rotation: several
//!   comma-separated secrets sign one each), made by the same code the
//!   verifier checks ([`StandardWebhooks::sign`]).
//! * Body: `{"type":…,"timestamp":…,"data":{…}}` (the Standard Webhooks
//!   payload shape), passed through the log redactor of [`crate::redact`]
//!   with the IP setting of the logs (`EDGEGUARD_LOG_IPS`): an alert says no
//!   more about people than a log line may.
//!
//! # Configuration
//!
//! `SECURITY_WEBHOOK_URL` unset: alerts are detected and kept, not sent
//! ([`AlertError::NotConfigured`]; a secret alone is harmless, the local
//! stack always has one). The URL without the secret (alerts are never sent
//! unsigned), a secret that is not `whsec_<base64>` of at least 16 bytes, or
//! a URL that is not `https://` (plain `http://` is accepted outside
//! production, for local receivers): [`AlertError::Invalid`], `MISCONFIGURED`.

use serde_json::{json, Map, Value};

use crate::app_env::AppEnv;
use crate::redact::{redact, RedactOptions};
use crate::sorted_map::SortedMap;
use crate::webhook::{SecretSet, StandardWebhooks, Tolerance};
use crate::{Denial, ErrorCode};

/// The variable naming the receiver.
pub const URL_VAR: &str = "SECURITY_WEBHOOK_URL";
/// The variable holding the signing secret(s).
pub const SECRET_VAR: &str = "SECURITY_WEBHOOK_SECRET";
/// The variable deciding whether IPs are redacted (shared with the logs).
pub const LOG_IPS_VAR: &str = "EDGEGUARD_LOG_IPS";
/// The longest accepted `SECURITY_WEBHOOK_URL`.
pub const MAX_URL_LEN: usize = 2048;
/// The longest accepted alert type.
pub const MAX_TYPE_LEN: usize = 64;
/// The longest accepted outbox id.
pub const MAX_ID_LEN: usize = 64;

/// Why an alert cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertError {
    /// `SECURITY_WEBHOOK_URL` is not set: alerts are kept in the outbox, not sent.
    NotConfigured,
    /// The configuration is unusable (the reason names variables, never values).
    Invalid(String),
    /// The alert handed over is not one the outbox produces.
    MalformedAlert(&'static str),
}

impl AlertError {
    /// The SPEC code: `MISCONFIGURED` for configuration, `INTERNAL` for a malformed alert.
    pub fn code(&self) -> ErrorCode {
        match self {
            AlertError::NotConfigured | AlertError::Invalid(_) => ErrorCode::Misconfigured,
            AlertError::MalformedAlert(_) => ErrorCode::Internal,
        }
    }

    /// A secret-free reason.
    pub fn reason(&self) -> String {
        match self {
            AlertError::NotConfigured => {
                format!("{URL_VAR} is not set: alerts are kept, not sent")
            }
            AlertError::Invalid(why) => why.clone(),
            AlertError::MalformedAlert(why) => format!("malformed alert: {why}"),
        }
    }

    /// As a [`Denial`].
    pub fn denial(&self) -> Denial {
        Denial::new(self.code(), self.reason())
    }
}

/// One alert of the outbox, as the delivery route reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The outbox id (a uuid).
    pub id: String,
    /// `security.<name>`, e.g. `security.auth_failures`.
    pub alert_type: String,
    /// When it was detected (RFC 3339, as the database wrote it).
    pub detected_at: String,
    /// What the rule found: rule, window, counts, tenant. An object.
    pub data: Value,
}

impl Alert {
    /// Reads `{"id","type","detected_at","data"}`.
    pub fn from_json(text: &str) -> Result<Alert, AlertError> {
        let v: Value =
            serde_json::from_str(text).map_err(|_| AlertError::MalformedAlert("not JSON"))?;
        let s = |k: &'static str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(AlertError::MalformedAlert(k))
        };
        let alert = Alert {
            id: s("id")?,
            alert_type: s("type")?,
            detected_at: s("detected_at")?,
            data: v.get("data").cloned().unwrap_or(Value::Null),
        };
        alert.check()?;
        Ok(alert)
    }

    fn check(&self) -> Result<(), AlertError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= MAX_ID_LEN
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(AlertError::MalformedAlert("id"));
        }
        let type_ok =
            self.alert_type
                .strip_prefix("security.")
                .is_some_and(|n| !n.is_empty())
                && self.alert_type.len() <= MAX_TYPE_LEN
                && self.alert_type.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'
                });
        if !type_ok {
            return Err(AlertError::MalformedAlert("type"));
        }
        if self.detected_at.is_empty() || self.detected_at.len() > 64 {
            return Err(AlertError::MalformedAlert("detected_at"));
        }
        if !self.data.is_object() {
            return Err(AlertError::MalformedAlert("data"));
        }
        Ok(())
    }

    /// The Standard Webhooks message id: `alert_<id>`, stable across retries.
    pub fn message_id(&self) -> String {
        format!("alert_{}", self.id)
    }
}

/// A signed request, ready to POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `SECURITY_WEBHOOK_URL`.
    pub url: String,
    /// `content-type` and the three Standard Webhooks headers.
    pub headers: Vec<(String, String)>,
    /// The JSON body, exactly the bytes that were signed.
    pub body: String,
}

/// Builds and signs alert deliveries with the function's configuration.
#[derive(Clone)]
pub struct AlertSender {
    url: String,
    signer: StandardWebhooks,
    redact: RedactOptions,
}

impl core::fmt::Debug for AlertSender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AlertSender")
            .field("url", &"<configured>")
            .field("signer", &"<redacted>")
            .finish()
    }
}

fn set<'a>(env: &'a SortedMap<String, String>, k: &str) -> Option<&'a str> {
    env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Checks `SECURITY_WEBHOOK_URL`: `https://host…`, or `http://` outside
/// production; no whitespace or control characters; at most 2048 bytes.
fn check_url(url: &str, production: bool) -> Result<(), AlertError> {
    let invalid = |why: &str| AlertError::Invalid(format!("{URL_VAR} {why}"));
    if url.len() > MAX_URL_LEN {
        return Err(invalid("is longer than 2048 bytes"));
    }
    if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(invalid("contains whitespace or control characters"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        if production {
            return Err(invalid("must be https:// in production"));
        }
        r
    } else {
        return Err(invalid("must be an https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("has no host"));
    }
    Ok(())
}

impl AlertSender {
    /// From the function's environment: `SECURITY_WEBHOOK_URL`,
    /// `SECURITY_WEBHOOK_SECRET`, `APP_ENV` (and the platform markers) and
    /// `EDGEGUARD_LOG_IPS`.
    pub fn from_env(env: &SortedMap<String, String>) -> Result<AlertSender, AlertError> {
        let production = AppEnv::from_env_strict_default(env).is_production();
        let (url, secret) = match (set(env, URL_VAR), set(env, SECRET_VAR)) {
            (None, _) => return Err(AlertError::NotConfigured),
            (Some(_), None) => {
                return Err(AlertError::Invalid(format!(
                    "{URL_VAR} is set but {SECRET_VAR} is not: alerts are never sent unsigned"
                )))
            }
            (Some(u), Some(s)) => (u, s),
        };
        check_url(url, production)?;
        let secrets = SecretSet::parse_standard(SECRET_VAR, secret)
            .map_err(|e| AlertError::Invalid(e.reason()))?;
        Ok(AlertSender {
            url: url.to_string(),
            signer: StandardWebhooks::new(secrets, Tolerance::default()),
            redact: RedactOptions::from_settings(set(env, LOG_IPS_VAR), production),
        })
    }

    /// The body of `alert`: `{"type","timestamp","data"}`, redacted like a log line.
    pub fn body(&self, alert: &Alert) -> String {
        let mut m = Map::new();
        m.insert("type".into(), json!(alert.alert_type));
        m.insert("timestamp".into(), json!(alert.detected_at));
        m.insert("data".into(), alert.data.clone());
        redact(&Value::Object(m).to_string(), &self.redact).into_owned()
    }

    /// The signed request for `alert` at `now_s` (Unix seconds).
    pub fn prepare(&self, alert: &Alert, now_s: i64) -> Result<Delivery, AlertError> {
        alert.check()?;
        let body = self.body(alert);
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        headers.extend(
            self.signer
                .sign(&alert.message_id(), body.as_bytes(), now_s),
        );
        Ok(Delivery {
            url: self.url.clone(),
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{Headers, WebhookError};

    // doctor: allow source.hardcoded_secret the Standard Webhooks specification's test vector
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    // doctor: allow source.hardcoded_secret a made-up test secret (32 bytes)
    const OTHER_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn env(pairs: &[(&str, &str)]) -> SortedMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sender(extra: &[(&str, &str)]) -> AlertSender {
        let mut e = env(&[
            (URL_VAR, "https://alerts.example.com/hooks/edgeguard"),
            (SECRET_VAR, SPEC_SECRET),
        ]);
        e.extend(env(extra));
        AlertSender::from_env(&e).unwrap()
    }

    fn alert() -> Alert {
        Alert::from_json(
            &json!({
                "id": "6f1c1f9e-4a53-4c39-9d7e-0a4c1b2d3e4f",
                "type": "security.auth_failures",
                "detected_at": "2026-12-02T13:05:00.123+00:00",
                "data": {"rule": "auth_failures", "events": 23, "route": "GET /me",
                         "window": {"seconds": 300}},
            })
            .to_string(),
        )
        .unwrap()
    }

    fn verifier(secret: &str) -> StandardWebhooks {
        StandardWebhooks::new(
            SecretSet::parse_standard("T", secret).unwrap(),
            Tolerance::default(),
        )
    }

    fn verify(v: &StandardWebhooks, d: &Delivery, now: i64) -> Result<(), WebhookError> {
        let h = Headers::new(d.headers.iter().map(|(a, b)| (a.as_str(), b.as_str()))).unwrap();
        v.verify(&h, d.body.as_bytes(), now).map(|_| ())
    }

    #[test]
    fn signed_delivery_verifies_with_the_verifier() {
        let d = sender(&[]).prepare(&alert(), 1_800_000_000).unwrap();
        assert_eq!(d.url, "https://alerts.example.com/hooks/edgeguard");
        let names: Vec<&str> = d.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
        assert_eq!(d.headers[1].1, "alert_6f1c1f9e-4a53-4c39-9d7e-0a4c1b2d3e4f");
        assert_eq!(d.headers[2].1, "1800000000");
        assert!(d.headers[3].1.starts_with("v1,"));
        let v = verifier(SPEC_SECRET);
        assert_eq!(verify(&v, &d, 1_800_000_030), Ok(()));
        // another secret, a changed body or a stale timestamp fail
        assert_eq!(
            verify(&verifier(OTHER_SECRET), &d, 1_800_000_030),
            Err(WebhookError::SignatureMismatch)
        );
        let mut tampered = d.clone();
        tampered.body = tampered.body.replace("23", "24");
        assert_eq!(
            verify(&v, &tampered, 1_800_000_030),
            Err(WebhookError::SignatureMismatch)
        );
        assert_eq!(
            verify(&v, &d, 1_800_001_000),
            Err(WebhookError::TimestampTooOld)
        );
    }

    #[test]
    fn known_answer_of_the_specification() {
        // The Standard Webhooks test vector, through the same signer.
        let signer = verifier(SPEC_SECRET);
        let headers = signer.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            br#"{"test": 2432232314}"#,
            1_614_265_330,
        );
        assert_eq!(
            headers[2].1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn body_is_the_standard_payload_shape_and_stable_across_retries() {
        let s = sender(&[]);
        let a = alert();
        let body: Value = serde_json::from_str(&s.body(&a)).unwrap();
        assert_eq!(body["type"], "security.auth_failures");
        assert_eq!(body["timestamp"], "2026-12-02T13:05:00.123+00:00");
        assert_eq!(body["data"]["events"], 23);
        let first = s.prepare(&a, 1_800_000_000).unwrap();
        let retry = s.prepare(&a, 1_800_000_090).unwrap();
        assert_eq!(first.body, retry.body);
        assert_eq!(first.headers[1], retry.headers[1], "same webhook-id");
        assert_ne!(
            first.headers[3], retry.headers[3],
            "signed again at the retry's time"
        );
    }

    #[test]
    fn rotation_signs_with_every_secret() {
        let s = sender(&[(SECRET_VAR, &format!("{OTHER_SECRET},{SPEC_SECRET}"))]);
        let d = s.prepare(&alert(), 1_800_000_000).unwrap();
        assert_eq!(d.headers[3].1.split(' ').count(), 2);
        assert_eq!(verify(&verifier(SPEC_SECRET), &d, 1_800_000_000), Ok(()));
        assert_eq!(verify(&verifier(OTHER_SECRET), &d, 1_800_000_000), Ok(()));
    }

    #[test]
    fn ips_follow_the_log_setting() {
        let mut a = alert();
        a.data["note"] = json!("client 203.0.113.9 mail a@b.example token=abcdefgh12345");
        let prod = [("APP_ENV", "production")];
        let redacted = sender(&prod).body(&a);
        assert!(!redacted.contains("203.0.113.9"), "{redacted}");
        assert!(redacted.contains("[ip]"));
        assert!(!redacted.contains("a@b.example"));
        assert!(!redacted.contains("abcdefgh12345"));
        let kept = sender(&[("APP_ENV", "production"), (LOG_IPS_VAR, "keep")]).body(&a);
        assert!(kept.contains("203.0.113.9"));
        assert!(
            !kept.contains("a@b.example"),
            "e-mail addresses never leave"
        );
        let dev = sender(&[("APP_ENV", "development")]).body(&a);
        assert!(dev.contains("203.0.113.9"));
        serde_json::from_str::<Value>(&redacted).unwrap();
    }

    #[test]
    fn configuration() {
        assert_eq!(
            AlertSender::from_env(&env(&[])).unwrap_err(),
            AlertError::NotConfigured
        );
        assert_eq!(
            AlertSender::from_env(&env(&[(URL_VAR, " "), (SECRET_VAR, "")])).unwrap_err(),
            AlertError::NotConfigured
        );
        let err = |pairs: &[(&str, &str)]| AlertSender::from_env(&env(pairs)).unwrap_err();
        let only_url = err(&[(URL_VAR, "https://a.example")]);
        assert_eq!(only_url.code(), ErrorCode::Misconfigured);
        assert!(only_url.reason().contains("never sent unsigned"));
        assert_eq!(err(&[(SECRET_VAR, SPEC_SECRET)]), AlertError::NotConfigured);
        let bad_secret = err(&[
            (URL_VAR, "https://a.example"),
            (SECRET_VAR, "hunter2hunter2hunter2"),
        ]);
        assert!(!bad_secret.reason().contains("hunter2"));
        let short = err(&[
            (URL_VAR, "https://a.example"),
            // doctor: allow source.hardcoded_secret a made-up 5-byte secret, too short on purpose
            (SECRET_VAR, "whsec_c2hvcnQ="),
        ]);
        assert!(short.reason().contains("shorter than 16 bytes"));
        // plain http only outside production
        let http = [
            (URL_VAR, "http://127.0.0.1:9999/alerts"),
            (SECRET_VAR, SPEC_SECRET),
        ];
        assert!(AlertSender::from_env(&env(&http)).is_ok());
        let mut prod = env(&http);
        prod.insert("APP_ENV".into(), "production".into());
        assert!(AlertSender::from_env(&prod)
            .unwrap_err()
            .reason()
            .contains("https:// in production"));
        let mut hosted = env(&http);
        hosted.insert("SB_REGION".into(), "eu-west-1".into());
        assert!(
            AlertSender::from_env(&hosted).is_err(),
            "hosted without APP_ENV is production"
        );
        for url in [
            "ftp://a.example",
            "https://",
            "https:///x",
            "https://a b",
            "javascript:alert(1)",
        ] {
            assert!(
                AlertSender::from_env(&env(&[(URL_VAR, url), (SECRET_VAR, SPEC_SECRET)])).is_err(),
                "{url}"
            );
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_LEN));
        assert!(
            AlertSender::from_env(&env(&[(URL_VAR, &long), (SECRET_VAR, SPEC_SECRET)])).is_err()
        );
        // the Debug form names no secret
        let dbg = format!("{:?}", sender(&[]));
        assert!(!dbg.contains("MfKQ9r8") && !dbg.contains("alerts.example.com"));
    }

    #[test]
    fn malformed_alerts_are_refused() {
        let good =
            json!({"id": "a1", "type": "security.audit_chain", "detected_at": "t", "data": {}});
        assert!(Alert::from_json(&good.to_string()).is_ok());
        for (k, v) in [
            ("id", json!("")),
            ("id", json!("a b")),
            ("id", json!("x".repeat(65))),
            ("type", json!("auth_failures")),
            ("type", json!("security.")),
            ("type", json!("security.Auth")),
            ("detected_at", json!("")),
            ("data", json!([1])),
            ("data", json!(null)),
        ] {
            let mut a = good.clone();
            a[k] = v;
            let e = Alert::from_json(&a.to_string()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Internal, "{k}");
        }
        assert!(Alert::from_json("nope").is_err());
        assert!(Alert::from_json(r#"{"type":"security.x","detected_at":"t","data":{}}"#).is_err());
    }
}
