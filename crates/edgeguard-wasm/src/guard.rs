//! `Guard`: the wasm face of the request pipeline (`edgeguard_core::guard`).
//! Conversion only: it reads the request's headers the core names, hands
//! them over, and turns the core's steps into JS objects of the generated
//! types. Every decision and its order is the core's.
//!
//! A request crosses into wasm once when it needs no I/O (`begin`), twice
//! when its body is read (`begin`, `resumeBody`); each other I/O step (JWKS,
//! API key row, global limits) costs one more.

use std::collections::{BTreeMap, HashMap};

use edgeguard_core::auth::config::env_from_json;
use edgeguard_core::guard::{
    self as pipeline, Flow, GuardOptions, Input, JwksFetch, RequestParts, ResponseHeaders, Step,
};
use edgeguard_core::ratelimit::GlobalAnswer;
use edgeguard_core::sorted_map::SortedMap;
use js_sys::Object;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A step with what the facade adds: the request id, the flow to resume (a `need_*` step), the headers every response gets, a log note, and on an allow the frozen identity. */
export type Answer = (Exclude<Step, { kind: "allow" }> | (Extract<Step, { kind: "allow" }> & { identity: Readonly<Identity> })) & {
  request_id: string;
  flow?: number;
  response: ResponseHeaders;
  note?: string;
};
"#;

#[wasm_bindgen]
extern "C" {
    /// A fetch `Request`: the pipeline reads its method, URL and some headers.
    #[wasm_bindgen(typescript_type = "Request")]
    pub type JsRequest;
    #[wasm_bindgen(method, getter)]
    fn method(this: &JsRequest) -> String;
    #[wasm_bindgen(method, getter)]
    fn url(this: &JsRequest) -> String;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &JsRequest) -> JsHeaders;

    type JsHeaders;

    // Bindings without js-sys's `catch` wrapper (a try/catch and an
    // `arguments` object per call): the JSON is the core's own serialisation
    // and the target a fresh plain object, so neither can throw.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse)]
    fn json_parse(text: &str) -> JsValue;
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn reflect_set(target: &JsValue, key: &JsValue, value: &JsValue) -> bool;
    /// `Headers.get` with the name as a JS string made once (no re-encoding per request).
    #[wasm_bindgen(method)]
    fn get(this: &JsHeaders, name: &JsValue) -> Option<String>;
}

/// In-flight flows kept between steps; past this, the oldest is dropped (a
/// host that abandons requests without `abandon` cannot grow memory).
const MAX_FLOWS: usize = 1024;
/// Identities kept as frozen JS objects, by the core's identity key.
const MAX_IDENTITIES: usize = 1024;
/// The JSON bytes those identities came from, at most (docs/memory.md).
const MAX_IDENTITY_JSON_BYTES: usize = 2 * 1024 * 1024;
/// Identities without a token kept as JS objects (a few shapes per function).
const MAX_BARE_IDENTITIES: usize = 64;
/// Response header sets kept as JS objects, by request `Origin`.
const MAX_ORIGINS: usize = 256;

/// The pipeline of one function (policy + environment), with its caches.
#[wasm_bindgen]
pub struct Guard {
    inner: pipeline::Guard,
    /// `(name, name as a JS string)` of the headers the core reads.
    header_names: Vec<(String, JsValue)>,
    /// The same for the headers only a preflight reads.
    preflight_names: Vec<(String, JsValue)>,
    /// Property names of the answer, as JS strings made once.
    keys: Keys,
    flows: BTreeMap<u32, Flow>,
    next_flow: u32,
    identities: HashMap<u64, JsValue>,
    identity_bytes: usize,
    /// Identities without a token, by their JSON.
    bare_identities: HashMap<String, JsValue>,
    responses: HashMap<String, JsValue>,
    /// The header set for requests without an `Origin`.
    no_origin: Option<JsValue>,
}

/// The properties the facade adds to a step.
struct Keys {
    request_id: JsValue,
    response: JsValue,
    identity: JsValue,
}

fn js_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(String, JsValue)> {
    names
        .into_iter()
        .map(|n| (n.to_owned(), JsValue::from_str(n)))
        .collect()
}

