//! The environments the platform really gives a function (docs/platform.md):
//! `supabase start` without signing keys (one kid-less `oct` key in
//! `SUPABASE_JWKS`, `SUPABASE_URL=http://kong:8000`, no JWT secret), with
//! asymmetric signing keys, and hosted (platform markers, `APP_ENV` unset).

use edgeguard_core::app_env::AppEnv;
use edgeguard_core::auth::b64;
use edgeguard_core::auth::config::{check_jwks_url, is_loopback_host};
use edgeguard_core::authz::{Decision, Gate, Request};
use edgeguard_core::sorted_map::SortedMap;
use jwt_simple::prelude::*;
use p256::ecdsa::signature::Signer as _;
use serde_json::{json, Value};


#[path = "support/jwt.rs"]
mod jwt;
const NOW: i64 = 1_900_000_000;
const NOW_MS: f64 = NOW as f64 * 1000.0;
/// The JWT secret `supabase start` uses by default.
const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const PUB: &str = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
const SEC: &str = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

const POLICY: &str = r#"{
  "auth": ["user"],
  "routes": [
    {"method": "GET", "path": "/me"},
    {"method": "GET", "path": "/either", "auth": ["user", "publishable"]},
    {"method": "GET", "path": "/pub", "auth": ["publishable"]},
    {"method": "GET", "path": "/cron", "auth": ["secret"]},
    {"method": "GET", "path": "/health", "auth": ["none"]}
  ]
}"#;

fn hs(secret: &[u8], header: Value, claims: &Value) -> String {
    jwt::hs256_token(secret, &header, claims)
}

