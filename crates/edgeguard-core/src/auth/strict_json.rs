//! JSON parsing that refuses duplicate object keys at any depth.
//!
//! `serde_json` keeps the last of duplicate keys silently; two parsers that
//! disagree on which duplicate wins is a classic token-confusion vector, so
//! security-relevant JSON (JWT headers and claims) is parsed here.

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
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
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element_seed(Strict)? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(A::Error::custom("duplicate key"));
            }
            let v = map.next_value_seed(Strict)?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// Parses JSON bytes, refusing duplicate keys. The error text is secret-free.
pub fn parse(bytes: &[u8]) -> Result<Value, &'static str> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict.deserialize(&mut de).map_err(|e| {
        if e.to_string().starts_with("duplicate key") {
            "duplicate JSON key"
        } else {
            "not valid JSON"
        }
    })?;
    de.end().map_err(|_| "trailing data after JSON")?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert_eq!(super::parse(br#"{"a":1,"a":2}"#), Err("duplicate JSON key"));
        assert_eq!(
            super::parse(br#"{"x":{"a":1,"a":2}}"#),
            Err("duplicate JSON key")
        );
        assert_eq!(
            super::parse(br#"[{"a":1,"b":{"c":[{"d":1,"d":1}]}}]"#),
            Err("duplicate JSON key")
        );
        assert!(super::parse(br#"{"a":1,"b":{"a":2}}"#).is_ok());
        assert_eq!(super::parse(b"{} x"), Err("trailing data after JSON"));
        assert_eq!(super::parse(b"{"), Err("not valid JSON"));
    }
}
