//! Authorization: the `Gate` that turns a request's essentials into allow +
//! identity, or a SPEC denial with a precise reason.
//!
//! Order of checks: route (404/405) → credentials per the route's auth modes
//! (no silent downgrade: a present Bearer JWT on a `user` route must verify
//! even when a valid `apikey` is also sent) → anonymous / aal → tenant →
//! roles → permissions.
//!
//! A route whose tenant comes from the body is decided in two steps
//! (docs/policy.md): [`Gate::check`] runs every check above except the tenant
//! comparison and answers an allow that names the pending step
//! ([`TenantCheck::Body`]); the shim reads and checks the body only then, and
//! [`Gate::check_body_tenant`] compares the body's tenant before the handler
//! runs. An unauthenticated caller's body is therefore never read.

use crate::api_keys::{self as user_keys, KeyEnv, KeyRow, Pepper, VerifiedKeys};
use crate::auth::apikey::{KeyKind, NamedKeys};
use crate::auth::cache::{
    approx_map_bytes, JwksCache, TokenCache, TOKEN_CACHE_MAX_BYTES, TOKEN_CACHE_MAX_ENTRY_BYTES,
};
use crate::auth::issuers::{cookie_value, issuers_from_env, Issuer};
use crate::auth::jwt::{self, ClaimRules, SigOutcome};
use crate::auth::{AuthConfig, JwksSource};
use crate::policy::{AuthMode, KeySel, Policy, Route, TenantFrom};
use crate::sorted_map::{SortedMap, SortedSet};
use crate::{Denial, ErrorCode};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A verified token's identity serialised once, with a key naming these
/// exact bytes for this gate's lifetime (keys are never reused), so the shim
/// can keep the parsed identity and be sent only the key on repeat requests.
#[derive(Clone, Debug)]
pub struct PrebuiltIdentity {
    /// Unique per gate: a counter, never an address.
    pub key: u64,
    /// The identity's JSON.
    pub json: Arc<str>,
}

/// An identity and, for a verified token, its prebuilt JSON (kept in the token cache).
type Authed = (Arc<Identity>, Option<PrebuiltIdentity>);

fn bare(kind: IdentityKind, key_name: Option<String>) -> Authed {
    (Arc::new(Identity::bare(kind, key_name)), None)
}

/// Capacity of the verified-token cache, in tokens; its byte budget is
/// [`TOKEN_CACHE_MAX_BYTES`], its largest entry [`TOKEN_CACHE_MAX_ENTRY_BYTES`]
/// (docs/memory.md).
pub const TOKEN_CACHE_CAP: usize = 4096;

/// The request essentials the shim hands over.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Upper-case HTTP method.
    pub method: String,
    /// Path as the function sees it (`/me`).
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Lower-case header name → value (only the ones identity needs).
    pub headers: SortedMap<String, String>,
}

impl Request {
    /// Parses the shim's `request_json`.
    pub fn from_json(json: &str) -> Result<Request, Denial> {
        let bad = |r: &str| Denial::new(ErrorCode::Internal, format!("request_json: {r}"));
        let v = crate::strict_json::parse(json.as_bytes()).map_err(|_| bad("not JSON"))?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let method = s("method")
            .ok_or_else(|| bad("missing method"))?
            .to_ascii_uppercase();
        let path = s("path").ok_or_else(|| bad("missing path"))?;
        let query = s("query").unwrap_or_default();
        let mut headers = SortedMap::new();
        if let Some(Value::Object(h)) = v.get("headers") {
            for (k, val) in h {
                if let Some(val) = val.as_str() {
                    headers.insert(k.to_ascii_lowercase(), val.to_owned());
                }
            }
        }
        Ok(Request {
            method,
            path,
            query,
            headers,
        })
    }
}

/// How the caller authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(tsify_next::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// Verified access token.
    User,
    /// Publishable API key.
    Publishable,
    /// Secret API key.
    Secret,
    /// User-issued API key (`egk_…`), acting as its owner within its scopes.
    Apikey,
    /// No credential (`none` route).
    None,
}

/// The verified identity handed to the function.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(tsify_next::Tsify))]
pub struct Identity {
    /// How the caller authenticated.
    pub kind: IdentityKind,
    /// The matched API key's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// The user-issued API key's id (`apikey` identities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// Postgres role claim (`authenticated`, ...).
    pub role: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// Effective ladder role (after `ADMIN_EMAILS`).
    pub user_role: Option<String>,
    /// `tenant_id`.
    pub tenant_id: Option<String>,
    /// Effective permissions (role grants ∪ token permissions), sorted.
    pub permissions: Vec<String>,
    /// `aal`.
    pub aal: Option<String>,
    /// `is_anonymous`.
    pub is_anonymous: bool,
    /// `exp`.
    pub exp: Option<i64>,
    /// All verified claims.
    #[cfg_attr(feature = "ts", tsify(type = "Record<string, unknown>"))]
    pub claims: Map<String, Value>,
}

impl Identity {
    /// An estimate, on the high side, of the memory this identity holds:
    /// its own size, its strings and permissions, and its claims as parsed
    /// JSON (what the token cache accounts, docs/memory.md).
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let text = [
            &self.key_name,
            &self.sub,
            &self.role,
            &self.email,
            &self.user_role,
            &self.tenant_id,
            &self.aal,
        ]
        .iter()
        .map(|s| s.as_ref().map_or(0, String::len))
        .sum::<usize>();
        let permissions = self
            .permissions
            .iter()
            .map(|p| size_of::<String>() + p.len())
            .sum::<usize>();
        size_of::<Identity>()
            .saturating_add(text)
            .saturating_add(permissions)
            .saturating_add(approx_map_bytes(&self.claims))
    }

    fn bare(kind: IdentityKind, key_name: Option<String>) -> Self {
        Identity {
            kind,
            key_name,
            api_key_id: None,
            sub: None,
            role: None,
            email: None,
            user_role: None,
            tenant_id: None,
            permissions: Vec::new(),
            aal: None,
            is_anonymous: false,
            exp: None,
            claims: Map::new(),
        }
    }
}

/// A check an allow leaves for later, because its input is not known yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantCheck {
    /// The route's tenant is a body field: the shim must call
    /// [`Gate::check_body_tenant`] with the checked body before the handler.
    Body,
}

/// The outcome of [`Gate::check`].
#[derive(Clone, Debug)]
pub enum Decision {
    /// Allowed: route label and identity.
    Allow {
        /// `"GET /me"`.
        route: String,
        /// Path captures of the route.
        params: SortedMap<String, String>,
        /// The tenant comparison still to run once the body is read
        /// (`"tenant_check":"body"` on the wire); `None`: nothing pending.
        tenant_check: Option<TenantCheck>,
        /// Who.
        identity: Arc<Identity>,
        /// `identity` already serialised (a verified token's), written as is by [`Decision::to_json`].
        identity_json: Option<PrebuiltIdentity>,
    },
    /// Refused. `refetch_jwks`: the `kid` was unknown and a refetch is allowed now.
    Deny {
        /// Code and reason.
        denial: Denial,
        /// Ask the shim to refetch the JWKS and retry once.
        refetch_jwks: bool,
        /// The verified `sub` when the credentials verified and authorization
        /// refused (for the security event's actor); never an unverified claim.
        actor: Option<String>,
    },
}

