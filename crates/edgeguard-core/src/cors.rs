//! CORS: the origin allow-list, preflight answers and response headers.
