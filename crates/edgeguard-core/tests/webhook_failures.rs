//! Every way a webhook delivery or a webhook configuration can fail, one
//! precise reason each, and the rotation and multi-signature rules.

mod support;

use edgeguard_core::webhook::{
    secret::SecretSet, Headers, Provider, Tolerance, Verifier, WebhookError, MAX_HEADER_COUNT,
};
use edgeguard_core::ErrorCode;
use support::*;

const NOW: i64 = 1_750_000_000;
const STRIPE_SECRET: &str = "whsec_stripe_primary_0123456789abcdef";
const STRIPE_OLD: &str = "whsec_stripe_previous_fedcba9876543210";
const STRIPE_BODY: &[u8] = br#"{"id":"evt_test_1","object":"event","type":"invoice.paid"}"#;

fn stripe_sig(secret: &str, t: i64, body: &[u8]) -> String {
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    hex(&oracle_hmac(secret.as_bytes(), &msg))
}

fn stripe_verify(
    secret_env: &str,
    header: &str,
    body: &[u8],
    now: i64,
) -> Result<Option<String>, WebhookError> {
    let v = verifier(Provider::Stripe, secret_env);
    let h = [("Stripe-Signature", header)];
    v.verify(&headers(&h), body, now).map(|ok| ok.event_id)
}

fn assert_sig_err(r: Result<impl std::fmt::Debug, WebhookError>, want: WebhookError) {
    let e = r.expect_err("expected a refusal");
    assert_eq!(e, want);
    assert_eq!(e.code(), ErrorCode::InvalidSignature);
    assert_eq!(e.code().status(), 401);
}

// ---------- Stripe ----------

#[test]
fn stripe_valid_tampered_wrong_secret() {
    let header = format!("t={NOW},v1={}", stripe_sig(STRIPE_SECRET, NOW, STRIPE_BODY));
    assert_eq!(
        stripe_verify(STRIPE_SECRET, &header, STRIPE_BODY, NOW)
            .unwrap()
            .as_deref(),
        Some("evt_test_1")
    );
    let tampered = br#"{"id":"evt_test_1","object":"event","type":"invoice.paid "}"#;
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &header, tampered, NOW),
        WebhookError::SignatureMismatch,
    );
    assert_sig_err(
        stripe_verify(STRIPE_OLD, &header, STRIPE_BODY, NOW),
        WebhookError::SignatureMismatch,
    );
    // The signature binds the timestamp: another t with the same v1 fails.
    let moved = header.replacen(&format!("t={NOW}"), &format!("t={}", NOW + 1), 1);
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &moved, STRIPE_BODY, NOW),
        WebhookError::SignatureMismatch,
    );
    // Re-serialised JSON (same value, different bytes) does not verify.
    let reserialised = br#"{"id": "evt_test_1", "object": "event", "type": "invoice.paid"}"#;
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &header, reserialised, NOW),
        WebhookError::SignatureMismatch,
    );
}

#[test]
fn stripe_tolerance_both_directions() {
    let sig = |t: i64| format!("t={t},v1={}", stripe_sig(STRIPE_SECRET, t, STRIPE_BODY));
    // Exactly at the bounds: accepted.
    assert!(stripe_verify(STRIPE_SECRET, &sig(NOW - 300), STRIPE_BODY, NOW).is_ok());
    assert!(stripe_verify(STRIPE_SECRET, &sig(NOW + 300), STRIPE_BODY, NOW).is_ok());
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &sig(NOW - 301), STRIPE_BODY, NOW),
        WebhookError::TimestampTooOld,
    );
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &sig(NOW + 301), STRIPE_BODY, NOW),
        WebhookError::TimestampInFuture,
    );
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &sig(0), STRIPE_BODY, NOW),
        WebhookError::TimestampTooOld,
    );
    // A configured tolerance applies.
    let v = Verifier::from_env_value(
        Provider::Stripe,
        "S",
        STRIPE_SECRET,
        Tolerance::from_secs(10).unwrap(),
    )
    .unwrap();
    let h = sig(NOW - 11);
    assert_sig_err(
        v.verify(
            &headers(&[("Stripe-Signature", h.as_str())]),
            STRIPE_BODY,
            NOW,
        ),
        WebhookError::TimestampTooOld,
    );
    let h = sig(NOW + 10);
    assert!(v
        .verify(
            &headers(&[("Stripe-Signature", h.as_str())]),
            STRIPE_BODY,
            NOW
        )
        .is_ok());
}

