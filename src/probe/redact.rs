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
    // Asked for every header a probe sends or shows: compared in place, without a lowercase copy.
    let name = name.as_bytes();
    let contains = |fragment: &str| {
        name.windows(fragment.len())
            .any(|w| w.eq_ignore_ascii_case(fragment.as_bytes()))
    };
    SECRET_HEADERS
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
        || SECRET_FRAGMENTS.iter().any(|f| contains(f))
        || name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"x-auth"))
}

/// The value to show for header `name`: a credential header keeps its scheme so a reader sees
/// what was sent (`Bearer <redacted>`, `Basic <redacted>`); a `Sec-WebSocket-Protocol` list keeps
/// its ordinary entries and masks those carrying a token (see [`is_token_protocol`]).
pub fn shown_value<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    if is_secret_header(name) {
        let v = value.trim();
        return match v.split_once(' ') {
            Some((scheme, rest))
                if !rest.trim().is_empty()
                    && (1..=24).contains(&scheme.len())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && name.to_ascii_lowercase().ends_with("authorization") =>
            {
                Cow::Owned(format!("{scheme} {REDACTED}"))
            }
            _ => Cow::Borrowed(REDACTED),
        };
    }
    if name.eq_ignore_ascii_case("sec-websocket-protocol") {
        return protocols(value);
    }
    Cow::Borrowed(value)
}

/// The Kubernetes API server's subprotocol form of a bearer token.
const K8S_BEARER: &str = "base64url.bearer.authorization.k8s.io.";

/// Whether a subprotocol entry carries a credential: the Kubernetes bearer form, or an entry
/// longer than 32 characters made only of the base64/base64url/hex alphabet (registered names
/// such as `graphql-transport-ws` are short, and dotted names are not in that alphabet).
pub fn is_token_protocol(entry: &str) -> bool {
    let e = entry.trim();
    let lower = e.to_ascii_lowercase();
    lower.starts_with(K8S_BEARER)
        || (e.len() > 32
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')))
}

/// A `Sec-WebSocket-Protocol` value with token-carrying entries masked; the Kubernetes form keeps
/// its prefix so a reader sees which kind of credential was sent.
pub fn protocols(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.split(',').any(is_token_protocol) {
        return std::borrow::Cow::Borrowed(value);
    }
    let shown: Vec<String> = value
        .split(',')
        .map(|entry| {
            let e = entry.trim();
            if e.to_ascii_lowercase().starts_with(K8S_BEARER) {
                format!("{}{REDACTED}", &e[..K8S_BEARER.len()])
            } else if is_token_protocol(e) {
                REDACTED.to_string()
            } else {
                e.to_string()
            }
        })
        .collect();
    std::borrow::Cow::Owned(shown.join(", "))
}

/// The values of the secret-bearing headers among `headers` (the request as sent).
pub fn secret_values(headers: &[(String, String)]) -> Vec<&str> {
    let protocol_tokens = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
        .flat_map(|(_, v)| v.split(',').map(str::trim))
        .filter(|e| is_token_protocol(e))
        .map(|e| {
            // The bare token is what leaks (a server echoes the entry it picked, or the token
            // alone); masking only it keeps the Kubernetes prefix readable where the entry is
            // shown: `base64url.bearer.authorization.k8s.io.<redacted>`.
            e.get(K8S_BEARER.len()..)
                .filter(|_| e.to_ascii_lowercase().starts_with(K8S_BEARER))
                .unwrap_or(e)
        });
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
        .chain(protocol_tokens)
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
        assert_eq!(
            shown_value("authorization", "Bearer x"),
            "Bearer <redacted>"
        );
        assert_eq!(shown_value("Cookie", "a=b"), REDACTED);
        assert_eq!(shown_value("X-Api-Key", "Bearer x"), REDACTED);
        assert_eq!(shown_value("Origin", "https://a"), "https://a");
    }

    #[test]
    fn subprotocol_tokens() {
        let k8s =
            "base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjk";
        assert_eq!(
            shown_value(
                "Sec-WebSocket-Protocol",
                &format!("v4.channel.k8s.io, {k8s}")
            ),
            "v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.<redacted>"
        );
        let hex = "0123456789abcdef0123456789abcdef01";
        assert_eq!(protocols(&format!("chat, {hex}")), "chat, <redacted>");
        assert_eq!(protocols("graphql-transport-ws"), "graphql-transport-ws");
        let headers = vec![(
            "Sec-WebSocket-Protocol".to_string(),
            format!("v4.channel.k8s.io, {k8s}"),
        )];
        // The token alone: masking it masks the whole entry too, and keeps its prefix shown.
        let secrets = secret_values(&headers);
        assert_eq!(secrets, ["ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjk"]);
        assert_eq!(
            scrub(&format!("offered {k8s}"), &secrets),
            "offered base64url.bearer.authorization.k8s.io.<redacted>"
        );
    }
}
