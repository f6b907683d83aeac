//! Third-party issuers next to Supabase Auth through `authz::Gate`
//! (docs/issuers.md): tokens shaped like Clerk's session tokens, signed
//! here with RSA keys the test holds, the issuer's JWKS handed over as the
//! shim would after fetching it.

use edgeguard_core::auth::b64;
use edgeguard_core::authz::{Decision, Gate, Request};
use edgeguard_core::sorted_map::SortedMap;
use jwt_simple::prelude::*;
use p256::ecdsa::signature::Signer as _;
use serde_json::{json, Value};
use std::sync::OnceLock;

#[path = "support/jwt.rs"]
mod jwt;

const NOW: i64 = 1_900_000_000;
const NOW_MS: f64 = NOW as f64 * 1000.0;
const CLERK_ISS: &str = "https://clerk.example.test";
const CLERK_JWKS: &str = "https://clerk.example.test/.well-known/jwks.json";
const SUPABASE_ISS: &str = "https://proj.supabase.co/auth/v1";
const ORIGIN: &str = "https://app.example.test";

const POLICY: &str = r#"{
  "auth": ["user", "user:clerk"],
  "tenant": {"from": "path", "name": "tenant_id"},
  "routes": [
    {"method": "GET", "path": "/me", "tenant": null},
    {"method": "GET", "path": "/supabase-only", "auth": ["user"], "tenant": null},
    {"method": "GET", "path": "/clerk-only", "auth": ["user:clerk"], "tenant": null},
    {"method": "GET", "path": "/t/:tenant_id/services", "permissions": ["services:read"]},
    {"method": "POST", "path": "/t/:tenant_id/services", "roles": ["provider"], "permissions": ["services:write"]},
    {"method": "DELETE", "path": "/t/:tenant_id/services/:id", "roles": ["moderator"]}
  ]
}"#;

fn issuers_json(jwks_url: &str) -> String {
    json!({"clerk": {
        "iss": CLERK_ISS, "jwks_url": jwks_url, "algorithms": ["RS256"], "azp": [ORIGIN],
        "claims": {"tenant_id": ["org_id", "o.id"], "role": ["org_role", "o.rol"],
                   "permissions": ["org_permissions", "public_metadata.permissions"]},
        "roles": {"org:admin": "admin", "admin": "admin", "org:moderator": "moderator", "moderator": "moderator",
                  "org:provider": "provider", "provider": "provider", "org:member": "customer", "member": "customer"},
        "default_role": "guest",
        "permission_prefix": "org:",
        "cookie": "__session"
    }})
    .to_string()
}

/// Two RSA keys (generated once: slow in debug builds) and a P-256 key for Supabase.
fn rsa(i: usize) -> &'static RS256KeyPair {
    static KEYS: OnceLock<Vec<RS256KeyPair>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        ["clerk-1", "clerk-2"]
            .iter()
            .map(|kid| RS256KeyPair::generate(2048).unwrap().with_key_id(kid))
            .collect()
    })[i]
}

fn rsa_jwk(kp: &RS256KeyPair) -> Value {
    let c = kp.public_key().to_components();
    json!({"kty":"RSA","kid":kp.key_id().clone().unwrap(),"alg":"RS256","use":"sig",
           "n":b64::encode(&c.n),"e":b64::encode(&c.e)})
}

fn clerk_jwks(keys: &[usize]) -> String {
    json!({"keys": keys.iter().map(|i| rsa_jwk(rsa(*i))).collect::<Vec<_>>()}).to_string()
}

/// A token signed like Clerk's: RS256, `kid` in the header; `claims` as given.
fn clerk_token(key: usize, claims: &Value) -> String {
    let mut custom = claims.clone();
    let c = custom.as_object_mut().unwrap();
    let take_i =
        |c: &mut serde_json::Map<String, Value>, k: &str| c.remove(k).and_then(|v| v.as_u64());
    let exp = take_i(c, "exp");
    let iat = take_i(c, "iat");
    let nbf = take_i(c, "nbf");
    let sub = c.remove("sub").and_then(|v| v.as_str().map(str::to_owned));
    let iss = c.remove("iss").and_then(|v| v.as_str().map(str::to_owned));
    let mut jc = Claims::with_custom_claims(custom, Duration::from_secs(60));
    jc.expires_at = exp.map(UnixTimeStamp::from_secs);
    jc.issued_at = iat.map(UnixTimeStamp::from_secs);
    jc.invalid_before = nbf.map(UnixTimeStamp::from_secs);
    jc.subject = sub;
    jc.issuer = iss;
    rsa(key).sign(jc).unwrap()
}

