//! The JSON boundary the wasm facade exposes: environment and headers in,
//! decision objects out.

mod support;

use edgeguard_core::webhook::json::{
    headers_from_json, now_secs_from_ms, status_json, verifiers_from_env_json, verify_json,
};
use edgeguard_core::webhook::WebhookError;
use serde_json::{json, Value};
use support::*;

const NOW_MS: f64 = 1_750_000_000_123.0;
const STRIPE_SECRET: &str = "whsec_json_boundary_secret_0123456789";

fn env() -> String {
    json!({
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "GITHUB_WEBHOOK_SECRET": "short",
        "AUTH_HOOK_SECRET": format!("v1,whsec_{}", b64(b"0123456789abcdef0123456789abcdef")),
        "SHOPIFY_WEBHOOK_SECRET": 42,
        "WEBHOOK_TIMESTAMP_TOLERANCE": "300",
    })
    .to_string()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn stripe_header(t: i64, body: &[u8]) -> String {
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    format!(
        "t={t},v1={}",
        hex(&oracle_hmac(STRIPE_SECRET.as_bytes(), &msg))
    )
}

#[test]
fn success_and_failure_shapes() {
    let v = verifiers_from_env_json(&env()).unwrap();
    let body = br#"{"id":"evt_json_1","object":"event"}"#;
    let h = json!({ "stripe-signature": stripe_header(1_750_000_000, body), "content-type": "application/json" })
        .to_string();
    assert_eq!(
        parse(&verify_json(&v, "stripe", &h, body, NOW_MS)),
        json!({"ok": true, "provider": "stripe", "scheme": "stripe", "event_id": "evt_json_1",
               "event_id_signed": true, "timestamp": 1_750_000_000})
    );
    // Array-of-pairs headers keep duplicates, which are refused.
    let sig = stripe_header(1_750_000_000, body);
    let pairs = json!([["Stripe-Signature", sig], ["stripe-signature", sig]]).to_string();
    assert_eq!(
        parse(&verify_json(&v, "stripe", &pairs, body, NOW_MS)),
        json!({"ok": false, "code": "INVALID_SIGNATURE", "status": 401, "reason": "duplicate Stripe-Signature header"})
    );
    let stale = json!({ "stripe-signature": stripe_header(1_749_999_000, body) }).to_string();
    assert_eq!(
        parse(&verify_json(&v, "stripe", &stale, body, NOW_MS)),
        json!({"ok": false, "code": "INVALID_SIGNATURE", "status": 401, "reason": "timestamp too old (outside tolerance)"})
    );
    let not_json = b"plain";
    let h = json!({ "stripe-signature": stripe_header(1_750_000_000, not_json) }).to_string();
    assert_eq!(
        parse(&verify_json(&v, "stripe", &h, not_json, NOW_MS))["code"],
        "INVALID_BODY"
    );
    assert_eq!(
        parse(&verify_json(&v, "stripe", &h, not_json, NOW_MS))["status"],
        400
    );

    let out = parse(&verify_json(&v, "paypal", "{}", body, NOW_MS));
    assert_eq!(
        out,
        json!({"ok": false, "code": "NOT_FOUND", "status": 404, "reason": "unknown webhook provider"})
    );
    let out = parse(&verify_json(&v, "github", "{}", body, NOW_MS));
    assert_eq!(out["code"], "MISCONFIGURED");
    assert_eq!(
        out["reason"],
        "GITHUB_WEBHOOK_SECRET holds a secret shorter than 16 bytes"
    );
    let out = parse(&verify_json(&v, "shopify", "{}", body, NOW_MS));
    assert_eq!(out["reason"], "SHOPIFY_WEBHOOK_SECRET is not set");
    let out = parse(&verify_json(&v, "standard", "{}", body, NOW_MS));
    assert_eq!(
        (out["code"].as_str(), out["status"].as_u64()),
        (Some("MISCONFIGURED"), Some(500))
    );

    // Bad inputs from the shim are INTERNAL, never a panic.
    for bad in ["", "[1]", "{\"a\":1}", "[[\"a\"]]", "null", "{"] {
        let out = parse(&verify_json(&v, "stripe", bad, body, NOW_MS));
        assert_eq!(out["code"], "INTERNAL", "{bad}");
        assert_eq!(out["reason"], "headers input is not the expected JSON");
    }
    for now in [f64::NAN, f64::INFINITY, -f64::INFINITY, 1e300] {
        let h = json!({ "stripe-signature": stripe_header(1_750_000_000, body) }).to_string();
        assert_eq!(
            parse(&verify_json(&v, "stripe", &h, body, now))["code"],
            "INTERNAL"
        );
    }
}

#[test]
fn auth_hook_and_status() {
    let v = verifiers_from_env_json(&env()).unwrap();
    let key = b"0123456789abcdef0123456789abcdef";
    let body = br#"{"user_id":"8ccaa7af","claims":{"aud":"authenticated"}}"#;
    let ts = 1_750_000_000i64;
    let mut msg = format!("msg_hook.{ts}.").into_bytes();
    msg.extend_from_slice(body);
    // Supabase Auth separates signatures with ", ".
    let sig = format!(
        "v1,{}, v1,{}",
        b64(&oracle_hmac(b"another key of 16+ bytes", &msg)),
        b64(&oracle_hmac(key, &msg))
    );
    let h = json!({ "webhook-id": "msg_hook", "webhook-timestamp": ts.to_string(), "webhook-signature": sig }).to_string();
    assert_eq!(
        parse(&verify_json(&v, "auth_hook", &h, body, NOW_MS)),
        json!({"ok": true, "provider": "auth_hook", "scheme": "standard", "event_id": "msg_hook",
               "event_id_signed": true, "timestamp": ts})
    );
    assert_eq!(
        parse(&status_json(&v)),
        json!({
            "stripe": {"ok": true},
            "shopify": {"ok": false, "code": "MISCONFIGURED", "reason": "SHOPIFY_WEBHOOK_SECRET is not set"},
            "github": {"ok": false, "code": "MISCONFIGURED", "reason": "GITHUB_WEBHOOK_SECRET holds a secret shorter than 16 bytes"},
            "standard": {"ok": false, "code": "MISCONFIGURED", "reason": "STANDARD_WEBHOOK_SECRET is not set"},
            "auth_hook": {"ok": true},
        })
    );
    // The status never shows a secret.
    assert!(!status_json(&v).contains(STRIPE_SECRET) && !status_json(&v).contains("short\""));
}

#[test]
fn env_and_input_parsing() {
    for bad in ["", "[]", "\"x\"", "{", "null"] {
        assert_eq!(
            verifiers_from_env_json(bad).unwrap_err(),
            WebhookError::InvalidInput("environment")
        );
    }
    assert!(verifiers_from_env_json("{}").is_ok());
    let v = verifiers_from_env_json(
        r#"{"WEBHOOK_TIMESTAMP_TOLERANCE":"0","STRIPE_WEBHOOK_SECRET":"whsec_abcdefghijklmnop"}"#,
    )
    .unwrap();
    let out = parse(&verify_json(&v, "stripe", "{}", b"{}", NOW_MS));
    assert_eq!(out["code"], "MISCONFIGURED");
    assert!(out["reason"]
        .as_str()
        .unwrap()
        .starts_with("WEBHOOK_TIMESTAMP_TOLERANCE"));

    assert_eq!(
        headers_from_json(r#"{"A":"1","b":"2"}"#).unwrap(),
        vec![
            ("A".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string())
        ]
    );
    assert_eq!(
        headers_from_json(r#"[["a","1"],["a","2"]]"#).unwrap().len(),
        2
    );
    assert_eq!(now_secs_from_ms(1_750_000_000_999.0), Ok(1_750_000_000));
    assert_eq!(now_secs_from_ms(-1.0), Ok(-1));
    assert_eq!(now_secs_from_ms(f64::NAN), Err(WebhookError::InvalidClock));
}
