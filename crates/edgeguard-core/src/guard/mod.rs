//! The request pipeline: one sans-IO state machine that decides, in order,
//! everything a function's request goes through before its handler runs
//! (docs/architecture.md). The order of the checks is security policy, so it
//! lives here and is tested natively (`tests/pipeline_*.rs`).
//!
//! ```text
//! begin(parts) ─► preflight? ─► route ─► credentials (JWKS, API key lookup)
//!   ─► local limits ─► credential denial ─► global limits (Postgres)
//!   ─► path/query params ─► body (read by the host) ─► body checks
//!   ─► body tenant ─► CSRF ─► Allow
//! ```
//!
//! The host (the Deno shim) calls [`Guard::begin`] with the request's parts
//! and answers every `Need*` [`Step`] with [`Guard::resume`]; it never
//! decides anything. Time is an argument; the only randomness (fresh request
//! ids and CSRF subjects) comes from `getrandom`.

mod settings;
mod step;

use std::sync::Arc;

pub use settings::{RouteSettings, Settings};
pub use step::{
    Allowed, BodyChecked, ClientIpReport, CsrfIssued, EventDetails, FieldDetail, HeaderPair,
    Input, JwksFetch, Refusal, RequestParts, ResponseHeaders, SecurityEvent, Step,
};

use crate::auth::keys::MAX_JWKS_BYTES;
use crate::authz::{self, Decision, Gate, Identity, PrebuiltIdentity, TenantCheck};
use crate::csrf::{self, CsrfRequest, CSRF_COOKIE};
use crate::headers::REMOVE_ALWAYS;
use crate::ratelimit::{DenialRecorder, Facts, GlobalAnswer, LimitDecision, Limiter};
use crate::schema::BodyError;
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// The request headers every request's decisions may read: credentials,
/// `Origin` (CORS, CSRF), the request id and the body's media type.
const ALWAYS_READ: [&str; 6] = [
    "authorization",
    "apikey",
    "x-api-key",
    "origin",
    "x-request-id",
    "content-type",
];

/// The credential headers the identity gate reads.
const CREDENTIALS: [&str; 3] = ["authorization", "apikey", "x-api-key"];

/// What a CSRF check reads besides `Origin`: only for policies with a CSRF route.
const CSRF_READ: [&str; 3] = ["cookie", "x-csrf-token", "sec-fetch-site"];

/// What a CORS preflight reads besides `Origin`: only for `OPTIONS` requests.
pub const PREFLIGHT_HEADER_NAMES: [&str; 2] = [
    "access-control-request-method",
    "access-control-request-headers",
];

/// The headers the client IP may be read from (which one counts is the
/// deployment's `EDGEGUARD_CLIENT_IP`, docs/platform.md).
const IP_HEADERS: [&str; 3] = ["x-forwarded-for", "cf-connecting-ip", "x-real-ip"];

/// The longest `max-age` of a JWKS response that is honoured, in seconds.
const JWKS_MAX_AGE_CAP_S: u32 = 86_400;
/// The `max-age` assumed when a JWKS response names none.
const JWKS_DEFAULT_MAX_AGE_S: u32 = 600;

/// Options of a function's guard.
#[derive(Clone, Copy, Debug, Default)]
pub struct GuardOptions {
    /// Signed requests (webhooks, hooks): the body's media type, JSON and
    /// schema are checked only when the handler asks, after it verified the
    /// signature over the raw bytes. CSRF routes and body-tenant routes are
    /// checked up front all the same.
    pub defer_body_checks: bool,
}

/// Where a request is in the pipeline, between two steps.
#[derive(Debug)]
enum Stage {
    /// Waiting for the JWKS (first fetch or a refetch for an unknown `kid`).
    Jwks,
    /// Waiting for the user API key's row.
    ApiKey,
    /// Waiting for the global limit results.
    GlobalLimits,
    /// Waiting for the body.
    Body,
    /// A final step was answered: nothing more to resume.
    Done,
}

