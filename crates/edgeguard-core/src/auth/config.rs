//! Environment configuration for authentication (docs/environment.md).

use super::apikey::{KeyKind, NamedKeys};
use super::keys::{Key, KeyMaterial, KeySet};
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

pub use crate::app_env::AppEnv;

/// Where verification keys come from.
#[derive(Clone, Debug)]
pub enum JwksSource {
    /// No JWKS (HS256-only or API-key-only function).
    None,
    /// Inline `SUPABASE_JWKS`, already parsed (may hold only `oct` keys, or none).
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
    /// Why user tokens cannot be verified (a malformed `SUPABASE_JWKS`, a
    /// refused JWKS URL, a short `JWT_SECRET`): routes that need users answer
    /// `MISCONFIGURED` with this reason; every other route works.
    pub user_keys_error: Option<String>,
    /// Publishable keys by name.
    pub publishable: NamedKeys,
    /// Secret keys by name.
    pub secret: NamedKeys,
    /// Why the Supabase API keys cannot be used (malformed key maps): routes
    /// that accept them answer `MISCONFIGURED` with this reason.
    pub api_keys_error: Option<String>,
    /// Lower-cased `ADMIN_EMAILS`.
    pub admin_emails: Vec<String>,
}

fn mis(r: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, r)
}

fn nonempty<'a>(env: &'a SortedMap<String, String>, k: &str) -> Option<&'a str> {
    env.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Whether a URL host is a loopback address: `localhost` (and `*.localhost`),
/// or an IP literal in `127.0.0.0/8` or `::1`. The host is parsed as an IP
/// address, so `127.evil.com` is not loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host);
    literal
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a URL host is a single-label service name such as `kong` (what
/// `supabase start` gives functions as `SUPABASE_URL`): letters, digits and
/// hyphens, at least one letter, no dot.
pub fn is_service_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 63
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && host.bytes().any(|b| b.is_ascii_alphabetic())
        && !host.starts_with('-')
        && !host.ends_with('-')
}

/// Validates a JWKS URL, the one rule for every caller (docs/platform.md):
/// https always; plain http only outside production, and only for a loopback
/// host or a single-label service host (`http://kong:8000` under
/// `supabase start`). Never credentials in the URL.
pub fn check_jwks_url(url: &str, app_env: AppEnv) -> Result<(), String> {
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
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if app_env.is_production() => {
            Err("JWKS URL must be https in production".into())
        }
        "http" if is_loopback_host(host) || is_service_host(&host.to_ascii_lowercase()) => Ok(()),
        "http" => Err(
            "JWKS URL must be https (plain http only for loopback or a single-label service host such as kong)"
                .into(),
        ),
        _ => Err("JWKS URL must be https".into()),
    }
}

fn named_keys(
    env: &SortedMap<String, String>,
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
    /// Reads the identity configuration. Only an invalid `APP_ENV` is an
    /// error; a broken key configuration is recorded (`user_keys_error`,
    /// `api_keys_error`) so that only the routes that need those keys fail.
    /// Reasons name the variable, never its value.
    pub fn from_env(env: &SortedMap<String, String>) -> Result<AuthConfig, Denial> {
        let app_env = AppEnv::from_env(env).map_err(mis)?;
        let mut user_keys_error = None;
        let jwks = if let Some(inline) = nonempty(env, "SUPABASE_JWKS") {
            match KeySet::from_inline_env(inline) {
                Ok(set) => JwksSource::Inline(set),
                Err(e) => {
                    user_keys_error = Some(format!("SUPABASE_JWKS: {e}"));
                    JwksSource::None
                }
            }
        } else {
            let (name, url) = if let Some(url) = nonempty(env, "SUPABASE_JWKS_URL") {
                ("SUPABASE_JWKS_URL", Some(url.to_owned()))
            } else if let Some(base) = nonempty(env, "SUPABASE_URL") {
                let url = format!(
                    "{}/auth/v1/.well-known/jwks.json",
                    base.trim_end_matches('/')
                );
                ("SUPABASE_URL", Some(url))
            } else {
                ("", None)
            };
            match url.map(|u| check_jwks_url(&u, app_env).map(|()| u)) {
                None => JwksSource::None,
                Some(Ok(u)) => JwksSource::Url(u),
                Some(Err(e)) => {
                    user_keys_error = Some(format!("{name}: {e}"));
                    JwksSource::None
                }
            }
        };
        let secret = nonempty(env, "JWT_SECRET").or_else(|| nonempty(env, "SUPABASE_JWT_SECRET"));
        let hs256 = match secret {
            None => None,
            Some(s) if s.len() < 32 => {
                user_keys_error.get_or_insert_with(|| "JWT_SECRET is shorter than 32 bytes".into());
                None
            }
            Some(s) => KeyMaterial::hs256(s.as_bytes()).map(|material| Key {
                kid: None,
                material,
            }),
        };
        let mut api_keys_error = None;
        let mut keys = |plural: &str, singular: &str, kind: KeyKind| {
            named_keys(env, plural, singular, kind).unwrap_or_else(|d| {
                api_keys_error.get_or_insert(d.reason);
                NamedKeys(Vec::new())
            })
        };
        let publishable = keys(
            "SUPABASE_PUBLISHABLE_KEYS",
            "SUPABASE_PUBLISHABLE_KEY",
            KeyKind::Publishable,
        );
        let secret = keys(
            "SUPABASE_SECRET_KEYS",
            "SUPABASE_SECRET_KEY",
            KeyKind::Secret,
        );
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
            user_keys_error,
            publishable,
            secret,
            api_keys_error,
            admin_emails,
        })
    }

    /// Whether any key could verify a user token now or after a fetch.
    pub fn has_user_keys(&self) -> bool {
        self.user_keys_error.is_none()
            && (self.hs256.is_some()
                || match &self.jwks {
                    JwksSource::None => false,
                    JwksSource::Inline(set) => !set.keys.is_empty(),
                    JwksSource::Url(_) => true,
                })
    }
}

/// Parses an environment given as a JSON object of strings (what the shim
/// passes); non-string values are refused.
pub fn env_from_json(json: &str) -> Result<SortedMap<String, String>, String> {
    let v = crate::strict_json::parse(json.as_bytes())
        .map_err(|_| "env: not a JSON object".to_string())?;
    let obj = v.as_object().ok_or("env: not a JSON object")?;
    let mut out = SortedMap::new();
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
