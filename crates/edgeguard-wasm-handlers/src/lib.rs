//! The wasm-bindgen facade over `edgeguard-core` for what individual
//! handlers call, as opposed to the request pipeline every request runs
//! (`edgeguard-wasm`): webhook verification, API key minting, audit
//! checkpoint signing, security alerts and erasure confirmation tokens. It is
//! its own module (`edgeguard_handlers`) so a fresh isolate decodes and
//! compiles only the pipeline, and loads this one on first use
//! (docs/architecture.md, "The wasm boundary"). Converts types and calls the
//! core; no security decision is made here.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::*;

pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod erasure;
pub mod webhook;

/// Runs once when the module is instantiated: a panic's message reaches the
/// function log instead of a bare `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The edgeguard version compiled into this module (the loader checks it
/// against the pipeline module's, so a stale build is noticed).
#[wasm_bindgen]
pub fn version() -> String {
    edgeguard_core::VERSION.to_string()
}