/// Claims as a Clerk v1 session token carries them (docs/issuers.md).
fn clerk_claims(org_role: &str) -> Value {
    json!({"iss": CLERK_ISS, "sub": "user_2abcDEF", "sid": "sess_2xyz", "azp": ORIGIN,
           "exp": NOW + 60, "iat": NOW - 5, "nbf": NOW - 10,
           "org_id": "org_2acme", "org_slug": "acme", "org_role": org_role,
           "org_permissions": ["org:services:write"], "email": "pro@acme.test"})
}

fn with(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

struct Es(ES256KeyPair);

impl Es {
    fn new() -> Es {
        Es(ES256KeyPair::generate())
    }
    fn jwk(&self) -> Value {
        let pt = self.0.public_key().public_key().to_bytes_uncompressed();
        json!({"kty":"EC","crv":"P-256","alg":"ES256","kid":"sb1",
               "x": b64::encode(&pt[1..33]), "y": b64::encode(&pt[33..65])})
    }
    fn token(&self, claims: &Value) -> String {
        let h = json!({"alg":"ES256","typ":"JWT","kid":"sb1"});
        let input = format!(
            "{}.{}",
            b64::encode(h.to_string().as_bytes()),
            b64::encode(claims.to_string().as_bytes())
        );
        let sk: &p256::ecdsa::SigningKey = self.0.key_pair().as_ref();
        let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
        format!("{input}.{}", b64::encode(&sig.to_bytes()))
    }
}

fn supabase_claims() -> Value {
    json!({"iss": SUPABASE_ISS, "sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated",
           "aud": "authenticated", "exp": NOW + 3600, "iat": NOW - 5, "user_role": "customer",
           "tenant_id": "22222222-2222-2222-2222-222222222222"})
}

fn env_with(es: &Es, issuers: Option<&str>, app_env: &str) -> SortedMap<String, String> {
    let mut env = SortedMap::new();
    env.insert("APP_ENV".into(), app_env.into());
    env.insert(
        "SUPABASE_JWKS".into(),
        json!({"keys":[es.jwk()]}).to_string(),
    );
    if let Some(i) = issuers {
        env.insert("EDGEGUARD_ISSUERS".into(), i.into());
    }
    env
}

/// A gate with Supabase's inline key and Clerk's JWKS already fetched.
fn gate(es: &Es) -> Gate {
    let mut g = Gate::new(
        POLICY,
        &env_with(es, Some(&issuers_json(CLERK_JWKS)), "development"),
    )
    .unwrap();
    g.set_jwks_at(Some(CLERK_JWKS), &clerk_jwks(&[0]), 600, NOW_MS)
        .unwrap();
    g
}

fn check_at(g: &mut Gate, method: &str, path: &str, token: &str, now_ms: f64) -> Decision {
    let mut headers = SortedMap::new();
    headers.insert("authorization".to_string(), format!("Bearer {token}"));
    let req = Request {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers,
    };
    g.check(&req, now_ms)
}

fn check(g: &mut Gate, method: &str, path: &str, token: &str) -> Decision {
    check_at(g, method, path, token, NOW_MS)
}

fn allowed(d: &Decision) -> Value {
    let j: Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(j["ok"], true, "expected allow, got {j}");
    j["identity"].clone()
}

fn denied(d: &Decision, code: &str, reason_part: &str) {
    let j: Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(j["ok"], false, "expected denial, got {j}");
    assert_eq!(j["code"], code, "{j}");
    let reason = j["reason"].as_str().unwrap();
    assert!(
        reason.contains(reason_part),
        "reason {reason:?} lacks {reason_part:?}"
    );
}

fn refetch(d: &Decision) -> bool {
    matches!(
        d,
        Decision::Deny {
            refetch_jwks: true,
            ..
        }
    )
}

#[test]
fn a_clerk_token_is_verified_with_clerk_keys_and_mapped_to_the_identity() {
    let es = Es::new();
    let mut g = gate(&es);
    let id = allowed(&check(
        &mut g,
        "GET",
        "/me",
        &clerk_token(0, &clerk_claims("org:provider")),
    ));
    assert_eq!(id["kind"], "user");
    assert_eq!(id["sub"], "user_2abcDEF");
    assert_eq!(id["tenant_id"], "org_2acme");
    assert_eq!(id["user_role"], "provider");
    assert_eq!(id["role"], "authenticated");
    assert_eq!(id["email"], "pro@acme.test");
    // Role grants (provider and below) ∪ the token's org permissions, prefix stripped.
    assert_eq!(
        id["permissions"],
        json!([
            "orders:write",
            "public:read",
            "services:read",
            "services:write"
        ])
    );
    // The claims RLS sees are the mapped ones, plus the token's iss/azp/sid/time claims.
    let c = &id["claims"];
    assert_eq!(c["issuer"], "clerk");
    assert_eq!(c["tenant_id"], "org_2acme");
    assert_eq!(c["user_role"], "provider");
    assert_eq!(c["role"], "authenticated");
    assert_eq!(c["sid"], "sess_2xyz");
    assert_eq!(c["azp"], ORIGIN);
    assert!(
        c.get("org_role").is_none() && c.get("org_permissions").is_none(),
        "{c}"
    );
    // Supabase tokens keep working beside it, mapped as before.
    let sb = allowed(&check(&mut g, "GET", "/me", &es.token(&supabase_claims())));
    assert_eq!(sb["sub"], "11111111-1111-1111-1111-111111111111");
    assert!(sb["claims"].get("issuer").is_none());
    // Clerk's v2 shape (`o` claim) maps alike.
    let v2 = with(
        clerk_claims("x"),
        json!({"org_id": null, "org_role": null, "org_slug": null, "org_permissions": null, "v": 2,
               "o": {"id": "org_2acme", "rol": "moderator", "slg": "acme"}}),
    );
    let id2 = allowed(&check(&mut g, "GET", "/me", &clerk_token(0, &v2)));
    assert_eq!(
        (id2["tenant_id"].as_str(), id2["user_role"].as_str()),
        (Some("org_2acme"), Some("moderator"))
    );
}

#[test]
fn routes_choose_their_issuers_and_never_downgrade() {
    let es = Es::new();
    let mut g = gate(&es);
    let clerk = clerk_token(0, &clerk_claims("org:admin"));
    let sb = es.token(&supabase_claims());
    allowed(&check(&mut g, "GET", "/clerk-only", &clerk));
    allowed(&check(&mut g, "GET", "/supabase-only", &sb));
    // The Clerk token is cached now: the cache hit still checks the route's issuers.
    denied(
        &check(&mut g, "GET", "/supabase-only", &clerk),
        "INVALID_JWT",
        "tokens of issuer \"clerk\" are not accepted on this route",
    );
    denied(
        &check(&mut g, "GET", "/clerk-only", &sb),
        "INVALID_JWT",
        "the token's issuer is not accepted on this route",
    );
    // A fresh (uncached) token is refused before any key is tried.
    let other = clerk_token(
        0,
        &with(clerk_claims("org:admin"), json!({"sid": "sess_other"})),
    );
    denied(
        &check(&mut g, "GET", "/supabase-only", &other),
        "INVALID_JWT",
        "tokens of issuer \"clerk\" are not accepted",
    );
    // An `iss` no issuer has is Supabase's to verify: a route without `user` refuses it.
    let unknown = clerk_token(
        0,
        &with(
            clerk_claims("org:admin"),
            json!({"iss": "https://evil.example"}),
        ),
    );
    denied(
        &check(&mut g, "GET", "/clerk-only", &unknown),
        "INVALID_JWT",
        "not accepted on this route",
    );
}

#[test]
fn the_right_key_with_the_wrong_issuer_is_refused() {
    let es = Es::new();
    let mut g = gate(&es);
    // Clerk's key, Supabase's iss: tried with Supabase's keys only (no kid there).
    let forged = clerk_token(
        0,
        &with(clerk_claims("org:admin"), json!({"iss": SUPABASE_ISS})),
    );
    denied(
        &check(&mut g, "GET", "/me", &forged),
        "INVALID_JWT",
        "unknown kid",
    );
    // Supabase's key, Clerk's iss: tried with Clerk's keys only.
    let forged = es.token(&with(
        supabase_claims(),
        json!({"iss": CLERK_ISS, "azp": ORIGIN}),
    ));
    let d = check(&mut g, "GET", "/me", &forged);
    denied(
        &d,
        "INVALID_JWT",
        "alg \"ES256\" is not accepted for issuer \"clerk\"",
    );
    // Clerk's key with a kid Clerk has, signed by another RSA key: bad signature.
    let mut stolen_kid = clerk_token(1, &clerk_claims("org:admin"));
    let (h, rest) = stolen_kid.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&b64::decode(h.as_bytes()).unwrap()).unwrap();
    assert_eq!(header["kid"], "clerk-2");
    let fake = b64::encode(
        json!({"alg":"RS256","typ":"JWT","kid":"clerk-1"})
            .to_string()
            .as_bytes(),
    );
    stolen_kid = format!("{fake}.{rest}");
    denied(
        &check(&mut g, "GET", "/me", &stolen_kid),
        "INVALID_JWT",
        "bad signature",
    );
}

