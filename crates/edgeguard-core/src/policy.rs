//! The declarative per-function policy (`policy.json` beside each function),
//! parsed and validated before a function serves.
//!
//! ```json
//! { "auth": ["user"],
//!   "routes": [ { "method": "GET", "path": "/me" },
//!               { "method": "POST", "path": "/admin-users/:tenant_id/role", "roles": ["admin"] } ] }
//! ```
//! Route keys are `"<METHOD> <pattern>"`, e.g. `GET /me`; the hardening
//! sections (`limits`, `cors`, `headers`, `body`, `csrf`, per-route `limits`,
//! `body`, `csrf`, `params`, `query`) are validated by their own modules.

use serde::Deserialize;
use serde_json::Value;

/// A validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Default credential modes, e.g. `user`, `publishable:*`, `none`.
    pub auth: Vec<String>,
    /// Whether anonymous sign-ins (`is_anonymous`) are accepted by default.
    pub allow_anonymous: bool,
    /// Leeway for `exp`/`nbf`/`iat`, in seconds.
    pub leeway_seconds: u64,
    /// The routes, in declaration order.
    pub routes: Vec<Route>,
    /// The raw policy, for the sections other modules validate.
    pub raw: Value,
}

/// One route of a policy.
#[derive(Clone, Debug)]
pub struct Route {
    /// `GET`, `POST`, … or `*`.
    pub method: String,
    /// The pattern's segments; `:name` segments capture.
    pub segments: Vec<Segment>,
    /// `"<METHOD> <pattern>"`.
    pub key: String,
    /// Credential modes for this route.
    pub auth: Vec<String>,
    /// Roles of which the caller must hold at least one (by the ladder).
    pub roles: Vec<String>,
    /// Permissions the caller must all hold.
    pub permissions: Vec<String>,
}

/// A path pattern segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A literal segment.
    Literal(String),
    /// A `:name` capture.
    Param(String),
}

/// Why a policy was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "policy: {}", self.0)
    }
}

impl std::error::Error for PolicyError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // sections validated by their own modules
struct RawPolicy {
    #[serde(default)]
    auth: Option<Vec<String>>,
    #[serde(default)]
    allow_anonymous: bool,
    #[serde(default)]
    leeway_seconds: Option<u64>,
    routes: Vec<RawRoute>,
    #[serde(default)]
    limits: Option<Value>,
    #[serde(default)]
    cors: Option<Value>,
    #[serde(default)]
    headers: Option<Value>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    csrf: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // sections validated by their own modules
struct RawRoute {
    method: String,
    path: String,
    #[serde(default)]
    auth: Option<Vec<String>>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    limits: Option<Value>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    csrf: Option<Value>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    query: Option<Value>,
}

const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"];

impl Policy {
    /// Parses and validates a policy document.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let raw_value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError(format!("not JSON: {e}")))?;
        let raw: RawPolicy = serde_json::from_value(raw_value.clone())
            .map_err(|e| PolicyError(e.to_string()))?;
        let auth = raw.auth.unwrap_or_else(|| vec!["user".to_string()]);
        validate_modes(&auth, "auth")?;
        if raw.routes.is_empty() {
            return Err(PolicyError("routes: at least one route is required".into()));
        }
        let mut routes = Vec::with_capacity(raw.routes.len());
        for (i, r) in raw.routes.into_iter().enumerate() {
            let method = r.method.to_ascii_uppercase();
            if !METHODS.contains(&method.as_str()) {
                return Err(PolicyError(format!("routes[{i}].method: unknown method {:?}", r.method)));
            }
            let segments = parse_pattern(&r.path)
                .map_err(|m| PolicyError(format!("routes[{i}].path: {m}")))?;
            let route_auth = r.auth.unwrap_or_else(|| auth.clone());
            validate_modes(&route_auth, &format!("routes[{i}].auth"))?;
            if route_auth.iter().all(|m| m == "none")
                && (!r.roles.is_empty() || !r.permissions.is_empty())
            {
                return Err(PolicyError(format!(
                    "routes[{i}]: roles or permissions need a user credential, but auth is none"
                )));
            }
            let key = format!("{method} {}", r.path);
            if routes.iter().any(|x: &Route| x.key == key) {
                return Err(PolicyError(format!("routes[{i}]: duplicate route {key}")));
            }
            routes.push(Route {
                method,
                segments,
                key,
                auth: route_auth,
                roles: r.roles,
                permissions: r.permissions,
            });
        }
        Ok(Policy {
            auth,
            allow_anonymous: raw.allow_anonymous,
            leeway_seconds: raw.leeway_seconds.unwrap_or(30),
            routes,
            raw: raw_value,
        })
    }

