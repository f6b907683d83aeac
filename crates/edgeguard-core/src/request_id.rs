//! Request ids: which incoming `x-request-id` values may be kept.
//!
//! A well-formed id is 1 to [`MAX_LEN`] characters of `[A-Za-z0-9._-]`. Anything
//! else (empty, too long, spaces, quotes, CR/LF, non-ASCII) is replaced by the
//! shim with a fresh `crypto.randomUUID()`, so ids are always safe to echo in
//! headers, bodies and log lines.

/// The longest request id that is kept.
pub const MAX_LEN: usize = 128;

/// Whether an incoming request id is well formed and may be kept.
pub fn is_well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_uuid_and_rejects_junk() {
        assert!(is_well_formed("0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c"));
        assert!(is_well_formed("a.b_c-D9"));
        assert!(is_well_formed(&"x".repeat(MAX_LEN)));
        assert!(!is_well_formed(&"x".repeat(MAX_LEN + 1)));
        assert!(!is_well_formed(""));
        for bad in ["a b", "a\r\nb", "é", "a/b", "a\"b", "a;b"] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }
}