/// One request's state between steps. Opaque to the host: it only hands it
/// back to [`Guard::resume`].
#[derive(Debug)]
pub struct Flow {
    parts: RequestParts,
    stage: Stage,
    /// The request id: the incoming one when well formed, else fresh.
    request_id: String,
    jwks_refetched: bool,
    /// The third-party issuer whose JWKS the pending fetch is for (`None`: Supabase Auth's).
    jwks_issuer: Option<String>,
    api_key_looked_up: bool,
    /// What the identity gate reads of the request, once built.
    gate_request: Option<authz::Request>,
    /// The key hash of the pending API key lookup.
    lookup_hash: Option<String>,
    route: String,
    params: SortedMap<String, String>,
    identity: Option<(Arc<Identity>, Option<PrebuiltIdentity>)>,
    tenant_check: Option<TenantCheck>,
    local: Option<LimitDecision>,
    rate_headers: Vec<HeaderPair>,
    /// A note for the host's log (one per isolate: an IP rule had no trustworthy client IP).
    note: Option<String>,
}

impl Flow {
    /// The request id every response and log line of this request carries.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    /// A note for the log, taken (set at most once per isolate).
    pub fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }
    /// Whether the flow has ended (a final step was answered).
    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }
    /// The request parts the flow started from.
    pub fn parts(&self) -> &RequestParts {
        &self.parts
    }
}

/// One function's pipeline: the identity gate, the request-check settings and the
/// in-isolate limiter, built from one parse of the policy and the environment.
#[derive(Debug)]
pub struct Guard {
    gate: Gate,
    settings: Settings,
    limiter: Limiter,
    denials: DenialRecorder,
    options: GuardOptions,
    header_names: Vec<String>,
    /// The headers the policy reads a tenant (or an issuer's cookie) from.
    tenant_headers: Vec<String>,
}

fn refusal(d: Denial, headers: Vec<HeaderPair>) -> Refusal {
    Refusal {
        status: d.code.status(),
        code: d.code,
        reason: d.reason,
        headers,
        details: Vec::new(),
        event: None,
    }
}

fn body_refusal(e: BodyError) -> Refusal {
    let mut r = refusal(e.denial, Vec::new());
    r.details = e
        .details
        .into_iter()
        .map(|f| FieldDetail {
            path: f.path,
            message: f.message,
        })
        .collect();
    r
}

fn whole_ms(now_ms: f64) -> i64 {
    if now_ms.is_finite() && now_ms > 0.0 {
        now_ms as i64
    } else {
        0
    }
}

/// The `max-age` of a JWKS response's `Cache-Control`, capped; the default when absent.
pub fn jwks_max_age(cache_control: Option<&str>) -> u32 {
    let Some(cc) = cache_control else {
        return JWKS_DEFAULT_MAX_AGE_S;
    };
    cc.split(',')
        .filter_map(|d| d.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("max-age"))
        .and_then(|(_, v)| v.trim().trim_matches('"').parse::<u64>().ok())
        .map_or(JWKS_DEFAULT_MAX_AGE_S, |s| {
            u32::try_from(s.min(u64::from(JWKS_MAX_AGE_CAP_S))).unwrap_or(JWKS_MAX_AGE_CAP_S)
        })
}

impl Guard {
    /// Builds the pipeline from `policy.json`'s text and the environment.
    /// The error names what is misconfigured (e.g. `policy: routes[1].roles[0]: unknown role "root"`).
    pub fn new(
        policy_json: &str,
        env: &SortedMap<String, String>,
        options: GuardOptions,
    ) -> Result<Guard, String> {
        let gate = Gate::new(policy_json, env)?;
        let settings = Settings::new(gate.policy(), env).map_err(|d| d.reason)?;
        // Only what this policy's decisions can read: fewer header reads per request.
        let mut header_names: Vec<String> = ALWAYS_READ.iter().map(|s| (*s).to_owned()).collect();
        if let Some(ip) = settings.limits.ip_header() {
            header_names.push(ip.to_owned());
        }
        if settings.default_route.csrf.is_required()
            || settings.routes.values().any(|r| r.csrf.is_required())
        {
            header_names.extend(CSRF_READ.iter().map(|s| (*s).to_owned()));
        }
        let tenant_headers = gate.tenant_header_names();
        for t in &tenant_headers {
            if !header_names.contains(t) {
                header_names.push(t.clone());
            }
        }
        Ok(Guard {
            limiter: Limiter::new(settings.limits.clone()),
            gate,
            settings,
            denials: DenialRecorder::new(),
            options,
            header_names,
            tenant_headers,
        })
    }

