//! Limiter exactness: N allowed, N+1 refused, reset with time, stacked
//! windows, retry-after values, roles, classes, global checks, memory cap,
//! client IP derivation and headers.

use edgeguard_core::ratelimit::{ip_key, Facts, GlobalAnswer, GlobalResult, Limiter, LimitsConfig};
use edgeguard_core::ErrorCode;
use serde_json::{json, Value};

fn limiter(section: Value) -> Limiter {
    Limiter::new(LimitsConfig::from_value(Some(&section)).unwrap())
}

fn facts_ip(ip: &str) -> Facts {
    let mut f = Facts::default();
    f.headers.insert("x-forwarded-for".into(), ip.into());
    f
}

fn one_class(rules: Value) -> Value {
    json!({"classes": {"standard": rules}})
}

#[test]
fn exactly_n_allowed_then_refused_then_reset() {
    for (limit, window) in [
        (1u32, 1u32),
        (5, 60),
        (7, 60),
        (60, 60),
        (100, 3600),
        (3, 10),
    ] {
        let mut l = limiter(one_class(
            json!([{"name": "r", "by": ["ip"], "limit": limit, "window_s": window}]),
        ));
        let route = l.config().route(None).unwrap();
        let f = facts_ip("203.0.113.9");
        let t0 = 1_700_000_000_000i64;
        for i in 0..limit {
            let d = l.check(&route, &f, t0);
            assert!(d.allowed, "limit {limit}: request {i} must pass");
            assert_eq!(d.policies[0].remaining, limit - 1 - i);
        }
        let d = l.check(&route, &f, t0);
        assert!(
            !d.allowed,
            "limit {limit}: request {} must be refused",
            limit + 1
        );
        assert_eq!(d.denial().unwrap().code, ErrorCode::RateLimited);
        // One request is regained every window/limit: retry-after is that interval, rounded up.
        let interval_ms = u64::from(window) * 1000 / u64::from(limit);
        let expect = (u64::from(window) * 1000)
            .div_ceil(u64::from(limit))
            .div_ceil(1000);
        assert_eq!(d.retry_after_s, expect.max(1), "limit {limit}/{window}s");
        // Refused requests consume nothing: still refused just before the interval, allowed at it.
        let exact_ms =
            i64::try_from((u64::from(window) * 1000).div_ceil(u64::from(limit))).unwrap();
        if interval_ms > 1 {
            assert!(!l.check(&route, &f, t0 + exact_ms - 1).allowed);
        }
        let after = l.check(&route, &f, t0 + exact_ms);
        assert!(after.allowed);
        assert_eq!(after.policies[0].remaining, 0);
        // After a full window from the last admitted request the whole quota is back.
        let later = t0 + exact_ms + i64::from(window) * 1000;
        for _ in 0..limit {
            assert!(l.check(&route, &f, later).allowed);
        }
        assert!(!l.check(&route, &f, later).allowed);
    }
}

#[test]
fn keys_are_independent() {
    let mut l = limiter(one_class(
        json!([{"name": "r", "by": ["ip"], "limit": 2, "window_s": 60}]),
    ));
    let route = l.config().route(None).unwrap();
    let now = 1_000_000;
    assert!(l.check(&route, &facts_ip("198.51.100.1"), now).allowed);
    assert!(l.check(&route, &facts_ip("198.51.100.1"), now).allowed);
    assert!(!l.check(&route, &facts_ip("198.51.100.1"), now).allowed);
    assert!(l.check(&route, &facts_ip("198.51.100.2"), now).allowed);
    // Same /64 is the same key.
    assert!(l.check(&route, &facts_ip("2001:db8:1:2::1"), now).allowed);
    assert!(
        l.check(&route, &facts_ip("2001:db8:1:2:ffff::9"), now)
            .allowed
    );
    assert!(
        !l.check(&route, &facts_ip("2001:db8:1:2::abcd"), now)
            .allowed
    );
    assert!(l.check(&route, &facts_ip("2001:db8:1:3::1"), now).allowed);
}

