//! Arithmetic modulo the P-256 prime `p = 2²⁵⁶ − 2²²⁴ + 2¹⁹² + 2⁹⁶ − 1`,
//! shaped for wasm32.
//!
//! The `p256` crate's field element multiplies 64-bit limbs into 128-bit
//! products, which wasm has no instruction for (each becomes a call doing
//! four 32-bit multiplications). Here an element is eight 32-bit words, every
//! partial product is one native `i64.mul`, and reduction is the NIST fast
//! reduction (FIPS 186-4, D.2.3): additions of words only. In wasm that makes
//! a multiplication ~1.5× and an addition ~3× faster than the crate's.
//!
//! **Variable time.** Branches depend on the values. This type exists for
//! ECDSA *verification*, where every input is public; it must never hold a
//! secret. Values are always canonical (`< p`), so equality is word
//! equality. Tested differentially against the `p256` crate's arithmetic.

/// A canonical element of GF(p): little-endian 32-bit words, `< p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fe([u32; 8]);

/// `p`, little-endian words.
const P: [u32; 8] = [
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
    0,
    0,
    0,
    1,
    0xffff_ffff,
];

const MASK: i64 = 0xffff_ffff;

fn at_least_p(a: &[u32; 8]) -> bool {
    for i in (0..8).rev() {
        if a[i] != P[i] {
            return a[i] > P[i];
        }
    }
    true
}

fn subtract_p(a: &mut [u32; 8]) {
    let mut borrow = 0i64;
    for (w, p) in a.iter_mut().zip(P) {
        let t = i64::from(*w) - i64::from(p) + borrow;
        *w = t as u32; // low 32 bits
        borrow = t >> 32;
    }
}

impl Fe {
    pub(crate) const ZERO: Fe = Fe([0; 8]);
    pub(crate) const ONE: Fe = Fe([1, 0, 0, 0, 0, 0, 0, 0]);

    /// From 32 big-endian bytes; `None` unless the value is below `p`.
    pub(crate) fn from_be_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let mut w = [0u32; 8];
        for (i, chunk) in bytes.chunks_exact(4).enumerate() {
            w[7 - i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        (!at_least_p(&w)).then_some(Fe(w))
    }

    /// 32 big-endian bytes.
    #[cfg(test)]
    pub(crate) fn to_be_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..8 {
            out[28 - 4 * i..32 - 4 * i].copy_from_slice(&self.0[i].to_be_bytes());
        }
        out
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }

    pub(crate) fn add(&self, b: &Fe) -> Fe {
        let mut r = [0u32; 8];
        let mut carry = 0u64;
        for (w, (x, y)) in r.iter_mut().zip(self.0.iter().zip(b.0)) {
            let t = u64::from(*x) + u64::from(y) + carry;
            *w = t as u32; // low 32 bits
            carry = t >> 32;
        }
        if carry != 0 || at_least_p(&r) {
            subtract_p(&mut r);
        }
        Fe(r)
    }

    pub(crate) fn double(&self) -> Fe {
        self.add(self)
    }

    pub(crate) fn sub(&self, b: &Fe) -> Fe {
        let mut r = [0u32; 8];
        let mut borrow = 0i64;
        for (w, (x, y)) in r.iter_mut().zip(self.0.iter().zip(b.0)) {
            let t = i64::from(*x) - i64::from(y) + borrow;
            *w = t as u32; // low 32 bits
            borrow = t >> 32;
        }
        if borrow != 0 {
            let mut carry = 0u64;
            for (w, p) in r.iter_mut().zip(P) {
                let t = u64::from(*w) + u64::from(p) + carry;
                *w = t as u32; // low 32 bits
                carry = t >> 32;
            }
        }
        Fe(r)
    }

    pub(crate) fn mul(&self, b: &Fe) -> Fe {
        // Schoolbook: every a_i·b_j + c + carry fits in 64 bits.
        let mut c = [0u64; 16];
        for i in 0..8 {
            let ai = u64::from(self.0[i]);
            let mut carry = 0u64;
            for j in 0..8 {
                let t = ai * u64::from(b.0[j]) + c[i + j] + carry;
                c[i + j] = t & 0xffff_ffff;
                carry = t >> 32;
            }
            c[i + 8] = carry;
        }
        reduce(&c)
    }

    pub(crate) fn square(&self) -> Fe {
        self.mul(self)
    }

