//! CSRF: HMAC-signed expiring tokens and Origin / Sec-Fetch-Site checks.
//!
//! Applies to routes whose callers authenticate with cookies or forms. A
//! request that carries `Authorization: Bearer …` (and is therefore not sent
//! automatically by a browser) is exempt, as are the safe methods `GET`,
//! `HEAD` and `OPTIONS`.
//!
//! # Token
//!
//! `v1.<exp>.<mac>` where `exp` is the expiry in Unix seconds and `mac` is
//! base64url (no padding) of HMAC-SHA256(`CSRF_SECRET`,
//! `"edgeguard-csrf-v1" 0x00 subject 0x00 exp`). The token is bound to the
//! subject (a session id or the user id): it verifies for no other subject.
//! The MAC is compared in constant time. `CSRF_SECRET` must be at least 32
//! bytes, else `MISCONFIGURED`.
//!
//! # Origin checks (before the token)
//!
//! - `Sec-Fetch-Site: same-origin` or `none` passes; `same-site` or
//!   `cross-site` passes only when `Origin` is trusted (the CORS allow-list
//!   plus the section's `trusted_origins`).
//! - An `Origin` header, when present, must be trusted or equal the
//!   function's own origin (`self_origin`); `Origin: null` always fails.
//!
//! Policy section `csrf` (function level, a route's entry overrides it field by field):
//! `{"required": true, "ttl_s": 7200, "trusted_origins": ["https://app.example.com"]}`.
//! `required` (default false) turns the check on; `CSRF_SECRET` must then be
//! set. A secret shorter than 32 bytes is refused whether or not any route uses it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::cors::{CorsConfig, Origin};
use crate::json_read::read_struct;
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// The shortest accepted `CSRF_SECRET`, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// The default token lifetime in seconds.
pub const DEFAULT_TTL_S: u64 = 7200;
/// The longest configurable token lifetime in seconds.
pub const MAX_TTL_S: u64 = 7 * 86_400;
/// The longest subject a token may be bound to.
pub const MAX_SUBJECT_LEN: usize = 256;

/// The cookie that carries an anonymous caller's CSRF subject (double submit).
pub const CSRF_COOKIE: &str = "__Host-edgeguard-csrf";

/// The CSRF subject in a `Cookie` header: the first non-empty value of
/// [`CSRF_COOKIE`], if any.
pub fn cookie_subject(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').find_map(|part| {
        let (name, value) = part.split_once('=')?;
        (name.trim() == CSRF_COOKIE)
            .then(|| value.trim())
            .filter(|v| !v.is_empty())
    })
}

/// Whether an `Authorization` header carries a Bearer credential (such
/// requests are not cookie-authenticated, so CSRF does not apply).
pub fn is_bearer(authorization: &str) -> bool {
    let bytes = authorization.as_bytes();
    bytes.len() > 7 && bytes[..6].eq_ignore_ascii_case(b"bearer") && bytes[6].is_ascii_whitespace()
}

const DOMAIN: &[u8] = b"edgeguard-csrf-v1";

#[derive(Debug, Default)]
struct CsrfSection {
    required: bool,
    ttl_s: Option<u64>,
    trusted_origins: Vec<String>,
}

read_struct!(CsrfSection { required: or_default, ttl_s: opt, trusted_origins: or_default });

/// A validated CSRF configuration: the secret, lifetime and trusted origins.
#[derive(Clone)]
pub struct CsrfConfig {
    required: bool,
    secret: Option<Vec<u8>>,
    ttl_s: u64,
    trusted: Vec<Origin>,
}

impl core::fmt::Debug for CsrfConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CsrfConfig")
            .field("secret", &"<redacted>")
            .field("ttl_s", &self.ttl_s)
            .finish()
    }
}

/// What a state-changing request shows for the CSRF check.
#[derive(Clone, Copy, Debug, Default)]
pub struct CsrfRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The `Origin` header, if any.
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header, if any.
    pub sec_fetch_site: Option<&'a str>,
    /// The CSRF token (e.g. from `x-csrf-token` or a form field), if any.
    pub token: Option<&'a str>,
    /// The subject the token must be bound to (session id or user id), if known.
    pub subject: Option<&'a str>,
    /// Whether the request carries `Authorization: Bearer …` (exempt).
    pub has_bearer: bool,
    /// The function's own origin, e.g. `https://xyz.supabase.co`, if known.
    pub self_origin: Option<&'a str>,
}

