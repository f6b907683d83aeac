//! The deployment environment (`APP_ENV`), normalised once, here.
//!
//! `APP_ENV` is trimmed and compared case-insensitively. When it is unset on
//! the hosted platform — recognised by the markers the platform sets for every
//! function (see `docs/platform.md`) — the environment is production: a
//! deploy that forgot `APP_ENV` still refuses unsafe configuration and sends
//! no hints. Every other module and the shims ask this one rule.

use crate::sorted_map::SortedMap;

/// Variables the hosted platform sets for every function and the local
/// runtimes do not (sources in `docs/platform.md`). `SB_EXECUTION_ID` is not
/// one: edge-runtime sets it for every worker, under `supabase start` too.
pub const PLATFORM_MARKERS: [&str; 2] = ["SB_REGION", "DENO_DEPLOYMENT_ID"];

/// The deployment environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development (the default off the platform).
    Development,
    /// Staging.
    Staging,
    /// Production: unsafe configuration is refused, errors carry no hints.
    Production,
}

impl AppEnv {
    /// Reads `APP_ENV` (trimmed, any case). Unset or empty means production
    /// when a platform marker is present, development otherwise. Any other
    /// value is an error naming the variable (never echoing long input).
    pub fn from_env(env: &SortedMap<String, String>) -> Result<AppEnv, String> {
        let raw = env.get("APP_ENV").map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            let hosted = PLATFORM_MARKERS
                .iter()
                .any(|m| env.get(*m).is_some_and(|v| !v.trim().is_empty()));
            return Ok(if hosted {
                AppEnv::Production
            } else {
                AppEnv::Development
            });
        }
        match raw.to_ascii_lowercase().as_str() {
            "development" => Ok(AppEnv::Development),
            "staging" => Ok(AppEnv::Staging),
            "production" => Ok(AppEnv::Production),
            _ => Err("APP_ENV must be development, staging or production".into()),
        }
    }

    /// Like [`AppEnv::from_env`], but an invalid value counts as production:
    /// for checks that must fail safe while the invalid value is reported elsewhere.
    pub fn from_env_strict_default(env: &SortedMap<String, String>) -> AppEnv {
        AppEnv::from_env(env).unwrap_or(AppEnv::Production)
    }

    /// `"development"`, `"staging"` or `"production"`.
    pub const fn name(self) -> &'static str {
        match self {
            AppEnv::Development => "development",
            AppEnv::Staging => "staging",
            AppEnv::Production => "production",
        }
    }

    /// Whether this is production.
    pub const fn is_production(self) -> bool {
        matches!(self, AppEnv::Production)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> SortedMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn normalised_once() {
        for (v, want) in [
            ("production", AppEnv::Production),
            (" Production ", AppEnv::Production),
            ("PRODUCTION", AppEnv::Production),
            ("staging", AppEnv::Staging),
            ("Development\n", AppEnv::Development),
        ] {
            assert_eq!(AppEnv::from_env(&env(&[("APP_ENV", v)])), Ok(want), "{v:?}");
        }
        assert!(AppEnv::from_env(&env(&[("APP_ENV", "prod")])).is_err());
        assert_eq!(
            AppEnv::from_env_strict_default(&env(&[("APP_ENV", "prod")])),
            AppEnv::Production
        );
    }

    #[test]
    fn unset_on_the_platform_is_production() {
        assert_eq!(AppEnv::from_env(&env(&[])), Ok(AppEnv::Development));
        assert_eq!(
            AppEnv::from_env(&env(&[("APP_ENV", "  ")])),
            Ok(AppEnv::Development)
        );
        for m in PLATFORM_MARKERS {
            assert_eq!(
                AppEnv::from_env(&env(&[(m, "eu-west-1")])),
                Ok(AppEnv::Production),
                "{m}"
            );
            assert_eq!(
                AppEnv::from_env(&env(&[(m, "x"), ("APP_ENV", "staging")])),
                Ok(AppEnv::Staging),
                "an explicit APP_ENV wins over {m}"
            );
            assert_eq!(AppEnv::from_env(&env(&[(m, "")])), Ok(AppEnv::Development));
        }
        // Set by edge-runtime for local workers too: not a platform marker.
        assert_eq!(
            AppEnv::from_env(&env(&[("SB_EXECUTION_ID", "x")])),
            Ok(AppEnv::Development)
        );
    }
}
