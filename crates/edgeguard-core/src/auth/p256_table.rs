//! ES256 verification with a precomputed table for the (long-lived) JWKS key.
//!
//! ECDSA verification computes `u1·G + u2·Q`. p256 already multiplies `G`
//! with a precomputed table; for `Q` it builds a small window table on every
//! call. JWKS keys live for hours, so edgeguard builds the same kind of table
//! for `Q` once per key (33 lookup tables of 8 multiples, ≈ 25 KiB) and both
//! products become table walks. Only public data is involved (verification),
//! so variable-time selection is fine. Correctness is pinned by every
//! Wycheproof ECDSA P-256 vector and a differential test against p256's own
//! verifier.

use p256::elliptic_curve::ops::{MulByGeneratorVartime as _, Reduce};
use p256::elliptic_curve::point::AffineCoordinates as _;
use p256::elliptic_curve::{Field as _, Group as _, PrimeField as _};
use p256::{FieldBytes, NistP256, ProjectivePoint, Scalar};
use primeorder::{LookupTable, Radix16Decomposition, Radix16Digits};
use sha2::{Digest, Sha256};

const WINDOWS: usize = 33;

/// Precomputed multiples of one public key.
#[derive(Clone)]
pub struct P256Table {
    tables: Vec<LookupTable<ProjectivePoint>>,
}

impl P256Table {
    /// Builds the table for `q` (≈ 260 point doublings and 230 additions, once per key).
    pub fn new(q: ProjectivePoint) -> Self {
        let mut p = q;
        let mut tables = Vec::with_capacity(WINDOWS);
        for _ in 0..WINDOWS {
            tables.push(LookupTable::new(p));
            for _ in 0..8 {
                p = p.double();
            }
        }
        P256Table { tables }
    }

    fn mul_vartime(&self, k: &Scalar) -> ProjectivePoint {
        let digits = Radix16Decomposition::<Radix16Digits<NistP256>>::new(k);
        let len = WINDOWS - 1;
        let mut acc = ProjectivePoint::IDENTITY;
        let mut acc2 = ProjectivePoint::IDENTITY;
        if let Some(t) = self.tables.get(len) {
            acc = t.select_vartime(digits[len * 2]);
        }
        for (i, t) in self.tables.iter().enumerate().take(len).rev() {
            acc2 += &t.select_vartime(digits[i * 2 + 1]);
            acc += &t.select_vartime(digits[i * 2]);
        }
        for _ in 0..4 {
            acc2 = acc2.double();
        }
        acc + acc2
    }
}

fn scalar_from(bytes: &[u8]) -> Option<Scalar> {
    let fb: FieldBytes = <[u8; 32]>::try_from(bytes).ok()?.into();
    let s: Option<Scalar> = Scalar::from_repr(fb).into();
    s.filter(|s| !bool::from(s.is_zero()))
}

/// Verifies a P1363 (`r‖s`, 64 bytes) ECDSA P-256 SHA-256 signature.
pub fn verify(table: &P256Table, msg: &[u8], sig: &[u8]) -> bool {
    if sig.len() != 64 {
        return false;
    }
    let (Some(r), Some(s)) = (sig.get(..32).and_then(scalar_from), sig.get(32..).and_then(scalar_from)) else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(msg).into();
    let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(digest));
    let Some(w) = Option::<Scalar>::from(s.invert_vartime()) else { return false };
    let u1 = z * w;
    let u2 = r * w;
    let point = ProjectivePoint::mul_by_generator_vartime(&u1) + table.mul_vartime(&u2);
    if bool::from(point.is_identity()) {
        return false;
    }
    let x = point.to_affine().x();
    <Scalar as Reduce<FieldBytes>>::reduce(&x) == r
}