/// What the shim must look up for a well-formed user API key the gate has not
/// verified in the last second (docs/api-keys.md): it calls
/// `private.api_key_verify(key_hash, previous_hash)`, hands the row to
/// [`Gate::put_api_key`] and asks again. Until then the check is a denial
/// (`INVALID_API_KEY`, "API key not verified"): a caller that ignores
/// lookups fails closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKeyLookup {
    /// HMAC-SHA256 of the key under `SECRET_KEY` (what is stored).
    pub key_hash: String,
    /// The same under `SECRET_KEY_PREVIOUS`, during a pepper rotation.
    pub previous_hash: Option<String>,
}

/// `{"ok":true,"route":…,"params":…[,"tenant_check":…]` — the start of an
/// allow's wire JSON, in the field order of the derived serialisation.
fn allow_head(
    route: &str,
    params: &SortedMap<String, String>,
    tenant_check: Option<TenantCheck>,
) -> Option<String> {
    let r = serde_json::to_string(route).ok()?;
    let p = serde_json::to_string(params).ok()?;
    let t = match tenant_check {
        Some(t) => format!(",\"tenant_check\":{}", serde_json::to_string(&t).ok()?),
        None => String::new(),
    };
    Some(format!("{{\"ok\":true,\"route\":{r},\"params\":{p}{t}"))
}

impl Decision {
    fn deny(code: ErrorCode, reason: impl Into<String>) -> Self {
        Decision::Deny {
            denial: Denial::new(code, reason),
            refetch_jwks: false,
            actor: None,
        }
    }
    /// Like [`Decision::to_json`], but an allow with a prebuilt identity names
    /// it by key (`"identity_key":K` instead of `"identity":{…}`) and returns
    /// the JSON beside it, for a shim that keeps identities it has parsed.
    pub fn to_keyed_json(&self) -> (String, Option<Arc<str>>) {
        if let Decision::Allow {
            route,
            params,
            tenant_check,
            identity_json: Some(PrebuiltIdentity { key, json }),
            ..
        } = self
        {
            if let Some(head) = allow_head(route, params, *tenant_check) {
                return (
                    format!("{head},\"identity_key\":{key}}}"),
                    Some(json.clone()),
                );
            }
        }
        (self.to_json(), None)
    }
    /// The wire JSON of the wasm facade.
    pub fn to_json(&self) -> String {
        let v = match self {
            Decision::Allow {
                route,
                params,
                tenant_check,
                identity,
                identity_json,
            } => {
                if let Some(PrebuiltIdentity { json, .. }) = identity_json {
                    // Same bytes as the derived serialisation below, with the identity prebuilt.
                    if let Some(head) = allow_head(route, params, *tenant_check) {
                        return format!("{head},\"identity\":{json}}}");
                    }
                }
                // Serialised straight from the borrowed parts: no intermediate `Value` copy of the claims.
                #[derive(Serialize)]
                struct Allow<'a> {
                    ok: bool,
                    route: &'a str,
                    params: &'a SortedMap<String, String>,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    tenant_check: Option<TenantCheck>,
                    identity: &'a Identity,
                }
                let allow = Allow {
                    ok: true,
                    route,
                    params,
                    tenant_check: *tenant_check,
                    identity: identity.as_ref(),
                };
                return serde_json::to_string(&allow).unwrap_or_else(|_| {
                    Decision::deny(ErrorCode::Internal, "decision not serialisable").to_json()
                });
            }
            Decision::Deny {
                denial,
                refetch_jwks,
                actor,
            } => {
                serde_json::json!({"ok": false, "code": denial.code.as_str(), "status": denial.code.status(), "reason": denial.reason, "refetch_jwks": refetch_jwks, "actor": actor})
            }
        };
        v.to_string()
    }
}

/// Policy + environment + key and token caches: decides every request.
#[derive(Debug)]
pub struct Gate {
    /// Shared so a check can borrow its route while the caches are updated.
    policy: Arc<Policy>,
    config: AuthConfig,
    jwks_url: Option<String>,
    jwks: JwksCache,
    /// Third-party issuers (`EDGEGUARD_ISSUERS`, docs/issuers.md), each with its own keys.
    issuers: Vec<Issuer>,
    /// Why routes naming an issuer cannot verify its tokens (a malformed
    /// `EDGEGUARD_ISSUERS`, a role map naming a role off the ladder).
    issuers_error: Option<String>,
    /// The issuer JWKS URL the last check asked the shim to fetch, taken by the facade.
    jwks_fetch: Option<String>,
    /// Verified tokens: the identity, its JSON, and the issuer (`None`: Supabase Auth).
    tokens: TokenCache<(Arc<Identity>, PrebuiltIdentity, Option<usize>)>,
    next_identity_key: u64,
    /// `SECRET_KEY` (and `SECRET_KEY_PREVIOUS`), or why user API keys cannot be verified.
    pepper: Result<Pepper, String>,
    /// The environment of the user API keys this deployment accepts.
    key_env: KeyEnv,
    /// Verified user API keys, kept at most [`user_keys::VERIFIED_KEY_TTL_MS`].
    verified_keys: VerifiedKeys<(Arc<Identity>, PrebuiltIdentity)>,
    /// The lookup the last check asked for, if any.
    api_key_lookup: Option<ApiKeyLookup>,
    /// Seconds a per-key rate limit asks the caller to wait, for the
    /// `Retry-After` of the last check's 429 (taken by the facade).
    retry_after_s: Option<u64>,
}

/// A top-level claim; under `app_metadata` only when the policy opts in
/// (`app_metadata_claims`, for projects without the access-token hook).
fn claim<'a>(c: &'a Map<String, Value>, name: &str, app_metadata: bool) -> Option<&'a Value> {
    c.get(name).filter(|v| !v.is_null()).or_else(|| {
        if !app_metadata {
            return None;
        }
        c.get("app_metadata")
            .and_then(|m| m.get(name))
            .filter(|v| !v.is_null())
    })
}

fn claim_str(c: &Map<String, Value>, name: &str, app_metadata: bool) -> Option<String> {
    claim(c, name, app_metadata).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn query_param(q: &str, name: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = crate::policy::percent_decode(&k.replace('+', " ")).ok_or(())?;
        if k == name {
            if found.is_some() {
                return Err(()); // ambiguous: repeated tenant parameter
            }
            found = Some(crate::policy::percent_decode(&v.replace('+', " ")).ok_or(())?);
        }
    }
    Ok(found)
}

