//! Third-party token issuers trusted next to Supabase Auth (Clerk, Auth0,
//! WorkOS, …), configured once per deployment in `EDGEGUARD_ISSUERS`
//! (docs/issuers.md).
//!
//! Each issuer has its own `iss`, its own JWKS (fetched by the shim from a URL
//! checked by the one JWKS-URL rule, [`super::config::check_jwks_url`]) kept in
//! its own [`JwksCache`], its accepted asymmetric algorithms, optional
//! `aud` / `azp` allow-lists, and a claim mapping from its tokens to
//! edgeguard's identity (`sub`, `tenant_id`, `user_role`, `permissions`,
//! `email`). A token is routed to an issuer by its (unverified) `iss` before
//! any key is tried, and is then verified with that issuer's keys only.

use super::cache::JwksCache;
use super::config::check_jwks_url;
use super::keys::Alg;
use crate::app_env::AppEnv;
use crate::json_read::{read_struct, ReadJson};
use crate::sorted_map::SortedMap;
use serde_json::{Map, Value};

/// The environment variable holding the issuers (a JSON object, name → issuer).
pub const ISSUERS_ENV: &str = "EDGEGUARD_ISSUERS";

/// At most this many third-party issuers (bounded work and memory per gate).
pub const MAX_ISSUERS: usize = 8;

/// A dotted claim path (`org_id`, `o.id`, `public_metadata.permissions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPath(Vec<String>);

impl ClaimPath {
    fn parse(s: &str) -> Option<ClaimPath> {
        let parts: Vec<String> = s.split('.').map(str::to_owned).collect();
        let ok = !s.is_empty()
            && parts.len() <= 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 64
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        ok.then_some(ClaimPath(parts))
    }
    /// The value at this path in `claims`, `None` when absent or `null`.
    pub fn get<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.0.split_first()?;
        let mut v = claims.get(first)?;
        for p in rest {
            v = v.as_object()?.get(p)?;
        }
        (!v.is_null()).then_some(v)
    }
}

/// Where each identity field is read from in the issuer's tokens: the first
/// path present wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimMap {
    /// The subject (default `["sub"]`); required in every token.
    pub sub: Vec<ClaimPath>,
    /// The tenant (e.g. Clerk's `org_id`, v2 `o.id`); none configured: no tenant.
    pub tenant_id: Vec<ClaimPath>,
    /// The issuer's role (e.g. `org_role`, v2 `o.rol`), looked up in [`Issuer::roles`].
    pub role: Vec<ClaimPath>,
    /// Permissions: an array of strings, or one comma-separated string; all
    /// paths present are merged.
    pub permissions: Vec<ClaimPath>,
    /// The e-mail address (default `["email"]`).
    pub email: Vec<ClaimPath>,
}

/// One trusted third-party issuer.
#[derive(Debug)]
pub struct Issuer {
    /// The name routes refer to (`"auth": ["user:clerk"]`).
    pub name: String,
    /// The exact `iss` of its tokens.
    pub iss: String,
    /// Its JWKS URL (checked by the one JWKS-URL rule).
    pub jwks_url: String,
    /// Accepted algorithms (asymmetric only).
    pub algorithms: Vec<Alg>,
    /// Allowed `aud` values (the token's `aud`, string or array, must name
    /// one); empty: not checked.
    pub audience: Vec<String>,
    /// Allowed `azp` values (Clerk: the frontend origin); empty: not checked.
    /// When set, a token without `azp` is refused.
    pub azp: Vec<String>,
    /// Claim paths.
    pub claims: ClaimMap,
    /// The issuer's role value → a role of the policy's ladder. A role
    /// claim whose value is not in this map gives no role (docs/issuers.md).
    pub roles: SortedMap<String, String>,
    /// The role of a token that carries no role claim (e.g. a Clerk session
    /// without an active organization); `None`: no role.
    pub default_role: Option<String>,
    /// Stripped from the front of each permission (Clerk: `org:`).
    pub permission_prefix: Option<String>,
    /// The cookie a browser sends the issuer's token in (Clerk: `__session`),
    /// read when the request has no `Authorization` header, on routes that
    /// accept this issuer; such requests are cookie-authenticated, so the
    /// policy's CSRF rule applies to them (docs/issuers.md).
    pub cookie: Option<String>,
    /// Its keys and fetch state (max-age, unknown-kid refetch throttle,
    /// backoff, keys kept while the endpoint is down).
    pub jwks: JwksCache,
}

