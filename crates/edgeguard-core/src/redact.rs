//! Log redaction: one pass over a log line that replaces personal data and
//! credentials by fixed markers (docs/logging.md).
//!
//! | found | becomes |
//! | --- | --- |
//! | e-mail address `local@domain.tld` | `[email]` |
//! | phone number: `+` and 8–15 digits (E.164, separators allowed); national `(415) 555-2671`, `415-555-2671`, `415.555.2671`, `415 555 2671`; trunk-0 `020 7946 0958`, `06 12 34 56 78` (9–12 digits) | `[phone]` |
//! | card number: 13–19 digits starting 2–6, plain or grouped `4-4-4-4`/`4-6-5` by spaces or dashes, passing Luhn | `[card]` |
//! | JWT: `eyJ…` `.` `…` `.` `…` (base64url) | `[jwt]` |
//! | key: `sb_publishable_`, `sb_secret_`, `egk_`, `whsec_`, `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`, `ghp_`, `github_pat_` followed by ≥ 8 key characters | `[key]` |
//! | value of a header-like name (`authorization`, `proxy-authorization`, `apikey`, `api-key`, `x-api-key`, `cookie`, `set-cookie`) after `:` or `=`, also as a JSON key | `[redacted]` |
//! | value of a JSON key or `name=value` pair whose name contains `token`, `secret`, `password`, `passwd`, `api_key`, `signature`, `credential`, `private_key`, `jwt`, `session`, `cookie`, `authorization` | `[redacted]` |
//! | the token after `Bearer ` (≥ 8 characters, not only letters) | `[redacted]` |
//! | the password in a URL `scheme://user:password@host` | `[redacted]` |
//! | IPv4 / IPv6 address, only with [`RedactOptions::ip`] | `[ip]` |
//!
//! Numbers are only redacted when their whole digit group run has one of the
//! shapes above: timestamps, ISO dates, UUIDs, epoch milliseconds (they start
//! with `1`), ports, durations, status codes and version strings stay.
//!
//! The scanner is hand-written and linear: each detector starts only at a
//! boundary of its own character class and either consumes what it scanned or
//! scanned a bounded number of bytes, so adversarial lines cannot make it
//! backtrack. Every marker is ASCII and every cut falls on an ASCII byte, so
//! the output is valid UTF-8, and a JSON line stays valid JSON (values inside
//! JSON strings are cut at escapes and quotes, never inside them).

use std::borrow::Cow;

/// Replaces an e-mail address.
pub const EMAIL: &str = "[email]";
/// Replaces a phone number.
pub const PHONE: &str = "[phone]";
/// Replaces a Luhn-valid card number.
pub const CARD: &str = "[card]";
/// Replaces a JWT.
pub const JWT: &str = "[jwt]";
/// Replaces an API key or webhook secret.
pub const KEY: &str = "[key]";
/// Replaces a credential value (header-like or credential-named field, Bearer token, URL password).
pub const REDACTED: &str = "[redacted]";
/// Replaces an IP address when [`RedactOptions::ip`] is on.
pub const IP: &str = "[ip]";

/// What to redact besides the patterns that are always redacted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RedactOptions {
    /// Replace IPv4 and IPv6 addresses by `[ip]`.
    pub ip: bool,
}

impl RedactOptions {
    /// The options for a process, from `EDGEGUARD_LOG_IPS` (`keep` or
    /// `redact`) and whether it runs in production (the one rule of
    /// [`crate::app_env`]). IPs are redacted in production and kept elsewhere
    /// unless `EDGEGUARD_LOG_IPS` says otherwise; an unknown value redacts.
    pub fn from_settings(log_ips: Option<&str>, production: bool) -> RedactOptions {
        let ip = match log_ips.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") => production,
            Some("keep") => false,
            Some(_) => true,
        };
        RedactOptions { ip }
    }
}

/// What a redacted span holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A Luhn-valid card number.
    Card,
    /// A JWT.
    Jwt,
    /// An API key or webhook secret with a known prefix.
    Key,
    /// The value of a credential-named field, a Bearer token or a URL password.
    Credential,
    /// An IP address.
    Ip,
}

