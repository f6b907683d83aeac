//! The declarative per-function policy (`policy.json` beside each `index.ts`).
//!
//! Parsed and validated here; unknown fields and impossible combinations are
//! refused with a message naming the field, so a function with a bad policy
//! refuses to start.
//!
//! ```json
//! {
//!   "auth": ["user"],                 // default modes (default ["user"]): user | user:<issuer> | apikey | publishable[:name|*] | secret[:name|*] | none
//!   "allow_anonymous": false,         // accept `is_anonymous` users (default false)
//!   "leeway_seconds": 30,             // clock skew for exp/nbf/iat (0..=300, default 30)
//!   "app_metadata_claims": false,     // read user_role/tenant_id/permissions from app_metadata too
//!                                     // (only for projects without the access-token hook)
//!   "audience": "authenticated",      // required `aud` (optional)
//!   "issuer": "https://x.supabase.co/auth/v1", // required `iss` (optional)
//!   "tenant": {"from": "path", "name": "tenant_id"}, // default tenant source (path|query|body|header)
//!   "roles": {"ladder": ["admin","moderator","provider","customer","guest"], "grants": {"admin": ["users:write"]}},
//!   "routes": [
//!     {"method": "GET", "path": "/me"},
//!     {"method": "PATCH", "path": "/admin-users/:tenant_id/members/:user_id",
//!      "roles": ["admin"], "permissions": ["users:write"], "aal": "aal2"}
//!   ],
//!   "limits": {}, "cors": {}, "headers": {}, "body": {}, "csrf": {}   // request checks, passed through (docs/policy.md)
//! }
//! ```
//!
//! Route fields: `method` (`GET`, `POST`, … or `*`), `path` (`/seg/:param/...`,
//! a final `*` matches any rest), and optional `auth`, `roles` (caller's role
//! must be at or above one of them on the ladder), `permissions` (all
//! required), `aal` (`aal1`|`aal2`), `allow_anonymous`, `tenant` (object, or
//! `null` to switch the function default off), and the request-check sections
//! `limits`, `body`, `csrf`, `params`, `query` (passed through).

use serde_json::Value;
use std::fmt;

use crate::json_read::{read_struct, variant, Fields, ReadError, ReadJson};
use crate::sorted_map::{SortedMap, SortedSet};

/// A policy that could not be accepted; the message names the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy: {}", self.0)
    }
}

impl std::error::Error for PolicyError {}

/// Which API key(s) a key mode accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySel {
    /// Only the key named `default` (bare `publishable` / `secret`).
    Default,
    /// The key with this name.
    Named(String),
    /// Any key of the kind (`:*`).
    Any,
}

/// One accepted way to authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// A verified Supabase access token.
    User,
    /// A verified token of the named third-party issuer (`user:<name>`,
    /// configured in `EDGEGUARD_ISSUERS`, docs/issuers.md).
    Issuer(String),
    /// A publishable API key.
    Publishable(KeySel),
    /// A secret API key.
    Secret(KeySel),
    /// A user-issued API key (`x-api-key: egk_…` or `Authorization: Bearer egk_…`,
    /// docs/api-keys.md): acts as its owner, limited to its scopes.
    ApiKey,
    /// No credential.
    None,
}

impl AuthMode {
    /// Whether the mode authenticates a user token (Supabase's or an issuer's).
    pub fn is_user(&self) -> bool {
        matches!(self, AuthMode::User | AuthMode::Issuer(_))
    }
    fn parse(s: &str) -> Option<AuthMode> {
        let sel = |rest: Option<&str>| match rest {
            None => Some(KeySel::Default),
            Some("*") => Some(KeySel::Any),
            Some(n)
                if !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Some(KeySel::Named(n.to_owned()))
            }
            Some(_) => None,
        };
        let (head, rest) = match s.split_once(':') {
            Some((h, r)) => (h, Some(r)),
            None => (s, None),
        };
        match (head, rest) {
            ("user", None) => Some(AuthMode::User),
            ("user", Some(n))
                if !n.is_empty()
                    && n.len() <= 32
                    && n.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    }) =>
            {
                Some(AuthMode::Issuer(n.to_owned()))
            }
            ("none", None) => Some(AuthMode::None),
            ("apikey", None) => Some(AuthMode::ApiKey),
            ("publishable", r) => sel(r).map(AuthMode::Publishable),
            ("secret", r) => sel(r).map(AuthMode::Secret),
            _ => None,
        }
    }
}