struct Es(ES256KeyPair, &'static str);

impl Es {
    fn jwk(&self) -> Value {
        let pt = self.0.public_key().public_key().to_bytes_uncompressed();
        json!({"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":self.1,
               "x": b64::encode(&pt[1..33]), "y": b64::encode(&pt[33..65])})
    }
    fn token(&self, claims: &Value) -> String {
        let header = json!({"alg":"ES256","typ":"JWT","kid":self.1});
        let input = format!(
            "{}.{}",
            b64::encode(header.to_string().as_bytes()),
            b64::encode(claims.to_string().as_bytes())
        );
        let sk: &p256::ecdsa::SigningKey = self.0.key_pair().as_ref();
        let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
        format!("{input}.{}", b64::encode(&sig.to_bytes()))
    }
}

fn user() -> Value {
    json!({"sub":"11111111-1111-1111-1111-111111111111","role":"authenticated","aud":"authenticated",
           "exp":NOW+3600,"iat":NOW-10,"aal":"aal1","is_anonymous":false})
}

/// What the gateway of `supabase start` sends for a key caller: the legacy anon/service_role JWT.
fn gateway_jwt(role: &str) -> String {
    hs(
        SECRET.as_bytes(),
        json!({"alg":"HS256","typ":"JWT"}),
        &json!({"iss":"supabase-demo","role":role,"exp":NOW+3600}),
    )
}

fn env(pairs: &[(&str, String)]) -> SortedMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn keys_env() -> Vec<(&'static str, String)> {
    vec![
        ("SUPABASE_URL", "http://kong:8000".into()),
        ("SUPABASE_DB_URL", "postgresql://postgres:postgres@db:5432/postgres".into()),
        ("SUPABASE_ANON_KEY", gateway_jwt("anon")),
        ("SUPABASE_SERVICE_ROLE_KEY", gateway_jwt("service_role")),
        ("SUPABASE_PUBLISHABLE_KEYS", json!({"default": PUB}).to_string()),
        ("SUPABASE_SECRET_KEYS", json!({"default": SEC}).to_string()),
    ]
}

fn start_legacy() -> SortedMap<String, String> {
    let mut e = keys_env();
    let oct = json!({"keys": [{"kty": "oct", "k": b64::encode(SECRET.as_bytes())}]});
    e.push(("SUPABASE_JWKS", oct.to_string()));
    env(&e)
}

fn start_signing_keys(k: &Es) -> SortedMap<String, String> {
    let mut e = keys_env();
    e.push(("SUPABASE_JWKS", json!({"keys": [k.jwk()]}).to_string()));
    env(&e)
}

fn hosted(k: &Es) -> SortedMap<String, String> {
    let mut e = start_signing_keys(k);
    e.insert("SUPABASE_URL".into(), "https://abcdefghij.supabase.co".into());
    e.insert("SB_REGION".into(), "eu-central-1".into());
    e.insert("DENO_DEPLOYMENT_ID".into(), "abcdefghij_0001".into());
    e
}

fn check(g: &mut Gate, path: &str, headers: &[(&str, &str)]) -> Decision {
    let r = Request {
        method: "GET".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        ..Default::default()
    };
    g.check(&r, NOW_MS)
}

#[track_caller]
fn ok(d: &Decision) -> Value {
    match d {
        Decision::Allow { .. } => serde_json::from_str::<Value>(&d.to_json()).unwrap()["identity"].clone(),
        Decision::Deny { denial, .. } => panic!("denied: {denial}"),
    }
}

#[track_caller]
fn no(d: &Decision, code: &str, part: &str) {
    match d {
        Decision::Deny { denial, .. } => {
            assert_eq!(denial.code.as_str(), code, "{}", denial.reason);
            assert!(denial.reason.contains(part), "{:?} lacks {part:?}", denial.reason);
        }
        Decision::Allow { .. } => panic!("allowed, expected {code} ({part})"),
    }
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

#[test]
fn start_legacy_verifies_hs256_with_the_oct_key() {
    let e = start_legacy();
    assert_eq!(AppEnv::from_env(&e), Ok(AppEnv::Development));
    let mut g = Gate::new(POLICY, &e).expect("supabase start env must be usable");
    ok(&check(&mut g, "/health", &[]));
    // The token GoTrue signs with the project's JWT secret, no kid.
    let t = hs(SECRET.as_bytes(), json!({"alg":"HS256","typ":"JWT"}), &user());
    let id = ok(&check(&mut g, "/me", &[("authorization", &bearer(&t))]));
    assert_eq!(id["sub"], "11111111-1111-1111-1111-111111111111");
    // With a kid the JWKS does not name, the shared secret still decides.
    let t = hs(SECRET.as_bytes(), json!({"alg":"HS256","kid":"legacy"}), &user());
    ok(&check(&mut g, "/me", &[("authorization", &bearer(&t))]));
    // Another secret fails; an ES256 token has no key here.
    let t = hs(b"another-secret-another-secret-another-secret", json!({"alg":"HS256"}), &user());
    no(&check(&mut g, "/me", &[("authorization", &bearer(&t))]), "INVALID_JWT", "bad signature");
    let es = Es(ES256KeyPair::generate(), "k1");
    no(
        &check(&mut g, "/me", &[("authorization", &bearer(&es.token(&user())))]),
        "INVALID_JWT",
        "unknown kid",
    );
}

#[test]
fn gateway_key_calls_are_decided_by_the_key() {
    // What arrives after the local gateway rewrote a key caller's headers.
    let es = Es(ES256KeyPair::generate(), "k1");
    for mut g in [
        Gate::new(POLICY, &start_legacy()).unwrap(),
        Gate::new(POLICY, &start_signing_keys(&es)).unwrap(),
    ] {
        let anon = bearer(&gateway_jwt("anon"));
        let service = bearer(&gateway_jwt("service_role"));
        let id = ok(&check(&mut g, "/either", &[("authorization", &anon), ("apikey", PUB)]));
        assert_eq!(id["kind"], "publishable");
        ok(&check(&mut g, "/pub", &[("authorization", &anon), ("apikey", PUB)]));
        let id = ok(&check(&mut g, "/cron", &[("authorization", &service), ("apikey", SEC)]));
        assert_eq!(id["kind"], "secret");
        // No downgrade: a user token with a key is still verified as a user token.
        let forged = hs(b"not-the-secret-not-the-secret-not-the-secret", json!({"alg":"HS256"}), &user());
        no(
            &check(&mut g, "/either", &[("authorization", &bearer(&forged)), ("apikey", PUB)]),
            "INVALID_JWT",
            "",
        );
        // A gateway token without the key proves nothing.
        no(&check(&mut g, "/me", &[("authorization", &anon)]), "INVALID_JWT", "");
        // A wrong key with a gateway token is still a wrong key.
        no(
            &check(&mut g, "/pub", &[("authorization", &anon), ("apikey", "sb_publishable_wrong")]),
            "INVALID_API_KEY",
            "",
        );
    }
}

#[test]
fn signing_keys_profile_verifies_es256_and_refuses_hs256_confusion() {
    let es = Es(ES256KeyPair::generate(), "k1");
    for e in [start_signing_keys(&es), hosted(&es)] {
        let mut g = Gate::new(POLICY, &e).unwrap();
        ok(&check(&mut g, "/health", &[]));
        ok(&check(&mut g, "/me", &[("authorization", &bearer(&es.token(&user())))]));
        // An HS256 token whose kid names the EC key: refused (the key decides the algorithm).
        let t = hs(SECRET.as_bytes(), json!({"alg":"HS256","kid":"k1"}), &user());
        no(
            &check(&mut g, "/me", &[("authorization", &bearer(&t))]),
            "INVALID_JWT",
            "does not match the key's algorithm ES256",
        );
        let t = hs(SECRET.as_bytes(), json!({"alg":"HS256"}), &user());
        no(
            &check(&mut g, "/me", &[("authorization", &bearer(&t))]),
            "INVALID_JWT",
            "only asymmetric keys",
        );
    }
}

#[test]
fn hs256_with_an_ec_kid_is_refused_even_with_a_jwt_secret() {
    // Before: an HS256 token naming the EC key's kid was verified with JWT_SECRET.
    let es = Es(ES256KeyPair::generate(), "k1");
    let mut e = start_signing_keys(&es);
    e.insert("JWT_SECRET".into(), SECRET.into());
    let mut g = Gate::new(POLICY, &e).unwrap();
    let t = hs(SECRET.as_bytes(), json!({"alg":"HS256","kid":"k1"}), &user());
    no(
        &check(&mut g, "/me", &[("authorization", &bearer(&t))]),
        "INVALID_JWT",
        "does not match",
    );
    // Without a kid, the legacy secret still verifies.
    let t = hs(SECRET.as_bytes(), json!({"alg":"HS256"}), &user());
    ok(&check(&mut g, "/me", &[("authorization", &bearer(&t))]));
}

#[test]
fn hosted_is_production_without_app_env() {
    let es = Es(ES256KeyPair::generate(), "k1");
    let e = hosted(&es);
    assert_eq!(AppEnv::from_env(&e), Ok(AppEnv::Production));
    Gate::new(POLICY, &e).expect("hosted env is complete");
    // Production refuses to start a user route without keys.
    let mut bare = e.clone();
    bare.remove("SUPABASE_JWKS");
    bare.remove("SUPABASE_URL");
    assert!(Gate::new(POLICY, &bare).unwrap_err().contains("a user route needs"));
    // A kong-style http URL is refused in production.
    bare.insert("SUPABASE_URL".into(), "http://kong:8000".into());
    assert!(Gate::new(POLICY, &bare).unwrap_err().contains("https in production"));
}

#[test]
fn no_jwks_at_all_breaks_only_user_routes() {
    let e = env(&[("SUPABASE_PUBLISHABLE_KEYS", json!({"default": PUB}).to_string())]);
    let mut g = Gate::new(POLICY, &e).unwrap();
    ok(&check(&mut g, "/health", &[]));
    ok(&check(&mut g, "/pub", &[("apikey", PUB)]));
    let t = hs(SECRET.as_bytes(), json!({"alg":"HS256"}), &user());
    no(&check(&mut g, "/me", &[("authorization", &bearer(&t))]), "MISCONFIGURED", "no usable verification keys");
    // An oct-only JWKS with a short key breaks user routes only, naming the variable.
    let mut e = e;
    e.insert("SUPABASE_JWKS".into(), json!({"keys":[{"kty":"oct","k":b64::encode(b"short")}]}).to_string());
    let mut g = Gate::new(POLICY, &e).unwrap();
    ok(&check(&mut g, "/health", &[]));
    no(&check(&mut g, "/me", &[("authorization", &bearer(&t))]), "MISCONFIGURED", "SUPABASE_JWKS");
}

#[test]
fn jwks_url_rule() {
    let dev = AppEnv::Development;
    for ok_url in [
        "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
        "http://kong:8000/auth/v1/.well-known/jwks.json",
        "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json",
        "http://127.0.0.2:54321/jwks",
        "http://localhost/jwks",
        "http://[::1]:9/jwks",
        "HTTP://KONG:8000/jwks",
    ] {
        assert_eq!(check_jwks_url(ok_url, dev), Ok(()), "{ok_url}");
    }
    for bad in [
        "http://127.evil.com/jwks",
        "http://evil.example.com/jwks",
        "http://10.0.0.1/jwks",
        "http://2130706433/jwks",
        "http://-kong/jwks",
        "http://user:pw@kong/jwks",
        "ftp://kong/jwks",
        "kong/jwks",
    ] {
        assert!(check_jwks_url(bad, dev).is_err(), "{bad}");
    }
    for prod_bad in ["http://kong:8000/jwks", "http://127.0.0.1/jwks"] {
        assert!(check_jwks_url(prod_bad, AppEnv::Production).is_err(), "{prod_bad}");
    }
    assert!(check_jwks_url("https://x.supabase.co/jwks", AppEnv::Production).is_ok());
    assert!(is_loopback_host("127.0.0.9"));
    assert!(is_loopback_host("[::1]"));
    assert!(!is_loopback_host("127.evil.com"));
    assert!(!is_loopback_host("127.0.0.1.nip.io"));
}
