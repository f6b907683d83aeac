//! What the pipeline hands its host: the request parts it starts from, the
//! steps it answers, and the inputs a step asks for. These are the types of
//! the wasm boundary too (with the `ts` feature their TypeScript declarations
//! are generated from here).

use serde::Serialize;
use serde_json::Value;

use crate::ratelimit::GlobalCheck;
use crate::ErrorCode;
use crate::sorted_map::SortedMap;

#[cfg(feature = "ts")]
use tsify_next::Tsify;

/// A header as `(name, value)`.
pub type HeaderPair = (String, String);

/// The parts of a request the pipeline reads. `headers` holds only the
/// headers [`super::Guard::header_names`] names (lower-case names), as they
/// arrived; nothing else of the request is needed.
#[derive(Clone, Debug, Default)]
pub struct RequestParts {
    /// The HTTP method as received.
    pub method: String,
    /// The absolute URL as the runtime serialised it (`https://host/path?query`).
    pub url: String,
    /// Lower-case header name → value.
    pub headers: SortedMap<String, String>,
    /// The connection's peer address, when the runtime gives one.
    pub remote_addr: Option<String>,
}

impl RequestParts {
    /// A header's value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `(origin, path, query)` of the URL: `https://host:8443`, `/a/b`, `x=1`
    /// (the query without `?`, fragment dropped). The runtime hands an
    /// absolute, serialised URL; anything else reads as path `/`.
    pub fn url_parts(&self) -> (&str, &str, &str) {
        // Byte scans: every request's URL goes through here, and `str`'s
        // pattern searchers cost more than the search itself at this length.
        // Every delimiter is ASCII, so each index is a char boundary.
        let b = self.url.as_bytes();
        let end = b.iter().position(|&c| c == b'#').unwrap_or(b.len());
        let (url, b) = (&self.url[..end], &b[..end]);
        let after_scheme = b.windows(3).position(|w| w == b"://").map_or(0, |i| i + 3);
        let path_at = b[after_scheme..]
            .iter()
            .position(|&c| c == b'/' || c == b'?')
            .map_or(end, |i| after_scheme + i);
        let query_at = b[path_at..].iter().position(|&c| c == b'?').map(|i| path_at + i);
        let origin = &url[..path_at];
        let (path, query) = match query_at {
            Some(q) => (&url[path_at..q], &url[q + 1..]),
            None => (&url[path_at..], ""),
        };
        (origin, if path.is_empty() { "/" } else { path }, query)
    }
}

/// One field error of a 422 (or a parameter error): a JSON pointer and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct FieldDetail {
    /// JSON pointer to the offending value (`/email`, `/params/id`).
    pub path: String,
    /// What is wrong, without the value itself.
    pub message: String,
}

/// A security event the host records (in the background) in `public.security_events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct SecurityEvent {
    /// `rate_limited` or `auth_denied`.
    pub event_type: &'static str,
    /// `warning` (rate limits, authorization) or `notice` (failed credentials).
    pub severity: &'static str,
    /// The verified `sub` of an authorization denial; never an unverified claim.
    pub actor: Option<String>,
    /// The row's `details`.
    pub details: EventDetails,
}

/// The `details` of a [`SecurityEvent`]: no IP, key or token, ever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
#[serde(untagged)]
pub enum EventDetails {
    /// A rate-limit refusal.
    RateLimited {
        /// The route key (`""` for a path no route matches).
        route: String,
        /// The rule that refused.
        rule: Option<String>,
        /// Seconds the caller was asked to wait.
        retry_after_s: u64,
    },
    /// An identity denial.
    AuthDenied {
        /// The SPEC code.
        code: ErrorCode,
        /// The core's secret-free reason.
        reason: String,
        /// The route key.
        route: String,
    },
}

/// A refusal: the SPEC error response to send, and the event to record, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct Refusal {
    /// The SPEC code.
    pub code: ErrorCode,
    /// Its HTTP status.
    pub status: u16,
    /// The precise reason (sent as `hint` outside production).
    pub reason: String,
    /// Headers of this response (rate-limit state, `Retry-After`, preflight `Vary`).
    #[cfg_attr(feature = "ts", tsify(type = "[string, string][]"))]
    pub headers: Vec<HeaderPair>,
    /// Field errors of a 400/422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldDetail>,
    /// A security event to record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<SecurityEvent>,
}

/// What the pipeline asks of its host, or its verdict.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Answer with this error; the handler never runs.
    Refuse(Refusal),
    /// Answer a CORS preflight with `status` and `headers`; no handler.
    Preflight {
        /// 204.
        status: u16,
        /// The allow headers.
        #[cfg_attr(feature = "ts", tsify(type = "[string, string][]"))]
        headers: Vec<HeaderPair>,
    },
    /// Fetch `url` (no redirects), read at most `max_bytes`, and resume with
    /// the body and its `Cache-Control` (or the failure).
    NeedJwks {
        /// The JWKS URL the core chose and checked (docs/platform.md).
        url: String,
        /// The largest document accepted; stop reading past it.
        max_bytes: u32,
    },
    /// Call `private.api_key_verify(key_hash, previous_hash)` as the service
    /// and resume with its row (docs/api-keys.md).
    NeedApiKeyLookup {
        /// HMAC-SHA256 of the key under `SECRET_KEY`.
        key_hash: String,
        /// The same under `SECRET_KEY_PREVIOUS`, during a pepper rotation.
        previous_hash: Option<String>,
    },
    /// Run these checks through `private.rate_limit_hit` (one round trip) and
    /// resume with the results, or with "unavailable".
    NeedGlobalLimits {
        /// One per `global` rule that applies.
        checks: Vec<GlobalCheck>,
    },
    /// Read the body with a byte counter, stopping past `max_bytes`, and
    /// resume with its bytes (or "too large").
    NeedBody {
        /// The route's limit in bytes.
        max_bytes: u32,
        /// The body's media type, JSON and schema are checked only when the
        /// handler asks (`checkBody`, after it verified a signature).
        deferred: bool,
    },
    /// Run the handler.
    Allow(Allowed),
}

