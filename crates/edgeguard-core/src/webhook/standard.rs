//! Standard Webhooks (Supabase Auth hooks, Svix, Clerk, …): `webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64> [v1,<base64>…]`,
//! HMAC-SHA256 over `"{id}.{timestamp}.{raw body}"` keyed by the decoded
//! `whsec_` secret.

use super::event_id::is_valid_event_id;
use super::headers::Headers;
use super::mac::{any_tag_matches, b64, parse_b64_tag};
use super::secret::{parse_timestamp, SecretSet, Tolerance};
use super::{Provider, Verified, WebhookError, MAX_SIGNATURES};

/// The message id header (signed).
pub const WEBHOOK_ID: &str = "webhook-id";
/// The timestamp header (signed).
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The signature header.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
const SVIX_ID: &str = "svix-id";
const SVIX_TIMESTAMP: &str = "svix-timestamp";
const SVIX_SIGNATURE: &str = "svix-signature";

/// Verifies Standard Webhooks.
///
/// The signature header holds entries `<version>,<base64>` separated by
/// whitespace (the spec) or by `", "` (as Supabase Auth sends; a trailing comma
/// on an entry is dropped). Entries of other versions (e.g. `v1a`) are ignored;
/// `v1` entries must be canonical padded base64 of 32 bytes. When none of the
/// `webhook-*` headers is present, Svix's branded `svix-*` headers are read
/// instead. The id must be 1 to 255 visible ASCII characters; the timestamp
/// must lie within the tolerance of `now` in both directions.
#[derive(Clone, Debug)]
pub struct StandardWebhooks {
    secrets: SecretSet,
    tolerance: Tolerance,
}

impl StandardWebhooks {
    /// A verifier for these secrets and tolerance.
    pub fn new(secrets: SecretSet, tolerance: Tolerance) -> StandardWebhooks {
        StandardWebhooks { secrets, tolerance }
    }

    /// Verifies `body` (raw bytes) at time `now` (Unix seconds). The event id is `webhook-id`.
    pub fn verify(
        &self,
        headers: &Headers<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, WebhookError> {
        let unbranded = headers.get(WEBHOOK_ID)?.is_some()
            || headers.get(WEBHOOK_TIMESTAMP)?.is_some()
            || headers.get(WEBHOOK_SIGNATURE)?.is_some();
        let (id_h, ts_h, sig_h) = if unbranded {
            (WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE)
        } else {
            (SVIX_ID, SVIX_TIMESTAMP, SVIX_SIGNATURE)
        };
        let id = headers
            .require(id_h)
            .map_err(|_| WebhookError::MissingHeader(WEBHOOK_ID))?;
        let ts_text = headers
            .require(ts_h)
            .map_err(|_| WebhookError::MissingHeader(WEBHOOK_TIMESTAMP))?;
        let sig = headers
            .require(sig_h)
            .map_err(|_| WebhookError::MissingHeader(WEBHOOK_SIGNATURE))?;
        if !is_valid_event_id(id) {
            return Err(WebhookError::MalformedHeader {
                header: WEBHOOK_ID,
                why: "not 1 to 255 visible ASCII characters",
            });
        }
        let ts = parse_timestamp(ts_text).ok_or(WebhookError::MalformedHeader {
            header: WEBHOOK_TIMESTAMP,
            why: "not a number",
        })?;

        let mut tags = Vec::new();
        let mut malformed = 0usize;
        for entry in sig.split_ascii_whitespace() {
            // `v1,<sig>,` (the ", " separator) loses its trailing comma; `v1,` stays an empty v1 entry.
            let entry = match entry.strip_suffix(',') {
                Some(rest) if rest.contains(',') => rest,
                _ => entry,
            };
            let Some((version, value)) = entry.split_once(',') else {
                continue;
            };
            if version != "v1" {
                continue;
            }
            if tags.len() + malformed >= MAX_SIGNATURES {
                return Err(WebhookError::TooManySignatures);
            }
            match parse_b64_tag(value) {
                Some(tag) => tags.push(tag),
                None => malformed += 1,
            }
        }
        if tags.is_empty() {
            return Err(if malformed > 0 {
                WebhookError::MalformedSignature
            } else {
                WebhookError::NoSignature
            });
        }
        self.tolerance.check(ts, now)?;
        let expected: Vec<_> = self
            .secrets
            .keys()
            .iter()
            .map(|k| k.tag(&[id.as_bytes(), b".", ts_text.as_bytes(), b".", body]))
            .collect();
        let mut ok = false;
        for tag in &tags {
            ok |= any_tag_matches(&expected, tag);
        }
        if !ok {
            return Err(WebhookError::SignatureMismatch);
        }
        Ok(Verified {
            provider: Provider::StandardWebhooks,
            event_id: Some(id.to_string()),
            timestamp: Some(ts),
        })
    }

    /// The `webhook-signature` value for a message: `v1,<base64>` per active
    /// secret, space-separated.
    pub fn signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let t = timestamp.to_string();
        let parts: Vec<String> = self
            .secrets
            .keys()
            .iter()
            .map(|k| {
                format!(
                    "v1,{}",
                    b64(&k.tag(&[id.as_bytes(), b".", t.as_bytes(), b".", body]))
                )
            })
            .collect();
        parts.join(" ")
    }

    /// The three headers a sender attaches to message `id` at `timestamp`.
    pub fn sign(&self, id: &str, body: &[u8], timestamp: i64) -> Vec<(String, String)> {
        vec![
            (WEBHOOK_ID.to_string(), id.to_string()),
            (WEBHOOK_TIMESTAMP.to_string(), timestamp.to_string()),
            (
                WEBHOOK_SIGNATURE.to_string(),
                self.signature(id, timestamp, body),
            ),
        ]
    }
}
