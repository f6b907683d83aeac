//! What the limiter is told about a request ([`Facts`]) and what it answers
//! ([`LimitDecision`], with its `RateLimit` headers).

use serde::{Deserialize, Serialize};

use crate::json_read::read_struct;
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// What the shim knows about a request, as far as limits are concerned.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// Request headers relevant to the client IP (lower-case names).
    #[serde(default)]
    pub headers: SortedMap<String, String>,
    /// The connection's peer address, if known.
    pub remote_addr: Option<String>,
    /// The verified user id.
    pub user_id: Option<String>,
    /// The verified API key id.
    pub api_key_id: Option<String>,
    /// The caller's tenant id.
    pub tenant_id: Option<String>,
    /// The caller's role.
    pub role: Option<String>,
}

/// One check the Postgres limiter must run for a `global` rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify_next::Tsify))]
#[serde(deny_unknown_fields)]
pub struct GlobalCheck {
    /// The rule name.
    pub rule: String,
    /// The opaque key (`<rule>:<hex>`; no IP or id in clear).
    pub key: String,
    /// The limit for this caller.
    pub limit: u32,
    /// The window in seconds.
    pub window_s: u32,
}

/// The Postgres limiter's answer for one [`GlobalCheck`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(tsify_next::Tsify))]
#[serde(deny_unknown_fields)]
pub struct GlobalResult {
    /// The key that was checked.
    pub key: String,
    /// Whether the request is within the limit.
    pub allowed: bool,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_s: u64,
    /// Seconds to wait when refused (defaults to `reset_s`).
    #[serde(default)]
    pub retry_after_s: Option<u64>,
}

read_struct!(GlobalResult { key: req, allowed: req, remaining: req, reset_s: req, retry_after_s: opt });

/// The state of one applied rule, for the headers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyState {
    /// The rule name.
    pub name: String,
    /// The quota (`q`).
    pub limit: u32,
    /// The window in seconds (`w`).
    pub window_s: u32,
    /// The remaining quota (`r`).
    pub remaining: u32,
    /// Seconds until the quota is fully restored (`t`).
    pub reset_s: u64,
}

/// The limiter's verdict for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitDecision {
    /// Whether the request may proceed (so far: `global` checks may still refuse it).
    pub allowed: bool,
    /// Seconds to wait when refused, else 0.
    pub retry_after_s: u64,
    /// The rule that refused the request, if any.
    pub exceeded: Option<String>,
    /// Whether this refusal should be recorded as a security event (at most
    /// once per key and window, so a flood does not write one row per request).
    pub record_event: bool,
    /// The rules applied so far.
    pub policies: Vec<PolicyState>,
    /// The checks the Postgres limiter must still run (only when allowed so far).
    pub global: Vec<GlobalCheck>,
    /// Set once per isolate, on the first request an IP rule could not key by
    /// a trustworthy client IP: what was missing, for one log line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_note: Option<String>,
}

fn sf_name(n: &str) -> String {
    // Rule names are validated to [a-z0-9_-], so they need no escaping.
    format!("\"{n}\"")
}

impl LimitDecision {
    pub(super) fn exempt() -> Self {
        LimitDecision {
            allowed: true,
            retry_after_s: 0,
            exceeded: None,
            record_event: false,
            policies: Vec::new(),
            global: Vec::new(),
            ip_note: None,
        }
    }

    /// The `RateLimit-Policy`, `RateLimit` and (when refused) `Retry-After` headers.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.policies.is_empty() {
            let pol: Vec<String> = self
                .policies
                .iter()
                .map(|p| format!("{};q={};w={}", sf_name(&p.name), p.limit, p.window_s))
                .collect();
            let cur: Vec<String> = self
                .policies
                .iter()
                .map(|p| format!("{};r={};t={}", sf_name(&p.name), p.remaining, p.reset_s))
                .collect();
            out.push(("RateLimit-Policy".to_string(), pol.join(", ")));
            out.push(("RateLimit".to_string(), cur.join(", ")));
        }
        if !self.allowed {
            out.push((
                "Retry-After".to_string(),
                self.retry_after_s.max(1).to_string(),
            ));
        }
        out
    }

    /// The denial to answer with when refused.
    pub fn denial(&self) -> Option<Denial> {
        if self.allowed {
            None
        } else {
            Some(Denial::new(
                ErrorCode::RateLimited,
                format!(
                    "rate limit {} exceeded",
                    self.exceeded.as_deref().unwrap_or("?")
                ),
            ))
        }
    }
}