impl Kind {
    /// The marker that replaces a span of this kind.
    pub fn marker(self) -> &'static str {
        match self {
            Kind::Email => EMAIL,
            Kind::Phone => PHONE,
            Kind::Card => CARD,
            Kind::Jwt => JWT,
            Kind::Key => KEY,
            Kind::Credential => REDACTED,
            Kind::Ip => IP,
        }
    }
}

/// One span of a line that [`redact`] replaces: `line[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Byte offset of the first byte (always a character boundary).
    pub start: usize,
    /// Byte offset just past the last byte (always a character boundary).
    pub end: usize,
    /// What the span holds.
    pub kind: Kind,
}

/// The spans of `line` that [`redact`] replaces, in order, not overlapping.
pub fn find<'a>(line: &'a str, opts: &RedactOptions) -> Finds<'a> {
    Finds {
        b: line.as_bytes(),
        i: 0,
        opts: *opts,
    }
}

/// Iterator over the spans of a line; see [`find`].
#[derive(Clone, Debug)]
pub struct Finds<'a> {
    b: &'a [u8],
    i: usize,
    opts: RedactOptions,
}

impl Iterator for Finds<'_> {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        let b = self.b;
        while self.i < b.len() {
            let i = self.i;
            // Inside an alphanumeric run no pattern starts, except `://` after a scheme.
            if i > 0 && b[i - 1].is_ascii_alphanumeric() && b[i] != b':' {
                self.i += 1;
                continue;
            }
            match detect(b, i, &self.opts) {
                Some(hit) => {
                    self.i = hit.end.max(i + 1);
                    return Some(Found {
                        start: hit.start,
                        end: hit.end,
                        kind: hit.kind,
                    });
                }
                None => self.i += 1,
            }
        }
        None
    }
}

/// Returns `line` with every match of the patterns in the module
/// documentation replaced by its marker; borrowed when nothing matched.
pub fn redact<'a>(line: &'a str, opts: &RedactOptions) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for f in find(line, opts) {
        let o = out.get_or_insert_with(|| String::with_capacity(line.len()));
        o.push_str(line.get(copied..f.start).unwrap_or_default());
        o.push_str(f.kind.marker());
        copied = f.end;
    }
    match out {
        None => Cow::Borrowed(line),
        Some(mut o) => {
            o.push_str(line.get(copied..).unwrap_or_default());
            Cow::Owned(o)
        }
    }
}

/// A span `[start, end)` of the line and what it holds.
struct Hit {
    start: usize,
    end: usize,
    kind: Kind,
}

fn detect(b: &[u8], i: usize, opts: &RedactOptions) -> Option<Hit> {
    let c = b[i];
    if c.is_ascii_alphabetic() {
        if let Some(h) = named_value(b, i)
            .or_else(|| bearer(b, i))
            .or_else(|| jwt(b, i))
            .or_else(|| key(b, i))
        {
            return Some(h);
        }
    }
    if let Some(h) = email(b, i) {
        return Some(h);
    }
    if c == b':' {
        if let Some(h) = url_password(b, i) {
            return Some(h);
        }
    }
    if opts.ip {
        if let Some(h) = ipv4(b, i).or_else(|| ipv6(b, i)) {
            return Some(h);
        }
    }
    if c.is_ascii_digit() || c == b'+' || c == b'(' {
        return number(b, i);
    }
    None
}

// --- byte helpers ------------------------------------------------------------

/// The byte at `k`, or 0 past the end (0 is in no character class).
fn at(b: &[u8], k: usize) -> u8 {
    b.get(k).copied().unwrap_or(0)
}

/// The byte before `i`, or 0 at the start.
fn before(b: &[u8], i: usize) -> u8 {
    i.checked_sub(1).map_or(0, |k| at(b, k))
}