    /// The request headers the host hands over in [`RequestParts::headers`]
    /// (lower-case): credentials, `Origin`, `x-request-id`, `Content-Type`,
    /// the configured client-IP header, the CSRF headers when a route checks
    /// CSRF, the policy's tenant headers, and for an `OPTIONS` request also
    /// [`PREFLIGHT_HEADER_NAMES`].
    pub fn header_names(&self) -> &[String] {
        &self.header_names
    }

    /// The identity gate (token and key caches), for measurements.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The request-check settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The in-isolate limiter, for measurements.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The headers every response gets for a request from `origin`: the
    /// security headers and, for an allowed origin, the CORS headers.
    pub fn response_headers(&self, origin: Option<&str>) -> ResponseHeaders {
        response_headers(&self.settings, origin)
    }

    /// Starts a request: the first step, and the flow to hand back to
    /// [`Guard::resume`] while the step is a `Need*`.
    pub fn begin(&mut self, parts: RequestParts, now_ms: f64) -> (Flow, Step) {
        let request_id = match parts.header("x-request-id") {
            Some(id) if crate::request_id::is_well_formed(id) => id.to_owned(),
            _ => crate::request_id::fresh(),
        };
        let mut flow = Flow {
            parts,
            stage: Stage::Done,
            request_id,
            jwks_refetched: false,
            jwks_issuer: None,
            api_key_looked_up: false,
            lookup_hash: None,
            gate_request: None,
            route: String::new(),
            params: SortedMap::new(),
            identity: None,
            tenant_check: None,
            local: None,
            rate_headers: Vec::new(),
            note: None,
        };
        let step = self.start(&mut flow, now_ms);
        (flow, step)
    }

    /// Continues `flow` with the host's answer to its last step. An input
    /// that does not answer the flow's step is refused as `INTERNAL`.
    pub fn resume(&mut self, flow: &mut Flow, input: Input<'_>, now_ms: f64) -> Step {
        let stage = std::mem::replace(&mut flow.stage, Stage::Done);
        match (stage, input) {
            (Stage::Jwks, Input::Jwks(fetch)) => {
                let issuer = flow.jwks_issuer.take();
                let issuer = issuer.as_deref();
                match fetch {
                    JwksFetch::Fetched {
                        json,
                        cache_control,
                    } => {
                        let max_age = jwks_max_age(cache_control);
                        if self.gate.set_jwks_at(issuer, json, max_age, now_ms).is_err() {
                            self.gate.jwks_fetch_failed_at(issuer, now_ms);
                        }
                    }
                    JwksFetch::Failed => self.gate.jwks_fetch_failed_at(issuer, now_ms),
                }
                self.authenticate(flow, now_ms)
            }
            (Stage::ApiKey, Input::ApiKeyRow(row)) => {
                let Some(hash) = flow.lookup_hash.take() else {
                    return Step::Refuse(refusal(
                        Denial::new(ErrorCode::Internal, "API key row without a lookup"),
                        Vec::new(),
                    ));
                };
                if let Err(e) = self.gate.put_api_key(&hash, row, now_ms) {
                    return Step::Refuse(refusal(Denial::new(ErrorCode::Internal, e), Vec::new()));
                }
                self.authenticate(flow, now_ms)
            }
            (Stage::GlobalLimits, Input::GlobalLimits(answer)) => {
                self.global_limits(flow, &answer, now_ms)
            }
            (Stage::Body, Input::Body(bytes)) => self.body(flow, bytes, now_ms),
            (_, _) => Step::Refuse(refusal(
                Denial::new(ErrorCode::Internal, "pipeline resumed with an input it did not ask for"),
                Vec::new(),
            )),
        }
    }

