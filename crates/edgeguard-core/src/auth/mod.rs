//! Credentials: Supabase access tokens (JWKS and legacy HS256), Supabase API
//! keys, and the verified-token cache.

pub mod apikey;
pub mod b64;
pub mod cache;
pub mod config;
pub mod issuers;
pub mod jwt;
pub mod keys;
pub mod rsa;

pub use config::{AppEnv, AuthConfig, JwksSource};
pub use keys::{verify_signature, Alg, Key, KeyMaterial, KeySet};
