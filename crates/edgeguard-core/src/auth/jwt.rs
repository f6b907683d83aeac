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

/// Picks the key for a token: by `kid`, or without `kid` only when exactly
/// one key fits. Returns `Err(reason)`; `Err` starting with "unknown kid" means
/// a JWKS refetch may help.
pub fn select_key<'k>(
    keys: &'k [Key],
    hs: Option<&'k Key>,
    alg: &str,
    kid: Option<&str>,
) -> Result<&'k Key, String> {
    let Some(token_alg) = Alg::from_name(alg) else {
        return Err(format!(
            "alg \"{}\" is not accepted",
            alg.chars().take(16).collect::<String>()
        ));
    };
    if token_alg == Alg::Hs256 {
        // HS256 only ever with the configured shared secret, never with a public key.
        return match hs {
            Some(k) => Ok(k),
            None if !keys.is_empty() => Err(
                "HS256 token but only asymmetric keys are configured (algorithm confusion refused)"
                    .into(),
            ),
            None => Err("HS256 token but no JWT secret is configured".into()),
        };
    }
    match kid {
        Some(kid) => {
            let k = keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| "unknown kid".to_string())?;
            if k.material.alg() != token_alg {
                return Err(format!(
                    "alg {} does not match the key's algorithm {}",
                    token_alg.name(),
                    k.material.alg().name()
                ));
            }
            Ok(k)
        }
        None => {
            let mut fit = keys.iter().filter(|k| k.material.alg() == token_alg);
            match (fit.next(), fit.next()) {
                (Some(k), None) => Ok(k),
                (None, _) => Err(format!(
                    "no {} key configured for a token without kid",
                    token_alg.name()
                )),
                (Some(_), Some(_)) => Err("token has no kid and several keys fit".into()),
            }
        }
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
    let p = match parse(token) {
        Ok(p) => p,
        Err(e) => return SigOutcome::Refused(e),
    };
    let key = match select_key(keys, hs, &p.alg, p.kid.as_deref()) {
        Ok(k) => k,
        Err(e) if e == "unknown kid" => return SigOutcome::UnknownKid,
        Err(e) => return SigOutcome::Refused(e),
    };
    if !verify_signature(&key.material, p.signing_input, &p.signature) {
        return SigOutcome::Refused("bad signature".into());
    }
    SigOutcome::Verified(p.claims)
}