/// An allowed request: what the handler receives.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct Allowed {
    /// The route key, e.g. `GET /items/:id`.
    pub route: String,
    /// Path parameters, checked against the route's `params`.
    #[cfg_attr(feature = "ts", tsify(type = "Record<string, string>"))]
    pub params: SortedMap<String, String>,
    /// The checked body (`null` when empty); absent when `body_deferred`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", tsify(type = "unknown", optional))]
    pub body: Option<Value>,
    /// The body checks wait for the handler (`checkBody`).
    pub body_deferred: bool,
    /// The rate-limit headers every response of this request carries.
    #[cfg_attr(feature = "ts", tsify(type = "[string, string][]"))]
    pub rate_headers: Vec<HeaderPair>,
    /// The verified caller (the wasm facade hands it over as a shared, frozen object).
    #[serde(skip)]
    pub identity: std::sync::Arc<crate::authz::Identity>,
    /// A verified token's identity, serialised once, with its key.
    #[serde(skip)]
    pub prebuilt: Option<crate::authz::PrebuiltIdentity>,
}

/// What a [`Step::NeedJwks`] fetch gave.
#[derive(Clone, Copy, Debug)]
pub enum JwksFetch<'a> {
    /// The document and the response's `Cache-Control` header, if any.
    Fetched {
        /// The body text.
        json: &'a str,
        /// `Cache-Control` as received.
        cache_control: Option<&'a str>,
    },
    /// The fetch failed (network, status, size); cached keys stay in use.
    Failed,
}

/// What the host hands back to [`super::Guard::resume`].
#[derive(Clone, Debug)]
pub enum Input<'a> {
    /// The answer to [`Step::NeedJwks`].
    Jwks(JwksFetch<'a>),
    /// The answer to [`Step::NeedApiKeyLookup`]: the row as JSON.
    ApiKeyRow(&'a str),
    /// The answer to [`Step::NeedGlobalLimits`].
    GlobalLimits(crate::ratelimit::GlobalAnswer),
    /// The answer to [`Step::NeedBody`]: the bytes, or `None` when the body
    /// exceeded the limit.
    Body(Option<&'a [u8]>),
}

/// The headers every response of the function gets: remove, set, merge into `Vary`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct ResponseHeaders {
    /// Names to remove (`Server`, `X-Powered-By`).
    pub remove: Vec<String>,
    /// Names to set.
    #[cfg_attr(feature = "ts", tsify(type = "[string, string][]"))]
    pub set: Vec<HeaderPair>,
    /// Values to merge into `Vary`.
    pub vary: Vec<String>,
}

/// How the client IP resolved for one request (a deploy check; names nothing else).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct ClientIpReport {
    /// `EDGEGUARD_CLIENT_IP` as configured, e.g. `x-forwarded-for:1`.
    pub source: String,
    /// The header the address is expected in (`null` for `remote_addr`).
    pub header: Option<&'static str>,
    /// Whether that header is present.
    pub header_present: bool,
    /// The trustworthy client IP, or `null`.
    pub client_ip: Option<String>,
}

/// A CSRF token issued for a caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
pub struct CsrfIssued {
    /// The token (header `x-csrf-token` or form field `csrf_token`).
    pub token: String,
    /// Its lifetime.
    pub expires_in_s: u64,
    /// `Set-Cookie` value for a caller without a user id that had no subject cookie yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", tsify(optional))]
    pub cookie: Option<String>,
}

/// The answer of a deferred body check.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(Tsify))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyChecked {
    /// The parsed value (`null` when empty).
    Checked {
        /// The value.
        #[cfg_attr(feature = "ts", tsify(type = "unknown"))]
        value: Value,
    },
    /// The refusal (415, 400, 422).
    Refuse(Refusal),
}

#[cfg(test)]
mod tests {
    use super::RequestParts;

    /// The former `str`-pattern version, as the reference the byte scans must match.
    fn reference(url: &str) -> (&str, &str, &str) {
        let url = url.split('#').next().unwrap_or("");
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let path_at = url[after_scheme..]
            .find(['/', '?'])
            .map_or(url.len(), |i| after_scheme + i);
        let rest = &url[path_at..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        (&url[..path_at], if path.is_empty() { "/" } else { path }, query)
    }

    #[test]
    fn url_parts_match_the_reference_on_odd_urls() {
        let urls = [
            "https://h.example/a/b?x=1&y=2#frag",
            "https://h.example:8443",
            "https://h.example?x=1",
            "https://h.example/?",
            "https://h.example/p?q?r#s?t",
            "https://h.example#/frag?x",
            "http://ü.example/é/ß?ö=1",
            "/relative/path?q",
            "no-scheme",
            "://",
            ":/",
            "",
            "#",
            "?",
            "https://h/a%2F:///b",
        ];
        for url in urls {
            let parts = RequestParts { url: url.into(), ..Default::default() };
            assert_eq!(parts.url_parts(), reference(url), "{url:?}");
        }
    }
}
