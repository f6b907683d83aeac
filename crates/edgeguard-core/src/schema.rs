//! Body validation against the schemas a policy declares.
//!
//! # Policy section `body`
//!
//! ```json
//! {"max_bytes": 65536, "content_types": ["application/json"], "max_depth": 32,
//!  "schema": {"type": "object", "required": ["email"],
//!             "properties": {"email": {"type": "string", "format": "email", "maxLength": 254},
//!                            "role": {"enum": ["customer", "provider"]}},
//!             "additionalProperties": false}}
//! ```
//!
//! A route's `body` entry overrides the function's field by field. Defaults:
//! `max_bytes` 1 MiB (at most 16 MiB), `content_types` `["application/json"]`,
//! `max_depth` 32 (at most 64), no schema.
//!
//! The checks, in order, and their codes:
//! 1. size over `max_bytes` → `PAYLOAD_TOO_LARGE` 413 (the shim enforces the
//!    same limit while streaming and stops reading there);
//! 2. an empty body is accepted as `null` when the route has no schema, else `INVALID_BODY`;
//! 3. media type (the part before `;`, case-insensitive) not listed, or a
//!    `charset` other than UTF-8 → `UNSUPPORTED_MEDIA_TYPE` 415;
//! 4. not UTF-8, not JSON, nested deeper than `max_depth`, or an object with a
//!    duplicate key → `INVALID_BODY` 400; for a route that lists
//!    `application/x-www-form-urlencoded` (cookie/form routes), a form with a
//!    repeated field or non-UTF-8 text → `INVALID_BODY`; its fields become an
//!    object of strings, checked like query parameters (with coercion);
//! 5. schema violations → `VALIDATION_FAILED` 422 with field paths (JSON
//!    pointers, `/` for the root), e.g. `/email: must be a string`. Messages
//!    never echo the submitted value.
//!
//! # Schema keywords
//!
//! `type` (a name or a list of `object`, `array`, `string`, `number`,
//! `integer`, `boolean`, `null`), `required`, `properties`,
//! `additionalProperties` (bool or schema; default `true` as in JSON Schema),
//! `enum`, `minLength`/`maxLength` (Unicode scalar values), `minimum`/`maximum`,
//! `pattern` (the `regex-lite` crate: linear time, unanchored search as in
//! JSON Schema; `\d`, `\w`, `\b` are ASCII as in ECMA-262, `\s` is ASCII
//! whitespace, Unicode classes such as `\p{L}` are refused as invalid), `items`, `minItems`/`maxItems`, `format` (`uuid`, `email`), and the
//! annotations `title`/`description`. Unknown keywords are a configuration error.
//!
//! # Path and query parameters
//!
//! A route may declare `"params": {"id": {"type": "string", "format": "uuid"}}`
//! (every declared path parameter is required) and `"query": {"properties":
//! {...}, "required": [...], "additionalProperties": false}`. Their values are
//! strings; a parameter declared `integer`, `number` or `boolean` must spell
//! one and is checked as that. A query key given twice is refused. Failures are
//! `VALIDATION_FAILED` with paths `/params/id`, `/query/limit`.

use std::collections::BTreeMap;

use regex_lite::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::{Number, Value};

use crate::{Denial, ErrorCode};

/// The default body size limit (1 MiB).
pub const DEFAULT_MAX_BYTES: usize = 1 << 20;
/// The largest configurable body size limit (16 MiB).
pub const MAX_MAX_BYTES: usize = 16 << 20;
/// The default nesting limit for JSON bodies.
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// The largest configurable nesting limit.
pub const MAX_MAX_DEPTH: usize = 64;
/// At most this many field errors are reported.
pub const MAX_ERRORS: usize = 32;

fn misconfigured(reason: impl Into<String>) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

