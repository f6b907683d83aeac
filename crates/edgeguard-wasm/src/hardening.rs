//! `Hardening`: the wasm face of rate limits, security headers, CORS, CSRF,
//! body and parameter checks and request ids. Converts JSON and calls
//! `edgeguard-core`; every decision is made there.
//!
//! Every method returns a JSON string. Success: `{"ok": true, ...}`. Refusal:
//! `{"ok": false, "status": 403, "code": "ORIGIN_NOT_ALLOWED", "reason": "...",
//! "headers": [[name, value], ...], "details": [...]?}`. A function whose
//! configuration is invalid answers every call with `MISCONFIGURED` (500).

use std::collections::BTreeMap;

use edgeguard_core::cors::CorsConfig;
use edgeguard_core::csrf::{self, CsrfConfig, CsrfRequest};
use edgeguard_core::headers::{SecurityHeaders, REMOVE_ALWAYS};
use edgeguard_core::policy::Policy;
use edgeguard_core::ratelimit::{
    DenialRecorder, Facts, GlobalAnswer, GlobalResult, LimitDecision, Limiter, LimitsConfig,
    RouteLimits,
};
use edgeguard_core::schema::{merge_sections, BodyError, BodyRules, ParamRules};
use edgeguard_core::{request_id, Denial, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

type Headers = Vec<(String, String)>;

fn headers_json(h: &Headers) -> Value {
    Value::Array(h.iter().map(|(n, v)| json!([n, v])).collect())
}

fn refusal(d: &Denial, headers: &Headers) -> Value {
    json!({"ok": false, "status": d.code.status(), "code": d.code.as_str(), "reason": d.reason, "headers": headers_json(headers)})
}

fn body_refusal(e: &BodyError) -> Value {
    let mut v = refusal(&e.denial, &Vec::new());
    if !e.details.is_empty() {
        v["details"] = Value::Array(
            e.details
                .iter()
                .map(|f| json!({"path": f.path, "message": f.message}))
                .collect(),
        );
    }
    v
}

fn internal(reason: &str) -> String {
    refusal(&Denial::new(ErrorCode::Internal, reason), &Vec::new()).to_string()
}

fn now_ms(n: f64) -> i64 {
    if n.is_finite() && n > 0.0 {
        n as i64
    } else {
        0
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSections {
    limits: Option<Value>,
    body: Option<Value>,
    csrf: Option<Value>,
    params: Option<Value>,
    query: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    cors: Option<Value>,
    headers: Option<Value>,
    limits: Option<Value>,
    body: Option<Value>,
    csrf: Option<Value>,
    #[serde(default)]
    routes: BTreeMap<String, RouteSections>,
}

struct Route {
    limits: RouteLimits,
    body: BodyRules,
    csrf: CsrfConfig,
    params: ParamRules,
}

struct Inner {
    cors: CorsConfig,
    headers: SecurityHeaders,
    limiter: Limiter,
    denials: DenialRecorder,
    default_route: Route,
    routes: BTreeMap<String, Route>,
}

fn build_route(
    limits: &LimitsConfig,
    env: &BTreeMap<String, String>,
    s: &Sections,
    r: Option<&RouteSections>,
) -> Result<Route, Denial> {
    let body = merge_sections(s.body.as_ref(), r.and_then(|r| r.body.as_ref()));
    let csrf = merge_sections(s.csrf.as_ref(), r.and_then(|r| r.csrf.as_ref()));
    Ok(Route {
        limits: limits.route(r.and_then(|r| r.limits.as_ref()))?,
        body: BodyRules::from_value(body.as_ref())?,
        csrf: CsrfConfig::from_env(env, csrf.as_ref())?,
        params: ParamRules::from_values(
            r.and_then(|r| r.params.as_ref()),
            r.and_then(|r| r.query.as_ref()),
        )?,
    })
}

fn build(policy_sections_json: &str, env_json: &str) -> Result<Inner, Denial> {
    let bad = |what: &str| Denial::new(ErrorCode::Misconfigured, what.to_string());
    let s: Sections = serde_json::from_str(policy_sections_json)
        .map_err(|e| Denial::new(ErrorCode::Misconfigured, format!("policy sections: {e}")))?;
    let env: BTreeMap<String, String> = serde_json::from_str(env_json)
        .map_err(|_| bad("environment must be a JSON object of strings"))?;
    let limits = LimitsConfig::from_value(s.limits.as_ref())?.with_env(&env)?;
    let default_route = build_route(&limits, &env, &s, None)?;
    let mut routes = BTreeMap::new();
    for (key, r) in &s.routes {
        routes.insert(key.clone(), build_route(&limits, &env, &s, Some(r))?);
    }
    Ok(Inner {
        cors: CorsConfig::from_env(&env, s.cors.as_ref())?,
        headers: SecurityHeaders::from_value(s.headers.as_ref())?,
        limiter: Limiter::new(limits),
        denials: DenialRecorder::new(),
        default_route,
        routes,
    })
}

/// The hardening state of one function: configuration plus the in-isolate limiter.
#[wasm_bindgen]
pub struct Hardening {
    inner: Result<Inner, Denial>,
}

impl Hardening {
    fn with<F: FnOnce(&mut Inner) -> Value>(&mut self, f: F) -> String {
        match &mut self.inner {
            Ok(inner) => f(inner).to_string(),
            Err(d) => refusal(d, &Vec::new()).to_string(),
        }
    }
}

impl Inner {
    fn route(&self, key: &str) -> &Route {
        self.routes.get(key).unwrap_or(&self.default_route)
    }
}

/// An allowed limit decision, serialised straight from its parts (the hot path:
/// every limited request), the same JSON as [`decision_json`] gives.
#[derive(Serialize)]
struct AllowedAnswer<'a> {
    ok: bool,
    decision: &'a LimitDecision,
    headers: &'a Headers,
}

fn decision_string(d: &LimitDecision) -> String {
    if d.denial().is_none() {
        let headers = d.headers();
        let answer = AllowedAnswer {
            ok: true,
            decision: d,
            headers: &headers,
        };
        if let Ok(s) = serde_json::to_string(&answer) {
            return s;
        }
    }
    decision_json(d).to_string()
}

fn decision_json(d: &LimitDecision) -> Value {
    let headers = d.headers();
    let decision = serde_json::to_value(d).unwrap_or(Value::Null);
    match d.denial() {
        None => json!({"ok": true, "decision": decision, "headers": headers_json(&headers)}),
        Some(den) => {
            let mut v = refusal(&den, &headers);
            v["decision"] = decision;
            v
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobalAnswerJson {
    decision: LimitDecision,
    #[serde(default)]
    results: Vec<GlobalResult>,
    #[serde(default)]
    unavailable: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CsrfRequestJson {
    method: String,
    origin: Option<String>,
    sec_fetch_site: Option<String>,
    token: Option<String>,
    subject: Option<String>,
    #[serde(default)]
    has_bearer: bool,
    self_origin: Option<String>,
    /// The raw `Cookie` header: the subject of a caller without a user id.
    cookie: Option<String>,
    /// The raw `Authorization` header: Bearer requests are exempt.
    authorization: Option<String>,
}

#[wasm_bindgen]
impl Hardening {
    /// Builds the state from the policy sections
    /// (`{"cors","headers","limits","body","csrf","routes":{"POST /x":{"limits","body","csrf","params","query"}}}`)
    /// and the environment (a JSON object of strings). Never throws: an invalid
    /// configuration makes every method answer `MISCONFIGURED`.
    #[wasm_bindgen(constructor)]
    pub fn new(policy_sections_json: &str, env_json: &str) -> Hardening {
        Hardening {
            inner: build(policy_sections_json, env_json),
        }
    }

    /// `{"ok": true}` or the `MISCONFIGURED` refusal.
    pub fn status(&mut self) -> String {
        self.with(|_| json!({"ok": true}))
    }

    /// Answers a CORS preflight: `{"ok":true,"status":204,"headers":[...]}` or a 403 refusal with headers.
    pub fn preflight(
        &mut self,
        origin: Option<String>,
        method: Option<String>,
        request_headers: Option<String>,
    ) -> String {
        self.with(|i| {
            let p = i.cors.preflight(
                origin.as_deref(),
                method.as_deref(),
                request_headers.as_deref(),
            );
            let mut headers = i.headers.headers().to_vec();
            headers.extend(p.headers);
            match p.denial {
                None => json!({"ok": true, "status": 204, "headers": headers_json(&headers)}),
                Some(d) => refusal(&d, &headers),
            }
        })
    }

    /// The headers every response gets (security headers and CORS for `origin`):
    /// `{"ok":true,"headers":[...],"remove":["Server","X-Powered-By"]}`.
    #[wasm_bindgen(js_name = responseHeaders)]
    pub fn response_headers(&mut self, origin: Option<String>) -> String {
        self.with(|i| {
            let mut headers = i.headers.headers().to_vec();
            headers.extend(i.cors.response_headers(origin.as_deref()));
            json!({"ok": true, "headers": headers_json(&headers), "remove": REMOVE_ALWAYS})
        })
    }

    /// The in-isolate limits of `route` for a request described by `facts_json`
    /// (`{"headers":{...},"remote_addr","user_id","api_key_id","tenant_id","role"}`).
    /// `{"ok":true,"decision":{...,"global":[{"rule","key","limit","window_s"}]},"headers":[...]}`
    /// or a 429 refusal (with `Retry-After`) carrying the same `decision`.
    #[wasm_bindgen(js_name = limitLocal)]
    pub fn limit_local(&mut self, route: &str, facts_json: &str, now: f64) -> String {
        let facts: Facts = match serde_json::from_str(facts_json) {
            Ok(f) => f,
            Err(_) => return internal("malformed limit facts"),
        };
        match &mut self.inner {
            Ok(i) => {
                // Disjoint fields: the route's rules are borrowed while the limiter counts.
                let limits = &i.routes.get(route).unwrap_or(&i.default_route).limits;
                decision_string(&i.limiter.check(limits, &facts, now_ms(now)))
            }
            Err(d) => refusal(d, &Vec::new()).to_string(),
        }
    }

    /// How the client IP of a request described by `facts_json` (as for
    /// `limitLocal`) resolves, for a deploy check:
    /// `{"ok":true,"source":"x-forwarded-for:1","header":"x-forwarded-for","header_present":true,"client_ip":"203.0.113.5"|null}`.
    /// Names nothing else about the request.
    #[wasm_bindgen(js_name = clientIpReport)]
    pub fn client_ip_report(&mut self, facts_json: &str) -> String {
        let facts: Facts = match serde_json::from_str(facts_json) {
            Ok(f) => f,
            Err(_) => return internal("malformed limit facts"),
        };
        self.with(|i| {
            let config = i.limiter.config();
            let header = config.ip_header();
            let present = header.is_some_and(|h| facts.headers.keys().any(|k| k.eq_ignore_ascii_case(h)));
            json!({
                "ok": true,
                "source": config.ip_source_name(),
                "header": header,
                "header_present": present,
                "client_ip": config.client_ip(&facts),
            })
        })
    }

    /// Whether an identity denial (`code`, e.g. `INVALID_JWT`) on `route` for a
    /// request described by `facts_json` (as for `limitLocal`) should be
    /// recorded as a security event: at most once per (route, code, client IP)
    /// per minute in this isolate. `false` on malformed facts or a
    /// misconfigured policy.
    #[wasm_bindgen(js_name = recordDenial)]
    pub fn record_denial(&mut self, route: &str, code: &str, facts_json: &str, now: f64) -> bool {
        let Ok(facts) = serde_json::from_str::<Facts>(facts_json) else {
            return false;
        };
        match &mut self.inner {
            Ok(i) => {
                let client = i.limiter.config().client_ip(&facts);
                i.denials
                    .should_record(route, code, client.as_deref(), now_ms(now))
            }
            Err(_) => false,
        }
    }

    /// Folds the Postgres limiter's answers into the decision:
    /// `answer_json` = `{"decision": <from limitLocal>, "results": [{"key","allowed","remaining","reset_s","retry_after_s"?}]}`
    /// or `{"decision": ..., "unavailable": true}`. Same output as `limitLocal`
    /// (a 503 `UNAVAILABLE` refusal when the database is down and limits fail closed).
    #[wasm_bindgen(js_name = limitApplyGlobal)]
    pub fn limit_apply_global(&mut self, route: &str, answer_json: &str, now: f64) -> String {
        let a: GlobalAnswerJson = match serde_json::from_str(answer_json) {
            Ok(a) => a,
            Err(_) => return internal("malformed rate limiter answer"),
        };
        self.with(|i| {
            let rules = i.route(route).limits.rules();
            if a.decision
                .global
                .iter()
                .any(|g| !rules.iter().any(|r| r.name() == g.rule))
            {
                return refusal(
                    &Denial::new(
                        ErrorCode::Internal,
                        "decision does not belong to this route",
                    ),
                    &Vec::new(),
                );
            }
            let answer = if a.unavailable {
                GlobalAnswer::Unavailable
            } else {
                GlobalAnswer::Results(a.results)
            };
            match i.limiter.apply_global(&a.decision, &answer, now_ms(now)) {
                Ok(d) => decision_json(&d),
                Err(d) => refusal(&d, &Vec::new()),
            }
        })
    }

    /// Issues a CSRF token bound to `subject`: `{"ok":true,"token":"v1....","expires_in_s":7200}`.
    #[wasm_bindgen(js_name = csrfIssue)]
    pub fn csrf_issue(&mut self, route: &str, subject: &str, now: f64) -> String {
        self.with(|i| {
            let c = &i.route(route).csrf;
            match c.issue(subject, (now_ms(now) / 1000) as u64) {
                Ok(token) => json!({"ok": true, "token": token, "expires_in_s": c.ttl_s()}),
                Err(d) => refusal(&d, &Vec::new()),
            }
        })
    }

    /// Checks CSRF for `route`: `request_json` =
    /// `{"method","origin"?,"sec_fetch_site"?,"token"?,"subject"?,"has_bearer","self_origin"?}`.
    /// `{"ok":true}` or a 403 `CSRF_FAILED` refusal.
    #[wasm_bindgen(js_name = csrfCheck)]
    pub fn csrf_check(&mut self, route: &str, request_json: &str, now: f64) -> String {
        let r: CsrfRequestJson = match serde_json::from_str(request_json) {
            Ok(r) => r,
            Err(_) => return internal("malformed CSRF request"),
        };
        self.with(|i| {
            let req = CsrfRequest {
                method: &r.method,
                origin: r.origin.as_deref(),
                sec_fetch_site: r.sec_fetch_site.as_deref(),
                token: r.token.as_deref(),
                subject: r
                    .subject
                    .as_deref()
                    .or_else(|| r.cookie.as_deref().and_then(csrf::cookie_subject)),
                has_bearer: r.has_bearer || r.authorization.as_deref().is_some_and(csrf::is_bearer),
                self_origin: r.self_origin.as_deref(),
            };
            match i
                .route(route)
                .csrf
                .check(&req, Some(&i.cors), (now_ms(now) / 1000) as u64)
            {
                Ok(()) => json!({"ok": true}),
                Err(d) => refusal(&d, &Vec::new()),
            }
        })
    }

    /// The body size limit of `route` in bytes (the shim stops reading past it); 0 when misconfigured.
    #[wasm_bindgen(js_name = bodyLimit)]
    pub fn body_limit(&self, route: &str) -> u32 {
        match &self.inner {
            Ok(i) => u32::try_from(i.route(route).body.max_bytes()).unwrap_or(u32::MAX),
            Err(_) => 0,
        }
    }

    /// Checks a body: `{"ok":true,"value":<parsed JSON or null>}` or a
    /// 413/415/400/422 refusal (`details: [{"path","message"}]` for 422).
    #[wasm_bindgen(js_name = checkBody)]
    pub fn check_body(&mut self, route: &str, content_type: Option<String>, body: &[u8]) -> String {
        self.with(
            |i| match i.route(route).body.check(content_type.as_deref(), body) {
                Ok(value) => json!({"ok": true, "value": value}),
                Err(e) => body_refusal(&e),
            },
        )
    }

    /// Checks path parameters (`{"id":"..."}`) and the raw query string (without `?`).
    #[wasm_bindgen(js_name = checkParams)]
    pub fn check_params(&mut self, route: &str, path_params_json: &str, query: &str) -> String {
        let params: BTreeMap<String, String> = match serde_json::from_str(path_params_json) {
            Ok(p) => p,
            Err(_) => return internal("malformed path parameters"),
        };
        self.with(|i| match i.route(route).params.check(&params, query) {
            Ok(()) => json!({"ok": true}),
            Err(e) => body_refusal(&e),
        })
    }

    /// Whether `route` checks CSRF at all (`csrfCheck` answers `{"ok":true}` for
    /// every request when not). `true` when misconfigured, so the check still runs.
    #[wasm_bindgen(js_name = csrfRequired)]
    pub fn csrf_required(&self, route: &str) -> bool {
        self.inner
            .as_ref()
            .map_or(true, |i| i.route(route).csrf.is_required())
    }

    /// Whether `route` is exempt from rate limits (`limitLocal` then answers the
    /// same allow for every request, without counting). `false` when misconfigured.
    #[wasm_bindgen(js_name = limitsExempt)]
    pub fn limits_exempt(&self, route: &str) -> bool {
        self.inner
            .as_ref()
            .is_ok_and(|i| i.route(route).limits.is_exempt())
    }

    /// How many (rule, key) pairs the in-isolate limiter tracks.
    #[wasm_bindgen(js_name = trackedKeys)]
    pub fn tracked_keys(&self) -> u32 {
        self.inner.as_ref().map_or(0, |i| {
            u32::try_from(i.limiter.tracked_keys()).unwrap_or(u32::MAX)
        })
    }
}

/// The routes of a function's policy, for the steps that run before
/// authentication (CORS, rate limits, body limits): the same matching and the
/// same route keys (`GET /me`) as the identity `Gate`, from `edgeguard-core`.
#[wasm_bindgen]
pub struct Routes {
    policy: Result<Policy, Denial>,
}

#[wasm_bindgen]
impl Routes {
    /// Parses `policy.json`. Never throws: an invalid policy makes every method
    /// answer `MISCONFIGURED`.
    #[wasm_bindgen(constructor)]
    pub fn new(policy_json: &str) -> Routes {
        Routes {
            policy: Policy::from_json(policy_json)
                .map_err(|e| Denial::new(ErrorCode::Misconfigured, e.to_string())),
        }
    }

    /// The hardening sections of the policy in the shape `Hardening` takes:
    /// `{"ok":true,"sections":{"cors","headers","limits","body","csrf","routes":{"GET /me":{...}}}}`.
    pub fn sections(&self) -> String {
        match &self.policy {
            Ok(p) => json!({"ok": true, "sections": hardening_sections(p)}).to_string(),
            Err(d) => refusal(d, &Vec::new()).to_string(),
        }
    }

    /// Matches a request: `{"ok":true,"route":"GET /items/:id","params":{"id":"..."}}`
    /// or a 404 `NOT_FOUND` / 405 `METHOD_NOT_ALLOWED` refusal.
    #[wasm_bindgen(js_name = find)]
    pub fn find(&self, method: &str, path: &str) -> String {
        match &self.policy {
            Ok(p) => match p.match_route(method, path) {
                Ok((route, params)) => {
                    let params: BTreeMap<String, String> = params.into_iter().collect();
                    json!({"ok": true, "route": route.key, "params": params}).to_string()
                }
                Err(d) => refusal(&d, &Vec::new()).to_string(),
            },
            Err(d) => refusal(d, &Vec::new()).to_string(),
        }
    }
}

/// Reshapes `policy.json` (routes as a list) into the `Hardening` sections
/// (routes keyed by the core's route key).
fn hardening_sections(p: &Policy) -> Value {
    let mut out = serde_json::Map::new();
    for name in ["cors", "headers", "limits", "body", "csrf"] {
        if let Some(v) = p.raw.get(name) {
            out.insert(name.to_string(), v.clone());
        }
    }
    let mut routes = serde_json::Map::new();
    let raw_routes = p.raw.get("routes").and_then(Value::as_array);
    for (i, route) in p.routes.iter().enumerate() {
        let mut r = serde_json::Map::new();
        if let Some(raw) = raw_routes.and_then(|a| a.get(i)) {
            for name in ["limits", "body", "csrf", "params", "query"] {
                if let Some(v) = raw.get(name) {
                    r.insert(name.to_string(), v.clone());
                }
            }
        }
        routes.insert(route.key.clone(), Value::Object(r));
    }
    out.insert("routes".to_string(), Value::Object(routes));
    Value::Object(out)
}

/// The CSRF subject carried by a `Cookie` header, if any.
#[wasm_bindgen(js_name = csrfCookieSubject)]
pub fn csrf_cookie_subject(cookie_header: Option<String>) -> Option<String> {
    cookie_header
        .as_deref()
        .and_then(csrf::cookie_subject)
        .map(str::to_string)
}

/// Whether an incoming `x-request-id` is well formed and may be kept.
#[wasm_bindgen(js_name = requestIdOk)]
pub fn request_id_ok(id: &str) -> bool {
    request_id::is_well_formed(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).expect("facade output is JSON")
    }

    const ENV: &str = r#"{"CORS_ORIGINS":"https://app.example.com","CSRF_SECRET":"0123456789abcdef0123456789abcdef","APP_ENV":"production"}"#;

    fn policy() -> String {
        json!({
            "limits": {"classes": {
                "auth": [{"name": "auth-ip", "by": ["ip"], "limit": 2, "window_s": 60}],
                "standard": [{"name": "ip-min", "by": ["ip"], "limit": 5, "window_s": 60},
                             {"name": "user-min", "by": ["user"], "limit": 3, "window_s": 60, "global": true}]}},
            "body": {"max_bytes": 1024},
            "routes": {
                "POST /login": {"limits": {"class": "auth"}, "csrf": {"required": true},
                    "body": {"schema": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}}}}},
                "GET /health": {"limits": {"exempt": true}},
                "GET /items/:id": {"params": {"id": {"type": "string", "format": "uuid"}}}
            }
        })
        .to_string()
    }

    #[test]
    fn the_direct_allowed_answer_is_the_value_answer() {
        let mut h = Hardening::new(&policy(), ENV);
        let facts = r#"{"headers":{"x-forwarded-for":"203.0.113.9"},"user_id":"u-1"}"#;
        for _ in 0..3 {
            let out = parse(&h.limit_local("GET /items/:id", facts, 1_000.0));
            assert_eq!(out["ok"], true, "{out}");
            let d: LimitDecision =
                serde_json::from_value(out["decision"].clone()).expect("a decision");
            assert!(!d.global.is_empty() && !d.policies.is_empty());
            assert_eq!(parse(&decision_string(&d)), decision_json(&d));
            assert_eq!(out, decision_json(&d));
        }
    }

    #[test]
    fn misconfiguration_answers_every_call_with_misconfigured() {
        for (p, e) in [
            ("not json", "{}"),
            ("{}", "[]"),
            (r#"{"cors":{"nope":1}}"#, "{}"),
            ("{}", r#"{"CORS_ORIGINS":"*","APP_ENV":"production"}"#),
            ("{}", r#"{"CSRF_SECRET":"short"}"#),
            (r#"{"routes":{"POST /x":{"csrf":{"required":true}}}}"#, "{}"),
        ] {
            let mut h = Hardening::new(p, e);
            for out in [
                h.status(),
                h.response_headers(None),
                h.limit_local("GET /", "{}", 0.0),
                h.check_body("x", None, b""),
            ] {
                let v = parse(&out);
                assert_eq!(v["ok"], false);
                assert_eq!(v["code"], "MISCONFIGURED", "{p} {e}");
                assert_eq!(v["status"], 500);
                assert!(!out.contains("0123456789abcdef"));
            }
            assert_eq!(h.body_limit("x"), 0);
        }
    }

    #[test]
    fn end_to_end_flow() {
        let mut h = Hardening::new(&policy(), ENV);
        assert_eq!(parse(&h.status())["ok"], true);
        // headers + CORS
        let v = parse(&h.response_headers(Some("https://app.example.com".into())));
        let hs = v["headers"].as_array().unwrap();
        assert!(hs
            .iter()
            .any(|p| p[0] == "X-Content-Type-Options" && p[1] == "nosniff"));
        assert!(hs
            .iter()
            .any(|p| p[0] == "Access-Control-Allow-Origin" && p[1] == "https://app.example.com"));
        let pf = parse(&h.preflight(
            Some("https://evil.example".into()),
            Some("POST".into()),
            None,
        ));
        assert_eq!(
            (pf["status"].as_u64(), pf["code"].as_str()),
            (Some(403), Some("ORIGIN_NOT_ALLOWED"))
        );
        assert_eq!(
            parse(&h.preflight(
                Some("https://app.example.com".into()),
                Some("POST".into()),
                Some("content-type".into())
            ))["status"],
            204
        );
        // limits: auth class 2/min, then 429 with Retry-After
        let facts = r#"{"headers":{"x-forwarded-for":"203.0.113.1"}}"#;
        assert_eq!(
            parse(&h.limit_local("POST /login", facts, 1000.0))["ok"],
            true
        );
        assert_eq!(
            parse(&h.limit_local("POST /login", facts, 1000.0))["ok"],
            true
        );
        let r = parse(&h.limit_local("POST /login", facts, 1000.0));
        assert_eq!(
            (r["status"].as_u64(), r["code"].as_str()),
            (Some(429), Some("RATE_LIMITED"))
        );
        assert!(r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p[0] == "Retry-After" && p[1] == "30"));
        for _ in 0..50 {
            assert_eq!(
                parse(&h.limit_local("GET /health", facts, 1000.0))["ok"],
                true
            );
        }
        // global: local passes, DB says no
        let uf = r#"{"headers":{"x-forwarded-for":"203.0.113.2"},"user_id":"u1"}"#;
        let local = parse(&h.limit_local("GET /me", uf, 0.0));
        let key = local["decision"]["global"][0]["key"]
            .as_str()
            .unwrap()
            .to_string();
        let ans = json!({"decision": local["decision"], "results": [{"key": key, "allowed": false, "remaining": 0, "reset_s": 20}]});
        let fin = parse(&h.limit_apply_global("GET /me", &ans.to_string(), 0.0));
        assert_eq!(fin["code"], "RATE_LIMITED");
        let down = json!({"decision": local["decision"], "unavailable": true});
        assert_eq!(
            parse(&h.limit_apply_global("GET /me", &down.to_string(), 0.0))["code"],
            "UNAVAILABLE"
        );
        assert_eq!(
            parse(&h.limit_apply_global("POST /login", &ans.to_string(), 0.0))["code"],
            "INTERNAL"
        );
        // CSRF
        let t = parse(&h.csrf_issue("POST /login", "sess", 5_000_000.0));
        let token = t["token"].as_str().unwrap();
        let req = json!({"method": "POST", "origin": "https://app.example.com", "token": token, "subject": "sess"}).to_string();
        assert_eq!(
            parse(&h.csrf_check("POST /login", &req, 5_000_000.0))["ok"],
            true
        );
        let bad = json!({"method": "POST", "token": token, "subject": "other"}).to_string();
        assert_eq!(
            parse(&h.csrf_check("POST /login", &bad, 5_000_000.0))["code"],
            "CSRF_FAILED"
        );
        assert_eq!(
            parse(&h.csrf_check("GET /me", &bad, 5_000_000.0))["ok"],
            true,
            "route without csrf"
        );
        // body + params
        assert_eq!(h.body_limit("POST /login"), 1024);
        let ok = parse(&h.check_body(
            "POST /login",
            Some("application/json".into()),
            br#"{"email":"a@example.com"}"#,
        ));
        assert_eq!(ok["value"]["email"], "a@example.com");
        let v = parse(&h.check_body(
            "POST /login",
            Some("application/json".into()),
            br#"{"email":1}"#,
        ));
        assert_eq!(
            (v["status"].as_u64(), v["details"][0]["path"].as_str()),
            (Some(422), Some("/email"))
        );
        assert_eq!(
            parse(&h.check_body(
                "POST /login",
                Some("application/json".into()),
                &[b' '; 2000]
            ))["status"],
            413
        );
        let p = parse(&h.check_params("GET /items/:id", r#"{"id":"x"}"#, ""));
        assert_eq!(p["details"][0]["path"], "/params/id");
        assert!(request_id_ok("abc-123"));
        assert!(!request_id_ok("a b"));
    }

    #[test]
    fn routes_match_and_reshape_the_policy() {
        let policy = r#"{"auth":["none"],"limits":{"max_keys":10},
            "routes":[{"method":"get","path":"/items/:id","params":{"id":{"type":"string"}}},
                      {"method":"POST","path":"/items","body":{"max_bytes":10}}]}"#;
        let r = Routes::new(policy);
        let v = parse(&r.find("GET", "/items/42"));
        assert_eq!(
            (v["route"].as_str(), v["params"]["id"].as_str()),
            (Some("GET /items/:id"), Some("42"))
        );
        assert_eq!(
            parse(&r.find("DELETE", "/items"))["code"],
            "METHOD_NOT_ALLOWED"
        );
        assert_eq!(parse(&r.find("GET", "/nope"))["status"], 404);
        let s = parse(&r.sections());
        assert_eq!(s["sections"]["limits"]["max_keys"], 10);
        assert_eq!(
            s["sections"]["routes"]["POST /items"]["body"]["max_bytes"],
            10
        );
        let mut h = Hardening::new(&s["sections"].to_string(), "{}");
        assert_eq!(parse(&h.status())["ok"], true);
        assert_eq!(h.body_limit("POST /items"), 10);
        let bad = Routes::new("{\"routes\":[]}");
        assert_eq!(parse(&bad.sections())["code"], "MISCONFIGURED");
        assert_eq!(parse(&bad.find("GET", "/"))["code"], "MISCONFIGURED");
    }

    #[test]
    fn garbage_inputs_never_panic() {
        let mut h = Hardening::new(&policy(), ENV);
        let junk = [
            "",
            "null",
            "[]",
            "{",
            "{\"headers\":1}",
            "\u{0}",
            &"[".repeat(10_000),
            "{\"decision\":{}}",
        ];
        for j in junk {
            for out in [
                h.limit_local("GET /", j, f64::NAN),
                h.limit_apply_global("GET /", j, f64::INFINITY),
                h.csrf_check("POST /login", j, -1.0),
                h.check_params("GET /items/:id", j, j),
                h.check_body("POST /login", Some(j.to_string()), j.as_bytes()),
                h.csrf_issue("POST /login", j, 0.0),
                h.preflight(
                    Some(j.to_string()),
                    Some(j.to_string()),
                    Some(j.to_string()),
                ),
                h.response_headers(Some(j.to_string())),
            ] {
                let v = parse(&out);
                assert!(v["ok"].is_boolean());
            }
        }
    }
}