#[test]
fn stripe_malformed_headers() {
    let good = stripe_sig(STRIPE_SECRET, NOW, STRIPE_BODY);
    let v = verifier(Provider::Stripe, STRIPE_SECRET);
    assert_sig_err(
        v.verify(&headers(&[]), STRIPE_BODY, NOW),
        WebhookError::MissingHeader("Stripe-Signature"),
    );
    assert_sig_err(
        v.verify(&headers(&[("Stripe-Signature", "")]), STRIPE_BODY, NOW),
        WebhookError::MissingHeader("Stripe-Signature"),
    );
    let malformed = |why| WebhookError::MalformedHeader {
        header: "Stripe-Signature",
        why,
    };
    let cases: Vec<(String, WebhookError)> = vec![
        (format!("v1={good}"), malformed("no timestamp")),
        (
            format!("t=abc,v1={good}"),
            malformed("timestamp is not a number"),
        ),
        (
            format!("t=-{NOW},v1={good}"),
            malformed("timestamp is not a number"),
        ),
        (
            format!("t=,v1={good}"),
            malformed("timestamp is not a number"),
        ),
        (
            format!("t=99999999999999999999,v1={good}"),
            malformed("timestamp is not a number"),
        ),
        (
            format!("t={NOW},t={NOW},v1={good}"),
            malformed("more than one timestamp"),
        ),
        (format!("t={NOW}"), WebhookError::NoSignature),
        (format!("t={NOW},v0={good}"), WebhookError::NoSignature),
        (format!("t={NOW},v1="), WebhookError::MalformedSignature),
        (
            format!("t={NOW},v1={}", good.to_uppercase()),
            WebhookError::MalformedSignature,
        ),
        (
            format!("t={NOW},v1={}", &good[..63]),
            WebhookError::MalformedSignature,
        ),
        (
            format!("t={NOW},v1={good}00"),
            WebhookError::MalformedSignature,
        ),
        (
            format!("t={NOW},v1=zz{}", &good[2..]),
            WebhookError::MalformedSignature,
        ),
        ("garbage".to_string(), malformed("no timestamp")),
    ];
    for (header, want) in cases {
        assert_sig_err(
            stripe_verify(STRIPE_SECRET, &header, STRIPE_BODY, NOW),
            want,
        );
    }
    // Spaces around items and unknown items are tolerated.
    let spaced = format!(" t={NOW} , foo , v1={good} ,x=y");
    assert!(stripe_verify(STRIPE_SECRET, &spaced, STRIPE_BODY, NOW).is_ok());
}

#[test]
fn stripe_multiple_signatures_and_rotation() {
    let good = stripe_sig(STRIPE_SECRET, NOW, STRIPE_BODY);
    let other = stripe_sig(STRIPE_OLD, NOW, STRIPE_BODY);
    let malformed_first = format!("t={NOW},v1=nothex,v1={other},v1={good}");
    assert!(stripe_verify(STRIPE_SECRET, &malformed_first, STRIPE_BODY, NOW).is_ok());
    // Sender rolling its secret: both signatures sent, we know only the new one.
    let both = format!("t={NOW},v1={other},v1={good}");
    assert!(stripe_verify(STRIPE_SECRET, &both, STRIPE_BODY, NOW).is_ok());
    // We hold two secrets: a signature by either verifies; a third secret does not.
    let rotated = format!("{STRIPE_SECRET},{STRIPE_OLD}");
    let by_old = format!("t={NOW},v1={other}");
    assert!(stripe_verify(&rotated, &by_old, STRIPE_BODY, NOW).is_ok());
    assert!(stripe_verify(&rotated, &format!("t={NOW},v1={good}"), STRIPE_BODY, NOW).is_ok());
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &by_old, STRIPE_BODY, NOW),
        WebhookError::SignatureMismatch,
    );
    let third = format!(
        "t={NOW},v1={}",
        stripe_sig("whsec_retired_secret_000000000000", NOW, STRIPE_BODY)
    );
    assert_sig_err(
        stripe_verify(&rotated, &third, STRIPE_BODY, NOW),
        WebhookError::SignatureMismatch,
    );
    // Signing with two secrets emits one v1 per secret, and each verifies alone.
    let v = verifier(Provider::Stripe, &rotated);
    let (_, value) = v.sign("", STRIPE_BODY, NOW).remove(0);
    assert_eq!(value, format!("t={NOW},v1={good},v1={other}"));
    // Bound on the number of signatures.
    let many = format!("t={NOW}{}", format!(",v1={other}").repeat(17));
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &many, STRIPE_BODY, NOW),
        WebhookError::TooManySignatures,
    );
    let sixteen = format!("t={NOW}{},v1={good}", format!(",v1={other}").repeat(15));
    assert!(stripe_verify(STRIPE_SECRET, &sixteen, STRIPE_BODY, NOW).is_ok());
}

