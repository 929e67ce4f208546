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

/// The values of the secret-bearing headers among `headers` (the request as sent).
pub fn secret_values(headers: &[(String, String)]) -> Vec<&str> {
    headers
        .iter()
        .filter(|(n, _)| is_secret_header(n))
        .flat_map(|(_, v)| {
            let v = v.trim();
            let mut parts = vec![v];
            // `Bearer abc` leaks as `abc` too.
            if !v.contains(';') {
                if let Some((_, credential)) = v.split_once(' ') {
                    parts.push(credential.trim());
                }
            }
            // Cookies leak one value at a time.
            parts.extend(
                v.split(';')
                    .filter_map(|c| c.split_once('=').map(|(_, value)| value.trim())),
            );
            parts
        })
        // Very short values would blank out ordinary words.
        .filter(|v| v.len() >= 4)
        .collect()
}

/// `text` with every secret value replaced by [`REDACTED`]: servers that echo the request (debug
/// endpoints, some error pages) must not put a token into the evidence.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut sorted: Vec<&str> = secrets.to_vec();
    // Longest first, so `Bearer abc` is replaced whole before `abc`.
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in sorted {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_secrets_are_scrubbed_whole_and_in_parts() {
        let headers = vec![
            (
                "Authorization".to_string(),
                "Bearer tok3n-value".to_string(),
            ),
            ("Cookie".to_string(), "sid=abcdef; theme=x".to_string()),
            ("Origin".to_string(), "https://app.test".to_string()),
        ];
        let secrets = secret_values(&headers);
        let echoed = "Authorization: Bearer tok3n-value\ntoken=tok3n-value sid=abcdef theme=x https://app.test";
        assert_eq!(
            scrub(echoed, &secrets),
            "Authorization: <redacted>\ntoken=<redacted> sid=<redacted> theme=x https://app.test"
        );
    }

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
