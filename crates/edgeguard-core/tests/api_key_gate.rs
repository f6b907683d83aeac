//! The `apikey` auth mode through the Gate: format and checksum refused
//! before any lookup, the lookup request, the identity built from the
//! verified row (owner, tenant, owner ∩ scopes), refusals for every status,
//! the one-second reuse, and no downgrade next to a user token.

use edgeguard_core::api_keys::{self, KeyEnv, Pepper};
use edgeguard_core::authz::{Decision, Gate, Request};
use edgeguard_core::ErrorCode;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::{json, Value};

const NOW: i64 = 1_900_000_000;
const NOW_MS: f64 = NOW as f64 * 1000.0;
const PEPPER: &str = "pepper-pepper-pepper-pepper-pepper-32";
const OWNER: &str = "aaaaaaaa-0000-4000-8000-000000000004";
const TENANT: &str = "aaaaaaaa-0000-4000-8000-000000000000";

const POLICY: &str = r#"{
  "auth": ["user", "apikey"],
  "routes": [
    {"method": "GET", "path": "/me"},
    {"method": "GET", "path": "/t/:tenant_id", "tenant": {"from": "path", "name": "tenant_id"}},
    {"method": "GET", "path": "/orders", "permissions": ["orders:write"]},
    {"method": "GET", "path": "/users-only", "auth": ["user"]},
    {"method": "GET", "path": "/keys-only", "auth": ["apikey"]}
  ]
}"#;

fn env(extra: &[(&str, &str)]) -> SortedMap<String, String> {
    let mut e = SortedMap::new();
    e.insert("SECRET_KEY".into(), PEPPER.into());
    e.insert("APP_ENV".into(), "development".into());
    e.insert(
        "JWT_SECRET".into(),
        "super-secret-jwt-token-with-at-least-32-characters-long".into(),
    );
    for (k, v) in extra {
        e.insert((*k).into(), (*v).into());
    }
    e
}

fn req(path: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Request::default()
    }
}

fn row(status: &str, counted: bool) -> String {
    json!({"status": status, "key_id": "k-1", "user_id": OWNER, "tenant_id": TENANT,
           "scopes": ["orders:write", "users:write"], "user_role": "customer",
           "permissions": ["orders:write", "public:read", "services:read"],
           "expires_at": NOW + 60, "counted": counted, "retry_after_s": 7})
    .to_string()
}

fn denial(d: &Decision) -> (ErrorCode, String) {
    match d {
        Decision::Deny { denial, .. } => (denial.code, denial.reason.clone()),
        other => panic!("expected a denial, got {}", other.to_json()),
    }
}

/// Checks `r` and expects the gate to ask for a lookup (denying until then); the key hash.
#[track_caller]
fn lookup_for(g: &mut Gate, r: &Request, now_ms: f64) -> String {
    let d = g.check(r, now_ms);
    assert_eq!(
        denial(&d),
        (ErrorCode::InvalidApiKey, "API key not verified".to_string()),
        "fails closed until the row is in"
    );
    let l = g.take_api_key_lookup().expect("a lookup is asked for");
    assert_eq!(l.previous_hash, None);
    assert_eq!(g.take_api_key_lookup(), None, "taken once");
    l.key_hash
}

#[test]
fn malformed_keys_are_refused_before_any_lookup() {
    let mut g = Gate::new(POLICY, &env(&[])).unwrap();
    let good = api_keys::mint(KeyEnv::Test).unwrap().key;
    let live = api_keys::mint(KeyEnv::Live).unwrap().key;
    let mut typo = good.clone().into_bytes();
    typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    for (key, reason) in [
        (typo.as_str(), "checksum does not match"),
        (live.as_str(), "another environment"),
        ("egk_test_short", "wrong length"),
        ("egk_nope", "does not start with"),
    ] {
        let (code, why) = denial(&g.check(&req("/me", &[("x-api-key", key)]), NOW_MS));
        assert_eq!(code, ErrorCode::InvalidApiKey, "{key}");
        assert!(why.contains(reason), "{why}");
        assert!(!why.contains(key), "the reason never names the key");
    }
    // the Bearer form is the same credential
    let (code, _) = denial(&g.check(
        &req("/me", &[("authorization", &format!("Bearer {typo}"))]),
        NOW_MS,
    ));
    assert_eq!(code, ErrorCode::InvalidApiKey);
    // a well-formed key asks for one lookup, by its keyed hash
    let hash = lookup_for(&mut g, &req("/me", &[("x-api-key", &good)]), NOW_MS);
    assert_eq!(hash, Pepper::from_env(&env(&[])).unwrap().hash(&good));
    let wire = g
        .check(&req("/me", &[("x-api-key", &good)]), NOW_MS)
        .to_json();
    assert!(
        !wire.contains(&good) && !wire.contains(&hash),
        "the denial carries neither key nor hash"
    );
    g.take_api_key_lookup();
    // a malformed key asks for no lookup
    g.check(&req("/me", &[("x-api-key", &typo)]), NOW_MS);
    assert_eq!(g.take_api_key_lookup(), None);
}