#[test]
fn stripe_event_id_from_verified_body_only() {
    let check = |body: &[u8]| {
        let header = format!("t={NOW},v1={}", stripe_sig(STRIPE_SECRET, NOW, body));
        stripe_verify(STRIPE_SECRET, &header, body, NOW)
    };
    let deep_id = format!("{{\"id\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let deep = format!(
        "{{\"id\":\"evt_1\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: Vec<(Vec<u8>, WebhookError)> = vec![
        (b"not json".to_vec(), WebhookError::BodyNotJson),
        (b"".to_vec(), WebhookError::BodyNotJson),
        (b"[\"evt_1\"]".to_vec(), WebhookError::BodyNotJson),
        (b"\"evt_1\"".to_vec(), WebhookError::BodyNotJson),
        (
            b"{\"id\":\"evt_1\"} trailing".to_vec(),
            WebhookError::BodyNotJson,
        ),
        (
            b"{\"id\":\"evt_1\",\"id\":\"evt_2\"}".to_vec(),
            WebhookError::BodyNotJson,
        ),
        (b"{\"id\":\"evt_1\"".to_vec(), WebhookError::BodyNotJson),
        (b"\xff\xfe{}".to_vec(), WebhookError::BodyNotJson),
        (deep_id.into_bytes(), WebhookError::MissingEventId),
        (b"{}".to_vec(), WebhookError::MissingEventId),
        (b"{\"id\":42}".to_vec(), WebhookError::MissingEventId),
        (b"{\"id\":null}".to_vec(), WebhookError::MissingEventId),
        (b"{\"id\":\"\"}".to_vec(), WebhookError::MissingEventId),
        (b"{\"id\":\"evt 1\"}".to_vec(), WebhookError::MissingEventId),
        (
            format!("{{\"id\":\"{}\"}}", "e".repeat(256)).into_bytes(),
            WebhookError::MissingEventId,
        ),
        (
            b"{\"data\":{\"id\":\"nested\"}}".to_vec(),
            WebhookError::MissingEventId,
        ),
    ];
    for (body, want) in cases {
        let e = check(&body).unwrap_err();
        assert_eq!(
            e,
            want,
            "body {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
        assert_eq!(e.code(), ErrorCode::InvalidBody);
    }
    // Deep nesting elsewhere is skipped without recursion: no stack overflow.
    assert_eq!(check(deep.as_bytes()).unwrap().as_deref(), Some("evt_1"));
    assert_eq!(
        check(b"{\"data\":{\"id\":\"nested\"},\"id\":\"evt_top\"}")
            .unwrap()
            .as_deref(),
        Some("evt_top")
    );
    assert_eq!(
        check(b" {\"i\\u0064\":\"evt_esc\"} ").unwrap().as_deref(),
        Some("evt_esc")
    );
    assert_eq!(
        check(format!("{{\"id\":\"{}\"}}", "e".repeat(255)).as_bytes())
            .unwrap()
            .map(|s| s.len()),
        Some(255)
    );
    // A body that is not JSON but whose signature fails is a signature failure, not a body failure.
    let header = format!("t={NOW},v1={}", stripe_sig(STRIPE_OLD, NOW, b"not json"));
    assert_sig_err(
        stripe_verify(STRIPE_SECRET, &header, b"not json", NOW),
        WebhookError::SignatureMismatch,
    );
}

// ---------- headers ----------

#[test]
fn headers_case_insensitive_bounded_and_unique() {
    let good = format!("t={NOW},v1={}", stripe_sig(STRIPE_SECRET, NOW, STRIPE_BODY));
    let v = verifier(Provider::Stripe, STRIPE_SECRET);
    for name in [
        "stripe-signature",
        "STRIPE-SIGNATURE",
        "Stripe-Signature",
        "sTrIpE-sIgNaTuRe",
    ] {
        assert!(v
            .verify(&headers(&[(name, good.as_str())]), STRIPE_BODY, NOW)
            .is_ok());
    }
    let dup = [
        ("stripe-signature", good.as_str()),
        ("Stripe-Signature", good.as_str()),
    ];
    assert_sig_err(
        v.verify(&headers(&dup), STRIPE_BODY, NOW),
        WebhookError::DuplicateHeader("Stripe-Signature"),
    );
    let huge = format!("{good},{}", "x=y,".repeat(1200));
    assert_sig_err(
        v.verify(
            &headers(&[("Stripe-Signature", huge.as_str())]),
            STRIPE_BODY,
            NOW,
        ),
        WebhookError::HeaderTooLarge("Stripe-Signature"),
    );
    let names: Vec<String> = (0..=MAX_HEADER_COUNT).map(|i| format!("x-h-{i}")).collect();
    assert_eq!(
        Headers::new(names.iter().map(|n| (n.as_str(), "v"))).unwrap_err(),
        WebhookError::TooManyHeaders
    );
    assert!(Headers::new(
        names
            .iter()
            .take(MAX_HEADER_COUNT)
            .map(|n| (n.as_str(), "v"))
    )
    .is_ok());
    let big = "v".repeat(40_000);
    assert_eq!(
        Headers::new([("a", big.as_str()), ("b", big.as_str())]).unwrap_err(),
        WebhookError::TooManyHeaders
    );
    // Irrelevant headers may repeat; only the verifier's own must be unique.
    let extra = [
        ("x-forwarded-for", "1"),
        ("X-Forwarded-For", "2"),
        ("stripe-signature", good.as_str()),
    ];
    assert!(v.verify(&headers(&extra), STRIPE_BODY, NOW).is_ok());
}

// ---------- Shopify ----------

const SHOPIFY_SECRET: &str = "shopify_app_secret_0123456789abcdef";

#[test]
fn shopify_failures() {
    let body = br#"{"id":1,"note":"hello"}"#;
    let tag = oracle_hmac(SHOPIFY_SECRET.as_bytes(), body);
    let good = b64(&tag);
    let v = verifier(Provider::Shopify, SHOPIFY_SECRET);
    let run =
        |sig: &str, body: &[u8]| v.verify(&headers(&[("x-shopify-hmac-sha256", sig)]), body, NOW);
    assert!(run(&good, body).is_ok());
    assert_sig_err(
        run(&good, br#"{"id":1,"note":"hellO"}"#),
        WebhookError::SignatureMismatch,
    );
    assert_sig_err(
        verifier(Provider::Shopify, "another_secret_abcdefghijkl").verify(
            &headers(&[("X-Shopify-Hmac-Sha256", good.as_str())]),
            body,
            NOW,
        ),
        WebhookError::SignatureMismatch,
    );
    assert_sig_err(
        v.verify(&headers(&[]), body, NOW),
        WebhookError::MissingHeader("X-Shopify-Hmac-Sha256"),
    );
    // Non-canonical base64: the last character's two unused bits set decodes to
    // the same 32 bytes in lenient decoders; it is refused here.
    let last = good.as_bytes()[42];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let idx = alphabet.iter().position(|c| *c == last).unwrap();
    let noncanon = format!("{}{}=", &good[..42], alphabet[idx | 1] as char);
    assert_ne!(noncanon, good);
    assert_sig_err(run(&noncanon, body), WebhookError::MalformedSignature);
    for bad in [
        good.trim_end_matches('=').to_string(),
        format!("{good}="),
        hex(&tag),
        base64_url(&good),
        good[..40].to_string(),
        format!("{good}AAAA"),
        "!!!!".to_string(),
    ] {
        if bad == good {
            continue;
        }
        assert_sig_err(run(&bad, body), WebhookError::MalformedSignature);
    }
    // Rotation: either secret verifies.
    let rotated = verifier(
        Provider::Shopify,
        &format!("another_secret_abcdefghijkl, {SHOPIFY_SECRET}"),
    );
    assert!(rotated
        .verify(
            &headers(&[("X-Shopify-Hmac-Sha256", good.as_str())]),
            body,
            NOW
        )
        .is_ok());
    // An id header that is not a usable id is refused.
    let h = [
        ("X-Shopify-Hmac-Sha256", good.as_str()),
        ("X-Shopify-Webhook-Id", "has space"),
    ];
    assert_sig_err(
        v.verify(&headers(&h), body, NOW),
        WebhookError::MalformedHeader {
            header: "X-Shopify-Webhook-Id",
            why: "not a usable id",
        },
    );
}

fn base64_url(s: &str) -> String {
    s.replace('+', "-").replace('/', "_")
}

// ---------- GitHub ----------

const GITHUB_SECRET: &str = "github-webhook-secret-0123456789";

#[test]
fn github_failures() {
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let good = format!(
        "sha256={}",
        hex(&oracle_hmac(GITHUB_SECRET.as_bytes(), body))
    );
    let v = verifier(Provider::GitHub, GITHUB_SECRET);
    let run = |sig: &str, body: &[u8]| {
        v.verify(
            &headers(&[("x-hub-signature-256", sig), ("x-github-delivery", "d-1")]),
            body,
            NOW,
        )
    };
    assert_eq!(run(&good, body).unwrap().event_id.as_deref(), Some("d-1"));
    assert_sig_err(run(&good, b"{}"), WebhookError::SignatureMismatch);
    assert_sig_err(
        v.verify(&headers(&[("X-Hub-Signature", "sha1=0000")]), body, NOW),
        WebhookError::MissingHeader("X-Hub-Signature-256"),
    );
    let malformed = WebhookError::MalformedHeader {
        header: "X-Hub-Signature-256",
        why: "expected sha256=<hex>",
    };
    assert_sig_err(run(&good[7..], body), malformed.clone());
    assert_sig_err(
        run(&good.replace("sha256=", "sha1="), body),
        malformed.clone(),
    );
    assert_sig_err(run(&good.replace("sha256=", "SHA256="), body), malformed);
    assert_sig_err(
        run(&good.to_uppercase().replace("SHA256=", "sha256="), body),
        WebhookError::MalformedSignature,
    );
    assert_sig_err(
        run(&good[..good.len() - 2], body),
        WebhookError::MalformedSignature,
    );
    assert_sig_err(run("sha256=", body), WebhookError::MalformedSignature);
    // Wrong secret / rotation.
    let other = verifier(Provider::GitHub, "some-other-secret-abcdefgh");
    assert_sig_err(
        other.verify(
            &headers(&[("X-Hub-Signature-256", good.as_str())]),
            body,
            NOW,
        ),
        WebhookError::SignatureMismatch,
    );
    let rotated = verifier(
        Provider::GitHub,
        &format!("some-other-secret-abcdefgh,{GITHUB_SECRET}"),
    );
    assert!(rotated
        .verify(
            &headers(&[("X-Hub-Signature-256", good.as_str())]),
            body,
            NOW
        )
        .is_ok());
}

// ---------- Standard Webhooks ----------

const SW_KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const SW_KEY2: &[u8] = b"fedcba9876543210fedcba9876543210";

fn sw_sig(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
    let mut msg = format!("{id}.{ts}.").into_bytes();
    msg.extend_from_slice(body);
    format!("v1,{}", b64(&oracle_hmac(key, &msg)))
}

fn sw_verify(
    secret: &str,
    h: &[(&str, &str)],
    body: &[u8],
) -> Result<edgeguard_core::webhook::Verified, WebhookError> {
    verifier(Provider::StandardWebhooks, secret).verify(&headers(h), body, NOW)
}

#[test]
fn standard_failures() {
    let secret = format!("whsec_{}", b64(SW_KEY));
    let body = br#"{"type":"user.created","data":{"id":"u1"}}"#;
    let ts = NOW.to_string();
    let sig = sw_sig(SW_KEY, "msg_1", NOW, body);
    let ok = [
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    let got = sw_verify(&secret, &ok, body).unwrap();
    assert_eq!(
        (got.event_id.as_deref(), got.timestamp),
        (Some("msg_1"), Some(NOW))
    );

    assert_sig_err(
        sw_verify(&secret, &ok, b"{}"),
        WebhookError::SignatureMismatch,
    );
    assert_sig_err(
        sw_verify(&format!("whsec_{}", b64(SW_KEY2)), &ok, body),
        WebhookError::SignatureMismatch,
    );
    // The id is signed: changing it breaks the signature.
    let swapped = [
        ("webhook-id", "msg_2"),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    assert_sig_err(
        sw_verify(&secret, &swapped, body),
        WebhookError::SignatureMismatch,
    );
    // Missing headers, each one.
    for (i, name) in ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .enumerate()
    {
        let h: Vec<(&str, &str)> = ok
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| *p)
            .collect();
        assert_sig_err(
            sw_verify(&secret, &h, body),
            WebhookError::MissingHeader(name),
        );
    }
    assert_sig_err(
        sw_verify(&secret, &[], body),
        WebhookError::MissingHeader("webhook-id"),
    );
    // Malformed timestamp and id.
    for bad_ts in ["hello", "", "-1", "1.5", "1e9", "99999999999999"] {
        let h = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", bad_ts),
            ("webhook-signature", sig.as_str()),
        ];
        let want = if bad_ts.is_empty() {
            WebhookError::MissingHeader("webhook-timestamp")
        } else {
            WebhookError::MalformedHeader {
                header: "webhook-timestamp",
                why: "not a number",
            }
        };
        assert_sig_err(sw_verify(&secret, &h, body), want);
    }
    let long_id = "m".repeat(256);
    for bad_id in ["msg 1", "msg\u{e9}", long_id.as_str()] {
        let h = [
            ("webhook-id", bad_id),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", sig.as_str()),
        ];
        assert_sig_err(
            sw_verify(&secret, &h, body),
            WebhookError::MalformedHeader {
                header: "webhook-id",
                why: "not 1 to 255 visible ASCII characters",
            },
        );
    }
    // Stale and future.
    for (t, want) in [
        (NOW - 301, WebhookError::TimestampTooOld),
        (NOW + 301, WebhookError::TimestampInFuture),
    ] {
        let s = sw_sig(SW_KEY, "msg_1", t, body);
        let ts = t.to_string();
        let h = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", s.as_str()),
        ];
        assert_sig_err(sw_verify(&secret, &h, body), want);
    }
    for t in [NOW - 300, NOW + 300] {
        let s = sw_sig(SW_KEY, "msg_1", t, body);
        let ts = t.to_string();
        let h = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", s.as_str()),
        ];
        assert!(sw_verify(&secret, &h, body).is_ok());
    }
    // Signature header shapes.
    let other = sw_sig(SW_KEY2, "msg_1", NOW, body);
    let b64part = &sig[3..];
    let last = b64part.as_bytes()[42];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let idx = alphabet.iter().position(|c| *c == last).unwrap();
    let noncanon = format!("v1,{}{}=", &b64part[..42], alphabet[idx | 1] as char);
    let cases: Vec<(String, Result<(), WebhookError>)> = vec![
        (format!("{other} {sig}"), Ok(())),
        (format!("{other}, {sig}"), Ok(())), // Supabase Auth's ", " separator
        (format!("{sig},"), Ok(())),
        (format!("  {other}\t{sig}  "), Ok(())),
        (format!("v1a,{b64part} {sig}"), Ok(())),
        (format!("v2,{b64part}"), Err(WebhookError::NoSignature)),
        (format!("v1a,{b64part}"), Err(WebhookError::NoSignature)),
        (b64part.to_string(), Err(WebhookError::NoSignature)),
        ("v1,".to_string(), Err(WebhookError::MalformedSignature)),
        (
            "v1,dawfeoifkpqwoekfpqoekf".to_string(),
            Err(WebhookError::MalformedSignature),
        ),
        (sig[..8].to_string(), Err(WebhookError::MalformedSignature)),
        (noncanon, Err(WebhookError::MalformedSignature)),
        (
            sig.trim_end_matches('=').to_string(),
            Err(WebhookError::MalformedSignature),
        ),
        (
            format!("v1,{}", b64part.replace('+', "-").replace('/', "_")),
            Err(WebhookError::MalformedSignature),
        ),
        (other.clone(), Err(WebhookError::SignatureMismatch)),
        (
            format!("v1,bad {other}"),
            Err(WebhookError::SignatureMismatch),
        ),
        (
            vec![other.as_str(); 17].join(" "),
            Err(WebhookError::TooManySignatures),
        ),
        (
            format!("{} {sig}", vec![other.as_str(); 15].join(" ")),
            Ok(()),
        ),
    ];
    for (value, want) in cases {
        let h = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", value.as_str()),
        ];
        match want {
            Ok(()) => assert!(sw_verify(&secret, &h, body).is_ok(), "{value}"),
            Err(e) => assert_sig_err(sw_verify(&secret, &h, body), e),
        }
    }
    // Branded svix-* headers are read when no webhook-* header is present.
    let svix = [
        ("svix-id", "msg_1"),
        ("svix-timestamp", ts.as_str()),
        ("svix-signature", sig.as_str()),
    ];
    assert!(sw_verify(&secret, &svix, body).is_ok());
    let mixed = [
        ("webhook-id", "msg_1"),
        ("svix-timestamp", ts.as_str()),
        ("svix-signature", sig.as_str()),
    ];
    assert_sig_err(
        sw_verify(&secret, &mixed, body),
        WebhookError::MissingHeader("webhook-timestamp"),
    );
}

