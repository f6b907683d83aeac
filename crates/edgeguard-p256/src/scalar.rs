//! Arithmetic modulo the P-256 group order `n`, for ECDSA verification:
//! `w = s⁻¹`, `u1 = z·w`, `u2 = r·w`.
//!
//! Eight 32-bit words (the wasm-friendly form, as in [`crate::field`]);
//! products by Montgomery multiplication (CIOS), the inverse by the binary
//! extended Euclidean algorithm. **Variable time**: every value here is
//! public (signature, message digest). Tested differentially against the
//! `p256` crate's scalars.

/// `n`, little-endian words.
const N: [u32; 8] = [
    0xfc63_2551,
    0xf3b9_cac2,
    0xa717_9e84,
    0xbce6_faad,
    0xffff_ffff,
    0xffff_ffff,
    0x0000_0000,
    0xffff_ffff,
];

/// `−n⁻¹ mod 2³²`: the Montgomery reduction factor.
const N0_INV: u32 = 0xee00_bc4f;

/// `R² mod n` with `R = 2²⁵⁶`, little-endian words: multiplying by it
/// (Montgomery) brings a value into Montgomery form.
const R2: [u32; 8] = [
    0xbe79_eea2,
    0x8324_4c95,
    0x49bd_6fa6,
    0x4699_799c,
    0x2b6b_ec59,
    0x2845_b239,
    0xf3d9_5620,
    0x66e1_2d94,
];

const MASK: u64 = 0xffff_ffff;

/// A canonical scalar (`< n`): little-endian 32-bit words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scalar([u32; 8]);

fn at_least_n(a: &[u32; 8]) -> bool {
    for i in (0..8).rev() {
        if a[i] != N[i] {
            return a[i] > N[i];
        }
    }
    true
}

/// `a − b` over eight words; the borrow out (1 when `a < b`).
fn sub_words(a: &[u32; 8], b: &[u32; 8]) -> ([u32; 8], u32) {
    let mut r = [0u32; 8];
    let mut borrow = 0i64;
    for i in 0..8 {
        let t = i64::from(a[i]) - i64::from(b[i]) + borrow;
        r[i] = t as u32; // low 32 bits
        borrow = t >> 32;
    }
    (r, u32::from(borrow != 0))
}

/// `a + b` over eight words; the carry out.
fn add_words(a: &[u32; 8], b: &[u32; 8]) -> ([u32; 8], u32) {
    let mut r = [0u32; 8];
    let mut carry = 0u64;
    for i in 0..8 {
        let t = u64::from(a[i]) + u64::from(b[i]) + carry;
        r[i] = t as u32; // low 32 bits
        carry = t >> 32;
    }
    (r, carry as u32)
}

/// `(top·2²⁵⁶ + a) / 2`.
fn halve(a: &mut [u32; 8], top: u32) {
    for i in 0..7 {
        a[i] = (a[i] >> 1) | (a[i + 1] << 31);
    }
    a[7] = (a[7] >> 1) | (top << 31);
}

/// `a·b·R⁻¹ mod n` (inputs `< n`, output canonical).
fn mont_mul(a: &[u32; 8], b: &[u32; 8]) -> [u32; 8] {
    let mut t = [0u64; 10];
    for &bi in b {
        let bi = u64::from(bi);
        let mut c = 0u64;
        for j in 0..8 {
            let s = t[j] + u64::from(a[j]) * bi + c;
            t[j] = s & MASK;
            c = s >> 32;
        }
        let s = t[8] + c;
        t[8] = s & MASK;
        t[9] = s >> 32;
        let m = u64::from((t[0] as u32).wrapping_mul(N0_INV));
        let mut c = (t[0] + m * u64::from(N[0])) >> 32;
        for j in 1..8 {
            let s = t[j] + m * u64::from(N[j]) + c;
            t[j - 1] = s & MASK;
            c = s >> 32;
        }
        let s = t[8] + c;
        t[7] = s & MASK;
        t[8] = t[9] + (s >> 32);
        t[9] = 0;
    }
    let mut r: [u32; 8] = core::array::from_fn(|i| t[i] as u32); // each is < 2³²
    // The result is < 2n: one subtraction at most.
    if t[8] != 0 || at_least_n(&r) {
        r = sub_words(&r, &N).0;
    }
    r
}

impl Scalar {
    #[cfg(test)]
    pub(crate) const ZERO: Scalar = Scalar([0; 8]);

    /// From 32 big-endian bytes; `None` unless the value is below `n`.
    pub(crate) fn from_be_bytes(bytes: &[u8; 32]) -> Option<Scalar> {
        let w = words(bytes);
        (!at_least_n(&w)).then_some(Scalar(w))
    }

    /// 32 big-endian bytes reduced modulo `n` (a digest: below `2²⁵⁶ < 2n`,
    /// so one subtraction at most).
    pub(crate) fn reduce(bytes: &[u8; 32]) -> Scalar {
        let mut w = words(bytes);
        if at_least_n(&w) {
            w = sub_words(&w, &N).0;
        }
        Scalar(w)
    }

    /// 32 big-endian bytes.
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