/// Where the tenant a request targets is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantFrom {
    /// A `:param` of the route path.
    Path,
    /// A query-string parameter.
    Query,
    /// A top-level field of the JSON body.
    Body,
    /// A request header.
    Header,
}

/// The tenant source: `{"from": "path", "name": "tenant_id"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSource {
    /// Where.
    pub from: TenantFrom,
    /// The parameter, field or header name.
    pub name: String,
}

impl ReadJson for TenantSource {
    fn read(v: &Value) -> Result<Self, ReadError> {
        let f = Fields::of(v, "struct TenantSource", &["from", "name"])?;
        let from = match f.raw("from") {
            Some(v) => variant(
                v,
                &[
                    ("path", TenantFrom::Path),
                    ("query", TenantFrom::Query),
                    ("body", TenantFrom::Body),
                    ("header", TenantFrom::Header),
                ],
            )?,
            None => return Err("missing field `from`".into()),
        };
        Ok(TenantSource { from, name: f.req("name")? })
    }
}

/// The role ladder (highest first) and the permissions each rung grants itself;
/// a rung also holds every permission of the rungs below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles {
    /// Highest first.
    pub ladder: Vec<String>,
    /// Own grants per role.
    pub grants: SortedMap<String, Vec<String>>,
}

impl Default for Roles {
    /// admin > moderator > provider > customer > guest (docs/policy.md).
    fn default() -> Self {
        let g = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut grants = SortedMap::new();
        // The same grants as the `role_permissions` seed in
        // supabase/migrations/20261123000100_tenants.sql, which the access
        // token hook writes into tokens.
        grants.insert("guest".to_owned(), g(&["public:read"]));
        grants.insert("customer".to_owned(), g(&["services:read", "orders:write"]));
        grants.insert("provider".to_owned(), g(&["services:write"]));
        grants.insert(
            "moderator".to_owned(),
            g(&["users:read", "content:moderate"]),
        );
        grants.insert(
            "admin".to_owned(),
            g(&["users:write", "roles:write", "audit:read", "tenants:write"]),
        );
        Roles {
            ladder: g(&["admin", "moderator", "provider", "customer", "guest"]),
            grants,
        }
    }
}

impl Roles {
    /// Rank of a role: 0 is highest; `None` when unknown.
    pub fn rank(&self, role: &str) -> Option<usize> {
        self.ladder.iter().position(|r| r == role)
    }
    /// The lowest rung.
    pub fn lowest(&self) -> Option<&str> {
        self.ladder.last().map(String::as_str)
    }
    /// All permissions a role holds, including inherited ones.
    pub fn permissions_of(&self, role: &str) -> SortedSet<String> {
        let mut out = SortedSet::new();
        if let Some(r) = self.rank(role) {
            for rung in self.ladder.iter().skip(r) {
                if let Some(g) = self.grants.get(rung) {
                    out.extend(g.iter().cloned());
                }
            }
        }
        out
    }
}

/// One segment of a route path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Must equal this text.
    Literal(String),
    /// Captures one segment.
    Param(String),
    /// Final `*`: matches any rest (including nothing).
    Rest,
}

/// A route with everything resolved (function defaults applied).
#[derive(Clone, Debug)]
pub struct Route {
    /// Upper-case method or `*`.
    pub method: String,
    /// The pattern text, e.g. `/admin-users/:tenant_id/members`.
    pub path: String,
    /// Parsed pattern.
    pub segments: Vec<Segment>,
    /// Accepted modes, in order.
    pub auth: Vec<AuthMode>,
    /// Caller must be at or above one of these roles.
    pub roles: Vec<String>,
    /// Caller must hold all of these.
    pub permissions: Vec<String>,
    /// `aal2` required.
    pub require_aal2: bool,
    /// Accept `is_anonymous` users.
    pub allow_anonymous: bool,
    /// Tenant isolation source.
    pub tenant: Option<TenantSource>,
    /// Request-check passthrough.
    pub limits: Option<Value>,
    /// Request-check passthrough.
    pub body: Option<Value>,
    /// Request-check passthrough.
    pub csrf: Option<Value>,
    /// Request-check passthrough (path parameter schema).
    pub params: Option<Value>,
    /// Request-check passthrough (query schema).
    pub query: Option<Value>,
    /// The route key, `"GET /me"` (same as [`Route::label`]).
    pub key: String,
}

