//! Secrets and the timestamp tolerance, parsed from environment values.
//!
//! # Rotation separator rules
//!
//! * **Raw secrets** (Stripe, Shopify, GitHub): the value is split on `,`;
//!   spaces and tabs around each item are trimmed; empty items are skipped.
//!   Each item is one secret, used as HMAC key bytes exactly as written
//!   (Stripe's `whsec_…` included). A secret therefore cannot contain `,`.
//! * **Standard Webhooks secrets** (`STANDARD_WEBHOOK_SECRET`, `AUTH_HOOK_SECRET`):
//!   the value is split on `,`, `|` and ASCII whitespace (none of which occurs
//!   in base64) into tokens; empty tokens are skipped. A token `whsec_<base64>`
//!   is one secret. A token `v1` is Supabase's version marker: it must be
//!   immediately followed by a `whsec_<base64>` token, and the two form one
//!   secret. So `v1,whsec_A`, `whsec_A,whsec_B`, `v1,whsec_A,v1,whsec_B` and
//!   Supabase Auth's own `v1,whsec_A|v1,whsec_B` all parse, and the comma
//!   inside Supabase's form is never mistaken for a rotation separator. Any
//!   other token (a bare base64 key, `v1a,…` asymmetric keys, a dangling `v1`)
//!   is refused. The base64 must be standard-alphabet, padding optional, no
//!   stray trailing bits.
//! * Every secret must be at least [`MIN_SECRET_LEN`] bytes (after base64
//!   decoding for `whsec_`), at most [`MAX_SECRET_LEN`] bytes, and at most
//!   [`MAX_SECRETS`] secrets may be active at once.

use base64::Engine;

use super::mac::{HmacKey, B64_SECRET};
use super::WebhookError;

/// Fewest bytes a secret may have (HMAC keys shorter than this are refused).
pub const MIN_SECRET_LEN: usize = 16;
/// Most bytes a secret may have.
pub const MAX_SECRET_LEN: usize = 1024;
/// Most secrets active at once for one provider (rotation).
pub const MAX_SECRETS: usize = 8;
/// Default of `WEBHOOK_TIMESTAMP_TOLERANCE`, seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// Largest accepted `WEBHOOK_TIMESTAMP_TOLERANCE`, seconds.
pub const MAX_TOLERANCE_SECS: i64 = 86_400;

/// The active secrets of one provider, prepared as HMAC keys. Order is kept:
/// the first one signs, all of them verify.
#[derive(Clone, Debug)]
pub struct SecretSet {
    keys: Vec<HmacKey>,
}

impl SecretSet {
    /// The prepared keys, first (signing) key first.
    pub fn keys(&self) -> &[HmacKey] {
        &self.keys
    }

    /// Parses raw secrets (Stripe, Shopify, GitHub) from the value of `var`.
    pub fn parse_raw(var: &str, value: &str) -> Result<SecretSet, WebhookError> {
        let mut raw: Vec<&[u8]> = Vec::new();
        for item in value.split(',') {
            let item = item.trim_matches(|c| c == ' ' || c == '\t');
            if !item.is_empty() {
                raw.push(item.as_bytes());
            }
        }
        SecretSet::build(var, &raw)
    }

    /// Parses Standard Webhooks secrets (`whsec_<base64>` or `v1,whsec_<base64>`)
    /// from the value of `var`.
    pub fn parse_standard(var: &str, value: &str) -> Result<SecretSet, WebhookError> {
        let invalid = |why| WebhookError::InvalidSecret {
            var: var.to_string(),
            why,
        };
        let mut decoded: Vec<Vec<u8>> = Vec::new();
        let mut pending_version = false;
        for token in value.split(|c: char| c == ',' || c == '|' || c.is_ascii_whitespace()) {
            if token.is_empty() {
                continue;
            }
            if token == "v1" {
                if pending_version {
                    return Err(invalid("has a `v1` marker not followed by a whsec_ secret"));
                }
                pending_version = true;
                continue;
            }
            let Some(b64) = token.strip_prefix("whsec_") else {
                return Err(invalid(
                    "must hold whsec_<base64> or v1,whsec_<base64> secrets",
                ));
            };
            pending_version = false;
            if b64.len() > MAX_SECRET_LEN * 2 {
                return Err(invalid("holds a secret longer than 1024 bytes"));
            }
            let key = B64_SECRET
                .decode(b64.as_bytes())
                .map_err(|_| invalid("holds a whsec_ secret that is not valid base64"))?;
            decoded.push(key);
        }
        if pending_version {
            return Err(invalid("has a `v1` marker not followed by a whsec_ secret"));
        }
        let raw: Vec<&[u8]> = decoded.iter().map(Vec::as_slice).collect();
        SecretSet::build(var, &raw)
    }

    fn build(var: &str, raw: &[&[u8]]) -> Result<SecretSet, WebhookError> {
        let invalid = |why| WebhookError::InvalidSecret {
            var: var.to_string(),
            why,
        };
        if raw.is_empty() {
            return Err(WebhookError::NotConfigured {
                var: var.to_string(),
            });
        }
        if raw.len() > MAX_SECRETS {
            return Err(invalid("holds more than 8 secrets"));
        }
        let mut keys = Vec::with_capacity(raw.len());
        for secret in raw {
            if secret.len() < MIN_SECRET_LEN {
                return Err(invalid("holds a secret shorter than 16 bytes"));
            }
            if secret.len() > MAX_SECRET_LEN {
                return Err(invalid("holds a secret longer than 1024 bytes"));
            }
            keys.push(HmacKey::new(secret).ok_or_else(|| invalid("holds an unusable secret"))?);
        }
        Ok(SecretSet { keys })
    }
}

/// How far a signed timestamp may be from `now`, in either direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tolerance {
    secs: i64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            secs: DEFAULT_TOLERANCE_SECS,
        }
    }
}

impl Tolerance {
    /// A tolerance of `secs` seconds (1 to 86400).
    pub fn from_secs(secs: i64) -> Result<Tolerance, WebhookError> {
        if (1..=MAX_TOLERANCE_SECS).contains(&secs) {
            Ok(Tolerance { secs })
        } else {
            Err(WebhookError::InvalidTolerance)
        }
    }

    /// Parses `WEBHOOK_TIMESTAMP_TOLERANCE`: unset or empty means 300; otherwise
    /// ASCII digits only, 1 to 86400.
    pub fn from_env_value(value: Option<&str>) -> Result<Tolerance, WebhookError> {
        let v = match value.map(str::trim) {
            None | Some("") => return Ok(Tolerance::default()),
            Some(v) => v,
        };
        if v.is_empty() || v.len() > 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WebhookError::InvalidTolerance);
        }
        let secs = v
            .parse::<i64>()
            .map_err(|_| WebhookError::InvalidTolerance)?;
        Tolerance::from_secs(secs)
    }

    /// The tolerance in seconds.
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// Checks a signed timestamp against `now`: refused when older than
    /// `now - tolerance` or later than `now + tolerance`.
    pub fn check(self, timestamp: i64, now: i64) -> Result<(), WebhookError> {
        if timestamp < now.saturating_sub(self.secs) {
            Err(WebhookError::TimestampTooOld)
        } else if timestamp > now.saturating_add(self.secs) {
            Err(WebhookError::TimestampInFuture)
        } else {
            Ok(())
        }
    }
}

/// Parses a Unix timestamp in seconds: 1 to 12 ASCII digits, no sign.
pub(crate) fn parse_timestamp(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}