#[test]
fn stacked_windows_both_hold_and_refusal_consumes_nothing() {
    let mut l = limiter(one_class(json!([
        {"name": "ip-min", "by": ["ip"], "limit": 60, "window_s": 60},
        {"name": "ip-hour", "by": ["ip"], "limit": 100, "window_s": 3600}
    ])));
    let route = l.config().route(None).unwrap();
    let f = facts_ip("192.0.2.7");
    let t0 = 10_000_000i64;
    for _ in 0..60 {
        assert!(l.check(&route, &f, t0).allowed);
    }
    let d = l.check(&route, &f, t0);
    assert!(!d.allowed);
    assert_eq!(d.exceeded.as_deref(), Some("ip-min"));
    // The refusal's headers report the other rule as it stands: 40 of the
    // hour left (60 counted), not 39 as if this refused request had counted.
    let hour = d.policies.iter().find(|p| p.name == "ip-hour").unwrap();
    assert_eq!(hour.remaining, 40);
    // A minute later the per-minute quota is back but only 40 remain in the hour.
    let t1 = t0 + 60_000;
    let mut passed = 0;
    for _ in 0..60 {
        if l.check(&route, &f, t1).allowed {
            passed += 1;
        }
    }
    // ip-hour regains 100/3600s: one per 36 s, so 1 more after 60 s.
    assert_eq!(passed, 40 + 1);
    let d = l.check(&route, &f, t1);
    assert_eq!(d.exceeded.as_deref(), Some("ip-hour"));
    assert_eq!(d.retry_after_s, 36 - 60 % 36);
    assert_eq!(d.policies.len(), 2);
}

#[test]
fn classes_roles_and_exempt_routes() {
    let section = json!({
        "classes": {
            "auth": [{"name": "auth-ip", "by": ["ip"], "limit": 5, "window_s": 60}],
            "standard": [{"name": "user-min", "by": ["user"], "limit": 3, "window_s": 60, "roles": {"admin": 6}}]
        }
    });
    let mut l = limiter(section);
    let auth = l.config().route(Some(&json!({"class": "auth"}))).unwrap();
    let std = l.config().route(None).unwrap();
    let exempt = l.config().route(Some(&json!({"exempt": true}))).unwrap();
    let f = facts_ip("192.0.2.1");
    for _ in 0..5 {
        assert!(l.check(&auth, &f, 0).allowed);
    }
    assert!(!l.check(&auth, &f, 0).allowed);
    for _ in 0..1000 {
        let d = l.check(&exempt, &f, 0);
        assert!(d.allowed && d.headers().is_empty());
    }
    // Anonymous: the user rule does not apply.
    let d = l.check(&std, &f, 0);
    assert!(d.allowed && d.policies.is_empty());
    let mut user = f.clone();
    user.user_id = Some("u1".into());
    for _ in 0..3 {
        assert!(l.check(&std, &user, 0).allowed);
    }
    assert!(!l.check(&std, &user, 0).allowed);
    let mut admin = user.clone();
    admin.user_id = Some("u2".into());
    admin.role = Some("admin".into());
    for _ in 0..6 {
        assert!(l.check(&std, &admin, 0).allowed);
    }
    assert!(!l.check(&std, &admin, 0).allowed);
    assert!(l.config().route(Some(&json!({"class": "nope"}))).is_err());
    assert!(l
        .config()
        .route(Some(&json!({"class": "auth", "exempt": true})))
        .is_err());
}

#[test]
fn defaults_match_documentation() {
    let mut l = Limiter::new(LimitsConfig::from_value(None).unwrap());
    let auth = l.config().route(Some(&json!({"class": "auth"}))).unwrap();
    let f = facts_ip("192.0.2.3");
    let allowed = (0..10).filter(|_| l.check(&auth, &f, 0).allowed).count();
    assert_eq!(allowed, 5);
    let std = l.config().route(None).unwrap();
    let f2 = facts_ip("192.0.2.4");
    let allowed = (0..100).filter(|_| l.check(&std, &f2, 0).allowed).count();
    assert_eq!(allowed, 60);
}