impl Route {
    /// `"GET /me"`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
    /// Matches a path, returning captured params.
    pub fn match_path(&self, path: &str) -> Option<SortedMap<String, String>> {
        let mut params = SortedMap::new();
        let mut parts = path.strip_prefix('/')?.split('/');
        let trimmed_root = path == "/";
        for seg in &self.segments {
            match seg {
                Segment::Rest => return Some(params),
                Segment::Literal(l) => {
                    if parts.next()? != l {
                        return None;
                    }
                }
                Segment::Param(n) => {
                    let v = parts.next().filter(|v| !v.is_empty())?;
                    params.insert(n.clone(), percent_decode(v)?);
                }
            }
        }
        match parts.next() {
            None => Some(params),
            Some("") if trimmed_root || self.segments.is_empty() => Some(params),
            Some(_) => None,
        }
    }
}

/// Percent-decodes a URL component (`+` stays `+`); `None` on malformed escapes or non-UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let h = b.get(i + 1..i + 3)?;
            let hs = std::str::from_utf8(h).ok()?;
            out.push(u8::from_str_radix(hs, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Function-level default modes.
    pub auth: Vec<AuthMode>,
    /// Leeway for time claims, seconds.
    pub leeway_seconds: u64,
    /// Whether `user_role`, `tenant_id` and `permissions` may come from
    /// `app_metadata` when the top-level claim is absent. Off by default: the
    /// access-token hook's top-level claims, written from memberships, are the
    /// one source of truth (a removed member's `app_metadata` stays behind).
    pub app_metadata_claims: bool,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Role ladder and grants.
    pub roles: Roles,
    /// Routes, in file order.
    pub routes: Vec<Route>,
    /// Request-check passthrough.
    pub limits: Option<Value>,
    /// Request-check passthrough.
    pub cors: Option<Value>,
    /// Request-check passthrough.
    pub headers: Option<Value>,
    /// Request-check passthrough.
    pub body: Option<Value>,
    /// Request-check passthrough.
    pub csrf: Option<Value>,
    /// The whole document as parsed (the request-check sections read from it).
    pub raw: Value,
}

struct RolesFile {
    ladder: Option<Vec<String>>,
    grants: Option<SortedMap<String, Vec<String>>>,
}

read_struct!(RolesFile { ladder: opt, grants: opt });

struct RouteFile {
    method: String,
    path: String,
    auth: Option<Vec<String>>,
    roles: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    aal: Option<String>,
    allow_anonymous: Option<bool>,
    /// Absent: the function's tenant; `null`: none on this route.
    tenant: Option<Option<TenantSource>>,
    limits: Option<Value>,
    body: Option<Value>,
    csrf: Option<Value>,
    params: Option<Value>,
    query: Option<Value>,
}

impl ReadJson for RouteFile {
    fn read(v: &Value) -> Result<Self, ReadError> {
        let f = Fields::of(
            v,
            "struct RouteFile",
            &[
                "method", "path", "auth", "roles", "permissions", "aal", "allow_anonymous",
                "tenant", "limits", "body", "csrf", "params", "query",
            ],
        )?;
        Ok(RouteFile {
            method: f.req("method")?,
            path: f.req("path")?,
            auth: f.opt("auth")?,
            roles: f.opt("roles")?,
            permissions: f.opt("permissions")?,
            aal: f.opt("aal")?,
            allow_anonymous: f.opt("allow_anonymous")?,
            tenant: if f.has("tenant") { Some(f.opt("tenant")?) } else { None },
            limits: f.opt("limits")?,
            body: f.opt("body")?,
            csrf: f.opt("csrf")?,
            params: f.opt("params")?,
            query: f.opt("query")?,
        })
    }
}

struct PolicyFile {
    auth: Vec<String>,
    allow_anonymous: bool,
    leeway_seconds: Option<u64>,
    app_metadata_claims: bool,
    audience: Option<String>,
    issuer: Option<String>,
    tenant: Option<TenantSource>,
    roles: Option<RolesFile>,
    routes: Vec<RouteFile>,
    limits: Option<Value>,
    cors: Option<Value>,
    headers: Option<Value>,
    body: Option<Value>,
    csrf: Option<Value>,
}

impl ReadJson for PolicyFile {
    fn read(v: &Value) -> Result<Self, ReadError> {
        let f = Fields::of(
            v,
            "struct PolicyFile",
            &[
                "auth", "allow_anonymous", "leeway_seconds", "app_metadata_claims", "audience",
                "issuer", "tenant", "roles", "routes", "limits", "cors", "headers", "body", "csrf",
            ],
        )?;
        Ok(PolicyFile {
            auth: match f.has("auth") {
                true => f.req("auth")?,
                false => vec!["user".to_owned()],
            },
            allow_anonymous: f.or_default("allow_anonymous")?,
            leeway_seconds: f.opt("leeway_seconds")?,
            app_metadata_claims: f.or_default("app_metadata_claims")?,
            audience: f.opt("audience")?,
            issuer: f.opt("issuer")?,
            tenant: f.opt("tenant")?,
            roles: f.opt("roles")?,
            routes: f.req("routes")?,
            limits: f.opt("limits")?,
            cors: f.opt("cors")?,
            headers: f.opt("headers")?,
            body: f.opt("body")?,
            csrf: f.opt("csrf")?,
        })
    }
}

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*",
];

