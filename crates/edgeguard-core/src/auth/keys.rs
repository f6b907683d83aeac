//! Verification keys: JWKS parsing and the one signature-verification step
//! every token goes through.
//!
//! Only public-key *verification* is compiled into the JWT path. RS256 is
//! our own verifier ([`super::rsa`]): there is no RSA private-key code in the
//! core. EdDSA is `ed25519-compact`'s verifier.

use super::b64;
use super::rsa::RsaPublicKey;
use edgeguard_p256::{P256Table, PublicKey as P256PublicKey};
use serde_json::Value;
use std::fmt;

/// A JWS algorithm edgeguard accepts. Decided by the key, never by the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// HMAC-SHA256 with the legacy shared secret.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, modulus ≥ 2048 bits.
    Rs256,
    /// ECDSA P-256 with SHA-256, P1363 (r‖s) signatures.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Alg {
    /// The JOSE name (`"ES256"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }
    /// Parses a JOSE name; `None` for anything edgeguard does not accept.
    pub fn from_name(s: &str) -> Option<Alg> {
        match s {
            "HS256" => Some(Alg::Hs256),
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            "EdDSA" => Some(Alg::EdDsa),
            _ => None,
        }
    }
}

/// The key material for one algorithm.
#[derive(Clone)]
pub enum KeyMaterial {
    /// Legacy HS256 shared secret, as its precomputed HMAC-SHA256 key state.
    Hs256(Hs256Key),
    /// RSA public key (modulus 2048..=4096 bits, e = 65537).
    Rs256(RsaPublicKey),
    /// P-256 public key, with its multiplication tables built as the key
    /// verifies tokens ([`ES256_SMALL_TABLE_AFTER`], [`ES256_TABLE_AFTER`]).
    Es256(std::sync::Arc<Es256Table>),
    /// Ed25519 public key (canonical, not of small order).
    EdDsa(ed25519_compact::PublicKey),
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyMaterial::Hs256(_) => "Hs256(<secret>)",
            KeyMaterial::Rs256(_) => "Rs256",
            KeyMaterial::Es256(_) => "Es256",
            KeyMaterial::EdDsa(_) => "EdDsa",
        })
    }
}

/// An HS256 secret with the HMAC inner and outer pad states computed once,
/// so each verification hashes only the signing input.
#[derive(Clone)]
pub struct Hs256Key(hmac::Hmac<sha2::Sha256>);

impl Hs256Key {
    /// The key state for `secret` (`None` only if HMAC refuses the key, which it never does for SHA-256).
    pub fn new(secret: &[u8]) -> Option<Self> {
        use hmac::KeyInit;
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
            .ok()
            .map(Hs256Key)
    }
}

impl fmt::Debug for Hs256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hs256Key(<secret>)")
    }
}

impl KeyMaterial {
    /// An HS256 key from the shared secret's bytes.
    pub fn hs256(secret: &[u8]) -> Option<Self> {
        Hs256Key::new(secret).map(KeyMaterial::Hs256)
    }

    /// The only algorithm this key may verify.
    pub fn alg(&self) -> Alg {
        match self {
            KeyMaterial::Hs256(_) => Alg::Hs256,
            KeyMaterial::Rs256(_) => Alg::Rs256,
            KeyMaterial::Es256(_) => Alg::Es256,
            KeyMaterial::EdDsa(_) => Alg::EdDsa,
        }
    }

    /// A P-256 key from a SEC1 point (compressed or uncompressed); `None`
    /// unless it is a point on the curve.
    pub fn es256_from_sec1(bytes: &[u8]) -> Option<Self> {
        let key = P256PublicKey::from_sec1(bytes)?;
        Some(KeyMaterial::Es256(std::sync::Arc::new(Es256Table {
            key,
            verified: std::sync::atomic::AtomicU32::new(0),
            small: std::sync::OnceLock::new(),
            table: std::sync::OnceLock::new(),
        })))
    }
    /// An RSA key from big-endian modulus and exponent (leading zero bytes
    /// ignored; 2048..=4096-bit odd modulus, e = 65537: [`super::rsa`]).
    pub fn rs256_from_components(n: &[u8], e: &[u8]) -> Option<Self> {
        RsaPublicKey::from_components(n, e)
            .ok()
            .map(KeyMaterial::Rs256)
    }
    /// An Ed25519 key from its 32 bytes; a non-canonical encoding or a
    /// point of small order is refused.
    pub fn eddsa_from_bytes(bytes: &[u8]) -> Option<Self> {
        let pk = ed25519_compact::PublicKey::from_slice(bytes).ok()?;
        pk.validate().ok()?;
        Some(KeyMaterial::EdDsa(pk))
    }
}

