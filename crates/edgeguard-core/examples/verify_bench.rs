//! Native reference numbers: `cargo run --release -p edgeguard-core --example verify_bench`.
//! Prints ns/op for the ES256 signature step, a full Gate check with a new
//! token each time, a repeated (cached) token, the whole pipeline's first
//! step for that token, and HS256.

use edgeguard_core::auth::{b64, verify_signature, KeyMaterial};
use edgeguard_core::authz::{Gate, Request};
use edgeguard_core::sorted_map::SortedMap;
use jwt_simple::prelude::*;
use p256::ecdsa::signature::Signer as _;
use std::time::Instant;

fn main() {
    let kp = ES256KeyPair::generate();
    let pt = kp.public_key().public_key().to_bytes_uncompressed();
    let now = 1_900_000_000u64;
    let sign = |i: u64| {
        let h = b64::encode(br#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#);
        let c = format!(
            r#"{{"sub":"u{i}","aud":"authenticated","role":"authenticated","exp":{},"iat":{}}}"#,
            now + 3600,
            now
        );
        let input = format!("{h}.{}", b64::encode(c.as_bytes()));
        let sk: &p256::ecdsa::SigningKey = kp.key_pair().as_ref();
        let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
        format!("{input}.{}", b64::encode(&sig.to_bytes()))
    };
    let key = KeyMaterial::es256_from_sec1(&pt).unwrap();
    let n = 2000u64;
    let tokens: Vec<String> = (0..n).map(sign).collect();
    // A key's first tokens go through p256's own verifier; its table is built
    // after ES256_TABLE_AFTER of them. Measure the steady state: build it first.
    for t in &tokens[..edgeguard_core::auth::keys::ES256_TABLE_AFTER as usize] {
        let (input, sig) = t.rsplit_once('.').unwrap();
        assert!(verify_signature(
            &key,
            input.as_bytes(),
            &b64::decode(sig.as_bytes()).unwrap()
        ));
    }
    let t0 = Instant::now();
    for t in &tokens {
        let (input, sig) = t.rsplit_once('.').unwrap();
        assert!(verify_signature(
            &key,
            input.as_bytes(),
            &b64::decode(sig.as_bytes()).unwrap()
        ));
    }
    println!(
        "ES256 verify_signature: {} ns/op",
        t0.elapsed().as_nanos() / u128::from(n)
    );

    let jwks = format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k1","x":"{}","y":"{}"}}]}}"#,
        b64::encode(&pt[1..33]),
        b64::encode(&pt[33..65])
    );
    let mut env = SortedMap::new();
    env.insert("SUPABASE_JWKS".to_string(), jwks);
    env.insert("JWT_SECRET".to_string(), "x".repeat(40));
    let mut gate = Gate::new(
        r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"}]}"#,
        &env,
    )
    .unwrap();
    let req = |t: &str| {
        let mut headers = SortedMap::new();
        headers.insert("authorization".to_string(), format!("Bearer {t}"));
        Request {
            method: "GET".into(),
            path: "/me".into(),
            headers,
            ..Default::default()
        }
    };
    let reqs: Vec<Request> = tokens.iter().map(|t| req(t)).collect();
    let now_ms = now as f64 * 1000.0;
    // The gate's key builds its table after ES256_TABLE_AFTER tokens (others than the timed ones).
    for i in 0..u64::from(edgeguard_core::auth::keys::ES256_TABLE_AFTER) {
        assert!(matches!(
            gate.check(&req(&sign(n + i)), now_ms),
            edgeguard_core::authz::Decision::Allow { .. }
        ));
    }
    let t0 = Instant::now();
    for r in &reqs {
        assert!(matches!(
            gate.check(r, now_ms),
            edgeguard_core::authz::Decision::Allow { .. }
        ));
    }
    println!(
        "Gate.check ES256, new token each time: {} ns/op",
        t0.elapsed().as_nanos() / u128::from(n)
    );
    let r0 = &reqs[0];
    let m = 100_000u64;
    let t0 = Instant::now();
    for _ in 0..m {
        assert!(matches!(
            gate.check(r0, now_ms),
            edgeguard_core::authz::Decision::Allow { .. }
        ));
    }
    println!(
        "Gate.check repeated (cached) token: {} ns/op",
        t0.elapsed().as_nanos() / u128::from(m)
    );
    // The whole pipeline for the same request (route, request id, credentials,
    // limits, params, empty body, CSRF, client IP): what one wasm `begin` runs.
    let mut guard = edgeguard_core::guard::Guard::new(
        r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me","limits":{"exempt":true}}]}"#,
        &env,
        edgeguard_core::guard::GuardOptions::default(),
    )
    .unwrap();
    let mut parts_headers = SortedMap::new();
    parts_headers.insert("authorization".to_string(), format!("Bearer {}", tokens[0]));
    let parts = edgeguard_core::guard::RequestParts {
        method: "GET".into(),
        url: "http://localhost/me".into(),
        headers: parts_headers,
        remote_addr: None,
    };
    let t0 = Instant::now();
    for _ in 0..m {
        let (_, step) = guard.begin(parts.clone(), now_ms);
        assert!(matches!(step, edgeguard_core::guard::Step::Allow(_)));
    }
    println!(
        "Guard.begin repeated (cached) token: {} ns/op",
        t0.elapsed().as_nanos() / u128::from(m)
    );
    let hs = HS256Key::from_bytes("x".repeat(40).as_bytes());
    let hs_tokens: Vec<Request> = (0..n)
        .map(|i| {
            let mut c = Claims::create(Duration::from_secs(3600)).with_subject(format!("u{i}"));
            c.issued_at = Some(UnixTimeStamp::from_secs(now));
            c.expires_at = Some(UnixTimeStamp::from_secs(now + 3600));
            c.invalid_before = None;
            req(&hs.authenticate(c).unwrap())
        })
        .collect();
    let t0 = Instant::now();
    for r in &hs_tokens {
        assert!(matches!(
            gate.check(r, now_ms),
            edgeguard_core::authz::Decision::Allow { .. }
        ));
    }
    println!(
        "Gate.check HS256, new token each time: {} ns/op",
        t0.elapsed().as_nanos() / u128::from(n)
    );
}
