//! The JSON Schema subset: compiled once from the policy, then walked over a
//! value to collect field errors (JSON pointers, never the value itself).

use serde_json::Value;

use super::formats::{is_email, is_uuid};
use super::pattern::{Pattern, PatternError};
use super::{misconfigured, MAX_ERRORS};
use crate::json_read::{Fields, ReadError, ReadJson};
use crate::Denial;
use crate::sorted_map::SortedMap;

#[derive(Debug, Default)]
struct RawSchema {
    /// A type name or a list of them (read in `compile`).
    ty: Option<Value>,
    required: Option<Vec<String>>,
    properties: Option<SortedMap<String, RawSchema>>,
    /// `true`, `false` or a schema (read in `compile`, as `ty`).
    additional: Option<Value>,
    enumeration: Option<Vec<Value>>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    pattern: Option<String>,
    items: Option<Box<RawSchema>>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    format: Option<String>,
}

impl ReadJson for RawSchema {
    fn read(v: &Value) -> Result<Self, ReadError> {
        let f = Fields::of(
            v,
            "struct RawSchema",
            &[
                "type", "required", "properties", "additionalProperties", "enum", "minLength",
                "maxLength", "minimum", "maximum", "pattern", "items", "minItems", "maxItems",
                "format", "title", "description",
            ],
        )?;
        // Annotations: read for their type only.
        f.opt::<String>("title")?;
        f.opt::<String>("description")?;
        Ok(RawSchema {
            ty: f.opt("type")?,
            required: f.opt("required")?,
            properties: f.opt("properties")?,
            additional: f.opt("additionalProperties")?,
            enumeration: f.opt("enum")?,
            min_length: f.opt("minLength")?,
            max_length: f.opt("maxLength")?,
            minimum: f.opt("minimum")?,
            maximum: f.opt("maximum")?,
            pattern: f.opt("pattern")?,
            items: f.opt::<RawSchema>("items")?.map(Box::new),
            min_items: f.opt("minItems")?,
            max_items: f.opt("maxItems")?,
            format: f.opt("format")?,
        })
    }
}

/// A JSON type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
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
pub(super) enum Additional {
    Allowed,
    Denied,
    Schema(Box<Schema>),
}

/// A compiled schema.
#[derive(Clone, Debug)]
pub struct Schema {
    pub(super) types: Vec<Ty>,
    pub(super) required: Vec<String>,
    pub(super) properties: SortedMap<String, Schema>,
    pub(super) additional: Additional,
    enumeration: Option<Vec<Value>>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    pattern: Option<Pattern>,
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

pub(super) fn pointer_push(path: &str, key: &str) -> String {
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
        // serde_json's own float formatting: `{f}` would link core's (~6 KB
        // gzip of wasm) for this message only (docs/architecture.md, "Footprint").
        serde_json::Number::from_f64(f).map_or_else(String::new, |n| n.to_string())
    }
}

impl Schema {
    /// Compiles a schema from its JSON form.
    pub fn from_value(v: &Value) -> Result<Schema, Denial> {
        let raw = RawSchema::read(v).map_err(|e| misconfigured(format!("schema: {e}")))?;
        Schema::compile(raw, "")
    }

    fn compile(raw: RawSchema, at: &str) -> Result<Schema, Denial> {
        let bad = |what: &str| misconfigured(format!("schema at {}: {what}", display_path(at)));
        let type_name = |t: &Value| t.as_str().and_then(Ty::parse).ok_or_else(|| bad("unknown type"));
        let types = match &raw.ty {
            None => Vec::new(),
            Some(Value::Array(ts)) => {
                let out = ts.iter().map(type_name).collect::<Result<Vec<_>, _>>()?;
                if out.is_empty() {
                    return Err(bad("empty type list"));
                }
                out
            }
            Some(t) => vec![type_name(t)?],
        };
        let mut properties = SortedMap::new();
        for (k, s) in raw.properties.unwrap_or_default() {
            let child = Schema::compile(s, &pointer_push(at, &k))?;
            properties.insert(k, child);
        }
        let additional = match &raw.additional {
            None | Some(Value::Bool(true)) => Additional::Allowed,
            Some(Value::Bool(false)) => Additional::Denied,
            Some(v @ Value::Object(_)) => {
                let s = RawSchema::read(v)
                    .map_err(|e| misconfigured(format!("schema at {}/*: {e}", display_path(at))))?;
                Additional::Schema(Box::new(Schema::compile(s, &format!("{at}/*"))?))
            }
            Some(_) => return Err(bad("additionalProperties must be a boolean or a schema")),
        };
        let pattern = match raw.pattern {
            None => None,
            Some(p) => Some(Pattern::new(&p).map_err(|e| {
                bad(match e {
                    PatternError::Syntax => "invalid pattern",
                    PatternError::Unsupported => "pattern uses syntax outside the supported subset (docs/policy.md)",
                    PatternError::TooLarge => "pattern is too large",
                })
            })?),
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

    pub(super) fn walk(&self, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
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
}
