//! `Gate`: the wasm face of credential and role decisions. Converts JSON and
//! calls `edgeguard_core::auth::Gate`; every decision is made there.

use edgeguard_core::auth::{Env, Gate as CoreGate, RequestFacts};
use edgeguard_core::{Denial, ErrorCode};
use serde_json::json;
use wasm_bindgen::prelude::*;

/// Decides route, credentials and roles for one function.
#[wasm_bindgen]
pub struct Gate {
    inner: CoreGate,
    jwks_loaded: bool,
}

fn deny(d: &Denial) -> String {
    json!({"ok": false, "code": d.code.as_str(), "status": d.code.status(), "reason": d.reason, "refetch_jwks": false}).to_string()
}

#[wasm_bindgen]
impl Gate {
    /// Validates the policy and reads the environment; throws with a clear reason when unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(policy_json: &str, env_json: &str) -> Result<Gate, JsError> {
        let env: Env = serde_json::from_str(env_json).map_err(|_| JsError::new("env: not a JSON object of strings"))?;
        let inner = CoreGate::new(policy_json, &env).map_err(|d| JsError::new(&d.reason))?;
        Ok(Gate { inner, jwks_loaded: false })
    }

    /// The JWKS URL the shim must fetch, if keys are not inline.
    #[wasm_bindgen(js_name = jwksUrl)]
    pub fn jwks_url(&self) -> Option<String> {
        self.inner.jwks_url().map(str::to_string)
    }

    /// Whether the shim should fetch the JWKS before checking.
    #[wasm_bindgen(js_name = needsJwks)]
    pub fn needs_jwks(&self, _now_ms: f64) -> bool {
        !self.jwks_loaded && self.inner.jwks_url().is_some()
    }

    /// Installs a fetched JWKS.
    #[wasm_bindgen(js_name = setJwks)]
    pub fn set_jwks(&mut self, jwks_json: &str, _max_age_s: u32, _now_ms: f64) -> Result<(), JsError> {
        self.inner.set_jwks(jwks_json).map_err(|d| JsError::new(&d.reason))?;
        self.jwks_loaded = true;
        Ok(())
    }

    /// Records a failed JWKS fetch.
    #[wasm_bindgen(js_name = jwksFetchFailed)]
    pub fn jwks_fetch_failed(&mut self, _now_ms: f64) {}

    /// Decides a request: `{"ok":true,"route","params","identity"}` or `{"ok":false,"code","reason"}`.
    pub fn check(&mut self, request_json: &str, now_ms: f64) -> String {
        let Ok(facts) = serde_json::from_str::<RequestFacts>(request_json) else {
            return deny(&Denial::new(ErrorCode::Internal, "request facts are not valid JSON"));
        };
        let now = if now_ms.is_finite() && now_ms > 0.0 { (now_ms / 1000.0) as u64 } else { 0 };
        match self.inner.check(&facts, now) {
            Ok(d) => json!({"ok": true, "route": d.route, "params": d.params, "identity": d.identity}).to_string(),
            Err(d) => deny(&d),
        }
    }
}
