//! Credentials: Supabase access tokens (JWKS and legacy HS256), Supabase API keys, user API keys, and the verified-token cache.

#[cfg(test)]
mod smoke {
    #[test]
    fn jwt_simple_links() {
        use jwt_simple::prelude::*;
        let k = HS256Key::from_bytes(b"0123456789abcdef0123456789abcdef");
        let t = k.authenticate(Claims::create(Duration::from_secs(60))).unwrap();
        assert!(k.verify_token::<NoCustomClaims>(&t, None).is_ok());
    }
}