/// The end of the run of `class` bytes starting at `from`, scanning at most `max` bytes.
fn run(b: &[u8], from: usize, max: usize, class: impl Fn(u8) -> bool) -> usize {
    let mut k = from;
    while k < b.len() && k - from < max && class(b[k]) {
        k += 1;
    }
    k
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn skip_spaces(b: &[u8], from: usize) -> usize {
    run(b, from, 8, is_space)
}

fn starts_with(b: &[u8], k: usize, prefix: &[u8]) -> bool {
    b.get(k..k.saturating_add(prefix.len())) == Some(prefix)
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

// --- credential values by name -------------------------------------------------

/// Header names whose value is redacted after `:` or `=`, quoted or not.
const HEADER_NAMES: [&[u8]; 7] = [
    b"authorization",
    b"proxy-authorization",
    b"apikey",
    b"api-key",
    b"x-api-key",
    b"cookie",
    b"set-cookie",
];

/// Words that make a JSON key or `name=value` name a credential.
const CREDENTIAL_WORDS: [&[u8]; 13] = [
    b"authorization",
    b"cookie",
    b"token",
    b"secret",
    b"password",
    b"passwd",
    b"apikey",
    b"api_key",
    b"signature",
    b"credential",
    b"private_key",
    b"jwt",
    b"session",
];

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Plain,
    Escaped,
}

/// `name: value`, `name=value`, `"name":"value"` and `\"name\":\"value\"` for
/// credential names: the value becomes `[redacted]`.
fn named_value(b: &[u8], i: usize) -> Option<Hit> {
    if is_key_char(before(b, i)) {
        return None;
    }
    let end = run(b, i, 65, is_key_char);
    if end - i > 64 {
        return None;
    }
    let key = b.get(i..end)?;
    let name = key.rsplit(|&c| c == b'.').next().unwrap_or(key);
    let header = HEADER_NAMES.iter().any(|h| name.eq_ignore_ascii_case(h));
    if !header && !CREDENTIAL_WORDS.iter().any(|w| contains_ignore_case(name, w)) {
        return None;
    }
    let quote = match (before(b, i), i.checked_sub(2).map_or(0, |k| at(b, k))) {
        (b'"', b'\\') => Quote::Escaped,
        (b'"', _) => Quote::Plain,
        _ => Quote::None,
    };
    if quote != Quote::None {
        if let Some(h) = named_value_after(b, end, header, quote) {
            return Some(h);
        }
    }
    named_value_after(b, end, header, Quote::None)
}

fn named_value_after(b: &[u8], end: usize, header: bool, quote: Quote) -> Option<Hit> {
    let mut k = end;
    match quote {
        Quote::Plain if at(b, k) == b'"' => k += 1,
        Quote::Escaped if starts_with(b, k, b"\\\"") => k += 2,
        Quote::None => {}
        _ => return None,
    }
    k = skip_spaces(b, k);
    let sep = at(b, k);
    let sep_ok = match quote {
        Quote::None => sep == b'=' || (header && sep == b':'),
        _ => sep == b':',
    };
    if !sep_ok {
        return None;
    }
    k = skip_spaces(b, k + 1);
    let (start, stop) = if starts_with(b, k, b"\\\"") {
        (k + 2, escaped_string_end(b, k + 2))
    } else if at(b, k) == b'"' {
        (k + 1, json_string_end(b, k + 1))
    } else if quote != Quote::None || matches!(at(b, k), b'{' | b'[') {
        // A JSON number, object, array or literal: its strings are scanned on their own.
        return None;
    } else if header && sep == b':' {
        (k, run(b, k, usize::MAX, |c| !matches!(c, b'"' | b'\\' | b'\r' | b'\n')))
    } else {
        (k, run(b, k, usize::MAX, is_plain_value))
    };
    (stop > start).then_some(Hit {
        start,
        end: stop,
        kind: Kind::Credential,
    })
}

/// A byte of an unquoted `name=value` value (logfmt, query strings).
fn is_plain_value(c: u8) -> bool {
    !c.is_ascii_whitespace() && !matches!(c, b'&' | b'"' | b'\\' | b';')
}

/// Where the JSON string whose content starts at `from` ends (its closing
/// quote), or the end of the line.
fn json_string_end(b: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            b'"' => return k,
            _ => k += 1,
        }
    }
    b.len()
}

