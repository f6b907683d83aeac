//! `Gate`: identity and authorization for one function (policy + env),
//! wrapping `edgeguard_core::authz::Gate`. Conversion only.

use edgeguard_core::auth::config::env_from_json;
use edgeguard_core::authz::{self, Decision, Request};
use edgeguard_core::{Denial, ErrorCode};
use wasm_bindgen::prelude::*;

/// Decides identity and authorization for every request of one function.
#[wasm_bindgen]
pub struct Gate {
    inner: authz::Gate,
    /// The identity JSON of the last keyed allow, for [`Gate::identity_json`].
    last_identity: Option<std::sync::Arc<str>>,
}

#[wasm_bindgen]
impl Gate {
    /// Builds the gate from the function's `policy.json` text and its
    /// environment as a JSON object of strings. Throws with a clear reason
    /// (e.g. `policy: routes[1].roles[0]: unknown role "root"`).
    #[wasm_bindgen(constructor)]
    pub fn new(policy_json: &str, env_json: &str) -> Result<Gate, JsError> {
        let env = env_from_json(env_json).map_err(|e| JsError::new(&e))?;
        authz::Gate::new(policy_json, &env)
            .map(|inner| Gate {
                inner,
                last_identity: None,
            })
            .map_err(|e| JsError::new(&e))
    }

    /// The JWKS URL the shim must fetch, or `undefined` when keys are inline or HS256-only.
    #[wasm_bindgen(js_name = jwksUrl)]
    pub fn jwks_url(&self) -> Option<String> {
        self.inner.jwks_url().map(str::to_owned)
    }

    /// The largest JWKS document the core accepts, in bytes: the shim stops
    /// reading a fetched document past it (docs/memory.md).
    #[wasm_bindgen(js_name = jwksMaxBytes)]
    pub fn jwks_max_bytes(&self) -> u32 {
        u32::try_from(edgeguard_core::auth::keys::MAX_JWKS_BYTES).unwrap_or(u32::MAX)
    }

    /// Whether the shim should fetch the JWKS now (stale or never fetched).
    #[wasm_bindgen(js_name = needsJwks)]
    pub fn needs_jwks(&self, now_ms: f64) -> bool {
        self.inner.needs_jwks(now_ms)
    }

    /// Installs fetched JWKS bytes; `max_age_s` from `Cache-Control` (0 = default).
    /// `url`: the `jwks_url` a denial named (a third-party issuer's,
    /// docs/issuers.md); omitted: Supabase Auth's ([`Gate::jwks_url`]).
    #[wasm_bindgen(js_name = setJwks)]
    pub fn set_jwks(
        &mut self,
        jwks_json: &str,
        max_age_s: u32,
        now_ms: f64,
        url: Option<String>,
    ) -> Result<(), JsError> {
        self.inner
            .set_jwks_at(url.as_deref(), jwks_json, max_age_s, now_ms)
            .map_err(|e| JsError::new(&e))
    }

    /// Records a failed JWKS fetch of `url` (omitted: Supabase Auth's); cached keys stay in use.
    #[wasm_bindgen(js_name = jwksFetchFailed)]
    pub fn jwks_fetch_failed(&mut self, now_ms: f64, url: Option<String>) {
        self.inner.jwks_fetch_failed_at(url.as_deref(), now_ms)
    }

    /// Decides one request. `request_json`: `{"method","path","query","headers":{..}}`.
    /// Returns `{"ok":true,"route","params","tenant_check"?,"identity"}` or
    /// `{"ok":false,"code","status","reason","refetch_jwks"}`. `"tenant_check":"body"`:
    /// the route's tenant is a body field, to be compared by [`Gate::check_body_tenant`]
    /// once the body is read and checked, before the handler runs.
    /// A denial may carry `"lookup_api_key":{"key_hash","previous_hash"}` when
    /// a user API key must be verified first (see [`Gate::put_api_key`]), and
    /// `"jwks_url"` when a third-party issuer's JWKS must be fetched (hand it
    /// to [`Gate::set_jwks`] with that URL, then decide again).
    pub fn check(&mut self, request_json: &str, now_ms: f64) -> String {
        match Request::from_json(request_json) {
            Ok(req) => {
                let answer = self.inner.check(&req, now_ms).to_json();
                self.with_lookup(answer)
            }
            Err(denial) => Decision::Deny {
                denial: Denial::new(ErrorCode::Internal, denial.reason),
                refetch_jwks: false,
                actor: None,
            }
            .to_json(),
        }
    }

    /// Decides one request from its parts, without a request JSON (the shim's
    /// hot path): the credentials as they arrived (`authorization`, `apikey`,
    /// `x-api-key`), `headers_json` the other
    /// headers a policy may name as tenant source (`{"x-tenant-id":"..."}`,
    /// usually `{}`). The body is never needed here: a body tenant is left
    /// pending (`"tenant_check":"body"`). Same answer as [`Gate::check`], except that
    /// an allow for a verified token names its identity by key
    /// (`"identity_key":K`); the shim keeps identities it has parsed and asks
    /// [`Gate::identity_json`] only for a key it has not seen. A key names the
    /// same bytes for the gate's lifetime and is never reused.
    #[wasm_bindgen(js_name = checkParts)]
    #[allow(clippy::too_many_arguments)]
    pub fn check_parts(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        authorization: Option<String>,
        apikey: Option<String>,
        x_api_key: Option<String>,
        headers_json: &str,
        now_ms: f64,
    ) -> String {
        match request_from_parts(method, path, query, [authorization, apikey, x_api_key], headers_json) {
            Ok(req) => {
                let (answer, identity) = self.inner.check(&req, now_ms).to_keyed_json();
                self.last_identity = identity;
                self.with_lookup(answer)
            }
            Err(reason) => Decision::Deny {
                denial: Denial::new(ErrorCode::Internal, format!("request parts: {reason}")),
                refetch_jwks: false,
                actor: None,
            }
            .to_json(),
        }
    }

