//! Helpers shared by the webhook tests: an independent RFC 2104 HMAC-SHA256
//! (built directly on `sha2`, not on the `hmac` crate the verifiers use), hex,
//! base64 and header construction.
#![allow(dead_code)]

use base64::Engine;
use edgeguard_core::webhook::{Headers, Provider, Tolerance, Verifier, WebhookVerifiers};
use sha2::{Digest, Sha256};

/// HMAC-SHA256 per RFC 2104, independent of the code under test.
pub fn oracle_hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        let h = Sha256::digest(key);
        k[..32].copy_from_slice(&h);
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    inner.update(msg);
    let ih = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
    outer.update(ih);
    outer.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> Headers<'a> {
    Headers::new(pairs.iter().copied()).unwrap()
}

pub fn owned_headers(pairs: &[(String, String)]) -> Headers<'_> {
    Headers::new(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap()
}

pub fn verifier(provider: Provider, value: &str) -> Verifier {
    Verifier::from_env_value(provider, "TEST_SECRET", value, Tolerance::default()).unwrap()
}

pub fn registry(pairs: &[(&str, &str)]) -> WebhookVerifiers {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    WebhookVerifiers::from_env(move |name| {
        owned
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

/// A tiny deterministic PRNG (xorshift64*), so generated inputs are reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % (n as u64).max(1)) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// Random bytes of a random length below `max`.
    pub fn some_bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}
