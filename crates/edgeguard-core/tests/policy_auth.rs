//! Policy validation: every impossible combination is refused with a message
//! naming the field; good policies parse into the expected routes.

use edgeguard_core::policy::{AuthMode, KeySel, Policy, TenantFrom};

#[track_caller]
fn refused(json: &str, part: &str) {
    let e = Policy::from_json(json)
        .expect_err("policy should be refused")
        .to_string();
    assert!(e.starts_with("policy: "), "{e}");
    assert!(e.contains(part), "{e:?} lacks {part:?}");
}

fn route(r: &str) -> String {
    format!(r#"{{"auth":["user"],"routes":[{r}]}}"#)
}

#[test]
fn bad_policies_are_refused() {
    refused(
        r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"}],"extra":1}"#,
        "unknown field `extra`",
    );
    refused(
        &route(r#"{"method":"GET","path":"/me","rolez":["admin"]}"#),
        "unknown field `rolez`",
    );
    refused(
        r#"{"routes":[{"method":"GET","path":"/me","roles":["admin"]}],"auth":["secret"]}"#,
        "need auth mode",
    );
    refused(
        r#"{"auth":[],"routes":[{"method":"GET","path":"/me"}]}"#,
        "auth: at least one auth mode",
    );
    refused(
        r#"{"auth":["root"],"routes":[{"method":"GET","path":"/me"}]}"#,
        "auth[0]: unknown auth mode \"root\"",
    );
    refused(
        r#"{"auth":["none","user"],"routes":[{"method":"GET","path":"/me"}]}"#,
        "\"none\" cannot be combined",
    );
    refused(
        r#"{"auth":["user","user"],"routes":[{"method":"GET","path":"/me"}]}"#,
        "duplicate auth mode",
    );
    refused(
        r#"{"auth":["secret:"],"routes":[{"method":"GET","path":"/me"}]}"#,
        "unknown auth mode",
    );
    refused(r#"{"auth":["user"],"routes":[]}"#, "at least one route");
    refused(
        &route(r#"{"method":"GET","path":"/x","roles":["root"]}"#),
        "routes[0].roles[0]: unknown role \"root\"",
    );
    refused(
        &route(r#"{"method":"GET","path":"/x","permissions":["users"]}"#),
        "routes[0].permissions[0]: bad permission",
    );
    refused(
        &route(r#"{"method":"GET","path":"/x","auth":["secret"],"permissions":["users:read"]}"#),
        "need auth mode \"user\"",
    );
    refused(
        &route(r#"{"method":"GET","path":"/x","auth":["none"],"roles":["admin"]}"#),
        "need auth mode \"user\"",
    );
    refused(
        &route(r#"{"method":"GET","path":"/x","auth":["user","secret"],"roles":["admin"]}"#),
        "cannot be met by API-key",
    );
    refused(
        &route(r#"{"method":"GET","path":"/x","aal":"aal3"}"#),
        "routes[0].aal",
    );
    refused(
        &route(r#"{"method":"FETCH","path":"/x"}"#),
        "routes[0].method",
    );
    refused(
        &route(r#"{"method":"GET","path":"x"}"#),
        "must start with '/'",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a//b"}"#),
        "empty segment",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a/:1x"}"#),
        "bad parameter name",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a/:id/:id"}"#),
        "duplicate parameter",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a/*/b"}"#),
        "'*' only as the last segment",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a?b=1"}"#),
        "must not contain",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a:b"}"#),
        "whole segments",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a/:x"},{"method":"GET","path":"/a/:y"}"#),
        "routes[1]: duplicate route GET /a/:y",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a","tenant":{"from":"path","name":"tenant_id"}}"#),
        "path has no parameter \":tenant_id\"",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a","tenant":{"from":"cookie","name":"t"}}"#),
        "unknown variant `cookie`",
    );
    refused(
        &route(r#"{"method":"GET","path":"/a","tenant":{"from":"query","name":""}}"#),
        "tenant.name",
    );
    refused(
        r#"{"auth":["user"],"tenant":{"from":"path","name":"tid"},"routes":[{"method":"GET","path":"/me"}]}"#,
        "routes[0].tenant: path has no parameter",
    );
    refused(
        r#"{"auth":["user"],"leeway_seconds":3600,"routes":[{"method":"GET","path":"/me"}]}"#,
        "leeway_seconds",
    );
    refused(
        r#"{"auth":["user"],"roles":{"ladder":["a","a"]},"routes":[{"method":"GET","path":"/me"}]}"#,
        "duplicate role",
    );
    refused(
        r#"{"auth":["user"],"roles":{"ladder":[]},"routes":[{"method":"GET","path":"/me"}]}"#,
        "must not be empty",
    );
    refused(
        r#"{"auth":["user"],"roles":{"grants":{"root":["a:b"]}},"routes":[{"method":"GET","path":"/me"}]}"#,
        "roles.grants: unknown role \"root\"",
    );
    refused(
        r#"{"auth":["user"],"roles":{"grants":{"admin":["nope"]}},"routes":[{"method":"GET","path":"/me"}]}"#,
        "bad permission",
    );
    refused(
        r#"{"auth":["user"],"roles":{"lader":[]},"routes":[{"method":"GET","path":"/me"}]}"#,
        "unknown field `lader`",
    );
    refused(
        r#"{"auth":["user"],"auth":["none"],"routes":[{"method":"GET","path":"/me"}]}"#,
        "duplicate JSON key",
    );
    refused(
        r#"{"auth":["user"],"audience":"","routes":[{"method":"GET","path":"/me"}]}"#,
        "audience",
    );
    refused("not json", "not valid JSON");
}

#[test]
fn good_policy_parses_with_defaults_and_passthrough() {
    let p = Policy::from_json(
        r#"{"auth":["user","publishable:web","secret:*"],
            "tenant":{"from":"path","name":"tenant_id"},
            "limits":{"rpm":60},"cors":{"origins":["https://a"]},"headers":{},"body":{"max":1024},
            "routes":[
              {"method":"GET","path":"/admin-users/:tenant_id/members","auth":["user"],"roles":["admin"],"limits":{"rpm":5},"csrf":true},
              {"method":"*","path":"/files/*","auth":["secret:cron"]},
              {"method":"GET","path":"/me","auth":["user"],"tenant":null}
            ]}"#,
    )
    .unwrap();
    assert_eq!(p.leeway_seconds, 30);
    assert_eq!(
        p.auth,
        vec![
            AuthMode::User,
            AuthMode::Publishable(KeySel::Named("web".into())),
            AuthMode::Secret(KeySel::Any)
        ]
    );
    assert_eq!(
        p.routes[0].tenant.as_ref().map(|t| t.from),
        Some(TenantFrom::Path)
    );
    assert_eq!(p.routes[0].limits, Some(serde_json::json!({"rpm":5})));
    assert_eq!(
        p.routes[1].tenant, None,
        "API-key routes have no tenant isolation"
    );
    assert_eq!(
        p.routes[2].tenant, None,
        "tenant: null switches the default off"
    );
    assert_eq!(p.limits, Some(serde_json::json!({"rpm":60})));
    assert_eq!(
        p.roles.ladder,
        ["admin", "moderator", "provider", "customer", "guest"]
    );
    assert!(p.roles.permissions_of("admin").contains("services:read"));
    assert!(!p.roles.permissions_of("guest").contains("users:read"));
    let (r, params) = p.route("GET", "/admin-users/t%201/members").unwrap();
    assert_eq!(r.label(), "GET /admin-users/:tenant_id/members");
    assert_eq!(params.get("tenant_id").map(String::as_str), Some("t 1"));
    assert_eq!(
        p.route("PUT", "/files/a/b/c").unwrap().0.label(),
        "* /files/*"
    );
    assert_eq!(p.route("PUT", "/files").unwrap().0.label(), "* /files/*");
    assert_eq!(
        p.route("POST", "/me").unwrap_err().code.as_str(),
        "METHOD_NOT_ALLOWED"
    );
    assert_eq!(
        p.route("GET", "/mee").unwrap_err().code.as_str(),
        "NOT_FOUND"
    );
    assert_eq!(
        p.route("GET", "/admin-users/%zz/members")
            .unwrap_err()
            .code
            .as_str(),
        "NOT_FOUND"
    );
}

/// Every shipped function's policy.json is accepted.
#[test]
fn shipped_policies_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../supabase/functions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path().join("policy.json");
        if let Ok(text) = std::fs::read_to_string(&p) {
            Policy::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    assert!(n > 0);
}
