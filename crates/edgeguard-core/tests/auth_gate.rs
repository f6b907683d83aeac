//! Authentication and authorisation end to end through `authz::Gate`:
//! tokens made here (jwt-simple keys, and by hand for malformed headers),
//! every refusal asserted with its code and precise reason.

use edgeguard_core::auth::b64;
use edgeguard_core::authz::{Decision, Gate, Request, TenantCheck};
use edgeguard_core::sorted_map::SortedMap;
use jwt_simple::prelude::*;
use p256::ecdsa::signature::Signer as _;
use serde_json::{json, Value};


#[path = "support/jwt.rs"]
mod jwt;
const NOW: i64 = 1_900_000_000;
const NOW_MS: f64 = NOW as f64 * 1000.0;
const HS_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const PUB: &str = "sb_publishable_AAAAAAAAAAAAAAAAAAAAAA_0000000";
const PUB_WEB: &str = "sb_publishable_BBBBBBBBBBBBBBBBBBBBBB_1111111";
const SECRET: &str = "sb_secret_CCCCCCCCCCCCCCCCCCCCCC_2222222";
const SECRET_CRON: &str = "sb_secret_DDDDDDDDDDDDDDDDDDDDDD_3333333";

struct Es {
    kp: ES256KeyPair,
    kid: String,
}

impl Es {
    fn new(kid: &str) -> Es {
        Es {
            kp: ES256KeyPair::generate(),
            kid: kid.into(),
        }
    }
    fn jwk(&self) -> Value {
        let pt = self.kp.public_key().public_key().to_bytes_uncompressed();
        json!({"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":self.kid,
               "x": b64::encode(&pt[1..33]), "y": b64::encode(&pt[33..65])})
    }
    fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }
    fn sign_bytes(&self, header: &[u8], claims: &[u8]) -> String {
        let input = format!("{}.{}", b64::encode(header), b64::encode(claims));
        let sk: &p256::ecdsa::SigningKey = self.kp.key_pair().as_ref();
        let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
        format!("{input}.{}", b64::encode(&sig.to_bytes()))
    }
    fn token(&self, claims: &Value) -> String {
        self.sign_raw(&json!({"alg":"ES256","typ":"JWT","kid":self.kid}), claims)
    }
}

use jwt::hs256_token as hs_token;

fn claims() -> Value {
    json!({"sub":"11111111-1111-1111-1111-111111111111","role":"authenticated","aud":"authenticated",
           "email":"ann@example.com","exp":NOW+3600,"iat":NOW-10,"aal":"aal1","is_anonymous":false,
           "user_role":"customer","tenant_id":"t1","iss":"https://proj.supabase.co/auth/v1"})
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

const POLICY: &str = r#"{
  "auth": ["user"],
  "audience": "authenticated",
  "routes": [
    {"method": "GET", "path": "/me"},
    {"method": "GET", "path": "/anon-ok", "allow_anonymous": true},
    {"method": "GET", "path": "/t/:tenant_id/members", "tenant": {"from": "path", "name": "tenant_id"}, "roles": ["moderator"]},
    {"method": "PATCH", "path": "/t/:tenant_id/members/:user_id", "tenant": {"from": "path", "name": "tenant_id"}, "roles": ["admin"], "permissions": ["users:write"], "aal": "aal2"},
    {"method": "GET", "path": "/q", "tenant": {"from": "query", "name": "tenant"}},
    {"method": "POST", "path": "/b", "tenant": {"from": "body", "name": "tenant_id"}},
    {"method": "GET", "path": "/h", "tenant": {"from": "header", "name": "x-tenant-id"}},
    {"method": "GET", "path": "/perm", "permissions": ["reports:read"]},
    {"method": "GET", "path": "/mixed", "auth": ["user", "publishable"]},
    {"method": "GET", "path": "/pub", "auth": ["publishable"]},
    {"method": "GET", "path": "/pub-web", "auth": ["publishable:web"]},
    {"method": "GET", "path": "/cron", "auth": ["secret:cron"]},
    {"method": "GET", "path": "/any-secret", "auth": ["secret:*"]},
    {"method": "GET", "path": "/health", "auth": ["none"]}
  ]
}"#;

fn env(extra: &[(&str, &str)]) -> SortedMap<String, String> {
    let mut e = SortedMap::new();
    e.insert(
        "SUPABASE_PUBLISHABLE_KEYS".into(),
        json!({"default": PUB, "web": PUB_WEB}).to_string(),
    );
    e.insert(
        "SUPABASE_SECRET_KEYS".into(),
        json!({"default": SECRET, "cron": SECRET_CRON}).to_string(),
    );
    e.insert(
        "ADMIN_EMAILS".into(),
        "Boss@Example.com, other@example.com".into(),
    );
    for (k, v) in extra {
        e.insert((*k).into(), (*v).into());
    }
    e
}

fn inline_gate(keys: &[&Es]) -> Gate {
    let jwks = json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string();
    Gate::new(
        POLICY,
        &env(&[("SUPABASE_JWKS", &jwks), ("JWT_SECRET", HS_SECRET)]),
    )
    .unwrap()
}

fn req(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        ..Default::default()
    }
}

fn bearer(gate: &mut Gate, path: &str, token: &str) -> Decision {
    let auth = format!("Bearer {token}");
    gate.check(&req("GET", path, &[("authorization", &auth)]), NOW_MS)
}

#[track_caller]
fn denied(d: &Decision, code: &str, reason_part: &str) {
    match d {
        Decision::Deny { denial, .. } => {
            assert_eq!(denial.code.as_str(), code, "reason was {:?}", denial.reason);
            assert!(
                denial.reason.contains(reason_part),
                "reason {:?} lacks {:?}",
                denial.reason,
                reason_part
            );
        }
        Decision::Allow { route, .. } => {
            panic!("allowed on {route}, expected {code} ({reason_part})")
        }
    }
}

#[track_caller]
fn allowed(d: &Decision) -> Value {
    match d {
        Decision::Allow { .. } => {
            serde_json::from_str::<Value>(&d.to_json()).unwrap()["identity"].clone()
        }
        Decision::Deny { denial, .. } => panic!("denied: {denial}"),
    }
}

