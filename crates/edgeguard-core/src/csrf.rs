//! CSRF: HMAC-signed expiring tokens and Origin / Sec-Fetch-Site checks.
