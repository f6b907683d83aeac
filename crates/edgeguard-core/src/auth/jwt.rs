//! JWT (JWS compact) verification with precise reasons for every refusal.

use super::b64;
use super::keys::{verify_signature, Alg, Key};
use crate::strict_json;
use serde_json::{Map, Value};

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Claim checks applied after the signature verified.
#[derive(Clone, Debug)]
pub struct ClaimRules {
    /// Allowed clock skew in seconds for `exp`, `nbf`, `iat`.
    pub leeway: u64,
    /// Required `aud` (string or member of an array), when set.
    pub audience: Option<String>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
}

/// The parsed, not yet trusted, pieces of a token.
#[derive(Debug)]
pub struct Parsed<'a> {
    /// The `alg` the token claims.
    pub alg: String,
    /// The `kid`, if present.
    pub kid: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The decoded claims object (still unauthenticated).
    pub claims: Map<String, Value>,
}

const FORBIDDEN_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// Splits and decodes a token, enforcing the structural rules.
pub fn parse(token: &str) -> Result<Parsed<'_>, String> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err("token larger than 8 KiB".into());
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("token must have exactly three segments".into());
    };
    let hb = b64::decode(h.as_bytes())
        .map_err(|e| format!("header is not canonical unpadded base64url ({e:?})"))?;
    let pb = b64::decode(p.as_bytes())
        .map_err(|e| format!("payload is not canonical unpadded base64url ({e:?})"))?;
    let signature = b64::decode(s.as_bytes())
        .map_err(|e| format!("signature is not canonical unpadded base64url ({e:?})"))?;
    let header = strict_json::parse(&hb).map_err(|e| format!("header: {e}"))?;
    let Value::Object(header) = header else {
        return Err("header is not a JSON object".into());
    };
    for f in FORBIDDEN_HEADERS {
        if header.contains_key(f) {
            return Err(if f == "crit" {
                "header \"crit\" is not supported".into()
            } else {
                format!("header \"{f}\" is refused (key injection)")
            });
        }
    }
    let alg = match header.get("alg") {
        Some(Value::String(a)) => a.clone(),
        Some(_) => return Err("header \"alg\" is not a string".into()),
        None => return Err("header has no \"alg\"".into()),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err("alg \"none\" is refused".into());
    }
    if let Some(t) = header.get("typ") {
        match t.as_str() {
            Some(t)
                if t.eq_ignore_ascii_case("JWT")
                    || t.eq_ignore_ascii_case("at+jwt")
                    || t.eq_ignore_ascii_case("application/at+jwt") => {}
            _ => return Err("header \"typ\" is not JWT".into()),
        }
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err("header \"kid\" is not a string".into()),
    };
    let claims = strict_json::parse(&pb).map_err(|e| format!("payload: {e}"))?;
    let Value::Object(claims) = claims else {
        return Err("payload is not a JSON object".into());
    };
    let signing_input = token
        .as_bytes()
        .get(..h.len() + 1 + p.len())
        .ok_or("token must have exactly three segments")?;
    Ok(Parsed {
        alg,
        kid,
        signing_input,
        signature,
        claims,
    })
}

/// At most this many HS256 secrets are tried for one token (the legacy
/// secret and the `oct` keys of `SUPABASE_JWKS`): bounded work per token.
pub const MAX_HS256_CANDIDATES: usize = 4;

