//! The `edgeguard` command: dev keys, dev tokens, webhook signing, audit
//! checkpoint keys and audit log verification.
//!
//! ```text
//! edgeguard audit keygen | edgeguard audit verify --public-key KEY [--input FILE] [--log FILE] [--json]
//! edgeguard keys create|list|revoke|rotate --url PROJECT_URL --token ACCESS_TOKEN ...
//! edgeguard keygen [--kid KID] [--private-out FILE] [--jwks-out FILE]
//! edgeguard token (--key PRIVATE_JWK_FILE | --secret HS256_SECRET) [--sub ID] [--role authenticated]
//!                 [--email E] [--user-role R] [--tenant-id T] [--permissions a:b,c:d] [--aal aal1|aal2]
//!                 [--exp SECONDS] [--kid KID] [--aud authenticated] [--iss URL] [--anonymous]
//! ```
#![forbid(unsafe_code)]

mod audit;
mod doctor;
mod keys;
mod sign_webhook;

use jwt_simple::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::process::ExitCode;

const USAGE: &str = "usage:
  edgeguard sign-webhook ...   sign a webhook body and print the headers
  edgeguard audit keygen       a new AUDIT_SIGNING_KEY and its public AUDIT_VERIFY_KEY
  edgeguard audit verify ...   verify an audit export against its signed checkpoints
  edgeguard doctor [--root DIR] [--env-file FILE]... [--json]   check the project (docs/doctor.md)
  edgeguard keys create|list|revoke|rotate ...   user API keys via the api-keys function (docs/api-keys.md)
  edgeguard keygen [--kid KID] [--private-out FILE] [--jwks-out FILE]
      ES256 dev key pair: prints {\"private_jwk\":{..},\"jwks\":{\"keys\":[..]}} (or writes the files)
  edgeguard token (--key PRIVATE_JWK_FILE | --secret SECRET) [--sub ID] [--role authenticated]
      [--email E] [--user-role R] [--tenant-id T] [--permissions a:b,c:d] [--aal aal1|aal2]
      [--exp SECONDS_FROM_NOW] [--kid KID] [--aud AUD] [--iss ISS] [--anonymous]
      prints a dev access token (ES256 with --key, HS256 with --secret; JWT_SECRET env as fallback)";

fn parse_flags(
    args: &[String],
    flags: &[&str],
    switches: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = a
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {a:?}"))?;
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (name, None),
        };
        if switches.contains(&name) {
            out.insert(name.to_owned(), "true".to_owned());
        } else if flags.contains(&name) {
            let v = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("--{name} needs a value"))?,
            };
            out.insert(name.to_owned(), v);
        } else {
            return Err(format!("unknown option --{name}"));
        }
    }
    Ok(out)
}

fn write_or_print(path: Option<&String>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => std::fs::write(p, format!("{text}\n")).map_err(|e| format!("writing {p}: {e}")),
        None => Ok(()),
    }
}

fn keygen(args: &[String]) -> Result<(), String> {
    let f = parse_flags(args, &["kid", "private-out", "jwks-out"], &[])?;
    let kid = f
        .get("kid")
        .cloned()
        .unwrap_or_else(|| "edgeguard-dev-1".to_owned());
    let kp = ES256KeyPair::generate().with_key_id(&kid);
    let private: Value = serde_json::from_str(&kp.to_jwk()).map_err(|e| e.to_string())?;
    let mut public: Map<String, Value> = private.as_object().cloned().unwrap_or_default();
    public.remove("d");
    public.insert("alg".into(), json!("ES256"));
    public.insert("use".into(), json!("sig"));
    public.insert("kid".into(), json!(kid));
    let mut private = private;
    private["alg"] = json!("ES256");
    private["kid"] = json!(kid);
    let jwks = json!({"keys": [Value::Object(public)]});
    // Self-check: the public JWKS is accepted by edgeguard-core.
    let set =
        edgeguard_core::auth::KeySet::from_json(&jwks.to_string()).map_err(|e| e.to_string())?;
    if set.keys.len() != 1 {
        return Err("generated JWKS was not accepted".into());
    }
    write_or_print(
        f.get("private-out"),
        &serde_json::to_string_pretty(&private).map_err(|e| e.to_string())?,
    )?;
    write_or_print(f.get("jwks-out"), &jwks.to_string())?;
    if !f.contains_key("private-out") && !f.contains_key("jwks-out") {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"private_jwk": private, "jwks": jwks}))
                .map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

