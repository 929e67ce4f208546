//! One layer of the path (CDN edge, load balancer, reverse proxy, backend) and the
//! `--hop NAME[:KIND][=ADDRESS]` syntax that names it.

use crate::target::{bracket, Scheme, Target};
use crate::Error;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HopKind {
    Cdn,
    Lb,
    Proxy,
    Backend,
    Unknown,
}

impl HopKind {
    /// The kind a well-known hop name implies (`edge` → cdn, `haproxy` → lb, …).
    pub fn infer(name: &str) -> HopKind {
        const NAMES: &[(&str, HopKind)] = &[
            ("edge", HopKind::Cdn),
            ("cdn", HopKind::Cdn),
            ("cloudflare", HopKind::Cdn),
            ("cf", HopKind::Cdn),
            ("cloudfront", HopKind::Cdn),
            ("lb", HopKind::Lb),
            ("alb", HopKind::Lb),
            ("elb", HopKind::Lb),
            ("nlb", HopKind::Lb),
            ("haproxy", HopKind::Lb),
            ("nginx", HopKind::Proxy),
            ("proxy", HopKind::Proxy),
            ("ingress", HopKind::Proxy),
            ("envoy", HopKind::Proxy),
            ("caddy", HopKind::Proxy),
            ("traefik", HopKind::Proxy),
            ("backend", HopKind::Backend),
            ("origin", HopKind::Backend),
            ("app", HopKind::Backend),
            ("upstream", HopKind::Backend),
            ("server", HopKind::Backend),
        ];
        let lower = name.to_ascii_lowercase();
        // "nginx-1", "lb_eu" and "edge2" name the same kind as their stem.
        let stem = lower
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|s| !s.is_empty())
            .unwrap_or("");
        NAMES
            .iter()
            .find(|(n, _)| *n == lower || *n == stem)
            .map(|(_, k)| *k)
            .unwrap_or(HopKind::Unknown)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HopKind::Cdn => "cdn",
            HopKind::Lb => "lb",
            HopKind::Proxy => "proxy",
            HopKind::Backend => "backend",
            HopKind::Unknown => "unknown",
        }
    }
}

impl FromStr for HopKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cdn" => Ok(HopKind::Cdn),
            "lb" => Ok(HopKind::Lb),
            "proxy" => Ok(HopKind::Proxy),
            "backend" => Ok(HopKind::Backend),
            "unknown" => Ok(HopKind::Unknown),
            other => Err(format!(
                "unknown kind '{other}' (expected cdn, lb, proxy, backend or unknown)"
            )),
        }
    }
}

impl fmt::Display for HopKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a hop is reached: an explicit address, or the target as DNS resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopAddress {
    pub host: String,
    pub port: Option<u16>,
    /// Set when the address was a `ws://`/`wss://` URL.
    pub scheme: Option<Scheme>,
    /// Set when the address URL had a path (the path used at this hop).
    pub path: Option<String>,
}

/// A `--hop` as the user wrote it, before it is resolved against the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopSpec {
    pub name: String,
    pub kind: HopKind,
    pub address: Option<HopAddress>,
}

impl HopSpec {
    /// Parses `NAME[:KIND][=ADDRESS]`; ADDRESS is `host:port`, `[v6]:port`, or a ws/wss URL.
    pub fn parse(input: &str) -> Result<HopSpec, Error> {
        let bad = |reason: String| Error::InvalidHop {
            input: input.to_string(),
            reason,
        };
        let (label, address) = match input.split_once('=') {
            Some((l, a)) => (l, Some(a)),
            None => (input, None),
        };
        let (name, kind) = match label.split_once(':') {
            Some((n, k)) => (n, Some(k.parse::<HopKind>().map_err(bad)?)),
            None => (label, None),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(bad(format!(
                "hop name '{name}' must be non-empty letters, digits, '-', '_' or '.'"
            )));
        }
        let kind = kind.unwrap_or_else(|| HopKind::infer(name));
        let address = match address {
            None => None,
            Some(a) => Some(parse_address(a).map_err(bad)?),
        };
        Ok(HopSpec {
            name: name.to_string(),
            kind,
            address,
        })
    }

