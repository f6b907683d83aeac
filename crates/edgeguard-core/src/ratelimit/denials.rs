//! Which identity denials become security events: at most one per (route,
//! code, client) per window, in bounded memory.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::hash_table_bytes;

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
