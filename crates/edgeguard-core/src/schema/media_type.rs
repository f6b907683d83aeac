//! Media types: the `Content-Type` a route accepts, and its charset.

pub(super) fn media_type_ok(content_type: &str, allowed: &[String]) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !allowed.contains(&essence) {
        return false;
    }
    for param in parts {
        let Some((k, v)) = param.split_once('=') else {
            return false;
        };
        if k.trim().eq_ignore_ascii_case("charset") {
            let v = v.trim().trim_matches('"');
            if !v.eq_ignore_ascii_case("utf-8") && !v.eq_ignore_ascii_case("utf8") {
                return false;
            }
        }
    }
    true
}
