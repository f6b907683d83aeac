//! The declarative per-function policy, parsed and validated before a function serves.
