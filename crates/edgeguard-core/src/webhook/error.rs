//! The closed set of reasons a webhook is refused or a verifier cannot be built.

use core::fmt;

use crate::{Denial, ErrorCode};

/// Why a webhook was refused, or why a verifier could not be configured.
///
/// Every variant maps to one error code (docs/errors.md) ([`WebhookError::code`]) and a precise,
/// secret-free reason ([`WebhookError::reason`]). Reasons name headers and
/// environment variables, never their values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookError {
    /// No verifier exists under this name (`NOT_FOUND`).
    UnknownProvider,
    /// The secret variable of this verifier is unset or empty (`MISCONFIGURED`).
    NotConfigured {
        /// The environment variable that should hold the secret.
        var: String,
    },
    /// The secret variable is set but unusable (`MISCONFIGURED`).
    InvalidSecret {
        /// The environment variable holding the secret.
        var: String,
        /// Which rule the value breaks.
        why: &'static str,
    },
    /// `WEBHOOK_TIMESTAMP_TOLERANCE` is not an integer in range (`MISCONFIGURED`).
    InvalidTolerance,
    /// The caller's clock input is not a usable time (`INTERNAL`).
    InvalidClock,
    /// The shim passed input that is not the documented JSON (`INTERNAL`);
    /// names which input (`"environment"` or `"headers"`).
    InvalidInput(&'static str),
    /// More header fields, or more header bytes, than allowed (`INVALID_SIGNATURE`).
    TooManyHeaders,
    /// A header this verifier reads is absent (`INVALID_SIGNATURE`).
    MissingHeader(&'static str),
    /// A header this verifier reads appears more than once (`INVALID_SIGNATURE`).
    DuplicateHeader(&'static str),
    /// A header this verifier reads is longer than allowed (`INVALID_SIGNATURE`).
    HeaderTooLarge(&'static str),
    /// A header this verifier reads cannot be parsed (`INVALID_SIGNATURE`).
    MalformedHeader {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The signature header holds no signature of the scheme we verify (`INVALID_SIGNATURE`).
    NoSignature,
    /// The signature header holds more signatures than allowed (`INVALID_SIGNATURE`).
    TooManySignatures,
    /// Every signature of our scheme is malformed (bad hex/base64 or wrong length) (`INVALID_SIGNATURE`).
    MalformedSignature,
    /// Well-formed signatures were present but none matches any secret (`INVALID_SIGNATURE`).
    SignatureMismatch,
    /// The signed timestamp is older than the tolerance (`INVALID_SIGNATURE`).
    TimestampTooOld,
    /// The signed timestamp is further in the future than the tolerance (`INVALID_SIGNATURE`).
    TimestampInFuture,
    /// The body verified but is not the JSON the provider sends (`INVALID_BODY`).
    BodyNotJson,
    /// The body verified and is JSON but has no usable top-level `id` (`INVALID_BODY`).
    MissingEventId,
}

impl WebhookError {
    /// The error code the client sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            WebhookError::UnknownProvider => ErrorCode::NotFound,
            WebhookError::NotConfigured { .. }
            | WebhookError::InvalidSecret { .. }
            | WebhookError::InvalidTolerance => ErrorCode::Misconfigured,
            WebhookError::InvalidClock | WebhookError::InvalidInput(_) => ErrorCode::Internal,
            WebhookError::BodyNotJson | WebhookError::MissingEventId => ErrorCode::InvalidBody,
            WebhookError::TooManyHeaders
            | WebhookError::MissingHeader(_)
            | WebhookError::DuplicateHeader(_)
            | WebhookError::HeaderTooLarge(_)
            | WebhookError::MalformedHeader { .. }
            | WebhookError::NoSignature
            | WebhookError::TooManySignatures
            | WebhookError::MalformedSignature
            | WebhookError::SignatureMismatch
            | WebhookError::TimestampTooOld
            | WebhookError::TimestampInFuture => ErrorCode::InvalidSignature,
        }
    }

    /// The precise reason, safe to log and to show outside production.
    pub fn reason(&self) -> String {
        match self {
            WebhookError::UnknownProvider => "unknown webhook provider".into(),
            WebhookError::NotConfigured { var } => format!("{var} is not set"),
            WebhookError::InvalidSecret { var, why } => format!("{var} {why}"),
            WebhookError::InvalidTolerance => {
                "WEBHOOK_TIMESTAMP_TOLERANCE must be a whole number of seconds from 1 to 86400"
                    .into()
            }
            WebhookError::InvalidClock => {
                "the current time given to the verifier is not usable".into()
            }
            WebhookError::InvalidInput(what) => format!("{what} input is not the expected JSON"),
            WebhookError::TooManyHeaders => "too many or too large headers".into(),
            WebhookError::MissingHeader(h) => format!("missing {h} header"),
            WebhookError::DuplicateHeader(h) => format!("duplicate {h} header"),
            WebhookError::HeaderTooLarge(h) => format!("{h} header too large"),
            WebhookError::MalformedHeader { header, why } => {
                format!("malformed {header} header: {why}")
            }
            WebhookError::NoSignature => "no signature of a supported scheme".into(),
            WebhookError::TooManySignatures => "too many signatures".into(),
            WebhookError::MalformedSignature => "malformed signature".into(),
            WebhookError::SignatureMismatch => "no signature matches".into(),
            WebhookError::TimestampTooOld => "timestamp too old (outside tolerance)".into(),
            WebhookError::TimestampInFuture => {
                "timestamp too far in the future (outside tolerance)".into()
            }
            WebhookError::BodyNotJson => "verified body is not a JSON object".into(),
            WebhookError::MissingEventId => "verified event has no string id".into(),
        }
    }

    /// The denial to answer with.
    pub fn to_denial(&self) -> Denial {
        Denial::new(self.code(), self.reason())
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.reason())
    }
}

impl std::error::Error for WebhookError {}

impl From<WebhookError> for Denial {
    fn from(e: WebhookError) -> Denial {
        e.to_denial()
    }
}
