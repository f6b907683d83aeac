//! RS256 verification: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2),
//! public keys only (docs/security.md, "Token signatures").
//!
//! Verification computes `m = s^e mod n` and compares `m`, as `k` bytes,
//! with the one encoded message a valid signature can give:
//! `0x00 0x01 FF…FF 0x00 || DigestInfo(SHA-256) || SHA-256(message)`,
//! byte for byte. Nothing of the decoded message is parsed (no ASN.1), so
//! no padding or DigestInfo variant is ever accepted by accident.
//!
//! The arithmetic is plain Montgomery multiplication on 32-bit words (wasm
//! has no 64×64→128 multiplication). It is variable-time, which is safe
//! here: the key, the signature and the message are all public. There is
//! no private-key code.
//!
//! Key policy (the same as before this module, which was jwt-simple's):
//! the modulus, leading zero bytes stripped, has
//! [`MIN_MODULUS_BITS`]..=[`MAX_MODULUS_BITS`] bits and is odd, and the
//! public exponent is 65537. Every JOSE key in use (Supabase, Clerk, Auth0,
//! WorkOS) has e = 65537; a fixed exponent makes a verification exactly
//! 16 squarings and 2 multiplications. 4096 bits bounds the work a hostile
//! JWKS can ask of each token (4096-bit keys are the largest in common use).

use sha2::{Digest, Sha256};
use std::fmt;

/// The smallest accepted modulus, in bits.
pub const MIN_MODULUS_BITS: usize = 2048;
/// The largest accepted modulus, in bits.
pub const MAX_MODULUS_BITS: usize = 4096;

/// The DER encoding of `DigestInfo { sha256, NULL }` before the 32-byte
/// hash (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0x05, 0x00, 0x04, 0x20,
];

/// Why an RSA public key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaKeyError {
    /// The modulus has fewer than [`MIN_MODULUS_BITS`] bits.
    ModulusTooSmall,
    /// The modulus has more than [`MAX_MODULUS_BITS`] bits.
    ModulusTooLarge,
    /// The modulus is even (not an RSA modulus).
    EvenModulus,
    /// The public exponent is not 65537.
    UnsupportedExponent,
}

impl fmt::Display for RsaKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RsaKeyError::ModulusTooSmall => "RSA modulus shorter than 2048 bits",
            RsaKeyError::ModulusTooLarge => "RSA modulus longer than 4096 bits",
            RsaKeyError::EvenModulus => "RSA modulus is even",
            RsaKeyError::UnsupportedExponent => "RSA public exponent is not 65537",
        })
    }
}

/// An RSA public key prepared for RS256 verification: the modulus as
/// little-endian 32-bit words with its Montgomery constants.
#[derive(Clone)]
pub struct RsaPublicKey {
    /// The modulus, least significant word first; its top word is non-zero.
    n: Vec<u32>,
    /// `-n⁻¹ mod 2³²`.
    n0inv: u32,
    /// `R² mod n`, `R = 2^(32·words)`: turns a number into Montgomery form.
    r2: Vec<u32>,
    /// The modulus length in bytes (`k` in RFC 8017): every signature has exactly this length.
    len: usize,
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bits)", self.modulus_bits())
    }
}