#[test]
fn memory_is_capped_and_oldest_evicted() {
    let mut l = limiter(
        json!({"max_keys": 100, "classes": {"standard": [{"name": "r", "by": ["ip"], "limit": 1, "window_s": 3600}]}}),
    );
    let route = l.config().route(None).unwrap();
    for i in 0..10_000u32 {
        let ip = format!("11.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        assert!(l.check(&route, &facts_ip(&ip), 0).allowed);
        assert!(l.tracked_keys() <= 100);
    }
    assert_eq!(l.tracked_keys(), 100);
    // The most recent keys are still limited, the oldest were forgotten.
    assert!(!l.check(&route, &facts_ip("11.0.39.15"), 0).allowed); // i = 9999
    assert!(l.check(&route, &facts_ip("11.0.0.0"), 0).allowed); // i = 0, evicted
}

#[test]
fn client_ip_sources() {
    let xff = LimitsConfig::from_value(Some(
        &json!({"client_ip": {"source": "x-forwarded-for", "trusted_hops": 2}}),
    ))
    .unwrap();
    let mut f = Facts::default();
    f.headers.insert(
        "x-forwarded-for".into(),
        "6.6.6.6, 203.0.113.5, 198.51.100.1".into(),
    );
    assert_eq!(xff.client_ip(&f).as_deref(), Some("203.0.113.5"));
    let one = LimitsConfig::from_value(None).unwrap();
    assert_eq!(one.client_ip(&f).as_deref(), Some("198.51.100.1"));
    f.headers
        .insert("x-forwarded-for".into(), "203.0.113.5".into());
    assert_eq!(xff.client_ip(&f), None, "fewer hops than trusted");
    f.headers
        .insert("x-forwarded-for".into(), "not-an-ip".into());
    f.remote_addr = Some("127.0.0.1".into());
    assert_eq!(one.client_ip(&f), None, "a bad header does not fall back");
    f.headers.clear();
    assert_eq!(
        one.client_ip(&f),
        None,
        "an expected proxy header that is absent never falls back to the peer (the proxy)"
    );
    // From a proxy header, only a public address is a client.
    for untrusted in [
        "10.0.0.1",
        "172.17.0.1",
        "192.168.1.2",
        "127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "169.254.1.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
    ] {
        assert_eq!(one.client_ip(&facts_ip(untrusted)), None, "{untrusted}");
    }
    let cf = LimitsConfig::from_value(Some(&json!({"client_ip": {"source": "cf-connecting-ip"}})))
        .unwrap();
    let mut g = Facts::default();
    g.headers
        .insert("cf-connecting-ip".into(), " 198.51.100.8 ".into());
    g.headers.insert("x-forwarded-for".into(), "1.1.1.1".into());
    assert_eq!(cf.client_ip(&g).as_deref(), Some("198.51.100.8"));
    let real =
        LimitsConfig::from_value(Some(&json!({"client_ip": {"source": "x-real-ip"}}))).unwrap();
    g.headers.insert("x-real-ip".into(), "2001:db8::1".into());
    assert_eq!(real.client_ip(&g).as_deref(), Some("2001:db8:0:0::/64"));
    assert_eq!(ip_key("::ffff:192.0.2.1").as_deref(), Some("192.0.2.1"));
    // remote_addr: the peer, except the 0.0.0.0 edge-runtime reports.
    let peer =
        LimitsConfig::from_value(Some(&json!({"client_ip": {"source": "remote_addr"}}))).unwrap();
    let mut p = Facts {
        remote_addr: Some("127.0.0.1".into()),
        ..Default::default()
    };
    assert_eq!(peer.client_ip(&p).as_deref(), Some("127.0.0.1"));
    p.remote_addr = Some("0.0.0.0".into());
    assert_eq!(peer.client_ip(&p), None);
}

#[test]
fn unknown_client_ips_never_share_one_bucket() {
    let mut l = limiter(one_class(
        json!([{"name": "r", "by": ["ip"], "limit": 1, "window_s": 60}]),
    ));
    let route = l.config().route(None).unwrap();
    // No trustworthy IP and nobody known: the IP rule does not apply.
    let first = l.check(&route, &Facts::default(), 0);
    assert!(first.allowed);
    assert!(first.policies.is_empty());
    let note = first.ip_note.expect("the first occurrence names the missing header");
    assert!(note.contains("x-forwarded-for"), "{note}");
    for bad in ["garbage", "10.0.0.1", "0.0.0.0"] {
        let d = l.check(&route, &facts_ip(bad), 0);
        assert!(d.allowed, "{bad}: one busy minute must not lock out everyone");
        assert_eq!(d.ip_note, None, "the note is given once per isolate");
    }
    // Known callers are counted by who they are instead, each on their own.
    let user = |u: &str| Facts {
        user_id: Some(u.into()),
        ..facts_ip("10.0.0.1")
    };
    assert!(l.check(&route, &user("u1"), 0).allowed);
    assert!(!l.check(&route, &user("u1"), 0).allowed);
    assert!(l.check(&route, &user("u2"), 0).allowed);
    let key = Facts {
        api_key_id: Some("k1".into()),
        ..Default::default()
    };
    assert!(l.check(&route, &key, 0).allowed);
    assert!(!l.check(&route, &key, 0).allowed);
    // A trustworthy IP is still keyed by IP.
    assert!(l.check(&route, &facts_ip("198.51.100.7"), 0).allowed);
    assert!(!l.check(&route, &facts_ip("198.51.100.7"), 0).allowed);
}

#[test]
fn client_ip_from_the_environment() {
    let env = |pairs: &[(&str, &str)]| -> edgeguard_core::sorted_map::SortedMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let base = || LimitsConfig::from_value(None).unwrap();
    assert_eq!(base().with_env(&env(&[])).unwrap().ip_source_name(), "x-forwarded-for:1");
    assert_eq!(
        base().with_env(&env(&[("SB_REGION", "eu-west-1")])).unwrap().ip_source_name(),
        "cf-connecting-ip",
        "hosted default"
    );
    for (v, want) in [
        ("x-forwarded-for:2", "x-forwarded-for:2"),
        ("X-Real-IP", "x-real-ip"),
        ("cf-connecting-ip", "cf-connecting-ip"),
        ("remote_addr", "remote_addr"),
        ("x-forwarded-for", "x-forwarded-for:1"),
    ] {
        let c = base()
            .with_env(&env(&[("EDGEGUARD_CLIENT_IP", v), ("SB_REGION", "x")]))
            .unwrap();
        assert_eq!(c.ip_source_name(), want, "{v}");
    }
    for bad in ["x-forwarded-for:0", "x-forwarded-for:17", "cf-connecting-ip:2", "forwarded", "x-forwarded-for:a"] {
        let e = base().with_env(&env(&[("EDGEGUARD_CLIENT_IP", bad)])).unwrap_err();
        assert_eq!(e.code, ErrorCode::Misconfigured, "{bad}");
        assert!(e.reason.contains("EDGEGUARD_CLIENT_IP"), "{bad}");
    }
    // The variable wins over a policy's client_ip section.
    let policy = LimitsConfig::from_value(Some(&json!({"client_ip": {"source": "x-real-ip"}}))).unwrap();
    assert_eq!(policy.clone().with_env(&env(&[("SB_REGION", "x")])).unwrap().ip_source_name(), "x-real-ip");
    assert_eq!(
        policy.with_env(&env(&[("EDGEGUARD_CLIENT_IP", "cf-connecting-ip")])).unwrap().ip_source_name(),
        "cf-connecting-ip"
    );
}

#[test]
fn invalid_sections_are_misconfigured() {
    let bad = [
        json!({"classes": {"standard": [{"name": "r", "by": ["ip"], "limit": 0, "window_s": 60}]}}),
        json!({"classes": {"standard": [{"name": "r", "by": ["ip"], "limit": 1, "window_s": 0}]}}),
        json!({"classes": {"standard": [{"name": "r", "by": [], "limit": 1, "window_s": 1}]}}),
        json!({"classes": {"standard": [{"name": "r", "by": ["ip", "ip"], "limit": 1, "window_s": 1}]}}),
        json!({"classes": {"standard": [{"name": "R\"", "by": ["ip"], "limit": 1, "window_s": 1}]}}),
        json!({"classes": {"standard": [{"name": "r", "by": ["ip"], "limit": 1, "window_s": 1}, {"name": "r", "by": ["ip"], "limit": 1, "window_s": 1}]}}),
        json!({"classes": {"standard": [{"name": "r", "by": ["mac"], "limit": 1, "window_s": 1}]}}),
        json!({"classes": {"standard": [{"name": "r", "by": ["ip"], "limit": 1, "window_s": 1, "extra": true}]}}),
        json!({"classes": {"auth": []}}),
        json!({"max_keys": 0}),
        json!({"client_ip": {"source": "x-client-ip"}}),
        json!({"client_ip": {"source": "cf-connecting-ip", "trusted_hops": 1}}),
        json!({"client_ip": {"source": "x-forwarded-for", "trusted_hops": 0}}),
        json!({"on_db_error": "maybe"}),
        json!({"bogus": 1}),
    ];
    for b in bad {
        assert_eq!(
            LimitsConfig::from_value(Some(&b)).unwrap_err().code,
            ErrorCode::Misconfigured,
            "{b}"
        );
    }
}

#[test]
fn headers_follow_the_draft_format() {
    let mut l = limiter(one_class(json!([
        {"name": "ip-min", "by": ["ip"], "limit": 2, "window_s": 60},
        {"name": "ip-hour", "by": ["ip"], "limit": 10, "window_s": 3600}
    ])));
    let route = l.config().route(None).unwrap();
    let f = facts_ip("192.0.2.9");
    let d = l.check(&route, &f, 0);
    let h = d.headers();
    assert_eq!(
        h[0],
        (
            "RateLimit-Policy".into(),
            "\"ip-min\";q=2;w=60, \"ip-hour\";q=10;w=3600".into()
        )
    );
    assert_eq!(
        h[1],
        (
            "RateLimit".into(),
            "\"ip-min\";r=1;t=30, \"ip-hour\";r=9;t=360".into()
        )
    );
    assert_eq!(h.len(), 2);
    l.check(&route, &f, 0);
    let refused = l.check(&route, &f, 0);
    let h = refused.headers();
    assert!(h.contains(&("Retry-After".into(), "30".into())));
    assert!(h[1].1.starts_with("\"ip-min\";r=0;"));
}

#[test]
fn refusals_are_recorded_once_per_window() {
    let mut l = limiter(one_class(
        json!([{"name": "r", "by": ["ip"], "limit": 1, "window_s": 60}]),
    ));
    let route = l.config().route(None).unwrap();
    let f = facts_ip("192.0.2.10");
    assert!(l.check(&route, &f, 0).allowed);
    let recorded: Vec<bool> = (0..1000)
        .map(|i| l.check(&route, &f, i).record_event)
        .collect();
    assert_eq!(recorded.iter().filter(|r| **r).count(), 1);
    assert!(recorded[0]);
    assert!(!l.check(&route, &f, 59_000).record_event);
    // The key regains a request at 60 s; refusals after the next window record again.
    assert!(l.check(&route, &f, 60_000).allowed);
    assert!(l.check(&route, &f, 60_001).record_event);
}

#[test]
fn global_rules_go_to_the_database_and_fold_back() {
    let section = json!({"classes": {"standard": [
        {"name": "ip-min", "by": ["ip"], "limit": 10, "window_s": 60},
        {"name": "user-min", "by": ["user", "tenant"], "limit": 5, "window_s": 60, "global": true}
    ]}});
    let mut l = limiter(section.clone());
    let route = l.config().route(None).unwrap();
    let mut f = facts_ip("192.0.2.11");
    f.user_id = Some("u-1".into());
    f.tenant_id = Some("t-1".into());
    let d = l.check(&route, &f, 0);
    assert!(d.allowed);
    assert_eq!(d.global.len(), 1);
    let g = &d.global[0];
    assert_eq!((g.rule.as_str(), g.limit, g.window_s), ("user-min", 5, 60));
    assert!(g.key.starts_with("user-min:") && !g.key.contains("u-1") && !g.key.contains("192.0.2"));
    // Same facts → same key; other tenant → other key.
    let mut other = f.clone();
    other.tenant_id = Some("t-2".into());
    assert_eq!(l.check(&route, &f, 0).global[0].key, g.key);
    assert_ne!(l.check(&route, &other, 0).global[0].key, g.key);

    let ok = GlobalAnswer::Results(vec![GlobalResult {
        key: g.key.clone(),
        allowed: true,
        remaining: 4,
        reset_s: 12,
        retry_after_s: None,
    }]);
    let fin = l.apply_global(&d, &ok, 0).unwrap();
    assert!(fin.allowed && fin.global.is_empty());
    assert_eq!(fin.policies.len(), 2);
    assert!(fin.headers()[1].1.contains("\"user-min\";r=4;t=12"));

    let no = GlobalAnswer::Results(vec![GlobalResult {
        key: g.key.clone(),
        allowed: false,
        remaining: 0,
        reset_s: 40,
        retry_after_s: Some(7),
    }]);
    let fin = l.apply_global(&d, &no, 0).unwrap();
    assert!(!fin.allowed);
    assert_eq!(fin.retry_after_s, 7);
    assert_eq!(fin.exceeded.as_deref(), Some("user-min"));
    assert_eq!(fin.denial().unwrap().code, ErrorCode::RateLimited);
    assert!(fin.record_event);
    assert!(!l.apply_global(&d, &no, 1).unwrap().record_event);

    let wrong = GlobalAnswer::Results(vec![GlobalResult {
        key: "user-min:00".into(),
        allowed: true,
        remaining: 1,
        reset_s: 1,
        retry_after_s: None,
    }]);
    assert_eq!(
        l.apply_global(&d, &wrong, 0).unwrap_err().code,
        ErrorCode::Internal
    );
    assert_eq!(
        l.apply_global(&d, &GlobalAnswer::Results(vec![]), 0)
            .unwrap_err()
            .code,
        ErrorCode::Internal
    );
    // Database down: closed by default, open when configured.
    assert_eq!(
        l.apply_global(&d, &GlobalAnswer::Unavailable, 0)
            .unwrap_err()
            .code,
        ErrorCode::Unavailable
    );
    let mut open_section = section;
    open_section["on_db_error"] = json!("open");
    let mut open = limiter(open_section);
    let r2 = open.config().route(None).unwrap();
    let d2 = open.check(&r2, &f, 0);
    assert!(
        open.apply_global(&d2, &GlobalAnswer::Unavailable, 0)
            .unwrap()
            .allowed
    );
}
