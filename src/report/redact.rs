//! Secrets out of every rendered report: credential headers in the per-hop curl command (a user's
//! `-H 'Authorization: …'` ends up there), credential query parameters in URLs (WebSocket
//! clients often pass `?token=…`), and fact values whose names say they are secret.
//!
//! Every renderer goes through these functions, so no format can forget one.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::OnceLock;

/// The same mask the probe uses in its curl commands.
pub const MASK: &str = crate::probe::redact::REDACTED;

/// Whether a header or setting name carries a credential: the probe's header rule, plus the
/// snake_case spelling that setting and fact names use (`cloudflare_api_key`).
pub fn is_secret_name(name: &str) -> bool {
    let name = name.trim();
    crate::probe::redact::is_secret_header(name) || name.to_ascii_lowercase().contains("api_key")
}

/// A header or fact value: masked when its name is secret, else with credential query
/// parameters masked (a `Location` header can carry a `?token=`).
pub fn value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if is_secret_name(name) {
        Cow::Borrowed(MASK)
    } else {
        url(value)
    }
}

/// A URL (or any text holding one) with the values of credential query parameters masked.
pub fn url(text: &str) -> Cow<'_, str> {
    static QUERY: OnceLock<Regex> = OnceLock::new();
    let re = QUERY.get_or_init(|| {
        Regex::new(r#"(?P<name>[?&][^=&#\s'"]+=)(?P<value>[^&#\s'"]*)"#).expect("constant regex")
    });
    re.replace_all(text, |c: &Captures<'_>| {
        let name = &c["name"];
        if is_secret_param(&name[1..name.len() - 1]) {
            format!("{name}{MASK}")
        } else {
            c[0].to_string()
        }
    })
}

/// Query parameter names that carry credentials (`token`, `access_token`, `api_key`, `sig`, …).
fn is_secret_param(name: &str) -> bool {
    const PARAMS: &[&str] = &["auth", "key", "sig", "signature", "jwt", "session", "sid"];
    let lower = name.to_ascii_lowercase();
    is_secret_name(&lower)
        || PARAMS.contains(&lower.as_str())
        || lower.ends_with("_key")
        || lower.ends_with("-key")
        || lower.starts_with("x-amz-")
}

/// The curl command with the values of credential headers and query parameters masked.
pub fn curl(command: &str) -> Cow<'_, str> {
    match curl_headers(command) {
        Cow::Borrowed(c) => url(c),
        Cow::Owned(c) => Cow::Owned(url(&c).into_owned()),
    }
}

fn curl_headers(command: &str) -> Cow<'_, str> {
    static HEADER: OnceLock<Regex> = OnceLock::new();
    let re = HEADER.get_or_init(|| {
        // -H 'Name: value' | -H "Name: value" | -H Name:value (and --header).
        Regex::new(
            r#"(?P<flag>(?:-H|--header)\s+)(?:'(?P<sq>[^':]+):(?P<sv>[^']*)'|"(?P<dq>[^":]+):(?P<dv>[^"]*)"|(?P<uq>[^\s'":]+):(?P<uv>\S*))"#,
        )
        .expect("constant regex")
    });
    re.replace_all(command, |c: &Captures<'_>| {
        let flag = &c["flag"];
        let (quote, name, val) = if let Some(n) = c.name("sq") {
            ("'", n.as_str(), c.name("sv").map_or("", |m| m.as_str()))
        } else if let Some(n) = c.name("dq") {
            ("\"", n.as_str(), c.name("dv").map_or("", |m| m.as_str()))
        } else {
            (
                "",
                c.name("uq").map_or("", |m| m.as_str()),
                c.name("uv").map_or("", |m| m.as_str()),
            )
        };
        if is_secret_name(name) && quote.is_empty() {
            // Unquoted, a space would split the shell word.
            format!("{flag}{name}:{MASK}")
        } else if is_secret_name(name) {
            format!("{flag}{quote}{name}: {MASK}{quote}")
        } else {
            format!("{flag}{quote}{name}:{val}{quote}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_secret_name("Authorization"));
        assert!(is_secret_name("X-Auth-Token"));
        assert!(is_secret_name("cloudflare_api_token"));
        assert!(!is_secret_name("Sec-WebSocket-Key"));
        assert!(!is_secret_name("Origin"));
    }

    #[test]
    fn curl_headers_masked_in_every_quoting() {
        let cmd = "curl -sS -i -N -H 'Authorization: Bearer abc.def' -H \"Cookie: sid=42\" --header X-Api-Key:k3y -H 'Origin: https://example.com' https://example.com/ws";
        let out = curl(cmd);
        assert_eq!(
            out,
            "curl -sS -i -N -H 'Authorization: <redacted>' -H \"Cookie: <redacted>\" --header X-Api-Key:<redacted> -H 'Origin: https://example.com' https://example.com/ws"
        );
        assert!(!out.contains("abc.def") && !out.contains("sid=42") && !out.contains("k3y"));
    }

    #[test]
    fn credential_query_parameters_masked() {
        assert_eq!(
            url("wss://example.com/ws?room=7&token=abc.def&API_KEY=k#frag"),
            "wss://example.com/ws?room=7&token=<redacted>&API_KEY=<redacted>#frag"
        );
        assert_eq!(
            url("wss://example.com/ws?room=7"),
            "wss://example.com/ws?room=7"
        );
        assert_eq!(
            curl("curl -H 'Sec-WebSocket-Key: abc==' 'http://h/ws?access_token=xyz&x=1'"),
            "curl -H 'Sec-WebSocket-Key: abc==' 'http://h/ws?access_token=<redacted>&x=1'"
        );
        assert_eq!(
            url("https://s3/x?X-Amz-Signature=f00&X-Amz-Credential=AKIA"),
            "https://s3/x?X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>"
        );
    }

    #[test]
    fn fact_values() {
        assert_eq!(value("api_token", "xyz"), MASK);
        assert_eq!(value("websockets", "on"), "on");
    }
}
