//! GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body.

use super::event_id::is_valid_event_id;
use super::headers::Headers;
use super::mac::{any_tag_matches, hex_lower, parse_hex_tag};
use super::secret::SecretSet;
use super::{Provider, Verified, WebhookError};

/// The header GitHub signs with (the SHA-1 `X-Hub-Signature` is never read).
pub const GITHUB_SIGNATURE: &str = "X-Hub-Signature-256";
/// GitHub's delivery id (not covered by the signature).
pub const GITHUB_DELIVERY: &str = "X-GitHub-Delivery";

/// Verifies GitHub webhooks. The signature is `sha256=` followed by 64
/// lowercase hex digits. GitHub signs no timestamp.
#[derive(Clone, Debug)]
pub struct GitHub {
    secrets: SecretSet,
}

impl GitHub {
    /// A verifier for these secrets.
    pub fn new(secrets: SecretSet) -> GitHub {
        GitHub { secrets }
    }

    /// Verifies `body` (raw bytes).
    pub fn verify(&self, headers: &Headers<'_>, body: &[u8]) -> Result<Verified, WebhookError> {
        let header = headers.require(GITHUB_SIGNATURE)?;
        let hex = header
            .strip_prefix("sha256=")
            .ok_or(WebhookError::MalformedHeader {
                header: GITHUB_SIGNATURE,
                why: "expected sha256=<hex>",
            })?;
        let tag = parse_hex_tag(hex).ok_or(WebhookError::MalformedSignature)?;
        let expected: Vec<_> = self.secrets.keys().iter().map(|k| k.tag(&[body])).collect();
        if !any_tag_matches(&expected, &tag) {
            return Err(WebhookError::SignatureMismatch);
        }
        let event_id = match headers.get(GITHUB_DELIVERY)?.filter(|id| !id.is_empty()) {
            Some(id) if is_valid_event_id(id) => Some(id.to_string()),
            Some(_) => {
                return Err(WebhookError::MalformedHeader {
                    header: GITHUB_DELIVERY,
                    why: "not a usable id",
                })
            }
            None => None,
        };
        Ok(Verified {
            provider: Provider::GitHub,
            event_id,
            timestamp: None,
        })
    }

    /// The `X-Hub-Signature-256` header for `body`, with the first secret.
    pub fn sign(&self, body: &[u8]) -> Vec<(String, String)> {
        match self.secrets.keys().first() {
            Some(k) => vec![(
                GITHUB_SIGNATURE.to_string(),
                format!("sha256={}", hex_lower(&k.tag(&[body]))),
            )],
            None => Vec::new(),
        }
    }
}
