//! Security headers sent on every response.