#[test]
fn valid_es256_token_gives_identity() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let d = bearer(&mut g, "/me", &k.token(&claims()));
    let id = allowed(&d);
    assert_eq!(id["kind"], "user");
    assert_eq!(id["sub"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(id["user_role"], "customer");
    assert_eq!(id["tenant_id"], "t1");
    assert_eq!(id["claims"]["iss"], "https://proj.supabase.co/auth/v1");
    assert!(id["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "orders:write"));
    assert!(
        id["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "public:read"),
        "inherited from guest"
    );
    assert!(
        !id["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "services:write"),
        "provider's, not customer's"
    );
    let j: Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["route"], "GET /me");
}

#[test]
fn rs256_eddsa_and_hs256_tokens_verify() {
    let rsa = RS256KeyPair::generate(2048).unwrap().with_key_id("rsa1");
    let ed = Ed25519KeyPair::generate().with_key_id("ed1");
    let c = rsa.public_key().to_components();
    let jwks = json!({"keys":[
        {"kty":"RSA","kid":"rsa1","alg":"RS256","n":b64::encode(&c.n),"e":b64::encode(&c.e)},
        {"kty":"OKP","crv":"Ed25519","kid":"ed1","x":b64::encode(&ed.public_key().to_bytes())}
    ]})
    .to_string();
    let mut g = Gate::new(
        POLICY,
        &env(&[("SUPABASE_JWKS", &jwks), ("JWT_SECRET", HS_SECRET)]),
    )
    .unwrap();
    let custom = claims();
    let mk = |c: &Value| -> JWTClaims<Value> {
        let mut extra = c.clone();
        for k in ["exp", "iat", "sub", "aud", "iss"] {
            extra.as_object_mut().unwrap().remove(k);
        }
        let mut jc = Claims::with_custom_claims(extra, Duration::from_secs(3600))
            .with_subject("u1")
            .with_audience("authenticated");
        jc.issued_at = Some(UnixTimeStamp::from_secs(NOW as u64 - 5));
        jc.expires_at = Some(UnixTimeStamp::from_secs(NOW as u64 + 3600));
        jc.invalid_before = None;
        jc
    };
    let t_rsa = rsa.sign(mk(&custom)).unwrap();
    assert_eq!(allowed(&bearer(&mut g, "/me", &t_rsa))["sub"], "u1");
    let t_ed = ed.sign(mk(&custom)).unwrap();
    assert_eq!(allowed(&bearer(&mut g, "/me", &t_ed))["sub"], "u1");
    let t_hs = hs_token(
        HS_SECRET.as_bytes(),
        &json!({"alg":"HS256","typ":"JWT"}),
        &claims(),
    );
    assert_eq!(allowed(&bearer(&mut g, "/me", &t_hs))["kind"], "user");
    let t_hs_bad = hs_token(
        b"another-secret-another-secret-another-secret",
        &json!({"alg":"HS256","typ":"JWT"}),
        &claims(),
    );
    denied(
        &bearer(&mut g, "/me", &t_hs_bad),
        "INVALID_JWT",
        "bad signature",
    );
    // RS256 header with the Ed25519 key's kid: the key decides.
    let forged = format!(
        "{}.{}.{}",
        b64::encode(br#"{"alg":"RS256","kid":"ed1"}"#),
        t_ed.split('.').nth(1).unwrap(),
        t_ed.split('.').nth(2).unwrap()
    );
    denied(
        &bearer(&mut g, "/me", &forged),
        "INVALID_JWT",
        "does not match the key's algorithm",
    );
}

#[test]
fn header_attacks_are_refused_with_precise_reasons() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let c = claims();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"alg":"none","kid":"k1"}), "alg \"none\" is refused"),
        (json!({"alg":"NoNe","kid":"k1"}), "alg \"none\" is refused"),
        (
            json!({"alg":"ES256","kid":"k1","jku":"https://evil/jwks"}),
            "\"jku\" is refused",
        ),
        (
            json!({"alg":"ES256","kid":"k1","x5u":"https://evil/x"}),
            "\"x5u\" is refused",
        ),
        (
            json!({"alg":"ES256","kid":"k1","jwk":k.jwk()}),
            "\"jwk\" is refused",
        ),
        (
            json!({"alg":"ES256","kid":"k1","x5c":["MII"]}),
            "\"x5c\" is refused",
        ),
        (
            json!({"alg":"ES256","kid":"k1","crit":["exp"]}),
            "\"crit\" is not supported",
        ),
        (
            json!({"alg":"ES384","kid":"k1"}),
            "alg \"ES384\" is not accepted",
        ),
        (
            json!({"alg":"RS256","kid":"k1"}),
            "does not match the key's algorithm",
        ),
        (
            json!({"alg":"EdDSA","kid":"k1"}),
            "does not match the key's algorithm",
        ),
        (json!({"alg":"ES256","kid":"nope"}), "unknown kid"),
        (json!({"alg":"ES256","kid":7}), "\"kid\" is not a string"),
        (json!({"kid":"k1"}), "no \"alg\""),
        (
            json!({"alg":"ES256","kid":"k1","typ":"JWS+evil"}),
            "\"typ\" is not JWT",
        ),
    ];
    for (h, reason) in cases {
        denied(
            &bearer(&mut g, "/me", &k.sign_raw(&h, &c)),
            "INVALID_JWT",
            reason,
        );
    }
    // Duplicate keys, in header and payload.
    let dup_h = k.sign_bytes(
        br#"{"alg":"ES256","kid":"k1","kid":"k1"}"#,
        c.to_string().as_bytes(),
    );
    denied(
        &bearer(&mut g, "/me", &dup_h),
        "INVALID_JWT",
        "header: duplicate JSON key",
    );
    let dup_p = k.sign_bytes(
        br#"{"alg":"ES256","kid":"k1"}"#,
        br#"{"sub":"a","sub":"admin","exp":1999999999}"#,
    );
    denied(
        &bearer(&mut g, "/me", &dup_p),
        "INVALID_JWT",
        "payload: duplicate JSON key",
    );
    let dup_nested = k.sign_bytes(
        br#"{"alg":"ES256","kid":"k1"}"#,
        br#"{"sub":"a","exp":1999999999,"app_metadata":{"user_role":"guest","user_role":"admin"}}"#,
    );
    denied(
        &bearer(&mut g, "/me", &dup_nested),
        "INVALID_JWT",
        "payload: duplicate JSON key",
    );
    // HS256 with the public key as secret (algorithm confusion) while only a JWKS is configured.
    let jwks = json!({"keys":[k.jwk()]}).to_string();
    let mut only_jwks = Gate::new(POLICY, &env(&[("SUPABASE_JWKS", &jwks)])).unwrap();
    let pk = k.kp.public_key().public_key().to_bytes_uncompressed();
    let confused = hs_token(&pk, &json!({"alg":"HS256","kid":"k1"}), &c);
    denied(
        &bearer(&mut only_jwks, "/me", &confused),
        "INVALID_JWT",
        "alg HS256 does not match the key's algorithm ES256",
    );
    let confused_jwk = hs_token(jwks.as_bytes(), &json!({"alg":"HS256"}), &c);
    denied(
        &bearer(&mut only_jwks, "/me", &confused_jwk),
        "INVALID_JWT",
        "algorithm confusion refused",
    );
}

