//! Signatures constructed to drive [`P256Table::verify`] through each of its
//! exceptional branches, checked against the `p256` crate's verifier.
//!
//! Verification sums `u1·G + u2·Q` in a fixed order: first the generator
//! windows, then the key's, `Q` window `j` adding `c_j·256ʲ·Q` (`c_j` is byte
//! `j` of `u2`, little-endian) when `c_j ≠ 0`. The generator pass can never
//! meet an exceptional case (its partial sums are distinct integers below
//! `n`), so every one of them happens in the key pass. Write `A = u1·G` and
//! `C_j = u2 mod 256ʲ`; before window `j` the accumulator is `A + C_j·Q`, so
//!
//! - it *doubles* at window `j` when `A = (c_j·256ʲ − C_j)·Q`, and
//! - it *cancels* to infinity at window `j` when `A = −(c_j·256ʲ + C_j)·Q`.
//!
//! The key need not have a known private key: a test picks the point the
//! condition asks for. Any `u1`, `u2` and message are reachable, since
//! `s = e/u1` and `r = u2·s` (with `e` the reduced SHA-256 of the message);
//! such a signature is, of course, rejected. An *accepted* one also needs
//! `r = x(R) mod n`, and `r` fixes `u2 = r/s`: a fixed point, found below by
//! choosing `R = k·G` first and solving for `u2` (see [`accepted_at_top`]).
//!
//! Each case asserts that our verdict is `p256`'s, that our accumulated point
//! equals `p256`'s `u1·G + u2·Q` (so a wrong exceptional branch fails even
//! when both reject), and that the thread's [`Exception`] counter for the
//! branch went up during the verification.

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::point::DecompressPoint;
use p256::elliptic_curve::subtle::Choice;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::PrimeField;
use p256::ProjectivePoint;
use p256::{AffinePoint, FieldBytes, Scalar};

use super::*;

/// `p256`'s scalar as ours.
fn to_ours(k: &Scalar) -> super::scalar::Scalar {
    super::scalar::Scalar::from_be_bytes(&k.to_bytes().into()).expect("canonical")
}

/// A constructed signature and key.
struct Case {
    msg: Vec<u8>,
    r: Scalar,
    s: Scalar,
    q: AffinePoint,
}

/// What one verification did.
#[derive(Debug)]
struct Outcome {
    ours: bool,
    theirs: bool,
    /// How often each [`Exception`] was reached during our verification.
    reached: [u64; 4],
}

impl Outcome {
    fn count(&self, case: Exception) -> u64 {
        self.reached[case as usize]
    }
}

/// The digest scalar `e`, reduced as [`P256Table::verify`] reduces it.
fn digest(msg: &[u8]) -> Scalar {
    let d: [u8; 32] = Sha256::digest(msg).into();
    <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(d))
}

/// A pseudo-random non-zero scalar named by `tag` and `i`.
fn scalar(tag: &str, i: u32) -> Scalar {
    let s = digest(format!("{tag} {i}").as_bytes());
    assert_ne!(s, Scalar::ZERO);
    s
}

fn inv(a: Scalar) -> Scalar {
    Option::from(a.invert_vartime()).expect("non-zero scalar")
}

/// `2²⁴⁸ = 256³¹`, the weight of the top window.
fn top_weight() -> Scalar {
    let mut b = [0u8; 32];
    b[0] = 1;
    Option::from(Scalar::from_repr(FieldBytes::from(b))).expect("below n")
}

/// `256ʲ`.
fn weight(j: usize) -> Scalar {
    let mut b = [0u8; 32];
    b[31 - j] = 1;
    Option::from(Scalar::from_repr(FieldBytes::from(b))).expect("below n")
}

/// Byte `j` (window `j`, little-endian) of a scalar.
fn window(k: &Scalar, j: usize) -> u8 {
    k.to_bytes()[31 - j]
}

