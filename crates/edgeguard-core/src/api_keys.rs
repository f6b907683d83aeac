//! User-issued API keys (`egk_…`): format, checksum, keyed hash, scopes, and
//! the rules for creating and verifying them (docs/api-keys.md).
//!
//! A key is `egk_<env>_<random><checksum>`:
//!
//! - `env` is `live` (production) or `test` (development, staging);
//! - `random` is [`RANDOM_LEN`] base62 characters drawn without bias from a
//!   CSPRNG (≈ 190 bits);
//! - `checksum` is the CRC32 of everything before it, in base62, left-padded
//!   to [`CHECKSUM_LEN`] characters.
//!
//! The checksum lets a typo or a random string be refused without any I/O;
//! it is not a secret and proves nothing about who made the key. Only
//! `HMAC-SHA256(SECRET_KEY, key)` is stored; the plaintext is shown once.
//!
//! Regex for secret scanners: `\begk_(live|test)_[0-9A-Za-z]{38}\b`.

use crate::crc32::crc32;
use crate::policy::permission_ok;
use crate::sorted_map::{SortedMap, SortedSet};
use crate::{Denial, ErrorCode};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Every key starts with this.
pub const KEY_PREFIX: &str = "egk_";
/// Base62 characters of randomness (≈ 190 bits; ≥ 128 required).
pub const RANDOM_LEN: usize = 32;
/// Base62 characters of the CRC32 checksum.
pub const CHECKSUM_LEN: usize = 6;
/// Random characters shown in the public prefix (`egk_live_` + 8 characters).
pub const PREFIX_RANDOM_LEN: usize = 8;
/// Length of a whole key (`egk_` + env + `_` + random + checksum).
pub const KEY_LEN: usize = KEY_PREFIX.len() + 4 + 1 + RANDOM_LEN + CHECKSUM_LEN;
/// The regex secret scanners use (docs/api-keys.md).
pub const SCANNER_REGEX: &str = r"\begk_(live|test)_[0-9A-Za-z]{38}\b";
/// Minimum length of `SECRET_KEY` (and `SECRET_KEY_PREVIOUS`) in bytes.
pub const PEPPER_MIN_LEN: usize = 32;
/// Longest overlap a rotation may give the old key (7 days).
pub const MAX_ROTATE_OVERLAP_S: i64 = 7 * 24 * 3600;
/// Overlap of a rotation that names none (1 hour).
pub const DEFAULT_ROTATE_OVERLAP_S: i64 = 3600;
/// Longest lifetime a key may be given (366 days).
pub const MAX_EXPIRES_IN_S: i64 = 366 * 24 * 3600;
/// Most scopes a key may carry (the database allows 64).
pub const MAX_SCOPES: usize = 64;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The environment a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEnv {
    /// `egk_live_…`: minted and accepted only in production.
    Live,
    /// `egk_test_…`: minted and accepted outside production.
    Test,
}

impl KeyEnv {
    /// `"live"` or `"test"`.
    pub const fn name(self) -> &'static str {
        match self {
            KeyEnv::Live => "live",
            KeyEnv::Test => "test",
        }
    }
    /// The environment of keys a deployment mints and accepts.
    pub const fn for_production(production: bool) -> KeyEnv {
        if production {
            KeyEnv::Live
        } else {
            KeyEnv::Test
        }
    }
}

/// Why a presented string is not a well-formed key of this deployment.
/// Decided without I/O; every variant is answered `INVALID_API_KEY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFormatError {
    /// Does not start with `egk_live_` / `egk_test_`.
    Prefix,
    /// Not [`KEY_LEN`] characters.
    Length,
    /// A character outside base62.
    Character,
    /// The checksum does not match (a typo, or not a key at all).
    Checksum,
    /// A `test` key in production, or a `live` key outside it.
    Environment,
}

impl KeyFormatError {
    /// The precise, key-free reason (shown as `hint` outside production).
    pub const fn reason(self) -> &'static str {
        match self {
            KeyFormatError::Prefix => "API key does not start with egk_live_ or egk_test_",
            KeyFormatError::Length => "API key has the wrong length",
            KeyFormatError::Character => "API key has a character outside base62",
            KeyFormatError::Checksum => "API key checksum does not match (mistyped or not a key)",
            KeyFormatError::Environment => {
                "API key belongs to another environment (egk_live_ keys in production, egk_test_ elsewhere)"
            }
        }
    }
    /// As a denial (docs/errors.md).
    pub fn denial(self) -> Denial {
        Denial::new(ErrorCode::InvalidApiKey, self.reason())
    }
}

