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

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

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
/// The largest accepted `limit`.
pub const MAX_LIMIT: u32 = 1_000_000;
/// The longest accepted window (one week).
pub const MAX_WINDOW_S: u32 = 7 * 86_400;

fn misconfigured(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

/// A part of a rate-limit key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPart {
    /// The client IP (IPv6 by /64).
    Ip,
    /// The verified user id (`sub`).
    User,
    /// The API key id.
    ApiKey,
    /// The tenant id.
    Tenant,
}

/// Where the client IP is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum IpSource {
    /// `X-Forwarded-For`, counted from the right.
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `CF-Connecting-IP`.
    #[serde(rename = "cf-connecting-ip")]
    CfConnectingIp,
    /// `X-Real-IP`.
    #[serde(rename = "x-real-ip")]
    XRealIp,
    /// The connection's peer address.
    #[serde(rename = "remote_addr")]
    RemoteAddr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientIpSection {
    source: IpSource,
    trusted_hops: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FailMode {
    Open,
    Closed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSection {
    name: String,
    by: Vec<KeyPart>,
    limit: u32,
    window_s: u32,
    #[serde(default)]
    global: bool,
    #[serde(default)]
    roles: BTreeMap<String, u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    client_ip: Option<ClientIpSection>,
    max_keys: Option<usize>,
    on_db_error: Option<FailMode>,
    default_class: Option<String>,
    classes: Option<BTreeMap<String, Vec<RuleSection>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSection {
    class: Option<String>,
    #[serde(default)]
    exempt: bool,
}

/// One validated limit rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    name: String,
    by: Vec<KeyPart>,
    limit: u32,
    window_s: u32,
    global: bool,
    roles: BTreeMap<String, u32>,
}

impl Rule {
    /// The rule's name as shown in the headers.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The limit applying to a caller with `role`.
    pub fn limit_for(&self, role: Option<&str>) -> u32 {
        role.and_then(|r| self.roles.get(r).copied())
            .unwrap_or(self.limit)
    }
}

fn valid_rule_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn check_limit(what: &str, n: u32) -> Result<u32, Denial> {
    if n == 0 || n > MAX_LIMIT {
        return Err(misconfigured(format!("limits: {what} must be 1..=1000000")));
    }
    Ok(n)
}

fn rule(name: &str, by: KeyPart, limit: u32, window_s: u32) -> Rule {
    Rule {
        name: name.into(),
        by: vec![by],
        limit,
        window_s,
        global: false,
        roles: BTreeMap::new(),
    }
}

fn default_classes() -> BTreeMap<String, Vec<Rule>> {
    let mut m = BTreeMap::new();
    m.insert(
        "auth".to_string(),
        vec![rule("auth-ip", KeyPart::Ip, 5, 60)],
    );
    m.insert(
        "standard".to_string(),
        vec![
            rule("ip-min", KeyPart::Ip, 60, 60),
            rule("ip-hour", KeyPart::Ip, 1000, 3600),
            rule("user-min", KeyPart::User, 100, 60),
        ],
    );
    m
}

/// The validated `limits` section of a function.
#[derive(Clone, Debug)]
pub struct LimitsConfig {
    ip_source: IpSource,
    trusted_hops: u8,
    /// Whether the IP source was chosen (policy or env) rather than defaulted.
    ip_explicit: bool,
    max_keys: usize,
    fail_open: bool,
    default_class: String,
    classes: BTreeMap<String, Vec<Rule>>,
}

impl LimitsConfig {
    /// Validates a `limits` section (`None`/`null` = defaults).
    pub fn from_value(section: Option<&Value>) -> Result<Self, Denial> {
        let s: LimitsSection = match section {
            None | Some(Value::Null) => LimitsSection::default(),
            Some(v) => LimitsSection::deserialize(v)
                .map_err(|e| misconfigured(format!("limits section: {e}")))?,
        };
        let ip_explicit = s.client_ip.is_some();
        let (ip_source, trusted_hops) = match s.client_ip {
            None => (IpSource::XForwardedFor, 1),
            Some(c) => {
                let hops = c.trusted_hops.unwrap_or(1);
                if c.trusted_hops.is_some() && c.source != IpSource::XForwardedFor {
                    return Err(misconfigured(
                        "limits.client_ip.trusted_hops applies to x-forwarded-for only",
                    ));
                }
                if !(1..=16).contains(&hops) {
                    return Err(misconfigured(
                        "limits.client_ip.trusted_hops must be 1..=16",
                    ));
                }
                (c.source, hops)
            }
        };
        let max_keys = s.max_keys.unwrap_or(DEFAULT_MAX_KEYS);
        if max_keys == 0 || max_keys > MAX_MAX_KEYS {
            return Err(misconfigured(format!(
                "limits.max_keys must be 1..={MAX_MAX_KEYS}"
            )));
        }
        let classes = match s.classes {
            None => default_classes(),
            Some(raw) => {
                let mut out = BTreeMap::new();
                for (class, rules) in raw {
                    if !valid_rule_name(&class) {
                        return Err(misconfigured(format!(
                            "limits: invalid class name {class:?}"
                        )));
                    }
                    let mut list: Vec<Rule> = Vec::new();
                    for r in rules {
                        if !valid_rule_name(&r.name) || list.iter().any(|x| x.name == r.name) {
                            return Err(misconfigured(format!(
                                "limits.{class}: invalid or duplicate rule name {:?}",
                                r.name
                            )));
                        }
                        if r.by.is_empty()
                            || r.by
                                .iter()
                                .enumerate()
                                .any(|(i, p)| r.by.iter().skip(i + 1).any(|q| q == p))
                        {
                            return Err(misconfigured(format!(
                                "limits.{class}.{}: `by` must list distinct key parts",
                                r.name
                            )));
                        }
                        check_limit("limit", r.limit)?;
                        for n in r.roles.values() {
                            check_limit("role limit", *n)?;
                        }
                        if r.window_s == 0 || r.window_s > MAX_WINDOW_S {
                            return Err(misconfigured(format!(
                                "limits.{class}.{}: window_s must be 1..=604800",
                                r.name
                            )));
                        }
                        list.push(Rule {
                            name: r.name,
                            by: r.by,
                            limit: r.limit,
                            window_s: r.window_s,
                            global: r.global,
                            roles: r.roles,
                        });
                    }
                    out.insert(class, list);
                }
                out
            }
        };
        let default_class = s.default_class.unwrap_or_else(|| "standard".into());
        if !classes.contains_key(&default_class) {
            return Err(misconfigured(format!(
                "limits.default_class {default_class:?} is not a class"
            )));
        }
        Ok(LimitsConfig {
            ip_source,
            trusted_hops,
            ip_explicit,
            max_keys,
            fail_open: matches!(s.on_db_error, Some(FailMode::Open)),
            default_class,
            classes,
        })
    }

    /// Validates a route's `limits` entry (`None`/`null` = the default class).
    pub fn route(&self, section: Option<&Value>) -> Result<RouteLimits, Denial> {
        let s: RouteSection = match section {
            None | Some(Value::Null) => RouteSection::default(),
            Some(v) => RouteSection::deserialize(v)
                .map_err(|e| misconfigured(format!("route limits: {e}")))?,
        };
        if s.exempt {
            if s.class.is_some() {
                return Err(misconfigured(
                    "route limits: exempt and class are exclusive",
                ));
            }
            return Ok(RouteLimits {
                rules: Vec::new(),
                exempt: true,
            });
        }
        let class = s.class.unwrap_or_else(|| self.default_class.clone());
        let rules = self
            .classes
            .get(&class)
            .ok_or_else(|| misconfigured(format!("route limits: unknown class {class:?}")))?;
        Ok(RouteLimits {
            rules: rules.clone(),
            exempt: false,
        })
    }

    /// Applies the deployment's `EDGEGUARD_CLIENT_IP` (it wins over the
    /// policy's `client_ip`); without either, the platform default.
    pub fn with_env(mut self, env: &BTreeMap<String, String>) -> Result<Self, Denial> {
        let raw = env
            .get("EDGEGUARD_CLIENT_IP")
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty());
        match raw {
            Some(v) => {
                let (name, hops) = match v.split_once(':') {
                    Some((n, h)) => (n, Some(h)),
                    None => (v.as_str(), None),
                };
                let source = match name {
                    "x-forwarded-for" => IpSource::XForwardedFor,
                    "cf-connecting-ip" => IpSource::CfConnectingIp,
                    "x-real-ip" => IpSource::XRealIp,
                    "remote_addr" => IpSource::RemoteAddr,
                    _ => return Err(misconfigured(
                        "EDGEGUARD_CLIENT_IP must be x-forwarded-for[:hops], cf-connecting-ip, x-real-ip or remote_addr",
                    )),
                };
                let hops = match (source, hops) {
                    (_, None) => 1,
                    (IpSource::XForwardedFor, Some(h)) => match h.parse::<u8>() {
                        Ok(n) if (1..=16).contains(&n) => n,
                        _ => {
                            return Err(misconfigured(
                                "EDGEGUARD_CLIENT_IP: x-forwarded-for hops must be 1..=16",
                            ))
                        }
                    },
                    (_, Some(_)) => {
                        return Err(misconfigured(
                            "EDGEGUARD_CLIENT_IP: hops apply to x-forwarded-for only",
                        ))
                    }
                };
                self.ip_source = source;
                self.trusted_hops = hops;
                self.ip_explicit = true;
            }
            None if !self.ip_explicit => {
                let hosted = crate::app_env::PLATFORM_MARKERS
                    .iter()
                    .any(|m| env.get(*m).is_some_and(|v| !v.trim().is_empty()));
                if hosted {
                    self.ip_source = IpSource::CfConnectingIp;
                    self.trusted_hops = 1;
                }
            }
            None => {}
        }
        Ok(self)
    }

    /// The configured source as `EDGEGUARD_CLIENT_IP` spells it.
    pub fn ip_source_name(&self) -> String {
        match self.ip_source {
            IpSource::XForwardedFor => format!("x-forwarded-for:{}", self.trusted_hops),
            IpSource::CfConnectingIp => "cf-connecting-ip".into(),
            IpSource::XRealIp => "x-real-ip".into(),
            IpSource::RemoteAddr => "remote_addr".into(),
        }
    }

    /// The header the client IP is expected in (`None` for `remote_addr`).
    pub fn ip_header(&self) -> Option<&'static str> {
        match self.ip_source {
            IpSource::XForwardedFor => Some("x-forwarded-for"),
            IpSource::CfConnectingIp => Some("cf-connecting-ip"),
            IpSource::XRealIp => Some("x-real-ip"),
            IpSource::RemoteAddr => None,
        }
    }

    /// The client IP key from the request facts, per the configured source;
    /// `None` when no trustworthy address is there (see the module docs).
    pub fn client_ip(&self, facts: &Facts) -> Option<String> {
        let header = |name: &str| {
            facts
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let public = |s: &str| s.parse::<IpAddr>().ok().filter(is_public_ip).and_then(|_| ip_key(s));
        match self.ip_source {
            IpSource::XForwardedFor => header("x-forwarded-for").and_then(|v| {
                let hops: Vec<&str> = v.split(',').map(str::trim).collect();
                hops.len()
                    .checked_sub(usize::from(self.trusted_hops))
                    .and_then(|i| hops.get(i).copied())
                    .and_then(public)
            }),
            IpSource::CfConnectingIp => header("cf-connecting-ip").and_then(|v| public(v.trim())),
            IpSource::XRealIp => header("x-real-ip").and_then(|v| public(v.trim())),
            IpSource::RemoteAddr => facts
                .remote_addr
                .as_deref()
                .map(str::trim)
                .filter(|a| a.parse::<IpAddr>().is_ok_and(|ip| !ip.is_unspecified()))
                .and_then(ip_key),
        }
    }
}

/// Whether an address can be a client on the internet: not private,
/// loopback, link-local, shared (100.64/10), unspecified, broadcast,
/// multicast, reserved or unique-local. (The documentation ranges count as
/// public: they never reach a server, and examples and tests use them.)
pub fn is_public_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(&IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Normalises an IP address for keying: IPv4 as is, IPv6 by its /64 prefix.
pub fn ip_key(s: &str) -> Option<String> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_string()),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4.to_string());
            }
            let seg = v6.segments();
            Some(format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                seg[0], seg[1], seg[2], seg[3]
            ))
        }
    }
}