    fn start(&mut self, flow: &mut Flow, now_ms: f64) -> Step {
        let p = &flow.parts;
        if p.method == "OPTIONS"
            && p.header("origin").is_some()
            && p.header("access-control-request-method").is_some()
        {
            let pf = self.settings.cors.preflight(
                p.header("origin"),
                p.header("access-control-request-method"),
                p.header("access-control-request-headers"),
            );
            return match pf.denial {
                None => Step::Preflight {
                    status: 204,
                    headers: pf.headers,
                },
                Some(d) => Step::Refuse(refusal(d, pf.headers)),
            };
        }
        let (_, path, _) = p.url_parts();
        let method = p.method.to_ascii_uppercase();
        match self.gate.policy().route(&method, path) {
            Ok((route, params)) => {
                flow.route = route.key.clone();
                flow.params = params;
            }
            Err(d) => {
                // Unknown paths count against the default limits by IP, so probing is limited too.
                let facts = facts_of(&flow.parts, None);
                let decision =
                    self.limiter
                        .check(&self.settings.default_route.limits, &facts, whole_ms(now_ms));
                flow.note = decision.ip_note.clone();
                if let Some(r) = self.limit_refusal(&decision, "") {
                    return Step::Refuse(r);
                }
                return Step::Refuse(refusal(d, decision.headers()));
            }
        }
        if self.gate.needs_jwks(now_ms) {
            return self.need_jwks(flow, None);
        }
        self.authenticate(flow, now_ms)
    }

    /// Asks for Supabase Auth's JWKS, or a third-party issuer's (docs/issuers.md).
    fn need_jwks(&self, flow: &mut Flow, issuer: Option<String>) -> Step {
        match issuer.as_deref().or(self.gate.jwks_url()) {
            Some(url) => {
                let url = url.to_owned();
                flow.stage = Stage::Jwks;
                flow.jwks_issuer = issuer;
                Step::NeedJwks {
                    url,
                    max_bytes: u32::try_from(MAX_JWKS_BYTES).unwrap_or(u32::MAX),
                }
            }
            None => Step::Refuse(refusal(
                Denial::new(ErrorCode::Internal, "JWKS requested without a URL"),
                Vec::new(),
            )),
        }
    }

    /// Credentials, roles, permissions and tenant (the gate), then the
    /// in-isolate limits keyed by what verified.
    fn authenticate(&mut self, flow: &mut Flow, now_ms: f64) -> Step {
        // Built once per request (a JWKS fetch or a key lookup decides again with it).
        let req = flow.gate_request.get_or_insert_with(|| {
            let mut headers = SortedMap::new();
            for name in &self.tenant_headers {
                if let Some(v) = flow.parts.header(name) {
                    headers.insert(name.clone(), v.to_owned());
                }
            }
            // The credentials move (a token is copied once, not twice); CSRF reads
            // `authorization` from here.
            for name in CREDENTIALS {
                if let Some(v) = flow.parts.headers.remove(name) {
                    headers.insert(name.to_owned(), v);
                }
            }
            let (_, path, query) = flow.parts.url_parts();
            authz::Request {
                method: flow.parts.method.to_ascii_uppercase(),
                path: path.to_owned(),
                query: query.to_owned(),
                headers,
            }
        });
        let decision = self.gate.check(req, now_ms);
        let lookup = self.gate.take_api_key_lookup();
        let retry_after = self.gate.take_retry_after();
        let issuer_jwks = self.gate.take_jwks_fetch();
        let denied = match decision {
            Decision::Allow {
                identity,
                identity_json,
                tenant_check,
                ..
            } => {
                flow.identity = Some((identity, identity_json));
                flow.tenant_check = tenant_check;
                None
            }
            Decision::Deny {
                denial,
                refetch_jwks,
                actor,
            } => {
                if let (Some(l), false) = (&lookup, flow.api_key_looked_up) {
                    flow.api_key_looked_up = true;
                    flow.stage = Stage::ApiKey;
                    flow.lookup_hash = Some(l.key_hash.clone());
                    return Step::NeedApiKeyLookup {
                        key_hash: l.key_hash.clone(),
                        previous_hash: l.previous_hash.clone(),
                    };
                }
                if refetch_jwks && !flow.jwks_refetched {
                    flow.jwks_refetched = true;
                    return self.need_jwks(flow, issuer_jwks);
                }
                Some((denial, actor))
            }
        };

        // In-isolate limits: once per request, keyed by what is known (IP
        // always; user, API key, tenant and role once verified). A request
        // whose credentials fail is still counted by IP.
        let limits = &self.settings.route(&flow.route).limits;
        let local = if limits.is_exempt() {
            // Nothing counted: the decision does not depend on the request.
            self.limiter.check(limits, &Facts::default(), whole_ms(now_ms))
        } else {
            let facts = facts_of(&flow.parts, flow.identity.as_ref().map(|(i, _)| i.as_ref()));
            self.limiter.check(limits, &facts, whole_ms(now_ms))
        };
        if local.ip_note.is_some() {
            flow.note = local.ip_note.clone();
        }
        let route = flow.route.clone();
        if let Some(r) = self.limit_refusal(&local, &route) {
            return Step::Refuse(r);
        }
        flow.rate_headers = without_retry_after(local.headers());
        if let Some((denial, actor)) = denied {
            let mut extra = Vec::new();
            if let Some(s) = retry_after {
                extra.push(("Retry-After".to_owned(), s.to_string()));
            }
            return Step::Refuse(self.identity_refusal(flow, denial, actor, extra, now_ms));
        }
        if !local.global.is_empty() {
            let checks = local.global.clone();
            flow.local = Some(local);
            flow.stage = Stage::GlobalLimits;
            return Step::NeedGlobalLimits { checks };
        }
        self.params(flow)
    }