impl RsaPublicKey {
    /// A key from its big-endian modulus and exponent (JWK `n`, `e`);
    /// leading zero bytes of either are ignored. See the module's key policy.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, RsaKeyError> {
        let n = strip_zeros(n);
        let bits = match n.first() {
            None => 0,
            Some(b) => n.len() * 8 - b.leading_zeros() as usize,
        };
        if bits < MIN_MODULUS_BITS {
            return Err(RsaKeyError::ModulusTooSmall);
        }
        if bits > MAX_MODULUS_BITS {
            return Err(RsaKeyError::ModulusTooLarge);
        }
        if n.last().is_some_and(|b| b & 1 == 0) {
            return Err(RsaKeyError::EvenModulus);
        }
        if strip_zeros(e) != [1, 0, 1] {
            return Err(RsaKeyError::UnsupportedExponent);
        }
        let words = n.len().div_ceil(4);
        let n_words = words_from_be(n, words);
        let n0 = n_words.first().copied().unwrap_or(1);
        // Newton's iteration: n0 is its own inverse mod 8; each step doubles the correct bits.
        let mut inv = n0;
        for _ in 0..4 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
        }
        let mut key = RsaPublicKey {
            n: n_words,
            n0inv: inv.wrapping_neg(),
            r2: Vec::new(),
            len: n.len(),
        };
        key.r2 = key.r_squared(bits);
        Ok(key)
    }

    /// The modulus size in bits.
    pub fn modulus_bits(&self) -> usize {
        let top = self.n.last().copied().unwrap_or(0);
        self.n.len() * 32 - top.leading_zeros() as usize
    }

    /// The modulus length in bytes, which is every valid signature's length.
    pub fn modulus_len(&self) -> usize {
        self.len
    }

    /// The memory this key holds (docs/memory.md).
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<RsaPublicKey>() + 4 * (self.n.capacity() + self.r2.capacity())
    }

    /// Whether `sig` is an RSASSA-PKCS1-v1_5 SHA-256 signature of `msg`
    /// under this key. Never panics: any `sig` that is not exactly
    /// [`RsaPublicKey::modulus_len`] bytes, or whose value is not below the
    /// modulus, is refused.
    pub fn verify_sha256(&self, msg: &[u8], sig: &[u8]) -> bool {
        if sig.len() != self.len {
            return false;
        }
        let words = self.n.len();
        let s = words_from_be(sig, words);
        if !less_than(&s, &self.n) {
            return false;
        }
        let mut scratch = vec![0u32; 2 * words + 1];
        let mut x = vec![0u32; words];
        // x = s·R (Montgomery form), then s^65536·R by 16 squarings, then
        // one multiplication by s (not in Montgomery form) leaves s^65537.
        self.mont_mul(&s, &self.r2, &mut scratch, &mut x);
        for _ in 0..16 {
            self.mont_sqr(&mut x, &mut scratch);
        }
        let xr = x.clone();
        self.mont_mul(&xr, &s, &mut scratch, &mut x);
        let Some(em) = encoded_message(self.len, &Sha256::digest(msg)) else {
            return false;
        };
        be_from_words(&x, self.len) == em
    }

    /// `R² mod n` for a modulus of `bits` bits: `R mod n` by doublings from
    /// `2^(bits-1)`, then `2^a·R` (the Montgomery form of `2^a`) for
    /// `a = 32·words`: the top 9 bits of `a` by doublings (a doubling costs
    /// about a hundredth of a squaring), the rest by squarings and doublings.
    fn r_squared(&self, bits: usize) -> Vec<u32> {
        let words = self.n.len();
        let mut x = vec![0u32; words];
        let top = bits - 1;
        if let Some(w) = x.get_mut(top / 32) {
            *w = 1 << (top % 32);
        }
        for _ in 0..(32 * words - top) {
            self.double_mod(&mut x);
        }
        let target = 32 * words;
        let low_bits = (usize::BITS - target.leading_zeros()).saturating_sub(9);
        for _ in 0..target >> low_bits {
            self.double_mod(&mut x);
        }
        let mut scratch = vec![0u32; 2 * words + 1];
        for i in (0..low_bits).rev() {
            self.mont_sqr(&mut x, &mut scratch);
            if (target >> i) & 1 == 1 {
                self.double_mod(&mut x);
            }
        }
        x
    }

    /// `x = 2x mod n` for `x < n`.
    fn double_mod(&self, x: &mut [u32]) {
        let mut carry = 0u32;
        for w in x.iter_mut() {
            let next = *w >> 31;
            *w = (*w << 1) | carry;
            carry = next;
        }
        if carry != 0 || !less_than(x, &self.n) {
            sub_in_place(x, &self.n);
        }
    }

    /// `out = a·b·R⁻¹ mod n` for `a, b < n` (`scratch`: 2·words + 1 words).
    fn mont_mul(&self, a: &[u32], b: &[u32], scratch: &mut [u32], out: &mut [u32]) {
        let words = self.n.len();
        scratch.fill(0);
        for (i, &ai) in a.iter().enumerate() {
            let Some(row) = scratch.get_mut(i..i + words + 1) else {
                return;
            };
            let (row, top) = row.split_at_mut(words);
            let mut c = 0u64;
            for (t, &bj) in row.iter_mut().zip(b) {
                let s = u64::from(*t) + u64::from(ai) * u64::from(bj) + c;
                *t = s as u32;
                c = s >> 32;
            }
            if let Some(t) = top.first_mut() {
                *t = c as u32;
            }
        }
        self.reduce(scratch, out);
    }

    /// `x = x²·R⁻¹ mod n` for `x < n` (`scratch`: 2·words + 1 words).
    fn mont_sqr(&self, x: &mut [u32], scratch: &mut [u32]) {
        let words = self.n.len();
        scratch.fill(0);
        // The products x_i·x_j for i < j, once each...
        for (i, &xi) in x.iter().enumerate() {
            let Some(row) = scratch.get_mut(2 * i + 1..i + words + 1) else {
                continue;
            };
            let (row, top) = row.split_at_mut(words - i - 1);
            let mut c = 0u64;
            for (t, &xj) in row.iter_mut().zip(&x[i + 1..]) {
                let s = u64::from(*t) + u64::from(xi) * u64::from(xj) + c;
                *t = s as u32;
                c = s >> 32;
            }
            if let Some(t) = top.first_mut() {
                *t = c as u32;
            }
        }
        // ...doubled, plus the squares x_i² on the diagonal.
        let mut shifted = 0u32;
        for t in scratch[..2 * words].iter_mut() {
            let next = *t >> 31;
            *t = (*t << 1) | shifted;
            shifted = next;
        }
        let mut c = 0u64;
        for (pair, &xi) in scratch[..2 * words].chunks_exact_mut(2).zip(x.iter()) {
            let sq = u64::from(xi) * u64::from(xi);
            let lo = u64::from(pair[0]) + (sq & 0xffff_ffff) + c;
            pair[0] = lo as u32;
            let hi = u64::from(pair[1]) + (sq >> 32) + (lo >> 32);
            pair[1] = hi as u32;
            c = hi >> 32;
        }
        self.reduce(scratch, x);
    }

    /// Montgomery reduction: `out = t·R⁻¹ mod n` for `t < n·R` held in
    /// `t[..2·words]` (`t` is overwritten).
    fn reduce(&self, t: &mut [u32], out: &mut [u32]) {
        let words = self.n.len();
        let mut hi = 0u64;
        for i in 0..words {
            let Some(window) = t.get_mut(i..i + words + 1) else {
                return;
            };
            let (low, top) = window.split_at_mut(words);
            let m = u64::from(low[0].wrapping_mul(self.n0inv));
            let mut c = 0u64;
            for (t, &nj) in low.iter_mut().zip(&self.n) {
                let s = u64::from(*t) + m * u64::from(nj) + c;
                *t = s as u32;
                c = s >> 32;
            }
            if let Some(t) = top.first_mut() {
                let s = u64::from(*t) + c + hi;
                *t = s as u32;
                hi = s >> 32;
            }
        }
        // The result, t[words..2·words] plus `hi`·R, is below 2n.
        out.copy_from_slice(&t[words..2 * words]);
        if hi != 0 || !less_than(out, &self.n) {
            sub_in_place(out, &self.n);
        }
    }
}

