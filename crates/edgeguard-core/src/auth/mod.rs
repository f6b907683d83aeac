//! Credentials: Supabase access tokens (JWKS and legacy HS256) and Supabase
//! API keys, decided by [`Gate`] against a function's [`Policy`].

pub mod p256_table;

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_simple::prelude::*;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::authz;
use crate::policy::Policy;
use crate::{Denial, ErrorCode};

/// Largest accepted token, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The environment a [`Gate`] reads, as name → value.
pub type Env = BTreeMap<String, String>;

enum VerifyKey {
    Es256(ES256PublicKey),
    Rs256(RS256PublicKey),
    EdDsa(Ed25519PublicKey),
    Hs256(HS256Key),
}

struct Key {
    kid: Option<String>,
    alg: &'static str,
    key: VerifyKey,
}

/// The facts about a request that authentication needs.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct RequestFacts {
    /// HTTP method.
    pub method: String,
    /// Path as the function sees it, e.g. `/me`.
    pub path: String,
    /// Lower-case header names to values (`authorization`, `apikey`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// Who is calling, as verified.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Identity {
    /// `user`, `publishable`, `secret` or `none`.
    pub kind: &'static str,
    /// The API key's name, for key credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// `sub` claim.
    pub sub: Option<String>,
    /// Postgres role claim (`authenticated`, `anon`, `service_role`).
    pub role: Option<String>,
    /// `email` claim.
    pub email: Option<String>,
    /// Application role on the ladder.
    pub user_role: Option<String>,
    /// The caller's tenant.
    pub tenant_id: Option<String>,
    /// Effective permissions.
    pub permissions: Vec<String>,
    /// Authenticator assurance level.
    pub aal: Option<String>,
    /// Anonymous sign-in.
    pub is_anonymous: bool,
    /// Expiry (seconds since epoch).
    pub exp: Option<u64>,
    /// All verified claims.
    pub claims: Value,
}

/// An allowed request.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Decision {
    /// The matched route key, e.g. `GET /me`.
    pub route: String,
    /// Path parameters captured by the route.
    pub params: BTreeMap<String, String>,
    /// The verified caller.
    pub identity: Identity,
}

/// Decides credentials and roles for one function.
pub struct Gate {
    policy: Policy,
    keys: Vec<Key>,
    publishable: BTreeMap<String, String>,
    secret: BTreeMap<String, String>,
    admin_emails: Vec<String>,
    jwks_url: Option<String>,
}