#[test]
fn hs256_with_the_rsa_public_key_as_secret_is_refused() {
    let es = Es::new();
    let mut g = gate(&es);
    let pem = rsa(0).public_key().to_pem().unwrap();
    let jwk = rsa_jwk(rsa(0)).to_string();
    for secret in [
        pem.as_bytes(),
        jwk.as_bytes(),
        &rsa(0).public_key().to_components().n[..],
    ] {
        for header in [
            json!({"alg":"HS256","typ":"JWT","kid":"clerk-1"}),
            json!({"alg":"HS256","typ":"JWT"}),
        ] {
            let t = jwt::hs256_token(secret, &header, &clerk_claims("org:admin"));
            denied(
                &check(&mut g, "GET", "/me", &t),
                "INVALID_JWT",
                "alg \"HS256\" is not accepted for issuer \"clerk\"",
            );
        }
    }
    // Even an issuer configured with no RS256 restriction never gets a shared secret.
    let mut g2 = Gate::new(
        POLICY,
        &env_with(
            &es,
            Some(&issuers_json(CLERK_JWKS).replace("RS256", "HS256")),
            "development",
        ),
    )
    .unwrap();
    denied(
        &check(
            &mut g2,
            "GET",
            "/clerk-only",
            &clerk_token(0, &clerk_claims("org:admin")),
        ),
        "MISCONFIGURED",
        "HS256 is refused for a third-party issuer",
    );
}

