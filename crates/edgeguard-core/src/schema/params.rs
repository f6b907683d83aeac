//! Path and query parameters: string values, coerced when the schema
//! declares a number, integer or boolean. An integer is optional `-` and
//! digits; a number is also anything JSON's number grammar accepts (`1.5`,
//! `-2e3`; not `+1`, `.5` or `5.`); a boolean is `true` or `false`.

use serde_json::{Number, Value};

use super::body::{validation_failed, BodyError};
use super::json_schema::{pointer_push, FieldError, Schema, Ty};
use super::{misconfigured, MAX_ERRORS};
use crate::json_read::{Fields, ReadError, ReadJson};
use crate::Denial;
use crate::sorted_map::SortedMap;

impl Schema {
    /// Validates a string parameter, coercing it when the schema declares a
    /// non-string type.
    pub(super) fn walk_param(&self, raw: &str, path: &str, errors: &mut Vec<FieldError>) {
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
        // JSON's number grammar (RFC 8259 §6), read by serde_json as in a
        // JSON body: `1.5`, `-2`, `1e3`; not `+1`, `.5` or `5.`, which
        // `f64::from_str` took along with 10 KiB of tables in the module.
        return match crate::strict_json::parse(raw.as_bytes()) {
            Ok(Value::Number(n)) => Some(n),
            _ => None,
        };
    }
    None
}

#[derive(Debug, Default)]
struct QuerySection {
    properties: SortedMap<String, Value>,
    required: Vec<String>,
    additional: bool,
}

impl ReadJson for QuerySection {
    fn read(v: &Value) -> Result<Self, ReadError> {
        let f = Fields::of(
            v,
            "struct QuerySection",
            &["properties", "required", "additionalProperties"],
        )?;
        Ok(QuerySection {
            properties: f.or_default("properties")?,
            required: f.or_default("required")?,
            additional: match f.has("additionalProperties") {
                true => f.req("additionalProperties")?,
                false => true,
            },
        })
    }
}

/// Path and query parameter rules of a route.
#[derive(Clone, Debug, Default)]
pub struct ParamRules {
    path: SortedMap<String, Schema>,
    query: SortedMap<String, Schema>,
    query_required: Vec<String>,
    query_additional: bool,
}

impl ParamRules {
    /// Validates a route's `params` and `query` entries.
    pub fn from_values(params: Option<&Value>, query: Option<&Value>) -> Result<Self, Denial> {
        if params.is_none() && query.is_none() {
            return Ok(ParamRules {
                path: SortedMap::new(),
                query: SortedMap::new(),
                query_required: Vec::new(),
                query_additional: true,
            });
        }
        ParamRules::from_present(params, query)
    }

    #[inline(never)]
    fn from_present(params: Option<&Value>, query: Option<&Value>) -> Result<Self, Denial> {
        let mut path = SortedMap::new();
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
            Some(v) => crate::policy::section(Some(v), "query section")?,
        };
        let mut qs = SortedMap::new();
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
        path_params: &SortedMap<String, String>,
        query: &str,
    ) -> Result<(), BodyError> {
        // Nothing to check: kept apart so a fresh isolate does not compile
        // the checks for a request without any (docs/architecture.md, "Footprint").
        if query.is_empty() && self.path.is_empty() && self.query_required.is_empty() {
            return Ok(());
        }
        self.check_all(path_params, query)
    }

    #[inline(never)]
    fn check_all(&self, path_params: &SortedMap<String, String>, query: &str) -> Result<(), BodyError> {
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
        // one sort: the client chooses how many parameters and their order
        let (seen, repeated) = SortedMap::from_pairs(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        );
        for k in &repeated {
            errors.push(FieldError {
                path: pointer_push("/query", k),
                message: "must not be repeated".into(),
            });
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
