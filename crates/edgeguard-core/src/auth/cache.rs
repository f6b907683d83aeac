//! The JWKS cache state machine and the verified-token cache.

use super::keys::{Key, KeySet};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Arc;

/// Minimum seconds between two unknown-`kid` refetches.
pub const REFETCH_COOLDOWN_MS: f64 = 30_000.0;
/// How long a granted unknown-`kid` refetch counts as in flight: until the
/// host reports its outcome (or this long), other requests naming a kid the
/// cache does not hold are told to wait for that same fetch instead of being
/// refused by the cooldown. The host shares one fetch per URL, so this never
/// multiplies requests to the JWKS endpoint (docs/memory.md, JWKS).
pub const REFETCH_IN_FLIGHT_MS: f64 = 5_000.0;
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
    /// A granted refetch whose outcome the host has not reported yet.
    refetch_in_flight_ms: Option<f64>,
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
    /// The estimated memory of the cached keys (at most [`super::keys::MAX_KEYS`]
    /// keys; while a new document is installed the old keys live beside the
    /// new ones for a moment, docs/memory.md).
    pub fn approx_bytes(&self) -> usize {
        self.keys.iter().map(Key::approx_bytes).sum()
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
        self.refetch_in_flight_ms = None;
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
        self.refetch_in_flight_ms = None;
        Ok(())
    }
    /// Records a failed fetch: cached keys are kept, fetching backs off.
    pub fn fetch_failed(&mut self, now_ms: f64) {
        self.last_failure_ms = Some(now_ms);
        self.refetch_in_flight_ms = None;
    }
    /// An unknown `kid` was seen: may the shim refetch now? At most once per
    /// cooldown; while that refetch is in flight (not yet reported, at most
    /// [`REFETCH_IN_FLIGHT_MS`]), yes again — the host joins the same fetch,
    /// so a token of a just-published key is not refused because another
    /// request asked first.
    pub fn allow_refetch(&mut self, now_ms: f64) -> bool {
        if let Some(t) = self.refetch_in_flight_ms {
            if now_ms >= t && now_ms - t < REFETCH_IN_FLIGHT_MS {
                return true;
            }
            self.refetch_in_flight_ms = None;
        }
        let ok = match self.last_refetch_ms {
            None => true,
            Some(t) => now_ms - t >= REFETCH_COOLDOWN_MS || now_ms < t,
        };
        if ok {
            self.last_refetch_ms = Some(now_ms);
            self.refetch_in_flight_ms = Some(now_ms);
        }
        ok
    }
}

/// How many trailing bytes of a token place it in the [`TokenCache`]'s table.
const HASHED_TAIL: usize = 32;

/// The token cache's hasher: `RandomState`'s SipHash over a token's length
/// and its last [`HASHED_TAIL`] bytes, the end of its signature. Hashing the
/// whole token (~700 bytes for a Supabase access token) was a large part of
/// a repeated token's check (BENCHMARKS.md, "Cold start and footprint").
/// Only tokens whose signature verified are inserted, so no caller chooses
/// the keys, and a signature's tail spreads them as well as the whole token.
/// Equality still compares whole tokens: the tail only picks the bucket.
#[derive(Clone, Debug, Default)]
struct TailHash(RandomState);

impl BuildHasher for TailHash {
    type Hasher = TailHasher;
    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

/// See [`TailHash`].
#[derive(Debug)]
struct TailHasher(std::hash::DefaultHasher);

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write_usize(bytes.len());
        self.0.write(&bytes[bytes.len().saturating_sub(HASHED_TAIL)..]);
    }
    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// A verified token's claims (or what was built from them) kept for repeat requests.
#[derive(Clone, Debug)]
struct Entry<V> {
    key: Arc<str>,
    claims: V,
    generation: u64,
    tick: u64,
    /// What this entry is accounted as (see [`TokenCache::bytes`]).
    bytes: usize,
}