/// The encoded message `0x00 0x01 FF…FF 0x00 || DigestInfo || hash` of
/// `len` bytes (RFC 8017 §9.2); `None` if `len` is too short for it.
fn encoded_message(len: usize, hash: &[u8]) -> Option<Vec<u8>> {
    let t_len = SHA256_DIGEST_INFO.len() + hash.len();
    // At least 8 bytes of 0xFF padding.
    let ps = len.checked_sub(t_len + 3).filter(|ps| *ps >= 8)?;
    let mut em = Vec::with_capacity(len);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(2 + ps, 0xff);
    em.push(0x00);
    em.extend_from_slice(&SHA256_DIGEST_INFO);
    em.extend_from_slice(hash);
    Some(em)
}

fn strip_zeros(x: &[u8]) -> &[u8] {
    let i = x.iter().position(|b| *b != 0).unwrap_or(x.len());
    x.get(i..).unwrap_or(&[])
}

/// `words` little-endian words from big-endian bytes; bytes beyond
/// `4·words` are dropped (callers pass at most that many).
fn words_from_be(bytes: &[u8], words: usize) -> Vec<u32> {
    let mut out = vec![0u32; words];
    for (i, b) in bytes.iter().rev().enumerate() {
        if let Some(w) = out.get_mut(i / 4) {
            *w |= u32::from(*b) << (8 * (i % 4));
        }
    }
    out
}

