//! Typed reading of parsed JSON: the policy's sections, `EDGEGUARD_ISSUERS`
//! and the rows the host hands back are read from a [`Value`] by hand.
//!
//! Derived `Deserialize` read from a `&Value` instantiates serde's whole
//! `Value` deserializer once per type and per `Vec`/map of it: ~25 KB gzip of
//! the pipeline module, for code that runs once per isolate
//! (docs/architecture.md, "Footprint"). These readers are one small function
//! per type. Messages follow serde's wording (`unknown field `x``, `missing
//! field `x``, `invalid type: …, expected …`), without the value for anything
//! but field and variant names.

use serde_json::{Map, Value};

use crate::sorted_map::SortedMap;

/// Why a value could not be read: a message naming the field, never a value.
pub(crate) type ReadError = String;

/// A type read from a JSON value.
pub(crate) trait ReadJson: Sized {
    /// Reads `v`.
    fn read(v: &Value) -> Result<Self, ReadError>;
}

/// What `v` is, as serde's messages say it.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => "floating point".into(),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(_) => "string".into(),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
    }
}

/// `invalid type: <what v is>, expected <expected>`.
pub(crate) fn invalid(v: &Value, expected: &str) -> ReadError {
    format!("invalid type: {}, expected {expected}", kind(v))
}

/// `` `a`, `b` `` as serde lists expected names.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".into(),
        [a] => format!("`{a}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        _ => {
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", list.join(", "))
        }
    }
}

impl ReadJson for Value {
    fn read(v: &Value) -> Result<Self, ReadError> {
        Ok(v.clone())
    }
}

impl ReadJson for String {
    fn read(v: &Value) -> Result<Self, ReadError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| invalid(v, "a string"))
    }
}

impl ReadJson for bool {
    fn read(v: &Value) -> Result<Self, ReadError> {
        v.as_bool().ok_or_else(|| invalid(v, "a boolean"))
    }
}

/// An integer within `min..=max`; `what` names the Rust type, as serde does.
fn integer(v: &Value, min: i64, max: u64, what: &str) -> Result<i128, ReadError> {
    let n = match v {
        Value::Number(n) => n
            .as_u64()
            .map(i128::from)
            .or_else(|| n.as_i64().map(i128::from)),
        _ => None,
    };
    match n {
        Some(n) if n >= i128::from(min) && n <= i128::from(max) => Ok(n),
        Some(n) => Err(format!("invalid value: integer `{n}`, expected {what}")),
        None => Err(invalid(v, what)),
    }
}

macro_rules! read_integer {
    ($($t:ty),*) => {$(
        impl ReadJson for $t {
            fn read(v: &Value) -> Result<Self, ReadError> {
                let n = integer(v, <$t>::MIN as i64, <$t>::MAX as u64, stringify!($t))?;
                <$t>::try_from(n).map_err(|_| invalid(v, stringify!($t)))
            }
        }
    )*};
}
read_integer!(u8, u16, u32, u64, usize, i64);

impl ReadJson for f64 {
    fn read(v: &Value) -> Result<Self, ReadError> {
        v.as_f64().ok_or_else(|| invalid(v, "f64"))
    }
}

impl<T: ReadJson> ReadJson for Vec<T> {
    fn read(v: &Value) -> Result<Self, ReadError> {
        match v {
            Value::Array(items) => items.iter().map(T::read).collect(),
            _ => Err(invalid(v, "a sequence")),
        }
    }
}

impl<T: ReadJson> ReadJson for SortedMap<String, T> {
    fn read(v: &Value) -> Result<Self, ReadError> {
        match v {
            Value::Object(m) => {
                let pairs = m
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), T::read(v)?)))
                    .collect::<Result<Vec<_>, ReadError>>()?;
                // A JSON object's keys are unique (strict_json refuses repeats).
                Ok(SortedMap::from_pairs(pairs).0)
            }
            _ => Err(invalid(v, "a map")),
        }
    }
}

/// One of a fixed set of strings (a unit enum's variants).
pub(crate) fn variant<T: Copy>(v: &Value, variants: &[(&str, T)]) -> Result<T, ReadError> {
    let Some(s) = v.as_str() else {
        return Err(invalid(v, "a variant name"));
    };
    match variants.iter().find(|(name, _)| *name == s) {
        Some((_, t)) => Ok(*t),
        None => {
            let names: Vec<&str> = variants.iter().map(|(n, _)| *n).collect();
            Err(format!(
                "unknown variant `{s}`, expected {}",
                one_of(&names)
            ))
        }
    }
}

/// Implements [`ReadJson`] for a struct whose fields are all read one way:
/// `read_struct!(Name { field: opt, other: req, third: or_default = "jsonKey" })`,
/// each field by the [`Fields`] getter named, under its own name or the key
/// given; every other key is refused (`Fields::of`).
macro_rules! read_struct {
    ($ty:ident { $($field:ident : $how:ident $(= $key:literal)?),* $(,)? }) => {
        impl $crate::json_read::ReadJson for $ty {
            fn read(v: &serde_json::Value) -> Result<Self, $crate::json_read::ReadError> {
                let f = $crate::json_read::Fields::of(
                    v,
                    concat!("struct ", stringify!($ty)),
                    &[$($crate::json_read::read_struct!(@key $field $($key)?)),*],
                )?;
                Ok($ty { $($field: f.$how($crate::json_read::read_struct!(@key $field $($key)?))?),* })
            }
        }
    };
    (@key $field:ident) => { stringify!($field) };
    (@key $field:ident $key:literal) => { $key };
}
pub(crate) use read_struct;

