//! The log redactor over a corpus of realistic log lines (docs/logging.md):
//! each line with its expected redacted form, lines that must stay unchanged,
//! and adversarial input (huge pathological lines, random bytes).

use edgeguard_core::redact::{redact, RedactOptions};

const KEEP_IPS: RedactOptions = RedactOptions { ip: false };
const REDACT_IPS: RedactOptions = RedactOptions { ip: true };

/// (input, expected with IPs kept)
const CORPUS: &[(&str, &str)] = &[
    // request logs
    (
        r#"{"level":"info","msg":"request","request_id":"0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c","user_email":"ada@example.com","status":200}"#,
        r#"{"level":"info","msg":"request","request_id":"0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c","user_email":"[email]","status":200}"#,
    ),
    (
        "GET /functions/v1/me 401 authorization: Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImRldiJ9.eyJzdWIiOiIxMjMifQ.MEUCIQDx",
        "GET /functions/v1/me 401 authorization: [redacted]",
    ),
    (
        r#"{"level":"warn","msg":"edgeguard: JWKS fetch failed","headers":{"authorization":"Bearer abc.def.ghi","apikey":"sb_publishable_Xk2mP9qLr4T7vW1zA8bC3dE5"}}"#,
        r#"{"level":"warn","msg":"edgeguard: JWKS fetch failed","headers":{"authorization":"[redacted]","apikey":"[redacted]"}}"#,
    ),
    (
        "POST /functions/v1/api-keys 201 x-api-key: egk_4f9a2b7c_Qm8rT3vX9zL2pK6n duration_ms=31",
        "POST /functions/v1/api-keys 201 x-api-key: [redacted]",
    ),
    (
        "method=GET path=/me status=200 apikey=sb_secret_N4kP8rT2vX6zB9cF3hJ5 duration_ms=12",
        "method=GET path=/me status=200 apikey=[redacted] duration_ms=12",
    ),
    (
        "Cookie: sb-access-token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc; sb-refresh-token=v1.Mzk5",
        "Cookie: [redacted]",
    ),
    (
        "set-cookie: __Host-csrf=7f3a9c2e41b8d0f6; Path=/; Secure; HttpOnly; SameSite=Strict",
        "set-cookie: [redacted]",
    ),
    (
        r#"{"msg":"upstream refused","request":{"method":"POST","headers":{"Authorization":"Bearer sk_live_51HxYz2eZvKYlo2C0aBcDeFgH","Content-Type":"application/json"}}}"#,
        r#"{"msg":"upstream refused","request":{"method":"POST","headers":{"Authorization":"[redacted]","Content-Type":"application/json"}}}"#,
    ),
    (
        "proxy-authorization: Basic YWRhOmh1bnRlcjI=",
        "proxy-authorization: [redacted]",
    ),
    (
        "GET /auth/v1/verify?token=8f1c2d3e4b5a69788796a5b4c3d2e1f0&type=signup&redirect_to=https://app.example.com 303",
        "GET /auth/v1/verify?token=[redacted]&type=signup&redirect_to=https://app.example.com 303",
    ),
    (
        "GET /callback?access_token=ya29.a0AfH6SMBx3&state=af0ifjsldkj 302",
        "GET /callback?access_token=[redacted]&state=af0ifjsldkj 302",
    ),
    (
        r#"{"level":"info","msg":"signed in","session_id":"6c1e2f9a-1b7d-4c8e-9f0a-2d3e4f5a6b7c","aal":"aal2"}"#,
        r#"{"level":"info","msg":"signed in","session_id":"[redacted]","aal":"aal2"}"#,
    ),
    (
        "login failed for bob.smith+test@mail.example.co.uk from 203.0.113.7",
        "login failed for [email] from 203.0.113.7",
    ),
    (
        r#"{"level":"info","msg":"invite sent","to":"Zoë Müller <zoe.mueller@beispiel.de>","tenant_id":"9b2f1c4e-7a3d-4e8f-b1c2-d3e4f5a6b7c8"}"#,
        r#"{"level":"info","msg":"invite sent","to":"Zoë Müller <[email]>","tenant_id":"9b2f1c4e-7a3d-4e8f-b1c2-d3e4f5a6b7c8"}"#,
    ),
    // postgres errors quoting personal data
    (
        r#"ERROR:  duplicate key value violates unique constraint "profiles_email_key" DETAIL:  Key (email)=(ada@example.com) already exists."#,
        r#"ERROR:  duplicate key value violates unique constraint "profiles_email_key" DETAIL:  Key (email)=([email]) already exists."#,
    ),
    (
        r#"ERROR:  new row for relation "profiles" violates check constraint "profiles_phone_check" DETAIL:  Failing row contains (7d1e, grace@example.org, +44 20 7946 0958, 2024-11-23 10:15:02+00)."#,
        r#"ERROR:  new row for relation "profiles" violates check constraint "profiles_phone_check" DETAIL:  Failing row contains (7d1e, [email], [phone], 2024-11-23 10:15:02+00)."#,
    ),
    (
        "ERROR:  insert or update on table \"tenant_members\" violates foreign key constraint DETAIL:  Key (user_id)=(00000000-0000-4000-8000-000000000001) is not present in table \"users\".",
        "ERROR:  insert or update on table \"tenant_members\" violates foreign key constraint DETAIL:  Key (user_id)=(00000000-0000-4000-8000-000000000001) is not present in table \"users\".",
    ),
    (
        "ERROR:  value too long for type character varying(64) CONTEXT: COPY profiles, line 3: \"linus@kernel.example, (415) 555-2671\"",
        "ERROR:  value too long for type character varying(64) CONTEXT: COPY profiles, line 3: \"[email], [phone]\"",
    ),
    (
        "FATAL:  password authentication failed for user \"postgres\" connection=postgresql://postgres:s3cr3t-Pa55@db.abcdefgh.supabase.co:5432/postgres",
        "FATAL:  password authentication failed for user \"postgres\" connection=postgresql://postgres:[redacted]@db.abcdefgh.supabase.co:5432/postgres",
    ),
    (
        "could not connect: postgres://app:hunter2hunter2@127.0.0.1:54322/postgres?sslmode=disable",
        "could not connect: postgres://app:[redacted]@127.0.0.1:54322/postgres?sslmode=disable",
    ),
    (
        r#"{"level":"error","msg":"edgeguard: database unavailable","error":"duplicate key: (email)=(carol@example.net)","request_id":"req_01HF3K2M"}"#,
        r#"{"level":"error","msg":"edgeguard: database unavailable","error":"duplicate key: (email)=([email])","request_id":"req_01HF3K2M"}"#,
    ),
    // webhook payload snippets
    (
        r#"stripe event evt_1NG8Du2eZvKYlo2CUI0pXh9B customer.updated {"email":"dave@example.com","phone":"+14155552671","name":"Dave"}"#,
        r#"stripe event evt_1NG8Du2eZvKYlo2CUI0pXh9B customer.updated {"email":"[email]","phone":"[phone]","name":"Dave"}"#,
    ),
    (
        r#"{"type":"payment_method.attached","data":{"object":{"card":{"number":"4242 4242 4242 4242","exp_month":12,"exp_year":2030}}}}"#,
        r#"{"type":"payment_method.attached","data":{"object":{"card":{"number":"[card]","exp_month":12,"exp_year":2030}}}}"#,
    ),
    (
        "webhook stripe: invalid signature with secret whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH for evt_1Nq2Xc2eZvKYlo2C",
        "webhook stripe: invalid signature with secret [key] for evt_1Nq2Xc2eZvKYlo2C",
    ),
    (
        "STANDARD_WEBHOOK_SECRET=v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw refused",
        "STANDARD_WEBHOOK_SECRET=[redacted] refused",
    ),
    (
        "auth hook secret v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rejected",
        "auth hook secret v1,[key] rejected",
    ),
    (
        r#"shopify orders/create {"email":"erin@shop.example","phone":"+1-613-555-0177","billing_address":{"phone":"613.555.0177"}}"#,
        r#"shopify orders/create {"email":"[email]","phone":"[phone]","billing_address":{"phone":"[phone]"}}"#,
    ),
    (
        r#"github push {"pusher":{"name":"octocat","email":"octocat@users.noreply.github.com"},"after":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}"#,
        r#"github push {"pusher":{"name":"octocat","email":"[email]"},"after":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}"#,
    ),
    (
        r#"x-hub-signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"#,
        r#"x-hub-signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"#,
    ),
    (
        r#"{"webhook-signature":"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=","webhook-id":"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}"#,
        r#"{"webhook-signature":"[redacted]","webhook-id":"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}"#,
    ),
    (
        "card declined: 5555-5555-5555-4444 (mastercard) amount=1999",
        "card declined: [card] (mastercard) amount=1999",
    ),
    (
        "amex 378282246310005 declined",
        "amex [card] declined",
    ),
    (
        "amex grouped 3782 822463 10005 ok",
        "amex grouped [card] ok",
    ),
    (
        "payment for order 1042 with 4000056655665556 status=succeeded",
        "payment for order 1042 with [card] status=succeeded",
    ),
    (
        "customer 25 4111111111111111 retry",
        "customer 25 [card] retry",
    ),
    // stack-free error messages
    (
        "edgeguard: password reset requested for frank@example.com (aal1)",
        "edgeguard: password reset requested for [email] (aal1)",
    ),
    (
        "sms to +33 6 12 34 56 78 failed: provider timeout after 5000 ms",
        "sms to [phone] failed: provider timeout after 5000 ms",
    ),
    (
        "sms to 06 12 34 56 78 failed",
        "sms to [phone] failed",
    ),
    (
        "callback 020 7946 0958 scheduled at 2024-11-23T10:15:02Z",
        "callback [phone] scheduled at 2024-11-23T10:15:02Z",
    ),
    (
        "phone=415-555-2671 verified",
        "phone=[phone] verified",
    ),
    (
        "phone (415)555-2671 verified",
        "phone [phone] verified",
    ),
    (
        "token refresh failed for user 7d1e3f2a: eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3MDAwMDAwMDB9.Zm9vYmFy expired",
        "token refresh failed for user 7d1e3f2a: [jwt] expired",
    ),
    (
        "unsecured token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. refused",
        "unsecured token [jwt] refused",
    ),
    (
        "INVALID_API_KEY: egk_0c9f3a1b_7Kx2mQ8rT4vN6pL1 not found",
        "INVALID_API_KEY: [key] not found",
    ),
    (
        "config: SUPABASE_SECRET_KEYS={\"default\":\"sb_secret_Zq8rT2vX6zB9cF3hJ5kN\"}",
        "config: SUPABASE_SECRET_KEYS={\"default\":\"[key]\"}",
    ),
    (
        "stripe client init with sk_test_4eC39HqLyjWDarjtT1zdp7dc failed",
        "stripe client init with [key] failed",
    ),
    (
        "restricted key rk_live_51HxYzAbCdEfGh rejected",
        "restricted key [key] rejected",
    ),
    (
        "git clone https://x-access-token:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo",
        "git clone https://x-access-token:[redacted]@github.com/org/repo",
    ),
    (
        "GITHUB_TOKEN ghp_16C7e42F292c6912E7710c838347Ae178B4a expired",
        "GITHUB_TOKEN [key] expired",
    ),
    (
        "password=correct-horse-battery-staple user=grace",
        "password=[redacted] user=grace",
    ),
    (
        "CSRF_SECRET=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTA= is set",
        "CSRF_SECRET=[redacted] is set",
    ),
    (
        "Authorization=Bearer%20abc123456 sent",
        "Authorization=[redacted] sent",
    ),
    (
        "retrying with Bearer 5f2b8c1d9e7a4f30 against upstream",
        "retrying with Bearer [redacted] against upstream",
    ),
    // JSON log objects as log.ts writes them (nested JSON in a string too)
    (
        r#"{"level":"error","msg":"edgeguard: handler failed","request_id":"a1b2c3d4","error":"Error: user heidi@example.com not in tenant"}"#,
        r#"{"level":"error","msg":"edgeguard: handler failed","request_id":"a1b2c3d4","error":"Error: user [email] not in tenant"}"#,
    ),
    (
        r#"{"level":"warn","msg":"payload","body":"{\"email\":\"ivan@example.com\",\"password\":\"hunter2!\",\"remember\":true}"}"#,
        r#"{"level":"warn","msg":"payload","body":"{\"email\":\"[email]\",\"password\":\"[redacted]\",\"remember\":true}"}"#,
    ),
    (
        r#"{"level":"info","msg":"x","nested":{"api_key":"abc","list":[{"csrf_token":"def"}],"CSRF_SECRET":"ghi"},"n":3}"#,
        r#"{"level":"info","msg":"x","nested":{"api_key":"[redacted]","list":[{"csrf_token":"[redacted]"}],"CSRF_SECRET":"[redacted]"},"n":3}"#,
    ),
    (
        r#"{"level":"info","msg":"auth hook","claims":{"email":"judy@example.com","phone":"","role":"authenticated"}}"#,
        r#"{"level":"info","msg":"auth hook","claims":{"email":"[email]","phone":"","role":"authenticated"}}"#,
    ),
    (
        r#"{"msg":"sent \"authorization: Bearer tok_12345678\" upstream","ok":false}"#,
        r#"{"msg":"sent \"authorization: [redacted]\" upstream","ok":false}"#,
    ),
    (
        r#"{"msg":"retry","password":"quote \" inside","next":1}"#,
        r#"{"msg":"retry","password":"[redacted]","next":1}"#,
    ),
    (
        r#"{"level":"info","msg":"contact","emails":["a@example.com","b@example.org"],"count":2}"#,
        r#"{"level":"info","msg":"contact","emails":["[email]","[email]"],"count":2}"#,
    ),
    (
        "audit: role changed by mallory@evil.example to admin for 1f0e2d3c-4b5a-4968-8776-655443322110",
        "audit: role changed by [email] to admin for 1f0e2d3c-4b5a-4968-8776-655443322110",
    ),
    (
        "ADMIN_EMAILS=root@example.com,ops@example.com",
        "ADMIN_EMAILS=[email],[email]",
    ),
    (
        "mailto:support@edgeguard.dev?subject=hi",
        "mailto:[email]?subject=hi",
    ),
    (
        "rate limited key=ip:198.51.100.23 user=trent@example.com retry_after=30",
        "rate limited key=ip:198.51.100.23 user=[email] retry_after=30",
    ),
    (
        "jwt=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.dGVzdA; path=/",
        "jwt=[redacted]; path=/",
    ),
    (
        "Caused by: InvalidJwt(eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.AAAA)",
        "Caused by: InvalidJwt([jwt])",
    ),
];

