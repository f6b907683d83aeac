//! User API keys for the `api-keys` function: creation and rotation checks
//! and minting, wrapping `edgeguard_core::api_keys`. Conversion only.

use edgeguard_core::api_keys::{self, CreateSpec, KeyEnv, Pepper};
use edgeguard_core::app_env::AppEnv;
use edgeguard_core::auth::config::env_from_json;
use edgeguard_core::{Denial, ErrorCode};
use serde_json::json;
use wasm_bindgen::prelude::*;

fn refusal(d: &Denial) -> String {
    json!({"ok": false, "code": d.code.as_str(), "status": d.code.status(), "reason": d.reason})
        .to_string()
}

/// A fresh key for the deployment of `env_json` (environment from `APP_ENV`)
/// with its keyed hash: `{"key","prefix","key_hash"}`.
fn minted(env_json: &str) -> Result<serde_json::Value, Denial> {
    let mis = |r: String| Denial::new(ErrorCode::Misconfigured, r);
    let env = env_from_json(env_json).map_err(mis)?;
    let pepper = Pepper::from_env(&env).map_err(mis)?;
    let app_env = AppEnv::from_env(&env).map_err(mis)?;
    let k = api_keys::mint(KeyEnv::for_production(app_env.is_production()))?;
    let key_hash = pepper.hash(&k.key);
    Ok(json!({"key": k.key, "prefix": k.prefix, "key_hash": key_hash}))
}

/// Checks a `POST /api-keys` body against the creator's current permissions
/// (`held_json`, a JSON array) and mints the key. Answers
/// `{"ok":true,"spec":{name,scopes,expires_in_s,uses,refill,rate_limit},"key","prefix","key_hash"}`
/// or `{"ok":false,"code","status","reason"}`. The key appears only here.
#[wasm_bindgen(js_name = apiKeyCreate)]
pub fn api_key_create(body: &[u8], held_json: &str, env_json: &str) -> String {
    let held: Vec<String> = serde_json::from_str(held_json).unwrap_or_default();
    let run = || -> Result<String, Denial> {
        let spec = CreateSpec::parse(body, &held)?;
        let mut out = minted(env_json)?;
        out["ok"] = json!(true);
        out["spec"] = serde_json::to_value(&spec)
            .map_err(|_| Denial::new(ErrorCode::Internal, "spec not serialisable"))?;
        Ok(out.to_string())
    };
    run().unwrap_or_else(|d| refusal(&d))
}

/// Checks a `POST /api-keys/{id}/rotate` body (`{"overlap_s"?}`) and mints
/// the new key: `{"ok":true,"overlap_s","key","prefix","key_hash"}` or a refusal.
#[wasm_bindgen(js_name = apiKeyRotate)]
pub fn api_key_rotate(body: &[u8], env_json: &str) -> String {
    let run = || -> Result<String, Denial> {
        let overlap = api_keys::rotate_overlap(body)?;
        let mut out = minted(env_json)?;
        out["ok"] = json!(true);
        out["overlap_s"] = json!(overlap);
        Ok(out.to_string())
    };
    run().unwrap_or_else(|d| refusal(&d))
}
