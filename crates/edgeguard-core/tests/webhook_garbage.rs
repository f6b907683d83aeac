//! Generated garbage never panics and never verifies: random headers, header
//! values built from signature-shaped fragments, random bodies and clocks, for
//! every endpoint, plus random environment values for the configuration.

mod support;

use edgeguard_core::webhook::{secret::SecretSet, Headers, Tolerance, WebhookError, ENDPOINTS};
use edgeguard_core::ErrorCode;
use support::*;

const FRAGMENTS: &[&str] = &[
    "t=",
    "v1=",
    "v0=",
    "v1,",
    "v1a,",
    "v2,",
    "sha256=",
    "sha1=",
    ",",
    ", ",
    " ",
    "\t",
    "=",
    "==",
    "|",
    "whsec_",
    "1750000000",
    "-1",
    "99999999999999999999",
    "0",
    "abc",
    "ff",
    "0123456789abcdef",
    "AAAA",
    "+/",
    "-_",
    "\u{e9}",
    "\u{0}",
    "\u{7f}",
    "msg_1",
    "evt_1",
    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
];

const NAMES: &[&str] = &[
    "Stripe-Signature",
    "stripe-signature",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Hub-Signature-256",
    "X-GitHub-Delivery",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "content-type",
    "",
];

fn garbage_string(rng: &mut Rng, max_parts: usize) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(max_parts) {
        if rng.below(4) == 0 {
            let bytes = rng.some_bytes(12);
            s.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            let fragment: &&str = rng.pick(FRAGMENTS);
            s.push_str(fragment);
        }
    }
    s
}

#[test]
fn random_deliveries_never_panic_and_never_verify() {
    let std_secret = format!("v1,whsec_{}", b64(b"0123456789abcdef0123456789abcdef"));
    let reg = registry(&[
        (
            "STRIPE_WEBHOOK_SECRET",
            "whsec_garbage_test_secret_0123456789",
        ),
        ("SHOPIFY_WEBHOOK_SECRET", "shopify_garbage_test_secret_0123"),
        ("GITHUB_WEBHOOK_SECRET", "It's a Secret to Everybody"),
        ("STANDARD_WEBHOOK_SECRET", std_secret.as_str()),
        ("AUTH_HOOK_SECRET", std_secret.as_str()),
    ]);
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..20_000 {
        let n = rng.below(8);
        let mut pairs: Vec<(String, String)> = Vec::new();
        for _ in 0..n {
            let name = if rng.below(8) == 0 {
                garbage_string(&mut rng, 3)
            } else {
                rng.pick(NAMES).to_string()
            };
            let value = if rng.below(50) == 0 {
                "v".repeat(5000)
            } else {
                garbage_string(&mut rng, 12)
            };
            pairs.push((name, value));
        }
        let body = rng.some_bytes(256);
        let now = match rng.below(4) {
            0 => i64::MIN,
            1 => i64::MAX,
            2 => 1_750_000_000,
            _ => rng.next() as i64,
        };
        let headers = Headers::new(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str()))).unwrap();
        for ep in ENDPOINTS {
            let e = reg
                .verify(ep.name, &headers, &body, now)
                .expect_err("garbage verified");
            assert_eq!(e.code(), ErrorCode::InvalidSignature, "{e:?}");
            assert!(!e.reason().contains("garbage_test_secret"));
            *seen
                .entry(
                    format!("{e:?}")
                        .split(['(', ' '])
                        .next()
                        .unwrap_or("")
                        .to_string(),
                )
                .or_insert(0u32) += 1;
        }
    }
    // The generator reaches the interesting refusals, not only "missing header".
    for kind in [
        "MissingHeader",
        "MalformedHeader",
        "MalformedSignature",
        "SignatureMismatch",
        "HeaderTooLarge",
        "DuplicateHeader",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 0,
            "never produced {kind}: {seen:?}"
        );
    }
}

#[test]
fn random_env_values_never_panic() {
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        let value = garbage_string(&mut rng, 10);
        for r in [
            SecretSet::parse_raw("V", &value),
            SecretSet::parse_standard("V", &value),
        ] {
            if let Err(e) = r {
                assert_eq!(e.code(), ErrorCode::Misconfigured);
            }
        }
        if let Err(e) = Tolerance::from_env_value(Some(&value)) {
            assert_eq!(e, WebhookError::InvalidTolerance);
        }
    }
}

#[test]
fn random_bodies_signed_correctly_always_verify() {
    // The other side of the property: any body bytes, correctly signed, verify
    // for the schemes without a JSON requirement.
    let std_secret = format!("whsec_{}", b64(b"0123456789abcdef0123456789abcdef"));
    let reg = registry(&[
        ("SHOPIFY_WEBHOOK_SECRET", "shopify_garbage_test_secret_0123"),
        ("GITHUB_WEBHOOK_SECRET", "It's a Secret to Everybody"),
        ("STANDARD_WEBHOOK_SECRET", std_secret.as_str()),
    ]);
    let mut rng = Rng(99);
    for i in 0..2_000 {
        let body = rng.some_bytes(4096);
        let now = 1_700_000_000 + rng.below(100_000) as i64;
        for name in ["shopify", "github", "standard"] {
            let v = reg.verifier(name).unwrap();
            let signed = v.sign(&format!("msg_{i}"), &body, now);
            let h = owned_headers(&signed);
            let got = reg.verify(name, &h, &body, now).unwrap();
            assert_eq!(got.provider, v.provider());
        }
    }
}
