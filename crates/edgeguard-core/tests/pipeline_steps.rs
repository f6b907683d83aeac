//! The request pipeline step by step (docs/architecture.md): the order of
//! the checks, what each `Need*` step asks of the host, and what every
//! refusal carries (code, headers, security event).

use edgeguard_core::api_keys::{self, KeyEnv};
use edgeguard_core::guard::{
    BodyChecked, EventDetails, Flow, Guard, GuardOptions, Input, JwksFetch, Refusal, RequestParts,
    Step,
};
use edgeguard_core::ratelimit::{GlobalAnswer, GlobalResult};
use edgeguard_core::ErrorCode;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::{json, Value};

#[path = "support/jwt.rs"]
mod jwt;

const NOW: i64 = 1_900_000_000;
const NOW_MS: f64 = NOW as f64 * 1000.0;
const HS_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const CSRF_SECRET: &str = "0123456789abcdef0123456789abcdef";
const PEPPER: &str = "pepper-pepper-pepper-pepper-pepper-32";
const ORIGIN: &str = "https://app.example.com";
const TENANT: &str = "aaaaaaaa-0000-4000-8000-000000000000";
const USER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const IP: (&str, &str) = ("x-forwarded-for", "203.0.113.7");

fn policy() -> String {
    json!({
        "auth": ["user"],
        "limits": {"classes": {
            "standard": [{"name": "ip-min", "by": ["ip"], "limit": 3, "window_s": 60}],
            "global": [{"name": "user-global", "by": ["user"], "limit": 5, "window_s": 60, "global": true}]
        }},
        "routes": [
            {"method": "GET", "path": "/me"},
            {"method": "GET", "path": "/items/:id", "params": {"id": {"type": "string", "format": "uuid"}}},
            {"method": "POST", "path": "/items", "body": {"max_bytes": 64, "schema": {
                "type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 10}}}}},
            {"method": "POST", "path": "/counted", "limits": {"class": "global"}},
            {"method": "POST", "path": "/t/orders", "tenant": {"from": "body", "name": "tenant_id"}},
            {"method": "POST", "path": "/form", "auth": ["none"], "csrf": {"required": true},
             "body": {"content_types": ["application/json", "application/x-www-form-urlencoded"]}},
            {"method": "GET", "path": "/keys", "auth": ["apikey"]},
            {"method": "GET", "path": "/health", "auth": ["none"], "limits": {"exempt": true}}
        ]
    })
    .to_string()
}

fn env(extra: &[(&str, &str)]) -> SortedMap<String, String> {
    let mut e: SortedMap<String, String> = [
        ("APP_ENV", "development"),
        ("JWT_SECRET", HS_SECRET),
        ("CORS_ORIGINS", ORIGIN),
        ("CSRF_SECRET", CSRF_SECRET),
        ("SECRET_KEY", PEPPER),
        ("EDGEGUARD_CLIENT_IP", "x-forwarded-for:1"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        e.insert((*k).into(), (*v).into());
    }
    e
}

fn guard() -> Guard {
    Guard::new(&policy(), &env(&[]), GuardOptions::default()).expect("a valid policy")
}

fn token(claims: Value) -> String {
    let mut c = json!({"sub": USER, "role": "authenticated", "aud": "authenticated", "exp": NOW + 600, "iat": NOW});
    if let (Value::Object(base), Value::Object(extra)) = (&mut c, claims) {
        base.extend(extra);
    }
    jwt::hs256_token(HS_SECRET.as_bytes(), &json!({"alg": "HS256", "typ": "JWT"}), &c)
}

fn parts(method: &str, path: &str, headers: &[(&str, &str)]) -> RequestParts {
    let mut h: SortedMap<String, String> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // A client IP of its own per request unless the test names one (limits are per IP).
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    if !h.contains_key("x-forwarded-for") {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        h.insert("x-forwarded-for".into(), format!("198.51.{}.{}", (n / 250) % 250, n % 250 + 1));
    }
    RequestParts {
        method: method.into(),
        url: format!("https://fn.example.com{path}"),
        headers: h,
        remote_addr: None,
    }
}

fn bearer() -> String {
    format!("Bearer {}", token(json!({})))
}

#[track_caller]
fn refused(step: Step) -> Refusal {
    match step {
        Step::Refuse(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[track_caller]
fn header<'a>(r: &'a [(String, String)], name: &str) -> Option<&'a str> {
    r.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn a_preflight_is_answered_before_the_route_is_matched() {
    let mut g = guard();
    let ok = [("origin", ORIGIN), ("access-control-request-method", "POST")];
    let (_, step) = g.begin(parts("OPTIONS", "/nowhere", &ok), NOW_MS);
    match step {
        Step::Preflight { status, headers } => {
            assert_eq!(status, 204);
            assert_eq!(header(&headers, "access-control-allow-origin"), Some(ORIGIN));
        }
        other => panic!("{other:?}"),
    }
    let evil = [("origin", "https://evil.example"), ("access-control-request-method", "POST")];
    let r = refused(g.begin(parts("OPTIONS", "/me", &evil), NOW_MS).1);
    assert_eq!((r.code, r.status), (ErrorCode::OriginNotAllowed, 403));
    assert!(header(&r.headers, "vary").is_some());
}

#[test]
fn an_unknown_path_is_404_and_still_counted_by_ip() {
    let mut g = guard();
    for i in 0..3 {
        let r = refused(g.begin(parts("GET", "/nope", &[IP]), NOW_MS).1);
        assert_eq!(r.code, ErrorCode::NotFound, "request {i}");
        assert!(header(&r.headers, "ratelimit").is_some());
        assert!(r.event.is_none());
    }
    let r = refused(g.begin(parts("GET", "/nope", &[IP]), NOW_MS).1);
    assert_eq!(r.code, ErrorCode::RateLimited, "probing is limited too");
    assert!(header(&r.headers, "retry-after").is_some());
    match r.event.expect("the first refusal is recorded").details {
        EventDetails::RateLimited { route, rule, .. } => {
            assert_eq!((route.as_str(), rule.as_deref()), ("", Some("ip-min")));
        }
        other => panic!("{other:?}"),
    }
    let r = refused(g.begin(parts("DELETE", "/me", &[]), NOW_MS + 60_000.0).1);
    assert_eq!(r.code, ErrorCode::MethodNotAllowed);
}

#[test]
fn a_valid_token_on_a_get_is_allowed_in_one_step() {
    let mut g = guard();
    let (flow, step) = g.begin(parts("GET", "/me", &[("authorization", &bearer())]), NOW_MS);
    let Step::Allow(a) = step else { panic!("{step:?}") };
    assert_eq!(a.route, "GET /me");
    assert_eq!(a.identity.sub.as_deref(), Some(USER));
    assert_eq!(a.body, Some(Value::Null), "a GET's empty body is checked");
    assert!(!a.body_deferred);
    assert!(header(&a.rate_headers, "ratelimit-policy").is_some());
    assert!(header(&a.rate_headers, "retry-after").is_none());
    assert!(a.prebuilt.is_some(), "a verified token's identity is serialised once");
    assert!(flow.is_done());
    assert_eq!(flow.request_id().len(), 36, "a fresh UUID");
    // a well-formed incoming id is kept; a malformed one replaced
    let (f, _) = g.begin(parts("GET", "/health", &[("x-request-id", "req-1.a_b")]), NOW_MS);
    assert_eq!(f.request_id(), "req-1.a_b");
    let (f, _) = g.begin(parts("GET", "/health", &[("x-request-id", "a b")]), NOW_MS);
    assert_ne!(f.request_id(), "a b");
}

#[test]
fn limits_are_checked_before_a_credential_denial_is_answered() {
    let mut g = guard();
    let bad = [("authorization", "Bearer not.a.jwt"), IP];
    let first = refused(g.begin(parts("GET", "/me", &bad), NOW_MS).1);
    assert_eq!(first.code, ErrorCode::InvalidJwt);
    let event = first.event.expect("the first denial is recorded");
    assert_eq!((event.event_type, event.severity, event.actor), ("auth_denied", "notice", None));
    assert!(header(&first.headers, "ratelimit").is_some(), "rate headers on the 401");
    let second = refused(g.begin(parts("GET", "/me", &bad), NOW_MS).1);
    assert_eq!(second.code, ErrorCode::InvalidJwt);
    assert!(second.event.is_none(), "one row per (route, code, client IP) per minute");
    let _ = refused(g.begin(parts("GET", "/me", &bad), NOW_MS).1);
    let fourth = refused(g.begin(parts("GET", "/me", &bad), NOW_MS).1);
    assert_eq!(fourth.code, ErrorCode::RateLimited, "brute force answers 429 before the 401");
    let none = refused(g.begin(parts("GET", "/me", &[("x-forwarded-for", "203.0.113.8")]), NOW_MS).1);
    assert_eq!(none.code, ErrorCode::MissingCredentials);
}

#[test]
fn a_jwks_url_is_fetched_first_and_refetched_once_for_an_unknown_kid() {
    let url = "https://proj.supabase.co/auth/v1/.well-known/jwks.json";
    let mut g = Guard::new(&policy(), &env(&[("SUPABASE_JWKS_URL", url)]), GuardOptions::default())
        .expect("guard");
    let es = ES256KeyPair::generate().with_key_id("k1");
    let jwks = json!({"keys": [es.jwk()]}).to_string();
    let t = es.token(USER, NOW);
    let (mut flow, step) = g.begin(parts("GET", "/me", &[("authorization", &format!("Bearer {t}"))]), NOW_MS);
    match &step {
        Step::NeedJwks { url: u, max_bytes } => assert_eq!((u.as_str(), *max_bytes > 0), (url, true)),
        other => panic!("{other:?}"),
    }
    let fetched = Input::Jwks(JwksFetch::Fetched { json: &jwks, cache_control: Some("public, max-age=300") });
    let Step::Allow(a) = g.resume(&mut flow, fetched, NOW_MS) else { panic!("allowed after the fetch") };
    assert_eq!(a.identity.sub.as_deref(), Some(USER));
    // fresh keys: no fetch on the next request
    let (_, step) = g.begin(parts("GET", "/me", &[("authorization", &format!("Bearer {t}"))]), NOW_MS);
    assert!(matches!(step, Step::Allow(_)));
    // an unknown kid asks for one refetch, then refuses
    let other = ES256KeyPair::generate().with_key_id("k2");
    let t2 = other.token(USER, NOW);
    let later = NOW_MS + 120_000.0;
    let (mut flow, step) = g.begin(parts("GET", "/me", &[("authorization", &format!("Bearer {t2}"))]), later);
    assert!(matches!(step, Step::NeedJwks { .. }), "{step:?}");
    let r = refused(g.resume(&mut flow, Input::Jwks(JwksFetch::Failed), later));
    assert_eq!(r.code, ErrorCode::InvalidJwt);
}

#[test]
fn global_limits_ask_the_database_then_decide() {
    let mut g = guard();
    let p = || parts("POST", "/counted", &[("authorization", &bearer()), ("content-type", "application/json")]);
    let (mut flow, step) = g.begin(p(), NOW_MS);
    let Step::NeedGlobalLimits { checks } = step else { panic!("{step:?}") };
    assert_eq!(checks.len(), 1);
    assert!(checks[0].key.starts_with("user-global:") && !checks[0].key.contains(USER));
    let ok = GlobalAnswer::Results(vec![GlobalResult {
        key: checks[0].key.clone(),
        allowed: true,
        remaining: 4,
        reset_s: 12,
        retry_after_s: None,
    }]);
    let step = g.resume(&mut flow, Input::GlobalLimits(ok), NOW_MS);
    assert!(matches!(step, Step::NeedBody { deferred: false, .. }), "{step:?}");
    let Step::Allow(a) = g.resume(&mut flow, Input::Body(Some(b"{}")), NOW_MS) else { panic!() };
    assert!(header(&a.rate_headers, "ratelimit").unwrap().contains("\"user-global\";r=4"));

    // refused by the database
    let (mut flow, step) = g.begin(p(), NOW_MS);
    let Step::NeedGlobalLimits { checks } = step else { panic!() };
    let no = GlobalAnswer::Results(vec![GlobalResult {
        key: checks[0].key.clone(),
        allowed: false,
        remaining: 0,
        reset_s: 20,
        retry_after_s: Some(9),
    }]);
    let r = refused(g.resume(&mut flow, Input::GlobalLimits(no), NOW_MS));
    assert_eq!((r.code, header(&r.headers, "retry-after")), (ErrorCode::RateLimited, Some("9")));
    assert!(r.event.is_some());

    // the database is down: limits fail closed by default, without rate headers
    let (mut flow, _) = g.begin(p(), NOW_MS);
    let r = refused(g.resume(&mut flow, Input::GlobalLimits(GlobalAnswer::Unavailable), NOW_MS));
    assert_eq!((r.code, r.headers.len()), (ErrorCode::Unavailable, 0));
}

#[test]
fn parameters_are_checked_before_the_body_is_read() {
    let mut g = guard();
    let r = refused(g.begin(parts("GET", "/items/x", &[("authorization", &bearer())]), NOW_MS).1);
    assert_eq!(r.code, ErrorCode::ValidationFailed);
    assert_eq!(r.details[0].path, "/params/id");
    let id = "bbbbbbbb-0000-4000-8000-000000000000";
    let (_, step) = g.begin(parts("GET", &format!("/items/{id}"), &[("authorization", &bearer())]), NOW_MS);
    let Step::Allow(a) = step else { panic!("{step:?}") };
    assert_eq!(a.params.get("id").map(String::as_str), Some(id));
}

#[test]
fn the_body_is_read_by_the_host_then_checked_by_the_core() {
    let mut g = guard();
    let p = || parts("POST", "/items", &[("authorization", &bearer()), ("content-type", "application/json")]);
    let (mut flow, step) = g.begin(p(), NOW_MS);
    assert!(matches!(step, Step::NeedBody { max_bytes: 64, deferred: false }), "{step:?}");
    let r = refused(g.resume(&mut flow, Input::Body(None), NOW_MS));
    assert_eq!(r.code, ErrorCode::PayloadTooLarge);
    for (body, code) in [
        (&b"{nope"[..], ErrorCode::InvalidBody),
        (&br#"{"name": 1}"#[..], ErrorCode::ValidationFailed),
    ] {
        let (mut flow, _) = g.begin(p(), NOW_MS + 61_000.0);
        let r = refused(g.resume(&mut flow, Input::Body(Some(body)), NOW_MS + 61_000.0));
        assert_eq!(r.code, code);
        if code == ErrorCode::ValidationFailed {
            assert_eq!(r.details[0].path, "/name");
        }
    }
    let (mut flow, _) = g.begin(p(), NOW_MS + 130_000.0);
    let Step::Allow(a) = g.resume(&mut flow, Input::Body(Some(br#"{"name":"x"}"#)), NOW_MS + 130_000.0) else {
        panic!()
    };
    assert_eq!(a.body, Some(json!({"name": "x"})));
    // a flow that ended takes no more input
    let r = refused(g.resume(&mut flow, Input::Body(Some(b"{}")), NOW_MS));
    assert_eq!(r.code, ErrorCode::Internal);
}

#[test]
fn deferred_body_checks_wait_for_the_handler() {
    let mut g = Guard::new(&policy(), &env(&[]), GuardOptions { defer_body_checks: true }).unwrap();
    let (mut flow, step) = g.begin(
        parts("POST", "/items", &[("authorization", &bearer()), ("content-type", "application/json")]),
        NOW_MS,
    );
    assert!(matches!(step, Step::NeedBody { deferred: true, .. }), "{step:?}");
    let Step::Allow(a) = g.resume(&mut flow, Input::Body(Some(b"{nope")), NOW_MS) else { panic!() };
    assert!(a.body_deferred && a.body.is_none(), "never parsed before the handler asks");
    match g.check_body(&a.route, Some("application/json"), b"{nope") {
        BodyChecked::Refuse(r) => assert_eq!(r.code, ErrorCode::InvalidBody),
        other => panic!("{other:?}"),
    }
    // a CSRF route is checked up front all the same
    let (_, step) = g.begin(parts("POST", "/form", &[]), NOW_MS);
    assert!(matches!(step, Step::NeedBody { deferred: false, .. }), "{step:?}");
}

#[test]
fn a_body_tenant_is_compared_after_the_body_checks() {
    let mut g = guard();
    let t = format!("Bearer {}", token(json!({"tenant_id": TENANT})));
    let p = || parts("POST", "/t/orders", &[("authorization", &t), ("content-type", "application/json")]);
    let (mut flow, step) = g.begin(p(), NOW_MS);
    assert!(matches!(step, Step::NeedBody { deferred: false, .. }));
    let body = json!({"tenant_id": "bbbbbbbb-0000-4000-8000-000000000000"}).to_string();
    let r = refused(g.resume(&mut flow, Input::Body(Some(body.as_bytes())), NOW_MS));
    assert_eq!(r.code, ErrorCode::TenantMismatch);
    let e = r.event.expect("recorded");
    assert_eq!((e.severity, e.actor.as_deref()), ("warning", Some(USER)));
    let (mut flow, _) = g.begin(p(), NOW_MS);
    let body = json!({"tenant_id": TENANT}).to_string();
    assert!(matches!(g.resume(&mut flow, Input::Body(Some(body.as_bytes())), NOW_MS), Step::Allow(_)));
}

#[test]
fn csrf_binds_cookie_callers_and_exempts_bearer_requests() {
    let mut g = guard();
    let r = refused({
        let (mut f, _) = g.begin(parts("POST", "/form", &[("origin", ORIGIN)]), NOW_MS);
        g.resume(&mut f, Input::Body(Some(b"")), NOW_MS)
    });
    assert_eq!(r.code, ErrorCode::CsrfFailed);
    // a fresh caller gets a subject cookie with its token
    let issued = g.issue_csrf_token("POST /form", None, None, NOW_MS).unwrap();
    let cookie = issued.cookie.expect("a fresh subject");
    assert!(cookie.starts_with("__Host-edgeguard-csrf=") && cookie.contains("HttpOnly"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let again = g.issue_csrf_token("POST /form", None, Some(&pair), NOW_MS).unwrap();
    assert!(again.cookie.is_none(), "an existing subject is reused");
    let ok = [("origin", ORIGIN), ("cookie", pair.as_str()), ("x-csrf-token", issued.token.as_str())];
    let (mut f, _) = g.begin(parts("POST", "/form", &ok), NOW_MS);
    assert!(matches!(g.resume(&mut f, Input::Body(Some(b"")), NOW_MS), Step::Allow(_)));
    // the form field works like the header
    let form = format!("csrf_token={}", issued.token);
    let ok = [("origin", ORIGIN), ("cookie", pair.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let (mut f, _) = g.begin(parts("POST", "/form", &ok), NOW_MS);
    assert!(matches!(g.resume(&mut f, Input::Body(Some(form.as_bytes())), NOW_MS), Step::Allow(_)));
    // Bearer requests are not cookie-authenticated
    let (mut f, _) = g.begin(parts("POST", "/form", &[("authorization", "Bearer x")]), NOW_MS);
    assert!(matches!(g.resume(&mut f, Input::Body(Some(b"")), NOW_MS), Step::Allow(_)));
}

#[test]
fn a_user_api_key_is_looked_up_once_then_decided() {
    let mut g = guard();
    let key = api_keys::mint(KeyEnv::Test).unwrap().key;
    let (mut flow, step) = g.begin(parts("GET", "/keys", &[("x-api-key", &key)]), NOW_MS);
    let Step::NeedApiKeyLookup { key_hash, previous_hash } = step else { panic!("{step:?}") };
    assert!(!key_hash.contains(&key) && previous_hash.is_none());
    let row = json!({"status": "ok", "key_id": "k-1", "user_id": USER, "tenant_id": TENANT,
        "scopes": [], "user_role": "customer", "permissions": ["public:read"],
        "expires_at": NOW + 60, "counted": false, "retry_after_s": null})
    .to_string();
    let Step::Allow(a) = g.resume(&mut flow, Input::ApiKeyRow(&row), NOW_MS) else { panic!() };
    assert_eq!((a.identity.api_key_id.as_deref(), a.identity.sub.as_deref()), (Some("k-1"), Some(USER)));
    // an input that answers another step is refused
    let (mut flow, _) = g.begin(parts("GET", "/keys", &[("x-api-key", &api_keys::mint(KeyEnv::Test).unwrap().key)]), NOW_MS);
    let r = refused(g.resume(&mut flow, Input::Body(Some(b"")), NOW_MS));
    assert_eq!(r.code, ErrorCode::Internal);
}

#[test]
fn response_headers_and_client_ip_come_from_the_same_settings() {
    let g = guard();
    let h = g.response_headers(Some(ORIGIN));
    assert!(h.set.iter().any(|(n, v)| n == "X-Content-Type-Options" && v == "nosniff"));
    assert!(h.set.iter().any(|(n, v)| n == "Access-Control-Allow-Origin" && v == ORIGIN));
    assert_eq!(h.remove, ["Server", "X-Powered-By"]);
    let none = g.response_headers(Some("https://evil.example"));
    assert!(!none.set.iter().any(|(n, _)| n.starts_with("Access-Control")));
    let fallback = edgeguard_core::guard::default_response_headers();
    assert!(fallback.set.iter().any(|(n, _)| n == "Content-Security-Policy"));
    assert_eq!(fallback.vary, ["Origin"], "a misconfigured function still varies by Origin");
    let report = g.client_ip_report(&parts("GET", "/health", &[("x-forwarded-for", "10.0.0.1, 198.51.100.4")]));
    assert_eq!(report.client_ip.as_deref(), Some("198.51.100.4"));
    assert_eq!((report.source.as_str(), report.header_present), ("x-forwarded-for:1", true));
}

#[test]
fn misconfiguration_is_one_error_at_construction() {
    for (p, e, why) in [
        ("not json", env(&[]), "policy"),
        (r#"{"routes":[{"method":"GET","path":"/x"}],"cors":{"nope":1}}"#, env(&[]), "cors"),
        (&policy(), env(&[("CSRF_SECRET", "short")]), "CSRF_SECRET"),
    ] {
        let err = Guard::new(p, &e, GuardOptions::default()).unwrap_err();
        assert!(err.contains(why), "{err}");
        assert!(!err.contains(CSRF_SECRET));
    }
    let g = guard();
    assert!(g.header_names().iter().any(|n| n == "authorization"));
}

#[test]
fn jwks_max_age_is_read_by_the_core() {
    use edgeguard_core::guard::jwks_max_age;
    assert_eq!(jwks_max_age(None), 600);
    assert_eq!(jwks_max_age(Some("public, max-age=120")), 120);
    assert_eq!(jwks_max_age(Some("max-age=99999999")), 86_400);
    assert_eq!(jwks_max_age(Some("no-store")), 600);
}

/// A flow never crosses requests: two begun flows resume independently.
#[test]
fn flows_are_independent() {
    let mut g = guard();
    let p = || parts("POST", "/items", &[("authorization", &bearer()), ("content-type", "application/json")]);
    let (mut a, _): (Flow, Step) = g.begin(p(), NOW_MS);
    let (mut b, _) = g.begin(p(), NOW_MS);
    assert!(matches!(g.resume(&mut b, Input::Body(Some(br#"{"name":"b"}"#)), NOW_MS), Step::Allow(_)));
    let r = refused(g.resume(&mut a, Input::Body(Some(br#"{}"#)), NOW_MS));
    assert_eq!(r.code, ErrorCode::ValidationFailed);
}

// ES256 keys for the JWKS steps (jwt-simple signs; the core verifies).
use jwt_simple::prelude::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};

trait EsTestKey {
    fn jwk(&self) -> Value;
    fn token(&self, sub: &str, now: i64) -> String;
}

impl EsTestKey for ES256KeyPair {
    fn jwk(&self) -> Value {
        use edgeguard_core::auth::b64;
        let pt = self.public_key().public_key().to_bytes_uncompressed();
        json!({"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid": self.key_id().clone().unwrap_or_default(),
               "x": b64::encode(&pt[1..33]), "y": b64::encode(&pt[33..65])})
    }
    fn token(&self, sub: &str, now: i64) -> String {
        use jwt_simple::prelude::{Claims, Duration, JWTClaims, NoCustomClaims};
        let mut c: JWTClaims<NoCustomClaims> = Claims::create(Duration::from_secs(600)).with_subject(sub);
        c.issued_at = Some(jwt_simple::prelude::UnixTimeStamp::from_secs(now as u64));
        c.expires_at = Some(jwt_simple::prelude::UnixTimeStamp::from_secs(now as u64 + 600));
        c.audiences = Some(jwt_simple::prelude::Audiences::AsString("authenticated".into()));
        let mut c = c;
        c.invalid_before = None;
        self.sign(c).expect("signs")
    }
}

/// A third-party issuer's keys (docs/issuers.md) are one more `need_jwks`
/// step, for the URL the core names, answered into that issuer's cache.
#[test]
fn an_issuer_jwks_is_a_need_jwks_step_for_its_own_url() {
    use jwt_simple::prelude::{Claims, Duration, RS256KeyPair, RSAKeyPairLike, UnixTimeStamp};
    let clerk_jwks = "https://clerk.example.test/.well-known/jwks.json";
    let issuers = json!({"clerk": {"iss": "https://clerk.example.test", "jwks_url": clerk_jwks,
        "algorithms": ["RS256"], "claims": {"tenant_id": ["org_id"], "role": ["org_role"]},
        "roles": {"org:member": "customer"}, "default_role": "guest"}})
    .to_string();
    let policy = json!({"auth": ["user:clerk"], "routes": [{"method": "GET", "path": "/me"}]}).to_string();
    let mut g = Guard::new(&policy, &env(&[("EDGEGUARD_ISSUERS", &issuers)]), GuardOptions::default()).expect("guard");
    let kp = RS256KeyPair::generate(2048).unwrap().with_key_id("c1");
    let c = kp.public_key().to_components();
    use edgeguard_core::auth::b64;
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "c1", "alg": "RS256", "use": "sig",
        "n": b64::encode(&c.n), "e": b64::encode(&c.e)}]})
    .to_string();
    let mut claims = Claims::with_custom_claims(json!({"org_id": "org_1", "org_role": "org:member"}), Duration::from_secs(60));
    claims.issued_at = Some(UnixTimeStamp::from_secs(NOW as u64 - 5));
    claims.expires_at = Some(UnixTimeStamp::from_secs(NOW as u64 + 60));
    claims.invalid_before = None;
    claims.subject = Some("user_2abc".into());
    claims.issuer = Some("https://clerk.example.test".into());
    let t = kp.sign(claims).unwrap();
    let (mut flow, step) = g.begin(parts("GET", "/me", &[("authorization", &format!("Bearer {t}"))]), NOW_MS);
    match &step {
        Step::NeedJwks { url, .. } => assert_eq!(url, clerk_jwks, "the issuer's URL, not Supabase's"),
        other => panic!("{other:?}"),
    }
    let fetched = Input::Jwks(JwksFetch::Fetched { json: &jwks, cache_control: None });
    let Step::Allow(a) = g.resume(&mut flow, fetched, NOW_MS) else { panic!("allowed once the issuer's keys are in") };
    assert_eq!(a.identity.sub.as_deref(), Some("user_2abc"));
    // the keys stay: the next request needs no fetch
    let (_, step) = g.begin(parts("GET", "/me", &[("authorization", &format!("Bearer {t}"))]), NOW_MS);
    assert!(matches!(step, Step::Allow(_)), "{step:?}");
}
