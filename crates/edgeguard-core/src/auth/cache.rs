//! The JWKS cache state machine and the verified-token cache.

use super::keys::{Key, KeySet};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Minimum seconds between two unknown-`kid` refetches.
pub const REFETCH_COOLDOWN_MS: f64 = 30_000.0;
/// Seconds to wait after a failed fetch before asking again.
pub const FAILURE_BACKOFF_MS: f64 = 10_000.0;
/// Default and bounds for the JWKS max-age.
pub const DEFAULT_MAX_AGE_S: u32 = 600;
const MIN_MAX_AGE_S: u32 = 30;
const MAX_MAX_AGE_S: u32 = 86_400;

/// Keys fetched from a URL, with freshness and refetch bookkeeping. The shim
/// only fetches; this decides when.
#[derive(Debug, Default)]
pub struct JwksCache {
    keys: Vec<Key>,
    fingerprint: Option<[u8; 32]>,
    fetched_at_ms: Option<f64>,
    max_age_ms: f64,
    last_failure_ms: Option<f64>,
    last_refetch_ms: Option<f64>,
    generation: u64,
}

impl JwksCache {
    /// A cache pre-filled with inline keys (never stale).
    pub fn inline(set: KeySet) -> Self {
        JwksCache {
            keys: set.keys,
            fetched_at_ms: Some(0.0),
            max_age_ms: f64::INFINITY,
            ..Default::default()
        }
    }
    /// The usable keys.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
    /// Bumped whenever the key set changes; token-cache entries of older generations are dropped.
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// Stale or never fetched, and not within the failure backoff.
    pub fn needs_fetch(&self, now_ms: f64) -> bool {
        if let Some(f) = self.last_failure_ms {
            if now_ms - f < FAILURE_BACKOFF_MS && now_ms >= f {
                return false;
            }
        }
        match self.fetched_at_ms {
            None => true,
            Some(t) => !(now_ms - t < self.max_age_ms && now_ms >= t),
        }
    }
    /// Installs a fetched JWKS. A document with no usable key is refused and
    /// the previous keys stay.
    pub fn set(&mut self, json: &str, max_age_s: u32, now_ms: f64) -> Result<(), String> {
        let set = KeySet::from_json(json).map_err(|e| e.0)?;
        if set.keys.is_empty() {
            self.last_failure_ms = Some(now_ms);
            return Err("JWKS holds no usable key".into());
        }
        let fp: [u8; 32] = Sha256::digest(json.as_bytes()).into();
        if self.fingerprint != Some(fp) {
            self.fingerprint = Some(fp);
            self.keys = set.keys;
            self.generation = self.generation.wrapping_add(1);
        }
        let age = if max_age_s == 0 {
            DEFAULT_MAX_AGE_S
        } else {
            max_age_s.clamp(MIN_MAX_AGE_S, MAX_MAX_AGE_S)
        };
        self.max_age_ms = f64::from(age) * 1000.0;
        self.fetched_at_ms = Some(now_ms);
        self.last_failure_ms = None;
        Ok(())
    }
    /// Records a failed fetch: cached keys are kept, fetching backs off.
    pub fn fetch_failed(&mut self, now_ms: f64) {
        self.last_failure_ms = Some(now_ms);
    }
    /// An unknown `kid` was seen: may the shim refetch now? At most once per cooldown.
    pub fn allow_refetch(&mut self, now_ms: f64) -> bool {
        let ok = match self.last_refetch_ms {
            None => true,
            Some(t) => now_ms - t >= REFETCH_COOLDOWN_MS || now_ms < t,
        };
        if ok {
            self.last_refetch_ms = Some(now_ms);
        }
        ok
    }
}

/// A verified token's claims (or what was built from them) kept for repeat requests.
#[derive(Clone, Debug)]
struct Entry<V> {
    key: Arc<str>,
    claims: V,
    generation: u64,
    tick: u64,
}

/// Bounded LRU of verified tokens keyed by the whole token.
///
/// Lookups compare the complete token bytes (the map's hash only picks the
/// bucket), so two different tokens can never share an entry; only tokens
/// whose signature verified are ever inserted. A hit only skips the signature check:
/// the caller re-runs every claim rule (`exp`, `nbf`, `iat`, `aud`, `iss`)
/// against the current time on each hit, and entries from an older key-set
/// generation are never returned. Lookups and inserts are O(log n): the
/// recency order is kept beside the map, so eviction never scans the cache.
///
/// `V` is what is kept per token: the verified claims, or a value built only
/// from them (the gate keeps the identity and its serialised JSON).
#[derive(Debug)]
pub struct TokenCache<V = Map<String, Value>> {
    map: HashMap<Arc<str>, Entry<V>>,
    order: BTreeMap<u64, Arc<str>>,
    cap: usize,
    tick: u64,
}

impl<V: Clone> TokenCache<V> {
    /// A cache holding at most `cap` tokens.
    pub fn new(cap: usize) -> Self {
        TokenCache {
            map: HashMap::new(),
            order: BTreeMap::new(),
            cap: cap.max(1),
            tick: 0,
        }
    }
    /// Number of cached tokens.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Drops everything.
    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
    /// The cached claims for `token` if verified under `generation`.
    pub fn get(&mut self, token: &str, generation: u64) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.map.get_mut(token)?;
        self.order.remove(&e.tick);
        if e.generation != generation {
            self.map.remove(token);
            return None;
        }
        e.tick = tick;
        self.order.insert(tick, e.key.clone());
        Some(e.claims.clone())
    }
    /// Stores verified claims, evicting the least recently used entry when full.
    pub fn put(&mut self, token: &str, claims: V, generation: u64) {
        self.tick += 1;
        if let Some(old) = self.map.get(token) {
            self.order.remove(&old.tick);
        } else if self.map.len() >= self.cap {
            if let Some((_, oldest)) = self.order.pop_first() {
                self.map.remove(&oldest);
            }
        }
        let key: Arc<str> = token.into();
        self.order.insert(self.tick, key.clone());
        self.map.insert(
            key.clone(),
            Entry {
                key,
                claims,
                generation,
                tick: self.tick,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("sub".into(), Value::String(sub.into()));
        m
    }

    #[test]
    fn exact_token_match_and_generation() {
        let mut c = TokenCache::new(8);
        c.put("a.b.c", claims("u1"), 1);
        assert_eq!(
            c.get("a.b.c", 1).and_then(|m| m.get("sub").cloned()),
            Some(Value::String("u1".into()))
        );
        assert!(c.get("a.b.d", 1).is_none(), "another token never hits");
        assert!(
            c.get("a.b.c", 2).is_none(),
            "older key-set generation dropped"
        );
        assert!(c.is_empty(), "stale entry removed on lookup");
    }

    #[test]
    fn bounded_and_evicts_least_recently_used() {
        let mut c = TokenCache::new(16);
        for i in 0..16 {
            c.put(&format!("t{i}"), claims("u"), 0);
        }
        assert!(c.get("t0", 0).is_some(), "t0 used again: now the newest");
        c.put("new", claims("u"), 0);
        assert!(c.len() <= 16, "bounded: {}", c.len());
        assert!(c.get("t0", 0).is_some(), "recently used survives");
        assert!(c.get("new", 0).is_some(), "new entry present");
        assert!(c.get("t1", 0).is_none(), "least recently used evicted");
        for i in 0..1000 {
            c.put(&format!("x{i}"), claims("u"), 0);
            assert_eq!(c.len(), 16);
        }
        assert_eq!(c.order.len(), 16, "recency order tracks the map");
    }
}
