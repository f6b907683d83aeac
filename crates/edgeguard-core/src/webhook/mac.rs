//! The one HMAC-SHA256 + constant-time comparison path every verifier uses.
//!
//! Verifiers only ever accept full-length (32-byte) tags: a presented tag of any
//! other length is rejected without comparing, so truncated HMACs never verify.

use core::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

/// Length in bytes of an HMAC-SHA256 tag.
pub const TAG_LEN: usize = 32;

/// Strict standard base64 for signatures: padding required, no trailing bits,
/// so exactly one encoding of a tag is accepted.
pub(crate) const B64_STRICT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(false),
);

/// Base64 for `whsec_` secrets: padding optional (some tools strip it), but
/// trailing bits must still be zero.
pub(crate) const B64_SECRET: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false),
);

/// A prepared HMAC-SHA256 key (the inner and outer pads are computed once).
///
/// `Debug` never prints key material.
#[derive(Clone)]
pub struct HmacKey {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

impl HmacKey {
    /// Prepares a key. HMAC accepts keys of any length (long keys are hashed),
    /// so this returns `None` only if the underlying library ever refuses one.
    pub fn new(key: &[u8]) -> Option<HmacKey> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(key)
            .ok()
            .map(|mac| HmacKey { mac })
    }

    /// The HMAC-SHA256 tag of the concatenation of `parts` (no copy is made).
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        let out = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        for (dst, src) in tag.iter_mut().zip(out.iter()) {
            *dst = *src;
        }
        tag
    }
}

/// Constant-time equality of two byte strings. Lengths are not secret: strings
/// of different lengths compare unequal immediately.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Whether `presented` is a full-length tag equal, in constant time, to one of
/// `expected`. Every pair is compared (no early exit).
pub(crate) fn any_tag_matches(expected: &[[u8; TAG_LEN]], presented: &[u8]) -> bool {
    if presented.len() != TAG_LEN {
        return false;
    }
    let mut hit = Choice::from(0u8);
    for tag in expected {
        hit |= tag[..].ct_eq(presented);
    }
    bool::from(hit)
}

/// Verifies an HMAC-SHA256 `tag` of `msg` under `key` exactly as the webhook
/// verifiers do: the tag must be exactly 32 bytes and is compared in constant time.
pub fn hmac_sha256_verify(key: &[u8], msg: &[u8], tag: &[u8]) -> bool {
    match HmacKey::new(key) {
        Some(k) => any_tag_matches(&[k.tag(&[msg])], tag),
        None => false,
    }
}

/// The HMAC-SHA256 tag of `msg` under `key` (for signing and for tests).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Option<[u8; TAG_LEN]> {
    HmacKey::new(key).map(|k| k.tag(&[msg]))
}

/// Lowercase hex of a tag.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Decodes exactly 64 lowercase hex digits into a tag (the only form Stripe and
/// GitHub send). Anything else is `None`.
pub(crate) fn parse_hex_tag(s: &str) -> Option<[u8; TAG_LEN]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != TAG_LEN * 2 {
        return None;
    }
    let mut tag = [0u8; TAG_LEN];
    for (dst, pair) in tag.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = nibble(*pair.first()?)?;
        let lo = nibble(*pair.get(1)?)?;
        *dst = (hi << 4) | lo;
    }
    Some(tag)
}

/// Decodes canonical, padded standard base64 of exactly 32 bytes into a tag.
pub(crate) fn parse_b64_tag(s: &str) -> Option<[u8; TAG_LEN]> {
    // 32 bytes encode to 44 characters; refuse anything longer before decoding.
    if s.len() != 44 {
        return None;
    }
    let bytes = B64_STRICT.decode(s.as_bytes()).ok()?;
    let tag: [u8; TAG_LEN] = bytes.as_slice().try_into().ok()?;
    Some(tag)
}

/// Canonical padded standard base64.
pub(crate) fn b64(bytes: &[u8]) -> String {
    B64_STRICT.encode(bytes)
}