    /// The step an allow with `"tenant_check":"body"` left pending: the
    /// checked body's top-level tenant field against the identity's
    /// `tenant_id`. `route` is the allow's route, `body_json` the body as the
    /// body checks parsed it, as JSON text (`null` when empty). Returns
    /// `{"ok":true}` or `{"ok":false,"code":"TENANT_MISMATCH","status":403,"reason"}`.
    #[wasm_bindgen(js_name = checkBodyTenant)]
    pub fn check_body_tenant(
        &self,
        route: &str,
        tenant_id: Option<String>,
        body_json: &str,
    ) -> String {
        let verdict = match serde_json::from_str::<serde_json::Value>(body_json) {
            Ok(body) => self
                .inner
                .check_body_tenant(route, tenant_id.as_deref(), &body),
            Err(_) => Err(Denial::new(ErrorCode::Internal, "body is not JSON")),
        };
        match verdict {
            Ok(()) => r#"{"ok":true}"#.to_owned(),
            Err(d) => serde_json::json!({"ok": false, "code": d.code.as_str(), "status": d.code.status(), "reason": d.reason})
                .to_string(),
        }
    }

    /// A denial JSON with the lookup the core asked for added (a user API key
    /// to verify in Postgres) and, for a per-key 429, its `retry_after_s`;
    /// any other answer unchanged.
    fn with_lookup(&mut self, answer: String) -> String {
        let lookup = self.inner.take_api_key_lookup();
        let retry_after = self.inner.take_retry_after();
        let jwks_url = self.inner.take_jwks_fetch();
        if lookup.is_none() && retry_after.is_none() && jwks_url.is_none() {
            return answer;
        }
        match serde_json::from_str::<serde_json::Value>(&answer) {
            Ok(serde_json::Value::Object(mut m)) => {
                if let Some(lookup) = lookup {
                    m.insert(
                        "lookup_api_key".into(),
                        serde_json::to_value(&lookup).unwrap_or_default(),
                    );
                }
                if let Some(s) = retry_after {
                    m.insert("retry_after_s".into(), s.into());
                }
                if let Some(u) = jwks_url {
                    m.insert("jwks_url".into(), u.into());
                }
                serde_json::Value::Object(m).to_string()
            }
            _ => answer,
        }
    }

    /// Installs what `private.api_key_verify` answered (its one row as JSON)
    /// for the `key_hash` a `lookup_api_key` answer named, fetched at `now_ms`;
    /// then ask again. Throws on a row of another shape.
    #[wasm_bindgen(js_name = putApiKey)]
    pub fn put_api_key(
        &mut self,
        key_hash: &str,
        row_json: &str,
        now_ms: f64,
    ) -> Result<(), JsError> {
        self.inner
            .put_api_key(key_hash, row_json, now_ms)
            .map_err(|e| JsError::new(&e))
    }

    /// The identity JSON of the last `checkParts` allow that named an
    /// `identity_key`, or `undefined`.
    #[wasm_bindgen(js_name = identityJson)]
    pub fn identity_json(&self) -> Option<String> {
        self.last_identity.as_deref().map(str::to_owned)
    }

    /// The headers the policy reads a tenant from, as a JSON array of
    /// lowercase names (usually `[]`); the shim passes only these to `checkParts`.
    #[wasm_bindgen(js_name = tenantHeaderNames)]
    pub fn tenant_header_names(&self) -> String {
        serde_json::to_string(&self.inner.tenant_header_names()).unwrap_or_else(|_| "[]".into())
    }

    /// The policy's hardening sections as JSON (`{"limits","cors","headers","body","routes":[{route,limits,body,csrf}]}`), for the lead's wiring.
    #[wasm_bindgen(js_name = hardeningJson)]
    pub fn hardening_json(&self) -> String {
        self.inner.hardening_json()
    }
}

/// The core's `Request` from the parts `checkParts` receives, with the same
/// normalisation as `Request::from_json` (upper-case method, lower-case header
/// names, non-string header values ignored).
fn request_from_parts(
    method: &str,
    path: &str,
    query: &str,
    credentials: [Option<String>; 3],
    headers_json: &str,
) -> Result<Request, &'static str> {
    let mut headers = std::collections::BTreeMap::new();
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(headers_json).map_err(|_| "headers are not a JSON object")?;
    for (k, v) in extra {
        if let serde_json::Value::String(v) = v {
            headers.insert(k.to_ascii_lowercase(), v);
        }
    }
    for (name, value) in ["authorization", "apikey", "x-api-key"]
        .into_iter()
        .zip(credentials)
    {
        if let Some(v) = value {
            headers.insert(name.to_owned(), v);
        }
    }
    Ok(Request {
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
    })
}