#[test]
fn structural_rules() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let t = k.token(&claims());
    let parts: Vec<&str> = t.split('.').collect();
    denied(
        &bearer(&mut g, "/me", &format!("{}.{}", parts[0], parts[1])),
        "INVALID_JWT",
        "exactly three segments",
    );
    denied(
        &bearer(&mut g, "/me", &format!("{t}.x")),
        "INVALID_JWT",
        "exactly three segments",
    );
    denied(
        &bearer(
            &mut g,
            "/me",
            &format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        ),
        "INVALID_JWT",
        "header is not canonical",
    );
    denied(
        &bearer(
            &mut g,
            "/me",
            &format!("{}.{}.{}==", parts[0], parts[1], parts[2]),
        ),
        "INVALID_JWT",
        "signature is not canonical",
    );
    denied(
        &bearer(
            &mut g,
            "/me",
            &format!("{}.{}+.{}", parts[0], parts[1], parts[2]),
        ),
        "INVALID_JWT",
        "payload is not canonical",
    );
    // Non-canonical trailing bits: flip the last char of the 64-byte signature to another with the same high bits.
    let sig = parts[2];
    let last = sig.chars().last().unwrap();
    let alt = match last {
        'A' => 'B',
        'Q' => 'R',
        'g' => 'h',
        'w' => 'x',
        _ => 'A',
    };
    let tampered = format!("{}.{}.{}{}", parts[0], parts[1], &sig[..sig.len() - 1], alt);
    let d = bearer(&mut g, "/me", &tampered);
    match alt {
        'B' | 'R' | 'h' | 'x' => denied(&d, "INVALID_JWT", "signature is not canonical"),
        _ => denied(&d, "INVALID_JWT", ""),
    }
    let huge = k.token(&with(claims(), json!({"pad": "x".repeat(9000)})));
    denied(
        &bearer(&mut g, "/me", &huge),
        "INVALID_JWT",
        "larger than 8 KiB",
    );
    let mut flipped = t.clone().into_bytes();
    let n = parts[0].len() + 5;
    flipped[n] = if flipped[n] == b'A' { b'B' } else { b'A' };
    denied(
        &bearer(&mut g, "/me", std::str::from_utf8(&flipped).unwrap()),
        "INVALID_JWT",
        "",
    );
    let d = g.check(
        &req("GET", "/me", &[("authorization", "Basic dXNlcjpwYXNz")]),
        NOW_MS,
    );
    denied(&d, "INVALID_JWT", "not a Bearer token");
    denied(
        &g.check(&req("GET", "/me", &[]), NOW_MS),
        "MISSING_CREDENTIALS",
        "Bearer access token is required",
    );
}

#[test]
fn time_and_claim_rules() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let cases = [
        (json!({"exp": NOW - 31}), "token expired"),
        (json!({"exp": null}), "token has no exp"),
        (json!({"exp": "soon"}), "\"exp\" is not a number"),
        (json!({"nbf": NOW + 31}), "nbf in the future"),
        (json!({"iat": NOW + 31}), "issued in the future"),
        (json!({"aud": "somebody-else"}), "audience mismatch"),
        (json!({"aud": null}), "audience mismatch"),
        (json!({"sub": null}), "token has no sub"),
        (json!({"sub": ""}), "token has no sub"),
    ];
    for (patch, reason) in cases {
        denied(
            &bearer(&mut g, "/me", &k.token(&with(claims(), patch))),
            "INVALID_JWT",
            reason,
        );
    }
    // Within the default 30 s leeway.
    allowed(&bearer(
        &mut g,
        "/me",
        &k.token(&with(
            claims(),
            json!({"exp": NOW - 30, "nbf": NOW + 30, "iat": NOW + 30}),
        )),
    ));
    allowed(&bearer(
        &mut g,
        "/me",
        &k.token(&with(claims(), json!({"aud": ["x", "authenticated"]}))),
    ));
    // Issuer when configured.
    let jwks = json!({"keys":[k.jwk()]}).to_string();
    let p = POLICY.replacen(
        "\"audience\": \"authenticated\",",
        "\"issuer\": \"https://proj.supabase.co/auth/v1\", \"leeway_seconds\": 0,",
        1,
    );
    let mut gi = Gate::new(&p, &env(&[("SUPABASE_JWKS", &jwks)])).unwrap();
    allowed(&bearer(&mut gi, "/me", &k.token(&claims())));
    denied(
        &bearer(
            &mut gi,
            "/me",
            &k.token(&with(claims(), json!({"iss": "https://evil/auth/v1"}))),
        ),
        "INVALID_JWT",
        "issuer mismatch",
    );
    denied(
        &bearer(
            &mut gi,
            "/me",
            &k.token(&with(claims(), json!({"exp": NOW - 1}))),
        ),
        "INVALID_JWT",
        "token expired",
    );
}

#[test]
fn kid_selection() {
    let a = Es::new("a");
    let b = Es::new("b");
    let no_kid = |k: &Es| k.sign_raw(&json!({"alg":"ES256","typ":"JWT"}), &claims());
    let mut one = inline_gate(&[&a]);
    allowed(&bearer(&mut one, "/me", &no_kid(&a)));
    denied(
        &bearer(&mut one, "/me", &no_kid(&b)),
        "INVALID_JWT",
        "bad signature",
    );
    let mut two = inline_gate(&[&a, &b]);
    denied(
        &bearer(&mut two, "/me", &no_kid(&a)),
        "INVALID_JWT",
        "several keys fit",
    );
    allowed(&bearer(&mut two, "/me", &b.token(&claims())));
    // b's token presented with a's kid.
    let swapped = b.sign_raw(&json!({"alg":"ES256","kid":"a"}), &claims());
    denied(
        &bearer(&mut two, "/me", &swapped),
        "INVALID_JWT",
        "bad signature",
    );
}

