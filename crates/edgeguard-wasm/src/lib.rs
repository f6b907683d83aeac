//! The wasm-bindgen facade over `edgeguard-core` for the request pipeline:
//! the `Guard` every function runs and the small helpers of its shims (error
//! codes, environment, log redaction). What only some handlers call (webhook
//! verification, API keys, audit checkpoints, alerts, erasure tokens) is the
//! separate module `edgeguard-wasm-handlers`, so a fresh isolate compiles only
//! this one (docs/architecture.md, "The wasm boundary"). Converts types and
//! calls the core; no security decision is made here.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::*;

pub mod guard;

/// The edgeguard version compiled into this module.
#[wasm_bindgen]
pub fn version() -> String {
    edgeguard_core::VERSION.to_string()
}

/// The HTTP status for a SPEC error code name, or 500 for an unknown name.
#[wasm_bindgen(js_name = errorStatus)]
pub fn error_status(code: &str) -> u16 {
    edgeguard_core::ErrorCode::from_name(code).map_or(500, |c| c.status())
}

/// The public default message for a SPEC error code name.
#[wasm_bindgen(js_name = errorMessage)]
pub fn error_message(code: &str) -> String {
    edgeguard_core::ErrorCode::from_name(code)
        .unwrap_or(edgeguard_core::ErrorCode::Internal)
        .default_message()
        .to_string()
}

/// The deployment environment for an environment given as a JSON object of
/// strings: `"development"`, `"staging"` or `"production"` (the one rule in
/// `edgeguard_core::app_env`; hosted without `APP_ENV` is production). An
/// invalid `APP_ENV` or environment answers `"production"`, the safe reading:
/// the function reports the invalid value as misconfiguration.
#[wasm_bindgen(js_name = appEnv)]
pub fn app_env(env_json: &str) -> String {
    edgeguard_core::auth::config::env_from_json(env_json)
        .map(|env| edgeguard_core::app_env::AppEnv::from_env_strict_default(&env))
        .unwrap_or(edgeguard_core::app_env::AppEnv::Production)
        .name()
        .to_string()
}

/// Whether the database shims must sign audit checkpoints for an
/// environment given as a JSON object of strings: false only when
/// `AUDIT_SIGNING_KEY` is unset outside production
/// (`edgeguard_core::audit_checkpoint::SignerConfig::wanted`). When true, the
/// signer itself (and whether its key is usable) comes from the handlers'
/// module, loaded at the first transaction that wrote audit rows. An invalid
/// environment answers true, the safe reading.
#[wasm_bindgen(js_name = auditCheckpointsWanted)]
pub fn audit_checkpoints_wanted(env_json: &str) -> bool {
    edgeguard_core::auth::config::env_from_json(env_json)
        .map_or(true, |env| edgeguard_core::audit_checkpoint::SignerConfig::wanted(&env))
}

/// One log line with personal data and credentials replaced by markers
/// (`[email]`, `[jwt]`, …); IP addresses too when `ip` is true.
#[wasm_bindgen(js_name = redactLogLine)]
pub fn redact_log_line(line: &str, ip: bool) -> String {
    edgeguard_core::redact::redact(line, &edgeguard_core::redact::RedactOptions { ip }).into_owned()
}

/// Whether log lines should redact IP addresses, from `EDGEGUARD_LOG_IPS`
/// (`keep` | `redact`) and whether the function runs in production (`appEnv`).
#[wasm_bindgen(js_name = logRedactsIps)]
pub fn log_redacts_ips(log_ips: Option<String>, production: bool) -> bool {
    edgeguard_core::redact::RedactOptions::from_settings(log_ips.as_deref(), production).ip
}

/// Whether an incoming `x-request-id` is well formed and may be kept (for
/// the answers of a function that could not be configured; the pipeline
/// decides it for every other request).
#[wasm_bindgen(js_name = requestIdOk)]
pub fn request_id_ok(id: &str) -> bool {
    edgeguard_core::request_id::is_well_formed(id)
}
