//! The closed set of error codes (docs/errors.md) and the denial type every check returns.

use core::fmt;

/// One of the error codes of the product contract (docs/errors.md).
///
/// The set is closed: every failure a client can see maps to exactly one code,
/// and every code has exactly one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(tsify_next::Tsify))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No credential was presented where one is required (401).
    MissingCredentials,
    /// A bearer token was presented but is not acceptable (401).
    InvalidJwt,
    /// An `apikey` / `x-api-key` was presented but is not acceptable (401).
    InvalidApiKey,
    /// A webhook or hook signature did not verify (401).
    InvalidSignature,
    /// The caller is known but lacks the role or permission (403).
    Forbidden,
    /// The request targets a tenant other than the caller's (403).
    TenantMismatch,
    /// A CSRF token or origin check failed (403).
    CsrfFailed,
    /// A CORS request from an origin outside the allow-list (403).
    OriginNotAllowed,
    /// No such route or resource (404).
    NotFound,
    /// The route exists but not for this method (405).
    MethodNotAllowed,
    /// The body exceeds the configured limit (413).
    PayloadTooLarge,
    /// The body has a content type the route does not accept (415).
    UnsupportedMediaType,
    /// The body could not be parsed (400).
    InvalidBody,
    /// The body parsed but does not satisfy the route's schema (422).
    ValidationFailed,
    /// A rate limit was exceeded (429).
    RateLimited,
    /// A usage quota (e.g. a tenant's monthly cost units) is spent until its reset (429).
    QuotaExceeded,
    /// The function's configuration is unusable; never the caller's fault (500).
    Misconfigured,
    /// An unexpected failure inside the function (500).
    Internal,
    /// A dependency such as the database is unreachable (503).
    Unavailable,
}

impl ErrorCode {
    /// Every code, in the order of docs/errors.md.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::MissingCredentials,
        ErrorCode::InvalidJwt,
        ErrorCode::InvalidApiKey,
        ErrorCode::InvalidSignature,
        ErrorCode::Forbidden,
        ErrorCode::TenantMismatch,
        ErrorCode::CsrfFailed,
        ErrorCode::OriginNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidBody,
        ErrorCode::ValidationFailed,
        ErrorCode::RateLimited,
        ErrorCode::QuotaExceeded,
        ErrorCode::Misconfigured,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    /// The wire name, e.g. `"INVALID_JWT"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingCredentials => "MISSING_CREDENTIALS",
            ErrorCode::InvalidJwt => "INVALID_JWT",
            ErrorCode::InvalidApiKey => "INVALID_API_KEY",
            ErrorCode::InvalidSignature => "INVALID_SIGNATURE",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::TenantMismatch => "TENANT_MISMATCH",
            ErrorCode::CsrfFailed => "CSRF_FAILED",
            ErrorCode::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::InvalidBody => "INVALID_BODY",
            ErrorCode::ValidationFailed => "VALIDATION_FAILED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::Misconfigured => "MISCONFIGURED",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Unavailable => "UNAVAILABLE",
        }
    }

    /// Parses a wire name back into a code.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// The HTTP status this code is always sent with.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::MissingCredentials
            | ErrorCode::InvalidJwt
            | ErrorCode::InvalidApiKey
            | ErrorCode::InvalidSignature => 401,
            ErrorCode::Forbidden
            | ErrorCode::TenantMismatch
            | ErrorCode::CsrfFailed
            | ErrorCode::OriginNotAllowed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::InvalidBody => 400,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::RateLimited | ErrorCode::QuotaExceeded => 429,
            ErrorCode::Misconfigured | ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// A short public message that reveals nothing about internals.
    pub const fn default_message(self) -> &'static str {
        match self {
            ErrorCode::MissingCredentials => "credentials are required",
            ErrorCode::InvalidJwt => "the access token is not valid",
            ErrorCode::InvalidApiKey => "the API key is not valid",
            ErrorCode::InvalidSignature => "the signature is not valid",
            ErrorCode::Forbidden => "not allowed",
            ErrorCode::TenantMismatch => "the request targets another tenant",
            ErrorCode::CsrfFailed => "CSRF check failed",
            ErrorCode::OriginNotAllowed => "origin not allowed",
            ErrorCode::NotFound => "not found",
            ErrorCode::MethodNotAllowed => "method not allowed",
            ErrorCode::PayloadTooLarge => "payload too large",
            ErrorCode::UnsupportedMediaType => "unsupported media type",
            ErrorCode::InvalidBody => "the body could not be parsed",
            ErrorCode::ValidationFailed => "the body is not valid",
            ErrorCode::RateLimited => "too many requests",
            ErrorCode::QuotaExceeded => "usage quota exceeded",
            ErrorCode::Misconfigured => "the function is misconfigured",
            ErrorCode::Internal => "internal error",
            ErrorCode::Unavailable => "a dependency is unavailable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: the code the client sees and a precise reason.
///
/// `reason` names the exact rule that failed (e.g. `"token expired"`). It is
/// safe to show outside production as `hint` and to log; it never contains a
/// token, key or secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// The error code (docs/errors.md).
    pub code: ErrorCode,
    /// The precise, secret-free reason.
    pub reason: String,
}

impl Denial {
    /// Builds a denial.
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        Denial {
            code,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.reason)
    }
}

impl std::error::Error for Denial {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_statuses_match_spec() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(c.as_str()), Some(c));
            assert!(matches!(c.status(), 400..=503));
        }
        assert_eq!(ErrorCode::InvalidJwt.status(), 401);
        assert_eq!(ErrorCode::TenantMismatch.status(), 403);
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::from_name("QUOTA_EXCEEDED"), Some(ErrorCode::QuotaExceeded));
        assert_eq!(ErrorCode::QuotaExceeded.status(), 429);
        assert_eq!(ErrorCode::Unavailable.status(), 503);
        assert_eq!(ErrorCode::from_name("NOPE"), None);
    }
}