/// Lines that contain nothing to redact and must come back unchanged.
const UNCHANGED: &[&str] = &[
    "request_id=0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c status=200 duration_ms=14",
    "x-request-id: 6f1c2e9a-1b7d-4c8e-9f0a-2d3e4f5a6b7c",
    "request_id=a.b_c-D9 kept (well formed)",
    "00000000-0000-4000-8000-000000000001 12345678-1234-1234-1234-123456789012 41234567-1234-1234-1234-123456789012",
    "time=2024-11-23T10:15:02.123Z level=info",
    "2024-11-23 10:15:02.123456+00 LOG:  checkpoint complete",
    "[2024-11-23 10:15:02] started in 1532 ms",
    "now_ms=1732356902123 now_us=1732356902123456 now_ns=1732356902123456789",
    "exp=1732360502 iat=1732356902 nbf=1732356872",
    "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "commit 5f6023a1b2c3d4e5f60718293a4b5c6d7e8f9012 on main",
    "edgeguard 0.1.0 (wasm 0.2.130) deno 2.1.4 postgres 15.8",
    "semver 1.2.3-beta.4+build.5678 resolved",
    "listening on 127.0.0.1:54321 (db 54322) pid 41234",
    "GET /functions/v1/health 200 3ms",
    "status=429 retry_after=30 limit=300 window_s=60",
    "stripe evt_1NG8Du2eZvKYlo2CUI0pXh9B pi_3MtwBwLkdIwHu7ix28a3tqPa cus_NffrFeUfNV2Hib",
    "webhook-id msg_2KWPBgLlAfxdpx2AI54pPJ85f4W ts 1732356902",
    "card 4111 1111 1111 1112 failed Luhn and stays",
    "order 4111111111111112 stays (not Luhn)",
    "amount 1999 currency eur quantity 3",
    "date 01-02-2024 and 2024-01-02 and 23.11.2024",
    "version 10.0.19045 build 22631.4460",
    "pi 3.14159265358979 e 2.718281828459045",
    "missing authorization header (expected Bearer token)",
    "INVALID_JWT: token expired; refresh it",
    "the egk_ prefix marks edgeguard keys; sb_secret_ marks Supabase ones",
    "npm:@supabase/supabase-js@2.45.0 and jsr:@std/assert@1.0.8",
    "std::collections::BTreeMap and a::b",
    "took 12.5 s, 3 retries, port 5432, tz +05:30",
    "offset +0200 and +05:30, 0.5 ms",
];