#[test]
fn claim_rules_azp_expiry_and_the_cache() {
    let es = Es::new();
    let mut g = gate(&es);
    let cases = [
        (json!({"azp": "https://evil.example"}), "azp"),
        (json!({"azp": null}), "token has no azp"),
        (json!({"exp": NOW - 120}), "token expired"),
        (json!({"nbf": NOW + 600}), "not yet valid"),
        (json!({"exp": null}), "token has no exp"),
        (json!({"sub": null}), "token has no sub"),
        (
            json!({"org_id": "org 2; drop table"}),
            "tenant claim is malformed",
        ),
    ];
    for (patch, reason) in cases {
        let t = clerk_token(0, &with(clerk_claims("org:admin"), patch.clone()));
        denied(&check(&mut g, "GET", "/me", &t), "INVALID_JWT", reason);
    }
    assert_eq!(g.cached_tokens(), 0, "refused tokens are never cached");
    // A cached token expires like any other (Clerk's tokens live 60 s).
    let t = clerk_token(0, &clerk_claims("org:admin"));
    allowed(&check(&mut g, "GET", "/me", &t));
    assert_eq!(g.cached_tokens(), 1);
    denied(
        &check_at(&mut g, "GET", "/me", &t, NOW_MS + 120_000.0),
        "INVALID_JWT",
        "token expired",
    );
}