#[test]
fn a_verified_row_becomes_the_owners_identity_within_the_keys_scopes() {
    let mut g = Gate::new(POLICY, &env(&[])).unwrap();
    let key = api_keys::mint(KeyEnv::Test).unwrap().key;
    let hash = lookup_for(&mut g, &req("/me", &[("x-api-key", &key)]), NOW_MS);
    g.put_api_key(&hash, &row("ok", false), NOW_MS).unwrap();
    let Decision::Allow { identity, .. } =
        g.check(&req("/me", &[("x-api-key", &key)]), NOW_MS + 1.0)
    else {
        panic!("allowed")
    };
    let id: Value = serde_json::to_value(identity.as_ref()).unwrap();
    assert_eq!(id["kind"], "apikey");
    assert_eq!(id["api_key_id"], "k-1");
    assert_eq!(id["sub"], OWNER);
    assert_eq!(id["tenant_id"], TENANT);
    assert_eq!(id["user_role"], "customer");
    // users:write is a scope the owner (customer) does not hold: dropped
    assert_eq!(id["permissions"], json!(["orders:write"]));
    assert_eq!(id["claims"]["permissions"], json!(["orders:write"]));
    assert_eq!(id["claims"]["sub"], OWNER);
    assert_eq!(id["claims"]["role"], "authenticated");
    // route permissions and tenant isolation apply to key callers
    assert!(matches!(
        g.check(&req("/orders", &[("x-api-key", &key)]), NOW_MS + 2.0),
        Decision::Allow { .. }
    ));
    assert!(matches!(
        g.check(
            &req(&format!("/t/{TENANT}"), &[("x-api-key", &key)]),
            NOW_MS + 3.0
        ),
        Decision::Allow { .. }
    ));
    let (code, _) = denial(&g.check(&req("/t/other", &[("x-api-key", &key)]), NOW_MS + 4.0));
    assert_eq!(code, ErrorCode::TenantMismatch);
    // Bearer egk_ works alike; a route without apikey refuses it
    assert!(matches!(
        g.check(
            &req("/me", &[("authorization", &format!("Bearer {key}"))]),
            NOW_MS + 5.0
        ),
        Decision::Allow { .. }
    ));
    let (code, why) = denial(&g.check(&req("/users-only", &[("x-api-key", &key)]), NOW_MS));
    assert_eq!(
        (code, why.as_str()),
        (
            ErrorCode::InvalidApiKey,
            "egk_ API keys are not accepted on this route"
        )
    );
    // reuse within the second keeps one prebuilt identity (named by the same key)
    let keyed = |g: &mut Gate, t: f64| {
        g.check(&req("/me", &[("x-api-key", &key)]), t)
            .to_keyed_json()
    };
    let (first, json) = keyed(&mut g, NOW_MS + 6.0);
    let (again, _) = keyed(&mut g, NOW_MS + 7.0);
    assert!(first.contains("\"identity_key\":"), "{first}");
    assert_eq!(first, again);
    assert_eq!(serde_json::from_str::<Value>(&json.unwrap()).unwrap(), id);
    // after a second the key is looked up again
    lookup_for(&mut g, &req("/me", &[("x-api-key", &key)]), NOW_MS + 1000.0);
}