#[test]
fn api_keys_and_no_silent_downgrade() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let get = |g: &mut Gate, path: &str, h: &[(&str, &str)]| g.check(&req("GET", path, h), NOW_MS);
    let id = allowed(&get(&mut g, "/pub", &[("apikey", PUB)]));
    assert_eq!(
        (id["kind"].as_str(), id["key_name"].as_str()),
        (Some("publishable"), Some("default"))
    );
    denied(
        &get(&mut g, "/pub", &[("apikey", PUB_WEB)]),
        "INVALID_API_KEY",
        "not recognised",
    );
    allowed(&get(&mut g, "/pub-web", &[("apikey", PUB_WEB)]));
    denied(
        &get(&mut g, "/pub-web", &[("apikey", PUB)]),
        "INVALID_API_KEY",
        "not recognised",
    );
    denied(
        &get(&mut g, "/pub", &[("apikey", SECRET)]),
        "INVALID_API_KEY",
        "secret keys are not accepted",
    );
    denied(
        &get(
            &mut g,
            "/pub",
            &[("apikey", "sb_publishable_AAAAAAAAAAAAAAAAAAAAAA_0000001")],
        ),
        "INVALID_API_KEY",
        "not recognised",
    );
    denied(
        &get(&mut g, "/pub", &[("apikey", "eyJhbGciOi")]),
        "INVALID_API_KEY",
        "not an sb_publishable_",
    );
    denied(
        &get(&mut g, "/pub", &[]),
        "MISSING_CREDENTIALS",
        "apikey is required",
    );
    assert_eq!(
        allowed(&get(&mut g, "/cron", &[("apikey", SECRET_CRON)]))["key_name"],
        "cron"
    );
    denied(
        &get(&mut g, "/cron", &[("apikey", SECRET)]),
        "INVALID_API_KEY",
        "not recognised",
    );
    assert_eq!(
        allowed(&get(&mut g, "/any-secret", &[("apikey", SECRET)]))["key_name"],
        "default"
    );
    assert_eq!(
        allowed(&get(&mut g, "/any-secret", &[("apikey", SECRET_CRON)]))["key_name"],
        "cron"
    );
    // supabase-js style: the key as Bearer as well.
    let b = format!("Bearer {PUB}");
    allowed(&get(
        &mut g,
        "/pub",
        &[("apikey", PUB), ("authorization", &b)],
    ));
    // Mixed route: a valid JWT wins; a bad JWT fails even with a valid apikey.
    let t = k.token(&claims());
    let good = format!("Bearer {t}");
    assert_eq!(
        allowed(&get(
            &mut g,
            "/mixed",
            &[("apikey", PUB), ("authorization", &good)]
        ))["kind"],
        "user"
    );
    let bad = format!("Bearer {}x", &t[..t.len() - 1]);
    denied(
        &get(
            &mut g,
            "/mixed",
            &[("apikey", PUB), ("authorization", &bad)],
        ),
        "INVALID_JWT",
        "",
    );
    let expired = format!(
        "Bearer {}",
        k.token(&with(claims(), json!({"exp": NOW - 3600})))
    );
    denied(
        &get(
            &mut g,
            "/mixed",
            &[("apikey", PUB), ("authorization", &expired)],
        ),
        "INVALID_JWT",
        "token expired",
    );
    assert_eq!(
        allowed(&get(&mut g, "/mixed", &[("apikey", PUB)]))["kind"],
        "publishable"
    );
    // A user route ignores a lone apikey: credentials are still missing.
    denied(
        &get(&mut g, "/me", &[("apikey", PUB)]),
        "MISSING_CREDENTIALS",
        "",
    );
    assert_eq!(
        allowed(&get(
            &mut g,
            "/health",
            &[("authorization", "Bearer garbage")]
        ))["kind"],
        "none"
    );
}

