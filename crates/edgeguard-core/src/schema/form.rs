//! `application/x-www-form-urlencoded` bodies: parsed strictly, their fields
//! checked against an object schema like query parameters (with coercion).

use super::json_schema::{pointer_push, Additional, FieldError, Schema, Ty};
use super::MAX_ERRORS;
use crate::sorted_map::SortedMap;
use crate::{Denial, ErrorCode};

/// The urlencoded form media type.
pub(super) const FORM: &str = "application/x-www-form-urlencoded";

/// Parses a urlencoded form strictly: UTF-8 after percent-decoding, no repeated field.
pub(super) fn parse_form_strict(body: &[u8]) -> Result<SortedMap<String, String>, Denial> {
    let mut pairs = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        if k.contains('\u{FFFD}') || v.contains('\u{FFFD}') {
            return Err(Denial::new(ErrorCode::InvalidBody, "form is not UTF-8"));
        }
        pairs.push((k.into_owned(), v.into_owned()));
    }
    // one sort: the client chooses how many fields and their order
    let (out, repeated) = SortedMap::from_pairs(pairs);
    if !repeated.is_empty() {
        return Err(Denial::new(ErrorCode::InvalidBody, "repeated form field"));
    }
    Ok(out)
}

impl Schema {
    /// Validates a urlencoded form against an object schema: `required`,
    /// `additionalProperties` and each property with parameter coercion.
    pub(super) fn validate_form(&self, fields: &SortedMap<String, String>) -> Vec<FieldError> {
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
}