/// The default byte budget of a [`TokenCache`]: 16 MiB, about 6 % of the
/// platform's 256 MB per-worker memory (docs/memory.md). At a typical ~6 KiB
/// per Supabase access token (token, identity, claims), 16 MiB holds ~2 700
/// tokens: the count cap and the byte budget bind at similar sizes, and a
/// cache of users with huge metadata holds fewer of them instead of more
/// memory.
pub const TOKEN_CACHE_MAX_BYTES: usize = 16 * 1024 * 1024;

/// The default largest entry a [`TokenCache`] keeps: 64 KiB. An 8 KiB token
/// with ordinary claims accounts for 10–30 KiB; a larger entry (claims built
/// to expand in memory) is not cached at all, so its token is verified on
/// every request and evicts nobody.
pub const TOKEN_CACHE_MAX_ENTRY_BYTES: usize = 64 * 1024;

/// An estimate, on the high side, of the heap a parsed JSON value takes:
/// every node's `Value`, string bytes, object entries with the B-tree's slack
/// (nodes at least half full), and arrays with up to half their capacity
/// unused. Iterative, so any depth is safe.
pub fn approx_value_bytes(v: &Value) -> usize {
    let node = std::mem::size_of::<Value>();
    let entry = 2 * (std::mem::size_of::<String>() + node);
    let mut total = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(node);
        match v {
            Value::String(s) => total = total.saturating_add(s.len()),
            Value::Array(a) => {
                total = total.saturating_add(a.len().saturating_mul(node));
                stack.extend(a.iter());
            }
            Value::Object(m) => {
                total = total.saturating_add(approx_map_bytes_shallow(m, entry));
                stack.extend(m.values());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    total
}

/// [`approx_value_bytes`] of an object's claims (the map itself is not a node).
pub fn approx_map_bytes(m: &Map<String, Value>) -> usize {
    let entry = 2 * (std::mem::size_of::<String>() + std::mem::size_of::<Value>());
    m.values().fold(approx_map_bytes_shallow(m, entry), |t, v| {
        t.saturating_add(approx_value_bytes(v))
    })
}

fn approx_map_bytes_shallow(m: &Map<String, Value>, entry: usize) -> usize {
    m.keys().fold(0usize, |t, k| {
        t.saturating_add(entry).saturating_add(k.len())
    })
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
///
/// Bounded by count and by bytes (docs/memory.md): each entry is accounted
/// as its token's length, the value's bytes the caller states, and a fixed
/// overhead for the map, the recency order and the shared key (see
/// [`TokenCache::entry_overhead`]). Least recently used entries are evicted
/// until both the count cap and the byte budget hold; an entry larger than
/// the per-entry cap is not cached.
#[derive(Debug)]
pub struct TokenCache<V = Map<String, Value>> {
    map: HashMap<Arc<str>, Entry<V>, TailHash>,
    order: BTreeMap<u64, Arc<str>>,
    cap: usize,
    max_bytes: usize,
    max_entry_bytes: usize,
    bytes: usize,
    tick: u64,
}

impl<V: Clone> TokenCache<V> {
    /// A cache holding at most `cap` tokens, at most `max_bytes` accounted
    /// bytes, and no entry above `max_entry_bytes` (itself at most `max_bytes`).
    pub fn new(cap: usize, max_bytes: usize, max_entry_bytes: usize) -> Self {
        TokenCache {
            map: HashMap::default(),
            order: BTreeMap::new(),
            cap: cap.max(1),
            max_bytes,
            max_entry_bytes: max_entry_bytes.min(max_bytes),
            bytes: 0,
            tick: 0,
        }
    }
    /// What every entry costs besides its token and value: its slot in the
    /// hash map (with the table's unused slack, up to half), its place in the
    /// recency order (B-tree nodes at least half full), and the reference
    /// counts of the shared key.
    pub fn entry_overhead() -> usize {
        use std::mem::size_of;
        2 * (size_of::<(Arc<str>, Entry<V>)>() + 1)
            + 2 * (size_of::<u64>() + size_of::<Arc<str>>())
            + 2 * size_of::<usize>()
    }
    /// Number of cached tokens.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// The accounted bytes of every cached entry; never above the budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Drops everything.
    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
        self.bytes = 0;
    }
    fn remove(&mut self, token: &str) {
        if let Some(e) = self.map.remove(token) {
            self.order.remove(&e.tick);
            self.bytes = self.bytes.saturating_sub(e.bytes);
        }
    }
    /// The cached claims for `token` if verified under `generation`.
    pub fn get(&mut self, token: &str, generation: u64) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.map.get_mut(token)?;
        if e.generation != generation {
            self.remove(token);
            return None;
        }
        self.order.remove(&e.tick);
        e.tick = tick;
        self.order.insert(tick, e.key.clone());
        Some(e.claims.clone())
    }
    /// Stores verified claims, `value_bytes` being what the value takes
    /// besides its inline size (its heap). Least recently used entries are
    /// evicted until the count cap and the byte budget hold. Returns whether
    /// the entry was cached: an entry above the per-entry cap is not.
    pub fn put(&mut self, token: &str, claims: V, value_bytes: usize, generation: u64) -> bool {
        self.remove(token);
        let bytes = Self::entry_overhead()
            .saturating_add(token.len())
            .saturating_add(value_bytes);
        if bytes > self.max_entry_bytes {
            return false;
        }
        while self.map.len() >= self.cap || self.bytes.saturating_add(bytes) > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.map.remove(&oldest) {
                self.bytes = self.bytes.saturating_sub(e.bytes);
            }
        }
        self.tick += 1;
        let key: Arc<str> = token.into();
        self.order.insert(self.tick, key.clone());
        self.map.insert(
            key.clone(),
            Entry {
                key,
                claims,
                generation,
                tick: self.tick,
                bytes,
            },
        );
        self.bytes = self.bytes.saturating_add(bytes);
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_kid_joins_a_refetch_in_flight_and_is_refused_after_its_outcome() {
        let mut c = JwksCache::default();
        assert!(c.allow_refetch(1_000.0));
        // In flight: a second request is told to wait for the same fetch.
        assert!(c.allow_refetch(1_500.0));
        c.fetch_failed(2_000.0);
        // Outcome reported: the cooldown applies.
        assert!(!c.allow_refetch(2_500.0));
        assert!(c.allow_refetch(1_000.0 + REFETCH_COOLDOWN_MS));
        // A host that never reports: the in-flight window ends by itself.
        let t = 1_000.0 + REFETCH_COOLDOWN_MS;
        assert!(c.allow_refetch(t + REFETCH_IN_FLIGHT_MS - 1.0));
        assert!(!c.allow_refetch(t + REFETCH_IN_FLIGHT_MS));
    }

    use super::*;

    fn claims(sub: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("sub".into(), Value::String(sub.into()));
        m
    }

    #[test]
    fn exact_token_match_and_generation() {
        let mut c = TokenCache::new(8, 1 << 20, 1 << 16);
        c.put("a.b.c", claims("u1"), 0, 1);
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
    fn tokens_sharing_their_hashed_tail_stay_apart() {
        let mut c = TokenCache::new(64, 1 << 20, 1 << 16);
        let tail = "s".repeat(HASHED_TAIL);
        let tokens: Vec<String> = (0..40).map(|i| format!("h.p{i}.{tail}")).collect();
        for (i, t) in tokens.iter().enumerate() {
            assert!(c.put(t, claims(&format!("u{i}")), 0, 1));
        }
        assert_eq!(c.len(), 40);
        for (i, t) in tokens.iter().enumerate() {
            let sub = c.get(t, 1).and_then(|m| m.get("sub").cloned());
            assert_eq!(sub, Some(Value::String(format!("u{i}"))), "{t}");
        }
        assert!(c.get(&format!("h.p40.{tail}"), 1).is_none(), "same tail, another token");
        assert!(c.get(&tail, 1).is_none(), "the tail alone");
    }

    #[test]
    fn bounded_and_evicts_least_recently_used() {
        let mut c = TokenCache::new(16, 1 << 20, 1 << 16);
        for i in 0..16 {
            c.put(&format!("t{i}"), claims("u"), 0, 0);
        }
        assert!(c.get("t0", 0).is_some(), "t0 used again: now the newest");
        c.put("new", claims("u"), 0, 0);
        assert!(c.len() <= 16, "bounded: {}", c.len());
        assert!(c.get("t0", 0).is_some(), "recently used survives");
        assert!(c.get("new", 0).is_some(), "new entry present");
        assert!(c.get("t1", 0).is_none(), "least recently used evicted");
        for i in 0..1000 {
            c.put(&format!("x{i}"), claims("u"), 0, 0);
            assert_eq!(c.len(), 16);
        }
        assert_eq!(c.order.len(), 16, "recency order tracks the map");
    }

    #[test]
    fn bounded_by_bytes_and_oversized_entries_are_not_cached() {
        let o = TokenCache::<Map<String, Value>>::entry_overhead();
        // Room for three entries of 1 000 value bytes (and a 1-byte token each).
        let mut c = TokenCache::new(100, 3 * (o + 1_001), 2 * (o + 1_001));
        for t in ["a", "b", "c"] {
            assert!(c.put(t, claims("u"), 1_000, 0));
        }
        assert_eq!((c.len(), c.bytes()), (3, 3 * (o + 1_001)));
        assert!(c.get("a", 0).is_some(), "a used again");
        assert!(c.put("d", claims("u"), 1_000, 0));
        assert!(
            c.get("b", 0).is_none(),
            "the least recently used went for the bytes"
        );
        assert_eq!((c.len(), c.bytes()), (3, 3 * (o + 1_001)));
        // One large entry takes the room of two.
        assert!(c.put("e", claims("u"), 2_001 + o, 0));
        assert!(c.bytes() <= 3 * (o + 1_001));
        assert_eq!(c.len(), 2, "two evicted for it");
        // Above the per-entry cap: not cached, nothing evicted.
        let before = (c.len(), c.bytes());
        assert!(!c.put("f", claims("u"), 10_000, 0));
        assert!(c.get("f", 0).is_none());
        assert_eq!((c.len(), c.bytes()), before);
        // Replacing, dropping a stale generation and clearing keep the account exact.
        assert!(c.put("e", claims("u"), 10, 0));
        assert_eq!(c.bytes(), before.1 - (o + 1 + 2_001 + o) + (o + 1 + 10));
        let sum: usize = c.map.values().map(|e| e.bytes).sum();
        assert_eq!(c.bytes(), sum);
        assert!(c.get("e", 1).is_none());
        assert_eq!(c.bytes(), c.map.values().map(|e| e.bytes).sum::<usize>());
        c.clear();
        assert_eq!((c.len(), c.bytes()), (0, 0));
    }

    #[test]
    fn value_bytes_count_what_parsing_builds() {
        let small = approx_value_bytes(&serde_json::json!({"a": "x"}));
        let text = approx_value_bytes(&serde_json::json!({"a": "x".repeat(5_000)}));
        assert!(text >= small + 4_999, "string bytes counted");
        // Small values cost far more than their JSON: 2 bytes of "0," are a whole Value.
        let zeros = approx_value_bytes(&serde_json::json!(vec![0; 3_000]));
        assert!(zeros >= 3_000 * std::mem::size_of::<Value>(), "{zeros}");
        // Deep nesting is counted without recursion.
        let mut deep = Value::Null;
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert!(approx_value_bytes(&deep) >= 100_000 * std::mem::size_of::<Value>());
        // Dropping a 100 000-deep value recurses in serde_json; leak it in the test instead.
        std::mem::forget(deep);
    }
}