struct ClaimsFile {
    sub: Option<Vec<String>>,
    tenant_id: Option<Vec<String>>,
    role: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    email: Option<Vec<String>>,
}

read_struct!(ClaimsFile { sub: opt, tenant_id: opt, role: opt, permissions: opt, email: opt });

struct IssuerFile {
    iss: String,
    jwks_url: String,
    algorithms: Vec<String>,
    audience: Vec<String>,
    azp: Vec<String>,
    claims: Option<ClaimsFile>,
    roles: SortedMap<String, String>,
    default_role: Option<String>,
    permission_prefix: Option<String>,
    cookie: Option<String>,
}

read_struct!(IssuerFile {
    iss: req,
    jwks_url: req,
    algorithms: req,
    audience: or_default,
    azp: or_default,
    claims: opt,
    roles: or_default,
    default_role: opt,
    permission_prefix: opt,
    cookie: opt,
});

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn paths(list: Option<Vec<String>>, default: &[&str], at: &str) -> Result<Vec<ClaimPath>, String> {
    let list = list.unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect());
    if list.len() > 8 {
        return Err(format!("{at}: at most 8 claim paths"));
    }
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            ClaimPath::parse(p).ok_or_else(|| {
                format!(
                    "{at}[{i}]: not a claim path (dot-separated names of letters, digits, _ and -)"
                )
            })
        })
        .collect()
}

