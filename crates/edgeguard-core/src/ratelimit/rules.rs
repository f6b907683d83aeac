//! The `limits` policy section: classes of stacked rules, validated once, and
//! the rules that apply to one route.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client_ip::IpSource;
use super::{misconfigured, DEFAULT_MAX_KEYS, MAX_MAX_KEYS};
use crate::json_read::{read_struct, variant, ReadError, ReadJson};
use crate::Denial;
use crate::sorted_map::SortedMap;

/// The largest accepted `limit`.
pub const MAX_LIMIT: u32 = 1_000_000;
/// The longest accepted window (one week).
pub const MAX_WINDOW_S: u32 = 7 * 86_400;

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

impl ReadJson for KeyPart {
    fn read(v: &Value) -> Result<Self, ReadError> {
        use KeyPart::*;
        variant(v, &[("ip", Ip), ("user", User), ("api_key", ApiKey), ("tenant", Tenant)])
    }
}

#[derive(Debug)]
struct ClientIpSection {
    source: IpSource,
    trusted_hops: Option<u8>,
}

read_struct!(ClientIpSection { source: req, trusted_hops: opt });

#[derive(Clone, Copy, Debug)]
enum FailMode {
    Open,
    Closed,
}

impl ReadJson for FailMode {
    fn read(v: &Value) -> Result<Self, ReadError> {
        variant(v, &[("open", FailMode::Open), ("closed", FailMode::Closed)])
    }
}

#[derive(Debug)]
struct RuleSection {
    name: String,
    by: Vec<KeyPart>,
    limit: u32,
    window_s: u32,
    global: bool,
    roles: SortedMap<String, u32>,
}

read_struct!(RuleSection { name: req, by: req, limit: req, window_s: req, global: or_default, roles: or_default });

#[derive(Debug, Default)]
struct LimitsSection {
    client_ip: Option<ClientIpSection>,
    max_keys: Option<usize>,
    on_db_error: Option<FailMode>,
    default_class: Option<String>,
    classes: Option<SortedMap<String, Vec<RuleSection>>>,
}

read_struct!(LimitsSection { client_ip: opt, max_keys: opt, on_db_error: opt, default_class: opt, classes: opt });

#[derive(Debug, Default)]
struct RouteSection {
    class: Option<String>,
    exempt: bool,
}

read_struct!(RouteSection { class: opt, exempt: or_default });

/// One validated limit rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub(super) name: String,
    pub(super) by: Vec<KeyPart>,
    pub(super) limit: u32,
    pub(super) window_s: u32,
    pub(super) global: bool,
    pub(super) roles: SortedMap<String, u32>,
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
        roles: SortedMap::new(),
    }
}

fn default_classes() -> SortedMap<String, Vec<Rule>> {
    let mut m = SortedMap::new();
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
    pub(super) ip_source: IpSource,
    pub(super) trusted_hops: u8,
    /// Whether the IP source was chosen (policy or env) rather than defaulted.
    pub(super) ip_explicit: bool,
    pub(super) max_keys: usize,
    pub(super) fail_open: bool,
    pub(super) default_class: String,
    pub(super) classes: SortedMap<String, Vec<Rule>>,
}

impl LimitsConfig {
    /// Validates a `limits` section (`None`/`null` = defaults).
    pub fn from_value(section: Option<&Value>) -> Result<Self, Denial> {
        let s: LimitsSection = crate::policy::section(section, "limits section")?;
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
                let mut out = SortedMap::new();
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
        let s: RouteSection = crate::policy::section(section, "route limits")?;
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
}

/// The rules that apply to one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteLimits {
    pub(super) rules: Vec<Rule>,
    pub(super) exempt: bool,
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
