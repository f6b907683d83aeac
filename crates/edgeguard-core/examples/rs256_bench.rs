//! Native RS256 figures: `cargo run --release -p edgeguard-core --example rs256_bench`.
//! Prints µs per key load (`KeyMaterial::rs256_from_components`) and per
//! signature verification (`verify_signature`) for 2048-, 3072- and
//! 4096-bit keys. Uses only the public API, so the same file can be run
//! against an older edgeguard-core to compare verifiers.

use edgeguard_core::auth::{b64, verify_signature, KeyMaterial};
use jwt_simple::prelude::*;
use std::time::Instant;

fn main() {
    for bits in [2048, 3072, 4096] {
        let kp = RS256KeyPair::generate(bits).expect("keygen");
        let c = kp.public_key().to_components();
        let tokens: Vec<(Vec<u8>, Vec<u8>)> = (0..64)
            .map(|i| {
                let claims = Claims::create(Duration::from_hours(1)).with_subject(format!("u{i}"));
                let t = kp.sign(claims).expect("sign");
                let (input, sig) = t.rsplit_once('.').expect("token");
                (input.as_bytes().to_vec(), b64::decode(sig.as_bytes()).expect("b64"))
            })
            .collect();
        let loads = 200u32;
        let t0 = Instant::now();
        for _ in 0..loads {
            std::hint::black_box(KeyMaterial::rs256_from_components(&c.n, &c.e).expect("key"));
        }
        let load_us = t0.elapsed().as_secs_f64() * 1e6 / f64::from(loads);
        let key = KeyMaterial::rs256_from_components(&c.n, &c.e).expect("key");
        let rounds = 2000 * 2048 * 2048 / (bits * bits);
        let t0 = Instant::now();
        for i in 0..rounds {
            let (input, sig) = &tokens[i % tokens.len()];
            assert!(verify_signature(&key, input, sig));
        }
        let verify_us = t0.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!("RS256 {bits}: key load {load_us:.1} µs, verify {verify_us:.1} µs ({rounds} verifications)");
    }
}
