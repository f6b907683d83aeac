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
//! `pattern` (our own engine, [`pattern`]: linear time, unanchored search as
//! in JSON Schema, a documented subset of ECMA-262 in which `\d`, `\w`, `\b`
//! are ASCII and `\s` is ASCII whitespace; lookaround, backreferences, flags
//! and Unicode classes such as `\p{L}` are refused when the policy loads),
//! `items`, `minItems`/`maxItems`, `format` (`uuid`, `email`), and the
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

mod body;
mod form;
mod formats;
mod json_schema;
mod media_type;
mod params;
mod pattern;

pub use body::{merge_sections, parse_json_strict, BodyError, BodyRules};
pub use formats::{is_email, is_uuid};
pub use json_schema::{FieldError, Schema};
pub use params::ParamRules;

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
