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

/// CSPRNG output fetched in blocks (one `getrandom` call, in wasm one
/// `crypto.getRandomValues`, per 64 ids) and handed out once each.
static RANDOM: std::sync::Mutex<([u8; 1024], usize)> = std::sync::Mutex::new(([0; 1024], 1024));

fn random16() -> Option<[u8; 16]> {
    let mut pool = RANDOM.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (bytes, used) = &mut *pool;
    if *used + 16 > bytes.len() {
        getrandom::fill(bytes).ok()?;
        *used = 0;
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&bytes[*used..*used + 16]);
    bytes[*used..*used + 16].fill(0);
    *used += 16;
    Some(out)
}

/// A fresh random UUID (version 4) from the CSPRNG: request ids and CSRF subjects.
pub fn fresh() -> String {
    let Some(mut b) = random16() else {
        // No CSPRNG: the id is not a secret; a fixed one is better than none.
        return String::from("00000000-0000-4000-8000-000000000000");
    };
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(x >> 4)];
        out[at + 1] = HEX[usize::from(x & 0x0f)];
        at += 2;
    }
    // Hex digits and dashes only: always UTF-8.
    String::from_utf8(out.to_vec()).unwrap_or_default()
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
        let dashes: Vec<usize> = a.match_indices('-').map(|(i, _)| i).collect();
        assert_eq!(dashes, [8, 13, 18, 23]);
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        for bad in ["a b", "a\r\nb", "é", "a/b", "a\"b", "a;b"] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }
}