#[test]
fn mapping_edge_cases_missing_org_and_unknown_roles() {
    let es = Es::new();
    let mut g = gate(&es);
    // No active organization: no tenant, the default role (guest).
    let no_org = with(
        clerk_claims("x"),
        json!({"org_id": null, "org_role": null, "org_slug": null, "org_permissions": null}),
    );
    let t = clerk_token(0, &no_org);
    let id = allowed(&check(&mut g, "GET", "/me", &t));
    assert_eq!(
        (id["tenant_id"].clone(), id["user_role"].clone()),
        (Value::Null, json!("guest"))
    );
    denied(
        &check(&mut g, "GET", "/t/org_2acme/services", &t),
        "TENANT_MISMATCH",
        "token has no tenant_id",
    );
    // A role the map does not know (a new custom Clerk role): no role, no role grants.
    let t = clerk_token(
        0,
        &with(clerk_claims("org:billing"), json!({"org_permissions": []})),
    );
    let id = allowed(&check(&mut g, "GET", "/me", &t));
    assert_eq!(id["user_role"], Value::Null);
    assert_eq!(id["permissions"], json!([]));
    denied(
        &check(&mut g, "GET", "/t/org_2acme/services", &t),
        "FORBIDDEN",
        "permission services:read required",
    );
    // Tenant isolation by the issuer's org id; ladder and permissions as for any user.
    let member = clerk_token(
        0,
        &with(clerk_claims("org:member"), json!({"org_permissions": []})),
    );
    allowed(&check(&mut g, "GET", "/t/org_2acme/services", &member));
    denied(
        &check(&mut g, "GET", "/t/org_2other/services", &member),
        "TENANT_MISMATCH",
        "another tenant",
    );
    denied(
        &check(&mut g, "POST", "/t/org_2acme/services", &member),
        "FORBIDDEN",
        "role provider required",
    );
    let provider = clerk_token(0, &clerk_claims("org:provider"));
    allowed(&check(&mut g, "POST", "/t/org_2acme/services", &provider));
    denied(
        &check(&mut g, "DELETE", "/t/org_2acme/services/s1", &provider),
        "FORBIDDEN",
        "role moderator required",
    );
    // Permissions from public_metadata (a custom session-token claim) join the org ones.
    let meta = clerk_token(
        0,
        &with(
            clerk_claims("org:member"),
            json!({"public_metadata": {"permissions": ["reports:read", "BAD PERM"]}}),
        ),
    );
    let id = allowed(&check(&mut g, "GET", "/me", &meta));
    let perms: Vec<&str> = id["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        perms.contains(&"reports:read") && perms.contains(&"services:write"),
        "{perms:?}"
    );
    assert!(!perms.iter().any(|p| p.contains(' ')));
}