/// The low `len` bytes of `x`, big-endian.
fn be_from_words(x: &[u32], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for (i, b) in out.iter_mut().rev().enumerate() {
        *b = x.get(i / 4).map_or(0, |w| (w >> (8 * (i % 4))) as u8);
    }
    out
}

/// `a < b` for numbers of the same number of words.
fn less_than(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b` modulo `2^(32·words)`.
fn sub_in_place(a: &mut [u32], b: &[u32]) {
    let mut borrow = 0u32;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(borrow);
        *x = d;
        borrow = u32::from(b1 || b2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small modulus would be refused by the key policy; build one
    /// directly to check the arithmetic against u128.
    fn small_key(n: u64) -> RsaPublicKey {
        let bytes = n.to_be_bytes();
        let n_be = strip_zeros(&bytes);
        let words = n_be.len().div_ceil(4);
        let n_words = words_from_be(n_be, words);
        let n0 = n_words[0];
        let mut inv = n0;
        for _ in 0..4 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
        }
        assert_eq!(n0.wrapping_mul(inv), 1);
        let mut key = RsaPublicKey {
            n: n_words,
            n0inv: inv.wrapping_neg(),
            r2: Vec::new(),
            len: n_be.len(),
        };
        key.r2 = key.r_squared(64 - n.leading_zeros() as usize);
        key
    }

    fn to_u128(x: &[u32]) -> u128 {
        x.iter().rev().fold(0u128, |acc, w| (acc << 32) | u128::from(*w))
    }

    fn from_u128(x: u128, words: usize) -> Vec<u32> {
        (0..words).map(|i| (x >> (32 * i)) as u32).collect()
    }

    /// R² mod n, Montgomery multiplication and squaring agree with u128
    /// arithmetic for one- and two-word moduli, including values near n.
    #[test]
    fn montgomery_arithmetic_matches_u128() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..400 {
            let n = match round % 4 {
                0 => (next() >> 32) | 1 | (1 << 31),
                1 => next() | 1 | (1 << 63),
                2 => u64::MAX,
                _ => (next() >> (round % 31)) | 1 | (1 << 40),
            };
            let key = small_key(n);
            let words = key.n.len();
            let r = 1u128 << (32 * words);
            let n128 = u128::from(n);
            assert_eq!(to_u128(&key.r2), (r % n128) * (r % n128) % n128, "R² for n = {n}");
            let r_inv = mod_inverse(r % n128, n128);
            for a in [0, 1, n128 - 1, u128::from(next()) % n128] {
                for b in [1, n128 - 1, u128::from(next()) % n128] {
                    let mut scratch = vec![0u32; 2 * words + 1];
                    let mut out = vec![0u32; words];
                    key.mont_mul(&from_u128(a, words), &from_u128(b, words), &mut scratch, &mut out);
                    let want = mulmod(mulmod(a, b, n128), r_inv, n128);
                    assert_eq!(to_u128(&out), want, "{a}·{b} mod {n}");
                }
                let mut x = from_u128(a, words);
                let mut scratch = vec![0u32; 2 * words + 1];
                key.mont_sqr(&mut x, &mut scratch);
                assert_eq!(to_u128(&x), mulmod(mulmod(a, a, n128), r_inv, n128), "{a}² mod {n}");
            }
        }
    }

    fn mulmod(a: u128, b: u128, n: u128) -> u128 {
        // n < 2^64, so a, b < 2^64 and a·b fits.
        (a % n) * (b % n) % n
    }

    fn mod_inverse(a: u128, n: u128) -> u128 {
        let (mut t, mut new_t, mut r, mut new_r) = (0i128, 1i128, n as i128, a as i128);
        while new_r != 0 {
            let q = r / new_r;
            (t, new_t) = (new_t, t - q * new_t);
            (r, new_r) = (new_r, r - q * new_r);
        }
        assert_eq!(r, 1);
        t.rem_euclid(n as i128) as u128
    }

    #[test]
    fn encoded_message_layout() {
        let em = encoded_message(256, &[0xab; 32]).expect("long enough");
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..256 - 52].iter().all(|b| *b == 0xff));
        assert_eq!(em[256 - 52], 0);
        assert_eq!(&em[256 - 51..256 - 32], &SHA256_DIGEST_INFO);
        assert_eq!(&em[256 - 32..], &[0xab; 32]);
        assert!(encoded_message(61, &[0; 32]).is_none());
        assert!(encoded_message(62, &[0; 32]).is_some());
    }
}