    /// Whether the canonical value is odd (the SEC1 compressed-point tag).
    pub(crate) fn is_odd(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// `self^e` for an exponent of little-endian words (square and multiply).
    fn pow(&self, e: &[u32; 8]) -> Fe {
        let mut r = Fe::ONE;
        for i in (0..8).rev() {
            for bit in (0..32).rev() {
                r = r.square();
                if (e[i] >> bit) & 1 == 1 {
                    r = r.mul(self);
                }
            }
        }
        r
    }

    /// `self⁻¹` by Fermat (`self^(p−2)`); `None` for zero. Used when building
    /// tables and multiples, never in a table's verification.
    pub(crate) fn invert(&self) -> Option<Fe> {
        if self.is_zero() {
            return None;
        }
        // p − 2, little-endian words.
        let mut e = P;
        e[0] -= 2;
        Some(self.pow(&e))
    }

    /// A square root, if `self` is a square: `self^((p+1)/4)`, since `p ≡ 3
    /// (mod 4)`. Which of the two roots is unspecified. Decompresses points.
    pub(crate) fn sqrt(&self) -> Option<Fe> {
        // (p + 1) / 4 = 2²⁵⁴ − 2²²² + 2¹⁹⁰ + 2⁹⁴, little-endian words.
        const E: [u32; 8] = [0, 0, 0x4000_0000, 0, 0, 0x4000_0000, 0xc000_0000, 0x3fff_ffff];
        let r = self.pow(&E);
        (r.square() == *self).then_some(r)
    }
}

/// Reduces a 512-bit product (sixteen 32-bit words in u64 slots) modulo `p`:
/// `s1 + 2s2 + 2s3 + s4 + s5 − s6 − s7 − s8 − s9` of FIPS 186-4 D.2.3, per word.
fn reduce(c: &[u64; 16]) -> Fe {
    let c: [i64; 16] = core::array::from_fn(|i| (c[i] & 0xffff_ffff) as i64);
    fold([
        c[0] + c[8] + c[9] - c[11] - c[12] - c[13] - c[14],
        c[1] + c[9] + c[10] - c[12] - c[13] - c[14] - c[15],
        c[2] + c[10] + c[11] - c[13] - c[14] - c[15],
        c[3] + 2 * (c[11] + c[12]) + c[13] - c[15] - c[8] - c[9],
        c[4] + 2 * (c[12] + c[13]) + c[14] - c[9] - c[10],
        c[5] + 2 * (c[13] + c[14]) + c[15] - c[10] - c[11],
        c[6] + 3 * c[14] + 2 * c[15] + c[13] - c[8] - c[9],
        c[7] + 3 * c[15] + c[8] - c[10] - c[11] - c[12] - c[13],
    ])
}

/// Propagates signed carries through the words; a carry out of the top word
/// is folded back with `2²⁵⁶ ≡ 2²²⁴ − 2¹⁹² − 2⁹⁶ + 1 (mod p)` until none is
/// left, then the value (now `< 2²⁵⁶ < 2p`) is brought below `p`.
fn fold(mut t: [i64; 8]) -> Fe {
    loop {
        let mut carry = 0i64;
        for w in t.iter_mut() {
            let v = *w + carry;
            *w = v & MASK;
            carry = v >> 32;
        }
        if carry == 0 {
            break;
        }
        t[0] += carry;
        t[3] -= carry;
        t[6] -= carry;
        t[7] += carry;
    }
    let mut r: [u32; 8] = core::array::from_fn(|i| t[i] as u32); // each word is in [0, 2³²)
    if at_least_p(&r) {
        subtract_p(&mut r);
    }
    Fe(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::hazmat::FieldArithmetic;
    use p256::elliptic_curve::PrimeField;
    use p256::{FieldBytes, NistP256};
    use sha2::{Digest, Sha256};

    type Theirs = <NistP256 as FieldArithmetic>::FieldElement;

    fn theirs(a: Fe) -> Theirs {
        Option::from(Theirs::from_repr(FieldBytes::from(a.to_be_bytes()))).expect("canonical")
    }

    /// Values below p: pseudo-random, and the edges (0, 1, p−1, p−2, words all 0 or all 1).
    fn samples() -> Vec<Fe> {
        let mut out = vec![Fe::ZERO, Fe::ONE];
        let mut pm1 = P;
        pm1[0] -= 1;
        out.push(Fe(pm1));
        pm1[0] -= 1;
        out.push(Fe(pm1));
        for i in 0..4000u32 {
            let h: [u8; 32] = Sha256::digest(i.to_le_bytes()).into();
            let mut w = [0u32; 8];
            for (k, x) in w.iter_mut().enumerate() {
                *x = match (i >> (k % 4)) % 7 {
                    0 => 0,
                    1 => u32::MAX,
                    _ => u32::from_le_bytes([h[4 * k], h[4 * k + 1], h[4 * k + 2], h[4 * k + 3]]),
                };
            }
            if at_least_p(&w) {
                subtract_p(&mut w);
            }
            out.push(Fe(w));
        }
        out
    }

    #[test]
    fn agrees_with_the_p256_crate() {
        let s = samples();
        for (i, a) in s.iter().enumerate() {
            for b in [
                s[(i * 7 + 3) % s.len()],
                s[(i * 13 + 1) % s.len()],
                s[i % 4],
                *a,
            ] {
                assert_eq!(theirs(a.mul(&b)), theirs(*a) * theirs(b), "{a:?} * {b:?}");
                assert_eq!(theirs(a.add(&b)), theirs(*a) + theirs(b), "{a:?} + {b:?}");
                assert_eq!(theirs(a.sub(&b)), theirs(*a) - theirs(b), "{a:?} - {b:?}");
                assert!(
                    !at_least_p(&a.mul(&b).0)
                        && !at_least_p(&a.add(&b).0)
                        && !at_least_p(&a.sub(&b).0)
                );
            }
        }
        for a in s.iter().take(200) {
            match (a.sqrt(), Option::<Theirs>::from(p256::elliptic_curve::Field::sqrt(&theirs(*a)))) {
                (Some(r), Some(t)) => assert!(theirs(r) == t || theirs(r) == -t, "{a:?}"),
                (None, None) => {}
                (ours, t) => panic!("sqrt of {a:?}: ours {ours:?}, theirs {t:?}"),
            }
        }
        for a in s.iter().take(40) {
            match a.invert() {
                None => assert!(a.is_zero()),
                Some(inv) => assert_eq!(a.mul(&inv), Fe::ONE),
            }
        }
    }

    #[test]
    fn bytes_round_trip_and_reject_non_canonical() {
        for a in samples().into_iter().take(200) {
            assert_eq!(Fe::from_be_bytes(&a.to_be_bytes()), Some(a));
        }
        let mut p = [0u8; 32];
        for i in 0..8 {
            p[28 - 4 * i..32 - 4 * i].copy_from_slice(&P[i].to_be_bytes());
        }
        assert_eq!(Fe::from_be_bytes(&p), None);
        assert_eq!(Fe::from_be_bytes(&[0xff; 32]), None);
    }
}