/// Where a JSON string nested in a JSON string (quotes written `\"`) ends.
fn escaped_string_end(b: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'\\' if at(b, k + 1) == b'"' => return k,
            b'\\' => k += 2,
            b'"' => return k,
            _ => k += 1,
        }
    }
    b.len()
}

/// `Bearer <token>`: the token becomes `[redacted]`.
fn bearer(b: &[u8], i: usize) -> Option<Hit> {
    if is_word(before(b, i)) || !b.get(i..i + 6)?.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    if !is_space(at(b, i + 6)) {
        return None;
    }
    let start = skip_spaces(b, i + 6);
    let end = run(b, start, usize::MAX, |c| {
        !c.is_ascii_whitespace() && !matches!(c, b'"' | b'\\' | b',')
    });
    let token = b.get(start..end)?;
    (token.len() >= 8 && !token.iter().all(u8::is_ascii_alphabetic)).then_some(Hit {
        start,
        end,
        kind: Kind::Credential,
    })
}

/// Three base64url segments, the first starting `eyJ` (a JSON header).
fn jwt(b: &[u8], i: usize) -> Option<Hit> {
    let prev = before(b, i);
    if is_b64url(prev) || prev == b'.' || !starts_with(b, i, b"eyJ") {
        return None;
    }
    let e1 = run(b, i, usize::MAX, is_b64url);
    if e1 - i < 8 || at(b, e1) != b'.' {
        return None;
    }
    let e2 = run(b, e1 + 1, usize::MAX, is_b64url);
    if e2 == e1 + 1 || at(b, e2) != b'.' {
        return None;
    }
    let e3 = run(b, e2 + 1, usize::MAX, is_b64url);
    Some(Hit {
        start: i,
        end: e3,
        kind: Kind::Jwt,
    })
}

/// Prefixes of API keys and webhook secrets.
const KEY_PREFIXES: [&[u8]; 10] = [
    b"sb_publishable_",
    b"sb_secret_",
    b"egk_",
    b"whsec_",
    b"sk_live_",
    b"sk_test_",
    b"rk_live_",
    b"rk_test_",
    b"ghp_",
    b"github_pat_",
];

/// A known key prefix followed by at least 8 key characters.
fn key(b: &[u8], i: usize) -> Option<Hit> {
    if is_b64url(before(b, i)) {
        return None;
    }
    let prefix = KEY_PREFIXES.iter().find(|p| starts_with(b, i, p))?;
    let body = i + prefix.len();
    let base64 = *prefix == b"whsec_";
    let end = run(b, body, usize::MAX, |c| {
        is_b64url(c) || (base64 && matches!(c, b'+' | b'/' | b'='))
    });
    (end - body >= 8).then_some(Hit {
        start: i,
        end,
        kind: Kind::Key,
    })
}

/// `scheme://user:password@host`: the password becomes `[redacted]`.
fn url_password(b: &[u8], i: usize) -> Option<Hit> {
    if !starts_with(b, i, b"://") {
        return None;
    }
    let from = i + 3;
    let end = run(b, from, usize::MAX, |c| {
        !c.is_ascii_whitespace() && !matches!(c, b'/' | b'@' | b'"' | b'\\' | b'?' | b'#')
    });
    if at(b, end) != b'@' {
        return None;
    }
    let colon = b.get(from..end)?.iter().position(|&c| c == b':')?;
    let start = from + colon + 1;
    (end > start).then_some(Hit {
        start,
        end,
        kind: Kind::Credential,
    })
}