/// `k mod 256ʲ`: the part of `u2` the key pass has added before window `j`.
fn below(k: &Scalar, j: usize) -> Scalar {
    let mut b = [0u8; 32];
    b[32 - j..].copy_from_slice(&k.to_bytes()[32 - j..]);
    Option::from(Scalar::from_repr(FieldBytes::from(b))).expect("below n")
}

fn times_g(k: Scalar) -> AffinePoint {
    (ProjectivePoint::GENERATOR * k).to_affine()
}

/// `x(P) mod n`.
fn x_mod_n(p: &AffinePoint) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&p.x())
}

/// The signature over `msg` whose verification computes `u1·G + u2·Q`.
fn signature_for(msg: Vec<u8>, u1: Scalar, u2: Scalar, q: AffinePoint) -> Case {
    let s = digest(&msg) * inv(u1);
    Case {
        r: u2 * s,
        s,
        msg,
        q,
    }
}

/// Verifies `case` both ways, and checks our accumulated point against
/// `p256`'s `u1·G + u2·Q`.
fn run(case: &Case) -> Outcome {
    let vk = VerifyingKey::from_affine(case.q).expect("constructed key is a valid point");
    let table = P256Table::from_sec1(vk.to_sec1_point(false).as_bytes()).expect("valid key");
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&case.r.to_bytes());
    sig[32..].copy_from_slice(&case.s.to_bytes());
    let theirs = Signature::from_slice(&sig).is_ok_and(|s| vk.verify(&case.msg, &s).is_ok());

    // Build the generator table before counting: building a table doubles.
    let g = generator_table(super::BITS);
    let before = REACHED.with(|c| c.get());
    let ours = table.verify(&case.msg, &sig);
    let after = REACHED.with(|c| c.get());
    let reached = core::array::from_fn(|i| after[i] - before[i]);

    // The sum itself, formed exactly as `verify` forms it.
    let w = inv(case.s);
    let (u1, u2) = (digest(&case.msg) * w, case.r * w);
    let mut acc = Jacobian::INFINITY;
    g.add_multiple(&mut acc, &to_ours(&u1));
    table.add_multiple(&mut acc, &to_ours(&u2));
    let expected = ProjectivePoint::GENERATOR * u1 + ProjectivePoint::from(case.q) * u2;
    if expected == ProjectivePoint::IDENTITY {
        assert!(acc.is_infinity(), "expected infinity");
    } else {
        let ours = batch_to_affine(&[acc]).expect("finite sum");
        let expected = expected.to_affine();
        assert_eq!(ours[0].x.to_be_bytes(), <[u8; 32]>::from(expected.x()));
        assert_eq!(ours[0].y.to_be_bytes(), <[u8; 32]>::from(expected.y()));
    }
    Outcome {
        ours,
        theirs,
        reached,
    }
}

/// Accepted signatures whose last key window, `j = 31`, meets an exceptional
/// case after the 31 windows below it were added: `doubling` asks for
/// `A + C₃₁·Q = c₃₁·256³¹·Q`, otherwise the cancellation of window 30,
/// `A + C₃₀·Q = −c₃₀·256³⁰·Q`, which the top window then restarts from.
///
/// Either way `R = A + u2·Q = T·Q` for `T = 2c₃₁·256³¹` (doubling) or
/// `T = c₃₁·256³¹` (cancellation), and `A = (T − u2)·Q`. Pick `R = k·G` (so
/// `r = x(R) mod n`) and `c₃₁`; then `Q = (k/T)·G`, and `u1 = e·u2/r` turns
/// `A = (T − u2)·Q` into `u2 = r·k·T / (T·e + r·k)`, one candidate per
/// `c₃₁`. It fits when its own top byte is `c₃₁` (about one `c₃₁` in 256,
/// so one fit per `k` on average), and for the cancellation when `c₃₀ ≠ 0`.
fn accepted_at_top(doubling: bool, wanted: usize) -> Vec<Case> {
    let mut out = Vec::new();
    for attempt in 0..200u32 {
        let msg = format!("edgeguard exceptional {doubling} {attempt}").into_bytes();
        let e = digest(&msg);
        let k = scalar("nonce", attempt);
        let r = x_mod_n(&times_g(k));
        let rk = r * k;
        for c31 in 1..=255u8 {
            let mut t = top_weight() * Scalar::from(u64::from(c31));
            if doubling {
                t = t.double();
            }
            let Some(denominator) = Option::<Scalar>::from((t * e + rk).invert_vartime()) else {
                continue;
            };
            let u2 = rk * t * denominator;
            if window(&u2, 31) != c31 || (!doubling && window(&u2, 30) == 0) {
                continue;
            }
            let u1 = e * u2 * inv(r);
            let q = times_g(k * inv(t));
            let case = signature_for(msg.clone(), u1, u2, q);
            assert_eq!(case.r, r, "the solution signs with r = x(R) mod n");
            out.push(case);
            if out.len() == wanted {
                return out;
            }
        }
    }
    panic!("found only {} of {wanted} cases", out.len());
}

