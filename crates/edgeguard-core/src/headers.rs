//! Security headers sent on every response.
//!
//! The defaults follow the OWASP Secure Headers Project's current advice for
//! an API that only returns JSON:
//!
//! | header | value | why |
//! | --- | --- | --- |
//! | `Strict-Transport-Security` | `max-age=31536000; includeSubDomains` | HTTPS only for a year |
//! | `X-Content-Type-Options` | `nosniff` | no MIME sniffing |
//! | `X-Frame-Options` | `DENY` | never framed (legacy browsers; CSP `frame-ancestors` for the rest) |
//! | `Content-Security-Policy` | `default-src 'none'; frame-ancestors 'none'` | a JSON response loads nothing |
//! | `Referrer-Policy` | `no-referrer` | |
//! | `Permissions-Policy` | every powerful feature disabled | |
//! | `Cross-Origin-Opener-Policy` | `same-origin` | |
//! | `Cross-Origin-Resource-Policy` | `same-origin` | no-cors embedding refused; CORS reads are governed by CORS |
//! | `Cross-Origin-Embedder-Policy` | `require-corp` | |
//! | `X-Permitted-Cross-Domain-Policies` | `none` | |
//! | `X-XSS-Protection` | `0` | the legacy XSS auditor is disabled: OWASP advises `0` because the auditor itself enabled cross-site leaks; `1; mode=block` is **not** sent |
//! | `Cache-Control` | `no-store` | responses may hold personal data |
//!
//! The shim also drops `Server` and `X-Powered-By` ([`REMOVE_ALWAYS`]).
//!
//! A function's policy may override them in its `headers` section:
//! `{"set": {"Cache-Control": "public, max-age=60"}, "remove": ["Cross-Origin-Embedder-Policy"]}`.
//! Names must be RFC 9110 tokens and values visible ASCII (no CR, LF or NUL);
//! headers owned by other parts (`Set-Cookie`, CORS, `RateLimit*`,
//! `X-Request-Id`, framing) cannot be set here.

use serde_json::Value;

use crate::json_read::read_struct;
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// The default security headers, in the order they are sent.
pub const DEFAULTS: [(&str, &str); 12] = [
    (
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("Referrer-Policy", "no-referrer"),
    (
        "Permissions-Policy",
        "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), \
fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), \
picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(), usb=(), \
xr-spatial-tracking=()",
    ),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
    ("X-Permitted-Cross-Domain-Policies", "none"),
    ("X-XSS-Protection", "0"),
    ("Cache-Control", "no-store"),
];

/// Response headers the shim removes from every response (they reveal the stack).
pub const REMOVE_ALWAYS: [&str; 2] = ["Server", "X-Powered-By"];

/// Headers a policy may not set or remove: other parts of edgeguard own them.
const RESERVED: [&str; 10] = [
    "set-cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
    "x-request-id",
    "retry-after",
    "vary",
    "ratelimit",
    "ratelimit-policy",
];

/// Whether `name` is a valid header field name (an RFC 9110 token).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` is a safe header field value: visible ASCII, space and tab,
/// no leading or trailing whitespace, at most 4096 bytes. CR, LF and NUL are refused.
pub fn is_valid_value(value: &str) -> bool {
    value.len() <= 4096
        && value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        && value.trim() == value
}

/// The `headers` section of a policy as written.
#[derive(Debug, Default)]
struct HeadersSection {
    set: SortedMap<String, String>,
    remove: Vec<String>,
}

read_struct!(HeadersSection { set: or_default, remove: or_default });

/// The security headers of one function (defaults plus its overrides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityHeaders {
    headers: Vec<(String, String)>,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        SecurityHeaders {
            headers: DEFAULTS
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }
}

fn misconfigured(reason: String) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

fn is_reserved(lower: &str) -> bool {
    RESERVED.contains(&lower) || lower.starts_with("access-control-")
}

impl SecurityHeaders {
    /// Builds the headers from a policy `headers` section (`None` or `null` = defaults).
    pub fn from_value(section: Option<&Value>) -> Result<Self, Denial> {
        let mut out = SecurityHeaders::default();
        let section: HeadersSection = match section {
            None | Some(Value::Null) => return Ok(out),
            Some(v) => crate::policy::section(Some(v), "headers section")?,
        };
        out.apply(&section.set, &section.remove)?;
        Ok(out)
    }

    /// Returns a copy with a route-level section applied on top of this one.
    pub fn with_overrides(&self, section: Option<&Value>) -> Result<Self, Denial> {
        let mut out = self.clone();
        if let Some(v) = section.filter(|v| !v.is_null()) {
            let s: HeadersSection = crate::policy::section(Some(v), "headers section")?;
            out.apply(&s.set, &s.remove)?;
        }
        Ok(out)
    }

    fn apply(&mut self, set: &SortedMap<String, String>, remove: &[String]) -> Result<(), Denial> {
        for name in remove {
            let lower = name.to_ascii_lowercase();
            if !is_valid_name(name) || is_reserved(&lower) {
                return Err(misconfigured(format!(
                    "headers.remove: invalid header name {name:?}"
                )));
            }
            if set.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                return Err(misconfigured(format!(
                    "headers: {name:?} is both set and removed"
                )));
            }
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        for (name, value) in set {
            let lower = name.to_ascii_lowercase();
            if !is_valid_name(name) || is_reserved(&lower) {
                return Err(misconfigured(format!(
                    "headers.set: invalid header name {name:?}"
                )));
            }
            if !is_valid_value(value) || value.is_empty() {
                return Err(misconfigured(format!(
                    "headers.set: invalid value for {name:?}"
                )));
            }
            match self
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some(slot) => slot.1 = value.clone(),
                None => self.headers.push((name.clone(), value.clone())),
            }
        }
        Ok(())
    }

    /// The headers to send, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The value of one header (case-insensitive name), if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