/// Valid tokens a P-256 key verifies without a table
/// ([`P256PublicKey::verify`]) before its small table (4-bit windows,
/// ≈ 60 KiB) is built: in a fresh isolate, whose wasm still runs
/// unoptimised, building it (and the generator's) costs a few
/// verifications, and each verification then costs far less: 4 did better
/// than 2 and 16 at N = 10 and 100 tokens (scripts/bench/cold_start.ts).
pub const ES256_SMALL_TABLE_AFTER: u32 = 4;
/// Valid tokens before the full table (8-bit windows, ≈ 0.5 MiB, tens of ms
/// to build in a fresh isolate, then ~2× faster than the small one). Many
/// short-lived isolates never get there.
pub const ES256_TABLE_AFTER: u32 = 256;

/// One P-256 key and its lazily built precomputed tables.
pub struct Es256Table {
    key: P256PublicKey,
    /// Valid signatures verified so far (without the full table).
    verified: std::sync::atomic::AtomicU32,
    /// `Some(None)` only if a table could not be built (never for a valid
    /// key): then the previous verifier stays.
    small: std::sync::OnceLock<Option<P256Table>>,
    table: std::sync::OnceLock<Option<P256Table>>,
}

impl Es256Table {
    /// The most this key's verification state can hold: both precomputed
    /// tables, counted before they are built so the bound holds whenever
    /// they are (docs/memory.md).
    pub fn max_bytes(&self) -> usize {
        std::mem::size_of::<Es256Table>() + P256Table::max_key_bytes()
    }

    /// Whether the full table has been built.
    pub fn is_built(&self) -> bool {
        matches!(self.table.get(), Some(Some(_)))
    }

    /// Whether the small table has been built.
    pub fn is_small_built(&self) -> bool {
        matches!(self.small.get(), Some(Some(_)))
    }

    fn verify(&self, signing_input: &[u8], sig: &[u8]) -> bool {
        use std::sync::atomic::Ordering;
        if let Some(Some(table)) = self.table.get() {
            return table.verify(signing_input, sig);
        }
        let ok = match self.small.get() {
            Some(Some(small)) => small.verify(signing_input, sig),
            _ => self.key.verify(signing_input, sig),
        };
        // Only valid signatures count: garbage never makes the isolate build a table.
        if ok {
            let n = self.verified.fetch_add(1, Ordering::Relaxed).saturating_add(1);
            if n >= ES256_TABLE_AFTER {
                // (The small table stays allocated, unused: ≈ 60 KiB per key.)
                self.table.get_or_init(|| self.key.table());
            } else if n >= ES256_SMALL_TABLE_AFTER {
                self.small.get_or_init(|| self.key.small_table());
            }
        }
        ok
    }
}

impl fmt::Debug for Es256Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Es256Table(small: {}, full: {})", self.is_small_built(), self.is_built())
    }
}

/// Verifies an ES256 signature without any table, whatever the key's tables:
/// what a key's first tokens go through (tests compare the paths).
pub fn verify_es256_untabled(key: &KeyMaterial, signing_input: &[u8], sig: &[u8]) -> bool {
    let KeyMaterial::Es256(k) = key else {
        return false;
    };
    k.key.verify(signing_input, sig)
}

/// Verifies `sig` over `signing_input` with `key`. This is the single
/// signature step of the JWT path (and what the Wycheproof vectors exercise).
pub fn verify_signature(key: &KeyMaterial, signing_input: &[u8], sig: &[u8]) -> bool {
    match key {
        KeyMaterial::Hs256(key) => {
            use hmac::Mac;
            let mut mac = key.0.clone();
            mac.update(signing_input);
            mac.verify_slice(sig).is_ok()
        }
        KeyMaterial::Es256(table) => table.verify(signing_input, sig),
        KeyMaterial::EdDsa(pk) => {
            let Ok(s) = ed25519_compact::Signature::from_slice(sig) else {
                return false;
            };
            pk.verify(signing_input, &s).is_ok()
        }
        KeyMaterial::Rs256(pk) => pk.verify_sha256(signing_input, sig),
    }
}

/// One usable key with its identifier.
#[derive(Clone, Debug)]
pub struct Key {
    /// The JWK `kid`, if any.
    pub kid: Option<String>,
    /// The key material (its algorithm is implied).
    pub material: KeyMaterial,
}

/// The largest JWKS document accepted, in bytes (64 KiB), checked before it
/// is parsed. Supabase's JWKS holds a few keys of a few hundred bytes each;
/// [`MAX_KEYS`] RSA-4096 keys take about 12 KiB.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The most usable keys a JWKS contributes (16). Keys past the 16th are
/// ignored with a note, unparsed (so no table is built for them): a token
/// naming one of them is refused as `unknown kid`. A Supabase project
/// publishes its current, standby and recently rotated keys: a handful.
pub const MAX_KEYS: usize = 16;