/// Rejected signatures that meet the exceptional case at key window `j`
/// (below the top, so windows on both sides of it are added): `u1`, `u2` are
/// free, and `Q = u1/m · G` with `m = c_j·256ʲ − C_j` (doubling) or
/// `m = −(c_j·256ʲ + C_j)` (cancellation) makes `A = m·Q`.
fn rejected_at(doubling: bool, j: usize, i: u32) -> Case {
    let u1 = scalar("u1", i);
    let mut u2 = scalar("u2", i);
    while window(&u2, j) == 0 || window(&u2, 31) == 0 {
        u2 = u2.double();
    }
    let step = weight(j) * Scalar::from(u64::from(window(&u2, j)));
    let m = if doubling {
        step - below(&u2, j)
    } else {
        -(step + below(&u2, j))
    };
    let msg = format!("edgeguard rejected {doubling} {j} {i}").into_bytes();
    signature_for(msg, u1, u2, times_g(u1 * inv(m)))
}

/// The same case with `s` changed: the exceptional sum is gone and the
/// verdict must still agree.
fn with_other_s(case: &Case) -> Case {
    Case {
        msg: case.msg.clone(),
        r: case.r,
        s: case.s + Scalar::ONE,
        q: case.q,
    }
}

#[test]
fn doubling_in_the_key_pass() {
    let accepted = accepted_at_top(true, 4);
    for case in &accepted {
        let o = run(case);
        assert!(o.theirs, "constructed to verify");
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(o.count(Exception::Doubled) >= 1, "{o:?}");
        let o = run(&with_other_s(case));
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(!o.ours);
    }
    for (i, j) in [(0u32, 1usize), (1, 9), (2, 16), (3, 30)] {
        let o = run(&rejected_at(true, j, i));
        assert!(!o.theirs);
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(o.count(Exception::Doubled) >= 1, "window {j}: {o:?}");
        assert_eq!(o.count(Exception::Cancelled), 0, "window {j}: {o:?}");
    }
}

#[test]
fn cancellation_in_the_key_pass() {
    let accepted = accepted_at_top(false, 4);
    for case in &accepted {
        let o = run(case);
        assert!(o.theirs, "constructed to verify");
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(o.count(Exception::Cancelled) >= 1, "{o:?}");
        assert_eq!(o.count(Exception::InfiniteResult), 0, "{o:?}");
        let o = run(&with_other_s(case));
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(!o.ours);
    }
    for (i, j) in [(0u32, 2usize), (1, 11), (2, 17), (3, 29)] {
        let o = run(&rejected_at(false, j, i));
        assert!(!o.theirs);
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(o.count(Exception::Cancelled) >= 1, "window {j}: {o:?}");
        assert_eq!(o.count(Exception::InfiniteResult), 0, "window {j}: {o:?}");
    }
}

