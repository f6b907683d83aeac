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

fn val(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Decodes unpadded, canonical base64url.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    if input.len() % 4 == 1 {
        return Err(B64Error::BadLength);
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for chunk in input.chunks(4) {
        let mut acc: u32 = 0;
        for &c in chunk {
            acc = (acc << 6) | val(c).ok_or(B64Error::BadCharacter)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => {
                if acc & 0x3 != 0 {
                    return Err(B64Error::NonCanonical);
                }
                out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            }
            2 => {
                if acc & 0xf != 0 {
                    return Err(B64Error::NonCanonical);
                }
                out.push((acc >> 4) as u8);
            }
            _ => return Err(B64Error::BadLength),
        }
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
}
