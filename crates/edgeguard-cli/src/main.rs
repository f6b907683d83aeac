//! The `edgeguard` command: dev keys, dev tokens, webhook signing, audit
//! checkpoint keys and audit log verification.
//!
//! ```text
//! edgeguard audit keygen | edgeguard audit verify --public-key KEY [--input FILE] [--log FILE] [--json]
//! edgeguard keys create|list|revoke|rotate --url PROJECT_URL --token ACCESS_TOKEN ...
//! edgeguard keygen [--kid KID] [--private-out FILE] [--jwks-out FILE]
//! edgeguard token [--key FILE | --secret SECRET] [--alg ES256|HS256] [--sub ID] ... (token.rs)
//! ```
#![forbid(unsafe_code)]

mod audit;
mod doctor;
mod keys;
mod sign_webhook;
mod token;

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
  edgeguard token ...          a dev access token (`edgeguard token --help`; npm run token)";

/// One `--name[=value]` argument: its name and its inline value, if any.
pub(crate) fn split_flag(a: &str) -> Result<(&str, Option<String>), String> {
    let name = a
        .strip_prefix("--")
        .ok_or_else(|| format!("unexpected argument {a:?}"))?;
    Ok(match name.split_once('=') {
        Some((n, v)) => (n, Some(v.to_owned())),
        None => (name, None),
    })
}

/// A flag's value: the inline one, else the next argument.
pub(crate) fn flag_value<'a>(
    name: &str,
    inline: Option<String>,
    rest: &mut impl Iterator<Item = &'a String>,
) -> Result<String, String> {
    match inline {
        Some(v) => Ok(v),
        None => rest
            .next()
            .cloned()
            .ok_or_else(|| format!("--{name} needs a value")),
    }
}

fn parse_flags(
    args: &[String],
    flags: &[&str],
    switches: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = split_flag(a)?;
        if switches.contains(&name) {
            out.insert(name.to_owned(), "true".to_owned());
        } else if flags.contains(&name) {
            let v = flag_value(name, inline, &mut it)?;
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("keygen") => keygen(&args[1..]),
        Some("token") => token::main(&args[1..]),
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
