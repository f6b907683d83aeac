//! `edgeguard token`: a dev access token shaped like a Supabase Auth one.
//!
//! The one token tool of the project: `npm run token` (scripts/token.sh)
//! calls it with the local stack's dev keys. Flags are kebab-case; a flag
//! written with `_` (`--user_role`) is the same flag.

use jwt_simple::prelude::*;
use jwt_simple::reexports::rand::Rng as _;
use serde_json::{json, Map, Value};

/// The usage text of `edgeguard token` (also `npm run token -- --help`).
pub const USAGE: &str = "edgeguard token [--key FILE | --secret SECRET] [--alg ES256|HS256] [--sub ID]
      [--role authenticated] [--email E] [--user-role R] [--tenant-id T]
      [--permissions a:b,c:d | '[\"a:b\"]'] [--aal aal1|aal2] [--anonymous]
      [--exp SECONDS (3600; negative: already expired)] [--aud authenticated] [--iss URL]
      [--kid KID] [--app-metadata JSON] [--user-metadata JSON] [--claim NAME=VALUE]...
  prints a dev access token shaped like a Supabase Auth one
  --key FILE     a private ES256 JWK, or a dev-keys.json ({\"private_jwk\":..,\"env\":{\"JWT_SECRET\":..}})
  --secret S     an HS256 secret (at least 32 bytes; JWT_SECRET env as fallback)
  --alg          ES256 (default with --key) or HS256 (default with --secret; with a
                 dev-keys.json --key, signs with its JWT_SECRET)
  --sub          default: a random UUID; a new session_id is set on every token
  --claim N=V    any other claim (repeatable); V is parsed as JSON when it is JSON
  Flags may be written with `_` instead of `-` (--user_role); npm run token adds
  --key <state>/keys/dev-keys.json and --iss <local api>/auth/v1.";

const FLAGS: &[&str] = &[
    "key",
    "secret",
    "alg",
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
    "app-metadata",
    "user-metadata",
];

/// Claims set by their own flags, so `--claim` may not set them.
const REGISTERED: &[&str] = &["iss", "sub", "aud", "exp", "iat", "nbf", "jti"];

#[derive(Debug, Default)]
struct Args {
    flags: std::collections::BTreeMap<String, String>,
    anonymous: bool,
    claims: Vec<(String, Value)>,
}

fn json_or_string(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()))
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = crate::split_flag(a)?;
        let name = name.replace('_', "-");
        if name == "anonymous" {
            out.anonymous = true;
            continue;
        }
        if name != "claim" && !FLAGS.contains(&name.as_str()) {
            return Err(format!("unknown option --{name}"));
        }
        let value = crate::flag_value(&name, inline, &mut it)?;
        if name == "claim" {
            let (k, v) = value
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or("--claim wants NAME=VALUE")?;
            if REGISTERED.contains(&k) {
                return Err(format!("--claim {k}=…: use --{k}"));
            }
            out.claims.push((k.to_owned(), json_or_string(v)));
        } else {
            out.flags.insert(name, value);
        }
    }
    Ok(out)
}

