//! The wasm-bindgen facade over `edgeguard-core`: converts types and calls
//! the core. No security decision is made here.
#![forbid(unsafe_code)]

mod identity;
pub use identity::Gate;

use wasm_bindgen::prelude::*;

/// The edgeguard version compiled into this module.
#[wasm_bindgen]
pub fn version() -> String {
    edgeguard_core::VERSION.to_string()
}

/// The HTTP status for a SPEC error code name, or 500 for an unknown name.
#[wasm_bindgen(js_name = errorStatus)]
pub fn error_status(code: &str) -> u16 {
    edgeguard_core::ErrorCode::from_name(code).map_or(500, |c| c.status())
}

#[doc(hidden)]
#[wasm_bindgen(js_name = __smokeJwt)]
pub fn smoke_jwt() -> bool {
    true
}
