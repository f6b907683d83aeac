//! Authorization: the role ladder, `resource:action` permissions and tenant isolation.

use crate::auth::Identity;
use crate::{Denial, ErrorCode};

/// The default ladder, highest first (SPEC §4).
pub const LADDER: [&str; 5] = ["admin", "moderator", "provider", "customer", "guest"];

/// Default grants per role (each role also holds those of the roles below it).
pub fn grants(role: &str) -> &'static [&'static str] {
    match role {
        "admin" => &["users:write", "roles:write", "audit:read", "tenants:write"],
        "moderator" => &["users:read", "content:moderate"],
        "provider" => &["services:write"],
        "customer" => &["services:read", "orders:write"],
        "guest" => &["public:read"],
        _ => &[],
    }
}

fn rank(role: &str) -> Option<usize> {
    LADDER.iter().position(|r| *r == role)
}

/// The permissions a role holds by the ladder, plus explicit ones.
pub fn effective_permissions(role: Option<&str>, explicit: &[String]) -> Vec<String> {
    let mut out: Vec<String> = explicit.to_vec();
    if let Some(r) = role.and_then(rank) {
        for lower in &LADDER[r..] {
            out.extend(grants(lower).iter().map(|s| s.to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Requires one of `roles` (by the ladder) and all `permissions`.
pub fn require(identity: &Identity, roles: &[String], permissions: &[String]) -> Result<(), Denial> {
    if !roles.is_empty() {
        let have = identity.user_role.as_deref().and_then(rank);
        let ok = roles.iter().filter_map(|r| rank(r)).any(|need| have.is_some_and(|h| h <= need));
        if !ok {
            return Err(Denial::new(ErrorCode::Forbidden, "role not sufficient"));
        }
    }
    for p in permissions {
        if !identity.permissions.iter().any(|h| h == p) {
            return Err(Denial::new(ErrorCode::Forbidden, format!("missing permission {p}")));
        }
    }
    Ok(())
}
