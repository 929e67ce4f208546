//! Which header values are secrets. Every place that shows a header (the curl command, evidence,
//! renderers) asks here, so a token typed with `-H` never reaches the output.

/// Shown instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// Header names whose values carry credentials (compared case-insensitively).
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-key",
    "x-auth-token",
    "x-access-token",
    "x-amz-security-token",
    "x-csrf-token",
    "x-xsrf-token",
    "cf-access-client-secret",
];

/// Fragments that mark a custom header as secret-bearing (`X-My-Token`, `X-Client-Secret`).
const SECRET_FRAGMENTS: &[&str] = &["token", "secret", "password", "passwd", "api-key", "apikey"];

/// Whether the value of header `name` must not be shown.
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&lower.as_str())
        || SECRET_FRAGMENTS.iter().any(|f| lower.contains(f))
        || lower.starts_with("x-auth")
}

/// The value to show for header `name`.
pub fn shown_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret_header(name) {
        REDACTED
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_secret_and_handshake_headers_are_not() {
        for name in [
            "Authorization",
            "COOKIE",
            "Proxy-Authorization",
            "X-Api-Key",
            "X-Auth-Key",
            "X-Auth-Email",
            "X-My-Token",
            "Set-Cookie",
            "CF-Access-Client-Secret",
        ] {
            assert!(is_secret_header(name), "{name}");
        }
        for name in [
            "Host",
            "Origin",
            "Sec-WebSocket-Key",
            "User-Agent",
            "Upgrade",
        ] {
            assert!(!is_secret_header(name), "{name}");
        }
        assert_eq!(shown_value("authorization", "Bearer x"), REDACTED);
        assert_eq!(shown_value("Origin", "https://a"), "https://a");
    }
}
