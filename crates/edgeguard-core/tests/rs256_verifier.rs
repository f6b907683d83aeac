//! Our RS256 verifier (`auth::rsa`) against tokens signed by jwt-simple's
//! `RS256KeyPair` (the `rsa` crate): every signed token verifies and any
//! one-bit change of signature or signing input is refused; hostile keys
//! and signatures (odd lengths, zero, the modulus itself, ...) are refused
//! without a panic. The Wycheproof sets are in `wycheproof_signatures.rs`.

use edgeguard_core::auth::rsa::{RsaKeyError, RsaPublicKey, MAX_MODULUS_BITS, MIN_MODULUS_BITS};
use edgeguard_core::auth::{b64, verify_signature, KeyMaterial};
use jwt_simple::prelude::*;
use serde_json::json;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A signed token's signing input and signature bytes.
fn sign(kp: &RS256KeyPair, rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    let len = rng.below(300);
    let text: String = (0..len)
        .map(|_| char::from(b' ' + (rng.next() % 95) as u8))
        .collect();
    let claims = Claims::with_custom_claims(json!({ "m": text, "n": rng.next() }), Duration::from_hours(1));
    let token = kp.sign(claims).expect("sign");
    let (input, sig) = token.rsplit_once('.').expect("three parts");
    (
        input.as_bytes().to_vec(),
        b64::decode(sig.as_bytes()).expect("base64url signature"),
    )
}

fn key_of(kp: &RS256KeyPair) -> KeyMaterial {
    let c = kp.public_key().to_components();
    KeyMaterial::rs256_from_components(&c.n, &c.e).expect("key loads")
}

/// Tokens of jwt-simple's key sizes (2048, 3072, 4096 is left to Wycheproof).
#[test]
fn tokens_signed_by_jwt_simple_verify_and_any_bit_flip_fails() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut checked = 0;
    for bits in [2048, 2048, 3072] {
        let kp = RS256KeyPair::generate(bits).expect("keygen");
        let key = key_of(&kp);
        let KeyMaterial::Rs256(pk) = &key else {
            panic!("RS256 key")
        };
        assert_eq!(pk.modulus_bits(), bits);
        assert_eq!(pk.modulus_len(), bits / 8);
        let other = key_of(&RS256KeyPair::generate(2048).expect("keygen"));
        for _ in 0..12 {
            let (input, sig) = sign(&kp, &mut rng);
            assert_eq!(sig.len(), bits / 8);
            assert!(verify_signature(&key, &input, &sig), "{bits}-bit token");
            assert!(!verify_signature(&other, &input, &sig));
            for _ in 0..8 {
                let mut bad = sig.clone();
                let i = rng.below(bad.len());
                bad[i] ^= 1 << rng.below(8);
                assert!(!verify_signature(&key, &input, &bad), "signature bit flip at {i}");
                let mut bad = input.clone();
                let i = rng.below(bad.len());
                bad[i] ^= 1 << rng.below(8);
                assert!(!verify_signature(&key, &bad, &sig), "input bit flip at {i}");
            }
            // One byte more or less, either end.
            let mut longer = vec![0u8];
            longer.extend_from_slice(&sig);
            assert!(!verify_signature(&key, &input, &longer));
            assert!(!verify_signature(&key, &input, &[sig.as_slice(), &[0]].concat()));
            assert!(!verify_signature(&key, &input, &sig[1..]));
            assert!(!verify_signature(&key, &input, &sig[..sig.len() - 1]));
            assert!(!verify_signature(&key, &[input.as_slice(), b"x"].concat(), &sig));
            checked += 1;
        }
    }
    assert_eq!(checked, 36);
}