/// Whether a token's (unverified) payload says it is a gateway-minted key
/// token: `role` `anon` or `service_role` and no `sub`. Only used to let an
/// accompanying API key decide; such a token is never trusted for anything.
fn is_gateway_key_token(token: &str) -> bool {
    let Ok(p) = jwt::parse(token) else {
        return false;
    };
    let role = p.claims.get("role").and_then(Value::as_str);
    matches!(role, Some("anon") | Some("service_role")) && !p.claims.contains_key("sub")
}

impl Gate {
    /// Builds a gate; a bad policy or environment is an error naming the field.
    pub fn new(policy_json: &str, env: &SortedMap<String, String>) -> Result<Gate, String> {
        let policy = Policy::from_json(policy_json).map_err(|e| e.to_string())?;
        let config = AuthConfig::from_env(env).map_err(|d| format!("env: {}", d.reason))?;
        let (jwks_url, jwks) = match &config.jwks {
            JwksSource::Inline(set) => (None, JwksCache::inline(set.clone())),
            JwksSource::Url(u) => (Some(u.clone()), JwksCache::default()),
            JwksSource::None => (None, JwksCache::default()),
        };
        let uses =
            |f: &dyn Fn(&AuthMode) -> bool| policy.routes.iter().any(|r| r.auth.iter().any(f));
        let (issuers, mut issuers_error) = match issuers_from_env(env, config.app_env) {
            Ok(list) => (list, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        // The issuers this policy's routes name must exist and map only to its ladder.
        for r in &policy.routes {
            for m in &r.auth {
                let AuthMode::Issuer(name) = m else { continue };
                if issuers_error.is_some() {
                    break;
                }
                match issuers.iter().find(|i| &i.name == name) {
                    None => {
                        issuers_error = Some(format!(
                            "route {} accepts issuer \"{name}\", which EDGEGUARD_ISSUERS does not configure",
                            r.label()
                        ))
                    }
                    Some(i) => {
                        if let Err(e) = i.check_roles(|role| policy.roles.rank(role).is_some()) {
                            issuers_error = Some(e);
                        }
                    }
                }
            }
        }
        if config.app_env.is_production() {
            // Production refuses to start rather than serve a route it cannot protect.
            if let Some(e) = &issuers_error {
                if uses(&|m| matches!(m, AuthMode::Issuer(_))) {
                    return Err(format!("env: {e}"));
                }
            }
            if uses(&|m| *m == AuthMode::User) && !config.has_user_keys() {
                return Err(format!(
                    "env: {}",
                    config.user_keys_error.as_deref().unwrap_or(
                        "a user route needs SUPABASE_JWKS, SUPABASE_JWKS_URL, SUPABASE_URL or JWT_SECRET"
                    )
                ));
            }
            if let Some(e) = &config.api_keys_error {
                if uses(&|m| matches!(m, AuthMode::Publishable(_) | AuthMode::Secret(_))) {
                    return Err(format!("env: {e}"));
                }
            }
            if let Err(e) = Pepper::from_env(env) {
                if uses(&|m| *m == AuthMode::ApiKey) {
                    return Err(format!("env: {e}"));
                }
            }
        }
        for (kind, keys, m) in [
            (KeyKind::Publishable, &config.publishable, 0),
            (KeyKind::Secret, &config.secret, 1),
        ] {
            for r in &policy.routes {
                for mode in &r.auth {
                    let sel = match (m, mode) {
                        (0, AuthMode::Publishable(s)) | (1, AuthMode::Secret(s)) => s,
                        _ => continue,
                    };
                    let ok = match sel {
                        KeySel::Default => keys.has("default"),
                        KeySel::Named(n) => keys.has(n),
                        KeySel::Any => !keys.0.is_empty(),
                    };
                    if !ok && config.app_env.is_production() && config.api_keys_error.is_none() {
                        return Err(format!(
                            "env: route {} needs a {} key that is not configured",
                            r.label(),
                            kind.name()
                        ));
                    }
                }
            }
        }
        Ok(Gate {
            policy: Arc::new(policy),
            jwks_url,
            jwks,
            issuers,
            issuers_error,
            jwks_fetch: None,
            tokens: TokenCache::new(
                TOKEN_CACHE_CAP,
                TOKEN_CACHE_MAX_BYTES,
                TOKEN_CACHE_MAX_ENTRY_BYTES,
            ),
            next_identity_key: 1,
            pepper: Pepper::from_env(env),
            key_env: KeyEnv::for_production(config.app_env.is_production()),
            verified_keys: VerifiedKeys::default(),
            api_key_lookup: None,
            retry_after_s: None,
            config,
        })
    }

    /// The parsed policy (the pipeline reads the request-check sections from here).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
    /// The URL the shim must fetch, if keys come from a URL.
    pub fn jwks_url(&self) -> Option<&str> {
        self.jwks_url.as_deref()
    }
    /// Stale or never fetched (and not backing off after a failure).
    pub fn needs_jwks(&self, now_ms: f64) -> bool {
        self.jwks_url.is_some() && self.jwks.needs_fetch(now_ms)
    }
    /// Installs a fetched JWKS; the token cache is flushed when the key set changes.
    pub fn set_jwks(&mut self, json: &str, max_age_s: u32, now_ms: f64) -> Result<(), String> {
        self.set_jwks_at(None, json, max_age_s, now_ms)
    }
    /// Records a failed fetch (cached keys stay in use).
    pub fn jwks_fetch_failed(&mut self, now_ms: f64) {
        self.jwks.fetch_failed(now_ms);
    }
    /// The JWKS cache a fetched URL belongs to: `None` or the Supabase URL is
    /// Supabase Auth's, otherwise the issuer with that `jwks_url`.
    fn jwks_cache_at(&mut self, url: Option<&str>) -> Result<&mut JwksCache, String> {
        match url {
            None => Ok(&mut self.jwks),
            Some(u) if self.jwks_url.as_deref() == Some(u) => Ok(&mut self.jwks),
            Some(u) => self
                .issuers
                .iter_mut()
                .find(|i| i.jwks_url == u)
                .map(|i| &mut i.jwks)
                .ok_or_else(|| "no configured issuer has this JWKS URL".to_string()),
        }
    }
    /// Installs the JWKS fetched from `url` (what a denial's `jwks_url` or
    /// [`Gate::jwks_url`] named; `None`: Supabase Auth's). The token cache is
    /// flushed when a key set changes.
    pub fn set_jwks_at(
        &mut self,
        url: Option<&str>,
        json: &str,
        max_age_s: u32,
        now_ms: f64,
    ) -> Result<(), String> {
        let before = self.key_generation();
        self.jwks_cache_at(url)?.set(json, max_age_s, now_ms)?;
        if self.key_generation() != before {
            self.tokens.clear();
        }
        Ok(())
    }
    /// Records that fetching `url` failed (`None`: Supabase Auth's); the
    /// cached keys of that issuer stay in use and fetching backs off.
    pub fn jwks_fetch_failed_at(&mut self, url: Option<&str>, now_ms: f64) {
        if let Ok(cache) = self.jwks_cache_at(url) {
            cache.fetch_failed(now_ms);
        }
    }
    /// The issuer JWKS URL the last [`Gate::check`] asked the shim to fetch
    /// (then decide again), taken: a second call answers `None`.
    pub fn take_jwks_fetch(&mut self) -> Option<String> {
        self.jwks_fetch.take()
    }
    /// Changes whenever any key set (Supabase's or an issuer's) changes.
    fn key_generation(&self) -> u64 {
        self.issuers.iter().fold(self.jwks.generation(), |g, i| {
            g.wrapping_add(i.jwks.generation())
        })
    }
    /// The request headers a route of the policy reads its tenant from
    /// (lowercase, sorted, no duplicates), and `cookie` when a route accepts
    /// an issuer's session cookie: the only headers besides the credentials
    /// that the shim needs to hand over.
    pub fn tenant_header_names(&self) -> Vec<String> {
        let mut names: SortedSet<String> = self
            .policy
            .routes
            .iter()
            .filter_map(|r| r.tenant.as_ref())
            .filter(|t| t.from == TenantFrom::Header)
            .map(|t| t.name.to_ascii_lowercase())
            .collect();
        // A route accepting an issuer's session cookie reads `cookie` too (docs/issuers.md).
        let cookie_routes = self.policy.routes.iter().flat_map(|r| &r.auth).any(|m| {
            matches!(m, AuthMode::Issuer(n)
                if self.issuers.iter().any(|i| &i.name == n && i.cookie.is_some()))
        });
        if cookie_routes {
            names.insert("cookie".to_owned());
        }
        names.into_iter().collect()
    }
    /// Number of cached verified tokens.
    pub fn cached_tokens(&self) -> usize {
        self.tokens.len()
    }
    /// The verified-token cache's accounted bytes (at most [`TOKEN_CACHE_MAX_BYTES`]).
    pub fn cached_token_bytes(&self) -> usize {
        self.tokens.bytes()
    }
    /// The estimated memory of the verification keys in use (docs/memory.md).
    pub fn jwks_bytes(&self) -> usize {
        self.issuers.iter().fold(self.jwks.approx_bytes(), |b, i| {
            b.saturating_add(i.jwks.approx_bytes())
        })
    }
    /// The lookup the last [`Gate::check`] asked for (its denial says "API key
    /// not verified"), taken: a second call answers `None`.
    pub fn take_api_key_lookup(&mut self) -> Option<ApiKeyLookup> {
        self.api_key_lookup.take()
    }
    /// The `Retry-After` seconds of the last [`Gate::check`]'s 429 (a per-key
    /// rate limit), taken: a second call answers `None`.
    pub fn take_retry_after(&mut self) -> Option<u64> {
        self.retry_after_s.take()
    }
    /// Installs what `private.api_key_verify` answered for `key_hash` (after a
    /// [`Gate::take_api_key_lookup`]), fetched at `now_ms`. The next check with
    /// that key decides from it; a counted key's answer serves that one check only.
    pub fn put_api_key(
        &mut self,
        key_hash: &str,
        row_json: &str,
        now_ms: f64,
    ) -> Result<(), String> {
        let row: KeyRow = crate::strict_json::parse(row_json.as_bytes())
            .ok()
            .and_then(|v| crate::json_read::ReadJson::read(&v).ok())
            .ok_or_else(|| "api key row: not the shape private.api_key_verify answers".to_string())?;
        self.verified_keys.put(key_hash, row, now_ms);
        Ok(())
    }

    /// Decides one request at `now_ms` (milliseconds since the epoch).
    pub fn check(&mut self, req: &Request, now_ms: f64) -> Decision {
        self.api_key_lookup = None;
        self.retry_after_s = None;
        self.jwks_fetch = None;
        let policy = Arc::clone(&self.policy);
        let (route, params) = match policy.route(&req.method, &req.path) {
            Ok((r, p)) => (r, p),
            Err(d) => {
                return Decision::Deny {
                    denial: d,
                    refetch_jwks: false,
                    actor: None,
                }
            }
        };
        let now = if now_ms.is_finite() {
            (now_ms / 1000.0).floor() as i64
        } else {
            0
        };
        match self.authenticate(route, req, now, now_ms) {
            Ok((identity, identity_json)) => match self.authorize(route, req, &params, &identity) {
                Ok(tenant_check) => Decision::Allow {
                    route: route.label(),
                    params,
                    tenant_check,
                    identity,
                    identity_json,
                },
                Err(d) => Decision::Deny {
                    denial: d,
                    refetch_jwks: false,
                    actor: identity.sub.clone(),
                },
            },
            Err(d) => d,
        }
    }

    fn authenticate(
        &mut self,
        route: &Route,
        req: &Request,
        now: i64,
        now_ms: f64,
    ) -> Result<Authed, Decision> {
        if route.auth == [AuthMode::None] {
            return Ok(bare(IdentityKind::None, None));
        }
        let wants_user = route.auth.iter().any(AuthMode::is_user);
        let mut bearer: Option<&str> = None;
        if let Some(h) = req.headers.get("authorization") {
            let h = h.trim();
            let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
            if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
                if wants_user {
                    return Err(Decision::deny(
                        ErrorCode::InvalidJwt,
                        "authorization header is not a Bearer token",
                    ));
                }
            } else {
                bearer = Some(rest.trim());
            }
        }
        let apikey = req
            .headers
            .get("apikey")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        // A user API key comes as `x-api-key`, or as `Authorization: Bearer egk_…`.
        let mut user_key = req
            .headers
            .get("x-api-key")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        if let Some(b) = bearer.filter(|b| b.starts_with(user_keys::KEY_PREFIX)) {
            match user_key {
                Some(k) if k != b => {
                    return Err(Decision::deny(
                        ErrorCode::InvalidApiKey,
                        "Bearer API key differs from the x-api-key header",
                    ))
                }
                _ => user_key = Some(b),
            }
            bearer = None;
        }
        // supabase-js sends the publishable/secret key as Bearer too: that is an API key, not a JWT.
        let (bearer, apikey) = match bearer {
            Some(b) if b.starts_with("sb_") => match apikey {
                None => (None, Some(b)),
                Some(a) if a == b => (None, Some(a)),
                Some(_) => {
                    return Err(Decision::deny(
                        ErrorCode::InvalidApiKey,
                        "Bearer API key differs from the apikey header",
                    ))
                }
            },
            other => (other, apikey),
        };
        // Behind the gateway of `supabase start`, a key caller's `apikey` also
        // arrives as `Authorization: Bearer <legacy anon/service_role JWT>`
        // (docs/platform.md). Such a token names no user: with an API key
        // present, the key decides. No downgrade: a user token (any other
        // role) is still verified, and the key alone gives only what the key gives.
        let bearer = match (bearer, apikey.or(user_key)) {
            (Some(b), Some(_)) if is_gateway_key_token(b) => None,
            (b, _) => b,
        };
        if let (Some(token), true) = (bearer, wants_user) {
            return self.verify_user(token, route, now, now_ms, None);
        }
        // No credential header: a browser's session cookie of an issuer the route accepts.
        if let (None, None, None, true) = (bearer, apikey, user_key, wants_user) {
            if let Some((i, token)) = self.cookie_token(route, req) {
                return self.verify_user(token, route, now, now_ms, Some(i));
            }
        }
        if let Some(key) = user_key {
            if route.auth.contains(&AuthMode::ApiKey) {
                return self.verify_user_key(key, now, now_ms);
            }
            if apikey.is_none() {
                return Err(Decision::deny(
                    ErrorCode::InvalidApiKey,
                    "egk_ API keys are not accepted on this route",
                ));
            }
        }
        if let Some(key) = apikey {
            if let Some(e) = &self.config.api_keys_error {
                if route
                    .auth
                    .iter()
                    .any(|m| matches!(m, AuthMode::Publishable(_) | AuthMode::Secret(_)))
                {
                    return Err(Decision::deny(ErrorCode::Misconfigured, e.clone()));
                }
            }
            let kind = if key.starts_with(KeyKind::Secret.prefix()) {
                KeyKind::Secret
            } else if key.starts_with(KeyKind::Publishable.prefix()) {
                KeyKind::Publishable
            } else {
                return Err(Decision::deny(
                    ErrorCode::InvalidApiKey,
                    "apikey is not an sb_publishable_ or sb_secret_ key",
                ));
            };
            let mut kind_allowed = false;
            for mode in &route.auth {
                let (k, sel, keys): (KeyKind, &KeySel, &NamedKeys) = match mode {
                    AuthMode::Publishable(s) => (KeyKind::Publishable, s, &self.config.publishable),
                    AuthMode::Secret(s) => (KeyKind::Secret, s, &self.config.secret),
                    _ => continue,
                };
                if k != kind {
                    continue;
                }
                kind_allowed = true;
                let wanted = match sel {
                    KeySel::Default => Some("default"),
                    KeySel::Named(n) => Some(n.as_str()),
                    KeySel::Any => None,
                };
                if let Some(name) = keys.find(key, wanted) {
                    let ik = if kind == KeyKind::Secret {
                        IdentityKind::Secret
                    } else {
                        IdentityKind::Publishable
                    };
                    return Ok(bare(ik, Some(name)));
                }
            }
            if kind_allowed {
                return Err(Decision::deny(
                    ErrorCode::InvalidApiKey,
                    format!("{} key not recognised for this route", kind.name()),
                ));
            }
            if !wants_user {
                return Err(Decision::deny(
                    ErrorCode::InvalidApiKey,
                    format!("{} keys are not accepted on this route", kind.name()),
                ));
            }
        }
        Err(Decision::deny(
            ErrorCode::MissingCredentials,
            if wants_user {
                "a Bearer access token is required"
            } else if route.auth.contains(&AuthMode::ApiKey) {
                "an x-api-key is required"
            } else {
                "an apikey is required"
            },
        ))
    }

    /// A user API key: format and checksum first (no I/O), then the verified
    /// row (≤ 1 s old, or asked for with an [`ApiKeyLookup`]).
    fn verify_user_key(&mut self, key: &str, now: i64, now_ms: f64) -> Result<Authed, Decision> {
        let pepper = match &self.pepper {
            Ok(p) => p,
            Err(e) => return Err(Decision::deny(ErrorCode::Misconfigured, e.clone())),
        };
        if let Err(e) = user_keys::check_format(key, self.key_env) {
            let d = e.denial();
            return Err(Decision::deny(d.code, d.reason));
        }
        let key_hash = pepper.hash(key);
        let previous_hash = pepper.previous_hash(key);
        let next_key = self.next_identity_key;
        let (row, built) = match self.verified_keys.take(&key_hash, now_ms) {
            None => {
                self.api_key_lookup = Some(ApiKeyLookup {
                    previous_hash,
                    key_hash,
                });
                return Err(Decision::deny(
                    ErrorCode::InvalidApiKey,
                    "API key not verified",
                ));
            }
            Some(Ok(kept)) => (kept.row.clone(), kept.built.clone()),
            Some(Err(once)) => (once.row, None),
        };
        if let Some(d) = row.refusal(now) {
            if d.code == ErrorCode::RateLimited {
                self.retry_after_s = Some(row.retry_after_s.unwrap_or(1).max(1).unsigned_abs());
            }
            return Err(Decision::deny(d.code, d.reason));
        }
        if let Some((identity, json)) = built {
            return Ok((identity, Some(json)));
        }
        let identity = Arc::new(self.key_identity(&row)?);
        let Ok(json) = serde_json::to_string(identity.as_ref()) else {
            return Err(Decision::deny(
                ErrorCode::Internal,
                "identity not serialisable",
            ));
        };
        let prebuilt = PrebuiltIdentity {
            key: next_key,
            json: Arc::from(json),
        };
        self.next_identity_key += 1;
        if !row.counted {
            if let Some(Ok(kept)) = self.verified_keys.take(&key_hash, now_ms) {
                kept.built = Some((identity.clone(), prebuilt.clone()));
            }
        }
        Ok((identity, Some(prebuilt)))
    }

    /// The identity of a verified user API key: its owner (`sub`), tenant, the
    /// owner's current role, and the owner's permissions intersected with the
    /// key's scopes. `claims` are what `asUser` sets for the owner under RLS.
    fn key_identity(&self, row: &KeyRow) -> Result<Identity, Decision> {
        let (Some(id), Some(sub)) = (&row.key_id, &row.user_id) else {
            return Err(Decision::deny(
                ErrorCode::Internal,
                "API key row lacks its id or owner",
            ));
        };
        let roles = &self.policy.roles;
        let user_role = row.user_role.clone().filter(|r| roles.rank(r).is_some());
        let mut owner: SortedSet<String> = user_role
            .as_deref()
            .map(|r| roles.permissions_of(r))
            .unwrap_or_default();
        owner.extend(
            row.permissions
                .iter()
                .filter(|p| crate::policy::permission_ok(p))
                .cloned(),
        );
        let owner: Vec<String> = owner.into_iter().collect();
        let permissions = user_keys::intersect(&owner, &row.scopes);
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(sub.clone()));
        claims.insert("role".into(), Value::String("authenticated".into()));
        claims.insert("api_key_id".into(), Value::String(id.clone()));
        if let Some(r) = &user_role {
            claims.insert("user_role".into(), Value::String(r.clone()));
        }
        if let Some(t) = &row.tenant_id {
            claims.insert("tenant_id".into(), Value::String(t.clone()));
        }
        claims.insert(
            "permissions".into(),
            Value::Array(permissions.iter().cloned().map(Value::String).collect()),
        );
        claims.insert("is_anonymous".into(), Value::Bool(false));
        Ok(Identity {
            kind: IdentityKind::Apikey,
            key_name: None,
            api_key_id: Some(id.clone()),
            sub: Some(sub.clone()),
            role: Some("authenticated".into()),
            email: None,
            user_role,
            tenant_id: row.tenant_id.clone(),
            permissions,
            aal: None,
            is_anonymous: false,
            exp: row.expires_at,
            claims,
        })
    }