#[test]
fn corpus_lines_redact_to_their_expected_form() {
    assert!(CORPUS.len() >= 60, "corpus has {} lines", CORPUS.len());
    let mut failures = Vec::new();
    for (input, expected) in CORPUS {
        let got = redact(input, &KEEP_IPS);
        if got != *expected {
            failures.push(format!("in:   {input}\nwant: {expected}\ngot:  {got}\n"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn false_positive_lines_stay_unchanged() {
    assert!(UNCHANGED.len() >= 20, "{} lines", UNCHANGED.len());
    let failures: Vec<String> = UNCHANGED
        .iter()
        .filter_map(|line| {
            let got = redact(line, &KEEP_IPS);
            (got != *line).then(|| format!("in:  {line}\ngot: {got}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ips_are_redacted_only_when_asked() {
    let cases = [
        ("from 203.0.113.7 via 10.0.0.1:5432", "from [ip] via [ip]:5432"),
        ("x-forwarded-for: 198.51.100.23, 10.0.0.2", "x-forwarded-for: [ip], [ip]"),
        ("client [2001:db8::8a2e:370:7334]:443 and fe80::1", "client [[ip]]:443 and [ip]"),
        ("mapped ::ffff:192.0.2.128 loopback ::1.", "mapped [ip] loopback [ip]."),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 end", "full [ip] end"),
    ];
    for (input, expected) in cases {
        assert_eq!(redact(input, &REDACT_IPS), expected, "{input}");
        assert_eq!(redact(input, &KEEP_IPS), input, "{input}");
    }
    for line in [
        "time 10:15:02 mac 00:1a:2b:3c:4d:5e",
        "versions 1.2.3 and 256.1.1.1 and 1.2.3.4.5",
        "std::fmt and dead::beef",
        "request 0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c",
    ] {
        assert_eq!(redact(line, &REDACT_IPS), line);
    }
}

#[test]
fn redacting_twice_changes_nothing_more() {
    for (input, _) in CORPUS {
        let once = redact(input, &REDACT_IPS).into_owned();
        assert_eq!(redact(&once, &REDACT_IPS), once, "{input}");
    }
}

#[test]
fn json_lines_stay_valid_json() {
    for (input, _) in CORPUS {
        if serde_json::from_str::<serde_json::Value>(input).is_ok() {
            let out = redact(input, &REDACT_IPS);
            assert!(
                serde_json::from_str::<serde_json::Value>(&out).is_ok(),
                "{input}\n-> {out}"
            );
        }
    }
}

/// A 1 MB line of each pathological shape: the redactor must finish (a
/// backtracking matcher would not) and produce the expected text.
#[test]
fn megabyte_pathological_lines_are_handled_in_one_pass() {
    const MB: usize = 1 << 20;
    let repeat = |unit: &str| unit.repeat(MB / unit.len());
    // Nothing to redact: the line comes back unchanged.
    for unit in [
        "a", "a@", "@a.", "eyJ.", "1 ", "1-", "+1 ", "(1", "::", "1.", "\"token", "sb_", "bearer ",
        "://a", "a:",
    ] {
        let line = repeat(unit);
        let out = redact(&line, &REDACT_IPS);
        assert!(out == line, "unit {unit:?} changed the line");
    }
    // Everything redacted: the output is exactly the markers.
    let cases: [(&str, &str); 6] = [
        ("ada@example.com ", "[email] "),
        ("4111 1111 1111 1111 ", "[card] "),
        ("+14155552671 ", "[phone] "),
        ("10.0.0.1 ", "[ip] "),
        ("eyJhbGciOiJ9.eyJzdWIi.c2ln ", "[jwt] "),
        ("egk_12345678 ", "[key] "),
    ];
    for (unit, marker) in cases {
        let n = MB / unit.len();
        let line = unit.repeat(n);
        assert_eq!(redact(&line, &REDACT_IPS), marker.repeat(n), "unit {unit:?}");
    }
    // An unterminated credential value runs to the end of the line.
    let line = format!("{{\"password\":\"{}", "x".repeat(MB));
    assert_eq!(redact(&line, &KEEP_IPS), "{\"password\":\"[redacted]");
    let line = format!("authorization: {}", "Bearer ".repeat(MB / 7));
    assert_eq!(redact(&line, &KEEP_IPS), "authorization: [redacted]");
}

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random lines from an alphabet rich in pattern bytes, mixed with random
/// UTF-8: the redactor never panics, the output is valid UTF-8 (it is a
/// `str`) and its non-ASCII characters are ones of the input in order (only
/// whole characters are removed, never split).
#[test]
fn random_lines_never_panic_and_keep_utf8() {
    const PIECES: &[&str] = &[
        "a", "Z", "0", "1", "4", "9", "@", ".", "-", "_", "+", "(", ")", ":", "=", "\"", "\\", " ",
        ",", ";", "/", "eyJ", "egk_", "whsec_", "sb_secret_", "Bearer ", "authorization", "token",
        "://", "é", "名", "😀", "\u{0}", "4111", "555", "example.com", "::", "ff", "\n",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..4000 {
        let mut line = String::new();
        for _ in 0..rng.below(80) {
            line.push_str(PIECES[rng.below(PIECES.len())]);
        }
        for opts in [KEEP_IPS, REDACT_IPS] {
            let out = redact(&line, &opts);
            let mut input = line.chars().filter(|c| !c.is_ascii());
            assert!(
                out.chars().filter(|c| !c.is_ascii()).all(|c| input.any(|d| d == c)),
                "{line:?} -> {out:?}"
            );
        }
    }
    // Arbitrary bytes, made into a str the way a host would (lossily).
    for _ in 0..2000 {
        let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        let line = String::from_utf8_lossy(&bytes);
        let _ = redact(&line, &REDACT_IPS);
    }
}
