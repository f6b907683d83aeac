//! # edgeguard-core
//!
//! Every security decision edgeguard makes, in pure Rust: access tokens and
//! API keys, roles, permissions and tenants, webhook signatures, rate limits,
//! CORS, CSRF, security headers and body validation.
//!
//! The crate has no notion of WebAssembly or JavaScript; `edgeguard-wasm`
//! wraps it for the Deno shims and `edgeguard-cli` uses it natively. Time is
//! always an input (`now` in seconds or milliseconds since the Unix epoch):
//! nothing here reads a clock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod alerts;
pub mod api_keys;
pub mod app_env;
pub mod audit_checkpoint;
pub mod audit_verify;
pub mod auth;
pub mod authz;
pub mod cors;
mod crc32;
pub mod csrf;
pub mod erasure;
pub mod error;
pub mod guard;
pub mod headers;
mod json_read;
pub mod policy;
pub mod ratelimit;
pub mod redact;
pub mod request_id;
pub mod schema;
pub mod sorted_map;
pub mod strict_json;
pub mod upload;
pub mod webhook;

pub use error::{Denial, ErrorCode};

/// The version of edgeguard, as reported by the `health` function.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