/// A step as a JS object. One `JSON.parse` in V8 of the serialised step was
/// measured faster than serde-wasm-bindgen's per-field construction for
/// these shapes (BENCHMARKS.md, "One request pipeline"); the
/// `serde-wasm-bindgen-answers` feature builds the other variant to compare.
fn to_js<T: Serialize>(v: &T) -> JsValue {
    #[cfg(feature = "serde-wasm-bindgen-answers")]
    {
        let s = serde_wasm_bindgen::Serializer::json_compatible();
        v.serialize(&s).unwrap_or(JsValue::NULL)
    }
    #[cfg(not(feature = "serde-wasm-bindgen-answers"))]
    match serde_json::to_string(v) {
        Ok(s) => json_parse(&s),
        Err(_) => JsValue::NULL,
    }
}

/// A step's JSON with what the facade adds that is plain data (the request
/// id, a log note, the flow to resume), appended to the step's object.
fn wire(step: &Step, request_id: &str, note: Option<&str>, flow: Option<u32>) -> String {
    let Ok(mut s) = serde_json::to_string(step) else {
        return String::from("null");
    };
    if s.ends_with('}') {
        s.pop();
        s.push_str(",\"request_id\":");
        s.push_str(&serde_json::to_string(request_id).unwrap_or_else(|_| "\"\"".into()));
        if let Some(n) = note {
            s.push_str(",\"note\":");
            s.push_str(&serde_json::to_string(n).unwrap_or_else(|_| "\"\"".into()));
        }
        if let Some(f) = flow {
            s.push_str(",\"flow\":");
            s.push_str(&f.to_string());
        }
        s.push('}');
    }
    s
}

fn set(o: &JsValue, key: &JsValue, v: &JsValue) {
    let _ = reflect_set(o, key, v);
}

/// Freezes `v` and everything reachable from it.
fn deep_freeze(v: &JsValue) {
    if let Some(o) = v.dyn_ref::<Object>() {
        if Object::is_frozen(o) {
            return;
        }
        Object::freeze(o);
        for x in Object::values(o).iter() {
            deep_freeze(&x);
        }
    }
}

fn now_or_zero(now_ms: f64) -> f64 {
    if now_ms.is_finite() {
        now_ms
    } else {
        0.0
    }
}

#[wasm_bindgen]
impl Guard {
    /// Builds the pipeline from `policy.json`'s text and the environment (a
    /// JSON object of strings). Throws with the reason when misconfigured.
    #[wasm_bindgen(constructor)]
    pub fn new(policy_json: &str, env_json: &str, defer_body_checks: bool) -> Result<Guard, JsError> {
        console_error_panic_hook::set_once();
        let env = env_from_json(env_json).map_err(|e| JsError::new(&e))?;
        let inner = pipeline::Guard::new(policy_json, &env, GuardOptions { defer_body_checks })
            .map_err(|e| JsError::new(&e))?;
        let header_names = js_names(inner.header_names().iter().map(String::as_str));
        Ok(Guard {
            inner,
            header_names,
            preflight_names: js_names(pipeline::PREFLIGHT_HEADER_NAMES),
            keys: Keys {
                request_id: JsValue::from_str("request_id"),
                response: JsValue::from_str("response"),
                identity: JsValue::from_str("identity"),
            },
            flows: BTreeMap::new(),
            next_flow: 1,
            identities: HashMap::new(),
            identity_bytes: 0,
            bare_identities: HashMap::new(),
            responses: HashMap::new(),
            no_origin: None,
        })
    }

    fn parts(&self, req: &JsRequest, remote_addr: Option<String>) -> RequestParts {
        let headers = req.headers();
        let method = req.method();
        let mut map = SortedMap::new();
        let preflight: &[(String, JsValue)] = if method == "OPTIONS" { &self.preflight_names } else { &[] };
        for (name, js) in self.header_names.iter().chain(preflight) {
            if let Some(v) = headers.get(js) {
                map.insert(name.clone(), v);
            }
        }
        RequestParts {
            method,
            url: req.url(),
            headers: map,
            remote_addr,
        }
    }