/// The [`CHECKSUM_LEN`]-character base62 checksum of `body` (`egk_<env>_<random>`).
pub fn checksum(body: &str) -> String {
    let mut n = crc32(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// Checks the format, checksum and environment of `key`, without I/O.
/// Returns the key's environment.
pub fn check_format(key: &str, expected: KeyEnv) -> Result<KeyEnv, KeyFormatError> {
    let env = if key.starts_with("egk_live_") {
        KeyEnv::Live
    } else if key.starts_with("egk_test_") {
        KeyEnv::Test
    } else {
        return Err(KeyFormatError::Prefix);
    };
    if key.len() != KEY_LEN {
        return Err(KeyFormatError::Length);
    }
    let tail = &key.as_bytes()[KEY_PREFIX.len() + 5..];
    if !tail.iter().all(u8::is_ascii_alphanumeric) {
        return Err(KeyFormatError::Character);
    }
    // all ASCII from here: slicing by byte index is safe
    let (body, sum) = key.split_at(KEY_LEN - CHECKSUM_LEN);
    let want = checksum(body);
    let same: bool = subtle::ConstantTimeEq::ct_eq(want.as_bytes(), sum.as_bytes()).into();
    if !same {
        return Err(KeyFormatError::Checksum);
    }
    if env != expected {
        return Err(KeyFormatError::Environment);
    }
    Ok(env)
}

/// The public prefix of a well-formed key (`egk_live_` + 8 random characters),
/// stored and listed to recognise a key; it cannot be used to authenticate.
pub fn prefix_of(key: &str) -> &str {
    key.get(..KEY_PREFIX.len() + 5 + PREFIX_RANDOM_LEN)
        .unwrap_or(key)
}

/// A freshly minted key: the plaintext (shown once), its public prefix.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct MintedKey {
    /// The whole key; returned once, never stored or logged.
    pub key: String,
    /// The public prefix.
    pub prefix: String,
}

impl std::fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Mints a key of `env` from the random bytes `fill` provides (tests pass a
/// deterministic source; [`mint`] the operating system's CSPRNG). Base62
/// characters come from bytes below 248 (= 4 × 62) only, so there is no
/// modulo bias.
pub fn mint_with<E>(
    env: KeyEnv,
    mut fill: impl FnMut(&mut [u8]) -> Result<(), E>,
) -> Result<MintedKey, E> {
    let mut body = String::with_capacity(KEY_LEN);
    body.push_str(KEY_PREFIX);
    body.push_str(env.name());
    body.push('_');
    let mut produced = 0;
    let mut buf = [0u8; 64];
    while produced < RANDOM_LEN {
        fill(&mut buf)?;
        for &b in &buf {
            if b < 248 && produced < RANDOM_LEN {
                body.push(BASE62[(b % 62) as usize] as char);
                produced += 1;
            }
        }
    }
    let sum = checksum(&body);
    body.push_str(&sum);
    let prefix = prefix_of(&body).to_owned();
    Ok(MintedKey { key: body, prefix })
}

/// Mints a key of `env` from the operating system's CSPRNG (`getrandom`; in
/// wasm, `crypto.getRandomValues`). Fails only when no randomness is available.
pub fn mint(env: KeyEnv) -> Result<MintedKey, Denial> {
    mint_with(env, getrandom::fill)
        .map_err(|_| Denial::new(ErrorCode::Internal, "no randomness available"))
}

/// The key-hashing pepper: `SECRET_KEY`, and during a rotation
/// `SECRET_KEY_PREVIOUS` (accepted for verification; a key found by it is
/// re-hashed with the current pepper on use).
#[derive(Clone)]
pub struct Pepper {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pepper")
            .field("previous", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl Pepper {
    /// Reads `SECRET_KEY` (required, ≥ 32 bytes) and `SECRET_KEY_PREVIOUS`
    /// (optional, ≥ 32 bytes). The error names the variable, never its value.
    pub fn from_env(env: &SortedMap<String, String>) -> Result<Pepper, String> {
        let get = |k: &str| env.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let current = match get("SECRET_KEY") {
            None => return Err("SECRET_KEY is not set (needed to verify API keys)".into()),
            Some(s) if s.len() < PEPPER_MIN_LEN => {
                return Err("SECRET_KEY is shorter than 32 bytes".into())
            }
            Some(s) => s.as_bytes().to_vec(),
        };
        let previous = match get("SECRET_KEY_PREVIOUS") {
            None => None,
            Some(s) if s.len() < PEPPER_MIN_LEN => {
                return Err("SECRET_KEY_PREVIOUS is shorter than 32 bytes".into())
            }
            Some(s) if s.as_bytes() == current.as_slice() => None,
            Some(s) => Some(s.as_bytes().to_vec()),
        };
        Ok(Pepper { current, previous })
    }
    /// The stored form of `key` under the current pepper: 64 lower-case hex digits.
    pub fn hash(&self, key: &str) -> String {
        keyed_hash(&self.current, key)
    }
    /// The stored form of `key` under the previous pepper, during a rotation.
    pub fn previous_hash(&self, key: &str) -> Option<String> {
        self.previous.as_deref().map(|p| keyed_hash(p, key))
    }
}

fn keyed_hash(pepper: &[u8], key: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(pepper) else {
        return String::new(); // unreachable: HMAC takes keys of any length
    };
    mac.update(key.as_bytes());
    let out = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for b in out.iter() {
        hex.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        hex.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    hex
}

/// Whether the permission `held` grants `wanted` (`resource:*` covers every
/// action of the resource; a wanted `resource:*` needs a held `resource:*`).
pub fn covers(held: &str, wanted: &str) -> bool {
    if held == wanted {
        return true;
    }
    match (held.split_once(':'), wanted.split_once(':')) {
        (Some((hr, "*")), Some((wr, _))) => hr == wr,
        _ => false,
    }
}

/// The permissions a key holds: every permission of `owner` that one of the
/// key's `scopes` covers, and every scope that one of the owner's
/// permissions covers. Never more than either side (sorted, no duplicates).
pub fn intersect(owner: &[String], scopes: &[String]) -> Vec<String> {
    let mut out = SortedSet::new();
    for s in scopes {
        if owner.iter().any(|o| covers(o, s)) {
            out.insert(s.clone());
        }
    }
    for o in owner {
        if scopes.iter().any(|s| covers(s, o)) {
            out.insert(o.clone());
        }
    }
    out.into_iter().collect()
}

/// A refill: every `interval_s` seconds the remaining uses are set back to `amount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refill {
    /// Uses after each refill.
    pub amount: i64,
    /// Seconds between refills.
    pub interval_s: i64,
}

/// A per-key rate limit: at most `limit` requests per `window_s` seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per window.
    pub limit: i64,
    /// Window length in seconds.
    pub window_s: i64,
}

/// A validated `POST /api-keys` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSpec {
    /// Display name (1–100 characters).
    pub name: String,
    /// `resource:action` scopes, sorted, no duplicates, within the creator's permissions.
    pub scopes: Vec<String>,
    /// Lifetime in seconds (none: until revoked).
    #[serde(default)]
    pub expires_in_s: Option<i64>,
    /// Uses the key has (none: unlimited).
    #[serde(default)]
    pub uses: Option<i64>,
    /// Refill of the uses.
    #[serde(default)]
    pub refill: Option<Refill>,
    /// Per-key rate limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
}

fn invalid(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::ValidationFailed, reason)
}

fn in_range(v: Option<i64>, field: &str, lo: i64, hi: i64) -> Result<(), Denial> {
    match v {
        Some(n) if n < lo || n > hi => {
            Err(invalid(format!("{field} must be between {lo} and {hi}")))
        }
        _ => Ok(()),
    }
}

impl CreateSpec {
    /// Parses and validates a creation body against the creator's current
    /// permissions `held`: a key never gets a scope its creator lacks
    /// (`FORBIDDEN`). Field errors are `VALIDATION_FAILED`, a malformed body
    /// `INVALID_BODY`.
    pub fn parse(body: &[u8], held: &[String]) -> Result<CreateSpec, Denial> {
        let v = crate::strict_json::parse(body)
            .map_err(|e| Denial::new(ErrorCode::InvalidBody, format!("body: {e}")))?;
        let mut spec: CreateSpec =
            serde_json::from_value(v).map_err(|e| invalid(format!("body: {e}")))?;
        let name = spec.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(invalid("name must be 1–100 printable characters"));
        }
        spec.name = name.to_owned();
        if spec.scopes.is_empty() || spec.scopes.len() > MAX_SCOPES {
            return Err(invalid(format!(
                "scopes must name 1–{MAX_SCOPES} permissions"
            )));
        }
        for s in &spec.scopes {
            if !permission_ok(s) {
                return Err(invalid(format!(
                    "scope \"{}\" is not resource:action",
                    s.escape_default()
                )));
            }
        }
        spec.scopes = spec
            .scopes
            .iter()
            .cloned()
            .collect::<SortedSet<_>>()
            .into_iter()
            .collect();
        check_ceiling(&spec.scopes, held)?;
        in_range(spec.expires_in_s, "expires_in_s", 1, MAX_EXPIRES_IN_S)?;
        in_range(spec.uses, "uses", 0, 1_000_000_000)?;
        if let Some(r) = &spec.refill {
            in_range(Some(r.amount), "refill.amount", 1, 1_000_000_000)?;
            in_range(Some(r.interval_s), "refill.interval_s", 1, MAX_EXPIRES_IN_S)?;
            if spec.uses.is_none() {
                spec.uses = Some(r.amount);
            }
        }
        if let Some(r) = &spec.rate_limit {
            in_range(Some(r.limit), "rate_limit.limit", 1, 1_000_000)?;
            in_range(Some(r.window_s), "rate_limit.window_s", 1, 86_400)?;
        }
        Ok(spec)
    }
}

