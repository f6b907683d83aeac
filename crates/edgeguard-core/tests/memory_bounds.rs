//! The per-isolate memory ceiling of docs/memory.md, structure by structure:
//! each is filled with adversarial input (tokens at the 8 KiB cap with claims
//! built to be large in memory, many keys, many denial and limiter keys) and
//! its accounted bytes and count caps are asserted after every step.

use edgeguard_core::auth::b64;
use edgeguard_core::auth::cache::{JwksCache, TOKEN_CACHE_MAX_BYTES, TOKEN_CACHE_MAX_ENTRY_BYTES};
use edgeguard_core::auth::jwt::MAX_TOKEN_BYTES;
use edgeguard_core::auth::keys::{KeySet, MAX_JWKS_BYTES, MAX_KEYS};
use edgeguard_core::authz::{Decision, Gate, Request, TOKEN_CACHE_CAP};
use edgeguard_core::ratelimit::{
    DenialRecorder, Facts, Limiter, LimitsConfig, DENIAL_EVENT_MAX_BYTES, DENIAL_EVENT_MAX_KEYS,
    LIMITER_MAX_BYTES_PER_KEY, MAX_MAX_KEYS,
};
use edgeguard_core::sorted_map::SortedMap;
use jwt_simple::prelude::*;
use serde_json::{json, Value};


#[path = "support/jwt.rs"]
mod jwt;
const NOW: i64 = 1_900_000_000;
const NOW_MS: f64 = NOW as f64 * 1000.0;
const SECRET: &str = "memory-bounds-secret-with-at-least-32-characters";
const POLICY: &str = r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"}]}"#;

fn hs_token(claims: &Value) -> String {
    jwt::hs256_token(SECRET.as_bytes(), &serde_json::json!({"alg":"HS256","typ":"JWT"}), claims)
}

