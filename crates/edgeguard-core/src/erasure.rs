//! Confirmation tokens for account erasure (docs/privacy.md).
//!
//! Erasing an account is irreversible, so `DELETE /account` runs only with a
//! token the same user fetched moments before from
//! `POST /account/erasure-token`: a stolen access token alone cannot erase in
//! one request, and a token issued to one user never confirms another's
//! erasure.
//!
//! # Token
//!
//! `er1.<exp>.<mac>`: `exp` is the expiry in Unix seconds (issue time +
//! [`TTL_S`]), `mac` is base64url (no padding) of HMAC-SHA256(secret,
//! `"edgeguard-erasure-v1" 0x00 user_id 0x00 exp`). The secret is
//! `CSRF_SECRET`, else `SECRET_KEY` (either ≥ 32 bytes); the domain string
//! keeps these MACs apart from CSRF tokens made with the same key. The MAC is
//! compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// Lifetime of a confirmation token, in seconds (5 minutes).
pub const TTL_S: u64 = 300;
/// The shortest accepted secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// The longest user id a token may be bound to.
pub const MAX_SUBJECT_LEN: usize = 64;

const DOMAIN: &[u8] = b"edgeguard-erasure-v1";
const PREFIX: &str = "er1";

type HmacSha256 = Hmac<Sha256>;

/// Issues and checks erasure confirmation tokens with one secret.
#[derive(Clone)]
pub struct ErasureConfirm {
    secret: Vec<u8>,
}

impl core::fmt::Debug for ErasureConfirm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ErasureConfirm")
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A confirmation token and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The token (`er1.<exp>.<mac>`); contains no secret.
    pub token: String,
    /// Expiry, Unix seconds.
    pub expires_at_s: u64,
    /// Lifetime in seconds ([`TTL_S`]).
    pub expires_in_s: u64,
}

fn misconfigured(reason: &str) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

fn refused(reason: &str) -> Denial {
    Denial::new(ErrorCode::Forbidden, reason)
}

impl ErasureConfirm {
    /// The secret from `CSRF_SECRET`, else `SECRET_KEY`; `MISCONFIGURED` when
    /// neither is set or the one used is shorter than 32 bytes.
    pub fn from_env(env: &SortedMap<String, String>) -> Result<Self, Denial> {
        let (name, secret) = ["CSRF_SECRET", "SECRET_KEY"]
            .iter()
            .find_map(|n| env.get(*n).filter(|s| !s.is_empty()).map(|s| (*n, s)))
            .ok_or_else(|| misconfigured("erasure confirmation needs CSRF_SECRET or SECRET_KEY"))?;
        if secret.len() < MIN_SECRET_LEN {
            return Err(misconfigured(if name == "CSRF_SECRET" {
                "CSRF_SECRET is shorter than 32 bytes"
            } else {
                "SECRET_KEY is shorter than 32 bytes"
            }));
        }
        Ok(ErasureConfirm {
            secret: secret.as_bytes().to_vec(),
        })
    }