    /// Starts `req` (the peer address when the runtime gives one) at `now_ms`.
    #[wasm_bindgen(unchecked_return_type = "Answer")]
    pub fn begin(&mut self, req: &JsRequest, remote_addr: Option<String>, now_ms: f64) -> JsValue {
        let parts = self.parts(req, remote_addr);
        let (flow, step) = self.inner.begin(parts, now_or_zero(now_ms));
        self.answer(flow, step)
    }

    /// Continues `flow` with the fetched JWKS (`json` undefined: the fetch failed).
    #[wasm_bindgen(js_name = resumeJwks, unchecked_return_type = "Answer")]
    pub fn resume_jwks(
        &mut self,
        flow: u32,
        json: Option<String>,
        cache_control: Option<String>,
        now_ms: f64,
    ) -> JsValue {
        let input = match &json {
            Some(json) => Input::Jwks(JwksFetch::Fetched {
                json,
                cache_control: cache_control.as_deref(),
            }),
            None => Input::Jwks(JwksFetch::Failed),
        };
        self.resume(flow, input, now_ms)
    }

    /// Continues `flow` with the row `private.api_key_verify` answered, as JSON.
    #[wasm_bindgen(js_name = resumeApiKey, unchecked_return_type = "Answer")]
    pub fn resume_api_key(&mut self, flow: u32, row_json: &str, now_ms: f64) -> JsValue {
        self.resume(flow, Input::ApiKeyRow(row_json), now_ms)
    }

    /// Continues `flow` with the global limit results as JSON text, the
    /// `GlobalResult[]` of the checks asked for (undefined: the database
    /// could not answer).
    #[wasm_bindgen(js_name = resumeGlobalLimits, unchecked_return_type = "Answer")]
    pub fn resume_global_limits(
        &mut self,
        flow: u32,
        results_json: Option<String>,
        now_ms: f64,
    ) -> JsValue {
        let answer = GlobalAnswer::from_json(results_json.as_deref());
        self.resume(flow, Input::GlobalLimits(answer), now_ms)
    }

    /// Continues `flow` with the body's bytes (undefined: past the limit).
    #[wasm_bindgen(js_name = resumeBody, unchecked_return_type = "Answer")]
    pub fn resume_body(&mut self, flow: u32, bytes: Option<Vec<u8>>, now_ms: f64) -> JsValue {
        self.resume(flow, Input::Body(bytes.as_deref()), now_ms)
    }

    /// Drops a flow the host will not resume (its I/O failed).
    pub fn abandon(&mut self, flow: u32) {
        self.flows.remove(&flow);
    }

    /// The deferred body check of an allowed request (`ctx.checkBody()`).
    #[wasm_bindgen(js_name = checkBody, unchecked_return_type = "BodyChecked")]
    pub fn check_body(&self, route: &str, content_type: Option<String>, bytes: &[u8]) -> JsValue {
        to_js(&self.inner.check_body(route, content_type.as_deref(), bytes))
    }

    /// How the client IP of `req` resolves (`ctx.clientIp()`, asked only by
    /// the handlers that record it).
    #[wasm_bindgen(js_name = clientIp, unchecked_return_type = "ClientIpReport")]
    pub fn client_ip(&self, req: &JsRequest, remote_addr: Option<String>) -> JsValue {
        to_js(&self.inner.client_ip_report(&self.parts(req, remote_addr)))
    }

    /// A CSRF token for `route` (`ctx.csrfToken()`); throws the refusal.
    #[wasm_bindgen(js_name = issueCsrfToken, unchecked_return_type = "CsrfIssued")]
    pub fn issue_csrf_token(
        &self,
        route: &str,
        user_id: Option<String>,
        req: &JsRequest,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let cookie = req.headers().get(&JsValue::from_str("cookie"));
        self.inner
            .issue_csrf_token(route, user_id.as_deref(), cookie.as_deref(), now_or_zero(now_ms))
            .map(|i| to_js(&i))
            .map_err(|r| to_js(&r))
    }

    /// How many flows wait for a resume, and how many (rule, key) pairs the
    /// in-isolate limiter tracks (memory tests).
    #[wasm_bindgen(js_name = pendingFlows)]
    pub fn pending_flows(&self) -> u32 {
        u32::try_from(self.flows.len()).unwrap_or(u32::MAX)
    }
}

