//! Generated hostile inputs: every parser answers (Ok or a denial) and never panics.

use edgeguard_core::cors::{CorsConfig, Origin};
use edgeguard_core::csrf::CsrfConfig;
use edgeguard_core::headers::SecurityHeaders;
use edgeguard_core::ratelimit::{ip_key, Facts, Limiter, LimitsConfig};
use edgeguard_core::schema::{parse_json_strict, BodyRules, ParamRules};
use edgeguard_core::ErrorCode;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::json;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    /// A string built from fragments that matter to the parsers under test.
    fn fragments(&mut self, n: usize) -> String {
        const F: [&str; 30] = [
            "https://", "http://", "*.", ".", ":", "[", "]", "::1", "@", "/", "?", "#", "%",
            "\r\n", "\0", "é", "a", "Z", "9", "-", "{", "}", "\"", ",", "=", "&", "v1", "443",
            "65536", "null",
        ];
        let len = (self.next() % n as u64) as usize;
        (0..len).map(|_| self.pick(&F)).collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let len = (self.next() % n as u64) as usize;
        (0..len).map(|_| (self.next() & 0xff) as u8).collect()
    }
}

#[test]
fn origins_tokens_ips_and_headers_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut env = SortedMap::new();
    env.insert("CSRF_SECRET".to_string(), "k".repeat(32));
    let csrf = CsrfConfig::from_env(&env, Some(&json!({"required": true}))).unwrap();
    for _ in 0..20_000 {
        let s = rng.fragments(12);
        if let Some(o) = Origin::parse(&s) {
            // Whatever parses re-parses to itself.
            assert_eq!(Origin::parse(&o.serialize()), Some(o.clone()), "{s:?}");
            assert!(o.serialize().bytes().all(|b| b.is_ascii_graphic()));
        }
        let mut e = SortedMap::new();
        e.insert("CORS_ORIGINS".to_string(), s.clone());
        if let Ok(c) = CorsConfig::from_env(&e, None) {
            let _ = c.preflight(Some(&s), Some(&s), Some(&s));
            let _ = c.response_headers(Some(&s));
        }
        assert_eq!(
            csrf.verify_token(&s, "subject", 0).unwrap_err().code,
            ErrorCode::CsrfFailed
        );
        let _ = ip_key(&s);
        let _ = SecurityHeaders::from_value(Some(&json!({"set": {s.clone(): s.clone()}})));
    }
}

#[test]
fn bodies_and_queries_never_panic() {
    let mut rng = Rng(42);
    let rules = BodyRules::from_value(Some(&json!({"schema": {"type": "object", "properties": {
        "a": {"type": "string", "pattern": "^[a-z]*$", "maxLength": 3}, "b": {"type": "array", "items": {"type": "integer"}}}}}))).unwrap();
    let params = ParamRules::from_values(
        None,
        Some(&json!({"properties": {"n": {"type": "integer"}}})),
    )
    .unwrap();
    let json_frags = [
        "{",
        "}",
        "[",
        "]",
        "\"a\"",
        ":",
        ",",
        "1",
        "-0.5e9",
        "null",
        "true",
        "\"\\u0000\"",
        "\"b\"",
        " ",
        "\"\\ud800\"",
    ];
    for _ in 0..20_000 {
        let n = (rng.next() % 40) as usize;
        let doc: String = (0..n).map(|_| rng.pick(&json_frags)).collect();
        let _ = parse_json_strict(doc.as_bytes(), 8);
        let _ = rules.check(Some("application/json"), doc.as_bytes());
        let raw = rng.bytes(64);
        let _ = rules.check(Some("application/json"), &raw);
        let q = rng.fragments(10);
        let _ = params.check(&SortedMap::new(), &q);
        let ct = rng.fragments(6);
        let _ = rules.check(Some(&ct), b"{}");
    }
}

#[test]
fn limiter_facts_never_panic_and_extreme_times_are_safe() {
    let mut rng = Rng(7);
    let mut l = Limiter::new(LimitsConfig::from_value(Some(&json!({"max_keys": 50}))).unwrap());
    let route = l.config().route(None).unwrap();
    for i in 0..5_000 {
        let mut f = Facts::default();
        f.headers.insert("x-forwarded-for".into(), rng.fragments(8));
        f.user_id = Some(rng.fragments(4));
        f.role = Some(rng.fragments(2));
        let now = match i % 4 {
            0 => i64::MAX,
            1 => i64::MIN,
            2 => 0,
            _ => (rng.next() >> 1) as i64,
        };
        let d = l.check(&route, &f, now);
        assert!(d.allowed || d.retry_after_s >= 1);
        assert!(l.tracked_keys() <= 50);
    }
}
