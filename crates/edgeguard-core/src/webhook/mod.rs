//! Webhook signature verification: Stripe, Shopify, GitHub and Standard Webhooks.
//!
//! Every verifier works on the raw body bytes (JSON is never re-serialised),
//! compares HMAC-SHA256 tags in constant time through one path
//! ([`hmac_sha256_verify`] is that path for a single key and message), accepts
//! several active secrets per provider (rotation, see [`secret`] for the exact
//! separator rules) and several signatures per header, and takes the current
//! time as an input. Stripe and Standard Webhooks timestamps are refused when
//! further than [`Tolerance`] from `now` in either direction.
//!
//! [`WebhookVerifiers::from_env`] builds every endpoint of [`ENDPOINTS`] from
//! environment values; a failure is a [`WebhookError`] that maps to one error
//! code: `INVALID_SIGNATURE` for anything the sender got wrong, `INVALID_BODY`
//! for a Stripe body that verifies but carries no event id, `MISCONFIGURED`
//! for missing or unusable secrets, `NOT_FOUND` for an unknown endpoint.

mod error;
mod event_id;
mod github;
mod headers;
pub mod json;
mod mac;
pub mod secret;
mod shopify;
mod standard;
mod stripe;

pub use error::WebhookError;
pub use event_id::MAX_EVENT_ID_LEN;
pub use github::{GitHub, GITHUB_DELIVERY, GITHUB_SIGNATURE};
pub use headers::{Headers, MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_HEADER_VALUE};
pub use mac::{constant_time_eq, hmac_sha256, hmac_sha256_verify, HmacKey, TAG_LEN};
pub use secret::{SecretSet, Tolerance};
pub use shopify::{Shopify, SHOPIFY_EVENT_ID, SHOPIFY_HMAC, SHOPIFY_WEBHOOK_ID};
pub use standard::{StandardWebhooks, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};
pub use stripe::{Stripe, STRIPE_SIGNATURE};

/// Most signatures of the verified scheme accepted in one header.
pub const MAX_SIGNATURES: usize = 16;

/// The environment variable holding the timestamp tolerance in seconds.
pub const TOLERANCE_VAR: &str = "WEBHOOK_TIMESTAMP_TOLERANCE";

/// A signature scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Stripe's `Stripe-Signature`.
    Stripe,
    /// Shopify's `X-Shopify-Hmac-Sha256`.
    Shopify,
    /// GitHub's `X-Hub-Signature-256`.
    GitHub,
    /// Standard Webhooks (`webhook-signature`), also used by Supabase Auth hooks.
    StandardWebhooks,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 4] = [
        Provider::Stripe,
        Provider::Shopify,
        Provider::GitHub,
        Provider::StandardWebhooks,
    ];

    /// The lowercase name used in routes: `stripe`, `shopify`, `github`, `standard`.
    pub const fn name(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Shopify => "shopify",
            Provider::GitHub => "github",
            Provider::StandardWebhooks => "standard",
        }
    }

    /// The provider with this route name.
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// Whether the event id is covered by the signature. Shopify's and GitHub's
    /// ids travel in unsigned headers: someone holding a captured delivery can
    /// resend it under a new id, so de-duplication by id alone does not stop
    /// replays for them (they also sign no timestamp).
    pub const fn event_id_is_signed(self) -> bool {
        matches!(self, Provider::Stripe | Provider::StandardWebhooks)
    }
}

/// A verified delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The scheme that verified it.
    pub provider: Provider,
    /// The provider's id for de-duplication: Stripe's event `id`, Shopify's
    /// `X-Shopify-Webhook-Id` (or `X-Shopify-Event-Id`), GitHub's
    /// `X-GitHub-Delivery`, Standard Webhooks' `webhook-id`. Always present
    /// for Stripe and Standard Webhooks.
    pub event_id: Option<String>,
    /// The signed timestamp (Unix seconds), for Stripe and Standard Webhooks.
    pub timestamp: Option<i64>,
}

/// A configured verifier of one scheme.
#[derive(Clone, Debug)]
pub enum Verifier {
    /// Stripe.
    Stripe(Stripe),
    /// Shopify.
    Shopify(Shopify),
    /// GitHub.
    GitHub(GitHub),
    /// Standard Webhooks.
    StandardWebhooks(StandardWebhooks),
}

impl Verifier {
    /// Builds a verifier of `provider` from the value of its secret variable
    /// `var` (named in errors, never the value).
    pub fn from_env_value(
        provider: Provider,
        var: &str,
        value: &str,
        tolerance: Tolerance,
    ) -> Result<Verifier, WebhookError> {
        Ok(match provider {
            Provider::Stripe => {
                Verifier::Stripe(Stripe::new(SecretSet::parse_raw(var, value)?, tolerance))
            }
            Provider::Shopify => Verifier::Shopify(Shopify::new(SecretSet::parse_raw(var, value)?)),
            Provider::GitHub => Verifier::GitHub(GitHub::new(SecretSet::parse_raw(var, value)?)),
            Provider::StandardWebhooks => Verifier::StandardWebhooks(StandardWebhooks::new(
                SecretSet::parse_standard(var, value)?,
                tolerance,
            )),
        })
    }