/// Random messages signed by the `rsa` crate under keys of sizes on and
/// off 32-bit word boundaries (2056 and 3000 bits: a partial top word, a
/// byte length that is not a multiple of 4): ours agrees with `rsa`'s own
/// verifier on every valid and every one-bit-changed signature.
#[test]
fn agrees_with_the_rsa_crate_on_random_messages_and_bit_flips() {
    use rsa::traits::PublicKeyParts as _;
    use rsa::{Pkcs1v15Sign, RsaPrivateKey};
    use sha2::{Digest as _, Sha256};
    let mut rng = Rng(0xd1ff_5eed_0003);
    let mut os = rsa::rand_core::OsRng;
    let scheme = || Pkcs1v15Sign::new::<rsa::sha2::Sha256>();
    let (mut agreed_valid, mut agreed_invalid) = (0, 0);
    for bits in [2048, 2056, 2081, 3000] {
        let sk = RsaPrivateKey::new(&mut os, bits).expect("keygen");
        let pk = sk.to_public_key();
        let key = KeyMaterial::rs256_from_components(&pk.n().to_bytes_be(), &pk.e().to_bytes_be())
            .expect("key loads");
        let len = bits.div_ceil(8);
        for _ in 0..10 {
            let msg_len = rng.below(200);
            let msg = rng.bytes(msg_len);
            let sig = sk.sign(scheme(), &Sha256::digest(&msg)).expect("sign");
            assert_eq!(sig.len(), len);
            assert!(verify_signature(&key, &msg, &sig), "{bits}-bit signature");
            agreed_valid += 1;
            for _ in 0..6 {
                let mut bad = sig.clone();
                let i = rng.below(len);
                bad[i] ^= 1 << rng.below(8);
                let theirs = pk.verify(scheme(), &Sha256::digest(&msg), &bad).is_ok();
                assert_eq!(verify_signature(&key, &msg, &bad), theirs);
                assert!(!theirs);
                let mut bad = msg.clone();
                bad.push(0);
                let i = rng.below(bad.len());
                bad[i] ^= 1 << rng.below(8);
                let theirs = pk.verify(scheme(), &Sha256::digest(&bad), &sig).is_ok();
                assert_eq!(verify_signature(&key, &bad, &sig), theirs);
                assert!(!theirs);
                agreed_invalid += 2;
            }
        }
    }
    assert_eq!((agreed_valid, agreed_invalid), (40, 480));
}

/// The key policy: leading zero bytes ignored, 2048..=4096 bits, odd
/// modulus, e = 65537 (with or without leading zeros).
#[test]
fn key_policy() {
    let mut rng = Rng(0x0dd_5eed);
    let modulus = |bits: usize, rng: &mut Rng| {
        let mut n = rng.bytes(bits.div_ceil(8));
        let top = bits - 8 * (n.len() - 1); // bits used in the first byte
        n[0] = (n[0] | 0x80) >> (8 - top);
        *n.last_mut().unwrap() |= 1;
        n
    };
    let e = [1, 0, 1];
    for bits in [MIN_MODULUS_BITS, 2049, 2055, 2056, 3000, MAX_MODULUS_BITS - 1, MAX_MODULUS_BITS] {
        let n = modulus(bits, &mut rng);
        let k = RsaPublicKey::from_components(&n, &e).expect("in policy");
        assert_eq!(k.modulus_bits(), bits);
        let padded = [vec![0, 0, 0], n.clone()].concat();
        let k = RsaPublicKey::from_components(&padded, &[0, 0, 1, 0, 1]).expect("leading zeros");
        assert_eq!((k.modulus_bits(), k.modulus_len()), (bits, n.len()));
        assert!(KeyMaterial::rs256_from_components(&padded, &e).is_some());
        let mut even = n.clone();
        *even.last_mut().unwrap() &= 0xfe;
        assert_eq!(RsaPublicKey::from_components(&even, &e).unwrap_err(), RsaKeyError::EvenModulus);
        for bad_e in [&[][..], &[0], &[1], &[3], &[1, 0, 0], &[1, 0, 1, 0], &[1, 0, 0, 0, 1], &[0xff; 9]] {
            assert_eq!(
                RsaPublicKey::from_components(&n, bad_e).unwrap_err(),
                RsaKeyError::UnsupportedExponent,
                "e = {bad_e:?}"
            );
        }
    }
    for bits in [0, 1, 8, 512, 1024, 2047] {
        let n = if bits == 0 { vec![] } else { modulus(bits, &mut rng) };
        assert_eq!(RsaPublicKey::from_components(&n, &e).unwrap_err(), RsaKeyError::ModulusTooSmall);
        assert!(KeyMaterial::rs256_from_components(&[vec![0; 300], n].concat(), &e).is_none());
    }
    for bits in [MAX_MODULUS_BITS + 1, 8192, 20000] {
        let n = modulus(bits, &mut rng);
        assert_eq!(RsaPublicKey::from_components(&n, &e).unwrap_err(), RsaKeyError::ModulusTooLarge);
    }
    assert_eq!(RsaPublicKey::from_components(&[0; 600], &e).unwrap_err(), RsaKeyError::ModulusTooSmall);
}

