//! Request ids: which incoming `x-request-id` values may be kept.
//!
//! A well-formed id is 1 to [`MAX_LEN`] characters of `[A-Za-z0-9._-]`. Anything
//! else (empty, too long, spaces, quotes, CR/LF, non-ASCII) is replaced by the
//! pipeline with a [`fresh`] random UUID, so ids are always safe to echo in
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

/// A fresh request id: a random UUID (version 4) from the CSPRNG.
pub fn fresh() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No CSPRNG: the id is not a secret; a fixed one is better than none.
        return String::from("00000000-0000-4000-8000-000000000000");
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
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
        let (a, b) = (fresh(), fresh());
        assert!(is_well_formed(&a) && a.len() == 36 && a != b);
        assert_eq!(&a[14..15], "4");
        for bad in ["a b", "a\r\nb", "é", "a/b", "a\"b", "a;b"] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }
}