/// `R = ∞`: `Q = −(u1/u2)·G`, so the last key window added cancels the
/// rest. Cases 3 and 4 zero the top byte(s) of `u2`, so the last window
/// added is 30 or 29 rather than 31.
#[test]
fn sum_at_infinity() {
    for i in 0..5u32 {
        let u1 = scalar("inf u1", i);
        let mut bytes = scalar("inf u2", i).to_bytes();
        for b in bytes.iter_mut().take(i.saturating_sub(2) as usize) {
            *b = 0;
        }
        let u2 = Option::from(Scalar::from_repr(bytes)).expect("below n");
        let q = times_g(-(u1 * inv(u2)));
        let case = signature_for(format!("edgeguard infinity {i}").into_bytes(), u1, u2, q);
        let o = run(&case);
        assert!(!o.theirs);
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert!(o.count(Exception::Cancelled) >= 1, "{o:?}");
        assert_eq!(o.count(Exception::InfiniteResult), 1, "{o:?}");
    }
}

/// Big-endian `a + b` of values whose sum is below 2²⁵⁶.
fn add_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let t = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = t as u8; // low byte
        carry = t >> 8;
    }
    assert_eq!(carry, 0);
    out
}

/// The points with `x = base + t` for `t = 1, 2, …` that lie on the curve
/// (about half do), `y` of alternating parity.
fn points_with_x_from(base: &[u8; 32], wanted: usize) -> Vec<(u64, AffinePoint)> {
    let mut out = Vec::new();
    for t in 1..200u64 {
        let mut tb = [0u8; 32];
        tb[24..].copy_from_slice(&t.to_be_bytes());
        let x = FieldBytes::from(add_be(base, &tb));
        let odd = Choice::from((out.len() % 2) as u8);
        if let Some(p) = Option::<AffinePoint>::from(AffinePoint::decompress(&x, odd)) {
            out.push((t, p));
            if out.len() == wanted {
                return out;
            }
        }
    }
    panic!("too few points");
}

/// A key for which the signature `(r, s)` over `msg` has `u1·G + u2·Q = R`:
/// `Q = (R − u1·G)/u2`, whose discrete logarithm nobody needs to know.
fn case_with_sum(msg: Vec<u8>, r: Scalar, s: Scalar, big_r: &AffinePoint) -> Case {
    let w = inv(s);
    let (u1, u2) = (digest(&msg) * w, r * w);
    let q =
        ((ProjectivePoint::from(*big_r) - ProjectivePoint::GENERATOR * u1) * inv(u2)).to_affine();
    Case { msg, r, s, q }
}

/// `x(R) ∈ [n, p)`: `R` is a point with `x = n + t`, so `r = t` is accepted
/// through the `r + n` comparison. Then the guard of that comparison: for
/// `x(R) = t` and `r = t + (p − n)`, `r + n ≡ x(R) (mod p)` but
/// `x(R) mod n ≠ r`, so it must be rejected.
#[test]
fn x_of_the_sum_at_least_n() {
    for (i, (t, big_r)) in points_with_x_from(&ORDER, 4).into_iter().enumerate() {
        let r = Scalar::from(t);
        let s = scalar("wide s", i as u32);
        let case = case_with_sum(format!("edgeguard wide {i}").into_bytes(), r, s, &big_r);
        let o = run(&case);
        assert!(o.theirs, "constructed to verify");
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert_eq!(o.count(Exception::XAboveOrder), 1, "{o:?}");
        for other in [
            with_other_s(&case),
            Case {
                r: r + Scalar::ONE,
                ..with_other_s(&case)
            },
        ] {
            let o = run(&other);
            assert!(!o.ours && !o.theirs, "{o:?}");
            assert_eq!(o.count(Exception::XAboveOrder), 0, "{o:?}");
        }
    }
    let p_minus_n = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(P_MINUS_N));
    for (i, (t, big_r)) in points_with_x_from(&[0; 32], 4).into_iter().enumerate() {
        let r = Scalar::from(t) + p_minus_n;
        let s = scalar("guard s", i as u32);
        let case = case_with_sum(format!("edgeguard guard {i}").into_bytes(), r, s, &big_r);
        let o = run(&case);
        assert!(!o.theirs);
        assert_eq!(o.ours, o.theirs, "{o:?}");
        assert_eq!(o.count(Exception::XAboveOrder), 0, "{o:?}");
    }
}