    /// Finds the route for `method` and `path`: the route and its captures,
    /// or `NotFound` / `MethodNotAllowed`.
    pub fn match_route(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&Route, Vec<(String, String)>), crate::Denial> {
        let mut path_matched = false;
        for route in &self.routes {
            if let Some(params) = match_segments(&route.segments, path) {
                path_matched = true;
                if route.method == "*" || route.method.eq_ignore_ascii_case(method) {
                    return Ok((route, params));
                }
            }
        }
        Err(if path_matched {
            crate::Denial::new(crate::ErrorCode::MethodNotAllowed, "no route for this method")
        } else {
            crate::Denial::new(crate::ErrorCode::NotFound, "no such route")
        })
    }
}

fn validate_modes(modes: &[String], at: &str) -> Result<(), PolicyError> {
    if modes.is_empty() {
        return Err(PolicyError(format!("{at}: at least one mode is required")));
    }
    for m in modes {
        let (kind, name) = m.split_once(':').map_or((m.as_str(), None), |(k, n)| (k, Some(n)));
        let ok = match kind {
            "user" | "none" => name.is_none(),
            "publishable" | "secret" => name.is_none_or(|n| {
                n == "*" || (!n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            }),
            _ => false,
        };
        if !ok {
            return Err(PolicyError(format!("{at}: unknown auth mode {m:?}")));
        }
    }
    if modes.iter().any(|m| m == "none") && modes.len() > 1 {
        return Err(PolicyError(format!("{at}: none cannot be combined with other modes")));
    }
    Ok(())
}

fn parse_pattern(path: &str) -> Result<Vec<Segment>, String> {
    let rest = path.strip_prefix('/').ok_or("must start with /")?;
    let mut out = Vec::new();
    for seg in rest.split('/') {
        if seg.is_empty() {
            return Err("empty segment".into());
        }
        if let Some(name) = seg.strip_prefix(':') {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("bad parameter {seg:?}"));
            }
            out.push(Segment::Param(name.to_string()));
        } else {
            if !seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)) {
                return Err(format!("bad segment {seg:?}"));
            }
            out.push(Segment::Literal(seg.to_string()));
        }
    }
    Ok(out)
}

fn match_segments(pattern: &[Segment], path: &str) -> Option<Vec<(String, String)>> {
    let rest = path.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() != pattern.len() {
        return None;
    }
    let mut params = Vec::new();
    for (seg, part) in pattern.iter().zip(parts) {
        match seg {
            Segment::Literal(l) if l == part => {}
            Segment::Param(name) if !part.is_empty() => params.push((name.clone(), part.to_string())),
            _ => return None,
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_params_and_methods() {
        let p = Policy::from_json(
            r#"{"auth":["user"],"routes":[{"method":"GET","path":"/me"},{"method":"POST","path":"/admin-users/:tenant_id/role","roles":["admin"]}]}"#,
        )
        .unwrap();
        assert_eq!(p.match_route("GET", "/me").unwrap().0.key, "GET /me");
        let (r, params) = p.match_route("POST", "/admin-users/t1/role").unwrap();
        assert_eq!(r.key, "POST /admin-users/:tenant_id/role");
        assert_eq!(params, vec![("tenant_id".to_string(), "t1".to_string())]);
        assert_eq!(p.match_route("POST", "/me").unwrap_err().code, crate::ErrorCode::MethodNotAllowed);
        assert_eq!(p.match_route("GET", "/nope").unwrap_err().code, crate::ErrorCode::NotFound);
    }

    #[test]
    fn bad_policies_are_refused_with_a_reason() {
        for (doc, needle) in [
            (r#"{"routes":[]}"#, "at least one route"),
            (r#"{"routes":[{"method":"GET","path":"/a"}],"bogus":1}"#, "unknown field"),
            (r#"{"auth":["root"],"routes":[{"method":"GET","path":"/a"}]}"#, "unknown auth mode"),
            (r#"{"auth":["none"],"routes":[{"method":"GET","path":"/a","roles":["admin"]}]}"#, "auth is none"),
            (r#"{"routes":[{"method":"GET","path":"a"}]}"#, "must start with /"),
            (r#"{"routes":[{"method":"GET","path":"/a"},{"method":"GET","path":"/a"}]}"#, "duplicate"),
            (r#"{"auth":["none","user"],"routes":[{"method":"GET","path":"/a"}]}"#, "cannot be combined"),
        ] {
            let e = Policy::from_json(doc).unwrap_err();
            assert!(e.0.contains(needle), "{doc}: {e}");
        }
    }
}