fn misconfigured(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

fn failed(reason: &str) -> Denial {
    Denial::new(ErrorCode::CsrfFailed, reason)
}

type HmacSha256 = Hmac<Sha256>;

impl CsrfConfig {
    /// Builds the configuration from `CSRF_SECRET` and the policy `csrf` section.
    pub fn from_env(
        env: &SortedMap<String, String>,
        section: Option<&Value>,
    ) -> Result<Self, Denial> {
        let section: CsrfSection = crate::policy::section(section, "csrf section")?;
        let secret = env
            .get("CSRF_SECRET")
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec());
        match &secret {
            Some(s) if s.len() < MIN_SECRET_LEN => {
                return Err(misconfigured("CSRF_SECRET is shorter than 32 bytes"));
            }
            None if section.required => {
                return Err(misconfigured(
                    "CSRF_SECRET is missing but the policy requires CSRF tokens",
                ));
            }
            _ => {}
        }
        let ttl_s = section.ttl_s.unwrap_or(DEFAULT_TTL_S);
        if ttl_s == 0 || ttl_s > MAX_TTL_S {
            return Err(misconfigured("csrf.ttl_s must be 1..=604800"));
        }
        let mut trusted = Vec::new();
        for o in &section.trusted_origins {
            trusted.push(Origin::parse(o).ok_or_else(|| {
                misconfigured(format!("csrf.trusted_origins: invalid origin {o:?}"))
            })?);
        }
        Ok(CsrfConfig {
            required: section.required,
            secret,
            ttl_s,
            trusted,
        })
    }

    /// Whether this route requires the CSRF check (`required` in the section).
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The token lifetime in seconds.
    pub fn ttl_s(&self) -> u64 {
        self.ttl_s
    }

    fn mac(&self, subject: &str, exp: u64) -> Result<HmacSha256, Denial> {
        let secret = self
            .secret
            .as_deref()
            .ok_or_else(|| misconfigured("CSRF_SECRET is missing"))?;
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .map_err(|_| misconfigured("CSRF_SECRET unusable"))?;
        mac.update(DOMAIN);
        mac.update(&[0]);
        mac.update(subject.as_bytes());
        mac.update(&[0]);
        mac.update(exp.to_string().as_bytes());
        Ok(mac)
    }

    /// Issues a token for `subject` valid until `now_s + ttl_s`.
    pub fn issue(&self, subject: &str, now_s: u64) -> Result<String, Denial> {
        if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN {
            return Err(Denial::new(
                ErrorCode::Internal,
                "CSRF subject must be 1..=256 bytes",
            ));
        }
        let exp = now_s.saturating_add(self.ttl_s);
        let tag = self.mac(subject, exp)?.finalize().into_bytes();
        Ok(format!("v1.{exp}.{}", URL_SAFE_NO_PAD.encode(tag)))
    }

    /// Verifies a token for `subject` at `now_s`.
    pub fn verify_token(&self, token: &str, subject: &str, now_s: u64) -> Result<(), Denial> {
        if token.len() > 128 {
            return Err(failed("malformed token"));
        }
        let mut parts = token.split('.');
        let (Some("v1"), Some(exp), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(failed("malformed token"));
        };
        if exp.is_empty()
            || exp.len() > 20
            || !exp.bytes().all(|b| b.is_ascii_digit())
            || exp.starts_with('0')
        {
            return Err(failed("malformed token"));
        }
        let exp_n: u64 = exp.parse().map_err(|_| failed("malformed token"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| failed("malformed token"))?;
        if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN {
            return Err(failed("no session to bind the token to"));
        }
        self.mac(subject, exp_n)?
            .verify_slice(&tag)
            .map_err(|_| failed("token signature mismatch"))?;
        if exp_n <= now_s {
            return Err(failed("token expired"));
        }
        Ok(())
    }

    fn trusted_origin(
        &self,
        o: &Origin,
        cors: Option<&CorsConfig>,
        self_origin: Option<&str>,
    ) -> bool {
        self.trusted.contains(o)
            || self_origin.and_then(Origin::parse).as_ref() == Some(o)
            || cors.is_some_and(|c| c.allowed_origin(&o.serialize()).is_some())
    }

    /// The full check for one request: exemptions, Origin / Sec-Fetch-Site, then the token.
    ///
    /// A route whose section does not set `required` passes without checks.
    pub fn check(
        &self,
        req: &CsrfRequest<'_>,
        cors: Option<&CorsConfig>,
        now_s: u64,
    ) -> Result<(), Denial> {
        if !self.required {
            return Ok(());
        }
        if matches!(
            req.method.to_ascii_uppercase().as_str(),
            "GET" | "HEAD" | "OPTIONS"
        ) {
            return Ok(());
        }
        if req.has_bearer {
            return Ok(());
        }
        let origin = match req.origin.map(str::trim) {
            None | Some("") => None,
            Some(o) => {
                let parsed = Origin::parse(o).ok_or_else(|| failed("origin not trusted"))?;
                if !self.trusted_origin(&parsed, cors, req.self_origin) {
                    return Err(failed("origin not trusted"));
                }
                Some(parsed)
            }
        };
        match req
            .sec_fetch_site
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("same-origin") | Some("none") => {}
            Some("same-site") | Some("cross-site") => {
                if origin.is_none() {
                    return Err(failed("cross-site request without a trusted origin"));
                }
            }
            Some(_) => return Err(failed("invalid Sec-Fetch-Site")),
        }
        let token = req
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| failed("missing token"))?;
        self.verify_token(token, req.subject.unwrap_or(""), now_s)
    }
}

#[cfg(test)]
mod header_tests {
    use super::*;

    #[test]
    fn cookie_subject_takes_the_first_non_empty_csrf_cookie() {
        assert_eq!(
            cookie_subject("a=1; __Host-edgeguard-csrf=abc; b=2"),
            Some("abc")
        );
        assert_eq!(
            cookie_subject("__Host-edgeguard-csrf=x;__Host-edgeguard-csrf=y"),
            Some("x")
        );
        assert_eq!(cookie_subject("__Host-edgeguard-csrf=; other=1"), None);
        assert_eq!(cookie_subject("edgeguard-csrf=abc"), None);
        assert_eq!(cookie_subject(""), None);
        assert_eq!(cookie_subject(";;=;"), None);
    }

    #[test]
    fn bearer_is_the_scheme_then_whitespace_then_a_credential() {
        assert!(is_bearer("Bearer abc"));
        assert!(is_bearer("bearer\tabc"));
        assert!(!is_bearer("Bearer "));
        assert!(!is_bearer("Bearerabc"));
        assert!(!is_bearer("Basic abc"));
        assert!(!is_bearer(""));
        assert!(!is_bearer("Béarer x"));
    }
}