#[test]
fn the_issuers_jwks_is_fetched_on_demand_kept_when_down_and_rotated() {
    let es = Es::new();
    let mut g = Gate::new(
        POLICY,
        &env_with(&es, Some(&issuers_json(CLERK_JWKS)), "development"),
    )
    .unwrap();
    let t1 = clerk_token(0, &clerk_claims("org:admin"));
    // Never fetched: the gate names the URL to fetch and asks to decide again.
    let d = check(&mut g, "GET", "/me", &t1);
    denied(
        &d,
        "UNAVAILABLE",
        "keys of issuer \"clerk\" are being fetched",
    );
    assert!(refetch(&d));
    assert_eq!(g.take_jwks_fetch().as_deref(), Some(CLERK_JWKS));
    assert_eq!(g.take_jwks_fetch(), None, "taken");
    // Unreachable: the fetch failed; no fetch storm during the backoff.
    g.jwks_fetch_failed_at(Some(CLERK_JWKS), NOW_MS);
    let d = check_at(&mut g, "GET", "/me", &t1, NOW_MS + 5_000.0);
    denied(&d, "UNAVAILABLE", "could not be fetched");
    assert!(!refetch(&d) && g.take_jwks_fetch().is_none());
    // Supabase tokens are not affected by Clerk being down.
    allowed(&check_at(
        &mut g,
        "GET",
        "/me",
        &es.token(&supabase_claims()),
        NOW_MS + 5_000.0,
    ));
    // After the backoff it asks again; the document arrives.
    let d = check_at(&mut g, "GET", "/me", &t1, NOW_MS + 11_000.0);
    assert!(refetch(&d) && g.take_jwks_fetch().is_some());
    g.set_jwks_at(Some(CLERK_JWKS), &clerk_jwks(&[0]), 600, NOW_MS)
        .unwrap();
    allowed(&check(&mut g, "GET", "/me", &t1));
    // Stale after max-age: asks again; the endpoint is down: the kept keys serve.
    let t1b = clerk_token(
        0,
        &with(
            clerk_claims("org:admin"),
            json!({"exp": NOW + 3600, "sid": "s2"}),
        ),
    );
    let later = NOW_MS + 601_000.0;
    assert!(refetch(&check_at(&mut g, "GET", "/me", &t1b, later)));
    assert_eq!(g.take_jwks_fetch().as_deref(), Some(CLERK_JWKS));
    g.jwks_fetch_failed_at(Some(CLERK_JWKS), later);
    allowed(&check_at(&mut g, "GET", "/me", &t1b, later));
    // Rotation: an unknown kid asks for a refetch (once per 30 s), the new set flushes the cache.
    let t2 = clerk_token(1, &clerk_claims("org:admin"));
    let d = check(&mut g, "GET", "/me", &t2);
    denied(&d, "INVALID_JWT", "unknown kid");
    assert!(refetch(&d));
    assert_eq!(g.take_jwks_fetch().as_deref(), Some(CLERK_JWKS));
    // While that fetch is in flight another request joins it; once the host
    // reports a document still without the kid, the cooldown applies.
    assert!(refetch(&check(&mut g, "GET", "/me", &t2)), "joins the fetch in flight");
    g.set_jwks_at(Some(CLERK_JWKS), &clerk_jwks(&[0]), 600, NOW_MS)
        .unwrap();
    let d = check(&mut g, "GET", "/me", &t2);
    assert!(!refetch(&d) && g.take_jwks_fetch().is_none(), "throttled");
    assert!(g.cached_tokens() > 0);
    g.set_jwks_at(Some(CLERK_JWKS), &clerk_jwks(&[1]), 600, NOW_MS)
        .unwrap();
    assert_eq!(g.cached_tokens(), 0, "the key set changed: cache flushed");
    allowed(&check(&mut g, "GET", "/me", &t2));
    denied(
        &check(&mut g, "GET", "/me", &t1),
        "INVALID_JWT",
        "unknown kid",
    );
    // A URL that is no issuer's is refused; Supabase's JWKS is untouched.
    assert!(g
        .set_jwks_at(
            Some("https://other.example/jwks"),
            &clerk_jwks(&[0]),
            600,
            NOW_MS
        )
        .is_err());
    allowed(&check(&mut g, "GET", "/me", &es.token(&supabase_claims())));
}

