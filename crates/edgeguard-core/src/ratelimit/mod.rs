//! Rate limiting: the in-isolate limiter and the key derivation shared with the Postgres limiter.
//!
//! # Algorithm
//!
//! GCRA (the generic cell rate algorithm, equivalent to a token bucket that
//! starts full): a rule `limit` per `window_s` admits a burst of `limit`
//! requests and then one request every `window_s / limit`. It is computed in
//! exact integer arithmetic (time scaled by `limit`), so `limit` requests at
//! one instant pass and the next one is refused, and the full quota is back
//! exactly `window_s` after the last admitted request of a burst. Several
//! rules may apply to one request (stacked windows, e.g. 60/min **and**
//! 1000/h per IP): the request passes only if every rule passes, and a refused
//! request consumes nothing.
//!
//! # Policy section `limits`
//!
//! ```json
//! {
//!   "client_ip": {"source": "x-forwarded-for", "trusted_hops": 1},
//!   "max_keys": 10000,
//!   "on_db_error": "closed",
//!   "default_class": "standard",
//!   "classes": {
//!     "auth":     [{"name": "auth-ip", "by": ["ip"], "limit": 5, "window_s": 60}],
//!     "standard": [{"name": "ip-min", "by": ["ip"], "limit": 60, "window_s": 60},
//!                  {"name": "ip-hour", "by": ["ip"], "limit": 1000, "window_s": 3600},
//!                  {"name": "user-min", "by": ["user"], "limit": 100, "window_s": 60,
//!                   "roles": {"admin": 1000, "guest": 20}, "global": true}]
//!   }
//! }
//! ```
//!
//! Without a `classes` key the classes above (minus `global`) are the defaults.
//! A route selects its class with `{"class": "auth"}` or is exempt with
//! `{"exempt": true}` (e.g. `health`).
//!
//! - `by`: the key parts, any of `ip`, `user`, `api_key`, `tenant`. A rule
//!   whose non-IP part is absent (e.g. `user` on an anonymous request) does not
//!   apply; an IP that cannot be determined is keyed as `unknown` (one shared
//!   bucket: fails closed rather than open).
//! - `roles`: per-role limits replacing `limit` for callers with that role.
//!   The effective limit is part of the key, so a caller whose role changes
//!   starts a fresh bucket for that rule.
//! - `global: true`: the rule is not counted in the isolate but by the
//!   Postgres limiter; [`LimitDecision::global`] lists the checks the shim must
//!   run, and [`Limiter::apply_global`] folds their answers in.
//! - `on_db_error`: `closed` (default: the request is refused with
//!   `UNAVAILABLE` 503 when the database cannot answer) or `open` (the request
//!   proceeds under the local limits only).
//! - `max_keys`: the most (rule, key) pairs tracked in one isolate (default
//!   10000, at most 100000); when full the least recently used pair is
//!   forgotten, which can only make the limiter more lenient for that key.
//!   Each pair takes at most [`LIMITER_MAX_BYTES_PER_KEY`] bytes: about
//!   3.3 MiB at the default, at most 46 MiB at the cap (docs/memory.md).
//!
//! # Client IP
//!
//! Which header carries the client IP is a property of the deployment, so it
//! comes from `EDGEGUARD_CLIENT_IP` (`x-forwarded-for[:hops]`,
//! `cf-connecting-ip`, `x-real-ip`, `remote_addr`); a policy's
//! `client_ip` section is used only when the variable is unset. Without
//! either, the default is `cf-connecting-ip` on the hosted platform and
//! `x-forwarded-for:1` elsewhere (evidence in docs/platform.md):
//! - `x-forwarded-for`: the entry `hops` from the right (1 = the rightmost,
//!   the address the last trusted proxy saw); entries to its left are
//!   client-controlled and ignored.
//! - `cf-connecting-ip`, `x-real-ip`: the single address in that header; only
//!   safe when the platform overwrites it.
//! - `remote_addr`: the connection's peer address (a server without proxy).
//!
//! A client IP that cannot be trusted is no IP at all: the configured header
//! missing, an unparsable value, or — from a proxy header — an address that
//! is not public (private, loopback, link-local, shared, unspecified such as
//! the `0.0.0.0` edge-runtime reports). Such a request is never keyed with
//! everyone else: an IP rule counts it by its user, API key or tenant instead,
//! and does not apply when none is known. The first such request of an
//! isolate carries a note naming the missing header, for one log line.
//! IPv6 addresses are keyed by their /64 prefix.
//!
//! # Headers
//!
//! Following draft-ietf-httpapi-ratelimit-headers (09/10):
//! `RateLimit-Policy: "ip-min";q=60;w=60, "ip-hour";q=1000;w=3600` and
//! `RateLimit: "ip-min";r=59;t=1, "ip-hour";r=999;t=4`, where `r` is the
//! remaining quota and `t` the seconds until it is fully restored. A refused
//! request also gets `Retry-After` (seconds).

mod client_ip;
mod decision;
mod denials;
mod gcra;
mod global;
mod rules;

pub use client_ip::{ip_key, is_public_ip, IpSource};
pub use decision::{Facts, GlobalCheck, GlobalResult, LimitDecision, PolicyState};
pub use denials::{
    DenialRecorder, DENIAL_EVENT_MAX_BYTES, DENIAL_EVENT_MAX_KEYS, DENIAL_EVENT_WINDOW_MS,
    IDENTITY_DENIAL_CODES,
};
pub use gcra::Limiter;
pub use global::GlobalAnswer;
pub use rules::{KeyPart, LimitsConfig, RouteLimits, Rule, MAX_LIMIT, MAX_WINDOW_S};

use crate::{Denial, ErrorCode};

/// The default cap on tracked (rule, key) pairs.
pub const DEFAULT_MAX_KEYS: usize = 10_000;
/// The largest accepted `max_keys`: at [`LIMITER_MAX_BYTES_PER_KEY`] bytes a
/// key, 100 000 keys stay under 46 MiB (a million would not fit the
/// platform's 256 MB worker, docs/memory.md).
pub const MAX_MAX_KEYS: usize = 100_000;

/// The most memory one tracked (rule, key) pair of the [`Limiter`] takes, as
/// [`Limiter::approx_bytes`] accounts it: its hash-table slots (a table more
/// than half full that churns is grown to twice its size, then rounded up to
/// a power of two: up to 4.6 buckets a key) and its place in the recency
/// order (B-tree nodes at least half full).
pub const LIMITER_MAX_BYTES_PER_KEY: usize = 480;

/// The memory of a hash table holding `capacity` entries of `T`: its buckets
/// (a power of two, 8/7 of the capacity) of one `T` and one control byte each.
fn hash_table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).next_power_of_two();
    buckets.saturating_mul(std::mem::size_of::<T>() + 1)
}

fn misconfigured(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}
