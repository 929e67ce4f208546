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

/// A header or fact value: masked when its name is secret (an `Authorization` value keeps its
/// scheme: `Bearer <redacted>`), token-carrying subprotocol entries masked, and otherwise
/// secrets in URLs masked (a `Location` header can carry a `?token=`).
pub fn value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if is_secret_name(name) && !crate::probe::redact::is_secret_header(name) {
        return Cow::Borrowed(MASK);
    }
    match crate::probe::redact::shown_value(name, value) {
        Cow::Borrowed(v) => text(v),
        Cow::Owned(v) => Cow::Owned(text(&v).into_owned()),
    }
}

/// A URL, or any text holding URLs (an error message, a log line, a response body), with every
/// secret the policy knows by its shape masked: URL userinfo (`wss://user:pass@host`), the values
/// of query and matrix parameters with secret-looking names (`?token=`, `;jsessionid=`,
/// `X-Amz-Signature=`), and Kubernetes bearer subprotocols.
pub fn url(text: &str) -> Cow<'_, str> {
    // Text none of the patterns can match (each needs these characters) is returned as it is,
    // without compiling them: most of what a healthy check prints.
    let userinfo_possible = text.contains("://") && text.contains('@');
    let param_possible = text.contains('=') && text.contains(['?', '&', ';']);
    let k8s_possible = text
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"k8s"));
    if !(userinfo_possible || param_possible || k8s_possible) {
        return Cow::Borrowed(text);
    }
    static USERINFO: OnceLock<Regex> = OnceLock::new();
    static PARAM: OnceLock<Regex> = OnceLock::new();
    static K8S: OnceLock<Regex> = OnceLock::new();
    let userinfo = USERINFO.get_or_init(|| {
        Regex::new(r#"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/?#@\s'"<>]+)@"#)
            .expect("constant regex")
    });
    let param = PARAM.get_or_init(|| {
        Regex::new(r#"(?P<name>[?&;][^=&;#/?\s'"<>]+=)(?P<value>[^&;#\s'"<>]*)"#)
            .expect("constant regex")
    });
    let k8s = K8S.get_or_init(|| {
        Regex::new(r"(?i)(?P<prefix>base64url\.bearer\.authorization\.k8s\.io\.)[A-Za-z0-9_=-]+")
            .expect("constant regex")
    });
    let mut out = Cow::Borrowed(text);
    if let Cow::Owned(s) =
        userinfo.replace_all(&out, |c: &Captures<'_>| format!("{}{MASK}@", &c["scheme"]))
    {
        out = Cow::Owned(s);
    }
    if let Cow::Owned(s) = param.replace_all(&out, |c: &Captures<'_>| {
        let name = &c["name"];
        let value = &c["value"];
        // A matrix parameter's value ends at the next path segment or the query; what follows
        // is redacted on its own, so `;jsessionid=…?token=…&room=1` keeps its shape.
        let (value, rest) = match value.find(['?', '/']) {
            Some(i) if name.starts_with(';') => (&value[..i], &value[i..]),
            _ => (value, ""),
        };
        // An empty value hides nothing (and is what an already masked value looks like here).
        let head = if is_secret_param(&name[1..name.len() - 1]) && !value.is_empty() {
            format!("{name}{MASK}")
        } else {
            format!("{name}{value}")
        };
        format!("{head}{}", url(rest))
    }) {
        out = Cow::Owned(s);
    }
    if let Cow::Owned(s) =
        k8s.replace_all(&out, |c: &Captures<'_>| format!("{}{MASK}", &c["prefix"]))
    {
        out = Cow::Owned(s);
    }
    out
}

/// Free text (details, summaries, bodies, error messages, log lines, nginx configuration in a
/// fix's diff): [`url`]'s rules, and the values of credential headers an nginx directive sets
/// (`proxy_set_header Authorization "Bearer …";`).
pub fn text(text: &str) -> Cow<'_, str> {
    let shaped = url(text);
    // Every directive the pattern names contains one of these; without them the pattern is
    // not even compiled.
    if !(shaped.contains("_header") || shaped.contains("_param")) {
        return shaped;
    }
    static DIRECTIVE: OnceLock<Regex> = OnceLock::new();
    let re = DIRECTIVE.get_or_init(|| {
        Regex::new(
            r#"(?P<lead>\b(?:proxy_set_header|grpc_set_header|add_header|more_set_headers|more_set_input_headers|fastcgi_param|uwsgi_param|scgi_param)\s+['"]?(?P<name>[A-Za-z0-9_-]+)['"]?:?\s+)(?P<value>"[^"\n]*"|'[^'\n]*'|[^;\s]+)"#,
        )
        .expect("constant regex")
    });
    if !re.is_match(&shaped) {
        return shaped;
    }
    let masked = re
        .replace_all(&shaped, |c: &Captures<'_>| {
            let name = &c["name"];
            if is_secret_name(name) || is_secret_name(&name.replace('_', "-")) {
                let value = &c["value"];
                let quote = if value.starts_with(['"', '\'']) {
                    &value[..1]
                } else {
                    ""
                };
                format!("{}{quote}{MASK}{quote}", &c["lead"])
            } else {
                c[0].to_string()
            }
        })
        .into_owned();
    Cow::Owned(masked)
}

