//! The `body` policy section: size, media type, strict JSON or form parsing,
//! then the schema.

use serde_json::Value;

use super::form::{parse_form_strict, FORM};
use super::json_schema::{FieldError, Schema};
use super::media_type::media_type_ok;
use super::{misconfigured, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, MAX_MAX_BYTES, MAX_MAX_DEPTH};
use crate::json_read::read_struct;
use crate::{Denial, ErrorCode};

/// Parses JSON strictly (the crate's one parser, [`crate::strict_json`]):
/// UTF-8, one value, nesting at most `max_depth` (capped at
/// [`MAX_MAX_DEPTH`]), no duplicate object keys. Errors are `INVALID_BODY`
/// with a value-free reason.
pub fn parse_json_strict(bytes: &[u8], max_depth: usize) -> Result<Value, Denial> {
    use crate::strict_json::StrictJsonError as E;
    crate::strict_json::parse_bounded(bytes, max_depth.min(MAX_MAX_DEPTH)).map_err(|e| {
        let reason = match e {
            E::NotUtf8 => "body is not UTF-8",
            E::TooDeep => "JSON nested too deeply",
            E::DuplicateKey => "duplicate key in JSON object",
            E::Invalid | E::TrailingData => "body is not valid JSON",
        };
        Denial::new(ErrorCode::InvalidBody, reason)
    })
}

#[derive(Debug, Default)]
struct BodySection {
    max_bytes: Option<usize>,
    content_types: Option<Vec<String>>,
    max_depth: Option<usize>,
    schema: Option<Value>,
    upload: Option<Value>,
}

read_struct!(BodySection { max_bytes: opt, content_types: opt, max_depth: opt, schema: opt, upload: opt });

/// A failed body or parameter check: the denial and, for `VALIDATION_FAILED`, the field errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyError {
    /// The error code (docs/errors.md) and reason.
    pub denial: Denial,
    /// The field errors (empty unless `VALIDATION_FAILED`).
    pub details: Vec<FieldError>,
}

impl From<Denial> for BodyError {
    fn from(denial: Denial) -> Self {
        BodyError {
            denial,
            details: Vec::new(),
        }
    }
}

pub(super) fn validation_failed(details: Vec<FieldError>) -> BodyError {
    let first = details.first().map(|d| d.to_string()).unwrap_or_default();
    BodyError {
        denial: Denial::new(ErrorCode::ValidationFailed, first),
        details,
    }
}

/// What a route accepts as a body.
#[derive(Clone, Debug)]
pub struct BodyRules {
    max_bytes: usize,
    content_types: Vec<String>,
    max_depth: usize,
    schema: Option<Schema>,
    /// A file route (`body.upload`, [`crate::upload`]): its rules replace the others.
    upload: Option<crate::upload::UploadRules>,
}

/// Merges a route-level object over a function-level one (route keys win).
pub fn merge_sections(base: Option<&Value>, over: Option<&Value>) -> Option<Value> {
    // Most routes of most policies have neither: the merge's code (Value
    // clones) is then never compiled (docs/architecture.md, "Footprint").
    if base.is_none() && over.is_none() {
        return None;
    }
    merge_present(base, over)
}

#[inline(never)]
fn merge_present(base: Option<&Value>, over: Option<&Value>) -> Option<Value> {
    match (base.filter(|v| !v.is_null()), over.filter(|v| !v.is_null())) {
        (None, None) => None,
        (Some(b), None) => Some(b.clone()),
        (None, Some(o)) => Some(o.clone()),
        (Some(Value::Object(b)), Some(Value::Object(o))) => {
            let mut m = b.clone();
            for (k, v) in o {
                m.insert(k.clone(), v.clone());
            }
            Some(Value::Object(m))
        }
        (Some(_), Some(o)) => Some(o.clone()),
    }
}

impl Default for BodyRules {
    fn default() -> Self {
        BodyRules {
            max_bytes: DEFAULT_MAX_BYTES,
            content_types: vec!["application/json".into()],
            max_depth: DEFAULT_MAX_DEPTH,
            schema: None,
            upload: None,
        }
    }
}

impl BodyRules {
    /// Validates a (merged) `body` section; `None`/`null` = defaults.
    pub fn from_value(section: Option<&Value>) -> Result<Self, Denial> {
        match section {
            None | Some(Value::Null) => Ok(BodyRules::default()),
            Some(v) => BodyRules::from_section(v),
        }
    }