#[test]
fn every_refused_status_is_invalid_api_key_or_rate_limited() {
    let mut g = Gate::new(POLICY, &env(&[])).unwrap();
    let key = api_keys::mint(KeyEnv::Test).unwrap().key;
    for (status, code, reason) in [
        (
            "unknown",
            ErrorCode::InvalidApiKey,
            "API key not recognised",
        ),
        ("revoked", ErrorCode::InvalidApiKey, "API key revoked"),
        ("expired", ErrorCode::InvalidApiKey, "API key expired"),
        (
            "exhausted",
            ErrorCode::InvalidApiKey,
            "API key has no uses left",
        ),
        (
            "rate_limited",
            ErrorCode::RateLimited,
            "API key rate limit reached; retry in 7 s",
        ),
    ] {
        let hash = lookup_for(&mut g, &req("/keys-only", &[("x-api-key", &key)]), NOW_MS);
        g.put_api_key(&hash, &row(status, true), NOW_MS).unwrap();
        assert_eq!(
            denial(&g.check(&req("/keys-only", &[("x-api-key", &key)]), NOW_MS)),
            (code, reason.to_string())
        );
    }
    // an ok row past its expiry is refused at use time
    let hash = lookup_for(&mut g, &req("/keys-only", &[("x-api-key", &key)]), NOW_MS);
    g.put_api_key(&hash, &row("ok", false), NOW_MS + 60_000.0)
        .unwrap();
    assert_eq!(
        denial(&g.check(
            &req("/keys-only", &[("x-api-key", &key)]),
            NOW_MS + 60_500.0
        ))
        .1,
        "API key expired"
    );
    assert!(g.put_api_key(&hash, "{\"nope\":1}", NOW_MS).is_err());
}

#[test]
fn a_counted_keys_answer_serves_one_request() {
    let mut g = Gate::new(POLICY, &env(&[])).unwrap();
    let key = api_keys::mint(KeyEnv::Test).unwrap().key;
    let hash = lookup_for(&mut g, &req("/me", &[("x-api-key", &key)]), NOW_MS);
    g.put_api_key(&hash, &row("ok", true), NOW_MS).unwrap();
    assert!(matches!(
        g.check(&req("/me", &[("x-api-key", &key)]), NOW_MS),
        Decision::Allow { .. }
    ));
    lookup_for(&mut g, &req("/me", &[("x-api-key", &key)]), NOW_MS);
}

#[test]
fn no_downgrade_and_no_confusion_between_credentials() {
    let mut g = Gate::new(POLICY, &env(&[])).unwrap();
    let key = api_keys::mint(KeyEnv::Test).unwrap().key;
    let other = api_keys::mint(KeyEnv::Test).unwrap().key;
    // an invalid user token next to a key is still refused as a token
    let (code, _) = denial(&g.check(
        &req(
            "/me",
            &[("authorization", "Bearer not.a.jwt"), ("x-api-key", &key)],
        ),
        NOW_MS,
    ));
    assert_eq!(code, ErrorCode::InvalidJwt);
    let (code, why) = denial(&g.check(
        &req(
            "/me",
            &[
                ("authorization", &format!("Bearer {other}")),
                ("x-api-key", &key),
            ],
        ),
        NOW_MS,
    ));
    assert_eq!(
        (code, why.as_str()),
        (
            ErrorCode::InvalidApiKey,
            "Bearer API key differs from the x-api-key header"
        )
    );
    let (code, why) = denial(&g.check(&req("/keys-only", &[]), NOW_MS));
    assert_eq!(
        (code, why.as_str()),
        (ErrorCode::MissingCredentials, "an x-api-key is required")
    );
}

#[test]
fn the_pepper_is_required_and_rotates() {
    let mut no_pepper = env(&[]);
    no_pepper.remove("SECRET_KEY");
    let mut g = Gate::new(POLICY, &no_pepper).unwrap();
    let key = api_keys::mint(KeyEnv::Test).unwrap().key;
    let (code, why) = denial(&g.check(&req("/me", &[("x-api-key", &key)]), NOW_MS));
    assert_eq!(code, ErrorCode::Misconfigured);
    assert!(why.contains("SECRET_KEY"));
    let mut prod = no_pepper.clone();
    prod.insert("APP_ENV".into(), "production".into());
    assert!(
        Gate::new(POLICY, &prod).unwrap_err().contains("SECRET_KEY"),
        "production refuses to start"
    );
    let mut g = Gate::new(
        POLICY,
        &env(&[(
            "SECRET_KEY_PREVIOUS",
            "previous-previous-previous-previous-32",
        )]),
    )
    .unwrap();
    g.check(&req("/me", &[("x-api-key", &key)]), NOW_MS);
    let l = g.take_api_key_lookup().expect("a lookup");
    assert!(l.previous_hash.is_some(), "with both hashes");
    assert_ne!(Some(l.key_hash), l.previous_hash);
}