#[test]
fn roles_permissions_tenants_aal_anonymous() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let tok = |patch: Value| format!("Bearer {}", k.token(&with(claims(), patch)));
    let go = |g: &mut Gate, m: &str, path: &str, auth: &str| {
        g.check(&req(m, path, &[("authorization", auth)]), NOW_MS)
    };

    denied(
        &go(&mut g, "GET", "/t/t1/members", &tok(json!({}))),
        "FORBIDDEN",
        "role moderator required",
    );
    allowed(&go(
        &mut g,
        "GET",
        "/t/t1/members",
        &tok(json!({"user_role": "moderator"})),
    ));
    // app_metadata is not a claim source unless the policy opts in (it
    // outlives a membership; the hook's top-level claims are the truth).
    denied(
        &go(
            &mut g,
            "GET",
            "/t/t1/members",
            &tok(json!({"user_role": null, "app_metadata": {"user_role": "admin"}})),
        ),
        "FORBIDDEN",
        "role moderator required",
    );
    denied(
        &go(
            &mut g,
            "GET",
            "/t/t2/members",
            &tok(json!({"user_role": "admin"})),
        ),
        "TENANT_MISMATCH",
        "another tenant",
    );
    denied(
        &go(
            &mut g,
            "GET",
            "/t/t1/members",
            &tok(json!({"user_role": "admin", "tenant_id": null})),
        ),
        "TENANT_MISMATCH",
        "no tenant_id",
    );
    // A removed member: the hook no longer writes tenant_id, app_metadata still names t1.
    denied(
        &go(
            &mut g,
            "GET",
            "/t/t1/members",
            &tok(json!({"user_role": "admin", "tenant_id": null, "app_metadata": {"tenant_id": "t1"}})),
        ),
        "TENANT_MISMATCH",
        "no tenant_id",
    );
    denied(
        &go(
            &mut g,
            "GET",
            "/t/t1/members",
            &tok(json!({"user_role": "root"})),
        ),
        "FORBIDDEN",
        "role moderator required",
    );

    // ADMIN_EMAILS (case-insensitive) makes an admin; aal2 still required on PATCH.
    let boss = tok(json!({"email": "boss@example.COM"}));
    denied(
        &go(&mut g, "PATCH", "/t/t1/members/u2", &boss),
        "FORBIDDEN",
        "requires aal2",
    );
    let boss2 = tok(json!({"email": "boss@example.com", "aal": "aal2"}));
    let id = allowed(&go(&mut g, "PATCH", "/t/t1/members/u2", &boss2));
    assert_eq!(id["user_role"], "admin");
    denied(
        &go(
            &mut g,
            "PATCH",
            "/t/t1/members/u2",
            &tok(json!({"user_role": "moderator", "aal": "aal2"})),
        ),
        "FORBIDDEN",
        "role admin required",
    );
    // Roles from the ladder but permissions missing: custom ladder in another policy below.

    // Permissions: from the token claim (top level or app_metadata) or role grants.
    denied(
        &go(&mut g, "GET", "/perm", &tok(json!({}))),
        "FORBIDDEN",
        "permission reports:read required",
    );
    allowed(&go(
        &mut g,
        "GET",
        "/perm",
        &tok(json!({"permissions": ["reports:read"]})),
    ));
    denied(
        &go(
            &mut g,
            "GET",
            "/perm",
            &tok(json!({"app_metadata": {"permissions": ["reports:*"]}})),
        ),
        "FORBIDDEN",
        "permission reports:read required",
    );
    denied(
        &go(
            &mut g,
            "GET",
            "/perm",
            &tok(json!({"permissions": "reports:read"})),
        ),
        "FORBIDDEN",
        "permission",
    );

    // Anonymous users.
    denied(
        &go(&mut g, "GET", "/me", &tok(json!({"is_anonymous": true}))),
        "FORBIDDEN",
        "anonymous users are not allowed",
    );
    assert_eq!(
        allowed(&go(
            &mut g,
            "GET",
            "/anon-ok",
            &tok(json!({"is_anonymous": true}))
        ))["is_anonymous"],
        true
    );
    let anon_boss = tok(json!({"is_anonymous": true, "email": "boss@example.com"}));
    assert_eq!(
        allowed(&go(&mut g, "GET", "/anon-ok", &anon_boss))["user_role"],
        "customer"
    );

    // Tenant from query, header, body.
    let t = tok(json!({}));
    let mut r = req("GET", "/q", &[("authorization", &t)]);
    r.query = "x=1&tenant=t1".into();
    allowed(&g.check(&r, NOW_MS));
    r.query = "tenant=t2".into();
    denied(&g.check(&r, NOW_MS), "TENANT_MISMATCH", "another tenant");
    r.query = "tenant=t1&tenant=t2".into();
    denied(&g.check(&r, NOW_MS), "TENANT_MISMATCH", "repeated");
    r.query = "".into();
    denied(
        &g.check(&r, NOW_MS),
        "TENANT_MISMATCH",
        "request names no tenant",
    );
    allowed(&g.check(
        &req("GET", "/h", &[("authorization", &t), ("x-tenant-id", "t1")]),
        NOW_MS,
    ));
    denied(
        &g.check(
            &req("GET", "/h", &[("authorization", &t), ("x-tenant-id", "t9")]),
            NOW_MS,
        ),
        "TENANT_MISMATCH",
        "",
    );
    // A body tenant is left pending by `check` (see body_tenant_is_compared_after_the_body).
    let b = g.check(&req("POST", "/b", &[("authorization", &t)]), NOW_MS);
    assert!(matches!(
        b,
        Decision::Allow {
            tenant_check: Some(TenantCheck::Body),
            ..
        }
    ));
}

#[test]
fn body_tenant_is_compared_after_the_body() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let bearer = |c: Value| format!("Bearer {}", k.token(&with(claims(), c)));
    let post = |g: &mut Gate, auth: Option<&str>| {
        let h: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        g.check(&req("POST", "/b", &h), NOW_MS)
    };

    // Step 1, before the body is read: credentials decide alone; no body is needed or taken.
    denied(&post(&mut g, None), "MISSING_CREDENTIALS", "Bearer");
    denied(&post(&mut g, Some("Bearer x.y.z")), "INVALID_JWT", "");
    let t1 = bearer(json!({}));
    let d = post(&mut g, Some(&t1));
    let id = allowed(&d);
    let wire: Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(
        wire["tenant_check"], "body",
        "the allow names the pending step"
    );
    let Decision::Allow {
        route,
        tenant_check: Some(TenantCheck::Body),
        ..
    } = &d
    else {
        panic!(
            "expected an allow with the body tenant pending: {}",
            d.to_json()
        );
    };
    assert_eq!(route, "POST /b");
    assert_eq!(id["tenant_id"], "t1");
    // Other checks are not deferred: an anonymous caller is refused before any body.
    denied(
        &post(&mut g, Some(&bearer(json!({"is_anonymous": true})))),
        "FORBIDDEN",
        "anonymous",
    );
    // Routes with another tenant source, or none, leave nothing pending.
    let me = g.check(&req("GET", "/me", &[("authorization", &t1)]), NOW_MS);
    assert!(matches!(
        me,
        Decision::Allow {
            tenant_check: None,
            ..
        }
    ));
    assert!(!me.to_json().contains("tenant_check"));

    // Step 2, after the body checks: the body's top-level field against the identity's tenant.
    let check = |tenant: Option<&str>, body: Value| g.check_body_tenant("POST /b", tenant, &body);
    assert_eq!(
        check(Some("t1"), json!({"tenant_id": "t1", "x": 1})),
        Ok(())
    );
    let refused = |tenant: Option<&str>, body: Value, reason: &str| {
        let e = check(tenant, body.clone()).expect_err(&body.to_string());
        assert_eq!(e.code.as_str(), "TENANT_MISMATCH", "{body}");
        assert_eq!(e.reason, reason, "{body}");
    };
    refused(
        Some("t1"),
        json!({"tenant_id": "t2"}),
        "the request targets another tenant",
    );
    refused(
        Some("t1"),
        json!({"x": "t1"}),
        "body field \"tenant_id\" is missing",
    );
    refused(
        Some("t1"),
        json!({"tenant_id": null}),
        "body field \"tenant_id\" is missing",
    );
    refused(
        Some("t1"),
        json!({"tenant_id": 1}),
        "body field \"tenant_id\" is not a string",
    );
    refused(
        Some("t1"),
        json!({"tenant_id": ["t1"]}),
        "body field \"tenant_id\" is not a string",
    );
    refused(
        Some("t1"),
        json!({"nested": {"tenant_id": "t1"}}),
        "body field \"tenant_id\" is missing",
    );
    for not_object in [json!(null), json!([{"tenant_id": "t1"}]), json!("t1")] {
        refused(
            Some("t1"),
            not_object,
            "body is not a JSON object (it must name the tenant in \"tenant_id\")",
        );
    }
    refused(None, json!({"tenant_id": "t1"}), "token has no tenant_id");
    // Nothing is pending on other routes; an unknown route is the shim's error, never an allow.
    assert_eq!(
        g.check_body_tenant("GET /me", Some("t1"), &json!(null)),
        Ok(())
    );
    let e = g
        .check_body_tenant("POST /nope", Some("t1"), &json!({"tenant_id": "t1"}))
        .expect_err("unknown route");
    assert_eq!(e.code.as_str(), "INTERNAL");
}

