//! Strict base64url (RFC 4648 §5) without padding, canonical encodings only.

/// Why a base64url segment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum B64Error {
    /// A character outside the base64url alphabet (including `=` padding, `+`, `/`).
    BadCharacter,
    /// A length that no unpadded encoding has (`len % 4 == 1`).
    BadLength,
    /// Unused trailing bits are not zero, so the encoding is not canonical.
    NonCanonical,
}

/// Marks a byte outside the alphabet (top bits set; every digit is below 64).
const BAD: u8 = 0xff;

/// The value of each byte as a base64url digit, or [`BAD`].
const DIGITS: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// The digits of `chunk` (1 to 4 bytes) packed big-endian into 6-bit groups.
fn pack(chunk: &[u8]) -> Result<u32, B64Error> {
    let mut acc: u32 = 0;
    let mut bad = 0u8;
    for &c in chunk {
        let v = DIGITS[usize::from(c)];
        bad |= v;
        acc = (acc << 6) | u32::from(v & 0x3f);
    }
    if bad & 0xc0 != 0 {
        return Err(B64Error::BadCharacter);
    }
    Ok(acc)
}

/// Decodes unpadded, canonical base64url.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    if input.len() % 4 == 1 {
        return Err(B64Error::BadLength);
    }
    // Sized once and written by index: no growth checks per chunk, so the
    // loop stays tight whatever the crate's opt-level (Cargo.toml).
    let tail = match input.len() % 4 {
        3 => 2,
        2 => 1,
        _ => 0,
    };
    let mut out = vec![0u8; input.len() / 4 * 3 + tail];
    let mut chunks = input.chunks_exact(4);
    let mut bad = 0u8;
    for (src, dst) in (&mut chunks).zip(out.chunks_exact_mut(3)) {
        // Four lookups written out: at opt-level "z" a loop over them is not unrolled.
        let a = DIGITS[usize::from(src[0])];
        let b = DIGITS[usize::from(src[1])];
        let c = DIGITS[usize::from(src[2])];
        let d = DIGITS[usize::from(src[3])];
        bad |= a | b | c | d;
        let acc = (u32::from(a & 0x3f) << 18)
            | (u32::from(b & 0x3f) << 12)
            | (u32::from(c & 0x3f) << 6)
            | u32::from(d & 0x3f);
        dst[0] = (acc >> 16) as u8;
        dst[1] = (acc >> 8) as u8;
        dst[2] = acc as u8;
    }
    if bad & 0xc0 != 0 {
        return Err(B64Error::BadCharacter);
    }
    let at = out.len() - tail;
    let rest = chunks.remainder();
    match rest.len() {
        0 => {}
        3 => {
            let acc = pack(rest)?;
            if acc & 0x3 != 0 {
                return Err(B64Error::NonCanonical);
            }
            out[at] = (acc >> 10) as u8;
            out[at + 1] = (acc >> 2) as u8;
        }
        2 => {
            let acc = pack(rest)?;
            if acc & 0xf != 0 {
                return Err(B64Error::NonCanonical);
            }
            out[at] = (acc >> 4) as u8;
        }
        _ => return Err(B64Error::BadLength),
    }
    Ok(out)
}

/// Encodes as unpadded base64url.
pub fn encode(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for i in idx.iter().take(chunk.len() + 1) {
            out.push(char::from(A[*i as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_non_canonical() {
        for len in 0..40u8 {
            let data: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(11))
                .collect();
            let e = encode(&data);
            assert_eq!(decode(e.as_bytes()), Ok(data));
        }
        assert_eq!(decode(b"YQ=="), Err(B64Error::BadCharacter));
        assert_eq!(decode(b"YR"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"YQ"), Ok(b"a".to_vec()));
        assert_eq!(decode(b"YWJ"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"YWI"), Ok(b"ab".to_vec()));
        assert_eq!(decode(b"Y"), Err(B64Error::BadLength));
        assert_eq!(decode(b"a+b/"), Err(B64Error::BadCharacter));
    }

    /// Agrees with the `base64` crate's strict URL-safe, no-padding engine on
    /// every single character in every position, and on mixed strings.
    #[test]
    fn agrees_with_the_base64_crate() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        for c in 0..=255u8 {
            for at in 0..8 {
                let mut s = b"QUJDREVGR0".to_vec();
                s[at] = c;
                for len in [2usize, 3, 4, 6, 7, 8, 10] {
                    let input = &s[..len];
                    let ours = decode(input).ok();
                    let theirs = URL_SAFE_NO_PAD.decode(input).ok();
                    assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(input));
                }
            }
        }
    }
}