/// Picks the keys a token may be verified with (docs/platform.md):
///
/// - a `kid` that names a key selects that key only, and the token's `alg`
///   must be the key's algorithm;
/// - an HS256 token whose `kid` names no key, or that has no `kid`, may use
///   the shared secrets: `JWT_SECRET` and the `oct` keys of `SUPABASE_JWKS`
///   (kid-less ones first); HS256 never uses a public key;
/// - an asymmetric token without `kid` uses the one key of its algorithm, and
///   is refused when several fit.
///
/// `Err` with exactly `"unknown kid"` means a JWKS refetch may help.
pub fn select_keys<'k>(
    keys: &'k [Key],
    hs: Option<&'k Key>,
    alg: &str,
    kid: Option<&str>,
) -> Result<Vec<&'k Key>, String> {
    let Some(token_alg) = Alg::from_name(alg) else {
        return Err(format!(
            "alg \"{}\" is not accepted",
            alg.chars().take(16).collect::<String>()
        ));
    };
    if let Some(kid) = kid {
        if let Some(k) = keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
            if k.material.alg() != token_alg {
                return Err(format!(
                    "alg {} does not match the key's algorithm {}",
                    token_alg.name(),
                    k.material.alg().name()
                ));
            }
            return Ok(vec![k]);
        }
        if token_alg != Alg::Hs256 {
            return Err("unknown kid".into());
        }
    }
    if token_alg == Alg::Hs256 {
        let shared = || keys.iter().filter(|k| k.material.alg() == Alg::Hs256);
        let mut out: Vec<&Key> = Vec::new();
        out.extend(hs);
        out.extend(shared().filter(|k| k.kid.is_none()));
        if kid.is_none() {
            out.extend(shared().filter(|k| k.kid.is_some()));
        }
        out.truncate(MAX_HS256_CANDIDATES);
        if !out.is_empty() {
            return Ok(out);
        }
        return Err(if shared().next().is_some() {
            "unknown kid".into()
        } else if !keys.is_empty() {
            "HS256 token but only asymmetric keys are configured (algorithm confusion refused)"
                .into()
        } else {
            "HS256 token but no JWT secret is configured".into()
        });
    }
    let mut fit = keys.iter().filter(|k| k.material.alg() == token_alg);
    match (fit.next(), fit.next()) {
        (Some(k), None) => Ok(vec![k]),
        (None, _) => Err(format!(
            "no {} key configured for a token without kid",
            token_alg.name()
        )),
        (Some(_), Some(_)) => Err("token has no kid and several keys fit".into()),
    }
}

fn num(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("claim \"{name}\" is not a number")),
    }
}

/// Checks `exp`, `nbf`, `iat`, `aud`, `iss` at `now` (seconds). `exp` is required.
pub fn check_claims(
    claims: &Map<String, Value>,
    rules: &ClaimRules,
    now: i64,
) -> Result<(), String> {
    let leeway = i64::try_from(rules.leeway).unwrap_or(i64::MAX);
    let exp = num(claims, "exp")?.ok_or("token has no exp")?;
    if now > exp.saturating_add(leeway) {
        return Err("token expired".into());
    }
    if let Some(nbf) = num(claims, "nbf")? {
        if nbf > now.saturating_add(leeway) {
            return Err("token not yet valid (nbf in the future)".into());
        }
    }
    if let Some(iat) = num(claims, "iat")? {
        if iat > now.saturating_add(leeway) {
            return Err("token issued in the future (iat)".into());
        }
    }
    if let Some(aud) = &rules.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => a == aud,
            Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(aud)),
            _ => false,
        };
        if !ok {
            return Err("audience mismatch".into());
        }
    }
    if let Some(iss) = &rules.issuer {
        if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
            return Err("issuer mismatch".into());
        }
    }
    Ok(())
}

/// Outcome of verifying a token's structure and signature.
#[derive(Debug)]
pub enum SigOutcome {
    /// Signature good: the claims (not yet time-checked).
    Verified(Map<String, Value>),
    /// Refused with a precise reason.
    Refused(String),
    /// The `kid` is not in the key set: a refetch may help.
    UnknownKid,
}

/// Parses the token, selects the key and verifies the signature.
pub fn verify(token: &str, keys: &[Key], hs: Option<&Key>) -> SigOutcome {
    match parse(token) {
        Ok(p) => verify_parsed(p, keys, hs),
        Err(e) => SigOutcome::Refused(e),
    }
}

/// [`verify`] of a token already parsed (e.g. to read its `iss` first and
/// pick the issuer whose keys are tried, docs/issuers.md).
pub fn verify_parsed(p: Parsed<'_>, keys: &[Key], hs: Option<&Key>) -> SigOutcome {
    let candidates = match select_keys(keys, hs, &p.alg, p.kid.as_deref()) {
        Ok(k) => k,
        Err(e) if e == "unknown kid" => return SigOutcome::UnknownKid,
        Err(e) => return SigOutcome::Refused(e),
    };
    if candidates
        .iter()
        .any(|key| verify_signature(&key.material, p.signing_input, &p.signature))
    {
        SigOutcome::Verified(p.claims)
    } else {
        SigOutcome::Refused("bad signature".into())
    }
}
