//! The in-isolate limiter: GCRA in exact integer arithmetic over bounded,
//! hashed (rule, key) state with least-recently-used eviction.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use super::decision::{Facts, GlobalCheck, LimitDecision, PolicyState};
use super::hash_table_bytes;
use super::rules::{KeyPart, LimitsConfig, Rule, RouteLimits};

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
    pub(super) config: LimitsConfig,
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
    /// `max_keys ×` [`LIMITER_MAX_BYTES_PER_KEY`](super::LIMITER_MAX_BYTES_PER_KEY).
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
    pub(super) fn should_record(&mut self, key: [u8; 32], window_ms: i64, now_ms: i64) -> bool {
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
        // For each admitted rule, its state without this request: what its
        // header reports when another rule refuses (nothing is consumed then).
        let mut uncounted: Vec<(usize, u32, u64)> = Vec::new();
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
                uncounted.push((
                    policies.len(),
                    to_u32((span - (tat - now)) / window_ms),
                    to_u64(ceil_div(tat - now, l * 1000)),
                ));
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
                for (i, remaining, reset_s) in uncounted {
                    policies[i].remaining = remaining;
                    policies[i].reset_s = reset_s;
                }
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
}