    #[inline(never)]
    fn from_section(section: &Value) -> Result<Self, Denial> {
        let section = Some(section);
        let s: BodySection = crate::policy::section(section, "body section")?;
        let d = BodyRules::default();
        let max_bytes = s.max_bytes.unwrap_or(d.max_bytes);
        if max_bytes == 0 || max_bytes > MAX_MAX_BYTES {
            return Err(misconfigured("body.max_bytes must be 1..=16777216"));
        }
        let max_depth = s.max_depth.unwrap_or(d.max_depth);
        if max_depth == 0 || max_depth > MAX_MAX_DEPTH {
            return Err(misconfigured("body.max_depth must be 1..=64"));
        }
        let content_types = match s.content_types {
            None => d.content_types,
            Some(list) => {
                let mut out = Vec::new();
                for ct in list {
                    let ct = ct.trim().to_ascii_lowercase();
                    let ok = ct.split_once('/').is_some_and(|(a, b)| {
                        crate::headers::is_valid_name(a)
                            && crate::headers::is_valid_name(b)
                            && !ct.contains('*')
                    });
                    if !ok {
                        return Err(misconfigured(format!(
                            "body.content_types: invalid media type {ct:?}"
                        )));
                    }
                    if ct != "application/json" && !ct.ends_with("+json") && ct != FORM {
                        return Err(misconfigured(
                            "body.content_types: only JSON and urlencoded forms are parsed",
                        ));
                    }
                    out.push(ct);
                }
                if out.is_empty() {
                    return Err(misconfigured("body.content_types must not be empty"));
                }
                out
            }
        };
        let schema = s.schema.as_ref().map(Schema::from_value).transpose()?;
        let upload = s.upload.as_ref().map(crate::upload::UploadRules::from_value).transpose()?;
        if upload.is_some() && schema.is_some() {
            return Err(misconfigured("body.upload and body.schema exclude each other"));
        }
        Ok(BodyRules {
            max_bytes,
            content_types,
            max_depth,
            schema,
            upload,
        })
    }

    /// The size limit the shim enforces while streaming.
    pub fn max_bytes(&self) -> usize {
        self.upload.as_ref().map_or(self.max_bytes, |u| u.body_limit())
    }

    /// Checks a body and returns its parsed value (`null` for an accepted empty body).
    /// On an upload route the value describes the file ([`crate::upload::Upload`]).
    pub fn check(&self, content_type: Option<&str>, body: &[u8]) -> Result<Value, BodyError> {
        if let Some(u) = &self.upload {
            return check_upload(u, content_type, body);
        }
        if body.len() > self.max_bytes {
            return Err(
                Denial::new(ErrorCode::PayloadTooLarge, "body exceeds the size limit").into(),
            );
        }
        if body.is_empty() {
            return match self.schema {
                None => Ok(Value::Null),
                Some(_) => Err(Denial::new(ErrorCode::InvalidBody, "a body is required").into()),
            };
        }
        self.check_content(content_type, body)
    }

    /// The checks of a non-empty body: apart from [`Self::check`] so a
    /// fresh isolate whose first requests carry no body never compiles them
    /// (docs/architecture.md, "Footprint").
    #[inline(never)]
    fn check_content(&self, content_type: Option<&str>, body: &[u8]) -> Result<Value, BodyError> {
        if !content_type.is_some_and(|ct| media_type_ok(ct, &self.content_types)) {
            return Err(
                Denial::new(ErrorCode::UnsupportedMediaType, "content type not accepted").into(),
            );
        }
        let is_form = content_type.is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(FORM)
        });
        if is_form {
            let fields = parse_form_strict(body)?;
            if let Some(schema) = &self.schema {
                let errors = schema.validate_form(&fields);
                if !errors.is_empty() {
                    return Err(validation_failed(errors));
                }
            }
            // inserted one by one: `collect()` into the map would sort first
            let mut object = serde_json::Map::new();
            for (k, v) in fields {
                object.insert(k, Value::String(v));
            }
            return Ok(Value::Object(object));
        }
        let value = parse_json_strict(body, self.max_depth)?;
        if let Some(schema) = &self.schema {
            let errors = schema.validate(&value);
            if !errors.is_empty() {
                return Err(validation_failed(errors));
            }
        }
        Ok(value)
    }
}

#[inline(never)]
fn check_upload(
    rules: &crate::upload::UploadRules,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Value, BodyError> {
    Ok(rules.check(content_type, body)?.to_value())
}
