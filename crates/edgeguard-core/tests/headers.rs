//! Security headers: defaults, overrides, refused names and values; request ids.

use edgeguard_core::headers::{is_valid_value, SecurityHeaders, DEFAULTS};
use edgeguard_core::request_id::is_well_formed;
use edgeguard_core::ErrorCode;
use serde_json::json;

#[test]
fn defaults_are_present_with_owasp_values() {
    let h = SecurityHeaders::from_value(None).unwrap();
    assert_eq!(h.headers().len(), DEFAULTS.len());
    assert_eq!(h.get("x-content-type-options"), Some("nosniff"));
    assert_eq!(h.get("X-Frame-Options"), Some("DENY"));
    assert_eq!(h.get("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(
        h.get("Content-Security-Policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    assert_eq!(h.get("X-XSS-Protection"), Some("0"));
    assert!(h
        .get("Strict-Transport-Security")
        .is_some_and(|v| v.starts_with("max-age=31536000")));
    assert!(h
        .get("Permissions-Policy")
        .is_some_and(|v| v.contains("camera=()") && v.contains("geolocation=()")));
    assert_eq!(h.get("Cross-Origin-Opener-Policy"), Some("same-origin"));
    assert_eq!(h.get("Cross-Origin-Resource-Policy"), Some("same-origin"));
    for (n, v) in h.headers() {
        assert!(is_valid_value(v), "{n}");
    }
    assert_eq!(
        SecurityHeaders::from_value(Some(&serde_json::Value::Null)).unwrap(),
        h
    );
}

#[test]
fn overrides_set_and_remove() {
    let h = SecurityHeaders::from_value(Some(&json!({
        "set": {"cache-control": "public, max-age=60", "X-Custom": "1"},
        "remove": ["Cross-Origin-Embedder-Policy"]
    })))
    .unwrap();
    assert_eq!(h.get("Cache-Control"), Some("public, max-age=60"));
    assert_eq!(h.get("x-custom"), Some("1"));
    assert_eq!(h.get("Cross-Origin-Embedder-Policy"), None);
    assert_eq!(h.headers().len(), DEFAULTS.len());
    let route = h
        .with_overrides(Some(&json!({"set": {"X-Frame-Options": "SAMEORIGIN"}})))
        .unwrap();
    assert_eq!(route.get("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(h.get("x-frame-options"), Some("DENY"));
}

#[test]
fn crlf_bad_names_reserved_and_unknown_fields_are_refused() {
    let cases = [
        json!({"set": {"X-A": "a\r\nSet-Cookie: x=1"}}),
        json!({"set": {"X-A": "a\nb"}}),
        json!({"set": {"X-A": "a\u{0}b"}}),
        json!({"set": {"X-A": "é"}}),
        json!({"set": {"X-A": ""}}),
        json!({"set": {"X-A": " padded"}}),
        json!({"set": {"X A": "v"}}),
        json!({"set": {"X-A\r\n": "v"}}),
        json!({"set": {"Set-Cookie": "a=b"}}),
        json!({"set": {"Access-Control-Allow-Origin": "*"}}),
        json!({"set": {"X-Request-Id": "x"}}),
        json!({"remove": ["Vary"]}),
        json!({"remove": ["bad name"]}),
        json!({"set": {"X-A": "1"}, "remove": ["x-a"]}),
        json!({"sett": {}}),
        json!({"set": {"X-A": 1}}),
        json!("DENY"),
    ];
    for c in cases {
        let e = SecurityHeaders::from_value(Some(&c)).unwrap_err();
        assert_eq!(e.code, ErrorCode::Misconfigured, "{c}");
    }
}

#[test]
fn request_ids() {
    assert!(is_well_formed("req_01HV6Z.abc-DEF"));
    assert!(!is_well_formed("a\r\nb"));
    assert!(!is_well_formed(&"a".repeat(129)));
    assert!(!is_well_formed("<script>"));
}
