//! The one strict JSON parser: tokens, keys, configuration, policies and
//! request bodies all go through it.
//!
//! `serde_json` keeps the last of duplicate keys silently; two parsers that
//! disagree on which duplicate wins is a classic confusion vector (a JWT
//! claim, a `role` in a body), so duplicate object keys are refused at any
//! depth. Also refused: trailing data after the value, invalid UTF-8, and
//! nesting deeper than the caller's limit (`serde_json`'s own recursion limit
//! of 128 applies in any case, so no input can exhaust the stack).

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Why strict parsing refused. Displayed as a short, value-free reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrictJsonError {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// Not one JSON value.
    Invalid,
    /// An object repeats a key.
    DuplicateKey,
    /// Nested deeper than allowed.
    TooDeep,
    /// Something follows the value.
    TrailingData,
}

impl fmt::Display for StrictJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StrictJsonError::DuplicateKey => "duplicate JSON key",
            StrictJsonError::TrailingData => "trailing data after JSON",
            StrictJsonError::NotUtf8 | StrictJsonError::Invalid | StrictJsonError::TooDeep => {
                "not valid JSON"
            }
        })
    }
}

impl std::error::Error for StrictJsonError {}

const TOO_DEEP: &str = "edgeguard:too-deep";
const DUPLICATE: &str = "edgeguard:duplicate-key";

/// Parses one JSON value, refusing duplicate keys and trailing data; nesting
/// is bounded only by `serde_json`'s recursion limit.
pub fn parse(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    parse_bounded(bytes, usize::MAX)
}

/// [`parse`], with objects and arrays nested at most `max_depth` deep.
pub fn parse_bounded(bytes: &[u8], max_depth: usize) -> Result<Value, StrictJsonError> {
    let text = core::str::from_utf8(bytes).map_err(|_| StrictJsonError::NotUtf8)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed {
        depth: 0,
        max: max_depth,
    }
    .deserialize(&mut de)
    .map_err(|e| {
        let s = e.to_string();
        if s.contains(DUPLICATE) {
            StrictJsonError::DuplicateKey
        } else if s.contains(TOO_DEEP) || s.contains("recursion limit") {
            StrictJsonError::TooDeep
        } else {
            StrictJsonError::Invalid
        }
    })?;
    de.end().map_err(|_| StrictJsonError::TrailingData)?;
    Ok(value)
}

struct ValueSeed {
    depth: usize,
    max: usize,
}

impl ValueSeed {
    fn inner<E: de::Error>(&self) -> Result<ValueSeed, E> {
        if self.depth >= self.max {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(ValueSeed {
            depth: self.depth + 1,
            max: self.max,
        })
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(ValueSeed { ..inner })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let v = map.next_value_seed(ValueSeed { ..inner })?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#),
            Err(StrictJsonError::DuplicateKey)
        );
        assert_eq!(
            parse(br#"{"x":{"a":1,"a":2}}"#),
            Err(StrictJsonError::DuplicateKey)
        );
        assert_eq!(
            parse(br#"[{"a":1,"b":{"c":[{"d":1,"d":1}]}}]"#),
            Err(StrictJsonError::DuplicateKey)
        );
        assert!(parse(br#"{"a":1,"b":{"a":2}}"#).is_ok());
        assert_eq!(parse(b"{} x"), Err(StrictJsonError::TrailingData));
        assert_eq!(parse(b"{"), Err(StrictJsonError::Invalid));
        assert_eq!(parse(b"\"\xff\""), Err(StrictJsonError::NotUtf8));
        assert_eq!(
            StrictJsonError::DuplicateKey.to_string(),
            "duplicate JSON key"
        );
        assert_eq!(StrictJsonError::TooDeep.to_string(), "not valid JSON");
    }

    #[test]
    fn depth_is_bounded_by_the_caller_and_by_serde_json() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_bounded(deep(3).as_bytes(), 3).is_ok());
        assert_eq!(
            parse_bounded(deep(4).as_bytes(), 3),
            Err(StrictJsonError::TooDeep)
        );
        assert_eq!(
            parse(deep(100_000).as_bytes()),
            Err(StrictJsonError::TooDeep)
        );
    }
}