#[test]
fn routing_not_found_and_method_not_allowed() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    denied(
        &g.check(&req("GET", "/nope", &[]), NOW_MS),
        "NOT_FOUND",
        "no route",
    );
    denied(
        &g.check(&req("DELETE", "/me", &[]), NOW_MS),
        "METHOD_NOT_ALLOWED",
        "DELETE",
    );
    denied(
        &g.check(&req("GET", "/t/t1/members/extra/more", &[]), NOW_MS),
        "NOT_FOUND",
        "",
    );
    denied(
        &g.check(&req("GET", "/t//members", &[]), NOW_MS),
        "NOT_FOUND",
        "",
    );
}

#[test]
fn custom_ladder_and_grants_from_policy() {
    let k = Es::new("k1");
    let jwks = json!({"keys":[k.jwk()]}).to_string();
    let p = r#"{"auth":["user"],"roles":{"ladder":["owner","member"],"grants":{"member":["docs:read"],"owner":["docs:write"]}},
      "routes":[{"method":"POST","path":"/docs","roles":["member"],"permissions":["docs:write"]}]}"#;
    let mut g = Gate::new(p, &env(&[("SUPABASE_JWKS", &jwks)])).unwrap();
    let go = |g: &mut Gate, role: &str| {
        let t = format!(
            "Bearer {}",
            k.token(&with(claims(), json!({"user_role": role})))
        );
        g.check(&req("POST", "/docs", &[("authorization", &t)]), NOW_MS)
    };
    let id = allowed(&go(&mut g, "owner"));
    assert_eq!(id["permissions"], json!(["docs:read", "docs:write"]));
    denied(
        &go(&mut g, "member"),
        "FORBIDDEN",
        "permission docs:write required",
    );
    // "customer" is not on this ladder: no role at all.
    denied(&go(&mut g, "customer"), "FORBIDDEN", "role member required");
    // ADMIN_EMAILS grants the top rung.
    let t = format!(
        "Bearer {}",
        k.token(&with(claims(), json!({"email": "other@example.com"})))
    );
    assert_eq!(
        allowed(&g.check(&req("POST", "/docs", &[("authorization", &t)]), NOW_MS))["user_role"],
        "owner"
    );
}

#[test]
fn verified_token_cache_never_accepts_what_would_now_fail() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let t = k.token(&with(claims(), json!({"exp": NOW + 100, "nbf": NOW - 100})));
    let auth = format!("Bearer {t}");
    allowed(&g.check(&req("GET", "/me", &[("authorization", &auth)]), NOW_MS));
    assert_eq!(g.cached_tokens(), 1);
    allowed(&g.check(
        &req("GET", "/me", &[("authorization", &auth)]),
        NOW_MS + 100_000.0,
    ));
    assert_eq!(g.cached_tokens(), 1, "a hit, not a second entry");
    // Past exp + leeway: the cached entry must not be used.
    denied(
        &g.check(
            &req("GET", "/me", &[("authorization", &auth)]),
            (NOW + 131) as f64 * 1000.0,
        ),
        "INVALID_JWT",
        "token expired",
    );
    // Before nbf - leeway (clock moved back): refused too.
    denied(
        &g.check(
            &req("GET", "/me", &[("authorization", &auth)]),
            (NOW - 131) as f64 * 1000.0,
        ),
        "INVALID_JWT",
        "nbf",
    );
    // Route rules are re-applied on hits: cached identity is not a pass.
    let anon = format!(
        "Bearer {}",
        k.token(&with(claims(), json!({"is_anonymous": true})))
    );
    allowed(&g.check(&req("GET", "/anon-ok", &[("authorization", &anon)]), NOW_MS));
    denied(
        &g.check(&req("GET", "/me", &[("authorization", &anon)]), NOW_MS),
        "FORBIDDEN",
        "anonymous",
    );
    // An invalid token is never cached.
    let before = g.cached_tokens();
    let expired = format!(
        "Bearer {}",
        k.token(&with(claims(), json!({"exp": NOW - 100})))
    );
    denied(
        &g.check(&req("GET", "/me", &[("authorization", &expired)]), NOW_MS),
        "INVALID_JWT",
        "expired",
    );
    assert_eq!(g.cached_tokens(), before);
}