/// Refuses scopes that none of `held` covers (`FORBIDDEN`, naming the scope).
pub fn check_ceiling(scopes: &[String], held: &[String]) -> Result<(), Denial> {
    for s in scopes {
        if !held.iter().any(|h| covers(h, s)) {
            return Err(Denial::new(
                ErrorCode::Forbidden,
                format!("scope {s} exceeds your own permissions"),
            ));
        }
    }
    Ok(())
}

/// The overlap of a rotation (`{"overlap_s": N}`, 0–7 days; empty body: 1 hour).
pub fn rotate_overlap(body: &[u8]) -> Result<i64, Denial> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_ROTATE_OVERLAP_S);
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rotate {
        #[serde(default)]
        overlap_s: Option<i64>,
    }
    let v = crate::strict_json::parse(body)
        .map_err(|e| Denial::new(ErrorCode::InvalidBody, format!("body: {e}")))?;
    let r: Rotate = serde_json::from_value(v).map_err(|e| invalid(format!("body: {e}")))?;
    let n = r.overlap_s.unwrap_or(DEFAULT_ROTATE_OVERLAP_S);
    in_range(Some(n), "overlap_s", 0, MAX_ROTATE_OVERLAP_S)?;
    Ok(n)
}

/// What `private.api_key_authenticate` answers for a key hash (one row).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct KeyRow {
    /// `ok`, `unknown`, `revoked`, `expired`, `exhausted` or `rate_limited`.
    pub status: String,
    /// The key's id (absent for `unknown`).
    #[serde(default)]
    pub key_id: Option<String>,
    /// The owner.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The key's tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The key's scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The owner's current role in the key's tenant (none: not a member).
    #[serde(default)]
    pub user_role: Option<String>,
    /// The permissions the database grants that role (and the roles below it).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Expiry, Unix seconds.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Whether the key has counted uses or a rate limit: then every request
    /// is looked up (the database counts), and the answer serves one request only.
    #[serde(default)]
    pub counted: bool,
    /// Seconds until the per-key rate limit admits again (`rate_limited`).
    #[serde(default)]
    pub retry_after_s: Option<i64>,
}