/// The rules that apply to one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteLimits {
    rules: Vec<Rule>,
    exempt: bool,
}

impl RouteLimits {
    /// Whether the route is exempt from rate limiting.
    pub fn is_exempt(&self) -> bool {
        self.exempt
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// What the shim knows about a request, as far as limits are concerned.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// Request headers relevant to the client IP (lower-case names).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
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
    fn exempt() -> Self {
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

/// What the Postgres limiter said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobalAnswer {
    /// One result per global check.
    Results(Vec<GlobalResult>),
    /// The database could not be reached.
    Unavailable,
}

#[derive(Clone, Debug)]
struct Slot {
    /// Theoretical arrival time, in milliseconds scaled by the rule's limit.
    tat: i128,
    /// Last-use sequence number for eviction.
    seq: u64,
    /// When a refusal on this key was last recorded (ms).
    last_event_ms: Option<i64>,
}

/// The in-isolate limiter: bounded state keyed by hashed (rule, limit, window, key).
#[derive(Debug)]
pub struct Limiter {
    config: LimitsConfig,
    slots: HashMap<[u8; 32], Slot>,
    order: BTreeMap<u64, [u8; 32]>,
    seq: u64,
    ip_noted: bool,
}

fn ceil_div(a: i128, b: i128) -> i128 {
    if b <= 0 || a <= 0 {
        0
    } else {
        (a + b - 1) / b
    }
}

fn to_u64(v: i128) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

fn to_u32(v: i128) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

impl Limiter {
    /// A limiter with no state.
    pub fn new(config: LimitsConfig) -> Self {
        Limiter {
            config,
            slots: HashMap::new(),
            order: BTreeMap::new(),
            seq: 0,
            ip_noted: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// How many (rule, key) pairs are tracked.
    pub fn tracked_keys(&self) -> usize {
        self.slots.len()
    }

    /// The memory the tracked pairs take, on the high side: the hash table
    /// as allocated, and the recency order with its nodes half full. At most
    /// `max_keys ×` [`LIMITER_MAX_BYTES_PER_KEY`].
    pub fn approx_bytes(&self) -> usize {
        let order_entry = 2 * (std::mem::size_of::<u64>() + std::mem::size_of::<[u8; 32]>());
        hash_table_bytes::<([u8; 32], Slot)>(self.slots.capacity())
            .saturating_add(self.order.len().saturating_mul(order_entry))
    }

    /// The key material of a rule for a request, or `None` if the rule does not apply.
    fn key_for(&self, rule: &Rule, limit: u32, facts: &Facts) -> Option<[u8; 32]> {
        let mut h = Sha256::new();
        h.update(b"edgeguard-rl-v1\0");
        h.update(rule.name.as_bytes());
        h.update(format!("\0{limit}\0{}\0", rule.window_s).as_bytes());
        for part in &rule.by {
            let (tag, value) = match part {
                // No trustworthy IP: counted by who the caller is, never with everyone else.
                KeyPart::Ip => match self.config.client_ip(facts) {
                    Some(ip) => ("ip", Some(ip)),
                    None => facts
                        .user_id
                        .clone()
                        .filter(|v| !v.is_empty())
                        .map(|u| ("ip-unknown-user", Some(u)))
                        .or_else(|| {
                            facts
                                .api_key_id
                                .clone()
                                .filter(|v| !v.is_empty())
                                .map(|k| ("ip-unknown-api-key", Some(k)))
                        })
                        .or_else(|| {
                            facts
                                .tenant_id
                                .clone()
                                .filter(|v| !v.is_empty())
                                .map(|t| ("ip-unknown-tenant", Some(t)))
                        })
                        .unwrap_or(("ip", None)),
                },
                KeyPart::User => ("user", facts.user_id.clone()),
                KeyPart::ApiKey => ("api_key", facts.api_key_id.clone()),
                KeyPart::Tenant => ("tenant", facts.tenant_id.clone()),
            };
            let value = value.filter(|v| !v.is_empty())?;
            h.update(tag.as_bytes());
            h.update(b"=");
            h.update((value.len() as u64).to_be_bytes());
            h.update(value.as_bytes());
            h.update(b"\0");
        }
        Some(h.finalize().into())
    }

    fn touch(&mut self, key: [u8; 32]) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(slot) = self.slots.get_mut(&key) {
            self.order.remove(&slot.seq);
            slot.seq = seq;
            self.order.insert(seq, key);
        }
    }

    fn insert(&mut self, key: [u8; 32], tat: i128) {
        if !self.slots.contains_key(&key) {
            while self.slots.len() >= self.config.max_keys {
                let Some((&oldest, _)) = self.order.iter().next() else {
                    break;
                };
                if let Some(k) = self.order.remove(&oldest) {
                    self.slots.remove(&k);
                }
            }
            self.seq += 1;
            self.slots.insert(
                key,
                Slot {
                    tat,
                    seq: self.seq,
                    last_event_ms: None,
                },
            );
            self.order.insert(self.seq, key);
        } else {
            if let Some(s) = self.slots.get_mut(&key) {
                s.tat = tat;
            }
            self.touch(key);
        }
    }

    /// Whether a refusal on `key` should be recorded now (at most once per window).
    fn should_record(&mut self, key: [u8; 32], window_ms: i64, now_ms: i64) -> bool {
        if !self.slots.contains_key(&key) {
            self.insert(key, 0);
        }
        match self.slots.get_mut(&key) {
            Some(s) => {
                let due = !matches!(s.last_event_ms, Some(t) if now_ms >= t && now_ms.saturating_sub(t) < window_ms);
                if due {
                    s.last_event_ms = Some(now_ms);
                }
                due
            }
            None => true,
        }
    }

    /// Checks the local rules of a route and lists its global checks.
    pub fn check(&mut self, route: &RouteLimits, facts: &Facts, now_ms: i64) -> LimitDecision {
        if route.exempt {
            return LimitDecision::exempt();
        }
        let role = facts.role.as_deref();
        let mut policies = Vec::new();
        let mut global = Vec::new();
        let mut updates: Vec<([u8; 32], i128)> = Vec::new();
        let mut refused: Option<(String, u64, [u8; 32], i64)> = None;
        for rule in &route.rules {
            let limit = rule.limit_for(role);
            let Some(key) = self.key_for(rule, limit, facts) else {
                continue;
            };
            if rule.global {
                let hex: String = key.iter().take(16).map(|b| format!("{b:02x}")).collect();
                global.push(GlobalCheck {
                    rule: rule.name.clone(),
                    key: format!("{}:{hex}", rule.name),
                    limit,
                    window_s: rule.window_s,
                });
                continue;
            }
            let l = i128::from(limit);
            let window_ms = i128::from(rule.window_s) * 1000;
            let now = i128::from(now_ms) * l;
            let span = window_ms * l;
            let tat = self.slots.get(&key).map_or(now, |s| s.tat.max(now));
            let new_tat = tat + window_ms;
            if new_tat - now <= span {
                let remaining = to_u32((span - (new_tat - now)) / window_ms);
                let reset_s = to_u64(ceil_div(new_tat - now, l * 1000));
                policies.push(PolicyState {
                    name: rule.name.clone(),
                    limit,
                    window_s: rule.window_s,
                    remaining,
                    reset_s,
                });
                updates.push((key, new_tat));
            } else {
                let retry_s = to_u64(ceil_div(ceil_div(new_tat - span - now, l), 1000));
                let reset_s = to_u64(ceil_div(tat - now, l * 1000));
                policies.push(PolicyState {
                    name: rule.name.clone(),
                    limit,
                    window_s: rule.window_s,
                    remaining: 0,
                    reset_s,
                });
                if !matches!(&refused, Some(r) if retry_s <= r.1) {
                    refused = Some((
                        rule.name.clone(),
                        retry_s,
                        key,
                        i64::from(rule.window_s) * 1000,
                    ));
                }
            }
        }
        let ip_note = if !self.ip_noted
            && route.rules.iter().any(|r| r.by.contains(&KeyPart::Ip))
            && self.config.client_ip(facts).is_none()
        {
            self.ip_noted = true;
            Some(match self.config.ip_header() {
                Some(h) => format!(
                    "no trustworthy client IP: header {h} missing or not a public address (EDGEGUARD_CLIENT_IP={}); IP limits count such requests by user, API key or tenant",
                    self.config.ip_source_name()
                ),
                None => "no trustworthy client IP: no peer address (EDGEGUARD_CLIENT_IP=remote_addr); IP limits count such requests by user, API key or tenant".into(),
            })
        } else {
            None
        };
        match refused {
            Some((name, retry_s, key, window_ms)) => {
                let record_event = self.should_record(key, window_ms, now_ms);
                LimitDecision {
                    allowed: false,
                    retry_after_s: retry_s.max(1),
                    exceeded: Some(name),
                    record_event,
                    policies,
                    global: Vec::new(),
                    ip_note,
                }
            }
            None => {
                for (key, tat) in updates {
                    self.insert(key, tat);
                }
                LimitDecision {
                    allowed: true,
                    retry_after_s: 0,
                    exceeded: None,
                    record_event: false,
                    policies,
                    global,
                    ip_note,
                }
            }
        }
    }

    /// Folds the Postgres limiter's answers for `local.global` into the final decision.
    ///
    /// Results must answer exactly the listed checks (else `INTERNAL`). When the
    /// database is unavailable the request is refused with `UNAVAILABLE`
    /// (`on_db_error: closed`, the default) or proceeds under the local limits
    /// (`open`).
    pub fn apply_global(
        &mut self,
        local: &LimitDecision,
        answer: &GlobalAnswer,
        now_ms: i64,
    ) -> Result<LimitDecision, Denial> {
        let mut out = local.clone();
        out.global = Vec::new();
        if !local.allowed || local.global.is_empty() {
            return Ok(out);
        }
        let results = match answer {
            GlobalAnswer::Unavailable => {
                if self.config.fail_open {
                    return Ok(out);
                }
                return Err(Denial::new(
                    ErrorCode::Unavailable,
                    "rate limiter database unavailable",
                ));
            }
            GlobalAnswer::Results(r) => r,
        };
        if results.len() != local.global.len() {
            return Err(Denial::new(
                ErrorCode::Internal,
                "rate limiter answered a different set of checks",
            ));
        }
        let mut refused: Option<(String, u64, String, u32)> = None;
        for check in &local.global {
            let r = results.iter().find(|r| r.key == check.key).ok_or_else(|| {
                Denial::new(
                    ErrorCode::Internal,
                    "rate limiter answered a different set of checks",
                )
            })?;
            out.policies.push(PolicyState {
                name: check.rule.clone(),
                limit: check.limit,
                window_s: check.window_s,
                remaining: if r.allowed {
                    r.remaining.min(check.limit)
                } else {
                    0
                },
                reset_s: r.reset_s,
            });
            if !r.allowed {
                let retry = r.retry_after_s.unwrap_or(r.reset_s).max(1);
                if !matches!(&refused, Some(x) if retry <= x.1) {
                    refused = Some((check.rule.clone(), retry, check.key.clone(), check.window_s));
                }
            }
        }
        if let Some((rule, retry, key, window_s)) = refused {
            let mut h = Sha256::new();
            h.update(b"edgeguard-rl-global\0");
            h.update(key.as_bytes());
            let k: [u8; 32] = h.finalize().into();
            out.record_event = self.should_record(k, i64::from(window_s) * 1000, now_ms);
            out.allowed = false;
            out.retry_after_s = retry;
            out.exceeded = Some(rule);
        }
        Ok(out)
    }
}

/// How long one recorded identity denial silences the same (route, code, client) (ms).
pub const DENIAL_EVENT_WINDOW_MS: i64 = 60_000;

/// The identity denial codes that become security events (others never do).
pub const IDENTITY_DENIAL_CODES: [&str; 5] = [
    "MISSING_CREDENTIALS",
    "INVALID_JWT",
    "INVALID_API_KEY",
    "FORBIDDEN",
    "TENANT_MISMATCH",
];

/// How many (route, code, client) keys the denial recorder tracks at most.
pub const DENIAL_EVENT_MAX_KEYS: usize = 10_000;

/// The most memory the denial recorder takes (1.5 MiB): its keys are
/// fixed-size hashes (32 bytes and a time), so [`DENIAL_EVENT_MAX_KEYS`] of
/// them in a hash table of at most 32 768 buckets take ≤ 1.3 MiB, whatever
/// the routes, codes or clients (docs/memory.md).
pub const DENIAL_EVENT_MAX_BYTES: usize = 3 * 512 * 1024;

/// Decides which identity denials become security events: at most one per
/// (route, code, client IP key) per [`DENIAL_EVENT_WINDOW_MS`], so a flood of
/// bad credentials writes one row, not one per request. Memory is bounded by
/// [`DENIAL_EVENT_MAX_KEYS`]; when every slot is live the denial is not
/// recorded (the writes stay bounded too).
#[derive(Debug, Default)]
pub struct DenialRecorder {
    last: HashMap<[u8; 32], i64>,
}

impl DenialRecorder {
    /// A recorder with no state.
    pub fn new() -> Self {
        DenialRecorder::default()
    }

    /// How many keys are tracked.
    pub fn tracked_keys(&self) -> usize {
        self.last.len()
    }

    /// The memory the tracked keys take (the hash table as allocated); at
    /// most [`DENIAL_EVENT_MAX_BYTES`].
    pub fn approx_bytes(&self) -> usize {
        hash_table_bytes::<([u8; 32], i64)>(self.last.capacity())
    }

    /// Whether the denial `code` on `route` from `client` (an IP key, or
    /// `None` when unknown) at `now_ms` should be recorded. Codes outside
    /// [`IDENTITY_DENIAL_CODES`] never are.
    pub fn should_record(
        &mut self,
        route: &str,
        code: &str,
        client: Option<&str>,
        now_ms: i64,
    ) -> bool {
        if !IDENTITY_DENIAL_CODES.contains(&code) {
            return false;
        }
        let mut h = Sha256::new();
        h.update(b"edgeguard-denial-v1\0");
        for part in [route, code, client.unwrap_or("")] {
            h.update(part.as_bytes());
            h.update(b"\0");
        }
        let key: [u8; 32] = h.finalize().into();
        let live = |at: i64| now_ms.saturating_sub(at) < DENIAL_EVENT_WINDOW_MS && at <= now_ms;
        if let Some(at) = self.last.get_mut(&key) {
            if live(*at) {
                return false;
            }
            *at = now_ms;
            return true;
        }
        if self.last.len() >= DENIAL_EVENT_MAX_KEYS {
            self.last.retain(|_, at| live(*at));
            if self.last.len() >= DENIAL_EVENT_MAX_KEYS {
                return false;
            }
        }
        self.last.insert(key, now_ms);
        true
    }
}

#[cfg(test)]
mod denial_recorder_tests {
    use super::*;

    #[test]
    fn many_denials_in_a_window_record_once() {
        let mut r = DenialRecorder::new();
        let recorded = (0..1000)
            .filter(|i| r.should_record("GET /me", "INVALID_JWT", Some("203.0.113.9"), 1_000 + i))
            .count();
        assert_eq!(recorded, 1);
        assert!(!r.should_record(
            "GET /me",
            "INVALID_JWT",
            Some("203.0.113.9"),
            1_000 + DENIAL_EVENT_WINDOW_MS - 1
        ));
        assert!(r.should_record(
            "GET /me",
            "INVALID_JWT",
            Some("203.0.113.9"),
            1_000 + DENIAL_EVENT_WINDOW_MS
        ));
        assert!(!r.should_record(
            "GET /me",
            "INVALID_JWT",
            Some("203.0.113.9"),
            1_001 + DENIAL_EVENT_WINDOW_MS
        ));
    }

    #[test]
    fn route_code_and_client_are_separate_keys() {
        let mut r = DenialRecorder::new();
        assert!(r.should_record("GET /me", "INVALID_JWT", Some("203.0.113.9"), 0));
        assert!(r.should_record("GET /me", "MISSING_CREDENTIALS", Some("203.0.113.9"), 0));
        assert!(r.should_record("GET /admin", "INVALID_JWT", Some("203.0.113.9"), 0));
        assert!(r.should_record("GET /me", "INVALID_JWT", Some("203.0.113.10"), 0));
        assert!(r.should_record("GET /me", "INVALID_JWT", None, 0));
        assert!(!r.should_record("GET /me", "INVALID_JWT", None, 5));
        assert_eq!(r.tracked_keys(), 5);
        assert!(
            !r.should_record("GET /me", "UNAVAILABLE", None, 0),
            "not an identity denial"
        );
        assert_eq!(r.tracked_keys(), 5);
    }

    #[test]
    fn memory_and_writes_stay_bounded() {
        let mut r = DenialRecorder::new();
        let n = i64::try_from(DENIAL_EVENT_MAX_KEYS).unwrap_or(0);
        let recorded = (0..n + 500)
            .filter(|i| r.should_record("GET /me", "INVALID_JWT", Some(&format!("ip{i}")), 0))
            .count();
        assert_eq!(
            recorded, DENIAL_EVENT_MAX_KEYS,
            "full table records nothing new"
        );
        assert_eq!(r.tracked_keys(), DENIAL_EVENT_MAX_KEYS);
        // Next window: stale keys are dropped and new clients are recorded again.
        assert!(r.should_record(
            "GET /me",
            "INVALID_JWT",
            Some("fresh"),
            DENIAL_EVENT_WINDOW_MS
        ));
        assert_eq!(r.tracked_keys(), 1);
    }
}
