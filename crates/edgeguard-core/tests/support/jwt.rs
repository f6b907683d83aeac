//! Tokens for the auth tests, signed here (not by the code under test).
#![allow(dead_code)]

use edgeguard_core::auth::b64;
use serde_json::Value;

/// An HS256 JWS over `header` and `claims` (serialised as given) with `secret`.
pub fn hs256_token(secret: &[u8], header: &Value, claims: &Value) -> String {
    use hmac::{KeyInit, Mac};
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(claims.to_string().as_bytes())
    );
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    m.update(input.as_bytes());
    format!("{input}.{}", b64::encode(&m.finalize().into_bytes()))
}