    /// The refusal of a limit decision that refused, with its event.
    fn limit_refusal(&self, d: &LimitDecision, route: &str) -> Option<Refusal> {
        let denial = d.denial()?;
        let mut r = refusal(denial, d.headers());
        if d.record_event {
            r.event = Some(SecurityEvent {
                event_type: "rate_limited",
                severity: "warning",
                actor: None,
                details: EventDetails::RateLimited {
                    route: route.to_owned(),
                    rule: d.exceeded.clone(),
                    retry_after_s: d.retry_after_s,
                },
            });
        }
        Some(r)
    }

    /// An identity denial: its refusal with the request's rate headers, and
    /// an event at most once per (route, code, client IP) per minute.
    fn identity_refusal(
        &mut self,
        flow: &Flow,
        denial: Denial,
        actor: Option<String>,
        extra: Vec<HeaderPair>,
        now_ms: f64,
    ) -> Refusal {
        let client = self
            .settings
            .limits
            .client_ip(&facts_of(&flow.parts, None));
        let record = self.denials.should_record(
            &flow.route,
            denial.code.as_str(),
            client.as_deref(),
            whole_ms(now_ms),
        );
        let mut headers = flow.rate_headers.clone();
        headers.extend(extra);
        let event = record.then(|| SecurityEvent {
            event_type: "auth_denied",
            // Authorization denials (the caller verified) are warnings; failed credentials notices.
            severity: if matches!(denial.code, ErrorCode::Forbidden | ErrorCode::TenantMismatch) {
                "warning"
            } else {
                "notice"
            },
            actor: actor.clone(),
            details: EventDetails::AuthDenied {
                code: denial.code,
                reason: denial.reason.clone(),
                route: flow.route.clone(),
            },
        });
        let mut r = refusal(denial, headers);
        r.event = event;
        r
    }

    fn global_limits(&mut self, flow: &mut Flow, answer: &GlobalAnswer, now_ms: f64) -> Step {
        let Some(local) = flow.local.take() else {
            return Step::Refuse(refusal(
                Denial::new(ErrorCode::Internal, "global limits without a local decision"),
                Vec::new(),
            ));
        };
        match self.limiter.apply_global(&local, answer, whole_ms(now_ms)) {
            Ok(d) => {
                let route = flow.route.clone();
                if let Some(r) = self.limit_refusal(&d, &route) {
                    return Step::Refuse(r);
                }
                flow.rate_headers = without_retry_after(d.headers());
                self.params(flow)
            }
            Err(denial) => {
                flow.rate_headers.clear();
                Step::Refuse(refusal(denial, Vec::new()))
            }
        }
    }

