//! The request-check settings of one function, built once from the parsed
//! policy and the environment: CORS, security headers, limits, and per route
//! the body, CSRF and parameter rules (docs/policy.md).

use crate::cors::CorsConfig;
use crate::csrf::CsrfConfig;
use crate::headers::SecurityHeaders;
use crate::policy::{Policy, Route};
use crate::ratelimit::{LimitsConfig, RouteLimits};
use crate::schema::{merge_sections, BodyRules, ParamRules};
use crate::Denial;
use crate::sorted_map::SortedMap;

/// The rules of one route (or of a path no route matches).
#[derive(Debug)]
pub struct RouteSettings {
    /// Its rate limits.
    pub limits: RouteLimits,
    /// Its body rules.
    pub body: BodyRules,
    /// Its CSRF rules.
    pub csrf: CsrfConfig,
    /// Its path and query parameter rules.
    pub params: ParamRules,
}

/// Function-wide settings and the settings of every route, by route key.
#[derive(Debug)]
pub struct Settings {
    /// CORS allow-list.
    pub cors: CorsConfig,
    /// Security headers.
    pub headers: SecurityHeaders,
    /// Limits configuration (rules, client-IP source).
    pub limits: LimitsConfig,
    /// For requests no route matches (counted by IP against the default class).
    pub default_route: RouteSettings,
    /// By route key (`GET /items/:id`).
    pub routes: SortedMap<String, RouteSettings>,
}

impl Settings {
    /// Builds and validates the settings; the denial is `MISCONFIGURED` with the reason.
    pub fn new(policy: &Policy, env: &SortedMap<String, String>) -> Result<Settings, Denial> {
        let limits = LimitsConfig::from_value(policy.limits.as_ref())?.with_env(env)?;
        let default_route = route_settings(policy, &limits, env, None)?;
        let mut routes = SortedMap::new();
        for r in &policy.routes {
            routes.insert(r.key.clone(), route_settings(policy, &limits, env, Some(r))?);
        }
        Ok(Settings {
            cors: CorsConfig::from_env(env, policy.cors.as_ref())?,
            headers: SecurityHeaders::from_value(policy.headers.as_ref())?,
            limits,
            default_route,
            routes,
        })
    }

    /// The settings of `route` (the defaults for an unknown key).
    pub fn route(&self, route: &str) -> &RouteSettings {
        self.routes.get(route).unwrap_or(&self.default_route)
    }
}

fn route_settings(
    policy: &Policy,
    limits: &LimitsConfig,
    env: &SortedMap<String, String>,
    r: Option<&Route>,
) -> Result<RouteSettings, Denial> {
    let body = merge_sections(policy.body.as_ref(), r.and_then(|r| r.body.as_ref()));
    let csrf = merge_sections(policy.csrf.as_ref(), r.and_then(|r| r.csrf.as_ref()));
    Ok(RouteSettings {
        limits: limits.route(r.and_then(|r| r.limits.as_ref()))?,
        body: BodyRules::from_value(body.as_ref())?,
        csrf: CsrfConfig::from_env(env, csrf.as_ref())?,
        params: ParamRules::from_values(
            r.and_then(|r| r.params.as_ref()),
            r.and_then(|r| r.query.as_ref()),
        )?,
    })
}