fn err(s: impl Into<String>) -> PolicyError {
    PolicyError(s.into())
}

fn ident_ok(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `resource:action`, lower-case, `*` allowed as action.
pub fn permission_ok(p: &str) -> bool {
    match p.split_once(':') {
        Some((r, a)) => name_ok(r) && (a == "*" || name_ok(a)),
        None => false,
    }
}

fn parse_modes(list: &[String], at: &str) -> Result<Vec<AuthMode>, PolicyError> {
    if list.is_empty() {
        return Err(err(format!("{at}: at least one auth mode is required")));
    }
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let m = AuthMode::parse(s)
            .ok_or_else(|| err(format!("{at}[{i}]: unknown auth mode \"{s}\"")))?;
        if out.contains(&m) {
            return Err(err(format!("{at}[{i}]: duplicate auth mode \"{s}\"")));
        }
        out.push(m);
    }
    if out.len() > 1 && out.contains(&AuthMode::None) {
        return Err(err(format!(
            "{at}: \"none\" cannot be combined with other modes"
        )));
    }
    Ok(out)
}

fn parse_path(p: &str, at: &str) -> Result<Vec<Segment>, PolicyError> {
    if !p.starts_with('/') {
        return Err(err(format!("{at}.path: must start with '/'")));
    }
    if p.contains(['?', '#', '%', ' ']) {
        return Err(err(format!(
            "{at}.path: must not contain '?', '#', '%' or spaces"
        )));
    }
    if p == "/" {
        return Ok(Vec::new());
    }
    let raw: Vec<&str> = p.get(1..).unwrap_or("").split('/').collect();
    let mut segs = Vec::new();
    let mut names = SortedSet::new();
    for (i, s) in raw.iter().enumerate() {
        if s.is_empty() {
            return Err(err(format!("{at}.path: empty segment")));
        }
        if *s == "*" {
            if i + 1 != raw.len() {
                return Err(err(format!("{at}.path: '*' only as the last segment")));
            }
            segs.push(Segment::Rest);
        } else if let Some(n) = s.strip_prefix(':') {
            if !ident_ok(n) {
                return Err(err(format!("{at}.path: bad parameter name \":{n}\"")));
            }
            if !names.insert(n.to_owned()) {
                return Err(err(format!("{at}.path: duplicate parameter \":{n}\"")));
            }
            segs.push(Segment::Param(n.to_owned()));
        } else if s.contains([':', '*']) {
            return Err(err(format!(
                "{at}.path: ':' and '*' only as whole segments"
            )));
        } else {
            segs.push(Segment::Literal((*s).to_owned()));
        }
    }
    Ok(segs)
}

