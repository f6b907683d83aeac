//! Rate limiting: the in-isolate limiter and the key derivation shared with the Postgres limiter.