#[test]
fn standard_secret_forms_and_rotation() {
    let a = format!("whsec_{}", b64(SW_KEY));
    let b = format!("whsec_{}", b64(SW_KEY2));
    let body = b"{}";
    let ts = NOW.to_string();
    let sig_a = sw_sig(SW_KEY, "m", NOW, body);
    let sig_b = sw_sig(SW_KEY2, "m", NOW, body);
    fn h<'a>(ts: &'a str, s: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("webhook-id", "m"),
            ("webhook-timestamp", ts),
            ("webhook-signature", s),
        ]
    }
    let forms = [
        format!("{a},{b}"),
        format!("v1,{a},v1,{b}"),
        format!("v1,{a}|v1,{b}"),
        format!("v1,{a}, v1,{b}"),
        format!("{a} {b}"),
        format!(" v1,{a} , {b} ,"),
    ];
    for env in &forms {
        assert!(sw_verify(env, &h(&ts, &sig_a), body).is_ok(), "{env}");
        assert!(sw_verify(env, &h(&ts, &sig_b), body).is_ok(), "{env}");
        let both = verifier(Provider::StandardWebhooks, env).sign("m", body, NOW);
        assert_eq!(both[2].1, format!("{sig_a} {sig_b}"));
    }
    assert!(sw_verify(&format!("v1,{a}"), &h(&ts, &sig_a), body).is_ok());
    assert_sig_err(
        sw_verify(&format!("v1,{a}"), &h(&ts, &sig_b), body),
        WebhookError::SignatureMismatch,
    );
    // Unpadded base64 in a secret is accepted (padding is optional for secrets).
    let unpadded = format!("whsec_{}", b64(b"0123456789abcdefg").trim_end_matches('='));
    assert!(SecretSet::parse_standard("X", &unpadded).is_ok());
}

