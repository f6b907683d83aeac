//! A map and a set kept as one sorted `Vec`, for the small collections a
//! policy builds once and reads per request (routes, rate-limit classes,
//! schema properties, permission sets, path parameters).
//!
//! They iterate in key order like `BTreeMap`/`BTreeSet`, look up by binary
//! search, and insert by shifting: right for tens of entries, wrong for
//! thousands (the token cache and the limiter keep their own structures).
//! Input a client controls in size and order (form fields, query
//! parameters) goes through [`SortedMap::from_pairs`], one sort, never
//! through `insert` one by one: descending keys would make that quadratic.
//! Each `BTreeMap<K, V>` instantiation brought its own node code to the
//! pipeline's wasm (insert, split, merge, drop: ~7 KB a type); these are a
//! binary search and a `Vec` (docs/architecture.md, "Footprint").

use std::borrow::Borrow;
use std::fmt;

/// A map sorted by key, without duplicates.
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// A map of `pairs` given in any order, in O(n log n): a key given more
    /// than once keeps its first value, and each later occurrence is
    /// returned (in key order).
    pub fn from_pairs(mut pairs: Vec<(K, V)>) -> (Self, Vec<K>) {
        // stable: among equal keys the first given stays first
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries: Vec<(K, V)> = Vec::with_capacity(pairs.len());
        let mut repeated = Vec::new();
        for (k, v) in pairs {
            match entries.last() {
                Some((last, _)) if *last == k => repeated.push(k),
                _ => entries.push((k, v)),
            }
        }
        (SortedMap { entries }, repeated)
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The value under `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value under `key`, mutably.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }
}

impl<K, V> SortedMap<K, V> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Keeps the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = SortedMap::new();
        m.extend(iter);
        m
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(a: [(K, V); N]) -> Self {
        a.into_iter().collect()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'de, K, V> serde::Deserialize<'de> for SortedMap<K, V>
where
    K: serde::Deserialize<'de> + Ord,
    V: serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K, V> serde::de::Visitor<'de> for Visit<K, V>
        where
            K: serde::Deserialize<'de> + Ord,
            V: serde::Deserialize<'de>,
        {
            type Value = SortedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut m = SortedMap::new();
                while let Some((k, v)) = a.next_entry()? {
                    m.insert(k, v);
                }
                Ok(m)
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for SortedMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// A set sorted, without duplicates.
#[derive(Clone, PartialEq, Eq)]
pub struct SortedSet<T> {
    items: Vec<T>,
}

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet { items: Vec::new() }
    }
}

impl<T: Ord> SortedSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `item`; false when it was present.
    pub fn insert(&mut self, item: T) -> bool {
        match self.items.binary_search(&item) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, item);
                true
            }
        }
    }

    /// Whether `item` is present.
    pub fn contains<Q: Ord + ?Sized>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.items
            .binary_search_by(|x| x.borrow().cmp(item))
            .is_ok()
    }
}

impl<T> SortedSet<T> {
    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The items in order, as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

impl<T: Ord> FromIterator<T> for SortedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut s = SortedSet::new();
        s.extend(iter);
        s
    }
}

impl<T: Ord> Extend<T> for SortedSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.insert(x);
        }
    }
}

impl<T> IntoIterator for SortedSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T: fmt::Debug> fmt::Debug for SortedSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    // The same operations on a BTreeMap and a SortedMap give the same map.
    #[test]
    fn behaves_like_btree_map() {
        let mut b = BTreeMap::new();
        let mut s = SortedMap::new();
        let mut x: u32 = 7;
        for _ in 0..2000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let k = (x >> 16) % 64;
            match x % 3 {
                0 => assert_eq!(b.remove(&k), s.remove(&k)),
                _ => assert_eq!(b.insert(k, x), s.insert(k, x)),
            }
            assert_eq!(b.get(&k), s.get(&k));
            assert_eq!(b.contains_key(&(k + 1)), s.contains_key(&(k + 1)));
            assert_eq!(b.len(), s.len());
        }
        assert!(b.iter().eq(s.iter()));
        let from: SortedMap<_, _> = b.clone().into_iter().rev().collect();
        assert!(from.into_iter().eq(b.into_iter()));
    }

    // Pairs in any order give the map of their first occurrences, and every
    // later occurrence is reported.
    #[test]
    fn from_pairs_keeps_the_first_and_reports_repeats() {
        let pairs: Vec<(String, u32)> =
            [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("b", 5), ("a", 6)]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect();
        let (m, repeated) = SortedMap::from_pairs(pairs);
        let got: Vec<(&str, u32)> = m.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(got, [("a", 2), ("b", 1), ("c", 4)]);
        assert_eq!(repeated, ["a", "b", "b"]);
        // many keys in descending order (the order `insert` would be quadratic for)
        let n = 50_000u32;
        let (m, repeated) = SortedMap::from_pairs((0..n).rev().map(|i| (i, i)).collect());
        assert!(repeated.is_empty());
        assert_eq!(m.len(), n as usize);
        assert!(m.keys().copied().eq(0..n));
    }

    #[test]
    fn set_is_sorted_without_duplicates() {
        let words = ["b", "a", "c", "a", "b"];
        let s: SortedSet<String> = words.iter().map(|w| w.to_string()).collect();
        let b: BTreeSet<String> = words.iter().map(|w| w.to_string()).collect();
        assert_eq!(s.into_vec(), b.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn deserialises_last_duplicate_wins() {
        let m: SortedMap<String, u32> = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(
            m.iter().collect::<Vec<_>>(),
            [(&"a".to_string(), &2), (&"b".to_string(), &3)]
        );
        let bad: Result<SortedMap<String, u32>, _> = serde_json::from_str("[1]");
        assert!(bad.is_err());
    }
}
