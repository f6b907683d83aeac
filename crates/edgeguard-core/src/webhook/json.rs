//! The JSON boundary used by the wasm facade: environment and headers in,
//! one decision object out. Kept in core so the facade only moves strings.
//!
//! Decision shapes (one JSON object, never an exception):
//!
//! ```text
//! {"ok":true,"provider":"stripe","scheme":"stripe","event_id":"evt_…","event_id_signed":true,"timestamp":1750000000}
//! {"ok":false,"code":"INVALID_SIGNATURE","status":401,"reason":"timestamp too old (outside tolerance)"}
//! ```
//!
//! `provider` is the endpoint name asked for (`auth_hook` included), `scheme`
//! the signature scheme; `event_id` and `timestamp` may be `null`.

use serde_json::{json, Map, Value};

use super::{Headers, Verified, WebhookError, WebhookVerifiers};

/// Largest `now_ms` accepted (year 33658); beyond it the clock input is refused.
const MAX_NOW_MS: f64 = 1.0e15;

/// Builds every endpoint from a JSON object of environment values
/// (`{"STRIPE_WEBHOOK_SECRET":"…","WEBHOOK_TIMESTAMP_TOLERANCE":"300"}`).
/// Values that are not strings count as unset. Fails only when the text is not
/// a JSON object.
pub fn verifiers_from_env_json(env_json: &str) -> Result<WebhookVerifiers, WebhookError> {
    let map: Map<String, Value> =
        serde_json::from_str(env_json).map_err(|_| WebhookError::InvalidInput("environment"))?;
    Ok(WebhookVerifiers::from_env(|name| {
        map.get(name).and_then(Value::as_str).map(str::to_owned)
    }))
}

/// Parses headers given as a JSON object of strings (`{"name":"value"}`) or
/// as an array of `[name, value]` string pairs (which keeps repeated names).
pub fn headers_from_json(headers_json: &str) -> Result<Vec<(String, String)>, WebhookError> {
    let bad = || WebhookError::InvalidInput("headers");
    let value: Value = serde_json::from_str(headers_json).map_err(|_| bad())?;
    match value {
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                _ => Err(bad()),
            })
            .collect(),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Array(pair) => match <[Value; 2]>::try_from(pair) {
                    Ok([Value::String(k), Value::String(v)]) => Ok((k, v)),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// Converts a JavaScript `Date.now()` (milliseconds) into Unix seconds.
pub fn now_secs_from_ms(now_ms: f64) -> Result<i64, WebhookError> {
    if !now_ms.is_finite() || now_ms.abs() > MAX_NOW_MS {
        return Err(WebhookError::InvalidClock);
    }
    // In range, so the cast is exact after flooring.
    Ok((now_ms / 1000.0).floor() as i64)
}

/// Verifies a delivery to endpoint `name` and renders the decision as JSON.
pub fn verify_json(
    verifiers: &WebhookVerifiers,
    name: &str,
    headers_json: &str,
    body: &[u8],
    now_ms: f64,
) -> String {
    let result = (|| {
        let verifier = verifiers.verifier(name)?;
        let now = now_secs_from_ms(now_ms)?;
        let pairs = headers_from_json(headers_json)?;
        let headers = Headers::new(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        verifier.verify(&headers, body, now)
    })();
    match result {
        Ok(v) => success_json(name, &v),
        Err(e) => error_json(&e),
    }
}

/// The decision object for a verified delivery.
pub fn success_json(name: &str, v: &Verified) -> String {
    json!({
        "ok": true,
        "provider": name,
        "scheme": v.provider.name(),
        "event_id": v.event_id,
        "event_id_signed": v.provider.event_id_is_signed(),
        "timestamp": v.timestamp,
    })
    .to_string()
}

/// The decision object for a refusal.
pub fn error_json(e: &WebhookError) -> String {
    let code = e.code();
    json!({ "ok": false, "code": code.as_str(), "status": code.status(), "reason": e.reason() })
        .to_string()
}

/// Each endpoint's readiness: `{"stripe":{"ok":true},"github":{"ok":false,"code":"MISCONFIGURED","reason":"GITHUB_WEBHOOK_SECRET is not set"},…}`.
pub fn status_json(verifiers: &WebhookVerifiers) -> String {
    let mut out = Map::new();
    for (ep, r) in verifiers.status() {
        let v = match r {
            Ok(()) => json!({ "ok": true }),
            Err(e) => json!({ "ok": false, "code": e.code().as_str(), "reason": e.reason() }),
        };
        out.insert(ep.name.to_string(), v);
    }
    Value::Object(out).to_string()
}