// --- e-mail ------------------------------------------------------------------

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// `local@domain.tld` with a letters-only top-level label of 2+ letters.
fn email(b: &[u8], i: usize) -> Option<Hit> {
    if !is_local_char(b[i]) || is_local_char(before(b, i)) {
        return None;
    }
    let at_sign = run(b, i, usize::MAX, is_local_char);
    if at(b, at_sign) != b'@' || !b.get(i..at_sign)?.iter().any(u8::is_ascii_alphanumeric) {
        return None;
    }
    let from = at_sign + 1;
    let mut end = run(b, from, usize::MAX, |c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-');
    while end > from && matches!(b[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = b.get(from..end)?;
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|&c| c == b'.') {
        if label.is_empty() || label.len() > 63 || label[0] == b'-' || label[label.len() - 1] == b'-' {
            return None;
        }
        labels += 1;
        last = label;
    }
    (labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)).then_some(Hit {
        start: i,
        end,
        kind: Kind::Email,
    })
}

// --- IP addresses ----------------------------------------------------------------

/// Parses a dotted-quad at `i`; returns its end.
fn parse_ipv4(b: &[u8], i: usize) -> Option<usize> {
    let mut k = i;
    for octet in 0..4 {
        if octet > 0 {
            if at(b, k) != b'.' {
                return None;
            }
            k += 1;
        }
        let end = run(b, k, 4, |c| c.is_ascii_digit());
        let digits = b.get(k..end)?;
        if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        let value = digits.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        if value > 255 {
            return None;
        }
        k = end;
    }
    Some(k)
}

/// Whether the number ending at `end` really ends there (no word byte and no
/// `.`/`-` + digit continuing it).
fn ends_number(b: &[u8], end: usize) -> bool {
    let next = at(b, end);
    !is_word(next) && !(matches!(next, b'.' | b'-') && at(b, end + 1).is_ascii_digit())
}

fn ipv4(b: &[u8], i: usize) -> Option<Hit> {
    let prev = before(b, i);
    if !b[i].is_ascii_digit() || is_word(prev) || prev == b'.' {
        return None;
    }
    let end = parse_ipv4(b, i)?;
    ends_number(b, end).then_some(Hit {
        start: i,
        end,
        kind: Kind::Ip,
    })
}

/// The longest textual IPv6 address (`ffff:…:255.255.255.255`).
const IPV6_MAX: usize = 45;

fn ipv6(b: &[u8], i: usize) -> Option<Hit> {
    let is_v6 = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let prev = before(b, i);
    if !is_v6(b[i]) || b[i] == b'.' || is_word(prev) || prev == b':' || prev == b'.' {
        return None;
    }
    let mut end = run(b, i, IPV6_MAX + 1, is_v6);
    if end - i > IPV6_MAX {
        return None;
    }
    while end > i && b[end - 1] == b'.' {
        end -= 1;
    }
    if is_word(at(b, end)) {
        return None;
    }
    let s = b.get(i..end)?;
    if !s.iter().any(u8::is_ascii_digit) || s.iter().filter(|&&c| c == b':').count() < 2 {
        return None;
    }
    // An embedded IPv4 tail counts as two groups.
    let (head, v4) = match s.iter().rposition(|&c| c == b':') {
        Some(p) if s[p..].contains(&b'.') => {
            let tail = i + p + 1;
            if parse_ipv4(b, tail)? != end {
                return None;
            }
            (&s[..=p], true)
        }
        _ => (s, false),
    };
    if head.windows(3).any(|w| w == b":::") {
        return None;
    }
    let compressed = head.windows(2).filter(|w| *w == b"::").count();
    if compressed > 1 {
        return None;
    }
    let mut groups = usize::from(v4) * 2;
    let body: &[u8] = if v4 { &head[..head.len() - 1] } else { head };
    for part in body.split(|&c| c == b':') {
        if part.is_empty() {
            // Only the `::` (and its edges at the start or end) may be empty.
            continue;
        }
        if part.len() > 4 || !part.iter().all(u8::is_ascii_hexdigit) || part.contains(&b'.') {
            return None;
        }
        groups += 1;
    }
    let empties_ok = compressed == 1 || !body.split(|&c| c == b':').any(<[u8]>::is_empty);
    let count_ok = if compressed == 1 { groups <= 7 } else { groups == 8 };
    (empties_ok && count_ok).then_some(Hit {
        start: i,
        end,
        kind: Kind::Ip,
    })
}

// --- cards and phone numbers ---------------------------------------------------------

/// Most digits looked at from one start (the longest card number).
const MAX_DIGITS: usize = 19;
/// Most digit groups looked at from one start.
const MAX_GROUPS: usize = 8;

/// A run of digit groups starting at a boundary: `+` optional, a first group
/// optionally in parentheses, groups separated by one space, `-` or `.`.
struct Digits {
    plus: bool,
    paren: bool,
    /// Group `g` is `b[start[g]..end[g]]`.
    start: [usize; MAX_GROUPS],
    end: [usize; MAX_GROUPS],
    /// The separator after group `g` (`)` for the closing parenthesis).
    sep: [u8; MAX_GROUPS],
    groups: usize,
}

impl Digits {
    fn len(&self, g: usize) -> usize {
        self.end[g] - self.start[g]
    }

    fn digits(&self, upto: usize) -> usize {
        (0..upto).map(|g| self.len(g)).sum()
    }
}

fn scan_digits(b: &[u8], i: usize) -> Option<Digits> {
    let mut d = Digits {
        plus: false,
        paren: false,
        start: [0; MAX_GROUPS],
        end: [0; MAX_GROUPS],
        sep: [0; MAX_GROUPS],
        groups: 0,
    };
    let mut k = i;
    if at(b, k) == b'+' {
        d.plus = true;
        k += 1;
    } else if at(b, k) == b'(' {
        d.paren = true;
        k += 1;
    }
    let mut total = 0;
    while d.groups < MAX_GROUPS {
        let end = run(b, k, MAX_DIGITS + 1, |c| c.is_ascii_digit());
        let len = end - k;
        if len == 0 || total + len > MAX_DIGITS {
            break;
        }
        let g = d.groups;
        d.start[g] = k;
        d.end[g] = end;
        d.groups += 1;
        total += len;
        k = end;
        if g == 0 && d.paren {
            if at(b, k) != b')' {
                return None;
            }
            d.sep[g] = b')';
            k += 1;
            if at(b, k) == b' ' {
                k += 1;
            }
            continue;
        }
        let s = at(b, k);
        if matches!(s, b' ' | b'-' | b'.') && at(b, k + 1).is_ascii_digit() {
            d.sep[g] = s;
            k += 1;
        } else {
            break;
        }
    }
    (d.groups > 0).then_some(d)
}

/// Card numbers and phone numbers: both are runs of digit groups.
fn number(b: &[u8], i: usize) -> Option<Hit> {
    let prev = before(b, i);
    if is_word(prev) || matches!(prev, b'.' | b'-' | b'+') {
        return None;
    }
    let d = scan_digits(b, i)?;
    // Try the whole run first, then shorter runs cut at a space; fewer than
    // 8 digits are neither a card nor a phone number.
    for n in (1..=d.groups).rev() {
        if d.digits(n) < 8 {
            break;
        }
        let end = d.end[n - 1];
        let cut_ok = if n == d.groups {
            ends_number(b, end) && at(b, end) != b')'
        } else {
            d.sep[n - 1] == b' '
        };
        if !cut_ok {
            continue;
        }
        let kind = if is_card(b, &d, n) {
            Kind::Card
        } else if is_phone(b, &d, n) {
            Kind::Phone
        } else {
            continue;
        };
        return Some(Hit {
            start: i,
            end,
            kind,
        });
    }
    None
}

fn luhn(b: &[u8], d: &Digits, n: usize) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for g in (0..n).rev() {
        for &c in b[d.start[g]..d.end[g]].iter().rev() {
            let mut v = u32::from(c - b'0');
            if double {
                v *= 2;
                if v > 9 {
                    v -= 9;
                }
            }
            sum += v;
            double = !double;
        }
    }
    sum % 10 == 0
}

