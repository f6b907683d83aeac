//! Signed checkpoints of the audit hash chain.
//!
//! The audit log (`public.audit_logs`) is hash-chained per chain (a tenant,
//! or the global chain with the nil uuid). A chain alone does not stop the
//! database owner: whoever can write the table can change a row and
//! recompute every later hash. A checkpoint is an Ed25519 signature over a
//! chain's head `(chain_id, seq, hash)`, made by the functions with
//! `AUDIT_SIGNING_KEY`, a function secret that never enters the database.
//! Anyone holding only the public key can then tell whether the rows up to
//! a checkpoint are still those that were signed (see docs/security.md,
//! "Audit log integrity").
//!
//! # Message (version 1), byte-exact
//!
//! ```text
//! edgeguard-audit-checkpoint/v1\n
//! chain=<chain id: lower-case hyphenated uuid>\n
//! seq=<head seq: decimal, no sign, no leading zero>\n
//! hash=<head hash: 64 lower-case hex digits>\n
//! signed_at=<Unix milliseconds: decimal, no sign, no leading zero>\n
//! ```
//!
//! Every field is validated before anything is signed or verified, so one
//! message has exactly one encoding. Keys and signatures are base64url
//! without padding: the seed and the public key 32 bytes (43 characters),
//! a signature 64 bytes (86 characters). A key id is the first 16 hex
//! digits of SHA-256 over the public key; it names the key, it proves nothing.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_compact::{KeyPair, PublicKey, Seed, Signature};
use sha2::{Digest, Sha256};

use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// The function secret holding the signing seed.
pub const SIGNING_KEY_ENV: &str = "AUDIT_SIGNING_KEY";
/// The first line of every version-1 checkpoint message.
pub const MESSAGE_VERSION: &str = "edgeguard-audit-checkpoint/v1";
/// The largest accepted `seq` (Postgres `bigint`).
pub const MAX_SEQ: u64 = i64::MAX as u64;
/// The largest accepted `signed_at` in Unix milliseconds (year 9999).
pub const MAX_SIGNED_AT_MS: u64 = 253_402_300_799_999;

/// Why a checkpoint, key or signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    /// The chain id is not a lower-case hyphenated uuid.
    InvalidChainId,
    /// `seq` is 0 or above [`MAX_SEQ`].
    InvalidSeq,
    /// The head hash is not 64 lower-case hex digits.
    InvalidHash,
    /// `signed_at` is above [`MAX_SIGNED_AT_MS`].
    InvalidTime,
    /// The seed is not base64url of 32 bytes, or is all zeros.
    InvalidSeed,
    /// The public key is not base64url of 32 bytes of a usable point.
    InvalidPublicKey,
    /// The signature is not base64url of 64 bytes.
    InvalidSignatureEncoding,
    /// The signature does not verify for this message and key.
    SignatureMismatch,
}

impl CheckpointError {
    /// A short, stable, secret-free description.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointError::InvalidChainId => "chain id is not a lower-case uuid",
            CheckpointError::InvalidSeq => "seq is not in 1..=9223372036854775807",
            CheckpointError::InvalidHash => "head hash is not 64 lower-case hex digits",
            CheckpointError::InvalidTime => "signed_at is out of range",
            CheckpointError::InvalidSeed => "seed is not base64url of 32 bytes",
            CheckpointError::InvalidPublicKey => "public key is not base64url of 32 bytes",
            CheckpointError::InvalidSignatureEncoding => "signature is not base64url of 64 bytes",
            CheckpointError::SignatureMismatch => "signature does not match",
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for CheckpointError {}

/// The signed statement "chain `chain_id` had head `seq`/`head_hash` at `signed_at_ms`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    chain_id: String,
    seq: u64,
    head_hash: String,
    signed_at_ms: u64,
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Whether `s` is a lower-case hyphenated uuid (8-4-4-4-12 hex digits).
pub fn is_chain_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => is_lower_hex(c),
        })
}