fn misconfigured(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

fn b64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

fn named_keys(env: &Env, plural: &str, singular: &str) -> Result<BTreeMap<String, String>, Denial> {
    if let Some(v) = env.get(plural).filter(|v| !v.trim().is_empty()) {
        return serde_json::from_str::<BTreeMap<String, String>>(v)
            .map_err(|_| misconfigured(format!("{plural} is not a JSON object of strings")));
    }
    let mut out = BTreeMap::new();
    if let Some(v) = env.get(singular).filter(|v| !v.trim().is_empty()) {
        out.insert("default".to_string(), v.clone());
    }
    Ok(out)
}

fn parse_jwks(text: &str) -> Result<Vec<Key>, Denial> {
    let v: Value = serde_json::from_str(text).map_err(|_| misconfigured("JWKS is not JSON"))?;
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.get("keys").and_then(Value::as_array).cloned().unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut keys = Vec::new();
    for jwk in list {
        let s = |n: &str| jwk.get(n).and_then(Value::as_str);
        if s("use") == Some("enc") {
            continue;
        }
        let kid = s("kid").map(str::to_string);
        let key = match (s("kty"), s("crv")) {
            (Some("EC"), Some("P-256")) => {
                let (Some(x), Some(y)) = (s("x").and_then(b64), s("y").and_then(b64)) else { continue };
                if x.len() != 32 || y.len() != 32 {
                    continue;
                }
                let mut sec1 = vec![4u8];
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                match ES256PublicKey::from_bytes(&sec1) {
                    Ok(k) => Key { kid, alg: "ES256", key: VerifyKey::Es256(k) },
                    Err(_) => continue,
                }
            }
            (Some("OKP"), Some("Ed25519")) => {
                let Some(x) = s("x").and_then(b64) else { continue };
                match Ed25519PublicKey::from_bytes(&x) {
                    Ok(k) => Key { kid, alg: "EdDSA", key: VerifyKey::EdDsa(k) },
                    Err(_) => continue,
                }
            }
            (Some("RSA"), _) => {
                let (Some(n), Some(e)) = (s("n").and_then(b64), s("e").and_then(b64)) else { continue };
                if n.len() < 256 {
                    continue;
                }
                match RS256PublicKey::from_components(&n, &e) {
                    Ok(k) => Key { kid, alg: "RS256", key: VerifyKey::Rs256(k) },
                    Err(_) => continue,
                }
            }
            _ => continue,
        };
        keys.push(key);
    }
    Ok(keys)
}

impl Gate {
    /// Builds a gate from a policy document and the environment.
    pub fn new(policy_json: &str, env: &Env) -> Result<Gate, Denial> {
        let policy = Policy::from_json(policy_json).map_err(|e| misconfigured(e.to_string()))?;
        let mut keys = Vec::new();
        if let Some(jwks) = env.get("SUPABASE_JWKS").filter(|v| !v.trim().is_empty()) {
            keys = parse_jwks(jwks)?;
        }
        let secret = env
            .get("JWT_SECRET")
            .or_else(|| env.get("SUPABASE_JWT_SECRET"))
            .filter(|v| !v.is_empty());
        if let Some(secret) = secret {
            if secret.len() < 32 {
                return Err(misconfigured("JWT_SECRET must be at least 32 bytes"));
            }
            keys.push(Key { kid: None, alg: "HS256", key: VerifyKey::Hs256(HS256Key::from_bytes(secret.as_bytes())) });
        }
        let jwks_url = env
            .get("SUPABASE_JWKS_URL")
            .cloned()
            .or_else(|| env.get("SUPABASE_URL").map(|u| format!("{}/auth/v1/.well-known/jwks.json", u.trim_end_matches('/'))));
        Ok(Gate {
            policy,
            keys,
            publishable: named_keys(env, "SUPABASE_PUBLISHABLE_KEYS", "SUPABASE_PUBLISHABLE_KEY")?,
            secret: named_keys(env, "SUPABASE_SECRET_KEYS", "SUPABASE_SECRET_KEY")?,
            admin_emails: env
                .get("ADMIN_EMAILS")
                .map(|v| v.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).collect())
                .unwrap_or_default(),
            jwks_url,
        })
    }

    /// The JWKS URL the shim should fetch when no inline keys are configured.
    pub fn jwks_url(&self) -> Option<&str> {
        if self.keys.iter().any(|k| k.alg != "HS256") {
            None
        } else {
            self.jwks_url.as_deref()
        }
    }

    /// Replaces the asymmetric keys with those of a fetched JWKS.
    pub fn set_jwks(&mut self, jwks_json: &str) -> Result<(), Denial> {
        let fetched = parse_jwks(jwks_json)?;
        self.keys.retain(|k| k.alg == "HS256");
        self.keys.extend(fetched);
        Ok(())
    }

    /// Decides a request at `now` (seconds since the epoch).
    pub fn check(&self, req: &RequestFacts, now: u64) -> Result<Decision, Denial> {
        let (route, params) = self.policy.match_route(&req.method, &req.path)?;
        let modes = &route.auth;
        let bearer = req.headers.get("authorization").map(|h| {
            let h = h.trim();
            h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")).unwrap_or(h).trim().to_string()
        });
        let apikey = req.headers.get("apikey").map(|s| s.trim().to_string());
        let accepts = |kind: &str| modes.iter().any(|m| m == kind || m.starts_with(&format!("{kind}:")));

        let identity = if modes.iter().any(|m| m == "none") {
            none_identity()
        } else if let Some(token) = bearer.as_deref().filter(|t| t.matches('.').count() == 2) {
            if !accepts("user") {
                return Err(Denial::new(ErrorCode::Forbidden, "user tokens are not accepted here"));
            }
            self.verify_user(token, now)?
        } else if let Some(key) = apikey.as_deref().or(bearer.as_deref()).filter(|k| k.starts_with("sb_")) {
            self.check_key(key, modes)?
        } else if bearer.is_some() {
            return Err(Denial::new(ErrorCode::InvalidJwt, "malformed bearer token"));
        } else {
            return Err(Denial::new(ErrorCode::MissingCredentials, "no credentials"));
        };

        if identity.kind == "user" {
            if identity.is_anonymous && !self.policy.allow_anonymous {
                return Err(Denial::new(ErrorCode::Forbidden, "anonymous sign-ins are not allowed"));
            }
            authz::require(&identity, &route.roles, &route.permissions)?;
        }
        Ok(Decision { route: route.key.clone(), params: params.into_iter().collect(), identity })
    }

    fn check_key(&self, key: &str, modes: &[String]) -> Result<Identity, Denial> {
        let (kind, set) = if key.starts_with("sb_publishable_") {
            ("publishable", &self.publishable)
        } else if key.starts_with("sb_secret_") {
            ("secret", &self.secret)
        } else {
            return Err(Denial::new(ErrorCode::InvalidApiKey, "unknown key format"));
        };
        let mut found: Option<&str> = None;
        for (name, value) in set {
            if bool::from(value.as_bytes().ct_eq(key.as_bytes())) {
                found = Some(name);
            }
        }
        let Some(name) = found else {
            return Err(Denial::new(ErrorCode::InvalidApiKey, "unknown API key"));
        };
        let allowed = modes.iter().any(|m| {
            m == kind && name == "default"
                || m == &format!("{kind}:*")
                || m == &format!("{kind}:{name}")
        });
        if !allowed {
            return Err(Denial::new(ErrorCode::InvalidApiKey, format!("{kind} key {name:?} is not accepted here")));
        }
        Ok(Identity { kind, key_name: Some(name.to_string()), ..none_identity() })
    }

    fn verify_user(&self, token: &str, now: u64) -> Result<Identity, Denial> {
        let bad = |r: &str| Denial::new(ErrorCode::InvalidJwt, r.to_string());
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad("token too large"));
        }
        let header_b64 = token.split('.').next().unwrap_or("");
        let header: Map<String, Value> = b64(header_b64)
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or_else(|| bad("malformed header"))?;
        for forbidden in ["jku", "x5u", "jwk", "x5c", "crit"] {
            if header.contains_key(forbidden) {
                return Err(bad(&format!("header field {forbidden} is not accepted")));
            }
        }
        let alg = header.get("alg").and_then(Value::as_str).ok_or_else(|| bad("missing alg"))?;
        let kid = header.get("kid").and_then(Value::as_str);
        let candidates: Vec<&Key> = self
            .keys
            .iter()
            .filter(|k| k.alg == alg && (kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid))
            .collect();
        if self.keys.is_empty() {
            return Err(misconfigured("no verification keys configured"));
        }
        let key = match candidates.as_slice() {
            [one] => *one,
            [] => return Err(bad(if kid.is_some() { "unknown kid" } else { "no key for this algorithm" })),
            _ => return Err(bad("ambiguous key: token has no kid")),
        };
        let options = VerificationOptions {
            artificial_time: Some(UnixTimeStamp::from_secs(now)),
            time_tolerance: Some(Duration::from_secs(self.policy.leeway_seconds)),
            ..Default::default()
        };
        let claims = match &key.key {
            VerifyKey::Es256(k) => k.verify_token::<Map<String, Value>>(token, Some(options)),
            VerifyKey::Rs256(k) => k.verify_token::<Map<String, Value>>(token, Some(options)),
            VerifyKey::EdDsa(k) => k.verify_token::<Map<String, Value>>(token, Some(options)),
            VerifyKey::Hs256(k) => k.verify_token::<Map<String, Value>>(token, Some(options)),
        }
        .map_err(|e| bad(&format!("verification failed: {}", short_reason(&e.to_string()))))?;
        let sub = claims.subject.clone().ok_or_else(|| bad("missing sub"))?;
        let exp = claims.expires_at.map(|t| t.as_secs());
        if exp.is_none() {
            return Err(bad("missing exp"));
        }
        let mut all = claims.custom.clone();
        all.insert("sub".into(), Value::String(sub.clone()));
        if let Some(e) = exp {
            all.insert("exp".into(), Value::from(e));
        }
        let get = |n: &str| {
            all.get(n)
                .or_else(|| all.get("app_metadata").and_then(|m| m.get(n)))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let email = get("email");
        let mut user_role = get("user_role");
        if let Some(e) = &email {
            if self.admin_emails.iter().any(|a| a.eq_ignore_ascii_case(e)) {
                user_role = Some("admin".into());
            }
        }
        let explicit: Vec<String> = all
            .get("permissions")
            .or_else(|| all.get("app_metadata").and_then(|m| m.get("permissions")))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let permissions = authz::effective_permissions(user_role.as_deref(), &explicit);
        Ok(Identity {
            kind: "user",
            key_name: None,
            sub: Some(sub),
            role: get("role"),
            email,
            user_role,
            tenant_id: get("tenant_id"),
            permissions,
            aal: get("aal"),
            is_anonymous: all.get("is_anonymous").and_then(Value::as_bool).unwrap_or(false),
            exp,
            claims: Value::Object(all),
        })
    }
}

fn short_reason(s: &str) -> String {
    s.chars().take(80).collect()
}

fn none_identity() -> Identity {
    Identity {
        kind: "none",
        key_name: None,
        sub: None,
        role: None,
        email: None,
        user_role: None,
        tenant_id: None,
        permissions: Vec::new(),
        aal: None,
        is_anonymous: false,
        exp: None,
        claims: Value::Null,
    }
}