/// Hostile signatures under real and random (not RSA) moduli: refused,
/// never a panic. A signature is exactly the modulus' length and below it.
#[test]
fn garbage_signatures_and_moduli_are_refused_without_panic() {
    let mut rng = Rng(0xbad_5eed_0002);
    let kp = RS256KeyPair::generate(2048).expect("keygen");
    let real = kp.public_key().to_components();
    let (input, good) = sign(&kp, &mut rng);
    let mut moduli = vec![real.n.clone()];
    for bits in [2048usize, 2049, 2050, 2063, 2081, 3001, 4095, 4096] {
        let mut n = rng.bytes(bits.div_ceil(8));
        n[0] = (n[0] | 0x80) >> (8 * n.len() - bits);
        *n.last_mut().unwrap() |= 1;
        moduli.push(n);
    }
    // Extreme moduli: all ones, 2^(bits-1) + 1.
    moduli.push(vec![0xff; 256]);
    moduli.push([vec![0x80], vec![0; 254], vec![1]].concat());
    moduli.push([vec![0x01], vec![0; 255], vec![1]].concat());
    let mut refused = 0;
    for n in &moduli {
        let key = KeyMaterial::rs256_from_components(n, &real.e).expect("in policy");
        let len = n.len();
        let minus = |v: &[u8], d: u8| {
            let mut v = v.to_vec();
            let mut borrow = d;
            for b in v.iter_mut().rev() {
                let (x, o) = b.overflowing_sub(borrow);
                *b = x;
                borrow = u8::from(o);
            }
            v
        };
        let plus_one = {
            let mut v = n.clone();
            for b in v.iter_mut().rev() {
                let (x, o) = b.overflowing_add(1);
                *b = x;
                if !o {
                    break;
                }
            }
            v
        };
        let mut one = vec![0u8; len];
        *one.last_mut().unwrap() = 1;
        let mut sigs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0; len],
            vec![0xff; len],
            one,
            n.clone(),
            plus_one,
            minus(n, 1),
            minus(n, 2),
            good.clone(),
            vec![0; len + 1],
            [vec![0], n.clone()].concat(),
            vec![0; len - 1],
            vec![0xff; 10_000],
        ];
        for l in [1, 2, 3, 5, 7, 31, 33, 255, 257, len - 1, len, len + 1, 513, 1023] {
            sigs.push(rng.bytes(l));
        }
        for sig in &sigs {
            let ok = verify_signature(&key, &input, sig);
            // Only the real key with the real signature verifies.
            assert_eq!(ok, n == &real.n && sig == &good, "len {} under {len}-byte modulus", sig.len());
            refused += usize::from(!ok);
        }
    }
    assert!(refused > 300, "{refused}");
}

/// Ed25519 keys: the key is held directly; non-canonical and small-order
/// keys are refused at load, as before.
#[test]
fn eddsa_keys_and_signatures() {
    let kp = Ed25519KeyPair::generate();
    let pk = kp.public_key().to_bytes();
    let key = KeyMaterial::eddsa_from_bytes(&pk).expect("key loads");
    let token = kp
        .sign(Claims::create(Duration::from_hours(1)))
        .expect("sign");
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = b64::decode(sig.as_bytes()).unwrap();
    assert!(verify_signature(&key, input.as_bytes(), &sig));
    let mut bad = sig.clone();
    bad[5] ^= 4;
    assert!(!verify_signature(&key, input.as_bytes(), &bad));
    assert!(!verify_signature(&key, input.as_bytes(), &sig[1..]));
    assert!(!verify_signature(&key, input.as_bytes(), &[]));
    // Wrong lengths; the identity point (small order); y = p (non-canonical).
    assert!(KeyMaterial::eddsa_from_bytes(&pk[1..]).is_none());
    assert!(KeyMaterial::eddsa_from_bytes(&[pk.as_slice(), &[0]].concat()).is_none());
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(KeyMaterial::eddsa_from_bytes(&identity).is_none());
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    assert!(KeyMaterial::eddsa_from_bytes(&p).is_none());
}