#[test]
fn key_rotation_flushes_cache_and_unknown_kid_refetch_is_rate_limited() {
    let old = Es::new("old");
    let new = Es::new("new");
    let url_env = env(&[("SUPABASE_URL", "https://proj.supabase.co")]);
    let mut g = Gate::new(POLICY, &url_env).unwrap();
    assert_eq!(
        g.jwks_url(),
        Some("https://proj.supabase.co/auth/v1/.well-known/jwks.json")
    );
    assert!(g.needs_jwks(NOW_MS));
    // No keys yet: never blame the caller.
    denied(
        &bearer(&mut g, "/me", &old.token(&claims())),
        "MISCONFIGURED",
        "no usable verification keys",
    );
    g.set_jwks(&json!({"keys":[old.jwk()]}).to_string(), 600, NOW_MS)
        .unwrap();
    assert!(!g.needs_jwks(NOW_MS + 599_000.0));
    assert!(g.needs_jwks(NOW_MS + 600_000.0));
    let t_old = old.token(&claims());
    allowed(&bearer(&mut g, "/me", &t_old));
    assert_eq!(g.cached_tokens(), 1);
    // New kid appears: the first unknown kid asks for a refetch; while that
    // fetch is in flight (not yet reported) another request joins it; once the
    // host reports a document still without the kid, no new refetch for 30 s.
    let t_new = new.token(&claims());
    let d = bearer(&mut g, "/me", &t_new);
    denied(&d, "INVALID_JWT", "unknown kid");
    assert!(matches!(
        d,
        Decision::Deny {
            refetch_jwks: true,
            ..
        }
    ));
    assert!(matches!(
        bearer(&mut g, "/me", &t_new),
        Decision::Deny {
            refetch_jwks: true,
            ..
        }
    ));
    g.set_jwks(&json!({"keys":[old.jwk()]}).to_string(), 600, NOW_MS)
        .unwrap();
    assert!(matches!(
        bearer(&mut g, "/me", &t_new),
        Decision::Deny {
            refetch_jwks: false,
            ..
        }
    ));
    assert!(matches!(
        g.check(
            &req(
                "GET",
                "/me",
                &[("authorization", &format!("Bearer {t_new}"))]
            ),
            NOW_MS + 30_000.0
        ),
        Decision::Deny {
            refetch_jwks: true,
            ..
        }
    ));
    // Rotation: old removed, new added. Cache flushed; old token no longer accepted.
    g.set_jwks(&json!({"keys":[new.jwk()]}).to_string(), 600, NOW_MS)
        .unwrap();
    assert_eq!(g.cached_tokens(), 0);
    allowed(&bearer(&mut g, "/me", &t_new));
    denied(&bearer(&mut g, "/me", &t_old), "INVALID_JWT", "unknown kid");
    // Same document again: cache kept.
    g.set_jwks(&json!({"keys":[new.jwk()]}).to_string(), 600, NOW_MS)
        .unwrap();
    assert_eq!(g.cached_tokens(), 1);
    // Endpoint down: keys kept, no fetch storm during the backoff.
    g.jwks_fetch_failed(NOW_MS + 700_000.0);
    assert!(!g.needs_jwks(NOW_MS + 705_000.0));
    assert!(g.needs_jwks(NOW_MS + 710_000.0));
    allowed(&g.check(
        &req(
            "GET",
            "/me",
            &[("authorization", &format!("Bearer {t_new}"))],
        ),
        NOW_MS + 705_000.0,
    ));
    // A JWKS with no usable key is refused and the old keys stay.
    assert!(g
        .set_jwks(
            r#"{"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]}"#,
            600,
            NOW_MS
        )
        .is_err());
    assert!(g.set_jwks("not json", 600, NOW_MS).is_err());
    allowed(&bearer(&mut g, "/me", &t_new));
}

#[test]
fn token_cache_is_bounded() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let cap = edgeguard_core::authz::TOKEN_CACHE_CAP;
    for i in 0..cap + 10 {
        let t = hs_token(
            HS_SECRET.as_bytes(),
            &json!({"alg":"HS256"}),
            &with(claims(), json!({"jti": i})),
        );
        allowed(&bearer(&mut g, "/me", &t));
    }
    assert_eq!(g.cached_tokens(), cap);
}

#[test]
fn env_misconfiguration_is_refused_clearly() {
    // Identity misconfiguration never takes down routes that need no user:
    // outside production the gate builds, `none` routes answer, and only the
    // routes that need the broken keys answer MISCONFIGURED naming the
    // variable; with APP_ENV=production the function refuses to start.
    let bad = |extra: &[(&str, &str)], part: &str, route: &str, headers: &[(&str, &str)]| {
        let mut e = env(&[]);
        for (k, v) in extra {
            e.insert((*k).into(), (*v).into());
        }
        let mut g = Gate::new(POLICY, &e)
            .unwrap_or_else(|err| panic!("{extra:?}: gate refused outside production: {err}"));
        allowed(&g.check(&req("GET", "/health", &[]), NOW_MS));
        denied(&g.check(&req("GET", route, headers), NOW_MS), "MISCONFIGURED", part);
        e.insert("APP_ENV".into(), "production".into());
        let err = Gate::new(POLICY, &e).unwrap_err();
        for s in [&err] {
            assert!(
                !s.contains("sb_secret_C") && !s.contains("at-least-32"),
                "secret leaked: {s}"
            );
        }
    };
    let t = hs_token(HS_SECRET.as_bytes(), &json!({"alg":"HS256"}), &claims());
    let user = [("authorization", format!("Bearer {t}"))];
    let user: Vec<(&str, &str)> = user.iter().map(|(k, v)| (*k, v.as_str())).collect();
    bad(
        &[("SUPABASE_JWKS_URL", "http://evil.example.com/jwks.json")],
        "https",
        "/me",
        &user,
    );
    bad(&[("SUPABASE_JWKS_URL", "ftp://x/jwks")], "https", "/me", &user);
    bad(
        &[("SUPABASE_JWKS_URL", "http://user:pw@localhost/jwks")],
        "credentials",
        "/me",
        &user,
    );
    bad(
        &[("SUPABASE_JWKS_URL", "http://127.evil.com/jwks")],
        "https",
        "/me",
        &user,
    );
    bad(
        &[("SUPABASE_URL", "http://proj.supabase.co")],
        "SUPABASE_URL",
        "/me",
        &user,
    );
    bad(
        &[(
            "SUPABASE_JWKS",
            "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
        )],
        "32 bytes",
        "/me",
        &user,
    );
    bad(&[("SUPABASE_JWKS", "not json")], "SUPABASE_JWKS", "/me", &user);
    bad(
        &[("JWT_SECRET", "short")],
        "JWT_SECRET is shorter than 32 bytes",
        "/me",
        &user,
    );
    bad(
        &[("SUPABASE_SECRET_KEYS", "{\"a\":\"sb_publishable_x\"}")],
        "SUPABASE_SECRET_KEYS.a does not start with sb_secret_",
        "/cron",
        &[("apikey", SECRET_CRON)],
    );
    bad(
        &[("SUPABASE_SECRET_KEYS", "not json")],
        "SUPABASE_SECRET_KEYS",
        "/pub",
        &[("apikey", PUB)],
    );
    // An empty JWKS is not an error: user routes have no key (MISCONFIGURED), the rest work.
    bad(&[("SUPABASE_JWKS", "{\"keys\":[]}")], "no usable verification keys", "/me", &user);
    // Only an invalid APP_ENV, and production without any user key, refuse the gate itself.
    let mut e = env(&[("APP_ENV", "prod")]);
    assert!(Gate::new(POLICY, &e).unwrap_err().contains("APP_ENV"));
    e.insert("APP_ENV".into(), "production".into());
    assert!(Gate::new(POLICY, &e).unwrap_err().contains("a user route needs"));
    e.insert(
        "SUPABASE_JWKS_URL".into(),
        "http://127.0.0.1:54321/jwks".into(),
    );
    assert!(Gate::new(POLICY, &e)
        .unwrap_err()
        .contains("https in production"));
    // Loopback http is fine outside production; singular key fallbacks and SUPABASE_JWT_SECRET too.
    let mut e = SortedMap::new();
    e.insert(
        "SUPABASE_JWKS_URL".to_string(),
        "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json".to_string(),
    );
    e.insert("SUPABASE_PUBLISHABLE_KEY".to_string(), PUB.to_string());
    e.insert("SUPABASE_JWT_SECRET".to_string(), HS_SECRET.to_string());
    let mut g = Gate::new(POLICY, &e).unwrap();
    assert_eq!(
        allowed(&g.check(&req("GET", "/pub", &[("apikey", PUB)]), NOW_MS))["key_name"],
        "default"
    );
    let t = hs_token(
        HS_SECRET.as_bytes(),
        &json!({"alg":"HS256","typ":"JWT"}),
        &claims(),
    );
    allowed(&bearer(&mut g, "/me", &t));
}

