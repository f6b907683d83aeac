//! CSRF matrix: tokens (valid, expired, tampered, wrong subject, wrong secret,
//! missing) and the Origin / Sec-Fetch-Site checks.

use edgeguard_core::cors::CorsConfig;
use edgeguard_core::csrf::{CsrfConfig, CsrfRequest};
use edgeguard_core::ErrorCode;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::json;

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
const NOW: u64 = 1_800_000_000;

fn env(secret: &str) -> SortedMap<String, String> {
    let mut e = SortedMap::new();
    e.insert("CSRF_SECRET".to_string(), secret.to_string());
    e.insert(
        "CORS_ORIGINS".to_string(),
        "https://app.example.com".to_string(),
    );
    e
}

fn cfg(secret: &str) -> CsrfConfig {
    CsrfConfig::from_env(&env(secret), Some(&json!({"required": true, "ttl_s": 600}))).unwrap()
}

fn cors() -> CorsConfig {
    CorsConfig::from_env(&env(SECRET), None).unwrap()
}

fn post<'a>(token: Option<&'a str>, subject: Option<&'a str>) -> CsrfRequest<'a> {
    CsrfRequest {
        method: "POST",
        token,
        subject,
        ..Default::default()
    }
}

fn code(r: Result<(), edgeguard_core::Denial>) -> Option<ErrorCode> {
    r.err().map(|d| d.code)
}

#[test]
fn secret_length_and_required() {
    let short = CsrfConfig::from_env(&env("short"), None).unwrap_err();
    assert_eq!(short.code, ErrorCode::Misconfigured);
    let missing =
        CsrfConfig::from_env(&SortedMap::new(), Some(&json!({"required": true}))).unwrap_err();
    assert_eq!(missing.code, ErrorCode::Misconfigured);
    // Not required and no secret: the route passes, but issuing is refused.
    let off = CsrfConfig::from_env(&SortedMap::new(), None).unwrap();
    assert!(off.check(&post(None, None), None, NOW).is_ok());
    assert_eq!(
        off.issue("s", NOW).unwrap_err().code,
        ErrorCode::Misconfigured
    );
    for bad in [
        json!({"ttl_s": 0}),
        json!({"ttl_s": 604801}),
        json!({"trusted_origins": ["nope"]}),
        json!({"x": 1}),
    ] {
        assert_eq!(
            CsrfConfig::from_env(&env(SECRET), Some(&bad))
                .unwrap_err()
                .code,
            ErrorCode::Misconfigured,
            "{bad}"
        );
    }
}

#[test]
fn token_matrix() {
    let c = cfg(SECRET);
    let t = c.issue("session-1", NOW).unwrap();
    assert!(t.starts_with("v1."));
    assert!(!t.contains(SECRET));
    // valid, until just before expiry
    assert!(c
        .check(&post(Some(&t), Some("session-1")), None, NOW)
        .is_ok());
    assert!(c
        .check(&post(Some(&t), Some("session-1")), None, NOW + 599)
        .is_ok());
    // expired
    assert_eq!(
        code(c.check(&post(Some(&t), Some("session-1")), None, NOW + 600)),
        Some(ErrorCode::CsrfFailed)
    );
    // wrong subject / no subject
    assert_eq!(
        code(c.check(&post(Some(&t), Some("session-2")), None, NOW)),
        Some(ErrorCode::CsrfFailed)
    );
    assert_eq!(
        code(c.check(&post(Some(&t), None), None, NOW)),
        Some(ErrorCode::CsrfFailed)
    );
    // wrong secret
    let other = cfg("another-secret-another-secret-12345");
    assert_eq!(
        code(other.check(&post(Some(&t), Some("session-1")), None, NOW)),
        Some(ErrorCode::CsrfFailed)
    );
    // missing / empty
    assert_eq!(
        code(c.check(&post(None, Some("session-1")), None, NOW)),
        Some(ErrorCode::CsrfFailed)
    );
    assert_eq!(
        code(c.check(&post(Some(""), Some("session-1")), None, NOW)),
        Some(ErrorCode::CsrfFailed)
    );
    // tampered: every single-character change of the token fails
    let alphabet = ['A', 'b', '0', '-', '_', '.', '9'];
    for i in 0..t.len() {
        for ch in alphabet {
            let mut chars: Vec<char> = t.chars().collect();
            if chars[i] == ch {
                continue;
            }
            chars[i] = ch;
            let tampered: String = chars.into_iter().collect();
            assert_eq!(
                code(c.check(&post(Some(&tampered), Some("session-1")), None, NOW)),
                Some(ErrorCode::CsrfFailed),
                "{tampered}"
            );
        }
    }
    // extended expiry with the old MAC fails
    let parts: Vec<&str> = t.split('.').collect();
    let forged = format!("v1.{}.{}", NOW + 100_000, parts[2]);
    assert_eq!(
        code(c.check(&post(Some(&forged), Some("session-1")), None, NOW)),
        Some(ErrorCode::CsrfFailed)
    );
    for junk in [
        "v1",
        "v2.1.AAAA",
        "v1.x.AAAA",
        "v1.01.AAAA",
        "v1.1.!!",
        "v1.1.AA.AA",
        &"a".repeat(500),
    ] {
        assert_eq!(
            code(c.check(&post(Some(junk), Some("session-1")), None, NOW)),
            Some(ErrorCode::CsrfFailed),
            "{junk}"
        );
    }
}

