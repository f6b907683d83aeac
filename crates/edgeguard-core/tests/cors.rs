//! CORS matrix: exact origins, patterns, credentials, null, production `*`.

use edgeguard_core::cors::{CorsConfig, Origin};
use edgeguard_core::ErrorCode;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::json;

fn env(pairs: &[(&str, &str)]) -> SortedMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn cfg(origins: &str) -> CorsConfig {
    CorsConfig::from_env(&env(&[("CORS_ORIGINS", origins)]), None).expect("valid config")
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn origin_parsing_is_strict_and_normalising() {
    let ok = [
        ("https://example.com", "https://example.com"),
        ("https://EXAMPLE.com", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("http://example.com:80", "http://example.com"),
    ];
    for (input, canon) in ok {
        assert_eq!(
            Origin::parse(input).map(|o| o.serialize()).as_deref(),
            Some(canon),
            "{input}"
        );
    }
    let bad = [
        "null",
        "",
        "example.com",
        "https://",
        "https://example.com/",
        "https://example.com/path",
        "https://user@example.com",
        "https://example.com?x",
        "https://example.com#f",
        "ftp://example.com",
        "https://example.com:0",
        "https://example.com:65536",
        "https://example.com:+80",
        "https://exa mple.com",
        "https://-bad.example.com",
        "https://exämple.com",
        "https://example.com\r\n",
        "https://1.2.3.999",
        "https://example..com",
        "file://x",
        "https://[::1",
        "https://example.com:",
    ];
    for input in bad {
        assert!(Origin::parse(input).is_none(), "{input:?} must be refused");
    }
}

#[test]
fn exact_origins_allow_only_themselves() {
    let c = cfg("https://app.example.com, http://localhost:3000");
    assert!(c.allowed_origin("https://app.example.com").is_some());
    assert!(c.allowed_origin("https://APP.example.com:443").is_some());
    assert!(c.allowed_origin("http://localhost:3000").is_some());
    for o in [
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://evil.example.com",
        "https://app.example.com.evil.com",
        "https://evilapp.example.com",
        "http://localhost:3001",
        "null",
    ] {
        assert!(c.allowed_origin(o).is_none(), "{o}");
    }
}

#[test]
fn subdomain_pattern_matches_exactly_one_label_same_scheme_and_port() {
    let c = cfg("https://*.example.com");
    assert!(c.allowed_origin("https://app.example.com").is_some());
    assert!(c.allowed_origin("https://x-1.example.com").is_some());
    for o in [
        "https://example.com",
        "https://a.b.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://appexample.com",
        "https://app.example.com.evil.com",
        "https://app.notexample.com",
    ] {
        assert!(c.allowed_origin(o).is_none(), "{o}");
    }
    let p = cfg("http://*.dev.local:3000");
    assert!(p.allowed_origin("http://a.dev.local:3000").is_some());
    assert!(p.allowed_origin("http://a.dev.local").is_none());
}

#[test]
fn bad_patterns_and_values_are_misconfigured() {
    for origins in [
        "https://*.com",
        "https://a.*.example.com",
        "https://*example.com",
        "*.example.com",
        "https://example.com/",
        "null",
        "https://*.1.2.3.4",
        "https://**.example.com",
    ] {
        let e = CorsConfig::from_env(&env(&[("CORS_ORIGINS", origins)]), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::Misconfigured, "{origins}");
    }
    for (k, v) in [
        ("CORS_ALLOW_CREDENTIALS", "yes"),
        ("CORS_MAX_AGE", "-1"),
        ("CORS_MAX_AGE", "86401"),
        ("CORS_MAX_AGE", "1e3"),
    ] {
        let e = CorsConfig::from_env(
            &env(&[("CORS_ORIGINS", "https://a.example.com"), (k, v)]),
            None,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::Misconfigured, "{k}={v}");
    }
    let e = CorsConfig::from_env(
        &env(&[("CORS_ORIGINS", "https://a.example.com")]),
        Some(&json!({"methods": ["GET"], "bogus": 1})),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Misconfigured);
}

#[test]
fn wildcard_refused_in_production_and_with_credentials() {
    let prod = CorsConfig::from_env(
        &env(&[("CORS_ORIGINS", "*"), ("APP_ENV", "production")]),
        None,
    )
    .unwrap_err();
    assert_eq!(prod.code, ErrorCode::Misconfigured);
    let cred = CorsConfig::from_env(
        &env(&[("CORS_ORIGINS", "*"), ("CORS_ALLOW_CREDENTIALS", "true")]),
        None,
    )
    .unwrap_err();
    assert_eq!(cred.code, ErrorCode::Misconfigured);
    let dev = CorsConfig::from_env(
        &env(&[("CORS_ORIGINS", "*"), ("APP_ENV", "development")]),
        None,
    )
    .unwrap();
    let h = dev.response_headers(Some("https://anything.example"));
    assert_eq!(header(&h, "Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(header(&h, "Access-Control-Allow-Credentials"), None);
    // null is never allowed, even with *.
    assert_eq!(
        header(
            &dev.response_headers(Some("null")),
            "Access-Control-Allow-Origin"
        ),
        None
    );
}

#[test]
fn unset_origins_allow_nobody() {
    let c = CorsConfig::from_env(&SortedMap::new(), None).unwrap();
    assert!(c.allowed_origin("https://example.com").is_none());
    let p = c.preflight(Some("https://example.com"), Some("GET"), None);
    assert_eq!(p.denial.map(|d| d.code), Some(ErrorCode::OriginNotAllowed));
}

#[test]
fn preflight_allowed_disallowed_and_narrowed() {
    let e = env(&[
        ("CORS_ORIGINS", "https://app.example.com"),
        ("CORS_ALLOW_CREDENTIALS", "true"),
        ("CORS_MAX_AGE", "300"),
    ]);
    let c = CorsConfig::from_env(
        &e,
        Some(&json!({"methods": ["get", "POST"], "headers": ["Authorization", "content-type"]})),
    )
    .unwrap();
    let ok = c.preflight(
        Some("https://app.example.com"),
        Some("POST"),
        Some("Content-Type, authorization"),
    );
    assert!(ok.denial.is_none());
    assert_eq!(
        header(&ok.headers, "Access-Control-Allow-Origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&ok.headers, "Access-Control-Allow-Credentials"),
        Some("true")
    );
    assert_eq!(
        header(&ok.headers, "Access-Control-Allow-Methods"),
        Some("GET, POST")
    );
    assert_eq!(
        header(&ok.headers, "Access-Control-Allow-Headers"),
        Some("authorization, content-type")
    );
    assert_eq!(header(&ok.headers, "Access-Control-Max-Age"), Some("300"));
    assert!(header(&ok.headers, "Vary").is_some_and(|v| v.contains("Origin")));

    for (origin, method, hdrs) in [
        (Some("https://evil.example.com"), Some("POST"), None),
        (None, Some("POST"), None),
        (Some("null"), Some("POST"), None),
        (Some("https://app.example.com"), Some("DELETE"), None),
        (Some("https://app.example.com"), None, None),
        (
            Some("https://app.example.com"),
            Some("POST"),
            Some("x-evil"),
        ),
    ] {
        let p = c.preflight(origin, method, hdrs);
        let d = p.denial.expect("denied");
        assert_eq!(d.code, ErrorCode::OriginNotAllowed);
        assert_eq!(d.code.status(), 403);
        assert_eq!(header(&p.headers, "Access-Control-Allow-Origin"), None);
        assert!(header(&p.headers, "Vary").is_some_and(|v| v.contains("Origin")));
    }
}

#[test]
fn actual_response_headers_vary_always_allow_only_listed() {
    let c = cfg("https://app.example.com");
    let ok = c.response_headers(Some("https://app.example.com"));
    assert_eq!(header(&ok, "Vary"), Some("Origin"));
    assert_eq!(
        header(&ok, "Access-Control-Allow-Origin"),
        Some("https://app.example.com")
    );
    assert!(
        header(&ok, "Access-Control-Expose-Headers").is_some_and(|v| v.contains("x-request-id"))
    );
    assert_eq!(header(&ok, "Access-Control-Allow-Credentials"), None);
    for o in [
        Some("https://evil.example.com"),
        None,
        Some("null"),
        Some("garbage"),
    ] {
        let h = c.response_headers(o);
        assert_eq!(header(&h, "Vary"), Some("Origin"));
        assert_eq!(header(&h, "Access-Control-Allow-Origin"), None, "{o:?}");
        assert_eq!(h.len(), 1);
    }
}
