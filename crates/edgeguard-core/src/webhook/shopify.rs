//! Shopify: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 of the raw body.

use super::event_id::is_valid_event_id;
use super::headers::Headers;
use super::mac::{any_tag_matches, b64, parse_b64_tag};
use super::secret::SecretSet;
use super::{Provider, Verified, WebhookError};

/// The header Shopify signs with.
pub const SHOPIFY_HMAC: &str = "X-Shopify-Hmac-Sha256";
/// Shopify's delivery id (not covered by the signature).
pub const SHOPIFY_WEBHOOK_ID: &str = "X-Shopify-Webhook-Id";
/// Shopify's event id (not covered by the signature), used when the webhook id is absent.
pub const SHOPIFY_EVENT_ID: &str = "X-Shopify-Event-Id";

/// Verifies Shopify webhooks. The signature is canonical padded base64 of the
/// 32-byte tag. Shopify signs no timestamp, so there is no freshness check;
/// the event id comes from an unsigned header.
#[derive(Clone, Debug)]
pub struct Shopify {
    secrets: SecretSet,
}

impl Shopify {
    /// A verifier for these secrets.
    pub fn new(secrets: SecretSet) -> Shopify {
        Shopify { secrets }
    }

    /// Verifies `body` (raw bytes).
    pub fn verify(&self, headers: &Headers<'_>, body: &[u8]) -> Result<Verified, WebhookError> {
        let header = headers.require(SHOPIFY_HMAC)?;
        let tag = parse_b64_tag(header).ok_or(WebhookError::MalformedSignature)?;
        let expected: Vec<_> = self.secrets.keys().iter().map(|k| k.tag(&[body])).collect();
        if !any_tag_matches(&expected, &tag) {
            return Err(WebhookError::SignatureMismatch);
        }
        let event_id = match headers.get(SHOPIFY_WEBHOOK_ID)? {
            Some(id) if !id.is_empty() => Some(id),
            _ => headers.get(SHOPIFY_EVENT_ID)?.filter(|id| !id.is_empty()),
        };
        let event_id = match event_id {
            Some(id) if is_valid_event_id(id) => Some(id.to_string()),
            Some(_) => {
                return Err(WebhookError::MalformedHeader {
                    header: SHOPIFY_WEBHOOK_ID,
                    why: "not a usable id",
                })
            }
            None => None,
        };
        Ok(Verified {
            provider: Provider::Shopify,
            event_id,
            timestamp: None,
        })
    }

    /// The `X-Shopify-Hmac-Sha256` header for `body`, with the first secret.
    pub fn sign(&self, body: &[u8]) -> Vec<(String, String)> {
        match self.secrets.keys().first() {
            Some(k) => vec![(SHOPIFY_HMAC.to_string(), b64(&k.tag(&[body])))],
            None => Vec::new(),
        }
    }
}
