//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 over
//! `"{t}.{raw body}"` keyed by the endpoint secret's bytes.

use super::event_id::top_level_id;
use super::headers::Headers;
use super::mac::{any_tag_matches, hex_lower, parse_hex_tag};
use super::secret::{parse_timestamp, SecretSet, Tolerance};
use super::{Provider, Verified, WebhookError, MAX_SIGNATURES};

/// The header Stripe signs with.
pub const STRIPE_SIGNATURE: &str = "Stripe-Signature";

/// Verifies Stripe webhooks.
///
/// Items of the header other than `t` and `v1` (e.g. `v0`, the test-mode
/// scheme) are ignored. Every `v1` is tried against every secret, so a secret
/// roll on Stripe's side (several `v1`) and on ours (several secrets) both work.
/// The timestamp must lie within the tolerance of `now` in both directions
/// (stripe-node only refuses old ones).
#[derive(Clone, Debug)]
pub struct Stripe {
    secrets: SecretSet,
    tolerance: Tolerance,
}

impl Stripe {
    /// A verifier for these secrets and tolerance.
    pub fn new(secrets: SecretSet, tolerance: Tolerance) -> Stripe {
        Stripe { secrets, tolerance }
    }

    /// Verifies `body` (raw bytes) at time `now` (Unix seconds). On success the
    /// event id is the verified JSON body's top-level `id`.
    pub fn verify(
        &self,
        headers: &Headers<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, WebhookError> {
        let header = headers.require(STRIPE_SIGNATURE)?;
        let mut timestamp: Option<(&str, i64)> = None;
        let mut tags = Vec::new();
        let mut malformed = 0usize;
        for item in header.split(',') {
            let item = item.trim_matches(|c| c == ' ' || c == '\t');
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            match key {
                "t" => {
                    if timestamp.is_some() {
                        return Err(malformed_header("more than one timestamp"));
                    }
                    let t = parse_timestamp(value)
                        .ok_or_else(|| malformed_header("timestamp is not a number"))?;
                    timestamp = Some((value, t));
                }
                "v1" => {
                    if tags.len() + malformed >= MAX_SIGNATURES {
                        return Err(WebhookError::TooManySignatures);
                    }
                    match parse_hex_tag(value) {
                        Some(tag) => tags.push(tag),
                        None => malformed += 1,
                    }
                }
                _ => {}
            }
        }
        let (t_text, t) = timestamp.ok_or_else(|| malformed_header("no timestamp"))?;
        if tags.is_empty() {
            return Err(if malformed > 0 {
                WebhookError::MalformedSignature
            } else {
                WebhookError::NoSignature
            });
        }
        self.tolerance.check(t, now)?;
        let expected: Vec<_> = self
            .secrets
            .keys()
            .iter()
            .map(|k| k.tag(&[t_text.as_bytes(), b".", body]))
            .collect();
        let mut ok = false;
        for tag in &tags {
            ok |= any_tag_matches(&expected, tag);
        }
        if !ok {
            return Err(WebhookError::SignatureMismatch);
        }
        let event_id = top_level_id(body)?;
        Ok(Verified {
            provider: Provider::Stripe,
            event_id: Some(event_id),
            timestamp: Some(t),
        })
    }

    /// The `Stripe-Signature` header Stripe would send for `body` at
    /// `timestamp`: one `v1` per active secret.
    pub fn sign(&self, body: &[u8], timestamp: i64) -> Vec<(String, String)> {
        let t = timestamp.to_string();
        let mut value = format!("t={t}");
        for key in self.secrets.keys() {
            value.push_str(",v1=");
            value.push_str(&hex_lower(&key.tag(&[t.as_bytes(), b".", body])));
        }
        vec![(STRIPE_SIGNATURE.to_string(), value)]
    }
}

fn malformed_header(why: &'static str) -> WebhookError {
    WebhookError::MalformedHeader {
        header: STRIPE_SIGNATURE,
        why,
    }
}