/// Whether `s` is 64 lower-case hex digits (a SHA-256 in hex).
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(is_lower_hex)
}

/// Parses a canonical decimal (digits only, no sign, no leading zero): how
/// `seq` and `signed_at` are written in messages, exports and database answers.
pub fn parse_decimal(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty()
        || b.len() > 20
        || !b.iter().all(u8::is_ascii_digit)
        || (b[0] == b'0' && b.len() > 1)
    {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// Validates the fields of a checkpoint.
    pub fn new(
        chain_id: &str,
        seq: u64,
        head_hash: &str,
        signed_at_ms: u64,
    ) -> Result<Self, CheckpointError> {
        if !is_chain_id(chain_id) {
            return Err(CheckpointError::InvalidChainId);
        }
        if seq == 0 || seq > MAX_SEQ {
            return Err(CheckpointError::InvalidSeq);
        }
        if !is_hash(head_hash) {
            return Err(CheckpointError::InvalidHash);
        }
        if signed_at_ms > MAX_SIGNED_AT_MS {
            return Err(CheckpointError::InvalidTime);
        }
        Ok(Checkpoint {
            chain_id: chain_id.to_owned(),
            seq,
            head_hash: head_hash.to_owned(),
            signed_at_ms,
        })
    }

    /// The chain id (a tenant id, or the nil uuid for the global chain).
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The head's sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The head's hash (64 lower-case hex digits).
    pub fn head_hash(&self) -> &str {
        &self.head_hash
    }

    /// When it was signed, in Unix milliseconds (the signer's clock).
    pub fn signed_at_ms(&self) -> u64 {
        self.signed_at_ms
    }

    /// The exact bytes that are signed (see the module documentation).
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{MESSAGE_VERSION}\nchain={}\nseq={}\nhash={}\nsigned_at={}\n",
            self.chain_id, self.seq, self.head_hash, self.signed_at_ms
        )
        .into_bytes()
    }
}

/// The key id of a public key: the first 16 hex digits of its SHA-256.
fn key_id_of(public_key: &[u8]) -> String {
    let digest = Sha256::digest(public_key);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A signing key, from the base64url seed in `AUDIT_SIGNING_KEY`.
pub struct SigningKey {
    pair: KeyPair,
    key_id: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // never the seed
        write!(f, "SigningKey({})", self.key_id)
    }
}

impl SigningKey {
    /// Derives the key pair from a raw 32-byte seed (refused when all zeros).
    pub fn from_seed_bytes(seed: [u8; 32]) -> Result<Self, CheckpointError> {
        let pair =
            KeyPair::try_from_seed(Seed::new(seed)).map_err(|_| CheckpointError::InvalidSeed)?;
        let key_id = key_id_of(&pair.pk[..]);
        Ok(SigningKey { pair, key_id })
    }

    /// Parses a base64url (no padding) seed of exactly 32 bytes.
    pub fn from_seed(text: &str) -> Result<Self, CheckpointError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| CheckpointError::InvalidSeed)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| CheckpointError::InvalidSeed)?;
        Self::from_seed_bytes(seed)
    }

    /// The seed, base64url (for `edgeguard audit keygen` only).
    pub fn seed_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.pair.sk.seed()[..])
    }

    /// The matching verification key.
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey {
            key: self.pair.pk,
            key_id: self.key_id.clone(),
        }
    }

    /// The key id (public).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Signs a checkpoint: the signature, base64url without padding.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        // deterministic Ed25519 (RFC 8032): no randomness needed
        let sig = self.pair.sk.sign(checkpoint.message(), None);
        URL_SAFE_NO_PAD.encode(&sig[..])
    }
}

/// A verification (public) key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyKey {
    key: PublicKey,
    key_id: String,
}