    /// The scheme.
    pub fn provider(&self) -> Provider {
        match self {
            Verifier::Stripe(_) => Provider::Stripe,
            Verifier::Shopify(_) => Provider::Shopify,
            Verifier::GitHub(_) => Provider::GitHub,
            Verifier::StandardWebhooks(_) => Provider::StandardWebhooks,
        }
    }

    /// Verifies a delivery: raw `body` bytes, its headers, the time `now` in Unix seconds.
    pub fn verify(
        &self,
        headers: &Headers<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, WebhookError> {
        match self {
            Verifier::Stripe(v) => v.verify(headers, body, now),
            Verifier::Shopify(v) => v.verify(headers, body),
            Verifier::GitHub(v) => v.verify(headers, body),
            Verifier::StandardWebhooks(v) => v.verify(headers, body, now),
        }
    }

    /// The headers the provider would send for `body` at `timestamp`
    /// (`id` is used by Standard Webhooks only).
    pub fn sign(&self, id: &str, body: &[u8], timestamp: i64) -> Vec<(String, String)> {
        match self {
            Verifier::Stripe(v) => v.sign(body, timestamp),
            Verifier::Shopify(v) => v.sign(body),
            Verifier::GitHub(v) => v.sign(body),
            Verifier::StandardWebhooks(v) => v.sign(id, body, timestamp),
        }
    }
}

/// A named webhook endpoint: the route name, its scheme and its secret variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The name used in routes and in `verify` (`stripe`, `auth_hook`, …).
    pub name: &'static str,
    /// The scheme.
    pub provider: Provider,
    /// The environment variable holding its secrets.
    pub secret_var: &'static str,
}

/// Every endpoint [`WebhookVerifiers::from_env`] builds. `auth_hook` is the
/// Standard Webhooks scheme keyed by `AUTH_HOOK_SECRET` (Supabase Auth hooks).
pub const ENDPOINTS: [Endpoint; 5] = [
    Endpoint {
        name: "stripe",
        provider: Provider::Stripe,
        secret_var: "STRIPE_WEBHOOK_SECRET",
    },
    Endpoint {
        name: "shopify",
        provider: Provider::Shopify,
        secret_var: "SHOPIFY_WEBHOOK_SECRET",
    },
    Endpoint {
        name: "github",
        provider: Provider::GitHub,
        secret_var: "GITHUB_WEBHOOK_SECRET",
    },
    Endpoint {
        name: "standard",
        provider: Provider::StandardWebhooks,
        secret_var: "STANDARD_WEBHOOK_SECRET",
    },
    Endpoint {
        name: "auth_hook",
        provider: Provider::StandardWebhooks,
        secret_var: "AUTH_HOOK_SECRET",
    },
];

/// Every endpoint's verifier, or the reason it cannot verify (not configured,
/// invalid secret, invalid tolerance). Built once per isolate.
#[derive(Clone, Debug)]
pub struct WebhookVerifiers {
    slots: Vec<(Endpoint, Result<Verifier, WebhookError>)>,
}

impl WebhookVerifiers {
    /// Builds every endpoint of [`ENDPOINTS`] from environment values looked up
    /// by name. An unset or blank secret leaves that endpoint not configured;
    /// an invalid `WEBHOOK_TIMESTAMP_TOLERANCE` makes every endpoint misconfigured.
    pub fn from_env<F>(lookup: F) -> WebhookVerifiers
    where
        F: Fn(&str) -> Option<String>,
    {
        let tolerance = Tolerance::from_env_value(lookup(TOLERANCE_VAR).as_deref());
        let slots = ENDPOINTS
            .iter()
            .map(|ep| {
                let built = match (&tolerance, lookup(ep.secret_var)) {
                    (Err(e), _) => Err(e.clone()),
                    (Ok(_), None) => Err(WebhookError::NotConfigured {
                        var: ep.secret_var.to_string(),
                    }),
                    (Ok(_), Some(v)) if v.trim().is_empty() => Err(WebhookError::NotConfigured {
                        var: ep.secret_var.to_string(),
                    }),
                    (Ok(t), Some(v)) => {
                        Verifier::from_env_value(ep.provider, ep.secret_var, &v, *t)
                    }
                };
                (*ep, built)
            })
            .collect();
        WebhookVerifiers { slots }
    }

    /// The verifier of endpoint `name`: `UnknownProvider` for a name not in
    /// [`ENDPOINTS`], the configuration error for one that cannot verify.
    pub fn verifier(&self, name: &str) -> Result<&Verifier, WebhookError> {
        match self.slots.iter().find(|(ep, _)| ep.name == name) {
            None => Err(WebhookError::UnknownProvider),
            Some((_, Err(e))) => Err(e.clone()),
            Some((_, Ok(v))) => Ok(v),
        }
    }

    /// Verifies a delivery to endpoint `name` at time `now` (Unix seconds).
    pub fn verify(
        &self,
        name: &str,
        headers: &Headers<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, WebhookError> {
        self.verifier(name)?.verify(headers, body, now)
    }

    /// Each endpoint with `Ok(())` when it can verify, or why it cannot.
    pub fn status(&self) -> impl Iterator<Item = (&Endpoint, Result<(), &WebhookError>)> {
        self.slots
            .iter()
            .map(|(ep, r)| (ep, r.as_ref().map(|_| ())))
    }
}