    fn params(&mut self, flow: &mut Flow) -> Step {
        let (_, _, query) = flow.parts.url_parts();
        if let Err(e) = self.settings.route(&flow.route).params.check(&flow.params, query) {
            let mut r = body_refusal(e);
            r.headers = flow.rate_headers.clone();
            return Step::Refuse(r);
        }
        let method = flow.parts.method.to_ascii_uppercase();
        // GET and HEAD requests cannot carry a body.
        if method == "GET" || method == "HEAD" {
            return self.body(flow, Some(&[]), 0.0);
        }
        let rules = self.settings.route(&flow.route);
        flow.stage = Stage::Body;
        Step::NeedBody {
            max_bytes: u32::try_from(rules.body.max_bytes()).unwrap_or(u32::MAX),
            deferred: self.deferred(flow),
        }
    }

    fn deferred(&self, flow: &Flow) -> bool {
        self.options.defer_body_checks
            && !self.settings.route(&flow.route).csrf.is_required()
            && flow.tenant_check != Some(TenantCheck::Body)
    }

    fn body(&mut self, flow: &mut Flow, bytes: Option<&[u8]>, now_ms: f64) -> Step {
        let headers = flow.rate_headers.clone();
        let Some(bytes) = bytes else {
            return Step::Refuse(refusal(
                Denial::new(ErrorCode::PayloadTooLarge, "body exceeds the route's limit"),
                headers,
            ));
        };
        let deferred = self.deferred(flow);
        let rules = self.settings.route(&flow.route);
        let body = if deferred {
            None
        } else {
            match rules.body.check(flow.parts.header("content-type"), bytes) {
                Ok(v) => Some(v),
                Err(e) => {
                    let mut r = body_refusal(e);
                    r.headers = headers;
                    return Step::Refuse(r);
                }
            }
        };
        let Some((identity, prebuilt)) = flow.identity.clone() else {
            return Step::Refuse(refusal(
                Denial::new(ErrorCode::Internal, "body step without an identity"),
                headers,
            ));
        };
        if flow.tenant_check == Some(TenantCheck::Body) {
            let null = serde_json::Value::Null;
            if let Err(d) = self.gate.check_body_tenant(
                &flow.route,
                identity.tenant_id.as_deref(),
                body.as_ref().unwrap_or(&null),
            ) {
                let actor = identity.sub.clone();
                return Step::Refuse(self.identity_refusal(flow, d, actor, Vec::new(), now_ms));
            }
        }
        let csrf = &self.settings.route(&flow.route).csrf;
        if csrf.is_required() {
            let p = &flow.parts;
            let form_token = body
                .as_ref()
                .and_then(|b| b.get("csrf_token"))
                .and_then(serde_json::Value::as_str);
            let (self_origin, _, _) = p.url_parts();
            let req = CsrfRequest {
                method: &p.method,
                origin: p.header("origin"),
                sec_fetch_site: p.header("sec-fetch-site"),
                token: p.header("x-csrf-token").or(form_token),
                subject: identity
                    .sub
                    .as_deref()
                    .or_else(|| p.header("cookie").and_then(csrf::cookie_subject)),
                has_bearer: flow
                    .gate_request
                    .as_ref()
                    .and_then(|r| r.headers.get("authorization"))
                    .is_some_and(|a| csrf::is_bearer(a)),
                self_origin: Some(self_origin),
            };
            if let Err(d) = csrf.check(&req, Some(&self.settings.cors), (whole_ms(now_ms) / 1000) as u64) {
                return Step::Refuse(refusal(d, headers));
            }
        }
        Step::Allow(Allowed {
            route: flow.route.clone(),
            params: std::mem::take(&mut flow.params),
            body,
            body_deferred: deferred,
            rate_headers: headers,
            identity,
            prebuilt,
        })
    }

    /// The deferred body check of an allowed request (`checkBody`): media
    /// type, JSON and schema of `route`.
    pub fn check_body(&self, route: &str, content_type: Option<&str>, bytes: &[u8]) -> BodyChecked {
        match self.settings.route(route).body.check(content_type, bytes) {
            Ok(value) => BodyChecked::Checked { value },
            Err(e) => BodyChecked::Refuse(body_refusal(e)),
        }
    }