    /// Fills in what the hop inherits from the target (scheme, port, path).
    pub fn resolve(&self, target: &Target) -> Hop {
        let (connect, scheme, path) = match &self.address {
            None => (None, target.scheme, target.path.clone()),
            Some(a) => {
                let scheme = a.scheme.unwrap_or(target.scheme);
                let port = a.port.unwrap_or(match a.scheme {
                    Some(s) => s.default_port(),
                    None => target.port,
                });
                (
                    Some((a.host.clone(), port)),
                    scheme,
                    a.path.clone().unwrap_or_else(|| target.path.clone()),
                )
            }
        };
        Hop {
            name: self.name.clone(),
            kind: self.kind,
            connect,
            scheme,
            path,
            scheme_inherited: self.address.as_ref().is_some_and(|a| a.scheme.is_none()),
        }
    }
}

fn parse_address(a: &str) -> Result<HopAddress, String> {
    if a.is_empty() {
        return Err("empty address after '='".into());
    }
    if a.contains("://") {
        let url = url::Url::parse(a).map_err(|e| format!("address URL: {e}"))?;
        let scheme = match url.scheme() {
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            other => {
                return Err(format!(
                    "address scheme '{other}' is not ws:// or wss://{}",
                    websocket_scheme_hint(other)
                ))
            }
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(h)) => h.to_string(),
            Some(h) => h.to_string(),
            None => return Err("address URL has no host".into()),
        };
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        // `ws://10.0.1.5:80` (no path written) keeps the target's path; url normalises it to "/".
        let path = if a
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'))
        {
            Some(path)
        } else {
            None
        };
        return Ok(HopAddress {
            host,
            port: url.port(),
            scheme: Some(scheme),
            path,
        });
    }
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in IPv6 address".to_string())?;
        match after {
            "" => (h.to_string(), None),
            p if p.starts_with(':') => (h.to_string(), Some(parse_port(&p[1..])?)),
            _ => return Err(format!("unexpected '{after}' after ']'")),
        }
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => {
                if let Some((port, path)) = p.split_once('/') {
                    return Err(format!(
                        "a path needs a URL: write ws://{h}:{port}/{path} (or wss://…)"
                    ));
                }
                (h.to_string(), Some(parse_port(p)?))
            }
            Some(_) => return Err("IPv6 addresses need brackets: [::1]:8080".into()),
            None => (a.to_string(), None),
        }
    };
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(format!("'{host}' is not a host name or IP address"));
    }
    Ok(HopAddress {
        host,
        port,
        scheme: None,
        path: None,
    })
}

/// The WebSocket scheme for the HTTP one a user pasted (a page's URL, a proxy's upstream).
pub(crate) fn websocket_scheme_hint(scheme: &str) -> &'static str {
    match scheme {
        "https" => ": for TLS write wss://",
        "http" => ": for plain HTTP write ws://",
        _ => "",
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("port '{p}' is not a number from 1 to 65535")),
        Ok(n) => Ok(n),
    }
}

/// A hop resolved against the target: what to connect to and what to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub name: String,
    pub kind: HopKind,
    /// `None`: the target's own host and port as DNS resolves them.
    pub connect: Option<(String, u16)>,
    pub scheme: Scheme,
    /// The request path sent at this hop.
    pub path: String,
    /// The address named no scheme, so the hop took the target's. A bare `host:port` behind a
    /// TLS edge is often a plain port: the probe then falls back to ws:// there.
    pub scheme_inherited: bool,
}

impl Hop {
    /// The hop for a target with no `--hop`: the target itself.
    pub fn direct(target: &Target) -> Hop {
        Hop {
            name: "target".to_string(),
            kind: HopKind::Unknown,
            connect: None,
            scheme: target.scheme,
            path: target.path.clone(),
            scheme_inherited: false,
        }
    }

    /// `host:port` this hop connects to.
    pub fn address(&self, target: &Target) -> String {
        match &self.connect {
            Some((h, p)) => format!("{}:{p}", bracket(h)),
            None => format!("{}:{}", bracket(&target.host), target.port),
        }
    }
}
