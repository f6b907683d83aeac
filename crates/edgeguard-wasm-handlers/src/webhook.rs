//! Webhook verification for the `webhooks` and `auth-hooks` functions.
//! Strings and bytes in, one JSON decision out; every rule lives in
//! `edgeguard_core::webhook`.

use edgeguard_core::webhook::{json, WebhookVerifiers};
use wasm_bindgen::prelude::*;

/// Every webhook endpoint (`stripe`, `shopify`, `github`, `standard`,
/// `auth_hook`) built once from the function's environment.
#[wasm_bindgen]
pub struct WebhookVerifier {
    inner: WebhookVerifiers,
}

#[wasm_bindgen]
impl WebhookVerifier {
    /// `env_json`: a JSON object of environment values, e.g.
    /// `{"STRIPE_WEBHOOK_SECRET":"whsec_…","WEBHOOK_TIMESTAMP_TOLERANCE":"300"}`.
    /// Endpoints without a secret are "not configured" (MISCONFIGURED when
    /// used). Throws only when `env_json` is not a JSON object.
    #[wasm_bindgen(constructor)]
    pub fn new(env_json: &str) -> Result<WebhookVerifier, JsError> {
        json::verifiers_from_env_json(env_json)
            .map(|inner| WebhookVerifier { inner })
            .map_err(|e| JsError::new(&e.reason()))
    }

    /// Verifies the raw `body` of a delivery to endpoint `provider` with its
    /// headers (`headers_json`: `{"name":"value"}` or `[["name","value"],…]`)
    /// at `now_ms` (`Date.now()`). Returns the JSON decision:
    /// `{"ok":true,"provider","scheme","event_id","event_id_signed","timestamp"}`
    /// or `{"ok":false,"code","status","reason"}`.
    pub fn verify(&self, provider: &str, headers_json: &str, body: &[u8], now_ms: f64) -> String {
        json::verify_json(&self.inner, provider, headers_json, body, now_ms)
    }

    /// Each endpoint's readiness as JSON (for health, doctor and refusing to
    /// start in production): `{"stripe":{"ok":true},"github":{"ok":false,"code":"MISCONFIGURED","reason":"…"}}`.
    pub fn status(&self) -> String {
        json::status_json(&self.inner)
    }
}