impl Key {
    /// An estimate of the memory this key holds (docs/memory.md): an ES256
    /// key's precomputed table (≈ 0.5 MiB) dominates; an RSA key holds its
    /// modulus and one more number of its size (≤ 1 KiB for 4096 bits).
    pub fn approx_bytes(&self) -> usize {
        let own = std::mem::size_of::<Key>() + self.kid.as_ref().map_or(0, String::len);
        own + match &self.material {
            KeyMaterial::Es256(table) => table.max_bytes(),
            KeyMaterial::Rs256(pk) => pk.approx_bytes(),
            KeyMaterial::Hs256(_) | KeyMaterial::EdDsa(_) => 0,
        }
    }
}

/// A validated JWKS: the usable keys plus notes about skipped entries.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    /// Usable verification keys.
    pub keys: Vec<Key>,
    /// Secret-free notes on entries that were ignored (e.g. `use: enc`).
    pub notes: Vec<String>,
}

/// Why a JWKS document was refused outright.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksError(pub String);

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn b64_field(jwk: &Value, name: &str, i: usize) -> Result<Vec<u8>, String> {
    let s = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("keys[{i}]: missing \"{name}\""))?;
    b64::decode(s.as_bytes())
        .map_err(|_| format!("keys[{i}]: \"{name}\" is not canonical base64url"))
}

impl KeySet {
    /// The estimated memory of every key (see [`Key::approx_bytes`]); at most
    /// [`MAX_KEYS`] keys, so at most ≈ 8 MiB for sixteen ES256 keys.
    pub fn approx_bytes(&self) -> usize {
        self.keys.iter().map(Key::approx_bytes).sum()
    }

    /// Parses and validates a fetched JWKS document (`{"keys":[...]}`, or a
    /// single JWK).
    ///
    /// ES256 (P-256), RS256 (≥ 2048 bits) and EdDSA (Ed25519) keys are kept;
    /// `use: "enc"`, unknown `kty`/`crv` and private keys are ignored with a
    /// note; a malformed key of a supported type is an error. Symmetric
    /// (`oct`) keys are ignored: a secret is never taken from a URL. A
    /// document larger than [`MAX_JWKS_BYTES`] is refused unparsed; keys past
    /// the first [`MAX_KEYS`] usable ones are ignored with a note.
    pub fn from_json(json: &str) -> Result<KeySet, JwksError> {
        Self::parse(json, false)
    }

    /// Parses the platform's inline `SUPABASE_JWKS`: like [`KeySet::from_json`],
    /// and `oct` keys are HS256 verification keys (what `supabase start`
    /// puts there when the project has no asymmetric signing keys: one
    /// `{"kty":"oct","k":…}` holding the JWT secret, see docs/platform.md).
    /// An `oct` key shorter than 32 bytes is an error.
    pub fn from_inline_env(json: &str) -> Result<KeySet, JwksError> {
        Self::parse(json, true)
    }

