//! Request headers as the verifiers see them: bounded, looked up case-insensitively.

use super::WebhookError;

/// Most header fields accepted in one request.
pub const MAX_HEADER_COUNT: usize = 256;
/// Most bytes (names plus values) accepted over all header fields.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most bytes accepted in one header a verifier reads.
pub const MAX_HEADER_VALUE: usize = 4096;

/// The request's header fields, bounded in count and size.
///
/// Names compare ASCII-case-insensitively. A header a verifier reads must
/// appear once: a repeated one is refused rather than guessed at.
#[derive(Clone, Debug, Default)]
pub struct Headers<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Headers<'a> {
    /// Collects header fields, refusing more than [`MAX_HEADER_COUNT`] fields or
    /// [`MAX_HEADER_BYTES`] bytes in total.
    pub fn new<I>(pairs: I) -> Result<Headers<'a>, WebhookError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut out = Vec::new();
        let mut total = 0usize;
        for (name, value) in pairs {
            total = total.saturating_add(name.len()).saturating_add(value.len());
            if out.len() >= MAX_HEADER_COUNT || total > MAX_HEADER_BYTES {
                return Err(WebhookError::TooManyHeaders);
            }
            out.push((name, value));
        }
        Ok(Headers { pairs: out })
    }

    /// The value of `name` if present exactly once, trimmed of surrounding
    /// spaces and tabs; refuses duplicates and values over [`MAX_HEADER_VALUE`].
    pub fn get(&self, name: &'static str) -> Result<Option<&'a str>, WebhookError> {
        let mut found: Option<&'a str> = None;
        for (n, v) in &self.pairs {
            if n.eq_ignore_ascii_case(name) {
                if found.is_some() {
                    return Err(WebhookError::DuplicateHeader(name));
                }
                if v.len() > MAX_HEADER_VALUE {
                    return Err(WebhookError::HeaderTooLarge(name));
                }
                found = Some(v.trim_matches(|c| c == ' ' || c == '\t'));
            }
        }
        Ok(found)
    }

    /// Like [`Headers::get`] but an absent or empty header is an error.
    pub fn require(&self, name: &'static str) -> Result<&'a str, WebhookError> {
        match self.get(name)? {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(WebhookError::MissingHeader(name)),
        }
    }
}