fn claims(i: usize, extra: Value) -> Value {
    let mut c = json!({"sub": format!("user-{i}"), "role": "authenticated", "exp": NOW + 3600,
                       "iat": NOW - 10, "tenant_id": "t1"});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn hs_gate() -> Gate {
    let mut env = SortedMap::new();
    env.insert("JWT_SECRET".to_string(), SECRET.to_string());
    Gate::new(POLICY, &env).unwrap()
}

fn me(g: &mut Gate, token: &str) -> Decision {
    let mut headers = SortedMap::new();
    headers.insert("authorization".to_string(), format!("Bearer {token}"));
    let r = Request {
        method: "GET".into(),
        path: "/me".into(),
        headers,
        ..Default::default()
    };
    g.check(&r, NOW_MS)
}

#[track_caller]
fn assert_allowed(d: &Decision) {
    if let Decision::Deny { denial, .. } = d {
        panic!("denied: {denial}");
    }
}

#[test]
fn token_cache_is_bounded_by_bytes_with_tokens_at_the_size_cap() {
    let mut g = hs_gate();
    let n = 1500;
    for i in 0..n {
        // A user's own metadata fills the token up to just under 8 KiB.
        let c = claims(i, json!({"user_metadata": {"bio": "x".repeat(5_900)}}));
        let t = hs_token(&c);
        assert!(
            t.len() <= MAX_TOKEN_BYTES && t.len() > MAX_TOKEN_BYTES - 400,
            "{}",
            t.len()
        );
        assert_allowed(&me(&mut g, &t));
        assert!(
            g.cached_token_bytes() <= TOKEN_CACHE_MAX_BYTES,
            "step {i}: {}",
            g.cached_token_bytes()
        );
        assert!(g.cached_tokens() <= TOKEN_CACHE_CAP);
    }
    // The byte budget binds long before the count cap: not all 1500 are kept.
    assert!(g.cached_tokens() < n, "{} tokens cached", g.cached_tokens());
    assert!(
        g.cached_tokens() > 100,
        "{} tokens cached",
        g.cached_tokens()
    );
    assert!(g.cached_token_bytes() > TOKEN_CACHE_MAX_BYTES - TOKEN_CACHE_MAX_ENTRY_BYTES);
    // Each of those entries is accounted at more than its token and JSON.
    let per_entry = g.cached_token_bytes() / g.cached_tokens();
    assert!(
        per_entry > 2 * MAX_TOKEN_BYTES - 800,
        "{per_entry} bytes per entry"
    );
}

#[test]
fn an_entry_built_to_expand_in_memory_is_verified_every_time_and_never_cached() {
    let mut g = hs_gate();
    // ~2 900 numbers: 2 bytes each in the token, a whole JSON value each in memory.
    let c = claims(1, json!({"user_metadata": {"m": vec![0; 2_900]}}));
    let t = hs_token(&c);
    assert!(t.len() <= MAX_TOKEN_BYTES, "{}", t.len());
    for _ in 0..3 {
        let d = me(&mut g, &t);
        assert_allowed(&d);
        assert_eq!(g.cached_tokens(), 0, "larger than the per-entry cap");
        assert_eq!(g.cached_token_bytes(), 0);
        let (keyed, beside) = d.to_keyed_json();
        assert!(
            beside.is_none() && !keyed.contains("identity_key"),
            "the shim keeps no copy either"
        );
    }
    // An ordinary token next to it is cached as usual.
    assert_allowed(&me(&mut g, &hs_token(&claims(2, json!({})))));
    assert_eq!(g.cached_tokens(), 1);
}

#[test]
fn token_cache_count_cap_holds_with_small_tokens() {
    let mut g = hs_gate();
    for i in 0..TOKEN_CACHE_CAP + 300 {
        assert_allowed(&me(&mut g, &hs_token(&claims(i, json!({})))));
        assert!(g.cached_tokens() <= TOKEN_CACHE_CAP);
    }
    assert_eq!(g.cached_tokens(), TOKEN_CACHE_CAP);
    assert!(g.cached_token_bytes() <= TOKEN_CACHE_MAX_BYTES);
}

fn ec_jwk(kid: &str) -> (ES256KeyPair, Value) {
    let kp = ES256KeyPair::generate().with_key_id(kid);
    let pt = kp.public_key().public_key().to_bytes_uncompressed();
    let jwk = json!({"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":kid,
                     "x": b64::encode(&pt[1..33]), "y": b64::encode(&pt[33..65])});
    (kp, jwk)
}

/// What one ES256 key may take at most: its two precomputed tables (full
/// ≈ 510 KiB, small ≈ 60 KiB, built lazily) and a little.
const ES256_KEY_MAX_BYTES: usize = 576 * 1024;

#[test]
fn jwks_keeps_at_most_16_keys_and_their_tables_are_accounted() {
    let pairs: Vec<(ES256KeyPair, Value)> = (0..MAX_KEYS + 8)
        .map(|i| ec_jwk(&format!("k{i}")))
        .collect();
    let doc = json!({"keys": pairs.iter().map(|(_, j)| j.clone()).collect::<Vec<_>>()}).to_string();
    assert!(doc.len() < MAX_JWKS_BYTES);
    let set = KeySet::from_json(&doc).unwrap();
    assert_eq!(set.keys.len(), MAX_KEYS);
    assert_eq!(
        set.notes
            .iter()
            .filter(|n| n.contains("only the first 16 usable keys"))
            .count(),
        8
    );
    let bytes = set.approx_bytes();
    assert!(
        bytes > MAX_KEYS * 500 * 1024,
        "each table is accounted: {bytes}"
    );
    assert!(bytes <= MAX_KEYS * ES256_KEY_MAX_BYTES, "{bytes}");

    // Through the gate: a token of the 17th key is refused as an unknown kid.
    let mut env = SortedMap::new();
    env.insert("SUPABASE_JWKS".to_string(), doc);
    let mut g = Gate::new(POLICY, &env).unwrap();
    assert!(g.jwks_bytes() <= MAX_KEYS * ES256_KEY_MAX_BYTES);
    let sign = |kp: &ES256KeyPair| {
        let c =
            Claims::with_custom_claims(json!({"role": "authenticated"}), Duration::from_hours(1))
                .with_subject("u");
        kp.sign(c).unwrap()
    };
    let now_ms = jwt_simple::prelude::Clock::now_since_epoch().as_millis() as f64;
    let check = |g: &mut Gate, t: &str| {
        let mut headers = SortedMap::new();
        headers.insert("authorization".to_string(), format!("Bearer {t}"));
        let r = Request {
            method: "GET".into(),
            path: "/me".into(),
            headers,
            ..Default::default()
        };
        g.check(&r, now_ms)
    };
    assert_allowed(&check(&mut g, &sign(&pairs[MAX_KEYS - 1].0)));
    match check(&mut g, &sign(&pairs[MAX_KEYS].0)) {
        Decision::Deny { denial, .. } => assert_eq!(denial.reason, "unknown kid"),
        Decision::Allow { .. } => panic!("a key past the cap verified a token"),
    }
}

#[test]
fn jwks_document_larger_than_64_kib_is_refused_before_parsing() {
    let (_, jwk) = ec_jwk("a");
    let fits = json!({"keys": [jwk.clone()]}).to_string();
    let mut big = format!("{{\"keys\":[{jwk}],\"pad\":\"");
    big.push_str(&"p".repeat(MAX_JWKS_BYTES - big.len() - 2 + 1));
    big.push_str("\"}");
    assert_eq!(big.len(), MAX_JWKS_BYTES + 1);
    let e = KeySet::from_json(&big).unwrap_err();
    assert!(e.0.contains("larger than 65536"), "{}", e.0);
    assert!(
        KeySet::from_inline_env(&big).is_err(),
        "the inline JWKS too"
    );
    // A fetched document that large is refused; the keys in use stay.
    let mut c = JwksCache::default();
    c.set(&fits, 600, 0.0).unwrap();
    assert!(c.set(&big, 600, 1.0).is_err());
    assert_eq!(c.keys().len(), 1);
    assert!(c.approx_bytes() <= ES256_KEY_MAX_BYTES);
}

#[test]
fn denial_recorder_stays_under_its_byte_ceiling() {
    let mut r = DenialRecorder::new();
    let long_route = format!("GET /{}", "r".repeat(4_000));
    for window in 0..3i64 {
        for i in 0..DENIAL_EVENT_MAX_KEYS as i64 * 2 {
            let client = format!("{}-{i}", "c".repeat(200));
            r.should_record(
                &long_route,
                "INVALID_JWT",
                Some(&client),
                window * 2 * 60_000,
            );
            if i % 997 == 0 {
                assert!(r.tracked_keys() <= DENIAL_EVENT_MAX_KEYS);
                assert!(
                    r.approx_bytes() <= DENIAL_EVENT_MAX_BYTES,
                    "{}",
                    r.approx_bytes()
                );
            }
        }
        // Full of this window's keys: the last window's expired and were dropped.
        assert_eq!(r.tracked_keys(), DENIAL_EVENT_MAX_KEYS);
        assert!(
            r.approx_bytes() <= DENIAL_EVENT_MAX_BYTES,
            "{}",
            r.approx_bytes()
        );
        assert!(
            r.approx_bytes() > DENIAL_EVENT_MAX_BYTES / 4,
            "the table is accounted"
        );
    }
}

#[test]
fn limiter_max_keys_is_capped_and_each_key_stays_under_its_byte_share() {
    let cfg = |n: usize| LimitsConfig::from_value(Some(&json!({"max_keys": n})));
    assert_eq!(MAX_MAX_KEYS, 100_000);
    assert!(cfg(100_000).is_ok());
    for too_many in [100_001, 1_000_000] {
        let e = cfg(too_many).unwrap_err();
        assert_eq!(e.reason, "limits.max_keys must be 1..=100000");
    }
    // 7 169 keys: the hash table's power-of-two slack is at its worst there.
    for max_keys in [7_169, 10_000] {
        let mut l = Limiter::new(cfg(max_keys).unwrap());
        let route = l.config().route(None).unwrap();
        for i in 0..max_keys as u32 + 3_000 {
            let mut f = Facts::default();
            let ip = format!("8.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            f.headers.insert("x-forwarded-for".into(), ip);
            f.user_id = Some(format!("{}{i}", "u".repeat(300)));
            l.check(&route, &f, 1_000);
            assert!(l.tracked_keys() <= max_keys);
        }
        assert_eq!(l.tracked_keys(), max_keys);
        let bytes = l.approx_bytes();
        assert!(
            bytes <= max_keys * LIMITER_MAX_BYTES_PER_KEY,
            "{max_keys}: {bytes}"
        );
        assert!(
            bytes > max_keys * 100,
            "{max_keys}: the table is accounted: {bytes}"
        );
    }
}