fn random_uuid() -> String {
    let mut b = [0u8; 16];
    jwt_simple::reexports::rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The custom (non-registered) claims, Supabase's shape first.
fn custom_claims(a: &Args) -> Result<Map<String, Value>, String> {
    let f = &a.flags;
    let mut c = Map::new();
    c.insert(
        "role".into(),
        json!(f.get("role").map_or("authenticated", String::as_str)),
    );
    c.insert(
        "aal".into(),
        json!(f.get("aal").map_or("aal1", String::as_str)),
    );
    c.insert("is_anonymous".into(), json!(a.anonymous));
    c.insert("session_id".into(), json!(random_uuid()));
    for (flag, claim) in [
        ("email", "email"),
        ("user-role", "user_role"),
        ("tenant-id", "tenant_id"),
    ] {
        if let Some(v) = f.get(flag) {
            c.insert(claim.into(), json!(v));
        }
    }
    if let Some(p) = f.get("permissions") {
        let list: Value = if p.trim_start().starts_with('[') {
            serde_json::from_str(p).map_err(|_| "--permissions: not a JSON array".to_string())?
        } else {
            json!(p
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>())
        };
        c.insert("permissions".into(), list);
    }
    for (flag, claim) in [
        ("app-metadata", "app_metadata"),
        ("user-metadata", "user_metadata"),
    ] {
        if let Some(v) = f.get(flag) {
            let v: Value = serde_json::from_str(v).map_err(|_| format!("--{flag}: not JSON"))?;
            c.insert(claim.into(), v);
        }
    }
    for (k, v) in &a.claims {
        c.insert(k.clone(), v.clone());
    }
    Ok(c)
}

/// Runs `edgeguard token ARGS`: prints the token.
pub fn main(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let a = parse(args)?;
    let f = &a.flags;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let lifetime: i64 = f
        .get("exp")
        .map(|s| s.parse().map_err(|_| "--exp must be seconds".to_string()))
        .transpose()?
        .unwrap_or(3600);
    let exp = now
        .checked_add_signed(lifetime)
        .ok_or("--exp is out of range")?;
    let sub = f.get("sub").cloned().unwrap_or_else(random_uuid);
    let mut claims = Claims::with_custom_claims(
        Value::Object(custom_claims(&a)?),
        Duration::from_secs(lifetime.unsigned_abs()),
    )
    .with_subject(sub)
    .with_audience(f.get("aud").map_or("authenticated", String::as_str));
    claims.issued_at = Some(UnixTimeStamp::from_secs(now));
    claims.expires_at = Some(UnixTimeStamp::from_secs(exp));
    claims.invalid_before = None;
    if let Some(iss) = f.get("iss") {
        claims = claims.with_issuer(iss);
    }

    // The key file: a private JWK, or a dev-keys.json holding one and JWT_SECRET.
    let key_file = match f.get("key") {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
            let v: Value = serde_json::from_str(&text).map_err(|_| format!("{path}: not JSON"))?;
            Some((path.clone(), v))
        }
        None => None,
    };
    let alg = match f.get("alg").map(String::as_str) {
        Some("ES256") => "ES256",
        Some("HS256") => "HS256",
        Some(_) => return Err("--alg is ES256 or HS256".into()),
        None if f.contains_key("secret") || key_file.is_none() => "HS256",
        None => "ES256",
    };
    let token = if alg == "ES256" {
        let (path, v) = key_file.ok_or("ES256 needs --key PRIVATE_JWK_FILE")?;
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
    } else {
        let secret = f
            .get("secret")
            .cloned()
            .or_else(|| {
                key_file.as_ref().and_then(|(_, v)| {
                    v.pointer("/env/JWT_SECRET")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            })
            .or_else(|| std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty()))
            .ok_or("give --key PRIVATE_JWK_FILE or --secret (or JWT_SECRET)")?;
        if secret.len() < 32 {
            return Err("the HS256 secret must be at least 32 bytes".into());
        }
        let mut k = HS256Key::from_bytes(secret.as_bytes());
        if let Some(kid) = f.get("kid") {
            k = k.with_key_id(kid);
        }
        k.authenticate(claims).map_err(|e| e.to_string())?
    };
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn snake_and_kebab_spellings_are_one_flag() {
        let a = parse(&s(&[
            "--user_role",
            "admin",
            "--tenant-id",
            "t1",
            "--anonymous",
        ]))
        .unwrap();
        assert_eq!(a.flags.get("user-role").map(String::as_str), Some("admin"));
        assert_eq!(a.flags.get("tenant-id").map(String::as_str), Some("t1"));
        assert!(a.anonymous);
    }

    #[test]
    fn claims_are_json_when_json_and_registered_names_are_refused() {
        let a = parse(&s(&[
            "--claim",
            "n=3",
            "--claim",
            "note=plain",
            "--claim=o={\"a\":1}",
        ]))
        .unwrap();
        assert_eq!(a.claims[0], ("n".to_owned(), json!(3)));
        assert_eq!(a.claims[1], ("note".to_owned(), json!("plain")));
        assert_eq!(a.claims[2], ("o".to_owned(), json!({"a": 1})));
        for bad in [
            &["--claim", "sub=x"][..],
            &["--claim", "=x"],
            &["--claim"],
            &["--nope", "1"],
            &["stray"],
        ] {
            assert!(parse(&s(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn custom_claims_have_the_supabase_shape() {
        let a = parse(&s(&[
            "--permissions",
            "a:b, c:d",
            "--app_metadata",
            "{\"provider\":\"email\"}",
        ]))
        .unwrap();
        let c = custom_claims(&a).unwrap();
        assert_eq!(c["role"], json!("authenticated"));
        assert_eq!(c["aal"], json!("aal1"));
        assert_eq!(c["is_anonymous"], json!(false));
        assert_eq!(c["permissions"], json!(["a:b", "c:d"]));
        assert_eq!(c["app_metadata"], json!({"provider": "email"}));
        assert_eq!(c["session_id"].as_str().map(str::len), Some(36));
        let a = parse(&s(&["--permissions", "[\"x:y\"]"])).unwrap();
        assert_eq!(custom_claims(&a).unwrap()["permissions"], json!(["x:y"]));
        assert_ne!(random_uuid(), random_uuid());
        assert_eq!(&random_uuid()[14..15], "4");
    }
}