#[test]
fn secret_parsing_rules() {
    let invalid = |var: &str, why: &'static str| WebhookError::InvalidSecret {
        var: var.into(),
        why,
    };
    let good = format!("whsec_{}", b64(SW_KEY));
    assert_eq!(
        SecretSet::parse_standard("V", &good).unwrap().keys().len(),
        1
    );
    assert_eq!(
        SecretSet::parse_standard("V", &format!("v1,{good}|v1,{good},{good}"))
            .unwrap()
            .keys()
            .len(),
        3
    );
    let bare = b64(SW_KEY);
    let cases: Vec<(String, WebhookError)> = vec![
        (
            bare.clone(),
            invalid("V", "must hold whsec_<base64> or v1,whsec_<base64> secrets"),
        ),
        (
            "v1".into(),
            invalid("V", "has a `v1` marker not followed by a whsec_ secret"),
        ),
        (
            format!("v1,v1,{good}"),
            invalid("V", "has a `v1` marker not followed by a whsec_ secret"),
        ),
        (
            format!("{good},v1"),
            invalid("V", "has a `v1` marker not followed by a whsec_ secret"),
        ),
        (
            format!("v1a,{good}"),
            invalid("V", "must hold whsec_<base64> or v1,whsec_<base64> secrets"),
        ),
        (
            format!("v2,{good}"),
            invalid("V", "must hold whsec_<base64> or v1,whsec_<base64> secrets"),
        ),
        (
            "whsec_not*base64".into(),
            invalid("V", "holds a whsec_ secret that is not valid base64"),
        ),
        (
            "whsec_QQ=x".into(),
            invalid("V", "holds a whsec_ secret that is not valid base64"),
        ),
        (
            format!("whsec_{}", b64(b"short")),
            invalid("V", "holds a secret shorter than 16 bytes"),
        ),
        (
            "whsec_".into(),
            invalid("V", "holds a secret shorter than 16 bytes"),
        ),
        (
            [good.as_str(); 9].join(","),
            invalid("V", "holds more than 8 secrets"),
        ),
        (
            " , | ".into(),
            WebhookError::NotConfigured { var: "V".into() },
        ),
    ];
    for (value, want) in cases {
        let e = SecretSet::parse_standard("V", &value).unwrap_err();
        assert_eq!(e, want, "{value}");
        assert_eq!(e.code(), ErrorCode::Misconfigured);
        assert!(
            value.len() < 6 || !e.reason().contains(&value),
            "reason leaks the value"
        );
    }
    // Raw secrets.
    assert_eq!(
        SecretSet::parse_raw("R", " aaaaaaaaaaaaaaaa , ,bbbbbbbbbbbbbbbb,")
            .unwrap()
            .keys()
            .len(),
        2
    );
    assert_eq!(
        SecretSet::parse_raw("R", "short").unwrap_err(),
        invalid("R", "holds a secret shorter than 16 bytes")
    );
    assert_eq!(
        SecretSet::parse_raw("R", ",, ,").unwrap_err(),
        WebhookError::NotConfigured { var: "R".into() }
    );
    assert_eq!(
        SecretSet::parse_raw("R", &["cccccccccccccccc"; 9].join(",")).unwrap_err(),
        invalid("R", "holds more than 8 secrets")
    );
    assert_eq!(
        SecretSet::parse_raw("R", &"d".repeat(1025)).unwrap_err(),
        invalid("R", "holds a secret longer than 1024 bytes")
    );
    // A raw secret keeps inner spaces and `|` (only `,` separates).
    assert_eq!(
        SecretSet::parse_raw("R", "It's a Secret to Everybody|x")
            .unwrap()
            .keys()
            .len(),
        1
    );
}

