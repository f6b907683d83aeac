//! Body checks: size, media type, strict JSON (depth bomb, duplicate keys),
//! every schema keyword with field paths, and path/query parameters.

use edgeguard_core::schema::{is_email, is_uuid, parse_json_strict, BodyRules, ParamRules, Schema};
use edgeguard_core::ErrorCode;
use edgeguard_core::sorted_map::SortedMap;
use serde_json::{json, Value};

fn errors(schema: Value, value: Value) -> Vec<String> {
    Schema::from_value(&schema)
        .unwrap()
        .validate(&value)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn body(section: Value) -> BodyRules {
    BodyRules::from_value(Some(&section)).unwrap()
}

const JSON: Option<&str> = Some("application/json");

#[test]
fn keyword_type() {
    for (ty, good, bad) in [
        ("string", json!("x"), json!(1)),
        ("number", json!(1.5), json!("1")),
        ("integer", json!(3), json!(3.5)),
        ("boolean", json!(true), json!(0)),
        ("null", json!(null), json!(false)),
        ("array", json!([]), json!({})),
        ("object", json!({}), json!([])),
    ] {
        assert!(errors(json!({"type": ty}), good).is_empty(), "{ty}");
        let e = errors(json!({"type": ty}), bad);
        assert_eq!(e.len(), 1, "{ty}");
        assert!(e[0].starts_with("/: must be "), "{e:?}");
    }
    assert!(errors(json!({"type": "integer"}), json!(4.0)).is_empty());
    assert!(errors(json!({"type": ["string", "null"]}), json!(null)).is_empty());
    assert_eq!(
        errors(json!({"type": ["string", "null"]}), json!(1)),
        vec!["/: must be a string or null"]
    );
}

#[test]
fn keyword_required_properties_additional() {
    let s = json!({
        "type": "object",
        "required": ["email", "name"],
        "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "a/b~c": {"type": "integer"}},
        "additionalProperties": false
    });
    assert!(errors(s.clone(), json!({"email": "a@b.co", "name": "n"})).is_empty());
    let e = errors(s.clone(), json!({"email": 5, "extra": 1, "a/b~c": "x"}));
    assert!(e.contains(&"/name: is required".to_string()), "{e:?}");
    assert!(e.contains(&"/email: must be a string".to_string()), "{e:?}");
    assert!(e.contains(&"/extra: is not allowed".to_string()), "{e:?}");
    assert!(
        e.contains(&"/a~1b~0c: must be an integer".to_string()),
        "{e:?}"
    );
    // default additionalProperties = true; schema form applies to extras.
    assert!(errors(json!({"type": "object"}), json!({"x": 1})).is_empty());
    let typed = json!({"type": "object", "additionalProperties": {"type": "string"}});
    assert_eq!(
        errors(typed, json!({"k": 1, "j": "ok"})),
        vec!["/k: must be a string"]
    );
}

#[test]
fn keyword_enum_lengths_numbers_pattern_items_format() {
    assert!(errors(
        json!({"enum": ["customer", "provider", 1]}),
        json!("provider")
    )
    .is_empty());
    assert_eq!(
        errors(json!({"enum": ["customer"]}), json!("admin")),
        vec!["/: must be one of the allowed values"]
    );
    let len = json!({"type": "string", "minLength": 2, "maxLength": 3});
    assert!(
        errors(len.clone(), json!("éé")).is_empty(),
        "characters, not bytes"
    );
    assert_eq!(
        errors(len.clone(), json!("a")),
        vec!["/: must be at least 2 characters"]
    );
    assert_eq!(
        errors(len, json!("abcd")),
        vec!["/: must be at most 3 characters"]
    );
    let num = json!({"type": "number", "minimum": 1, "maximum": 10.5});
    assert!(errors(num.clone(), json!(1)).is_empty());
    assert!(errors(num.clone(), json!(10.5)).is_empty());
    assert_eq!(errors(num.clone(), json!(0.99)), vec!["/: must be >= 1"]);
    assert_eq!(errors(num, json!(11)), vec!["/: must be <= 10.5"]);
    let pat = json!({"type": "string", "pattern": "^[a-z]+$"});
    assert!(errors(pat.clone(), json!("abc")).is_empty());
    assert_eq!(errors(pat, json!("ab1")), vec!["/: must match the pattern"]);
    assert!(
        errors(json!({"pattern": "b"}), json!("abc")).is_empty(),
        "unanchored search"
    );
    let arr = json!({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string", "format": "uuid"}});
    assert!(errors(arr.clone(), json!(["0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c"])).is_empty());
    assert_eq!(
        errors(arr.clone(), json!([])),
        vec!["/: must have at least 1 items"]
    );
    assert_eq!(
        errors(arr.clone(), json!(["a", "b", "c"]))[0],
        "/: must have at most 2 items"
    );
    assert_eq!(
        errors(arr, json!(["0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c", "nope"])),
        vec!["/1: must be a UUID"]
    );
    assert_eq!(
        errors(json!({"format": "email"}), json!("not-an-email")),
        vec!["/: must be an email address"]
    );
}

#[test]
fn nested_paths_and_value_free_messages() {
    let s = json!({"type": "object", "properties": {"user": {"type": "object", "properties": {
        "emails": {"type": "array", "items": {"type": "string", "format": "email", "maxLength": 254}}}}}});
    let e = errors(
        s,
        json!({"user": {"emails": ["a@example.com", "secret-token-value"]}}),
    );
    assert_eq!(e, vec!["/user/emails/1: must be an email address"]);
    assert!(!e[0].contains("secret-token-value"));
}

#[test]
fn error_count_is_capped() {
    let s = json!({"type": "array", "items": {"type": "string"}});
    let many: Vec<Value> = (0..1000).map(|i| json!(i)).collect();
    assert_eq!(
        errors(s, Value::Array(many)).len(),
        edgeguard_core::schema::MAX_ERRORS
    );
}

#[test]
fn formats() {
    assert!(is_uuid("0B7C6F3E-2A7D-4A53-9C1E-3F2D8F0A1B2C"));
    for bad in [
        "0b7c6f3e2a7d4a539c1e3f2d8f0a1b2c",
        "0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2",
        "g b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c",
        "",
    ] {
        assert!(!is_uuid(bad), "{bad}");
    }
    for good in [
        "a@example.com",
        "first.last+tag@sub.example.co.uk",
        "x_y@a-b.io",
    ] {
        assert!(is_email(good), "{good}");
    }
    let long_local = format!("{}@example.com", "a".repeat(65));
    for bad in [
        "",
        "a",
        "@example.com",
        "a@",
        "a@b",
        "a..b@example.com",
        ".a@example.com",
        "a@-x.com",
        "a b@example.com",
        "a@example..com",
        "\"q\"@example.com",
        "a@[127.0.0.1]",
        "a@1.2.3.4",
        &long_local,
    ] {
        assert!(!is_email(bad), "{bad}");
    }
}

#[test]
fn invalid_schemas_are_misconfigured() {
    for s in [
        json!({"type": "strng"}),
        json!({"type": []}),
        json!({"format": "date"}),
        json!({"pattern": "("}),
        json!({"minLength": 3, "maxLength": 2}),
        json!({"minItems": 3, "maxItems": 2}),
        json!({"enum": []}),
        json!({"oneOf": []}),
        json!({"properties": {"a": {"tpye": "string"}}}),
        json!({"minimum": "1"}),
        json!({"additionalProperties": "no"}),
    ] {
        assert_eq!(
            Schema::from_value(&s).unwrap_err().code,
            ErrorCode::Misconfigured,
            "{s}"
        );
    }
}

#[test]
fn strict_parse_depth_bomb_duplicates_and_garbage() {
    assert_eq!(
        parse_json_strict(br#"{"a":[1,{"b":null}]}"#, 32).unwrap(),
        json!({"a": [1, {"b": null}]})
    );
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(parse_json_strict(deep(32).as_bytes(), 32).is_ok());
    let e = parse_json_strict(deep(33).as_bytes(), 32).unwrap_err();
    assert_eq!(
        (e.code, e.reason.as_str()),
        (ErrorCode::InvalidBody, "JSON nested too deeply")
    );
    // A bomb far beyond serde_json's own recursion limit is refused, not a crash.
    let e = parse_json_strict(deep(100_000).as_bytes(), 32).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidBody);
    let objs = format!("{}1{}", "{\"a\":".repeat(40), "}".repeat(40));
    assert_eq!(
        parse_json_strict(objs.as_bytes(), 32).unwrap_err().reason,
        "JSON nested too deeply"
    );
    let e = parse_json_strict(br#"{"role":"user","role":"admin"}"#, 32).unwrap_err();
    assert_eq!(
        (e.code, e.reason.as_str()),
        (ErrorCode::InvalidBody, "duplicate key in JSON object")
    );
    assert!(
        parse_json_strict(br#"{"a":{"x":1},"b":{"x":2}}"#, 32).is_ok(),
        "same key in different objects is fine"
    );
    assert_eq!(
        parse_json_strict(br#"{"a":{"x":1,"x":2}}"#, 32)
            .unwrap_err()
            .reason,
        "duplicate key in JSON object"
    );
    for bad in [
        &b"{"[..],
        b"",
        b"{} {}",
        b"[1,]",
        b"{'a':1}",
        b"NaN",
        b"\xff\xfe",
        b"{\"a\":1}x",
        b"01",
    ] {
        let e = parse_json_strict(bad, 32).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidBody, "{bad:?}");
    }
}

#[test]
fn body_pipeline_codes() {
    let b = body(
        json!({"max_bytes": 64, "schema": {"type": "object", "required": ["email"],
        "properties": {"email": {"type": "string", "format": "email"}}, "additionalProperties": false}}),
    );
    assert_eq!(b.max_bytes(), 64);
    assert_eq!(
        b.check(JSON, br#"{"email":"a@example.com"}"#).unwrap(),
        json!({"email": "a@example.com"})
    );
    assert!(b
        .check(
            Some("Application/JSON; charset=UTF-8"),
            br#"{"email":"a@example.com"}"#
        )
        .is_ok());
    let code = |ct: Option<&str>, bytes: &[u8]| b.check(ct, bytes).unwrap_err().denial.code;
    assert_eq!(code(JSON, &[b' '; 65]), ErrorCode::PayloadTooLarge);
    assert_eq!(
        code(None, br#"{"email":"a@example.com"}"#),
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(
        code(Some("text/plain"), br#"{"email":"a@example.com"}"#),
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(
        code(Some("application/json; charset=latin1"), b"{}"),
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(
        code(Some("application/jsonx"), b"{}"),
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(code(JSON, b"{\"email\":"), ErrorCode::InvalidBody);
    assert_eq!(code(JSON, b""), ErrorCode::InvalidBody);
    let e = b.check(JSON, br#"{"email":"nope","x":1}"#).unwrap_err();
    assert_eq!(e.denial.code, ErrorCode::ValidationFailed);
    assert_eq!(e.denial.code.status(), 422);
    let paths: Vec<&str> = e.details.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["/email", "/x"]);
    // No schema: empty body is null, any JSON passes.
    let plain = BodyRules::from_value(None).unwrap();
    assert_eq!(plain.check(None, b"").unwrap(), Value::Null);
    assert_eq!(plain.check(JSON, b"[1]").unwrap(), json!([1]));
    assert_eq!(plain.max_bytes(), 1 << 20);
    for bad in [
        json!({"max_bytes": 0}),
        json!({"max_depth": 65}),
        json!({"content_types": ["text/html"]}),
        json!({"content_types": []}),
        json!({"content_types": ["application/*"]}),
        json!({"schema": {"type": 1}}),
        json!({"size": 1}),
    ] {
        assert_eq!(
            BodyRules::from_value(Some(&bad)).unwrap_err().code,
            ErrorCode::Misconfigured,
            "{bad}"
        );
    }
}

#[test]
fn params_and_query() {
    let p = ParamRules::from_values(
        Some(&json!({"id": {"type": "string", "format": "uuid"}})),
        Some(
            &json!({"properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "active": {"type": "boolean"}, "q": {"type": "string", "maxLength": 5}},
            "required": ["limit"], "additionalProperties": false}),
        ),
    )
    .unwrap();
    let mut path = SortedMap::new();
    path.insert(
        "id".to_string(),
        "0b7c6f3e-2a7d-4a53-9c1e-3f2d8f0a1b2c".to_string(),
    );
    assert!(p.check(&path, "limit=10&active=true&q=a%20b").is_ok());
    let paths = |path: &SortedMap<String, String>, q: &str| -> Vec<String> {
        p.check(path, q)
            .unwrap_err()
            .details
            .iter()
            .map(|d| d.to_string())
            .collect()
    };
    assert_eq!(paths(&path, "limit=0"), vec!["/query/limit: must be >= 1"]);
    assert_eq!(
        paths(&path, "limit=ten"),
        vec!["/query/limit: must be an integer"]
    );
    assert_eq!(
        paths(&path, "limit=1.5"),
        vec!["/query/limit: must be an integer"]
    );
    assert_eq!(
        paths(&path, "limit=1&active=yes"),
        vec!["/query/active: must be a boolean"]
    );
    assert_eq!(
        paths(&path, "limit=1&limit=2"),
        vec!["/query/limit: must not be repeated"]
    );
    assert_eq!(
        paths(&path, "limit=1&x=2"),
        vec!["/query/x: is not allowed"]
    );
    assert_eq!(paths(&path, ""), vec!["/query/limit: is required"]);
    assert_eq!(
        paths(&path, "limit=1&q=toolong"),
        vec!["/query/q: must be at most 5 characters"]
    );
    let mut bad = SortedMap::new();
    bad.insert("id".to_string(), "../etc/passwd".to_string());
    assert_eq!(paths(&bad, "limit=1"), vec!["/params/id: must be a UUID"]);
    assert_eq!(
        paths(&SortedMap::new(), "limit=1"),
        vec!["/params/id: is required"]
    );
    let e = p.check(&bad, "limit=1").unwrap_err();
    assert_eq!(e.denial.code, ErrorCode::ValidationFailed);
    // No rules: anything goes.
    assert!(
        ParamRules::from_values(None, None)
            .unwrap()
            .check(&SortedMap::new(), "a=1&a=2&b")
            .is_err(),
        "repeats are always refused"
    );
    assert!(ParamRules::from_values(None, None)
        .unwrap()
        .check(&SortedMap::new(), "a=1&b")
        .is_ok());
}

#[test]
fn number_parameters_follow_the_json_grammar() {
    let p = ParamRules::from_values(
        None,
        Some(&json!({"properties": {"x": {"type": "number", "minimum": -5000, "maximum": 5000}}})),
    )
    .unwrap();
    // In a query string `+` is a space: the plus signs are sent as %2B.
    let query = |v: &str| format!("x={}", v.replace('+', "%2B"));
    for ok in ["1.5", "-2", "007", "1e3", "-2.5E+3", "0.0001"] {
        assert!(p.check(&SortedMap::new(), &query(ok)).is_ok(), "{ok}");
    }
    for bad in ["+1", ".5", "5.", "1e", "--1", "1e400", "1.2.3", "NaN", "inf", "1,5"] {
        let e = p.check(&SortedMap::new(), &query(bad)).unwrap_err();
        let d: Vec<String> = e.details.iter().map(|d| d.to_string()).collect();
        assert_eq!(d, vec!["/query/x: must be a number"], "{bad}");
    }
    let e = p.check(&SortedMap::new(), "x=5000.5").unwrap_err();
    assert_eq!(e.details[0].to_string(), "/query/x: must be <= 5000");
}

#[test]
fn urlencoded_forms_when_listed() {
    let b = body(
        json!({"content_types": ["application/x-www-form-urlencoded", "application/json"], "schema": {
        "type": "object", "required": ["email", "csrf_token"],
        "properties": {"email": {"type": "string", "format": "email"}, "age": {"type": "integer", "minimum": 18}, "csrf_token": {"type": "string"}},
        "additionalProperties": false}}),
    );
    let form = Some("application/x-www-form-urlencoded; charset=utf-8");
    assert_eq!(
        b.check(form, b"email=a%40example.com&age=20&csrf_token=v1.x")
            .unwrap(),
        json!({"email": "a@example.com", "age": "20", "csrf_token": "v1.x"})
    );
    let details = |bytes: &[u8]| -> Vec<String> {
        b.check(form, bytes)
            .unwrap_err()
            .details
            .iter()
            .map(|d| d.to_string())
            .collect()
    };
    assert_eq!(
        details(b"email=a%40example.com&age=12&csrf_token=t"),
        vec!["/age: must be >= 18"]
    );
    assert_eq!(
        details(b"email=x&csrf_token=t&z=1"),
        vec!["/email: must be an email address", "/z: is not allowed"]
    );
    assert_eq!(
        details(b"email=a%40example.com"),
        vec!["/csrf_token: is required"]
    );
    assert_eq!(
        b.check(form, b"email=a&email=b").unwrap_err().denial.code,
        ErrorCode::InvalidBody
    );
    assert_eq!(
        b.check(form, b"email=%FF").unwrap_err().denial.code,
        ErrorCode::InvalidBody
    );
    // JSON-only routes refuse forms.
    let json_only = BodyRules::from_value(None).unwrap();
    assert_eq!(
        json_only.check(form, b"a=1").unwrap_err().denial.code,
        ErrorCode::UnsupportedMediaType
    );
}

// A client chooses how many query parameters and form fields it sends and in
// which order: 20 000 of them, keys descending (the order a one-by-one sorted
// insert would be quadratic for), are read with one sort, and a repeat among
// them is still found.
#[test]
fn many_fields_in_descending_order_are_read_and_repeats_found() {
    let n = 20_000;
    let many: Vec<String> = (0..n).rev().map(|i| format!("k{i:05}=v")).collect();
    let query = many.join("&");
    let open = ParamRules::from_values(None, Some(&json!({}))).unwrap();
    assert!(open.check(&SortedMap::new(), &query).is_ok());
    let repeated = format!("{query}&k00007=w");
    let d = open.check(&SortedMap::new(), &repeated).unwrap_err();
    let details: Vec<String> = d.details.iter().map(|e| e.to_string()).collect();
    assert_eq!(details, vec!["/query/k00007: must not be repeated"]);

    let b = BodyRules::from_value(Some(&json!({"content_types": ["application/x-www-form-urlencoded"]})))
        .unwrap();
    let form = Some("application/x-www-form-urlencoded");
    let value = b.check(form, query.as_bytes()).unwrap();
    assert_eq!(value.as_object().map(|o| o.len()), Some(n));
    assert_eq!(
        b.check(form, repeated.as_bytes()).unwrap_err().denial.code,
        ErrorCode::InvalidBody
    );
}