    /// How the client IP of a request resolves (a deploy check: the same rule the limiter uses).
    pub fn client_ip_report(&self, parts: &RequestParts) -> ClientIpReport {
        let config = &self.settings.limits;
        let header = config.ip_header();
        ClientIpReport {
            source: config.ip_source_name(),
            header,
            header_present: header.is_some_and(|h| parts.header(h).is_some()),
            client_ip: config.client_ip(&facts_of(parts, None)),
        }
    }

    /// A CSRF token for `route`, bound to the verified user or else to the
    /// caller's subject cookie; a caller with neither gets a fresh subject and
    /// the `Set-Cookie` value that carries it.
    pub fn issue_csrf_token(
        &self,
        route: &str,
        user_id: Option<&str>,
        cookie_header: Option<&str>,
        now_ms: f64,
    ) -> Result<CsrfIssued, Refusal> {
        let c = &self.settings.route(route).csrf;
        let existing = user_id.or_else(|| cookie_header.and_then(csrf::cookie_subject));
        let (subject, fresh) = match existing {
            Some(s) => (s.to_owned(), false),
            None => (crate::request_id::fresh(), true),
        };
        let token = c
            .issue(&subject, (whole_ms(now_ms) / 1000) as u64)
            .map_err(|d| refusal(d, Vec::new()))?;
        let ttl = c.ttl_s();
        Ok(CsrfIssued {
            token,
            expires_in_s: ttl,
            cookie: fresh.then(|| {
                format!("{CSRF_COOKIE}={subject}; Path=/; Max-Age={ttl}; Secure; HttpOnly; SameSite=Strict")
            }),
        })
    }
}

/// The security headers, and CORS headers for an allowed `origin`.
pub fn response_headers(settings: &Settings, origin: Option<&str>) -> ResponseHeaders {
    header_set(&settings.headers, &settings.cors, origin)
}

fn header_set(
    headers: &crate::headers::SecurityHeaders,
    cors: &crate::cors::CorsConfig,
    origin: Option<&str>,
) -> ResponseHeaders {
    let mut out = ResponseHeaders {
        remove: REMOVE_ALWAYS.iter().map(|s| (*s).to_owned()).collect(),
        ..ResponseHeaders::default()
    };
    let all = headers
        .headers()
        .iter()
        .cloned()
        .chain(cors.response_headers(origin));
    for (name, value) in all {
        if name.eq_ignore_ascii_case("vary") {
            out.vary.push(value);
        } else {
            out.set.push((name, value));
        }
    }
    out
}

/// The headers of a function that could not be configured: the default
/// security headers, no CORS allow-list.
pub fn default_response_headers() -> ResponseHeaders {
    let none = SortedMap::new();
    match (
        crate::headers::SecurityHeaders::from_value(None),
        crate::cors::CorsConfig::from_env(&none, None),
    ) {
        (Ok(h), Ok(c)) => header_set(&h, &c, None),
        _ => ResponseHeaders {
            remove: REMOVE_ALWAYS.iter().map(|s| (*s).to_owned()).collect(),
            ..ResponseHeaders::default()
        },
    }
}

fn without_retry_after(headers: Vec<HeaderPair>) -> Vec<HeaderPair> {
    headers
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("retry-after"))
        .collect()
}

/// What the limiter reads: the IP headers, the peer address and the verified caller.
fn facts_of(parts: &RequestParts, identity: Option<&Identity>) -> Facts {
    let mut facts = Facts {
        remote_addr: parts.remote_addr.clone(),
        ..Facts::default()
    };
    for name in IP_HEADERS {
        if let Some(v) = parts.header(name) {
            facts.headers.insert(name.to_owned(), v.to_owned());
        }
    }
    if let Some(i) = identity {
        facts.user_id = i.sub.clone();
        facts.api_key_id = i.api_key_id.clone().or_else(|| {
            i.key_name.as_ref().map(|n| {
                let kind = serde_json::to_value(i.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("{kind}:{n}")
            })
        });
        facts.tenant_id = i.tenant_id.clone();
        facts.role = i.user_role.clone();
    }
    facts
}
