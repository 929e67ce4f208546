//! The URL the user's clients open, and the Host/SNI/Origin every hop is sent.

use crate::Error;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Ws,
    Wss,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }
    pub fn is_tls(self) -> bool {
        self == Scheme::Wss
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `wss://example.com/ws/chat`: scheme, host, port and path (with query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub scheme: Scheme,
    /// Host as written, without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl Target {
    /// Parses `ws://…`, `wss://…`, or `host[:port][/path]` (then `wss://`).
    pub fn parse(input: &str) -> Result<Target, Error> {
        // The message echoes the input: never with a password or token in it. Redacted only
        // when there is an error to show (a valid target would pay for it on every run).
        let shown = || {
            if input.contains("://") {
                crate::report::redact::url(input).into_owned()
            } else {
                let r = crate::report::redact::url(&format!("x://{input}")).into_owned();
                r.strip_prefix("x://").unwrap_or(&r).to_string()
            }
        };
        let bad = |reason: &str| Error::InvalidTarget {
            input: shown(),
            reason: reason.to_string(),
        };
        let not_a_url = |reason: &str| {
            bad(&format!(
                "{reason}; expected ws://HOST[:PORT][/PATH], wss://… or HOST[:PORT][/PATH]"
            ))
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(bad("empty"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(not_a_url(
                "a URL cannot contain spaces or control characters",
            ));
        }
        // `url` reads `ws:///ws` as host "ws"; a URL whose authority is empty has no host.
        if trimmed
            .split_once("://")
            .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with('/'))
        {
            return Err(bad("no host"));
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("wss://{trimmed}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| match e {
            url::ParseError::IdnaError | url::ParseError::InvalidDomainCharacter => {
                not_a_url("the host is not a valid host name")
            }
            url::ParseError::InvalidPort => bad("the port must be a number from 1 to 65535"),
            e => not_a_url(&e.to_string()),
        })?;
        let scheme = match url.scheme() {
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            other => {
                let hint = match crate::hop::websocket_scheme_hint(other) {
                    "" => " (WebSocket URLs use ws:// or wss://)",
                    hint => hint,
                };
                return Err(bad(&format!(
                    "scheme '{other}' is not ws:// or wss://{hint}"
                )));
            }
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(bad("no host")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials in the URL are not supported; use -H Authorization:…",
            ));
        }
        let port = url.port().unwrap_or(scheme.default_port());
        if port == 0 {
            return Err(bad(
                "port 0 cannot be connected to; the port must be 1 to 65535",
            ));
        }
        let mut path = url.path().to_string();
        if path.is_empty() {
            path.push('/');
        }
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(Target {
            scheme,
            host,
            port,
            path,
        })
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = bracket(&self.host);
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The origin a browser on the target's site would send.
    pub fn default_origin(&self) -> String {
        let http = if self.scheme.is_tls() {
            "https"
        } else {
            "http"
        };
        format!("{http}://{}", self.host_header())
    }

    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host_header(), self.path)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// IPv6 literals need brackets in URLs, Host headers and `host:port` strings.
pub fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_means_wss_and_root_path() {
        let t = Target::parse("example.com").unwrap();
        assert_eq!((t.scheme, t.port, t.path.as_str()), (Scheme::Wss, 443, "/"));
        assert_eq!(t.default_origin(), "https://example.com");
    }

    #[test]
    fn port_path_and_query_are_kept() {
        let t = Target::parse("ws://[::1]:8080/ws/chat?room=1").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.host_header(), "[::1]:8080");
        assert_eq!(t.path, "/ws/chat?room=1");
    }

    #[test]
    fn bad_urls_name_the_problem() {
        for (input, reason) in [
            ("http://example.com", "scheme 'http'"),
            ("ws:///ws", "no host"),
            ("wss://", "no host"),
            ("", "empty"),
            ("ws://user:pw@example.com", "credentials"),
        ] {
            let e = Target::parse(input).unwrap_err().to_string();
            assert!(e.contains(reason), "{input}: {e}");
        }
    }
}