    /// The token in the session cookie of the first issuer `route` accepts
    /// that names a cookie, with that issuer.
    fn cookie_token<'r>(&self, route: &Route, req: &'r Request) -> Option<(usize, &'r str)> {
        let header = req.headers.get("cookie")?;
        route.auth.iter().find_map(|m| {
            let AuthMode::Issuer(n) = m else { return None };
            let (i, iss) = self
                .issuers
                .iter()
                .enumerate()
                .find(|(_, iss)| &iss.name == n)?;
            Some((i, cookie_value(header, iss.cookie.as_deref()?)?))
        })
    }

    /// `cookie_of`: the token came from this issuer's session cookie and must be its token.
    fn verify_user(
        &mut self,
        token: &str,
        route: &Route,
        now: i64,
        now_ms: f64,
        cookie_of: Option<usize>,
    ) -> Result<Authed, Decision> {
        if route.auth.iter().any(|m| matches!(m, AuthMode::Issuer(_))) {
            if let Some(e) = &self.issuers_error {
                return Err(Decision::deny(ErrorCode::Misconfigured, e.clone()));
            }
        }
        let generation = self.key_generation();
        let (identity, json) = match self.tokens.get(token, generation) {
            Some((identity, json, issuer)) => {
                // Every hit re-checks the route's issuers and every claim rule at the current time.
                self.accepts(route, issuer, cookie_of)?;
                if let Err(e) = self.check_token_claims(issuer, &identity.claims, now) {
                    return Err(Decision::deny(ErrorCode::InvalidJwt, e));
                }
                (identity, Some(json))
            }
            None => self.verify_fresh(token, route, now, now_ms, generation, cookie_of)?,
        };
        if identity.is_anonymous && !route.allow_anonymous {
            return Err(Decision::Deny {
                denial: Denial::new(
                    ErrorCode::Forbidden,
                    "anonymous users are not allowed on this route",
                ),
                refetch_jwks: false,
                actor: identity.sub.clone(),
            });
        }
        Ok((identity, json))
    }

    /// Supabase Auth's keys can verify a token now (or say why not).
    fn supabase_ready(&self) -> Result<(), Decision> {
        if let Some(e) = &self.config.user_keys_error {
            return Err(Decision::deny(ErrorCode::Misconfigured, e.clone()));
        }
        if self.jwks.keys().is_empty() && self.config.hs256.is_none() {
            return Err(Decision::deny(
                ErrorCode::Misconfigured,
                "no usable verification keys (no JWKS key loaded and no JWT secret)",
            ));
        }
        Ok(())
    }

    /// Whether `route` accepts tokens of `issuer` (`None`: Supabase Auth);
    /// no downgrade: a token of an issuer the route does not name is refused,
    /// never tried with other keys (docs/issuers.md).
    fn accepts(
        &self,
        route: &Route,
        issuer: Option<usize>,
        cookie_of: Option<usize>,
    ) -> Result<(), Decision> {
        if cookie_of.is_some() && cookie_of != issuer {
            return Err(Decision::deny(
                ErrorCode::InvalidJwt,
                "the session cookie holds a token of another issuer",
            ));
        }
        let ok = match issuer {
            None => route.auth.contains(&AuthMode::User),
            Some(i) => self.issuers.get(i).is_some_and(|iss| {
                route
                    .auth
                    .iter()
                    .any(|m| matches!(m, AuthMode::Issuer(n) if *n == iss.name))
            }),
        };
        if ok {
            return Ok(());
        }
        Err(Decision::deny(
            ErrorCode::InvalidJwt,
            match issuer.and_then(|i| self.issuers.get(i)) {
                Some(iss) => format!(
                    "tokens of issuer \"{}\" are not accepted on this route",
                    iss.name
                ),
                None => "the token's issuer is not accepted on this route".to_string(),
            },
        ))
    }

    /// The time rules, and for an issuer's token its `iss`, `aud` and `azp`.
    fn check_token_claims(
        &self,
        issuer: Option<usize>,
        claims: &Map<String, Value>,
        now: i64,
    ) -> Result<(), String> {
        match issuer.and_then(|i| self.issuers.get(i)) {
            None => jwt::check_claims(
                claims,
                &ClaimRules {
                    leeway: self.policy.leeway_seconds,
                    audience: self.policy.audience.clone(),
                    issuer: self.policy.issuer.clone(),
                },
                now,
            ),
            Some(iss) => {
                let rules = ClaimRules {
                    leeway: self.policy.leeway_seconds,
                    audience: None,
                    issuer: Some(iss.iss.clone()),
                };
                jwt::check_claims(claims, &rules, now)?;
                iss.check_audience(claims)
            }
        }
    }

    /// A token not in the cache: the issuer is chosen by the token's
    /// unverified `iss` before any key is tried (tokens whose `iss` names no
    /// configured issuer are Supabase Auth's), then only that issuer's keys
    /// verify it.
    fn verify_fresh(
        &mut self,
        token: &str,
        route: &Route,
        now: i64,
        now_ms: f64,
        generation: u64,
        cookie_of: Option<usize>,
    ) -> Result<(Arc<Identity>, Option<PrebuiltIdentity>), Decision> {
        if self.issuers.is_empty() {
            self.accepts(route, None, None)?;
            self.supabase_ready()?;
        }
        if token.len() > jwt::MAX_TOKEN_BYTES {
            return Err(Decision::deny(
                ErrorCode::InvalidJwt,
                "token larger than 8 KiB",
            ));
        }
        let parsed = jwt::parse(token).map_err(|e| Decision::deny(ErrorCode::InvalidJwt, e))?;
        let issuer = match parsed.claims.get("iss").and_then(Value::as_str) {
            Some(iss) => self.issuers.iter().position(|i| i.iss == iss),
            None => None,
        };
        let outcome = match issuer {
            None => {
                if !self.issuers.is_empty() {
                    self.accepts(route, None, cookie_of)?;
                    self.supabase_ready()?;
                }
                jwt::verify_parsed(parsed, self.jwks.keys(), self.config.hs256.as_ref())
            }
            Some(i) => {
                self.accepts(route, Some(i), cookie_of)?;
                let Some(iss) = self.issuers.get(i) else {
                    return Err(Decision::deny(ErrorCode::Internal, "issuer vanished"));
                };
                // Stale or never fetched: ask the shim for this issuer's JWKS first
                // (unless backing off after a failure: then the kept keys serve).
                if iss.jwks.needs_fetch(now_ms) {
                    let reason = format!("the keys of issuer \"{}\" are being fetched", iss.name);
                    self.jwks_fetch = Some(iss.jwks_url.clone());
                    return Err(Decision::Deny {
                        denial: Denial::new(ErrorCode::Unavailable, reason),
                        refetch_jwks: true,
                        actor: None,
                    });
                }
                if iss.jwks.keys().is_empty() {
                    return Err(Decision::deny(
                        ErrorCode::Unavailable,
                        format!("the keys of issuer \"{}\" could not be fetched", iss.name),
                    ));
                }
                match crate::auth::Alg::from_name(&parsed.alg) {
                    Some(a) if iss.algorithms.contains(&a) => {}
                    _ => {
                        return Err(Decision::deny(
                            ErrorCode::InvalidJwt,
                            format!(
                                "alg \"{}\" is not accepted for issuer \"{}\"",
                                parsed.alg.chars().take(16).collect::<String>(),
                                iss.name
                            ),
                        ))
                    }
                }
                // No shared secret: an HS256 token can never use an issuer's public key.
                jwt::verify_parsed(parsed, iss.jwks.keys(), None)
            }
        };
        let claims = match outcome {
            SigOutcome::Verified(c) => c,
            SigOutcome::Refused(e) => return Err(Decision::deny(ErrorCode::InvalidJwt, e)),
            SigOutcome::UnknownKid => {
                let refetch = match issuer {
                    None => self.jwks_url.is_some() && self.jwks.allow_refetch(now_ms),
                    Some(i) => {
                        let url = self.issuers.get_mut(i).and_then(|iss| {
                            iss.jwks.allow_refetch(now_ms).then(|| iss.jwks_url.clone())
                        });
                        let ok = url.is_some();
                        self.jwks_fetch = url;
                        ok
                    }
                };
                return Err(Decision::Deny {
                    denial: Denial::new(ErrorCode::InvalidJwt, "unknown kid"),
                    refetch_jwks: refetch,
                    actor: None,
                });
            }
        };
        // Only tokens that pass the time rules now (and name a `sub`) are cached.
        if let Err(e) = self.check_token_claims(issuer, &claims, now) {
            return Err(Decision::deny(ErrorCode::InvalidJwt, e));
        }
        let identity = Arc::new(match issuer {
            None => self.user_identity(claims)?,
            Some(i) => self.issuer_identity(i, &claims)?,
        });
        let Ok(json) = serde_json::to_string(identity.as_ref()) else {
            return Err(Decision::deny(
                ErrorCode::Internal,
                "identity not serialisable",
            ));
        };
        let key = self.next_identity_key;
        self.next_identity_key += 1;
        // The identity, its JSON, and the two reference counts of each Arc.
        let bytes = identity
            .approx_bytes()
            .saturating_add(json.len())
            .saturating_add(4 * std::mem::size_of::<usize>());
        let prebuilt = PrebuiltIdentity {
            key,
            json: Arc::from(json),
        };
        let entry = (identity.clone(), prebuilt.clone(), issuer);
        if self.tokens.put(token, entry, bytes, generation) {
            Ok((identity, Some(prebuilt)))
        } else {
            // Too large to cache: verified on every request, and the
            // shim is not asked to keep it either (no key).
            Ok((identity, None))
        }
    }

    /// The identity of an issuer's verified token, through its claim mapping
    /// (docs/issuers.md). Its `claims` are the mapped ones — what `asUser`
    /// sets as `request.jwt.claims`, so RLS sees `sub`, `tenant_id`,
    /// `user_role`, `permissions` and `issuer` exactly as the core decided
    /// them — plus the token's `iss`, `aud`, `azp`, `sid` and time claims.
    /// `ADMIN_EMAILS` does not apply: the address is the issuer's word.
    fn issuer_identity(&self, i: usize, claims: &Map<String, Value>) -> Result<Identity, Decision> {
        let Some(iss) = self.issuers.get(i) else {
            return Err(Decision::deny(ErrorCode::Internal, "issuer vanished"));
        };
        let m = iss
            .map_claims(claims)
            .map_err(|e| Decision::deny(ErrorCode::InvalidJwt, e))?;
        let roles = &self.policy.roles;
        let user_role = m.user_role.filter(|r| roles.rank(r).is_some());
        let mut perms: SortedSet<String> = user_role
            .as_deref()
            .map(|r| roles.permissions_of(r))
            .unwrap_or_default();
        perms.extend(m.permissions);
        let permissions: Vec<String> = perms.into_iter().collect();
        let mut out = Map::new();
        for k in ["iss", "aud", "azp", "sid", "exp", "nbf", "iat"] {
            if let Some(v) = claims.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        out.insert("sub".into(), Value::String(m.sub.clone()));
        out.insert("role".into(), Value::String("authenticated".into()));
        out.insert("issuer".into(), Value::String(iss.name.clone()));
        out.insert("is_anonymous".into(), Value::Bool(false));
        if let Some(e) = &m.email {
            out.insert("email".into(), Value::String(e.clone()));
        }
        if let Some(t) = &m.tenant_id {
            out.insert("tenant_id".into(), Value::String(t.clone()));
        }
        if let Some(r) = &user_role {
            out.insert("user_role".into(), Value::String(r.clone()));
        }
        out.insert(
            "permissions".into(),
            Value::Array(permissions.iter().cloned().map(Value::String).collect()),
        );
        Ok(Identity {
            kind: IdentityKind::User,
            key_name: None,
            api_key_id: None,
            sub: Some(m.sub),
            role: Some("authenticated".into()),
            email: m.email,
            user_role,
            tenant_id: m.tenant_id,
            permissions,
            aal: None,
            is_anonymous: false,
            exp: claims.get("exp").and_then(Value::as_i64),
            claims: out,
        })
    }

    /// The identity of verified, time-checked `claims`. It depends only on the
    /// claims and this gate's configuration, never on the route or the time.
    fn user_identity(&self, claims: Map<String, Value>) -> Result<Identity, Decision> {
        let sub = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(Decision::deny(ErrorCode::InvalidJwt, "token has no sub")),
        };
        let is_anonymous = matches!(claims.get("is_anonymous"), Some(Value::Bool(true)));
        let email = claims
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let roles = &self.policy.roles;
        let am = self.policy.app_metadata_claims;
        let mut user_role = match claim_str(&claims, "user_role", am) {
            None => roles.lowest().map(str::to_owned),
            Some(r) if roles.rank(&r).is_some() => Some(r),
            Some(_) => None,
        };
        if let (Some(e), Some(admin)) = (&email, roles.ladder.first()) {
            if !is_anonymous
                && self
                    .config
                    .admin_emails
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(e))
            {
                user_role = Some(admin.clone());
            }
        }
        let mut perms: SortedSet<String> = user_role
            .as_deref()
            .map(|r| roles.permissions_of(r))
            .unwrap_or_default();
        if let Some(Value::Array(a)) = claim(&claims, "permissions", am) {
            perms.extend(
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|p| crate::policy::permission_ok(p))
                    .map(str::to_owned),
            );
        }
        Ok(Identity {
            kind: IdentityKind::User,
            key_name: None,
            api_key_id: None,
            sub: Some(sub),
            role: claims
                .get("role")
                .and_then(Value::as_str)
                .map(str::to_owned),
            email,
            user_role,
            tenant_id: claim_str(&claims, "tenant_id", am),
            permissions: perms.into_iter().collect(),
            aal: claims.get("aal").and_then(Value::as_str).map(str::to_owned),
            is_anonymous,
            exp: claims.get("exp").and_then(Value::as_i64),
            claims,
        })
    }

    /// Everything but credentials: aal, tenant, roles, permissions. A body
    /// tenant is not compared here (the body is not read yet): it is returned
    /// as pending, for [`Gate::check_body_tenant`].
    fn authorize(
        &self,
        route: &Route,
        req: &Request,
        params: &SortedMap<String, String>,
        id: &Identity,
    ) -> Result<Option<TenantCheck>, Denial> {
        if !matches!(id.kind, IdentityKind::User | IdentityKind::Apikey) {
            return Ok(None);
        }
        if route.require_aal2 && id.aal.as_deref() != Some("aal2") {
            return Err(Denial::new(
                ErrorCode::Forbidden,
                "this route requires aal2 (multi-factor authentication)",
            ));
        }
        let mut pending = None;
        if route
            .tenant
            .as_ref()
            .is_some_and(|t| t.from == TenantFrom::Body)
        {
            pending = Some(TenantCheck::Body);
        } else if let Some(t) = &route.tenant {
            let target: Option<String> = match t.from {
                TenantFrom::Path => params.get(&t.name).cloned(),
                TenantFrom::Query => query_param(&req.query, &t.name).map_err(|_| {
                    Denial::new(
                        ErrorCode::TenantMismatch,
                        "tenant query parameter is malformed or repeated",
                    )
                })?,
                TenantFrom::Header => req.headers.get(&t.name.to_ascii_lowercase()).cloned(),
                TenantFrom::Body => None, // deferred above; never reached
            };
            let Some(target) = target else {
                return Err(Denial::new(
                    ErrorCode::TenantMismatch,
                    format!(
                        "request names no tenant ({} \"{}\")",
                        from_name(t.from),
                        t.name
                    ),
                ));
            };
            same_tenant(id.tenant_id.as_deref(), &target)?;
        }
        if !route.roles.is_empty() {
            let roles = &self.policy.roles;
            let mine = id.user_role.as_deref().and_then(|r| roles.rank(r));
            let need = route.roles.iter().filter_map(|r| roles.rank(r)).max();
            match (mine, need) {
                (Some(m), Some(n)) if m <= n => {}
                _ => {
                    return Err(Denial::new(
                        ErrorCode::Forbidden,
                        format!("role {} required", route.roles.join(" or ")),
                    ))
                }
            }
        }
        for p in &route.permissions {
            let held = id.permissions.iter().any(|h| {
                h == p
                    || h.split_once(':')
                        .zip(p.split_once(':'))
                        .is_some_and(|((hr, ha), (pr, _))| hr == pr && ha == "*")
            });
            if !held {
                return Err(Denial::new(
                    ErrorCode::Forbidden,
                    format!("permission {p} required"),
                ));
            }
        }
        Ok(pending)
    }

    /// The step an allow with [`TenantCheck::Body`] left pending: the body's
    /// top-level tenant field (the route's `tenant.name`) must be a string
    /// equal to the identity's `tenant_id`. `route` is the allow's route label,
    /// `tenant_id` its identity's, `body` the body as the body checks parsed
    /// it (`null` when empty). Denials are `TENANT_MISMATCH` with a precise
    /// reason; a route without a body tenant has nothing pending and passes.
    pub fn check_body_tenant(
        &self,
        route: &str,
        tenant_id: Option<&str>,
        body: &Value,
    ) -> Result<(), Denial> {
        let Some(r) = self.policy.routes.iter().find(|r| r.key == route) else {
            return Err(Denial::new(
                ErrorCode::Internal,
                "body tenant check for a route the policy does not have",
            ));
        };
        let Some(t) = r.tenant.as_ref().filter(|t| t.from == TenantFrom::Body) else {
            return Ok(());
        };
        let mismatch = |reason: String| Denial::new(ErrorCode::TenantMismatch, reason);
        let Value::Object(fields) = body else {
            return Err(mismatch(format!(
                "body is not a JSON object (it must name the tenant in \"{}\")",
                t.name
            )));
        };
        match fields.get(&t.name) {
            None | Some(Value::Null) => {
                Err(mismatch(format!("body field \"{}\" is missing", t.name)))
            }
            Some(Value::String(target)) => same_tenant(tenant_id, target),
            Some(_) => Err(mismatch(format!(
                "body field \"{}\" is not a string",
                t.name
            ))),
        }
    }
}