    /// `self·b mod n`.
    pub(crate) fn mul(&self, b: &Scalar) -> Scalar {
        Scalar(mont_mul(&mont_mul(&self.0, &b.0), &R2))
    }

    /// `self⁻¹ mod n`; `None` for zero (`n` is prime, so every other value
    /// has one). Binary extended Euclid: `u·a ≡ x1`, `v·a ≡ x2 (mod n)`
    /// stay invariant while `u`, `v` shrink to 1.
    pub(crate) fn invert(&self) -> Option<Scalar> {
        if self.is_zero() {
            return None;
        }
        let (mut u, mut v) = (self.0, N);
        let mut x1 = [1u32, 0, 0, 0, 0, 0, 0, 0];
        let mut x2 = [0u32; 8];
        let halve_mod_n = |x: &mut [u32; 8]| {
            if x[0] & 1 == 0 {
                halve(x, 0);
            } else {
                let (s, carry) = add_words(x, &N);
                *x = s;
                halve(x, carry);
            }
        };
        let sub_mod_n = |a: &[u32; 8], b: &[u32; 8]| -> [u32; 8] {
            let (d, borrow) = sub_words(a, b);
            if borrow == 0 {
                d
            } else {
                add_words(&d, &N).0
            }
        };
        let one = [1u32, 0, 0, 0, 0, 0, 0, 0];
        // Each round halves u or v at least once: at most 2·256 rounds.
        while u != one && v != one {
            if u == [0; 8] || v == [0; 8] {
                return None; // unreachable for a prime modulus and 0 < a < n
            }
            while u[0] & 1 == 0 {
                halve(&mut u, 0);
                halve_mod_n(&mut x1);
            }
            while v[0] & 1 == 0 {
                halve(&mut v, 0);
                halve_mod_n(&mut x2);
            }
            let (d, borrow) = sub_words(&u, &v);
            if borrow == 0 {
                u = d;
                x1 = sub_mod_n(&x1, &x2);
            } else {
                v = sub_words(&v, &u).0;
                x2 = sub_mod_n(&x2, &x1);
            }
        }
        Some(Scalar(if u == one { x1 } else { x2 }))
    }
}

fn words(bytes: &[u8; 32]) -> [u32; 8] {
    let mut w = [0u32; 8];
    for (i, chunk) in bytes.chunks_exact(4).enumerate() {
        w[7 - i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::PrimeField;
    use p256::FieldBytes;
    use sha2::{Digest, Sha256};

    type Theirs = p256::Scalar;

    fn theirs(a: Scalar) -> Theirs {
        Option::from(Theirs::from_repr(FieldBytes::from(a.to_be_bytes()))).expect("canonical")
    }

    /// Pseudo-random scalars and the edges (0, 1, 2, n−1, n−2, words all 0 or all 1).
    fn samples() -> Vec<Scalar> {
        let mut out = vec![Scalar::ZERO, Scalar([1, 0, 0, 0, 0, 0, 0, 0]), Scalar([2, 0, 0, 0, 0, 0, 0, 0])];
        let mut nm1 = N;
        nm1[0] -= 1;
        out.push(Scalar(nm1));
        nm1[0] -= 1;
        out.push(Scalar(nm1));
        for i in 0..3000u32 {
            let h: [u8; 32] = Sha256::digest(i.to_le_bytes()).into();
            let mut bytes = h;
            match i % 9 {
                0 => bytes[..16].fill(0),
                1 => bytes[..16].fill(0xff),
                2 => bytes[16..].fill(0),
                _ => {}
            }
            out.push(Scalar::reduce(&bytes));
        }
        out
    }

    #[test]
    fn agrees_with_the_p256_crate() {
        let s = samples();
        for (i, a) in s.iter().enumerate() {
            for b in [s[(i * 7 + 3) % s.len()], s[i % 5], *a] {
                assert_eq!(theirs(a.mul(&b)), theirs(*a) * theirs(b), "{a:?} * {b:?}");
            }
            match a.invert() {
                None => assert!(a.is_zero()),
                Some(inv) => {
                    assert_eq!(theirs(inv), Option::<Theirs>::from(theirs(*a).invert()).expect("nonzero"));
                    assert_eq!(a.mul(&inv), Scalar([1, 0, 0, 0, 0, 0, 0, 0]));
                }
            }
        }
    }

    #[test]
    fn reduces_digests_and_rejects_non_canonical() {
        for i in 0..500u32 {
            let mut h: [u8; 32] = Sha256::digest(i.to_be_bytes()).into();
            if i % 3 == 0 {
                h[..8].fill(0xff);
            }
            let ours = Scalar::reduce(&h);
            let want = <Theirs as Reduce<FieldBytes>>::reduce(&FieldBytes::from(h));
            assert_eq!(theirs(ours), want);
            assert_eq!(Scalar::from_be_bytes(&ours.to_be_bytes()), Some(ours));
        }
        let n = Scalar(N).to_be_bytes(); // not canonical: only for the bytes
        assert_eq!(Scalar::from_be_bytes(&n), None);
        assert_eq!(Scalar::from_be_bytes(&[0xff; 32]), None);
        assert_eq!(Scalar::reduce(&n), Scalar::ZERO);
    }
}
