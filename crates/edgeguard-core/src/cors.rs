//! CORS: the origin allow-list, preflight answers and response headers.
//!
//! # Configuration
//!
//! From the environment (docs/environment.md):
//! - `CORS_ORIGINS`: comma-separated entries, each one of
//!   - an exact origin `scheme://host[:port]` (`http` or `https`, no path,
//!     query, fragment or userinfo; the host is lower-cased; the default port
//!     of the scheme may be written or left out);
//!   - a subdomain pattern `scheme://*.base.domain[:port]`: `*` stands for
//!     **exactly one** DNS label (`https://*.example.com` matches
//!     `https://app.example.com` but neither `https://example.com` nor
//!     `https://a.b.example.com`); scheme and port must match exactly; the base
//!     must have at least two labels (`*.com` is refused). IP-address hosts
//!     never match a pattern;
//!   - `*`: any origin. Refused when `APP_ENV=production` and always refused
//!     together with credentials. Answered with `Access-Control-Allow-Origin: *`.
//!
//!   Unset or empty means no cross-origin caller is allowed. The origin `null`
//!   is never allowed and cannot be configured.
//! - `CORS_ALLOW_CREDENTIALS`: `true`/`false`/`1`/`0` (default false).
//! - `CORS_MAX_AGE`: seconds a preflight may be cached, 0..=86400 (default 600).
//!
//! Anything malformed is a `MISCONFIGURED` error: the function never silently
//! runs with a wider allow-list than written.
//!
//! The policy section `cors` may narrow what allowed origins may do:
//! `{"methods": ["GET","POST"], "headers": ["authorization","content-type"], "expose": ["x-request-id"]}`.

use serde_json::Value;

use crate::headers::is_valid_name;
use crate::json_read::read_struct;
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// Methods allowed cross-origin when the policy does not say.
pub const DEFAULT_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/// Request headers allowed cross-origin when the policy does not say.
pub const DEFAULT_HEADERS: [&str; 7] = [
    "authorization",
    "apikey",
    "content-type",
    "x-client-info",
    "x-api-key",
    "x-request-id",
    "x-csrf-token",
];
/// Response headers exposed to allowed origins when the policy does not say.
pub const DEFAULT_EXPOSE: [&str; 4] = [
    "x-request-id",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
];
/// The default `Access-Control-Max-Age`.
pub const DEFAULT_MAX_AGE: u32 = 600;
/// The largest accepted `CORS_MAX_AGE`.
pub const MAX_MAX_AGE: u32 = 86_400;

/// A strictly parsed, normalised web origin (`http`/`https` only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: &'static str,
    host: String,
    port: u16,
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

fn valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

fn is_ipv4(host: &str) -> bool {
    host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Splits `scheme://rest` into a known scheme and the authority, refusing paths etc.
fn split_scheme(s: &str) -> Option<(&'static str, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme = match scheme {
        "https" => "https",
        "http" => "http",
        _ => return None,
    };
    if rest.is_empty()
        || rest
            .bytes()
            .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\') || !b.is_ascii_graphic())
    {
        return None;
    }
    Some((scheme, rest))
}

/// Splits `host[:port]` (with `[v6]` support) and parses the port.
fn split_port<'a>(authority: &'a str, scheme: &str) -> Option<(&'a str, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (authority.get(..inside.len() + 2)?, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => default_port(scheme),
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u32 = p.parse().ok()?;
            if n == 0 || n > 65535 {
                return None;
            }
            n as u16
        }
    };
    Some((host, port))
}

fn normalise_host(host: &str) -> Option<String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: std::net::Ipv6Addr = inner.parse().ok()?;
        return Some(format!("[{ip}]"));
    }
    let lower = host.to_ascii_lowercase();
    if lower.len() > 253 {
        return None;
    }
    if is_ipv4(&lower) {
        return Some(lower);
    }
    if !lower.split('.').all(valid_label) {
        return None;
    }
    // A host whose last label is numeric but that is not a valid IPv4 is refused.
    if lower
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(lower)
}

impl Origin {
    /// Parses an origin strictly. `None` for anything that is not
    /// `http(s)://host[:port]`, including `null`.
    pub fn parse(s: &str) -> Option<Origin> {
        let (scheme, authority) = split_scheme(s)?;
        let (host, port) = split_port(authority, scheme)?;
        let host = normalise_host(host)?;
        Some(Origin { scheme, host, port })
    }

