//! The SSRF guard of `/probe`: whoever can reach the exporter can make it open connections, so
//! every address a probe would connect to must match an `--allow` pattern (or be written
//! literally in a configured module).
//!
//! Patterns: a host glob (`*.example.com`, `app.test`), an IP address, a CIDR (`10.0.0.0/8`,
//! `::1/128`), or any of those with `:PORT` (`app.test:443`, `[::1]:8080`). Host names are
//! matched as written, not resolved; CIDRs match IP addresses only.

use crate::Error;
use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Debug, Clone)]
enum HostPattern {
    Glob(glob::Pattern),
    Ip(IpAddr),
    Net(IpNet),
}

#[derive(Debug, Clone)]
struct Rule {
    host: HostPattern,
    port: Option<u16>,
}

/// The `--allow` patterns; empty allows nothing.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    rules: Vec<Rule>,
    /// As given, for messages.
    patterns: Vec<String>,
}

impl AllowList {
    /// Parses each `--allow` pattern; a bad one is an error naming it.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<AllowList, Error> {
        let mut list = AllowList::default();
        for p in patterns {
            let p = p.as_ref();
            list.rules
                .push(rule(p).map_err(|reason| Error::InvalidFlag {
                    flag: "--allow",
                    input: p.to_string(),
                    reason,
                })?);
            list.patterns.push(p.to_string());
        }
        Ok(list)
    }

    /// Whether connecting to `host:port` is allowed.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        let lower = host.to_ascii_lowercase();
        self.rules.iter().any(|r| {
            r.port.map_or(true, |p| p == port)
                && match (&r.host, ip) {
                    (HostPattern::Ip(a), Some(ip)) => *a == ip,
                    (HostPattern::Net(n), Some(ip)) => n.contains(&ip),
                    (HostPattern::Glob(g), _) => g.matches_with(
                        &lower,
                        glob::MatchOptions {
                            case_sensitive: false,
                            require_literal_separator: false,
                            require_literal_leading_dot: false,
                        },
                    ),
                    _ => false,
                }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

fn rule(p: &str) -> Result<Rule, String> {
    if p.is_empty() || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a non-empty host glob, IP, CIDR or host:port".into());
    }
    // `[v6]:port`, `[v6]`, `host:port`, a bare IPv6 (several colons) or a bare host.
    let (host, port) = if let Some(rest) = p.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| "'[' without ']'".to_string())?;
        match after.strip_prefix(':') {
            Some(port) => (h, Some(port)),
            None if after.is_empty() => (h, None),
            None => return Err(format!("unexpected '{after}' after ']'")),
        }
    } else if p.matches(':').count() == 1 {
        let (h, port) = p.split_once(':').unwrap_or((p, ""));
        (h, Some(port))
    } else {
        (p, None)
    };
    let port = match port {
        Some(s) => Some(
            s.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("port '{s}' must be 1-65535"))?,
        ),
        None => None,
    };
    let host = if let Ok(ip) = host.parse::<IpAddr>() {
        HostPattern::Ip(ip)
    } else if host.contains('/') {
        HostPattern::Net(
            host.parse::<IpNet>()
                .map_err(|e| format!("CIDR '{host}': {e}"))?
                .trunc(),
        )
    } else {
        HostPattern::Glob(
            glob::Pattern::new(&host.to_ascii_lowercase())
                .map_err(|e| format!("host glob '{host}': {e}"))?,
        )
    };
    Ok(Rule { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(p: &[&str]) -> AllowList {
        AllowList::parse(p).unwrap()
    }

    #[test]
    fn empty_allows_nothing() {
        assert!(!AllowList::default().allows("127.0.0.1", 80));
    }

    #[test]
    fn globs_match_host_names() {
        let l = list(&["*.example.com", "app.test"]);
        assert!(l.allows("chat.example.com", 443));
        assert!(l.allows("A.B.Example.COM", 80));
        assert!(l.allows("app.test", 8080));
        assert!(!l.allows("example.com", 443));
        assert!(!l.allows("app.test.evil", 443));
        assert!(!l.allows("169.254.169.254", 80));
    }

    #[test]
    fn ips_and_cidrs_match_addresses() {
        let l = list(&["10.0.0.0/8", "192.0.2.7", "::1/128"]);
        assert!(l.allows("10.1.2.3", 80));
        assert!(l.allows("192.0.2.7", 1));
        assert!(l.allows("[::1]", 9000));
        assert!(!l.allows("192.0.2.8", 80));
        assert!(!l.allows("11.0.0.1", 80));
        // A CIDR says nothing about names (they are not resolved).
        assert!(!l.allows("localhost", 80));
    }

    #[test]
    fn ports_narrow_a_rule() {
        let l = list(&["127.0.0.1:8080", "[::1]:9", "*.test:443", "10.0.0.0/8:80"]);
        assert!(l.allows("127.0.0.1", 8080));
        assert!(!l.allows("127.0.0.1", 8081));
        assert!(l.allows("::1", 9));
        assert!(l.allows("a.test", 443) && !l.allows("a.test", 80));
        assert!(l.allows("10.9.9.9", 80) && !l.allows("10.9.9.9", 22));
    }

    #[test]
    fn bad_patterns_name_themselves() {
        for (p, says) in [
            ("", "non-empty"),
            ("a.test:0", "port '0'"),
            ("a.test:http", "port 'http'"),
            ("10.0.0.0/99", "CIDR"),
            ("[::1", "without ']'"),
            ("[a[", "without ']'"),
        ] {
            let e = AllowList::parse(&[p]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --allow '{p}'")), "{e}");
            assert!(e.contains(says), "{p}: {e}");
        }
    }
}