#[test]
fn garbage_never_panics() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<char> = "abcAZ09-_.=+/ {}[]\":,\\\u{0}\u{ff}é🦀".chars().collect();
    let valid = k.token(&claims());
    for i in 0..3000 {
        let len = (next() % 200) as usize;
        let mut s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if i % 3 == 0 {
            // Mutate a valid token.
            let mut b: Vec<char> = valid.chars().collect();
            let n = b.len();
            for _ in 0..(1 + next() % 4) {
                b[(next() % n as u64) as usize] =
                    alphabet[(next() % alphabet.len() as u64) as usize];
            }
            s = b.into_iter().collect();
        }
        let _ = bearer(&mut g, "/me", &s);
        let _ = g.check(&req("GET", &s, &[("apikey", &s)]), f64::NAN);
        let _ = edgeguard_core::policy::Policy::from_json(&s);
        let _ = edgeguard_core::auth::KeySet::from_json(&s);
        let _ = Request::from_json(&s);
        let _ = edgeguard_core::auth::b64::decode(s.as_bytes());
    }
    for j in [
        "",
        "null",
        "[]",
        "{}",
        r#"{"method":1}"#,
        r#"{"method":"GET","path":"/me","headers":{"authorization":5}}"#,
        r#"{"method":"GET","path":"/me","headers":[]}"#,
    ] {
        let _ = Request::from_json(j).map(|r| g.check(&r, f64::INFINITY));
    }
}

#[test]
fn the_gate_names_the_tenant_headers_the_shim_must_pass() {
    let g = inline_gate(&[&Es::new("k1")]);
    assert_eq!(g.tenant_header_names(), vec!["x-tenant-id".to_string()]);
    let plain = Gate::new(
        r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"},
            {"method":"GET","path":"/a","tenant":{"from":"header","name":"Tenant"}},
            {"method":"GET","path":"/b","tenant":{"from":"header","name":"tenant"}},
            {"method":"GET","path":"/q","tenant":{"from":"query","name":"t"}}]}"#,
        &env(&[("JWT_SECRET", HS_SECRET)]),
    )
    .unwrap();
    assert_eq!(plain.tenant_header_names(), vec!["tenant".to_string()]);
}

#[test]
fn authorization_denials_name_the_verified_actor_authentication_denials_do_not() {
    let k = Es::new("k1");
    let mut g = inline_gate(&[&k]);
    let actor = |d: &Decision| match d {
        Decision::Deny { actor, .. } => actor.clone(),
        Decision::Allow { .. } => panic!("allowed"),
    };
    let sub = "11111111-1111-1111-1111-111111111111";
    let good = k.token(&claims());
    let mismatch = g.check(
        &req("GET", "/q", &[("authorization", &format!("Bearer {good}"))]),
        NOW_MS,
    );
    denied(&mismatch, "TENANT_MISMATCH", "");
    assert_eq!(actor(&mismatch).as_deref(), Some(sub));
    assert!(mismatch.to_json().contains(&format!("\"actor\":\"{sub}\"")));
    let anon = k.token(&with(claims(), json!({"is_anonymous": true})));
    assert_eq!(actor(&bearer(&mut g, "/me", &anon)).as_deref(), Some(sub));
    // A bad signature: the token's sub is unverified and must not be named.
    let forged = format!("{}x", &good[..good.len() - 1]);
    let d = bearer(&mut g, "/me", &forged);
    denied(&d, "INVALID_JWT", "");
    assert_eq!(actor(&d), None);
    assert!(d.to_json().contains("\"actor\":null"));
    let expired = k.token(&with(claims(), json!({"exp": NOW - 3600})));
    assert_eq!(actor(&bearer(&mut g, "/me", &expired)), None);
}

#[test]
fn app_metadata_claims_only_when_the_policy_opts_in() {
    let k = Es::new("k1");
    let jwks = json!({"keys": [k.jwk()]}).to_string();
    let opted = POLICY.replacen(
        r#""audience": "authenticated","#,
        r#""audience": "authenticated", "app_metadata_claims": true,"#,
        1,
    );
    assert_ne!(opted, POLICY);
    let removed = with(
        claims(),
        json!({"tenant_id": null, "user_role": null,
               "app_metadata": {"tenant_id": "t1", "user_role": "moderator", "permissions": ["reports:read"]}}),
    );
    let t = k.token(&removed);
    let q = |g: &mut Gate, t: &str| {
        let auth = format!("Bearer {t}");
        let mut r = req("GET", "/q", &[("authorization", &auth)]);
        r.query = "tenant=t1".into();
        g.check(&r, NOW_MS)
    };
    let mut strict = Gate::new(POLICY, &env(&[("SUPABASE_JWKS", &jwks)])).unwrap();
    denied(
        &q(&mut strict, &t),
        "TENANT_MISMATCH",
        "no tenant_id",
    );
    denied(&bearer(&mut strict, "/perm", &t), "FORBIDDEN", "permission");
    let mut g = Gate::new(&opted, &env(&[("SUPABASE_JWKS", &jwks)])).unwrap();
    allowed(&q(&mut g, &t));
    allowed(&bearer(&mut g, "/perm", &t));
    allowed(&bearer(&mut g, "/t/t1/members", &t));
    // A top-level claim always wins over app_metadata.
    let both = k.token(&with(removed, json!({"tenant_id": "t2"})));
    denied(
        &q(&mut g, &both),
        "TENANT_MISMATCH",
        "another tenant",
    );
}