/// The fields of a JSON object read as a struct: every key must be one of
/// `known` (serde's `deny_unknown_fields`), unless made with [`Fields::open`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The fields of `v`, an object holding only `known` keys; `what` names it
    /// in a type error (`struct RouteFile`).
    pub(crate) fn of(v: &'a Value, what: &str, known: &[&str]) -> Result<Self, ReadError> {
        let f = Fields::open(v, what)?;
        if let Some(k) = f.0.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("unknown field `{k}`, expected {}", one_of(known)));
        }
        Ok(f)
    }
    /// The fields of `v`, an object whose other keys are ignored.
    pub(crate) fn open(v: &'a Value, what: &str) -> Result<Self, ReadError> {
        match v {
            Value::Object(m) => Ok(Fields(m)),
            _ => Err(invalid(v, what)),
        }
    }
    /// A field that may be absent or `null`. (The getters are never inlined:
    /// one copy per field type instead of one per field keeps the readers small.)
    #[inline(never)]
    pub(crate) fn opt<T: ReadJson>(&self, key: &str) -> Result<Option<T>, ReadError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::read(v).map(Some),
        }
    }
    /// A field that must be present.
    #[inline(never)]
    pub(crate) fn req<T: ReadJson>(&self, key: &str) -> Result<T, ReadError> {
        match self.0.get(key) {
            None => Err(format!("missing field `{key}`")),
            Some(v) => T::read(v),
        }
    }
    /// A field whose absence means `T::default()` (present `null` is a type error).
    #[inline(never)]
    pub(crate) fn or_default<T: ReadJson + Default>(&self, key: &str) -> Result<T, ReadError> {
        match self.0.get(key) {
            None => Ok(T::default()),
            Some(v) => T::read(v),
        }
    }
    /// The raw value of a field, absent or `null` as `None`.
    pub(crate) fn raw(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }
    /// Whether the key is present at all (`null` included).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_refuse_unknown_keys_and_read_like_serde() {
        let v = json!({"a": 1, "b": null, "c": "x"});
        let e = Fields::of(&v, "struct T", &["a", "b"]).unwrap_err();
        assert_eq!(e, "unknown field `c`, expected `a` or `b`");
        let f = Fields::of(&v, "struct T", &["a", "b", "c", "d"]).unwrap();
        assert_eq!(f.req::<u32>("a"), Ok(1));
        assert_eq!(f.opt::<u32>("b"), Ok(None), "null is absent for an option");
        assert_eq!(f.or_default::<bool>("d"), Ok(false));
        assert!(f
            .or_default::<bool>("b")
            .unwrap_err()
            .starts_with("invalid type: null"));
        assert_eq!(f.req::<String>("d").unwrap_err(), "missing field `d`");
        assert_eq!(
            f.req::<u8>("c").unwrap_err(),
            "invalid type: string, expected u8"
        );
        let e = Fields::of(&json!([1]), "struct T", &[]).unwrap_err();
        assert_eq!(e, "invalid type: sequence, expected struct T");
        let e = Fields::of(&json!({"z": 1}), "struct T", &["a", "b", "c"]).unwrap_err();
        assert_eq!(e, "unknown field `z`, expected one of `a`, `b`, `c`");
        assert!(Fields::open(&json!({"z": 1}), "struct T").is_ok());
    }

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(u8::read(&json!(255)), Ok(255));
        assert_eq!(
            u8::read(&json!(256)).unwrap_err(),
            "invalid value: integer `256`, expected u8"
        );
        assert_eq!(
            u32::read(&json!(-1)).unwrap_err(),
            "invalid value: integer `-1`, expected u32"
        );
        assert_eq!(i64::read(&json!(-5)), Ok(-5));
        assert_eq!(u64::read(&json!(u64::MAX)), Ok(u64::MAX));
        assert_eq!(
            i64::read(&json!(u64::MAX)).unwrap_err(),
            format!("invalid value: integer `{}`, expected i64", u64::MAX)
        );
        assert_eq!(
            u32::read(&json!(1.5)).unwrap_err(),
            "invalid type: floating point, expected u32"
        );
        assert_eq!(
            usize::read(&json!(true)).unwrap_err(),
            "invalid type: boolean `true`, expected usize"
        );
    }

    #[test]
    fn sequences_maps_and_variants() {
        assert_eq!(
            Vec::<String>::read(&json!(["a", "b"])),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
        assert!(Vec::<String>::read(&json!(["a", 1])).is_err());
        let m = SortedMap::<String, u32>::read(&json!({"b": 2, "a": 1})).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        let vs = [("x", 1), ("y", 2)];
        assert_eq!(variant(&json!("y"), &vs), Ok(2));
        assert_eq!(
            variant(&json!("z"), &vs).unwrap_err(),
            "unknown variant `z`, expected `x` or `y`"
        );
    }
}