    /// The canonical serialisation (lower-case host, default port omitted), as browsers send it.
    pub fn serialize(&self) -> String {
        if self.port == default_port(self.scheme) {
            format!("{}://{}", self.scheme, self.host)
        } else {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// One entry of the allow-list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Exact(Origin),
    /// `scheme://*.base:port`: exactly one label in front of `base`.
    Subdomain {
        scheme: &'static str,
        base: String,
        port: u16,
    },
}

impl Entry {
    fn parse(s: &str) -> Option<Entry> {
        let (scheme, authority) = split_scheme(s)?;
        if let Some(rest) = authority.strip_prefix("*.") {
            let (host, port) = split_port(rest, scheme)?;
            let base = normalise_host(host)?;
            if base.starts_with('[') || is_ipv4(&base) || base.split('.').count() < 2 {
                return None;
            }
            return Some(Entry::Subdomain { scheme, base, port });
        }
        if authority.contains('*') {
            return None;
        }
        Origin::parse(s).map(Entry::Exact)
    }

    fn matches(&self, o: &Origin) -> bool {
        match self {
            Entry::Exact(e) => e == o,
            Entry::Subdomain { scheme, base, port } => {
                *scheme == o.scheme
                    && *port == o.port
                    && !o.host.starts_with('[')
                    && !is_ipv4(&o.host)
                    && o.host
                        .strip_suffix(base.as_str())
                        .and_then(|p| p.strip_suffix('.'))
                        .is_some_and(|label| valid_label(label) && !label.contains('.'))
            }
        }
    }
}

/// The `cors` section of a policy as written.
#[derive(Debug, Default)]
struct CorsSection {
    methods: Option<Vec<String>>,
    headers: Option<Vec<String>>,
    expose: Option<Vec<String>>,
}

read_struct!(CorsSection { methods: opt, headers: opt, expose: opt });

/// A validated CORS configuration.
#[derive(Clone, Debug)]
pub struct CorsConfig {
    any: bool,
    entries: Vec<Entry>,
    credentials: bool,
    max_age: u32,
    methods: Vec<String>,
    headers: Vec<String>,
    expose: Vec<String>,
}

fn misconfigured(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

/// Reads a boolean environment value (`true`/`false`/`1`/`0`, case-insensitive).
pub(crate) fn parse_bool(name: &str, v: Option<&String>) -> Result<bool, Denial> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(misconfigured(format!("{name} must be true or false"))),
    }
}

/// Whether the environment is production (the one rule in
/// [`crate::app_env`]; an invalid `APP_ENV` counts as production here).
pub(crate) fn is_production(env: &SortedMap<String, String>) -> bool {
    crate::app_env::AppEnv::from_env_strict_default(env).is_production()
}

fn token_list(what: &str, list: Vec<String>, upper: bool) -> Result<Vec<String>, Denial> {
    let mut out: Vec<String> = Vec::new();
    for item in list {
        if !is_valid_name(&item) || item == "*" {
            return Err(misconfigured(format!(
                "cors.{what}: invalid entry {item:?}"
            )));
        }
        let item = if upper {
            item.to_ascii_uppercase()
        } else {
            item.to_ascii_lowercase()
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

/// A preflight answer: status 204 and headers, or a denial (403) with the headers still to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preflight {
    /// `None` when allowed (answer 204), else the `ORIGIN_NOT_ALLOWED` denial (403).
    pub denial: Option<Denial>,
    /// Headers to send either way (at least `Vary`).
    pub headers: Vec<(String, String)>,
}

impl CorsConfig {
    /// Builds the configuration from the environment and the policy `cors` section.
    pub fn from_env(
        env: &SortedMap<String, String>,
        section: Option<&Value>,
    ) -> Result<Self, Denial> {
        let section: CorsSection = crate::policy::section(section, "cors section")?;
        let credentials = parse_bool("CORS_ALLOW_CREDENTIALS", env.get("CORS_ALLOW_CREDENTIALS"))?;
        let max_age = match env.get("CORS_MAX_AGE").map(|s| s.trim()) {
            None | Some("") => DEFAULT_MAX_AGE,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if n <= MAX_MAX_AGE && s.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(misconfigured("CORS_MAX_AGE must be an integer 0..=86400")),
            },
        };
        let mut any = false;
        let mut entries = Vec::new();
        for raw in env
            .get("CORS_ORIGINS")
            .map(String::as_str)
            .unwrap_or("")
            .split(',')
        {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            if raw == "*" {
                any = true;
                continue;
            }
            match Entry::parse(raw) {
                Some(e) => entries.push(e),
                None => {
                    return Err(misconfigured(format!(
                        "CORS_ORIGINS: invalid origin {raw:?}"
                    )))
                }
            }
        }
        if any && is_production(env) {
            return Err(misconfigured(
                "CORS_ORIGINS=* is refused with APP_ENV=production",
            ));
        }
        if any && credentials {
            return Err(misconfigured(
                "CORS_ORIGINS=* cannot be combined with CORS_ALLOW_CREDENTIALS",
            ));
        }
        let methods = token_list(
            "methods",
            section
                .methods
                .unwrap_or_else(|| DEFAULT_METHODS.iter().map(|s| s.to_string()).collect()),
            true,
        )?;
        let headers = token_list(
            "headers",
            section
                .headers
                .unwrap_or_else(|| DEFAULT_HEADERS.iter().map(|s| s.to_string()).collect()),
            false,
        )?;
        let expose = token_list(
            "expose",
            section
                .expose
                .unwrap_or_else(|| DEFAULT_EXPOSE.iter().map(|s| s.to_string()).collect()),
            false,
        )?;
        Ok(CorsConfig {
            any,
            entries,
            credentials,
            max_age,
            methods,
            headers,
            expose,
        })
    }

    /// Whether credentials (cookies) may be sent cross-origin.
    pub fn allows_credentials(&self) -> bool {
        self.credentials
    }

    /// The canonical origin if `origin` is on the allow-list, else `None`.
    pub fn allowed_origin(&self, origin: &str) -> Option<Origin> {
        let o = Origin::parse(origin)?;
        if self.any || self.entries.iter().any(|e| e.matches(&o)) {
            Some(o)
        } else {
            None
        }
    }

    fn allow_headers(&self, origin: &Origin, out: &mut Vec<(String, String)>) {
        let value = if self.any {
            "*".to_string()
        } else {
            origin.serialize()
        };
        out.push(("Access-Control-Allow-Origin".into(), value));
        if self.credentials {
            out.push(("Access-Control-Allow-Credentials".into(), "true".into()));
        }
    }

    /// Headers for an actual (non-preflight) response. A missing or disallowed
    /// origin gets no allow header, but `Vary: Origin` is always sent.
    pub fn response_headers(&self, origin: Option<&str>) -> Vec<(String, String)> {
        let mut out = vec![("Vary".to_string(), "Origin".to_string())];
        if let Some(o) = origin.and_then(|o| self.allowed_origin(o)) {
            self.allow_headers(&o, &mut out);
            if !self.expose.is_empty() {
                out.push((
                    "Access-Control-Expose-Headers".into(),
                    self.expose.join(", "),
                ));
            }
        }
        out
    }

    /// Answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`).
    ///
    /// Allowed → no denial and the allow headers (answer 204). A missing or
    /// disallowed origin, or a method or header outside the policy →
    /// `ORIGIN_NOT_ALLOWED` (403) without allow headers.
    pub fn preflight(
        &self,
        origin: Option<&str>,
        method: Option<&str>,
        request_headers: Option<&str>,
    ) -> Preflight {
        let vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
        let mut headers = vec![("Vary".to_string(), vary.to_string())];
        let deny = |reason: &str, headers: Vec<(String, String)>| Preflight {
            denial: Some(Denial::new(ErrorCode::OriginNotAllowed, reason)),
            headers,
        };
        let Some(origin) = origin.and_then(|o| self.allowed_origin(o)) else {
            return deny("origin not allowed", headers);
        };
        let method = method.map(str::trim).unwrap_or("");
        if !self.methods.iter().any(|m| m == method) {
            return deny("method not allowed for cross-origin requests", headers);
        }
        for h in request_headers
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            let h = h.to_ascii_lowercase();
            if !self.headers.contains(&h) {
                return deny(
                    "request header not allowed for cross-origin requests",
                    headers,
                );
            }
        }
        self.allow_headers(&origin, &mut headers);
        headers.push((
            "Access-Control-Allow-Methods".into(),
            self.methods.join(", "),
        ));
        if !self.headers.is_empty() {
            headers.push((
                "Access-Control-Allow-Headers".into(),
                self.headers.join(", "),
            ));
        }
        headers.push(("Access-Control-Max-Age".into(), self.max_age.to_string()));
        Preflight {
            denial: None,
            headers,
        }
    }
}