/// 13–19 digits starting 2–6, one group or `4-…` groups of 3–6 with one
/// separator (space or dash), passing Luhn.
fn is_card(b: &[u8], d: &Digits, n: usize) -> bool {
    if d.plus || d.paren || !(13..=MAX_DIGITS).contains(&d.digits(n)) {
        return false;
    }
    if !(b'2'..=b'6').contains(&b[d.start[0]]) {
        return false;
    }
    let grouped = n == 1
        || (d.len(0) == 4
            && (1..n).all(|g| (3..=6).contains(&d.len(g)))
            && matches!(d.sep[0], b' ' | b'-')
            && (0..n - 1).all(|g| d.sep[g] == d.sep[0]));
    grouped && luhn(b, d, n)
}

/// E.164 with `+` (8–15 digits), North-American `(415) 555-2671` /
/// `415-555-2671` shapes, or trunk-0 national numbers (9–12 digits in groups
/// of 2–5 separated by spaces or dashes, not shaped like a date).
fn is_phone(b: &[u8], d: &Digits, n: usize) -> bool {
    let digits = d.digits(n);
    if d.plus {
        return b[d.start[0]] != b'0' && (8..=15).contains(&digits) && (0..n - 1).all(|g| d.sep[g] != b')');
    }
    let shaped = |s: &[usize]| n == s.len() && (0..n).all(|g| d.len(g) == s[g]);
    if shaped(&[3, 3, 4]) {
        let nanp = if d.paren {
            matches!(d.sep[1], b'-' | b' ' | b'.')
        } else {
            matches!(d.sep[0], b'-' | b' ' | b'.') && d.sep[1] == d.sep[0]
        };
        if nanp {
            return true;
        }
    }
    let date_like = shaped(&[2, 2, 4]) || shaped(&[4, 2, 2]);
    n >= 2
        && !date_like
        && b[d.start[0]] == b'0'
        && (9..=12).contains(&digits)
        && (0..n).all(|g| (2..=5).contains(&d.len(g)))
        && (0..n - 1).all(|g| matches!(d.sep[g], b' ' | b'-' | b')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: RedactOptions = RedactOptions { ip: false };
    const IPS: RedactOptions = RedactOptions { ip: true };

    fn r(s: &str) -> String {
        redact(s, &KEEP).into_owned()
    }

    #[test]
    fn each_pattern_has_its_marker() {
        assert_eq!(r("to ada@example.com."), "to [email].");
        assert_eq!(r("call +1 415 555 2671"), "call [phone]");
        assert_eq!(r("card 4111 1111 1111 1111 ok"), "card [card] ok");
        // doctor: allow source.hardcoded_secret a made-up token for the test
        assert_eq!(r("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"), "t=[jwt]");
        // doctor: allow source.hardcoded_secret a made-up key for the test
        assert_eq!(r("k sb_secret_abcdefgh12345678"), "k [key]");
        assert_eq!(r("authorization: Bearer abc.def"), "authorization: [redacted]");
        assert_eq!(r(r#"{"cookie":"a=b; c=d","n":1}"#), r#"{"cookie":"[redacted]","n":1}"#);
        assert_eq!(redact("from 10.1.2.3", &IPS), "from [ip]");
        assert_eq!(redact("from ::1 and fe80::1", &IPS), "from [ip] and [ip]");
    }

    #[test]
    fn nothing_found_borrows() {
        assert!(matches!(redact("GET /me 200 12ms", &IPS), Cow::Borrowed(_)));
    }

    #[test]
    fn luhn_failing_card_stays() {
        assert_eq!(r("4111 1111 1111 1112"), "4111 1111 1111 1112");
        assert_eq!(r("4111111111111112"), "4111111111111112");
    }

    #[test]
    fn settings_choose_ip_redaction() {
        let ip = |l, p| RedactOptions::from_settings(l, p).ip;
        assert!(!ip(None, false));
        assert!(ip(None, true));
        assert!(ip(Some(""), true));
        assert!(!ip(Some("keep"), true));
        assert!(!ip(Some(" KEEP "), true));
        assert!(ip(Some("redact"), false));
        assert!(ip(Some("bogus"), false));
    }
}