impl crate::json_read::ReadJson for KeyRow {
    /// Extra columns are ignored, as `private.api_key_verify` may add some.
    fn read(v: &serde_json::Value) -> Result<Self, crate::json_read::ReadError> {
        let f = crate::json_read::Fields::open(v, "struct KeyRow")?;
        Ok(KeyRow {
            status: f.req("status")?,
            key_id: f.opt("key_id")?,
            user_id: f.opt("user_id")?,
            tenant_id: f.opt("tenant_id")?,
            scopes: f.or_default("scopes")?,
            user_role: f.opt("user_role")?,
            permissions: f.or_default("permissions")?,
            expires_at: f.opt("expires_at")?,
            counted: f.or_default("counted")?,
            retry_after_s: f.opt("retry_after_s")?,
        })
    }
}

impl KeyRow {
    /// The refusal a non-`ok` row (or an `ok` row past its expiry at `now`)
    /// stands for. The reason is precise but never names the key or its id.
    pub fn refusal(&self, now: i64) -> Option<Denial> {
        let r = |s: &str| Some(Denial::new(ErrorCode::InvalidApiKey, s));
        match self.status.as_str() {
            "ok" => match self.expires_at {
                Some(e) if e <= now => r("API key expired"),
                _ => None,
            },
            "unknown" => r("API key not recognised"),
            "revoked" => r("API key revoked"),
            "expired" => r("API key expired"),
            "exhausted" => r("API key has no uses left"),
            "owner_removed" => r("API key owner is no longer a member of the key's tenant"),
            "rate_limited" => Some(Denial::new(
                ErrorCode::RateLimited,
                format!(
                    "API key rate limit reached; retry in {} s",
                    self.retry_after_s.unwrap_or(1).max(1)
                ),
            )),
            _ => Some(Denial::new(
                ErrorCode::Internal,
                "API key lookup answered an unknown status",
            )),
        }
    }
}

