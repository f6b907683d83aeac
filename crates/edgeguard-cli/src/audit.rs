//! `edgeguard audit`: the signing key of audit checkpoints, and verification
//! of an audit log export with the public key alone (docs/security.md,
//! "Audit log integrity"). All rules live in `edgeguard_core::audit_verify`.

use std::io::Read;

use edgeguard_core::audit_checkpoint::{SigningKey, VerifyKey};
use edgeguard_core::audit_verify::verify_export;
use jwt_simple::prelude::Ed25519KeyPair;
use serde_json::json;

/// Usage text of the subcommand.
pub const USAGE: &str = "\
usage: edgeguard audit keygen
           prints a new AUDIT_SIGNING_KEY (function secret) and its AUDIT_VERIFY_KEY (public)
       edgeguard audit verify [--public-key KEY[,KEY...]] [--input FILE|-] [--log FILE] [--json]
           verifies an export of private.audit_export() (default: stdin), e.g.
             psql \"$DB_URL\" -Atc 'select private.audit_export()' | edgeguard audit verify --public-key KEY
           --public-key  base64url Ed25519 public key(s); default: AUDIT_VERIFY_KEY
           --log         function log lines holding `audit checkpoint …`: checkpoints kept outside the database
           exit status 0 OK, 1 FAIL (rows rewritten or removed before a signed checkpoint,
           or a checkpoint that does not verify), 2 usage or unreadable input";

/// Runs `edgeguard audit …`; returns the exit status.
pub fn main(args: &[String]) -> u8 {
    let result = match args.first().map(String::as_str) {
        Some("keygen") => keygen(&args[1..]).map(|()| 0),
        Some("verify") => verify(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("edgeguard audit: {e}");
            2
        }
    }
}

fn keygen(args: &[String]) -> Result<(), String> {
    crate::parse_flags(args, &[], &[])?;
    let bytes = Ed25519KeyPair::generate().to_bytes();
    let seed: [u8; 32] = bytes
        .get(..32)
        .and_then(|s| s.try_into().ok())
        .ok_or("key generation failed")?;
    let key = SigningKey::from_seed_bytes(seed).map_err(|e| e.to_string())?;
    let out = json!({
        "AUDIT_SIGNING_KEY": key.seed_base64url(),
        "AUDIT_VERIFY_KEY": key.verify_key().to_base64url(),
        "key_id": key.key_id(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn read_input(path: Option<&String>) -> Result<String, String> {
    match path.map(String::as_str) {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("reading stdin: {e}"))?;
            Ok(s)
        }
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("reading {p}: {e}")),
    }
}

fn verify(args: &[String]) -> Result<u8, String> {
    let f = crate::parse_flags(args, &["public-key", "input", "log"], &["json"])?;
    let key_text = f
        .get("public-key")
        .cloned()
        .or_else(|| {
            std::env::var("AUDIT_VERIFY_KEY")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .ok_or("give --public-key (or AUDIT_VERIFY_KEY)")?;
    let keys = key_text
        .split(',')
        .map(|k| VerifyKey::from_base64url(k).map_err(|e| format!("--public-key: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let export = read_input(f.get("input"))?;
    let log = f.get("log").map(|p| read_input(Some(p))).transpose()?;
    let reports = verify_export(&export, log.as_deref(), &keys).map_err(|e| e.to_string())?;
    let ok = reports.iter().all(|r| r.ok());
    if f.contains_key("json") {
        let out = json!({
            "status": if ok { "ok" } else { "fail" },
            "keys": keys.iter().map(VerifyKey::key_id).collect::<Vec<_>>(),
            "chains": reports.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        });
        println!("{out}");
    } else {
        for r in &reports {
            let through = r
                .verified_through
                .map_or("none".to_owned(), |s| s.to_string());
            println!(
                "chain {}: {} rows={} verified_through={} unverified_tail={}",
                r.chain_id,
                if r.ok() { "OK" } else { "FAIL" },
                r.rows,
                through,
                r.unverified_tail
            );
            for finding in &r.findings {
                let seq = finding.seq.map_or("-".to_owned(), |s| s.to_string());
                let source = finding
                    .source
                    .map_or(String::new(), |s| format!(" ({s} checkpoint)"));
                println!("  {} at seq {seq}{source}", finding.failure.as_str());
            }
        }
        println!("audit verify: {}", if ok { "OK" } else { "FAIL" });
    }
    Ok(if ok { 0 } else { 1 })
}