impl VerifyKey {
    /// Parses a base64url (no padding) public key of exactly 32 bytes.
    pub fn from_base64url(text: &str) -> Result<Self, CheckpointError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| CheckpointError::InvalidPublicKey)?;
        let key = PublicKey::from_slice(&bytes).map_err(|_| CheckpointError::InvalidPublicKey)?;
        // a key that is not a point, or has small order, verifies nothing meaningful
        let probe = Signature::new([0u8; 64]);
        if matches!(
            key.verify(b"", &probe),
            Err(ed25519_compact::Error::InvalidPublicKey | ed25519_compact::Error::WeakPublicKey)
        ) {
            return Err(CheckpointError::InvalidPublicKey);
        }
        let key_id = key_id_of(&bytes);
        Ok(VerifyKey { key, key_id })
    }

    /// The key, base64url.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.key[..])
    }

    /// The key id (first 16 hex digits of SHA-256 over the key).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Verifies `signature` (base64url of 64 bytes) over `checkpoint`.
    pub fn verify(&self, checkpoint: &Checkpoint, signature: &str) -> Result<(), CheckpointError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| CheckpointError::InvalidSignatureEncoding)?;
        let sig =
            Signature::from_slice(&bytes).map_err(|_| CheckpointError::InvalidSignatureEncoding)?;
        self.key
            .verify(checkpoint.message(), &sig)
            .map_err(|_| CheckpointError::SignatureMismatch)
    }
}

/// What the environment says about signing checkpoints.
#[derive(Debug)]
pub enum SignerConfig {
    /// `AUDIT_SIGNING_KEY` holds a usable seed.
    Enabled(SigningKey),
    /// `AUDIT_SIGNING_KEY` is unset outside production: checkpoints are skipped.
    Disabled,
    /// Unusable key, or no key in production: a function that writes audit
    /// rows must answer `MISCONFIGURED` (the reason never holds the value).
    Misconfigured(Denial),
}