#[test]
fn tolerance_parsing() {
    assert_eq!(Tolerance::from_env_value(None).unwrap().secs(), 300);
    assert_eq!(Tolerance::from_env_value(Some("")).unwrap().secs(), 300);
    assert_eq!(
        Tolerance::from_env_value(Some(" 600 ")).unwrap().secs(),
        600
    );
    assert_eq!(
        Tolerance::from_env_value(Some("86400")).unwrap().secs(),
        86400
    );
    for bad in [
        "0",
        "-5",
        "abc",
        "1e3",
        "86401",
        "5.5",
        "+5",
        "9999999999999999999999",
    ] {
        let e = Tolerance::from_env_value(Some(bad)).unwrap_err();
        assert_eq!(e, WebhookError::InvalidTolerance, "{bad}");
        assert_eq!(e.code(), ErrorCode::Misconfigured);
    }
    let t = Tolerance::from_secs(5).unwrap();
    assert_eq!(
        t.check(i64::MIN, i64::MAX),
        Err(WebhookError::TimestampTooOld)
    );
    assert_eq!(
        t.check(i64::MAX, i64::MIN),
        Err(WebhookError::TimestampInFuture)
    );
    assert_eq!(t.check(100, 105), Ok(()));
}

// ---------- registry ----------

#[test]
fn registry_from_env() {
    let std_secret = format!("v1,whsec_{}", b64(SW_KEY));
    let reg = registry(&[
        ("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
        ("GITHUB_WEBHOOK_SECRET", "tooshort"),
        ("SHOPIFY_WEBHOOK_SECRET", "   "),
        ("AUTH_HOOK_SECRET", std_secret.as_str()),
    ]);
    let header = format!("t={NOW},v1={}", stripe_sig(STRIPE_SECRET, NOW, STRIPE_BODY));
    let h = [("stripe-signature", header.as_str())];
    assert_eq!(
        reg.verify("stripe", &headers(&h), STRIPE_BODY, NOW)
            .unwrap()
            .provider,
        Provider::Stripe
    );

    let e = reg
        .verify("paypal", &headers(&h), STRIPE_BODY, NOW)
        .unwrap_err();
    assert_eq!((e.code(), e.code().status()), (ErrorCode::NotFound, 404));
    for name in ["Stripe", "", "auth-hook"] {
        assert_eq!(
            reg.verify(name, &headers(&h), STRIPE_BODY, NOW)
                .unwrap_err(),
            WebhookError::UnknownProvider
        );
    }
    let e = reg
        .verify("github", &headers(&h), STRIPE_BODY, NOW)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Misconfigured);
    assert_eq!(
        e.reason(),
        "GITHUB_WEBHOOK_SECRET holds a secret shorter than 16 bytes"
    );
    assert!(!e.reason().contains("tooshort"));
    for (name, var) in [
        ("shopify", "SHOPIFY_WEBHOOK_SECRET"),
        ("standard", "STANDARD_WEBHOOK_SECRET"),
    ] {
        let e = reg
            .verify(name, &headers(&h), STRIPE_BODY, NOW)
            .unwrap_err();
        assert_eq!(e, WebhookError::NotConfigured { var: var.into() });
        assert_eq!(e.code().status(), 500);
        assert_eq!(e.reason(), format!("{var} is not set"));
    }
    // auth_hook: Standard Webhooks keyed by AUTH_HOOK_SECRET.
    let body = br#"{"user_id":"u1","claims":{}}"#;
    let sig = sw_sig(SW_KEY, "msg_auth", NOW, body);
    let ts = NOW.to_string();
    let hh = [
        ("webhook-id", "msg_auth"),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    let got = reg.verify("auth_hook", &headers(&hh), body, NOW).unwrap();
    assert_eq!(got.provider, Provider::StandardWebhooks);
    let status: Vec<(&str, bool)> = reg.status().map(|(ep, r)| (ep.name, r.is_ok())).collect();
    assert_eq!(
        status,
        vec![
            ("stripe", true),
            ("shopify", false),
            ("github", false),
            ("standard", false),
            ("auth_hook", true)
        ]
    );

    // A bad tolerance makes every endpoint misconfigured.
    let reg = registry(&[
        ("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
        ("WEBHOOK_TIMESTAMP_TOLERANCE", "soon"),
    ]);
    assert_eq!(
        reg.verify("stripe", &headers(&h), STRIPE_BODY, NOW)
            .unwrap_err(),
        WebhookError::InvalidTolerance
    );
    // A configured tolerance is used.
    let reg = registry(&[
        ("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
        ("WEBHOOK_TIMESTAMP_TOLERANCE", "30"),
    ]);
    assert_eq!(
        reg.verify("stripe", &headers(&h), STRIPE_BODY, NOW + 31)
            .unwrap_err(),
        WebhookError::TimestampTooOld
    );
    assert!(reg
        .verify("stripe", &headers(&h), STRIPE_BODY, NOW + 30)
        .is_ok());
}

#[test]
fn provider_names_and_error_codes() {
    for p in Provider::ALL {
        assert_eq!(Provider::from_name(p.name()), Some(p));
    }
    assert_eq!(Provider::from_name("auth_hook"), None);
    assert!(
        Provider::Stripe.event_id_is_signed() && Provider::StandardWebhooks.event_id_is_signed()
    );
    assert!(!Provider::GitHub.event_id_is_signed() && !Provider::Shopify.event_id_is_signed());
    let d: edgeguard_core::Denial = WebhookError::TimestampInFuture.into();
    assert_eq!(d.code, ErrorCode::InvalidSignature);
    assert_eq!(
        d.reason,
        "timestamp too far in the future (outside tolerance)"
    );
    assert_eq!(WebhookError::InvalidClock.code(), ErrorCode::Internal);
    assert_eq!(
        format!(
            "{:?}",
            edgeguard_core::webhook::HmacKey::new(b"secret key bytes").unwrap()
        ),
        "HmacKey(..)"
    );
}