    fn mac(&self, user_id: &str, exp: u64) -> Result<HmacSha256, Denial> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .map_err(|_| misconfigured("erasure secret unusable"))?;
        mac.update(DOMAIN);
        mac.update(&[0]);
        mac.update(user_id.as_bytes());
        mac.update(&[0]);
        mac.update(exp.to_string().as_bytes());
        Ok(mac)
    }

    /// A token confirming the erasure of `user_id`, valid until `now_s + TTL_S`.
    pub fn issue(&self, user_id: &str, now_s: u64) -> Result<Issued, Denial> {
        if user_id.is_empty() || user_id.len() > MAX_SUBJECT_LEN {
            return Err(Denial::new(
                ErrorCode::Forbidden,
                "erasure needs a user id of 1..=64 bytes",
            ));
        }
        let exp = now_s.saturating_add(TTL_S);
        let tag = self.mac(user_id, exp)?.finalize().into_bytes();
        Ok(Issued {
            token: format!("{PREFIX}.{exp}.{}", URL_SAFE_NO_PAD.encode(tag)),
            expires_at_s: exp,
            expires_in_s: TTL_S,
        })
    }

    /// Checks that `token` confirms the erasure of `user_id` at `now_s`.
    /// Refusals are `FORBIDDEN` with the reason `confirmation malformed`,
    /// `confirmation invalid` (wrong user or forged) or `confirmation expired`.
    pub fn check(&self, token: &str, user_id: &str, now_s: u64) -> Result<(), Denial> {
        if token.len() > 128 {
            return Err(refused("confirmation malformed"));
        }
        let mut parts = token.split('.');
        let (Some(PREFIX), Some(exp), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused("confirmation malformed"));
        };
        if exp.is_empty()
            || exp.len() > 20
            || !exp.bytes().all(|b| b.is_ascii_digit())
            || exp.starts_with('0')
        {
            return Err(refused("confirmation malformed"));
        }
        let exp_n: u64 = exp.parse().map_err(|_| refused("confirmation malformed"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| refused("confirmation malformed"))?;
        if user_id.is_empty() || user_id.len() > MAX_SUBJECT_LEN {
            return Err(refused("confirmation invalid"));
        }
        self.mac(user_id, exp_n)?
            .verify_slice(&tag)
            .map_err(|_| refused("confirmation invalid"))?;
        // a token claiming a lifetime longer than TTL_S was not issued here
        if exp_n <= now_s || exp_n > now_s.saturating_add(TTL_S) {
            return Err(refused("confirmation expired"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "aaaaaaaa-0000-4000-8000-000000000004";
    const OTHER: &str = "aaaaaaaa-0000-4000-8000-000000000005";
    const NOW: u64 = 1_800_000_000;

    fn env(pairs: &[(&str, &str)]) -> SortedMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn confirm() -> ErasureConfirm {
        ErasureConfirm::from_env(&env(&[("CSRF_SECRET", &"k".repeat(32))])).unwrap()
    }

    fn reason(r: Result<(), Denial>) -> String {
        r.unwrap_err().reason
    }

    #[test]
    fn round_trip_bound_to_user_and_time() {
        let c = confirm();
        let t = c.issue(USER, NOW).unwrap();
        assert_eq!(t.expires_in_s, 300);
        assert_eq!(t.expires_at_s, NOW + 300);
        assert!(t.token.starts_with("er1.1800000300."));
        assert_eq!(c.check(&t.token, USER, NOW), Ok(()));
        assert_eq!(c.check(&t.token, USER, NOW + 299), Ok(()));
        assert_eq!(
            reason(c.check(&t.token, USER, NOW + 300)),
            "confirmation expired"
        );
        assert_eq!(
            reason(c.check(&t.token, OTHER, NOW)),
            "confirmation invalid"
        );
    }

    #[test]
    fn other_secret_tampering_and_garbage_refused() {
        let t = confirm().issue(USER, NOW).unwrap().token;
        let other = ErasureConfirm::from_env(&env(&[("SECRET_KEY", &"s".repeat(40))])).unwrap();
        assert_eq!(reason(other.check(&t, USER, NOW)), "confirmation invalid");
        let c = confirm();
        // a later expiry with the old MAC
        let (_, mac) = t.rsplit_once('.').unwrap();
        let longer = format!("er1.{}.{mac}", NOW + 200);
        assert_eq!(reason(c.check(&longer, USER, NOW)), "confirmation invalid");
        for bad in [
            "",
            "er1",
            "er1..x",
            "v1.1800000300.abc",
            "er1.01800000300.abc",
            "er1.1.2.3",
            &"a".repeat(200),
        ] {
            assert_eq!(
                reason(c.check(bad, USER, NOW)),
                "confirmation malformed",
                "{bad}"
            );
        }
        assert_eq!(
            c.check("er1.1800000300.!!", USER, NOW).unwrap_err().code,
            ErrorCode::Forbidden
        );
    }

    #[test]
    fn a_token_valid_too_long_was_not_issued_here() {
        // signed with the right key but an expiry beyond TTL_S (e.g. a clock far behind at issue)
        let c = confirm();
        let far = c.issue(USER, NOW + 10_000).unwrap().token;
        assert_eq!(reason(c.check(&far, USER, NOW)), "confirmation expired");
    }

    #[test]
    fn configuration() {
        assert_eq!(
            ErasureConfirm::from_env(&env(&[])).unwrap_err().code,
            ErrorCode::Misconfigured
        );
        let short = ErasureConfirm::from_env(&env(&[("CSRF_SECRET", "short")])).unwrap_err();
        assert_eq!(short.code, ErrorCode::Misconfigured);
        assert!(!short.reason.contains("short\""));
        // CSRF_SECRET wins over SECRET_KEY
        let both = ErasureConfirm::from_env(&env(&[
            ("CSRF_SECRET", &"k".repeat(32)),
            ("SECRET_KEY", &"s".repeat(32)),
        ]))
        .unwrap();
        let t = both.issue(USER, NOW).unwrap().token;
        assert_eq!(confirm().check(&t, USER, NOW), Ok(()));
        assert!(!format!("{both:?}").contains("kkkk"));
        assert_eq!(both.issue("", NOW).unwrap_err().code, ErrorCode::Forbidden);
    }
}
