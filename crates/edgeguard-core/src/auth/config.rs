//! Environment configuration for identity (SPEC §3).

use super::apikey::{KeyKind, NamedKeys};
use super::keys::{Key, KeyMaterial, KeySet};
use crate::{Denial, ErrorCode};
use std::collections::BTreeMap;

/// The deployment environment (`APP_ENV`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development (default).
    Development,
    /// Staging.
    Staging,
    /// Production: unsafe configuration is refused.
    Production,
}

/// Where verification keys come from.
#[derive(Clone, Debug)]
pub enum JwksSource {
    /// No asymmetric keys (HS256-only or API-key-only function).
    None,
    /// Inline `SUPABASE_JWKS`, already parsed.
    Inline(KeySet),
    /// A URL the shim fetches.
    Url(String),
}

/// Identity configuration read from the environment.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// `APP_ENV`.
    pub app_env: AppEnv,
    /// JWKS source.
    pub jwks: JwksSource,
    /// The HS256 key from `JWT_SECRET` / `SUPABASE_JWT_SECRET`.
    pub hs256: Option<Key>,
    /// Publishable keys by name.
    pub publishable: NamedKeys,
    /// Secret keys by name.
    pub secret: NamedKeys,
    /// Lower-cased `ADMIN_EMAILS`.
    pub admin_emails: Vec<String>,
}

fn mis(r: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, r)
}

fn nonempty<'a>(env: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    env.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Whether a URL host is loopback (`localhost`, `127.x`, `[::1]`).
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host.starts_with("127.")
        || host.ends_with(".localhost")
}

/// Validates a JWKS URL: https, or http on loopback only (any http refused in production unless loopback).
pub fn check_jwks_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or("JWKS URL has no scheme")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("JWKS URL must not carry credentials".into());
    }
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err("JWKS URL has no host".into());
    }
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback_host(&host.to_ascii_lowercase()) => Ok(()),
        "http" => Err("JWKS URL must be https (http only on loopback)".into()),
        _ => Err("JWKS URL must be https".into()),
    }
}

fn named_keys(
    env: &BTreeMap<String, String>,
    plural: &str,
    singular: &str,
    kind: KeyKind,
) -> Result<NamedKeys, Denial> {
    let mut out = Vec::new();
    if let Some(json) = nonempty(env, plural) {
        let v: serde_json::Value = crate::strict_json::parse(json.as_bytes())
            .map_err(|e| mis(format!("{plural}: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| mis(format!("{plural} must be a JSON object of name → key")))?;
        for (name, val) in obj {
            let key = val
                .as_str()
                .ok_or_else(|| mis(format!("{plural}.{name} is not a string")))?;
            if !key.starts_with(kind.prefix()) || key.len() <= kind.prefix().len() {
                return Err(mis(format!(
                    "{plural}.{name} does not start with {}",
                    kind.prefix()
                )));
            }
            out.push((name.clone(), key.to_owned()));
        }
    } else if let Some(key) = nonempty(env, singular) {
        if !key.starts_with(kind.prefix()) || key.len() <= kind.prefix().len() {
            return Err(mis(format!(
                "{singular} does not start with {}",
                kind.prefix()
            )));
        }
        out.push(("default".to_owned(), key.to_owned()));
    }
    Ok(NamedKeys(out))
}

impl AuthConfig {
    /// Reads the identity configuration. Misconfiguration is a `MISCONFIGURED`
    /// denial whose reason names the variable (never its value).
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<AuthConfig, Denial> {
        let app_env = match nonempty(env, "APP_ENV") {
            None | Some("development") => AppEnv::Development,
            Some("staging") => AppEnv::Staging,
            Some("production") => AppEnv::Production,
            Some(_) => return Err(mis("APP_ENV must be development, staging or production")),
        };
        let jwks = if let Some(inline) = nonempty(env, "SUPABASE_JWKS") {
            let set = KeySet::from_json(inline).map_err(|e| mis(format!("SUPABASE_JWKS: {e}")))?;
            if set.keys.is_empty() {
                return Err(mis("SUPABASE_JWKS holds no usable key"));
            }
            JwksSource::Inline(set)
        } else if let Some(url) = nonempty(env, "SUPABASE_JWKS_URL") {
            check_jwks_url(url).map_err(|e| mis(format!("SUPABASE_JWKS_URL: {e}")))?;
            JwksSource::Url(url.to_owned())
        } else if let Some(base) = nonempty(env, "SUPABASE_URL") {
            let url = format!(
                "{}/auth/v1/.well-known/jwks.json",
                base.trim_end_matches('/')
            );
            check_jwks_url(&url).map_err(|e| mis(format!("SUPABASE_URL: {e}")))?;
            JwksSource::Url(url)
        } else {
            JwksSource::None
        };
        let secret = nonempty(env, "JWT_SECRET").or_else(|| nonempty(env, "SUPABASE_JWT_SECRET"));
        let hs256 = match secret {
            None => None,
            Some(s) if s.len() < 32 => return Err(mis("JWT_SECRET is shorter than 32 bytes")),
            Some(s) => match KeyMaterial::hs256(s.as_bytes()) {
                Some(material) => Some(Key {
                    kid: None,
                    material,
                }),
                None => return Err(mis("JWT_SECRET is not a usable HMAC key")),
            },
        };
        let publishable = named_keys(
            env,
            "SUPABASE_PUBLISHABLE_KEYS",
            "SUPABASE_PUBLISHABLE_KEY",
            KeyKind::Publishable,
        )?;
        let secret = named_keys(
            env,
            "SUPABASE_SECRET_KEYS",
            "SUPABASE_SECRET_KEY",
            KeyKind::Secret,
        )?;
        let admin_emails = nonempty(env, "ADMIN_EMAILS")
            .map(|s| {
                s.split(',')
                    .map(|e| e.trim().to_ascii_lowercase())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(AuthConfig {
            app_env,
            jwks,
            hs256,
            publishable,
            secret,
            admin_emails,
        })
    }
}

/// Parses an environment given as a JSON object of strings (what the shim
/// passes); non-string values are refused.
pub fn env_from_json(json: &str) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "env: not a JSON object".to_string())?;
    let obj = v.as_object().ok_or("env: not a JSON object")?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        match v {
            serde_json::Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            serde_json::Value::Null => {}
            _ => return Err(format!("env: {k} is not a string")),
        }
    }
    Ok(out)
}