fn check_tenant(t: &TenantSource, segs: &[Segment], at: &str) -> Result<(), PolicyError> {
    let ok = match t.from {
        TenantFrom::Header => {
            !t.name.is_empty()
                && t.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
        _ => !t.name.is_empty() && t.name.len() <= 64,
    };
    if !ok {
        return Err(err(format!("{at}.tenant.name: invalid name")));
    }
    if t.from == TenantFrom::Path
        && !segs
            .iter()
            .any(|s| matches!(s, Segment::Param(n) if *n == t.name))
    {
        return Err(err(format!(
            "{at}.tenant: path has no parameter \":{}\"",
            t.name
        )));
    }
    Ok(())
}

impl Policy {
    /// Parses and validates a policy file.
    pub fn from_json(json: &str) -> Result<Policy, PolicyError> {
        let v = crate::strict_json::parse(json.as_bytes()).map_err(|e| err(e.to_string()))?;
        let f = PolicyFile::read(&v).map_err(err)?;
        let raw = v;
        let auth = parse_modes(&f.auth, "auth")?;
        let leeway = f.leeway_seconds.unwrap_or(30);
        if leeway > 300 {
            return Err(err("leeway_seconds: at most 300"));
        }
        let mut roles = Roles::default();
        if let Some(r) = f.roles {
            if let Some(l) = r.ladder {
                if l.is_empty() {
                    return Err(err("roles.ladder: must not be empty"));
                }
                let mut seen = SortedSet::new();
                for (i, n) in l.iter().enumerate() {
                    if !name_ok(n) {
                        return Err(err(format!("roles.ladder[{i}]: invalid role name \"{n}\"")));
                    }
                    if !seen.insert(n.clone()) {
                        return Err(err(format!("roles.ladder[{i}]: duplicate role \"{n}\"")));
                    }
                }
                roles.grants.retain(|k, _| seen.contains(k));
                roles.ladder = l;
            }
            if let Some(g) = r.grants {
                for (role, perms) in g {
                    if roles.rank(&role).is_none() {
                        return Err(err(format!("roles.grants: unknown role \"{role}\"")));
                    }
                    for p in &perms {
                        if !permission_ok(p) {
                            return Err(err(format!("roles.grants.{role}: bad permission \"{p}\" (want resource:action)")));
                        }
                    }
                    roles.grants.insert(role, perms);
                }
            }
        }
        if let Some(a) = &f.audience {
            if a.is_empty() {
                return Err(err("audience: must not be empty"));
            }
        }
        if let Some(a) = &f.issuer {
            if a.is_empty() {
                return Err(err("issuer: must not be empty"));
            }
        }
        if f.routes.is_empty() {
            return Err(err("routes: at least one route is required"));
        }
        let mut routes: Vec<Route> = Vec::new();
        let mut shapes = SortedSet::new();
        for (i, r) in f.routes.into_iter().enumerate() {
            let at = format!("routes[{i}]");
            let method = r.method.to_ascii_uppercase();
            if !METHODS.contains(&method.as_str()) {
                return Err(err(format!(
                    "{at}.method: \"{}\" is not one of GET POST PUT PATCH DELETE HEAD OPTIONS *",
                    r.method
                )));
            }
            let segments = parse_path(&r.path, &at)?;
            let shape: Vec<String> = segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => l.clone(),
                    Segment::Param(_) => ":".into(),
                    Segment::Rest => "*".into(),
                })
                .collect();
            if !shapes.insert((method.clone(), shape)) {
                return Err(err(format!("{at}: duplicate route {method} {}", r.path)));
            }
            let modes = match &r.auth {
                Some(a) => parse_modes(a, &format!("{at}.auth"))?,
                None => auth.clone(),
            };
            let has_user = modes.iter().any(AuthMode::is_user);
            let rroles = r.roles.unwrap_or_default();
            for (j, n) in rroles.iter().enumerate() {
                if roles.rank(n).is_none() {
                    return Err(err(format!("{at}.roles[{j}]: unknown role \"{n}\"")));
                }
            }
            let perms = r.permissions.unwrap_or_default();
            for (j, p) in perms.iter().enumerate() {
                if !permission_ok(p) {
                    return Err(err(format!(
                        "{at}.permissions[{j}]: bad permission \"{p}\" (want resource:action)"
                    )));
                }
            }
            let require_aal2 = match r.aal.as_deref() {
                None | Some("aal1") => false,
                Some("aal2") => true,
                Some(o) => return Err(err(format!("{at}.aal: \"{o}\" is not aal1 or aal2"))),
            };
            let explicit_tenant = r.tenant.as_ref().is_some_and(Option::is_some);
            let tenant = match r.tenant {
                Some(t) => t,
                None => f.tenant.clone(),
            };
            let needs_user = !rroles.is_empty()
                || !perms.is_empty()
                || require_aal2
                || r.allow_anonymous.is_some()
                || explicit_tenant;
            if needs_user && !has_user {
                return Err(err(format!("{at}: roles, permissions, aal, allow_anonymous and tenant need auth mode \"user\"")));
            }
            // `apikey` callers act as a user (owner, tenant, permissions): not "mixed"
            let mixed = modes
                .iter()
                .any(|m| !matches!(m, AuthMode::User | AuthMode::Issuer(_) | AuthMode::ApiKey));
            if mixed && (!rroles.is_empty() || !perms.is_empty() || require_aal2) {
                return Err(err(format!("{at}: roles/permissions/aal cannot be met by API-key or none modes; split the route or use auth [\"user\"]")));
            }
            if mixed && has_user && tenant.is_some() {
                return Err(err(format!("{at}: tenant isolation cannot be enforced for API-key callers; split the route or set \"tenant\": null")));
            }
            if let Some(t) = &tenant {
                if has_user {
                    check_tenant(t, &segments, &at)?;
                }
            }
            // a file route's rules (docs/policy.md, "Uploads"), refused here with the route named
            if let Some(u) = r.body.as_ref().and_then(|b| b.get("upload")) {
                crate::upload::UploadRules::from_value(u)
                    .map_err(|d| err(format!("{at}.{}", d.reason)))?;
            }
            let key = format!("{method} {}", r.path);
            routes.push(Route {
                key,
                params: r.params,
                query: r.query,
                method,
                path: r.path,
                segments,
                auth: modes,
                roles: rroles,
                permissions: perms,
                require_aal2,
                allow_anonymous: r.allow_anonymous.unwrap_or(f.allow_anonymous),
                tenant: if has_user { tenant } else { None },
                limits: r.limits,
                body: r.body,
                csrf: r.csrf,
            });
        }
        Ok(Policy {
            auth,
            leeway_seconds: leeway,
            app_metadata_claims: f.app_metadata_claims,
            audience: f.audience,
            issuer: f.issuer,
            roles,
            routes,
            limits: f.limits,
            cors: f.cors,
            headers: f.headers,
            body: f.body,
            csrf: f.csrf,
            raw,
        })
    }

    /// [`Policy::route`] with the captures as a list (the wasm facade's shape).
    pub fn match_route(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&Route, Vec<(String, String)>), crate::Denial> {
        self.route(&method.to_ascii_uppercase(), path)
            .map(|(r, p)| (r, p.into_iter().collect()))
    }

    /// Finds the route for a request: `Err(NotFound)` when no path matches,
    /// `Err(MethodNotAllowed)` when a path matches but no method does.
    /// Exact-method routes win over `*` routes; file order otherwise.
    pub fn route(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&Route, SortedMap<String, String>), crate::Denial> {
        use crate::{Denial, ErrorCode};
        let mut path_seen = false;
        let mut wildcard: Option<(&Route, SortedMap<String, String>)> = None;
        for r in &self.routes {
            if let Some(params) = r.match_path(path) {
                path_seen = true;
                if r.method == method {
                    return Ok((r, params));
                }
                if r.method == "*" && wildcard.is_none() {
                    wildcard = Some((r, params));
                }
            }
        }
        match wildcard {
            Some(w) => Ok(w),
            None if path_seen => Err(Denial::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "method {} not allowed on this path",
                    method.chars().take(16).collect::<String>()
                ),
            )),
            None => Err(Denial::new(
                ErrorCode::NotFound,
                "no route matches the path",
            )),
        }
    }
}

/// A policy section read into its typed form: `T` when present, its default
/// when absent or `null`, else a `MISCONFIGURED` denial naming the section.
///
/// The reading is a function of its own, never inlined: V8 compiles wasm
/// lazily, function by function, so a function whose section is absent (most
/// are) does not make a fresh isolate compile the section's reader on its way
/// to the first response (BENCHMARKS.md, "Cold start and footprint").
pub(crate) fn section<T: ReadJson + Default>(
    v: Option<&Value>,
    name: &str,
) -> Result<T, crate::Denial> {
    match v {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => read_section(v, name),
    }
}

#[inline(never)]
fn read_section<T: ReadJson>(v: &Value, name: &str) -> Result<T, crate::Denial> {
    T::read(v)
        .map_err(|e| crate::Denial::new(crate::ErrorCode::Misconfigured, format!("{name}: {e}")))
}