fn token(args: &[String]) -> Result<(), String> {
    let f = parse_flags(
        args,
        &[
            "key",
            "secret",
            "sub",
            "role",
            "email",
            "user-role",
            "tenant-id",
            "permissions",
            "aal",
            "exp",
            "kid",
            "aud",
            "iss",
        ],
        &["anonymous"],
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let lifetime: u64 = f
        .get("exp")
        .map(|s| s.parse().map_err(|_| "--exp must be seconds".to_string()))
        .transpose()?
        .unwrap_or(3600);
    let mut custom = Map::new();
    custom.insert(
        "role".into(),
        json!(f.get("role").map_or("authenticated", String::as_str)),
    );
    custom.insert(
        "aal".into(),
        json!(f.get("aal").map_or("aal1", String::as_str)),
    );
    custom.insert("is_anonymous".into(), json!(f.contains_key("anonymous")));
    for (flag, claim) in [
        ("email", "email"),
        ("user-role", "user_role"),
        ("tenant-id", "tenant_id"),
    ] {
        if let Some(v) = f.get(flag) {
            custom.insert(claim.into(), json!(v));
        }
    }
    if let Some(p) = f.get("permissions") {
        let list: Vec<&str> = p
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        custom.insert("permissions".into(), json!(list));
    }
    let sub = f
        .get("sub")
        .cloned()
        .unwrap_or_else(|| "00000000-0000-4000-8000-000000000001".to_owned());
    let mut claims =
        Claims::with_custom_claims(Value::Object(custom), Duration::from_secs(lifetime))
            .with_subject(sub)
            .with_audience(f.get("aud").map_or("authenticated", String::as_str));
    claims.issued_at = Some(UnixTimeStamp::from_secs(now));
    claims.expires_at = Some(UnixTimeStamp::from_secs(now + lifetime));
    claims.invalid_before = None;
    if let Some(iss) = f.get("iss") {
        claims = claims.with_issuer(iss);
    }
    let secret = f
        .get("secret")
        .cloned()
        .or_else(|| std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty()));
    let token = match (f.get("key"), secret) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
            let v: Value = serde_json::from_str(&text).map_err(|_| format!("{path}: not JSON"))?;
            let jwk = v.get("private_jwk").cloned().unwrap_or(v);
            let kid = f
                .get("kid")
                .cloned()
                .or_else(|| jwk.get("kid").and_then(Value::as_str).map(str::to_owned));
            let mut kp = ES256KeyPair::from_jwk(&jwk.to_string())
                .map_err(|e| format!("{path}: not an ES256 private JWK ({e})"))?;
            if let Some(k) = kid {
                kp = kp.with_key_id(&k);
            }
            kp.sign(claims).map_err(|e| e.to_string())?
        }
        (None, Some(secret)) => {
            if secret.len() < 32 {
                return Err("the HS256 secret must be at least 32 bytes".into());
            }
            let mut k = HS256Key::from_bytes(secret.as_bytes());
            if let Some(kid) = f.get("kid") {
                k = k.with_key_id(kid);
            }
            k.authenticate(claims).map_err(|e| e.to_string())?
        }
        (None, None) => {
            return Err("give --key PRIVATE_JWK_FILE or --secret (or JWT_SECRET)".into())
        }
    };
    println!("{token}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("keygen") => keygen(&args[1..]),
        Some("token") => token(&args[1..]),
        Some("audit") => return ExitCode::from(audit::main(args.get(1..).unwrap_or_default())),
        Some("doctor") => return ExitCode::from(doctor::main(&args[1..]).clamp(0, 2) as u8),
        Some("keys") => return ExitCode::from(keys::main(&args[1..]).clamp(0, 2) as u8),
        Some("sign-webhook") => {
            let code = sign_webhook::main(args.get(1..).unwrap_or_default());
            return ExitCode::from(u8::try_from(code).unwrap_or(1));
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgeguard: {e}");
            ExitCode::from(2)
        }
    }
}
