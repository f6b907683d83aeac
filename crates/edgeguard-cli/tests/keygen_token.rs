//! `edgeguard keygen` + `edgeguard token` produce what the core Gate accepts.

use edgeguard_core::authz::{Decision, Gate, Request};
use edgeguard_core::sorted_map::SortedMap;
use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_edgeguard"))
        .args(args)
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64
}

const POLICY: &str = r#"{"auth":["user"],"audience":"authenticated","routes":[
  {"method":"GET","path":"/t/:tenant_id","tenant":{"from":"path","name":"tenant_id"},"roles":["admin"],"permissions":["reports:read"],"aal":"aal2"}]}"#;

fn check(gate: &mut Gate, token: &str, path: &str) -> Decision {
    let mut headers = SortedMap::new();
    headers.insert("authorization".to_owned(), format!("Bearer {token}"));
    gate.check(
        &Request {
            method: "GET".into(),
            path: path.into(),
            headers,
            ..Default::default()
        },
        now_ms(),
    )
}

#[test]
fn es256_dev_key_and_token_round_trip() {
    let dir = std::env::temp_dir().join(format!("edgeguard-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let private = dir.join("private.jwk");
    let jwks = dir.join("jwks.json");
    let (ok, _, err) = run(&[
        "keygen",
        "--kid",
        "dev-7",
        "--private-out",
        private.to_str().unwrap(),
        "--jwks-out",
        jwks.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let jwks_text = std::fs::read_to_string(&jwks).unwrap();
    assert!(
        !jwks_text.contains("\"d\""),
        "private part leaked into the JWKS"
    );
    let mut env = SortedMap::new();
    env.insert("SUPABASE_JWKS".to_owned(), jwks_text);
    let mut gate = Gate::new(POLICY, &env).unwrap();
    let args = [
        "token",
        "--key",
        private.to_str().unwrap(),
        "--sub",
        "u-1",
        "--user-role",
        "admin",
        "--tenant-id",
        "t1",
        "--permissions",
        "reports:read",
        "--aal",
        "aal2",
        "--email",
        "a@example.com",
    ];
    let (ok, token, err) = run(&args);
    assert!(ok, "{err}");
    match check(&mut gate, &token, "/t/t1") {
        Decision::Allow { identity, .. } => {
            assert_eq!(identity.sub.as_deref(), Some("u-1"));
            assert_eq!(identity.email.as_deref(), Some("a@example.com"));
        }
        Decision::Deny { denial, .. } => panic!("{denial}"),
    }
    assert!(matches!(
        check(&mut gate, &token, "/t/t2"),
        Decision::Deny { .. }
    ));
    let (ok, expired, _) = run(&["token", "--key", private.to_str().unwrap(), "--exp", "0"]);
    assert!(ok);
    // exp = now: valid within leeway, refused after it.
    let mut headers = SortedMap::new();
    headers.insert("authorization".to_owned(), format!("Bearer {expired}"));
    let r = Request {
        method: "GET".into(),
        path: "/t/t1".into(),
        headers,
        ..Default::default()
    };
    match gate.check(&r, now_ms() + 120_000.0) {
        Decision::Deny { denial, .. } => assert_eq!(denial.reason, "token expired"),
        Decision::Allow { .. } => panic!("expired token allowed"),
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hs256_token_and_bad_usage() {
    let secret = "a-very-long-dev-secret-of-at-least-32-bytes!";
    let mut env = SortedMap::new();
    env.insert("JWT_SECRET".to_owned(), secret.to_owned());
    let mut gate = Gate::new(
        r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"}]}"#,
        &env,
    )
    .unwrap();
    let (ok, token, err) = run(&["token", "--secret", secret, "--sub", "u-2"]);
    assert!(ok, "{err}");
    assert!(matches!(
        check(&mut gate, &token, "/me"),
        Decision::Allow { .. }
    ));
    let (ok, _, err) = run(&["token", "--secret", "short"]);
    assert!(!ok && err.contains("at least 32 bytes"));
    let (ok, _, err) = run(&["token"]);
    assert!(!ok && err.contains("--key"));
    let (ok, _, err) = run(&["frobnicate"]);
    assert!(!ok && err.contains("usage"));
}

#[test]
fn a_dev_keys_file_signs_es256_or_hs256_with_its_jwt_secret() {
    let dir = std::env::temp_dir().join(format!("edgeguard-cli-devkeys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ok, pair, err) = run(&["keygen", "--kid", "dev-9"]);
    assert!(ok, "{err}");
    let pair: serde_json::Value = serde_json::from_str(&pair).unwrap();
    let secret = "the-stack's-legacy-secret-of-at-least-32-bytes";
    let dev_keys = serde_json::json!({
        "private_jwk": pair["private_jwk"],
        "jwks": pair["jwks"],
        "env": {"JWT_SECRET": secret},
    });
    let file = dir.join("dev-keys.json");
    std::fs::write(&file, dev_keys.to_string()).unwrap();
    let mut env = SortedMap::new();
    env.insert("SUPABASE_JWKS".to_owned(), pair["jwks"].to_string());
    env.insert("JWT_SECRET".to_owned(), secret.to_owned());
    let mut gate = Gate::new(
        r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"}]}"#,
        &env,
    )
    .unwrap();
    let key = file.to_str().unwrap();
    for alg in ["ES256", "HS256"] {
        let (ok, token, err) = run(&["token", "--key", key, "--alg", alg, "--user_role", "admin"]);
        assert!(ok, "{alg}: {err}");
        assert!(
            matches!(check(&mut gate, &token, "/me"), Decision::Allow { .. }),
            "{alg} token refused"
        );
    }
    // A negative --exp is an expired token.
    let (ok, expired, err) = run(&["token", "--key", key, "--exp", "-3600"]);
    assert!(ok, "{err}");
    match check(&mut gate, &expired, "/me") {
        Decision::Deny { denial, .. } => assert_eq!(denial.reason, "token expired"),
        Decision::Allow { .. } => panic!("expired token allowed"),
    }
    std::fs::remove_dir_all(&dir).ok();
}