impl Guard {
    fn resume(&mut self, id: u32, input: Input<'_>, now_ms: f64) -> JsValue {
        match self.flows.remove(&id) {
            Some(mut flow) => {
                let step = self.inner.resume(&mut flow, input, now_or_zero(now_ms));
                self.answer(flow, step)
            }
            None => {
                // Unknown or evicted: refused (the host keeps its own request id).
                let out = to_js(&Step::Refuse(edgeguard_core::guard::Refusal {
                    code: edgeguard_core::ErrorCode::Internal,
                    status: 500,
                    reason: "pipeline flow not found".into(),
                    headers: Vec::new(),
                    details: Vec::new(),
                    event: None,
                }));
                set(&out, &self.keys.request_id, &JsValue::from_str(&edgeguard_core::request_id::fresh()));
                let response = self.response_for(None);
                set(&out, &self.keys.response, &response);
                out
            }
        }
    }

    /// The JS answer for `step`, keeping `flow` when the step asks for input.
    fn answer(&mut self, mut flow: Flow, step: Step) -> JsValue {
        let note = flow.take_note();
        let id = (!flow.is_done()).then(|| {
            let id = self.next_flow;
            self.next_flow = self.next_flow.wrapping_add(1).max(1);
            id
        });
        let out = json_parse(&wire(&step, flow.request_id(), note.as_deref(), id));
        let response = self.response_for(flow.parts().header("origin"));
        set(&out, &self.keys.response, &response);
        if let Step::Allow(a) = &step {
            let identity = self.identity_js(a);
            set(&out, &self.keys.identity, &identity);
        }
        if let Some(id) = id {
            if self.flows.len() >= MAX_FLOWS {
                self.flows.pop_first();
            }
            self.flows.insert(id, flow);
        }
        out
    }

    /// The frozen JS identity of an allow: a verified token's is built once
    /// and shared by every request presenting that token.
    fn identity_js(&mut self, a: &pipeline::Allowed) -> JsValue {
        let Some(pre) = &a.prebuilt else {
            // An identity without a token (`none`, publishable or secret key):
            // one of a few shapes, each built and frozen once.
            let json = serde_json::to_string(a.identity.as_ref()).unwrap_or_default();
            if let Some(v) = self.bare_identities.get(&json) {
                return v.clone();
            }
            let v = json_parse(&json);
            deep_freeze(&v);
            if self.bare_identities.len() >= MAX_BARE_IDENTITIES {
                self.bare_identities.clear();
            }
            self.bare_identities.insert(json, v.clone());
            return v;
        };
        if let Some(v) = self.identities.get(&pre.key) {
            return v.clone();
        }
        let v = json_parse(&pre.json);
        deep_freeze(&v);
        if self.identities.len() >= MAX_IDENTITIES
            || self.identity_bytes + pre.json.len() > MAX_IDENTITY_JSON_BYTES
        {
            self.identities.clear();
            self.identity_bytes = 0;
        }
        self.identity_bytes += pre.json.len();
        self.identities.insert(pre.key, v.clone());
        v
    }

    /// The frozen JS header set for requests from `origin` (it depends on nothing else).
    fn response_for(&mut self, origin: Option<&str>) -> JsValue {
        let cached = match origin {
            None => self.no_origin.as_ref(),
            Some(o) => self.responses.get(o),
        };
        if let Some(v) = cached {
            return v.clone();
        }
        let v = to_js(&self.inner.response_headers(origin));
        deep_freeze(&v);
        match origin {
            None => self.no_origin = Some(v.clone()),
            Some(o) => {
                if self.responses.len() >= MAX_ORIGINS {
                    self.responses.clear();
                }
                self.responses.insert(o.to_owned(), v.clone());
            }
        }
        v
    }
}

/// The headers of a function that could not be configured: the default
/// security headers, no CORS.
#[wasm_bindgen(js_name = defaultResponseHeaders, unchecked_return_type = "ResponseHeaders")]
pub fn default_response_headers() -> JsValue {
    let v: ResponseHeaders = pipeline::default_response_headers();
    to_js(&v)
}
