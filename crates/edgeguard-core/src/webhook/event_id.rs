//! Event ids used for de-duplication: bounds, and the strict extraction of
//! Stripe's top-level `id` from a verified body.

use core::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::WebhookError;

/// Longest event id accepted, in bytes.
pub const MAX_EVENT_ID_LEN: usize = 255;

/// Whether `id` is usable as a de-duplication key: 1 to 255 visible ASCII characters.
pub(crate) fn is_valid_event_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_EVENT_ID_LEN && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Reads the top-level string `id` of a JSON object without building the
/// whole tree. The body must be exactly one JSON object (trailing data, arrays,
/// scalars, a duplicated `id` and nesting over serde_json's limit are refused).
pub(crate) fn top_level_id(body: &[u8]) -> Result<String, WebhookError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = de
        .deserialize_map(TopLevelId)
        .map_err(|_| WebhookError::BodyNotJson)?;
    de.end().map_err(|_| WebhookError::BodyNotJson)?;
    match found {
        Some(id) if is_valid_event_id(&id) => Ok(id),
        _ => Err(WebhookError::MissingEventId),
    }
}

struct TopLevelId;

/// `id` when present as a string; a non-string `id` counts as absent.
enum IdValue {
    Str(String),
    Other,
}

impl<'de> de::Deserialize<'de> for IdValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdValue, E> {
                Ok(IdValue::Str(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<IdValue, E> {
                Ok(IdValue::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<IdValue, E> {
                Ok(IdValue::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<IdValue, E> {
                Ok(IdValue::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<IdValue, E> {
                Ok(IdValue::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<IdValue, E> {
                Ok(IdValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<IdValue, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(IdValue::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<IdValue, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(IdValue::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Visitor<'de> for TopLevelId {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut id: Option<IdValue> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "id" {
                if id.is_some() {
                    return Err(de::Error::custom("duplicate id"));
                }
                id = Some(map.next_value::<IdValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(match id {
            Some(IdValue::Str(s)) => Some(s),
            _ => None,
        })
    }
}