#[test]
fn issuer_configuration_errors_fail_only_the_routes_that_name_issuers() {
    let es = Es::new();
    let sb = es.token(&supabase_claims());
    let clerk = clerk_token(0, &clerk_claims("org:admin"));
    // Not configured at all: routes naming clerk answer MISCONFIGURED (outside production).
    let mut g = Gate::new(POLICY, &env_with(&es, None, "development")).unwrap();
    denied(
        &check(&mut g, "GET", "/clerk-only", &clerk),
        "MISCONFIGURED",
        "does not configure",
    );
    allowed(&check(&mut g, "GET", "/supabase-only", &sb));
    // Malformed, or mapping to a role off this policy's ladder.
    let bad_role = issuers_json(CLERK_JWKS).replace("\"admin\":\"admin\"", "\"admin\":\"root\"");
    assert!(bad_role.contains("root"));
    for (env, reason) in [
        ("{\"clerk\":{\"iss\":\"x\"}}".to_string(), "missing field"),
        (
            bad_role.clone(),
            "\"root\" is not a role of the policy's ladder",
        ),
        (
            issuers_json("http://clerk.example.test/jwks"),
            "JWKS URL must be https",
        ),
    ] {
        let mut g = Gate::new(POLICY, &env_with(&es, Some(&env), "development")).unwrap();
        denied(
            &check(&mut g, "GET", "/me", &clerk),
            "MISCONFIGURED",
            reason,
        );
        allowed(&check(&mut g, "GET", "/supabase-only", &sb));
        // Production refuses to start instead.
        let e = Gate::new(POLICY, &env_with(&es, Some(&env), "production")).unwrap_err();
        assert!(e.contains(reason), "{e}");
    }
    let e = Gate::new(POLICY, &env_with(&es, None, "production")).unwrap_err();
    assert!(e.contains("does not configure"), "{e}");
    // An issuer no route names costs nothing and is never used.
    let plain = r#"{"routes":[{"method":"GET","path":"/me"}]}"#;
    let mut g = Gate::new(plain, &env_with(&es, Some(&bad_role), "production")).unwrap();
    denied(
        &check(&mut g, "GET", "/me", &clerk),
        "INVALID_JWT",
        "tokens of issuer \"clerk\" are not accepted",
    );
    allowed(&check(&mut g, "GET", "/me", &sb));
    // `user:<issuer>` is a user mode: roles and tenants are allowed with it alone.
    let only = r#"{"auth":["user:clerk"],"routes":[{"method":"GET","path":"/t/:tenant_id","roles":["admin"],"tenant":{"from":"path","name":"tenant_id"}}]}"#;
    let mut g = Gate::new(
        only,
        &env_with(&es, Some(&issuers_json(CLERK_JWKS)), "production"),
    )
    .unwrap();
    g.set_jwks_at(Some(CLERK_JWKS), &clerk_jwks(&[0]), 600, NOW_MS)
        .unwrap();
    allowed(&check(&mut g, "GET", "/t/org_2acme", &clerk));
    assert!(Gate::new(
        r#"{"auth":["user:Clerk"],"routes":[{"method":"GET","path":"/"}]}"#,
        &SortedMap::new()
    )
    .is_err());
}

fn with_headers(g: &mut Gate, path: &str, headers: &[(&str, &str)]) -> Decision {
    let req = Request {
        method: "GET".into(),
        path: path.into(),
        query: String::new(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    g.check(&req, NOW_MS)
}

#[test]
fn a_browser_session_cookie_authenticates_only_for_its_issuer() {
    let es = Es::new();
    let mut g = gate(&es);
    assert_eq!(
        g.tenant_header_names(),
        vec!["cookie"],
        "the shim must hand over the cookie"
    );
    let clerk = clerk_token(0, &clerk_claims("org:member"));
    let cookie = format!("theme=dark; __session={clerk}; other=1");
    let id = allowed(&with_headers(&mut g, "/clerk-only", &[("cookie", &cookie)]));
    assert_eq!(id["sub"], "user_2abcDEF");
    // A route that does not accept the issuer ignores its cookie: no credential.
    denied(
        &with_headers(&mut g, "/supabase-only", &[("cookie", &cookie)]),
        "MISSING_CREDENTIALS",
        "Bearer",
    );
    // A Supabase token planted in the issuer's cookie is not accepted.
    let planted = format!("__session={}", es.token(&supabase_claims()));
    denied(
        &with_headers(&mut g, "/me", &[("cookie", &planted)]),
        "INVALID_JWT",
        "session cookie holds a token of another issuer",
    );
    // A header credential wins over the cookie (and must verify on its own).
    let sb = es.token(&supabase_claims());
    let auth = format!("Bearer {sb}");
    let id = allowed(&with_headers(
        &mut g,
        "/me",
        &[("cookie", &cookie), ("authorization", &auth)],
    ));
    assert_eq!(id["sub"], "11111111-1111-1111-1111-111111111111");
    denied(
        &with_headers(
            &mut g,
            "/me",
            &[("cookie", &cookie), ("authorization", "Bearer x.y.z")],
        ),
        "INVALID_JWT",
        "",
    );
    // Without a cookie name configured, cookies are never read.
    let mut plain = Gate::new(
        POLICY,
        &env_with(
            &es,
            Some(&issuers_json(CLERK_JWKS).replace(",\"cookie\":\"__session\"", "")),
            "development",
        ),
    )
    .unwrap();
    assert!(plain.tenant_header_names().is_empty());
    plain
        .set_jwks_at(Some(CLERK_JWKS), &clerk_jwks(&[0]), 600, NOW_MS)
        .unwrap();
    denied(
        &with_headers(&mut plain, "/clerk-only", &[("cookie", &cookie)]),
        "MISSING_CREDENTIALS",
        "",
    );
}