// ---------------------------------------------------------------- schema

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TypeSpec {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AdditionalRaw {
    Bool(bool),
    Schema(Box<RawSchema>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    #[serde(rename = "type")]
    ty: Option<TypeSpec>,
    required: Option<Vec<String>>,
    properties: Option<BTreeMap<String, RawSchema>>,
    #[serde(rename = "additionalProperties")]
    additional: Option<AdditionalRaw>,
    #[serde(rename = "enum")]
    enumeration: Option<Vec<Value>>,
    #[serde(rename = "minLength")]
    min_length: Option<u64>,
    #[serde(rename = "maxLength")]
    max_length: Option<u64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    pattern: Option<String>,
    items: Option<Box<RawSchema>>,
    #[serde(rename = "minItems")]
    min_items: Option<u64>,
    #[serde(rename = "maxItems")]
    max_items: Option<u64>,
    format: Option<String>,
    #[allow(dead_code)]
    title: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
}

/// A JSON type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Object,
    Array,
    String,
    Number,
    Integer,
    Boolean,
    Null,
}

impl Ty {
    fn parse(s: &str) -> Option<Ty> {
        Some(match s {
            "object" => Ty::Object,
            "array" => Ty::Array,
            "string" => Ty::String,
            "number" => Ty::Number,
            "integer" => Ty::Integer,
            "boolean" => Ty::Boolean,
            "null" => Ty::Null,
            _ => return None,
        })
    }

    fn article_name(self) -> &'static str {
        match self {
            Ty::Object => "an object",
            Ty::Array => "an array",
            Ty::String => "a string",
            Ty::Number => "a number",
            Ty::Integer => "an integer",
            Ty::Boolean => "a boolean",
            Ty::Null => "null",
        }
    }

    fn matches(self, v: &Value) -> bool {
        match (self, v) {
            (Ty::Object, Value::Object(_))
            | (Ty::Array, Value::Array(_))
            | (Ty::String, Value::String(_))
            | (Ty::Number, Value::Number(_))
            | (Ty::Boolean, Value::Bool(_))
            | (Ty::Null, Value::Null) => true,
            (Ty::Integer, Value::Number(n)) => {
                n.is_i64()
                    || n.is_u64()
                    || n.as_f64()
                        .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
            }
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Uuid,
    Email,
}

#[derive(Clone, Debug)]
enum Additional {
    Allowed,
    Denied,
    Schema(Box<Schema>),
}

/// A compiled schema.
#[derive(Clone, Debug)]
pub struct Schema {
    types: Vec<Ty>,
    required: Vec<String>,
    properties: BTreeMap<String, Schema>,
    additional: Additional,
    enumeration: Option<Vec<Value>>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    pattern: Option<Regex>,
    items: Option<Box<Schema>>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    format: Option<Format>,
}

/// One schema violation: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// A JSON pointer to the offending value (`/` for the root).
    pub path: String,
    /// What is wrong, without the value itself.
    pub message: String,
}

impl core::fmt::Display for FieldError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn pointer_push(path: &str, key: &str) -> String {
    let esc = key.replace('~', "~0").replace('/', "~1");
    format!("{path}/{esc}")
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

impl Schema {
    /// Compiles a schema from its JSON form.
    pub fn from_value(v: &Value) -> Result<Schema, Denial> {
        let raw = RawSchema::deserialize(v).map_err(|e| misconfigured(format!("schema: {e}")))?;
        Schema::compile(raw, "")
    }

    fn compile(raw: RawSchema, at: &str) -> Result<Schema, Denial> {
        let bad = |what: &str| misconfigured(format!("schema at {}: {what}", display_path(at)));
        let types = match raw.ty {
            None => Vec::new(),
            Some(TypeSpec::One(t)) => vec![Ty::parse(&t).ok_or_else(|| bad("unknown type"))?],
            Some(TypeSpec::Many(ts)) => {
                let mut out = Vec::new();
                for t in ts {
                    out.push(Ty::parse(&t).ok_or_else(|| bad("unknown type"))?);
                }
                if out.is_empty() {
                    return Err(bad("empty type list"));
                }
                out
            }
        };
        let mut properties = BTreeMap::new();
        for (k, s) in raw.properties.unwrap_or_default() {
            let child = Schema::compile(s, &pointer_push(at, &k))?;
            properties.insert(k, child);
        }
        let additional = match raw.additional {
            None | Some(AdditionalRaw::Bool(true)) => Additional::Allowed,
            Some(AdditionalRaw::Bool(false)) => Additional::Denied,
            Some(AdditionalRaw::Schema(s)) => {
                Additional::Schema(Box::new(Schema::compile(*s, &format!("{at}/*"))?))
            }
        };
        let pattern = match raw.pattern {
            None => None,
            Some(p) => Some(
                RegexBuilder::new(&p)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|_| bad("invalid pattern"))?,
            ),
        };
        let format = match raw.format.as_deref() {
            None => None,
            Some("uuid") => Some(Format::Uuid),
            Some("email") => Some(Format::Email),
            Some(_) => return Err(bad("unsupported format (uuid, email)")),
        };
        if let (Some(a), Some(b)) = (raw.min_length, raw.max_length) {
            if a > b {
                return Err(bad("minLength > maxLength"));
            }
        }
        if let (Some(a), Some(b)) = (raw.min_items, raw.max_items) {
            if a > b {
                return Err(bad("minItems > maxItems"));
            }
        }
        if raw.minimum.is_some_and(|f| !f.is_finite())
            || raw.maximum.is_some_and(|f| !f.is_finite())
        {
            return Err(bad("minimum/maximum must be finite"));
        }
        if let Some(e) = &raw.enumeration {
            if e.is_empty() {
                return Err(bad("empty enum"));
            }
        }
        let items = match raw.items {
            None => None,
            Some(s) => Some(Box::new(Schema::compile(*s, &format!("{at}/*"))?)),
        };
        Ok(Schema {
            types,
            required: raw.required.unwrap_or_default(),
            properties,
            additional,
            enumeration: raw.enumeration,
            min_length: raw.min_length,
            max_length: raw.max_length,
            minimum: raw.minimum,
            maximum: raw.maximum,
            pattern,
            items,
            min_items: raw.min_items,
            max_items: raw.max_items,
            format,
        })
    }

    /// Validates `v`, returning every violation (at most [`MAX_ERRORS`]).
    pub fn validate(&self, v: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.walk(v, "", &mut errors);
        errors
    }

    fn walk(&self, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
        let err = |errors: &mut Vec<FieldError>, msg: String| {
            if errors.len() < MAX_ERRORS {
                errors.push(FieldError {
                    path: display_path(path),
                    message: msg,
                });
            }
        };
        if errors.len() >= MAX_ERRORS {
            return;
        }
        if !self.types.is_empty() && !self.types.iter().any(|t| t.matches(v)) {
            let names: Vec<&str> = self.types.iter().map(|t| t.article_name()).collect();
            err(errors, format!("must be {}", names.join(" or ")));
            return;
        }
        if let Some(e) = &self.enumeration {
            if !e.contains(v) {
                err(errors, "must be one of the allowed values".into());
            }
        }
        match v {
            Value::String(s) => {
                let n = s.chars().count() as u64;
                if let Some(min) = self.min_length.filter(|m| n < *m) {
                    err(errors, format!("must be at least {min} characters"));
                }
                if let Some(max) = self.max_length.filter(|m| n > *m) {
                    err(errors, format!("must be at most {max} characters"));
                }
                if let Some(re) = &self.pattern {
                    if !re.is_match(s) {
                        err(errors, "must match the pattern".into());
                    }
                }
                match self.format {
                    Some(Format::Uuid) if !is_uuid(s) => err(errors, "must be a UUID".into()),
                    Some(Format::Email) if !is_email(s) => {
                        err(errors, "must be an email address".into())
                    }
                    _ => {}
                }
            }
            Value::Number(num) => {
                if let Some(f) = num.as_f64() {
                    if let Some(min) = self.minimum.filter(|m| f < *m) {
                        err(errors, format!("must be >= {}", fmt_num(min)));
                    }
                    if let Some(max) = self.maximum.filter(|m| f > *m) {
                        err(errors, format!("must be <= {}", fmt_num(max)));
                    }
                }
            }
            Value::Array(items) => {
                let n = items.len() as u64;
                if let Some(min) = self.min_items.filter(|m| n < *m) {
                    err(errors, format!("must have at least {min} items"));
                }
                if let Some(max) = self.max_items.filter(|m| n > *m) {
                    err(errors, format!("must have at most {max} items"));
                }
                if let Some(item_schema) = &self.items {
                    for (i, item) in items.iter().enumerate() {
                        item_schema.walk(item, &format!("{path}/{i}"), errors);
                    }
                }
            }
            Value::Object(map) => {
                for r in &self.required {
                    if !map.contains_key(r) && errors.len() < MAX_ERRORS {
                        errors.push(FieldError {
                            path: pointer_push(path, r),
                            message: "is required".into(),
                        });
                    }
                }
                for (k, child) in map {
                    let p = pointer_push(path, k);
                    match (self.properties.get(k), &self.additional) {
                        (Some(s), _) => s.walk(child, &p, errors),
                        (None, Additional::Allowed) => {}
                        (None, Additional::Denied) => {
                            if errors.len() < MAX_ERRORS {
                                errors.push(FieldError {
                                    path: p,
                                    message: "is not allowed".into(),
                                });
                            }
                        }
                        (None, Additional::Schema(s)) => s.walk(child, &p, errors),
                    }
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Validates a urlencoded form against an object schema: `required`,
    /// `additionalProperties` and each property with parameter coercion.
    fn validate_form(&self, fields: &BTreeMap<String, String>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !self.types.is_empty() && !self.types.contains(&Ty::Object) {
            errors.push(FieldError {
                path: "/".into(),
                message: "must not be a form".into(),
            });
            return errors;
        }
        for r in &self.required {
            if !fields.contains_key(r) {
                errors.push(FieldError {
                    path: pointer_push("", r),
                    message: "is required".into(),
                });
            }
        }
        for (k, v) in fields {
            let p = pointer_push("", k);
            match (self.properties.get(k), &self.additional) {
                (Some(s), _) => s.walk_param(v, &p, &mut errors),
                (None, Additional::Allowed) => {}
                (None, Additional::Denied) => errors.push(FieldError {
                    path: p,
                    message: "is not allowed".into(),
                }),
                (None, Additional::Schema(s)) => s.walk_param(v, &p, &mut errors),
            }
        }
        errors.truncate(MAX_ERRORS);
        errors
    }

    /// Validates a string parameter, coercing it when the schema declares a
    /// non-string type.
    fn walk_param(&self, raw: &str, path: &str, errors: &mut Vec<FieldError>) {
        let wants = |t: Ty| self.types.contains(&t);
        let value = if self.types.is_empty() || wants(Ty::String) {
            Value::String(raw.to_string())
        } else if wants(Ty::Integer) || wants(Ty::Number) {
            match parse_param_number(raw, wants(Ty::Number)) {
                Some(n) => Value::Number(n),
                None => {
                    let msg = if wants(Ty::Number) {
                        "must be a number"
                    } else {
                        "must be an integer"
                    };
                    errors.push(FieldError {
                        path: path.to_string(),
                        message: msg.into(),
                    });
                    return;
                }
            }
        } else if wants(Ty::Boolean) {
            match raw {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    errors.push(FieldError {
                        path: path.to_string(),
                        message: "must be a boolean".into(),
                    });
                    return;
                }
            }
        } else {
            Value::String(raw.to_string())
        };
        self.walk(&value, path, errors);
    }
}

fn parse_param_number(raw: &str, float: bool) -> Option<Number> {
    if raw.is_empty() || raw.len() > 32 {
        return None;
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse::<i64>().ok().map(Number::from);
    }
    if float
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
    {
        return raw.parse::<f64>().ok().and_then(Number::from_f64);
    }
    None
}

/// Whether `s` is a UUID in the canonical 8-4-4-4-12 hex form (any case).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `s` is a plausible email address: `local@domain`, at most 254
/// bytes, a dot-atom local part of at most 64 bytes and a DNS domain with at
/// least two labels. Quoted local parts and IP literals are refused.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()));
    local_ok && domain_ok
}

// ---------------------------------------------------------------- strict JSON parsing

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

// ---------------------------------------------------------------- body rules

/// The urlencoded form media type.
const FORM: &str = "application/x-www-form-urlencoded";

/// Parses a urlencoded form strictly: UTF-8 after percent-decoding, no repeated field.
fn parse_form_strict(body: &[u8]) -> Result<BTreeMap<String, String>, Denial> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if k.contains('\u{FFFD}') || v.contains('\u{FFFD}') {
            return Err(Denial::new(ErrorCode::InvalidBody, "form is not UTF-8"));
        }
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(Denial::new(ErrorCode::InvalidBody, "repeated form field"));
        }
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BodySection {
    max_bytes: Option<usize>,
    content_types: Option<Vec<String>>,
    max_depth: Option<usize>,
    schema: Option<Value>,
    upload: Option<Value>,
}

/// A failed body or parameter check: the denial and, for `VALIDATION_FAILED`, the field errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyError {
    /// The SPEC code and reason.
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

fn validation_failed(details: Vec<FieldError>) -> BodyError {
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

fn media_type_ok(content_type: &str, allowed: &[String]) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !allowed.contains(&essence) {
        return false;
    }
    for param in parts {
        let Some((k, v)) = param.split_once('=') else {
            return false;
        };
        if k.trim().eq_ignore_ascii_case("charset") {
            let v = v.trim().trim_matches('"');
            if !v.eq_ignore_ascii_case("utf-8") && !v.eq_ignore_ascii_case("utf8") {
                return false;
            }
        }
    }
    true
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
        let s: BodySection = match section {
            None | Some(Value::Null) => BodySection::default(),
            Some(v) => BodySection::deserialize(v)
                .map_err(|e| misconfigured(format!("body section: {e}")))?,
        };
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
            return Ok(u.check(content_type, body)?.to_value());
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
            return Ok(Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ));
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

// ---------------------------------------------------------------- params

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuerySection {
    #[serde(default)]
    properties: BTreeMap<String, Value>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(rename = "additionalProperties", default = "yes")]
    additional: bool,
}

fn yes() -> bool {
    true
}

/// Path and query parameter rules of a route.
#[derive(Clone, Debug, Default)]
pub struct ParamRules {
    path: BTreeMap<String, Schema>,
    query: BTreeMap<String, Schema>,
    query_required: Vec<String>,
    query_additional: bool,
}

impl ParamRules {
    /// Validates a route's `params` and `query` entries.
    pub fn from_values(params: Option<&Value>, query: Option<&Value>) -> Result<Self, Denial> {
        let mut path = BTreeMap::new();
        if let Some(p) = params.filter(|v| !v.is_null()) {
            let map = p
                .as_object()
                .ok_or_else(|| misconfigured("params must be an object"))?;
            for (k, v) in map {
                path.insert(k.clone(), Schema::from_value(v)?);
            }
        }
        let q: QuerySection = match query.filter(|v| !v.is_null()) {
            None => QuerySection {
                additional: true,
                ..Default::default()
            },
            Some(v) => QuerySection::deserialize(v)
                .map_err(|e| misconfigured(format!("query section: {e}")))?,
        };
        let mut qs = BTreeMap::new();
        for (k, v) in &q.properties {
            qs.insert(k.clone(), Schema::from_value(v)?);
        }
        Ok(ParamRules {
            path,
            query: qs,
            query_required: q.required,
            query_additional: q.additional,
        })
    }

    /// Checks path parameters (already extracted by the router) and the raw
    /// query string (without `?`).
    pub fn check(
        &self,
        path_params: &BTreeMap<String, String>,
        query: &str,
    ) -> Result<(), BodyError> {
        let mut errors = Vec::new();
        for (name, schema) in &self.path {
            let p = pointer_push("/params", name);
            match path_params.get(name) {
                Some(v) => schema.walk_param(v, &p, &mut errors),
                None => errors.push(FieldError {
                    path: p,
                    message: "is required".into(),
                }),
            }
        }
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let p = pointer_push("/query", &k);
            if seen.contains_key(k.as_ref()) {
                errors.push(FieldError {
                    path: p,
                    message: "must not be repeated".into(),
                });
                continue;
            }
            seen.insert(k.to_string(), v.to_string());
        }
        for r in &self.query_required {
            if !seen.contains_key(r) {
                errors.push(FieldError {
                    path: pointer_push("/query", r),
                    message: "is required".into(),
                });
            }
        }
        for (k, v) in &seen {
            let p = pointer_push("/query", k);
            match self.query.get(k) {
                Some(s) => s.walk_param(v, &p, &mut errors),
                None if !self.query_additional => errors.push(FieldError {
                    path: p,
                    message: "is not allowed".into(),
                }),
                None => {}
            }
        }
        errors.truncate(MAX_ERRORS);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(validation_failed(errors))
        }
    }
}