#[test]
fn exemptions_safe_methods_and_bearer() {
    let c = cfg(SECRET);
    for m in ["GET", "HEAD", "OPTIONS", "get"] {
        assert!(
            c.check(
                &CsrfRequest {
                    method: m,
                    ..Default::default()
                },
                None,
                NOW
            )
            .is_ok(),
            "{m}"
        );
    }
    let bearer = CsrfRequest {
        method: "POST",
        has_bearer: true,
        origin: Some("https://evil.example"),
        ..Default::default()
    };
    assert!(c.check(&bearer, None, NOW).is_ok());
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        let r = CsrfRequest {
            method: m,
            ..Default::default()
        };
        assert_eq!(
            code(c.check(&r, None, NOW)),
            Some(ErrorCode::CsrfFailed),
            "{m}"
        );
    }
}

#[test]
fn origin_and_fetch_site_matrix() {
    let c = cfg(SECRET);
    let cors = cors();
    let t = c.issue("s", NOW).unwrap();
    let req = |origin: Option<&'static str>, site: Option<&'static str>| CsrfRequest {
        method: "POST",
        origin,
        sec_fetch_site: site,
        token: None,
        subject: Some("s"),
        has_bearer: false,
        self_origin: Some("https://proj.supabase.co"),
    };
    let cases: [(Option<&'static str>, Option<&'static str>, bool); 12] = [
        (None, None, true),
        (Some("https://app.example.com"), Some("cross-site"), true),
        (Some("https://app.example.com"), Some("same-site"), true),
        (Some("https://proj.supabase.co"), Some("same-origin"), true),
        (None, Some("same-origin"), true),
        (None, Some("none"), true),
        (Some("https://evil.example.com"), Some("cross-site"), false),
        (Some("https://evil.example.com"), None, false),
        (Some("null"), None, false),
        (None, Some("cross-site"), false),
        (None, Some("same-site"), false),
        (Some("https://app.example.com"), Some("bogus"), false),
    ];
    for (origin, site, ok) in cases {
        let mut r = req(origin, site);
        r.token = Some(&t);
        assert_eq!(
            c.check(&r, Some(&cors), NOW).is_ok(),
            ok,
            "{origin:?} {site:?}"
        );
    }
    // A trusted origin does not replace the token.
    assert_eq!(
        code(c.check(
            &req(Some("https://app.example.com"), Some("same-origin")),
            Some(&cors),
            NOW
        )),
        Some(ErrorCode::CsrfFailed)
    );
    // trusted_origins from the section.
    let extra = CsrfConfig::from_env(
        &env(SECRET),
        Some(&json!({"required": true, "trusted_origins": ["https://admin.example.org"]})),
    )
    .unwrap();
    let t2 = extra.issue("s", NOW).unwrap();
    let mut r = req(Some("https://admin.example.org"), Some("cross-site"));
    r.token = Some(&t2);
    assert!(extra.check(&r, None, NOW).is_ok());
}