/// Query and matrix parameter names that carry credentials: `token`, `access_token`, `key`,
/// `api_key`, `secret`, `password`/`passwd`, `auth…`, `session`/`sid`/`jsessionid`, `sig`,
/// `signature`, `jwt`, `code`, and every `X-Amz-*` (a presigned URL is a credential).
pub fn is_secret_param(name: &str) -> bool {
    const PARAMS: &[&str] = &[
        "key",
        "sig",
        "signature",
        "jwt",
        "sid",
        "code",
        "pass",
        "pwd",
    ];
    const FRAGMENTS: &[&str] = &[
        "token",
        "secret",
        "passw",
        "passwd",
        "session",
        "sessid",
        "signature",
        "credential",
    ];
    let lower = name.to_ascii_lowercase();
    is_secret_name(&lower)
        || PARAMS.contains(&lower.as_str())
        || FRAGMENTS.iter().any(|f| lower.contains(f))
        || lower.starts_with("auth")
        || lower.ends_with("key")
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
        } else if is_secret_name(name) || name.eq_ignore_ascii_case("sec-websocket-protocol") {
            format!("{flag}{quote}{name}: {}{quote}", value(name, val.trim()))
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
            "curl -sS -i -N -H 'Authorization: Bearer <redacted>' -H \"Cookie: <redacted>\" --header X-Api-Key:<redacted> -H 'Origin: https://example.com' https://example.com/ws"
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
    fn a_matrix_parameter_ends_at_the_query() {
        assert_eq!(
            url("/ws;jsessionid=ABC?token=XYZ&room=1"),
            "/ws;jsessionid=<redacted>?token=<redacted>&room=1"
        );
        assert_eq!(
            url("/a;jsessionid=ABC/b;v=1?x=1"),
            "/a;jsessionid=<redacted>/b;v=1?x=1"
        );
        assert_eq!(url("/a?token=a?b&x=1"), "/a?token=<redacted>&x=1");
    }

    #[test]
    fn userinfo_matrix_and_more_names() {
        assert_eq!(
            url("invalid target URL 'wss://alice:hunter2@example.com/ws'"),
            "invalid target URL 'wss://<redacted>@example.com/ws'"
        );
        assert_eq!(
            url("GET /app;jsessionid=ABC123;v=1/ws?x=1&password=p&X-Amz-Date=1&sessionid=s HTTP/1.1"),
            "GET /app;jsessionid=<redacted>;v=1/ws?x=1&password=<redacted>&X-Amz-Date=<redacted>&sessionid=<redacted> HTTP/1.1"
        );
        assert_eq!(
            url("?authkey=a&passwd=b&secret=c&sig=d"),
            "?authkey=<redacted>&passwd=<redacted>&secret=<redacted>&sig=<redacted>"
        );
        assert_eq!(url("?room=7&page=2"), "?room=7&page=2");
        assert_eq!(
            url("protocol base64url.bearer.authorization.k8s.io.ZXlKaGJHY2k rejected"),
            "protocol base64url.bearer.authorization.k8s.io.<redacted> rejected"
        );
        assert_eq!(value("Authorization", "Bearer abc"), "Bearer <redacted>");
        assert_eq!(
            value("Location", "https://u:p@h/?token=t"),
            "https://<redacted>@h/?token=<redacted>"
        );
        assert_eq!(
            curl("curl -H 'Authorization: Bearer abc' -H 'Sec-WebSocket-Protocol: chat, base64url.bearer.authorization.k8s.io.abc' http://h/"),
            "curl -H 'Authorization: Bearer <redacted>' -H 'Sec-WebSocket-Protocol: chat, base64url.bearer.authorization.k8s.io.<redacted>' http://h/"
        );
    }

    #[test]
    fn nginx_directives_setting_credentials() {
        assert_eq!(
            text("+      proxy_set_header Authorization \"Bearer abc\";\n proxy_set_header Host $host;"),
            "+      proxy_set_header Authorization \"<redacted>\";\n proxy_set_header Host $host;"
        );
        assert_eq!(
            text("fastcgi_param HTTP_X_API_KEY k3y;"),
            "fastcgi_param HTTP_X_API_KEY <redacted>;"
        );
    }

    #[test]
    fn fact_values() {
        assert_eq!(value("api_token", "xyz"), MASK);
        assert_eq!(value("websockets", "on"), "on");
    }
}