impl Issuer {
    fn from_file(name: &str, f: IssuerFile, app_env: AppEnv) -> Result<Issuer, String> {
        let at = |field: &str| format!("{ISSUERS_ENV}.{name}.{field}");
        if f.iss.trim().is_empty() || f.iss.len() > 512 {
            return Err(format!("{}: must be a non-empty string", at("iss")));
        }
        check_jwks_url(&f.jwks_url, app_env).map_err(|e| format!("{}: {e}", at("jwks_url")))?;
        if f.algorithms.is_empty() {
            return Err(format!("{}: at least one algorithm", at("algorithms")));
        }
        let mut algorithms = Vec::new();
        for (i, a) in f.algorithms.iter().enumerate() {
            match Alg::from_name(a) {
                Some(Alg::Hs256) => {
                    return Err(format!(
                        "{}[{i}]: HS256 is refused for a third-party issuer (shared secrets are not public keys)",
                        at("algorithms")
                    ))
                }
                Some(alg) if !algorithms.contains(&alg) => algorithms.push(alg),
                Some(_) => return Err(format!("{}[{i}]: duplicate", at("algorithms"))),
                None => {
                    return Err(format!(
                        "{}[{i}]: \"{a}\" is not RS256, ES256 or EdDSA",
                        at("algorithms")
                    ))
                }
            }
        }
        for (field, list) in [("audience", &f.audience), ("azp", &f.azp)] {
            if list.iter().any(|s| s.is_empty() || s.len() > 512) || list.len() > 16 {
                return Err(format!("{}: at most 16 non-empty strings", at(field)));
            }
        }
        let c = f.claims.unwrap_or(ClaimsFile {
            sub: None,
            tenant_id: None,
            role: None,
            permissions: None,
            email: None,
        });
        let claims = ClaimMap {
            sub: paths(c.sub, &["sub"], &at("claims.sub"))?,
            tenant_id: paths(c.tenant_id, &[], &at("claims.tenant_id"))?,
            role: paths(c.role, &[], &at("claims.role"))?,
            permissions: paths(c.permissions, &[], &at("claims.permissions"))?,
            email: paths(c.email, &["email"], &at("claims.email"))?,
        };
        if claims.sub.is_empty() {
            return Err(format!("{}: at least one path", at("claims.sub")));
        }
        if f.roles.len() > 64 {
            return Err(format!("{}: at most 64 roles", at("roles")));
        }
        if let Some(p) = &f.permission_prefix {
            if p.is_empty() || p.len() > 32 {
                return Err(format!("{}: 1 to 32 characters", at("permission_prefix")));
            }
        }
        if let Some(c) = &f.cookie {
            let ok = !c.is_empty()
                && c.len() <= 64
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(format!("{}: 1 to 64 of A-Z a-z 0-9 _ -", at("cookie")));
            }
        }
        Ok(Issuer {
            cookie: f.cookie,
            name: name.to_owned(),
            iss: f.iss,
            jwks_url: f.jwks_url,
            algorithms,
            audience: f.audience,
            azp: f.azp,
            claims,
            roles: f.roles,
            default_role: f.default_role,
            permission_prefix: f.permission_prefix,
            jwks: JwksCache::default(),
        })
    }

    /// Checks that every role this issuer maps to is on the policy's ladder
    /// (`rank` answers a role's rank); the message names the field.
    pub fn check_roles(&self, rank: impl Fn(&str) -> bool) -> Result<(), String> {
        for (from, to) in &self.roles {
            if !rank(to) {
                return Err(format!(
                    "{ISSUERS_ENV}.{}.roles.{from}: \"{to}\" is not a role of the policy's ladder",
                    self.name
                ));
            }
        }
        if let Some(r) = &self.default_role {
            if !rank(r) {
                return Err(format!(
                    "{ISSUERS_ENV}.{}.default_role: \"{r}\" is not a role of the policy's ladder",
                    self.name
                ));
            }
        }
        Ok(())
    }

    /// The `aud` and `azp` allow-lists against verified claims.
    pub fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), String> {
        if !self.audience.is_empty() {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => self.audience.contains(a),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|x| self.audience.iter().any(|w| w == x)),
                _ => false,
            };
            if !ok {
                return Err("audience mismatch".into());
            }
        }
        if !self.azp.is_empty() {
            match claims.get("azp").and_then(Value::as_str) {
                Some(a) if self.azp.iter().any(|w| w == a) => {}
                Some(_) => return Err("authorized party (azp) not allowed".into()),
                None => return Err("token has no azp".into()),
            }
        }
        Ok(())
    }

    fn first_str(&self, paths: &[ClaimPath], claims: &Map<String, Value>) -> Option<String> {
        paths.iter().find_map(|p| match p.get(claims)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    /// Maps verified claims to what edgeguard's identity needs. The role is
    /// `None` when the token's role is not in [`Issuer::roles`] (the caller
    /// then holds no role and no role grants); a token without a role claim
    /// gets [`Issuer::default_role`].
    pub fn map_claims(&self, claims: &Map<String, Value>) -> Result<Mapped, String> {
        let sub = self
            .first_str(&self.claims.sub, claims)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or("token has no sub")?;
        let tenant_id = match self.first_str(&self.claims.tenant_id, claims) {
            None => None,
            Some(t) if tenant_ok(&t) => Some(t),
            Some(_) => return Err("tenant claim is malformed".into()),
        };
        let user_role = match self.first_str(&self.claims.role, claims) {
            None => self.default_role.clone(),
            Some(r) => self.roles.get(&r).cloned(),
        };
        let mut permissions = Vec::new();
        for p in &self.claims.permissions {
            let items: Vec<&str> = match p.get(claims) {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(s)) => s.split(',').map(str::trim).collect(),
                _ => continue,
            };
            for item in items.into_iter().take(256) {
                let item = match &self.permission_prefix {
                    Some(prefix) => item.strip_prefix(prefix.as_str()).unwrap_or(item),
                    None => item,
                };
                if crate::policy::permission_ok(item) {
                    permissions.push(item.to_owned());
                }
            }
        }
        let email = self
            .first_str(&self.claims.email, claims)
            .filter(|e| e.len() <= 320);
        Ok(Mapped {
            sub,
            tenant_id,
            user_role,
            permissions,
            email,
        })
    }
}