/// The request's tenant `target` against the identity's `tenant_id`.
fn same_tenant(mine: Option<&str>, target: &str) -> Result<(), Denial> {
    match mine {
        None => Err(Denial::new(
            ErrorCode::TenantMismatch,
            "token has no tenant_id",
        )),
        Some(mine) if mine != target => Err(Denial::new(
            ErrorCode::TenantMismatch,
            "the request targets another tenant",
        )),
        Some(_) => Ok(()),
    }
}

fn from_name(f: TenantFrom) -> &'static str {
    match f {
        TenantFrom::Path => "path",
        TenantFrom::Query => "query",
        TenantFrom::Body => "body",
        TenantFrom::Header => "header",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prebuilt_identity_json_gives_the_same_bytes() {
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String("u-1 \"quoted\" é".into()));
        claims.insert("exp".into(), Value::from(1_900_000_000_i64));
        let identity = Arc::new(Identity {
            kind: IdentityKind::User,
            key_name: None,
            api_key_id: None,
            sub: Some("u-1 \"quoted\" é".into()),
            role: Some("authenticated".into()),
            email: None,
            user_role: Some("member".into()),
            tenant_id: None,
            permissions: vec!["notes:read".into()],
            aal: Some("aal1".into()),
            is_anonymous: false,
            exp: Some(1_900_000_000),
            claims,
        });
        let mut params = SortedMap::new();
        params.insert("id".to_string(), "a\"b".to_string());
        let decide = |json: Option<Arc<str>>| Decision::Allow {
            route: "GET /notes/:id".into(),
            params: params.clone(),
            tenant_check: None,
            identity: identity.clone(),
            identity_json: json.map(|json| PrebuiltIdentity { key: 7, json }),
        };
        let built = decide(None).to_json();
        let json: Arc<str> = serde_json::to_string(identity.as_ref()).unwrap().into();
        assert_eq!(decide(Some(json.clone())).to_json(), built);
        assert!(built.starts_with("{\"ok\":true,\"route\":\"GET /notes/:id\""));
        // Keyed: the same answer with the identity replaced by its key, the JSON beside it.
        let (keyed, beside) = decide(Some(json.clone())).to_keyed_json();
        assert_eq!(beside.as_deref(), Some(&*json));
        assert_eq!(
            keyed.replace("\"identity_key\":7", &format!("\"identity\":{json}")),
            built
        );
        assert_eq!(decide(None).to_keyed_json(), (built, None));
    }
}