    fn parse(json: &str, shared_keys: bool) -> Result<KeySet, JwksError> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(JwksError(format!(
                "JWKS: document of {} bytes is larger than {MAX_JWKS_BYTES}",
                json.len()
            )));
        }
        let v = crate::strict_json::parse(json.as_bytes())
            .map_err(|e| JwksError(format!("JWKS: {e}")))?;
        let list: Vec<Value> = match v.get("keys") {
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(JwksError("JWKS: \"keys\" is not an array".into())),
            None if v.get("kty").is_some() => vec![v.clone()],
            None => return Err(JwksError("JWKS: missing \"keys\"".into())),
        };
        let mut set = KeySet::default();
        for (i, jwk) in list.iter().enumerate() {
            if set.keys.len() >= MAX_KEYS {
                set.notes.push(format!(
                    "ignored keys[{i}]: only the first {MAX_KEYS} usable keys are kept"
                ));
                continue;
            }
            match Self::parse_jwk(jwk, i, shared_keys) {
                Ok(Some(k)) => {
                    if k.kid.is_some() && set.keys.iter().any(|o| o.kid == k.kid) {
                        return Err(JwksError(format!("JWKS: keys[{i}]: duplicate kid")));
                    }
                    set.keys.push(k)
                }
                Ok(None) => {}
                Err(note) if note.starts_with("ignored") => set.notes.push(note),
                Err(e) => return Err(JwksError(format!("JWKS: {e}"))),
            }
        }
        Ok(set)
    }

    fn parse_jwk(jwk: &Value, i: usize, shared_keys: bool) -> Result<Option<Key>, String> {
        if !jwk.is_object() {
            return Err(format!("keys[{i}] is not an object"));
        }
        let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
        if let Some(u) = jwk.get("use").and_then(Value::as_str) {
            if u != "sig" {
                return Err(format!("ignored keys[{i}]: use \"{u}\""));
            }
        }
        if jwk.get("d").is_some() {
            return Err(format!("keys[{i}]: private key material in a JWKS"));
        }
        let kid = match jwk.get("kid") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(format!("keys[{i}]: \"kid\" is not a string")),
        };
        let alg = jwk.get("alg").and_then(Value::as_str);
        let material = match kty {
            "EC" => {
                let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
                if crv != "P-256" {
                    return Err(format!(
                        "ignored keys[{i}]: EC curve \"{crv}\" not supported"
                    ));
                }
                let x = b64_field(jwk, "x", i)?;
                let y = b64_field(jwk, "y", i)?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(format!("keys[{i}]: P-256 coordinates must be 32 bytes"));
                }
                let mut sec1 = Vec::with_capacity(65);
                sec1.push(4);
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                KeyMaterial::es256_from_sec1(&sec1)
                    .ok_or_else(|| format!("keys[{i}]: not a point on P-256"))?
            }
            "RSA" => {
                let n = b64_field(jwk, "n", i)?;
                let e = b64_field(jwk, "e", i)?;
                KeyMaterial::rs256_from_components(&n, &e).ok_or_else(|| {
                    format!(
                        "keys[{i}]: RSA key refused (modulus must be ≥ 2048 bits, valid exponent)"
                    )
                })?
            }
            "OKP" => {
                let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
                if crv != "Ed25519" {
                    return Err(format!(
                        "ignored keys[{i}]: OKP curve \"{crv}\" not supported"
                    ));
                }
                let x = b64_field(jwk, "x", i)?;
                KeyMaterial::eddsa_from_bytes(&x)
                    .ok_or_else(|| format!("keys[{i}]: not an Ed25519 public key"))?
            }
            "oct" if shared_keys => {
                let k = b64_field(jwk, "k", i)?;
                if k.len() < 32 {
                    return Err(format!("keys[{i}]: oct key shorter than 32 bytes"));
                }
                KeyMaterial::hs256(&k)
                    .ok_or_else(|| format!("keys[{i}]: oct key is not a usable HMAC key"))?
            }
            "oct" => {
                return Err(format!(
                    "ignored keys[{i}]: symmetric keys are never taken from a fetched JWKS"
                ))
            }
            other => return Err(format!("ignored keys[{i}]: kty \"{other}\" not supported")),
        };
        if let Some(a) = alg {
            if Alg::from_name(a) != Some(material.alg()) {
                return Err(format!("keys[{i}]: alg \"{a}\" does not match kty {kty}"));
            }
        }
        Ok(Some(Key { kid, material }))
    }
}

#[cfg(test)]
mod es256_table_tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::{Signature, SigningKey};
    use sha2::{Digest, Sha256};

    /// A key verifies without a table until it has verified
    /// ES256_SMALL_TABLE_AFTER valid tokens (invalid ones do not count), then
    /// with its small table, from ES256_TABLE_AFTER on with its full table;
    /// every path gives the same answers.
    #[test]
    fn the_table_is_built_after_enough_valid_tokens_and_agrees() {
        let sk = SigningKey::from_slice(&Sha256::digest(b"lazy-table-key")).expect("key");
        let vk = *sk.verifying_key();
        let key = KeyMaterial::es256_from_sec1(vk.to_sec1_point(false).as_bytes()).expect("valid key");
        let KeyMaterial::Es256(lazy) = &key else {
            panic!("ES256 key")
        };
        for i in 0..(ES256_TABLE_AFTER + 16) {
            let msg = Sha256::digest(i.to_be_bytes());
            let sig: Signature = sk.sign(&msg);
            let bytes = sig.to_bytes();
            let mut bad = bytes.to_vec();
            bad[(i as usize * 7) % 64] ^= 1 << (i % 8);
            // Invalid signatures, before and after the switch: refused and never counted.
            for _ in 0..3 {
                assert!(!verify_signature(&key, &msg, &bad));
                assert!(!verify_signature(&key, &msg[1..], &bytes));
            }
            assert_eq!(lazy.is_built(), i >= ES256_TABLE_AFTER, "before token {i}");
            assert_eq!(lazy.is_small_built(), i >= ES256_SMALL_TABLE_AFTER, "before token {i}");
            assert!(verify_signature(&key, &msg, &bytes));
            assert!(verify_es256_untabled(&key, &msg, &bytes));
            assert!(p256::ecdsa::signature::Verifier::verify(&vk, &msg, &sig).is_ok());
            assert_eq!(lazy.is_built(), i + 1 >= ES256_TABLE_AFTER, "after token {i}");
        }
    }
}