/// How long a verified key's answer is reused in one isolate: revocation,
/// expiry and role changes reach every isolate within this time.
pub const VERIFIED_KEY_TTL_MS: f64 = 1000.0;
/// Most answers kept; past it the oldest half is dropped.
pub const VERIFIED_KEYS_CAP: usize = 4096;

/// One kept answer: the row, when it was fetched, and what the caller built
/// from it (the gate keeps the identity, so a reuse costs no rebuild).
#[derive(Debug)]
pub struct VerifiedKey<T> {
    /// What the database answered.
    pub row: KeyRow,
    /// When (ms since the epoch).
    pub fetched_ms: f64,
    /// Built from `row` on first use.
    pub built: Option<T>,
}

/// Answers of `private.api_key_verify` by key hash, each kept
/// [`VERIFIED_KEY_TTL_MS`]; a counted key's answer (uses or rate limit: the
/// database counted this one request) serves exactly one check.
#[derive(Debug)]
pub struct VerifiedKeys<T> {
    entries: std::collections::HashMap<String, VerifiedKey<T>>,
}

impl<T> Default for VerifiedKeys<T> {
    fn default() -> Self {
        VerifiedKeys {
            entries: std::collections::HashMap::new(),
        }
    }
}

impl<T> VerifiedKeys<T> {
    /// Keeps `row` for `key_hash`, fetched at `now_ms`.
    pub fn put(&mut self, key_hash: &str, row: KeyRow, now_ms: f64) {
        if self.entries.len() >= VERIFIED_KEYS_CAP {
            let mut ages: Vec<f64> = self.entries.values().map(|e| e.fetched_ms).collect();
            let mid = ages.len() / 2;
            let (_, &mut cut, _) = ages.select_nth_unstable_by(mid, f64::total_cmp);
            self.entries.retain(|_, e| e.fetched_ms > cut);
        }
        let entry = VerifiedKey {
            row,
            fetched_ms: now_ms,
            built: None,
        };
        self.entries.insert(key_hash.to_owned(), entry);
    }
    /// The answer for `key_hash` if fetched less than [`VERIFIED_KEY_TTL_MS`]
    /// before `now_ms` (and not in the future). A counted answer is removed
    /// and handed over (`Err`); a reusable one is lent (`Ok`).
    pub fn take(
        &mut self,
        key_hash: &str,
        now_ms: f64,
    ) -> Option<Result<&mut VerifiedKey<T>, VerifiedKey<T>>> {
        let e = self.entries.get(key_hash)?;
        let age = now_ms - e.fetched_ms;
        if !(0.0..VERIFIED_KEY_TTL_MS).contains(&age) {
            self.entries.remove(key_hash);
            return None;
        }
        if e.row.counted {
            return self.entries.remove(key_hash).map(Err);
        }
        self.entries.get_mut(key_hash).map(Ok)
    }
    /// Number of answers kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(seed: u8) -> impl FnMut(&mut [u8]) -> Result<(), ()> {
        let mut n = seed;
        move |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                *b = n;
                n = n.wrapping_mul(31).wrapping_add(7);
            }
            Ok(())
        }
    }

    #[test]
    fn minted_keys_have_the_documented_shape_and_check() {
        let re = regex_lite::Regex::new(SCANNER_REGEX).unwrap();
        for env in [KeyEnv::Live, KeyEnv::Test] {
            let k = mint(env).unwrap();
            assert_eq!(k.key.len(), KEY_LEN);
            assert!(re.is_match(&k.key), "{}", k.prefix);
            assert_eq!(check_format(&k.key, env), Ok(env));
            assert!(k.key.starts_with(&k.prefix));
            assert_eq!(k.prefix.len(), 17);
            assert_eq!(
                format!("{k:?}").contains(&k.key),
                false,
                "Debug hides the key"
            );
        }
        assert_ne!(
            mint(KeyEnv::Test).unwrap().key,
            mint(KeyEnv::Test).unwrap().key
        );
    }

    #[test]
    fn minting_is_unbiased_base62_from_the_source() {
        let a = mint_with(KeyEnv::Test, counter(3)).unwrap();
        let b = mint_with(KeyEnv::Test, counter(3)).unwrap();
        assert_eq!(a, b, "deterministic for a deterministic source");
        // bytes ≥ 248 are skipped, never folded onto the first characters
        let high = mint_with(KeyEnv::Live, {
            let mut i = 0u32;
            move |buf: &mut [u8]| {
                for b in buf.iter_mut() {
                    *b = if i % 2 == 0 { 250 } else { 61 };
                    i += 1;
                }
                Ok::<(), ()>(())
            }
        })
        .unwrap();
        assert_eq!(&high.key[9..41], &"z".repeat(32));
        let failing = mint_with(KeyEnv::Test, |_: &mut [u8]| Err("no rng"));
        assert_eq!(failing, Err("no rng"));
    }

    #[test]
    fn checksum_is_crc32_in_base62() {
        // CRC32("123456789") = 0xCBF43926 = 3421780262 = base62 "3jO1VG"? computed below
        let mut n: u64 = 0xCBF4_3926;
        let mut s = Vec::new();
        for _ in 0..6 {
            s.push(BASE62[(n % 62) as usize]);
            n /= 62;
        }
        s.reverse();
        assert_eq!(checksum("123456789"), String::from_utf8(s).unwrap());
        assert_eq!(checksum("").len(), CHECKSUM_LEN);
    }

    #[test]
    fn malformed_and_mistyped_keys_are_refused_without_io() {
        let k = mint_with(KeyEnv::Test, counter(9)).unwrap().key;
        assert_eq!(check_format(&k, KeyEnv::Test), Ok(KeyEnv::Test));
        assert_eq!(
            check_format(&k, KeyEnv::Live),
            Err(KeyFormatError::Environment)
        );
        assert_eq!(check_format("", KeyEnv::Test), Err(KeyFormatError::Prefix));
        assert_eq!(
            check_format("sb_secret_x", KeyEnv::Test),
            Err(KeyFormatError::Prefix)
        );
        assert_eq!(
            check_format("egk_prod_x", KeyEnv::Test),
            Err(KeyFormatError::Prefix)
        );
        assert_eq!(
            check_format(&k[..KEY_LEN - 1], KeyEnv::Test),
            Err(KeyFormatError::Length)
        );
        assert_eq!(
            check_format(&format!("{k}a"), KeyEnv::Test),
            Err(KeyFormatError::Length)
        );
        let mut bad = k.clone();
        bad.replace_range(20..21, "-");
        assert_eq!(
            check_format(&bad, KeyEnv::Test),
            Err(KeyFormatError::Character)
        );
        let mut multibyte = k[..KEY_LEN - 2].to_owned();
        multibyte.push('é');
        assert_eq!(
            check_format(&multibyte, KeyEnv::Test),
            Err(KeyFormatError::Character)
        );
        // every single-character typo in the random part is caught
        for i in 9..KEY_LEN - CHECKSUM_LEN {
            let mut t = k.clone().into_bytes();
            t[i] = if t[i] == b'a' { b'b' } else { b'a' };
            let t = String::from_utf8(t).unwrap();
            assert_eq!(
                check_format(&t, KeyEnv::Test),
                Err(KeyFormatError::Checksum),
                "typo at {i}"
            );
        }
        // a live key relabelled as test fails the checksum (it covers the env)
        let live = mint_with(KeyEnv::Live, counter(9)).unwrap().key;
        let relabelled = live.replacen("egk_live_", "egk_test_", 1);
        assert_eq!(
            check_format(&relabelled, KeyEnv::Test),
            Err(KeyFormatError::Checksum)
        );
        for e in [
            KeyFormatError::Prefix,
            KeyFormatError::Checksum,
            KeyFormatError::Environment,
        ] {
            assert_eq!(e.denial().code, ErrorCode::InvalidApiKey);
        }
    }

    #[test]
    fn pepper_hashes_with_hmac_and_rotates() {
        let mut env = SortedMap::new();
        assert!(Pepper::from_env(&env).unwrap_err().contains("SECRET_KEY"));
        env.insert("SECRET_KEY".into(), "short".into());
        assert!(Pepper::from_env(&env).unwrap_err().contains("32 bytes"));
        env.insert("SECRET_KEY".into(), "k".repeat(32));
        let p = Pepper::from_env(&env).unwrap();
        let h = p.hash("egk_test_x");
        assert_eq!(h.len(), 64);
        assert!(h
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(p.previous_hash("egk_test_x"), None);
        assert!(!format!("{p:?}").contains("kkkk"));
        // RFC 4231-style check against an independent computation
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[b'k'; 32]).unwrap();
        mac.update(b"egk_test_x");
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(h, want);
        env.insert("SECRET_KEY_PREVIOUS".into(), "p".repeat(40));
        let rotated = Pepper::from_env(&env).unwrap();
        assert_eq!(rotated.hash("egk_test_x"), h);
        assert_ne!(rotated.previous_hash("egk_test_x").unwrap(), h);
        env.insert("SECRET_KEY_PREVIOUS".into(), "p".into());
        assert!(Pepper::from_env(&env)
            .unwrap_err()
            .contains("SECRET_KEY_PREVIOUS"));
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn scopes_intersect_with_wildcards_and_never_exceed_either_side() {
        assert_eq!(
            intersect(&v(&["users:read", "orders:write"]), &v(&["users:read"])),
            v(&["users:read"])
        );
        assert_eq!(
            intersect(&v(&["users:*"]), &v(&["users:read"])),
            v(&["users:read"])
        );
        assert_eq!(
            intersect(&v(&["users:read", "users:write"]), &v(&["users:*"])),
            v(&["users:read", "users:write"])
        );
        assert_eq!(
            intersect(&v(&["users:*"]), &v(&["users:*"])),
            v(&["users:*"])
        );
        assert_eq!(
            intersect(&v(&["orders:read"]), &v(&["users:*"])),
            Vec::<String>::new()
        );
        assert_eq!(intersect(&[], &v(&["users:read"])), Vec::<String>::new());
        assert!(!covers("users:read", "users:*"));
        assert!(!covers("user:*", "users:read"));
    }

    #[test]
    fn creation_is_capped_by_the_creators_permissions() {
        let held = v(&["services:read", "orders:write", "public:read"]);
        let s = CreateSpec::parse(
            br#"{"name":" ci ","scopes":["orders:write","services:read","orders:write"]}"#,
            &held,
        )
        .unwrap();
        assert_eq!(s.name, "ci");
        assert_eq!(s.scopes, v(&["orders:write", "services:read"]));
        let d = CreateSpec::parse(br#"{"name":"x","scopes":["users:write"]}"#, &held).unwrap_err();
        assert_eq!(
            (d.code, d.reason.as_str()),
            (
                ErrorCode::Forbidden,
                "scope users:write exceeds your own permissions"
            )
        );
        let d = CreateSpec::parse(br#"{"name":"x","scopes":["orders:*"]}"#, &held).unwrap_err();
        assert_eq!(
            d.code,
            ErrorCode::Forbidden,
            "a wildcard needs a held wildcard"
        );
        let ok = CreateSpec::parse(
            br#"{"name":"x","scopes":["orders:read"]}"#,
            &v(&["orders:*"]),
        )
        .unwrap();
        assert_eq!(ok.scopes, v(&["orders:read"]));
        let full = CreateSpec::parse(
            br#"{"name":"x","scopes":["public:read"],"expires_in_s":60,"refill":{"amount":5,"interval_s":60},"rate_limit":{"limit":10,"window_s":1}}"#,
            &held,
        )
        .unwrap();
        assert_eq!(
            (full.uses, full.expires_in_s),
            (Some(5), Some(60)),
            "refill without uses starts full"
        );
        for (body, code) in [
            (
                &br#"{"name":"x","scopes":[]}"#[..],
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"","scopes":["public:read"]}"#,
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"x","scopes":["Public"]}"#,
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"x","scopes":["public:read"],"expires_in_s":0}"#,
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"x","scopes":["public:read"],"uses":-1}"#,
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"x","scopes":["public:read"],"extra":1}"#,
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"x","scopes":["public:read"],"rate_limit":{"limit":0,"window_s":1}}"#,
                ErrorCode::ValidationFailed,
            ),
            (
                br#"{"name":"x","name":"y","scopes":["public:read"]}"#,
                ErrorCode::InvalidBody,
            ),
            (b"{", ErrorCode::InvalidBody),
            (b"\xff", ErrorCode::InvalidBody),
        ] {
            assert_eq!(
                CreateSpec::parse(body, &held).map_err(|d| d.code),
                Err(code),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn rotation_overlap_is_bounded() {
        assert_eq!(rotate_overlap(b""), Ok(DEFAULT_ROTATE_OVERLAP_S));
        assert_eq!(rotate_overlap(br#"{"overlap_s":0}"#), Ok(0));
        assert_eq!(rotate_overlap(br#"{"overlap_s":604800}"#), Ok(604_800));
        assert_eq!(
            rotate_overlap(br#"{"overlap_s":604801}"#).unwrap_err().code,
            ErrorCode::ValidationFailed
        );
        assert_eq!(
            rotate_overlap(br#"{"overlap":1}"#).unwrap_err().code,
            ErrorCode::ValidationFailed
        );
    }

    #[test]
    fn lookup_rows_map_to_precise_refusals() {
        let row = |status: &str| KeyRow {
            status: status.into(),
            key_id: None,
            user_id: None,
            tenant_id: None,
            scopes: vec![],
            user_role: None,
            permissions: vec![],
            expires_at: Some(100),
            counted: false,
            retry_after_s: Some(3),
        };
        assert_eq!(row("ok").refusal(99), None);
        assert_eq!(row("ok").refusal(100).unwrap().reason, "API key expired");
        for (s, reason) in [
            ("unknown", "API key not recognised"),
            ("revoked", "API key revoked"),
            ("exhausted", "API key has no uses left"),
        ] {
            let d = row(s).refusal(0).unwrap();
            assert_eq!(
                (d.code, d.reason.as_str()),
                (ErrorCode::InvalidApiKey, reason)
            );
        }
        let d = row("rate_limited").refusal(0).unwrap();
        assert_eq!(
            (d.code, d.reason.as_str()),
            (
                ErrorCode::RateLimited,
                "API key rate limit reached; retry in 3 s"
            )
        );
        assert_eq!(row("weird").refusal(0).unwrap().code, ErrorCode::Internal);
        assert!(row("owner_removed")
            .refusal(0)
            .unwrap()
            .reason
            .contains("no longer a member"));
    }

    #[test]
    fn verified_keys_expire_after_a_second_and_counted_ones_serve_once() {
        let row = |counted: bool| KeyRow {
            status: "ok".into(),
            key_id: Some("k".into()),
            user_id: Some("u".into()),
            tenant_id: None,
            scopes: vec![],
            user_role: None,
            permissions: vec![],
            expires_at: None,
            counted,
            retry_after_s: None,
        };
        let mut c = VerifiedKeys::<u32>::default();
        c.put("h", row(false), 1000.0);
        c.take("h", 1000.0).unwrap().unwrap().built = Some(7);
        assert_eq!(
            c.take("h", 1999.0).unwrap().unwrap().built,
            Some(7),
            "reused with what was built"
        );
        assert!(c.take("h", 2000.0).is_none(), "gone after 1 s");
        assert!(c.is_empty());
        c.put("h", row(false), 1000.0);
        assert!(
            c.take("h", 999.0).is_none(),
            "a clock going back does not extend it"
        );
        c.put("c", row(true), 1000.0);
        assert!(c.take("c", 1001.0).unwrap().is_err(), "handed over");
        assert!(
            c.take("c", 1002.0).is_none(),
            "a counted answer serves one request"
        );
        for i in 0..VERIFIED_KEYS_CAP + 10 {
            c.put(&format!("k{i}"), row(false), i as f64);
        }
        assert!(c.len() <= VERIFIED_KEYS_CAP);
        assert!(c
            .take(
                &format!("k{}", VERIFIED_KEYS_CAP + 9),
                (VERIFIED_KEYS_CAP + 9) as f64
            )
            .is_some());
    }
}
