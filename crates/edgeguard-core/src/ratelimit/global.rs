//! `global` rules: the checks the Postgres limiter runs, and how its answers
//! fold into the isolate's decision.

use sha2::{Digest, Sha256};

use super::decision::{GlobalResult, LimitDecision, PolicyState};
use super::gcra::Limiter;
use crate::json_read::ReadJson;
use crate::{Denial, ErrorCode};

/// What the Postgres limiter said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobalAnswer {
    /// One result per global check.
    Results(Vec<GlobalResult>),
    /// The database could not be reached.
    Unavailable,
}

impl GlobalAnswer {
    /// The host's answer to [`crate::guard::Step::NeedGlobalLimits`]: the
    /// results as JSON text (`[{key, allowed, remaining, reset_s,
    /// retry_after_s}]`), or `None` when the database could not be reached.
    /// A malformed answer counts as no answer: the policy's `on_db_error` decides.
    pub fn from_json(json: Option<&str>) -> GlobalAnswer {
        json.and_then(|j| crate::strict_json::parse(j.as_bytes()).ok())
            .and_then(|v| <Vec<GlobalResult> as ReadJson>::read(&v).ok())
            .map_or(GlobalAnswer::Unavailable, GlobalAnswer::Results)
    }
}

impl Limiter {
    /// Folds the Postgres limiter's answers for `local.global` into the final decision.
    ///
    /// Results must answer exactly the listed checks (else `INTERNAL`). When the
    /// database is unavailable the request is refused with `UNAVAILABLE`
    /// (`on_db_error: closed`, the default) or proceeds under the local limits
    /// (`open`).
    pub fn apply_global(
        &mut self,
        local: &LimitDecision,
        answer: &GlobalAnswer,
        now_ms: i64,
    ) -> Result<LimitDecision, Denial> {
        let mut out = local.clone();
        out.global = Vec::new();
        if !local.allowed || local.global.is_empty() {
            return Ok(out);
        }
        let results = match answer {
            GlobalAnswer::Unavailable => {
                if self.config.fail_open {
                    return Ok(out);
                }
                return Err(Denial::new(
                    ErrorCode::Unavailable,
                    "rate limiter database unavailable",
                ));
            }
            GlobalAnswer::Results(r) => r,
        };
        if results.len() != local.global.len() {
            return Err(Denial::new(
                ErrorCode::Internal,
                "rate limiter answered a different set of checks",
            ));
        }
        let mut refused: Option<(String, u64, String, u32)> = None;
        for check in &local.global {
            let r = results.iter().find(|r| r.key == check.key).ok_or_else(|| {
                Denial::new(
                    ErrorCode::Internal,
                    "rate limiter answered a different set of checks",
                )
            })?;
            out.policies.push(PolicyState {
                name: check.rule.clone(),
                limit: check.limit,
                window_s: check.window_s,
                remaining: if r.allowed {
                    r.remaining.min(check.limit)
                } else {
                    0
                },
                reset_s: r.reset_s,
            });
            if !r.allowed {
                let retry = r.retry_after_s.unwrap_or(r.reset_s).max(1);
                if !matches!(&refused, Some(x) if retry <= x.1) {
                    refused = Some((check.rule.clone(), retry, check.key.clone(), check.window_s));
                }
            }
        }
        if let Some((rule, retry, key, window_s)) = refused {
            let mut h = Sha256::new();
            h.update(b"edgeguard-rl-global\0");
            h.update(key.as_bytes());
            let k: [u8; 32] = h.finalize().into();
            out.record_event = self.should_record(k, i64::from(window_s) * 1000, now_ms);
            out.allowed = false;
            out.retry_after_s = retry;
            out.exceeded = Some(rule);
        }
        Ok(out)
    }
}