/// The first non-empty value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|part| {
        let (n, v) = part.split_once('=')?;
        (n.trim() == name)
            .then(|| v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// An issuer's tenant id as edgeguard keeps it: the issuer's own id (Clerk:
/// `org_…`), 1–128 characters of letters, digits, `_`, `-`, `.`, `:`.
pub fn tenant_ok(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// What [`Issuer::map_claims`] reads from a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The subject.
    pub sub: String,
    /// The issuer's tenant id, verbatim.
    pub tenant_id: Option<String>,
    /// A role of the policy's ladder, or none.
    pub user_role: Option<String>,
    /// `resource:action` permissions from the token (prefix stripped).
    pub permissions: Vec<String>,
    /// The e-mail address.
    pub email: Option<String>,
}

/// Parses `EDGEGUARD_ISSUERS` (absent or empty: no issuers). Duplicate JSON
/// keys and unknown fields are refused; the message names the field, never a
/// value.
pub fn issuers_from_env(
    env: &SortedMap<String, String>,
    app_env: AppEnv,
) -> Result<Vec<Issuer>, String> {
    let Some(json) = env
        .get(ISSUERS_ENV)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    else {
        return Ok(Vec::new());
    };
    parse_issuers(json, app_env)
}

/// `EDGEGUARD_ISSUERS` when set: never inlined into the check above, so a
/// function without third-party issuers (most) never has V8 compile it
/// (`crate::policy::section` says why).
#[inline(never)]
fn parse_issuers(json: &str, app_env: AppEnv) -> Result<Vec<Issuer>, String> {
    let v =
        crate::strict_json::parse(json.as_bytes()).map_err(|e| format!("{ISSUERS_ENV}: {e}"))?;
    let Value::Object(obj) = v else {
        return Err(format!(
            "{ISSUERS_ENV} must be a JSON object of name → issuer"
        ));
    };
    if obj.len() > MAX_ISSUERS {
        return Err(format!("{ISSUERS_ENV}: at most {MAX_ISSUERS} issuers"));
    }
    let mut out: Vec<Issuer> = Vec::new();
    for (name, v) in obj {
        if !name_ok(&name) {
            return Err(format!(
                "{ISSUERS_ENV}: issuer name \"{}\" must be 1-32 of a-z 0-9 _ -",
                name.chars().take(32).collect::<String>()
            ));
        }
        let f: IssuerFile =
            IssuerFile::read(&v).map_err(|e| format!("{ISSUERS_ENV}.{name}: {e}"))?;
        let issuer = Issuer::from_file(&name, f, app_env)?;
        if out.iter().any(|o| o.iss == issuer.iss) {
            return Err(format!(
                "{ISSUERS_ENV}.{name}.iss: another issuer has the same iss"
            ));
        }
        if out.iter().any(|o| o.jwks_url == issuer.jwks_url) {
            return Err(format!(
                "{ISSUERS_ENV}.{name}.jwks_url: another issuer has the same JWKS URL"
            ));
        }
        out.push(issuer);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(json: &str) -> SortedMap<String, String> {
        SortedMap::from([(ISSUERS_ENV.to_owned(), json.to_owned())])
    }

    #[test]
    fn claim_paths_read_nested_values_and_skip_null() {
        let c = json!({"o": {"id": "org_1", "rol": null}, "org_id": null});
        let c = c.as_object().unwrap();
        assert_eq!(
            ClaimPath::parse("o.id").unwrap().get(c),
            Some(&json!("org_1"))
        );
        assert_eq!(ClaimPath::parse("o.rol").unwrap().get(c), None);
        assert_eq!(ClaimPath::parse("org_id").unwrap().get(c), None);
        for bad in ["", "a..b", ".a", "a b", "a.b.c.d.e"] {
            assert!(ClaimPath::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn env_is_validated_field_by_field() {
        let ok = r#"{"clerk":{"iss":"https://c.example","jwks_url":"https://c.example/.well-known/jwks.json","algorithms":["RS256"]}}"#;
        let list = issuers_from_env(&env(ok), AppEnv::Production).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].claims.sub, vec![ClaimPath::parse("sub").unwrap()]);
        let cases = [
            (
                r#"{"clerk":{"iss":"x","jwks_url":"https://c/j","algorithms":["RS256"],"extra":1}}"#,
                "unknown field",
            ),
            (
                r#"{"clerk":{"iss":"x","jwks_url":"http://c.example/j","algorithms":["RS256"]}}"#,
                "jwks_url: JWKS URL must be https",
            ),
            (
                r#"{"clerk":{"iss":"x","jwks_url":"https://c/j","algorithms":["HS256"]}}"#,
                "HS256 is refused",
            ),
            (
                r#"{"clerk":{"iss":"x","jwks_url":"https://c/j","algorithms":[]}}"#,
                "at least one algorithm",
            ),
            (
                r#"{"Clerk":{"iss":"x","jwks_url":"https://c/j","algorithms":["RS256"]}}"#,
                "issuer name",
            ),
            (
                r#"{"a":{"iss":"x","jwks_url":"https://c/j","algorithms":["RS256"]},"b":{"iss":"x","jwks_url":"https://d/j","algorithms":["RS256"]}}"#,
                "same iss",
            ),
            (
                r#"{"a":{"iss":"x","jwks_url":"https://c/j","algorithms":["RS256"]},"a":{"iss":"y","jwks_url":"https://d/j","algorithms":["RS256"]}}"#,
                "duplicate",
            ),
            (
                r#"{"a":{"iss":"x","jwks_url":"https://c/j","algorithms":["RS256"],"claims":{"role":["o..rol"]}}}"#,
                "claims.role[0]",
            ),
            (r#"[1]"#, "JSON object"),
        ];
        for (json, want) in cases {
            let e = issuers_from_env(&env(json), AppEnv::Production).unwrap_err();
            assert!(e.contains(want), "{json}: {e}");
        }
        // Plain http to loopback only outside production (the one JWKS-URL rule).
        let local =
            r#"{"clerk":{"iss":"x","jwks_url":"http://127.0.0.1:9/jwks","algorithms":["RS256"]}}"#;
        assert!(issuers_from_env(&env(local), AppEnv::Development).is_ok());
        assert!(issuers_from_env(&env(local), AppEnv::Production).is_err());
    }

    fn clerk() -> Issuer {
        let cfg = json!({"clerk":{
            "iss":"https://c.example","jwks_url":"https://c.example/j","algorithms":["RS256"],
            "azp":["https://app.example"],
            "claims":{"tenant_id":["org_id","o.id"],"role":["org_role","o.rol"],
                      "permissions":["org_permissions","public_metadata.permissions"]},
            "roles":{"org:admin":"admin","admin":"admin","org:member":"customer","member":"customer"},
            "default_role":"guest","permission_prefix":"org:"}});
        issuers_from_env(&env(&cfg.to_string()), AppEnv::Production)
            .unwrap()
            .pop()
            .unwrap()
    }

    #[test]
    fn clerk_v1_and_v2_claims_map_alike() {
        let i = clerk();
        let v1 = json!({"sub":"user_1","org_id":"org_2x","org_role":"org:admin",
                        "org_permissions":["org:services:write","org:sys_profile:manage:x"],
                        "public_metadata":{"permissions":["bookings:read"]},"email":"a@b.c"});
        let m = i.map_claims(v1.as_object().unwrap()).unwrap();
        assert_eq!(m.sub, "user_1");
        assert_eq!(m.tenant_id.as_deref(), Some("org_2x"));
        assert_eq!(m.user_role.as_deref(), Some("admin"));
        assert_eq!(m.permissions, vec!["services:write", "bookings:read"]);
        assert_eq!(m.email.as_deref(), Some("a@b.c"));
        let v2 = json!({"sub":"user_1","v":2,"o":{"id":"org_2x","rol":"admin","slg":"acme"}});
        let m2 = i.map_claims(v2.as_object().unwrap()).unwrap();
        assert_eq!((m2.tenant_id, m2.user_role), (m.tenant_id, m.user_role));
    }

    #[test]
    fn missing_org_unknown_role_and_bad_tenant() {
        let i = clerk();
        let none = i
            .map_claims(json!({"sub":"user_1"}).as_object().unwrap())
            .unwrap();
        assert_eq!(
            (none.tenant_id, none.user_role.as_deref()),
            (None, Some("guest"))
        );
        let custom = json!({"sub":"user_1","org_id":"org_1","org_role":"org:billing"});
        assert_eq!(
            i.map_claims(custom.as_object().unwrap()).unwrap().user_role,
            None
        );
        let bad = json!({"sub":"user_1","org_id":"org 1; drop"});
        assert_eq!(
            i.map_claims(bad.as_object().unwrap()).unwrap_err(),
            "tenant claim is malformed"
        );
        assert_eq!(
            i.map_claims(json!({"sub":""}).as_object().unwrap())
                .unwrap_err(),
            "token has no sub"
        );
    }

    #[test]
    fn azp_and_audience_allow_lists() {
        let i = clerk();
        let ok = json!({"azp":"https://app.example"});
        assert!(i.check_audience(ok.as_object().unwrap()).is_ok());
        let other = json!({"azp":"https://evil.example"});
        assert!(i
            .check_audience(other.as_object().unwrap())
            .unwrap_err()
            .contains("azp"));
        assert_eq!(
            i.check_audience(&Map::new()).unwrap_err(),
            "token has no azp"
        );
    }
}