/// The configured seed: `AUDIT_SIGNING_KEY` trimmed, when not empty.
fn configured_seed(env: &SortedMap<String, String>) -> Option<&str> {
    env.get(SIGNING_KEY_ENV)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

impl SignerConfig {
    /// Whether [`SignerConfig::from_env`] answers anything but `Disabled`: a
    /// key is set, or the deployment is production (where a missing key is
    /// misconfiguration). Parses no key, so the request pipeline decides it
    /// without the signing code, which is in the handlers' wasm module
    /// (docs/architecture.md, "The wasm boundary").
    pub fn wanted(env: &SortedMap<String, String>) -> bool {
        configured_seed(env).is_some() || crate::cors::is_production(env)
    }

    /// Reads `AUDIT_SIGNING_KEY` and `APP_ENV`.
    pub fn from_env(env: &SortedMap<String, String>) -> SignerConfig {
        match configured_seed(env) {
            Some(seed) => match SigningKey::from_seed(seed) {
                Ok(key) => SignerConfig::Enabled(key),
                Err(_) => SignerConfig::Misconfigured(Denial::new(
                    ErrorCode::Misconfigured,
                    "AUDIT_SIGNING_KEY is not a base64url Ed25519 seed of 32 bytes",
                )),
            },
            None if crate::cors::is_production(env) => SignerConfig::Misconfigured(Denial::new(
                ErrorCode::Misconfigured,
                "AUDIT_SIGNING_KEY is missing (required in production to sign audit checkpoints)",
            )),
            None => SignerConfig::Disabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: &str = "aaaaaaaa-0000-4000-8000-000000000000";
    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn key() -> SigningKey {
        SigningKey::from_seed_bytes([7u8; 32]).expect("fixed seed")
    }

    fn cp() -> Checkpoint {
        Checkpoint::new(CHAIN, 42, HASH, 1_764_000_000_123).expect("valid checkpoint")
    }

    #[test]
    fn message_is_byte_exact() {
        assert_eq!(
            String::from_utf8(cp().message()).unwrap(),
            "edgeguard-audit-checkpoint/v1\nchain=aaaaaaaa-0000-4000-8000-000000000000\nseq=42\n\
             hash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nsigned_at=1764000000123\n"
        );
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1 TEST 1: the seed, its public key, and the signature of the empty message
        let seed = hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let k = SigningKey::from_seed_bytes(seed).unwrap();
        assert_eq!(
            k.verify_key().key[..],
            hex32("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")[..]
        );
        let sig = k.pair.sk.sign(b"", None);
        assert!(sig[..].starts_with(&hex32(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        )));
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn sign_then_verify() {
        let k = key();
        let sig = k.sign(&cp());
        assert_eq!(sig.len(), 86);
        assert_eq!(k.verify_key().verify(&cp(), &sig), Ok(()));
        // deterministic
        assert_eq!(sig, k.sign(&cp()));
        // the public key round-trips through its text form
        let pk = VerifyKey::from_base64url(&k.verify_key().to_base64url()).unwrap();
        assert_eq!(pk.key_id(), k.key_id());
        assert_eq!(pk.key_id().len(), 16);
        assert_eq!(pk.verify(&cp(), &sig), Ok(()));
    }

    #[test]
    fn seed_round_trips_through_text() {
        let k = key();
        let again = SigningKey::from_seed(&k.seed_base64url()).unwrap();
        assert_eq!(again.verify_key(), k.verify_key());
        assert_eq!(k.seed_base64url().len(), 43);
        assert!(!format!("{k:?}").contains(&k.seed_base64url()));
    }

    #[test]
    fn tampered_message_is_refused() {
        let k = key();
        let sig = k.sign(&cp());
        let pk = k.verify_key();
        let other_hash = HASH.replace('0', "1");
        for tampered in [
            Checkpoint::new(
                "bbbbbbbb-0000-4000-8000-000000000000",
                42,
                HASH,
                1_764_000_000_123,
            ),
            Checkpoint::new(CHAIN, 43, HASH, 1_764_000_000_123),
            Checkpoint::new(CHAIN, 42, &other_hash, 1_764_000_000_123),
            Checkpoint::new(CHAIN, 42, HASH, 1_764_000_000_124),
        ] {
            assert_eq!(
                pk.verify(&tampered.unwrap(), &sig),
                Err(CheckpointError::SignatureMismatch)
            );
        }
    }

    #[test]
    fn tampered_signature_and_other_key_are_refused() {
        let k = key();
        let sig = k.sign(&cp());
        let mut bytes = URL_SAFE_NO_PAD.decode(&sig).unwrap();
        for i in [0usize, 31, 32, 63] {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert!(
                k.verify_key()
                    .verify(&cp(), &URL_SAFE_NO_PAD.encode(&b))
                    .is_err(),
                "bit flip at {i}"
            );
        }
        bytes.truncate(63);
        assert_eq!(
            k.verify_key()
                .verify(&cp(), &URL_SAFE_NO_PAD.encode(&bytes)),
            Err(CheckpointError::InvalidSignatureEncoding)
        );
        let other = SigningKey::from_seed_bytes([8u8; 32]).unwrap();
        assert_ne!(other.key_id(), k.key_id());
        assert_eq!(
            other.verify_key().verify(&cp(), &sig),
            Err(CheckpointError::SignatureMismatch)
        );
    }

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("42"), Some(42));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "+1",
            "-1",
            "01",
            " 1",
            "1 ",
            "1e3",
            "18446744073709551616",
            "1.0",
            "٣",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fields_are_validated() {
        use CheckpointError::*;
        assert_eq!(
            Checkpoint::new("AAAAAAAA-0000-4000-8000-000000000000", 1, HASH, 0),
            Err(InvalidChainId)
        );
        assert_eq!(
            Checkpoint::new("aaaaaaaa00000-4000-8000-000000000000", 1, HASH, 0),
            Err(InvalidChainId)
        );
        assert_eq!(Checkpoint::new("", 1, HASH, 0), Err(InvalidChainId));
        assert_eq!(Checkpoint::new(CHAIN, 0, HASH, 0), Err(InvalidSeq));
        assert_eq!(
            Checkpoint::new(CHAIN, MAX_SEQ + 1, HASH, 0),
            Err(InvalidSeq)
        );
        assert_eq!(
            Checkpoint::new(CHAIN, 1, &HASH.to_uppercase(), 0),
            Err(InvalidHash)
        );
        assert_eq!(Checkpoint::new(CHAIN, 1, &HASH[1..], 0), Err(InvalidHash));
        assert_eq!(
            Checkpoint::new(CHAIN, 1, HASH, MAX_SIGNED_AT_MS + 1),
            Err(InvalidTime)
        );
        assert!(Checkpoint::new(CHAIN, MAX_SEQ, HASH, MAX_SIGNED_AT_MS).is_ok());
    }

    #[test]
    fn keys_are_parsed_strictly() {
        let k = key();
        let seed = k.seed_base64url();
        assert!(
            SigningKey::from_seed(&format!("{seed}=")).is_err(),
            "padding"
        );
        assert!(SigningKey::from_seed(&seed[..42]).is_err(), "short");
        assert!(
            SigningKey::from_seed(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_err(),
            "all-zero seed"
        );
        assert!(
            SigningKey::from_seed(&URL_SAFE_NO_PAD.encode([1u8; 33])).is_err(),
            "33 bytes"
        );
        assert!(
            SigningKey::from_seed(&seed.replace(|c: char| c.is_ascii_alphanumeric(), "+")).is_err()
        );
        assert_eq!(
            VerifyKey::from_base64url("nope"),
            Err(CheckpointError::InvalidPublicKey)
        );
        // the identity point (small order) is refused as a public key
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            VerifyKey::from_base64url(&URL_SAFE_NO_PAD.encode(identity)),
            Err(CheckpointError::InvalidPublicKey)
        );
    }

    #[test]
    fn garbage_never_panics() {
        let pk = key().verify_key();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..200usize {
            let text: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    char::from_u32((state % 0x3000) as u32).unwrap_or('x')
                })
                .collect();
            let _ = SigningKey::from_seed(&text);
            let _ = VerifyKey::from_base64url(&text);
            let _ = pk.verify(&cp(), &text);
            let _ = Checkpoint::new(&text, state, &text, state);
            let b64 = URL_SAFE_NO_PAD.encode(text.as_bytes());
            assert!(pk.verify(&cp(), &b64).is_err());
            let _ = VerifyKey::from_base64url(&b64);
        }
    }

    #[test]
    fn env_rules() {
        let env = |pairs: &[(&str, &str)]| -> SortedMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let seed = key().seed_base64url();
        assert!(matches!(
            SignerConfig::from_env(&env(&[])),
            SignerConfig::Disabled
        ));
        for e in [
            env(&[]),
            env(&[("AUDIT_SIGNING_KEY", " ")]),
            env(&[("APP_ENV", "staging")]),
            env(&[("AUDIT_SIGNING_KEY", &seed)]),
            env(&[("AUDIT_SIGNING_KEY", "short")]),
            env(&[("APP_ENV", "production")]),
        ] {
            let disabled = matches!(SignerConfig::from_env(&e), SignerConfig::Disabled);
            assert_eq!(SignerConfig::wanted(&e), !disabled, "{e:?}");
        }
        assert!(matches!(
            SignerConfig::from_env(&env(&[("AUDIT_SIGNING_KEY", &seed)])),
            SignerConfig::Enabled(_)
        ));
        for e in [
            env(&[("APP_ENV", "production")]),
            env(&[("APP_ENV", "production"), ("AUDIT_SIGNING_KEY", "")]),
            env(&[("AUDIT_SIGNING_KEY", "short")]),
            env(&[
                ("APP_ENV", "production"),
                ("AUDIT_SIGNING_KEY", &seed[..40]),
            ]),
        ] {
            match SignerConfig::from_env(&e) {
                SignerConfig::Misconfigured(d) => {
                    assert_eq!(d.code, ErrorCode::Misconfigured);
                    assert!(d.reason.contains("AUDIT_SIGNING_KEY"));
                    assert!(!d.reason.contains(&seed[..20]));
                }
                other => panic!("expected Misconfigured, got {other:?}"),
            }
        }
    }
}
