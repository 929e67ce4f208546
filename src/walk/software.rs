//! Which software a hop runs, so the walker can pick the right idle default and fix hint.
//!
//! The probe reports `answered_by` (who produced the bytes that came back); that is not always
//! the hop itself: HAProxy passes nginx's answer through unchanged, nginx passes the backend's
//! 426. So a hop's own software is read, in order, from provider/nginx facts attached to it, from
//! its name (`--hop haproxy=…`), from the `Server` header (nginx and Cloudflare put their own
//! there even on answers they pass along; HAProxy adds none), and only then from `answered_by` —
//! the last two only when that software naturally sits at the hop's kind.

use crate::finding::Fact;
use crate::hop::HopKind;
use crate::report::HopReport;

/// Software wspath knows the defaults and fixes of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Software {
    Cloudflare,
    CloudFront,
    /// AWS ALB/ELB (`Server: awselb/2.0`).
    AwsElb,
    Haproxy,
    Nginx,
    Envoy,
    Caddy,
    Traefik,
    Apache,
    Varnish,
    Squid,
    /// A WebSocket server library (python websockets, node ws, …): the application itself.
    BackendLibrary,
}

/// `answered_by` values and hop-name stems, lowercase, mapped to software. One table for both:
/// a hop named `haproxy` and a response fingerprinted `haproxy` mean the same thing.
const NAMES: &[(&str, Software)] = &[
    ("cloudflare", Software::Cloudflare),
    ("cf", Software::Cloudflare),
    ("cloudfront", Software::CloudFront),
    ("awselb", Software::AwsElb),
    ("alb", Software::AwsElb),
    ("elb", Software::AwsElb),
    ("haproxy", Software::Haproxy),
    ("nginx", Software::Nginx),
    ("openresty", Software::Nginx),
    ("envoy", Software::Envoy),
    ("caddy", Software::Caddy),
    ("traefik", Software::Traefik),
    ("apache", Software::Apache),
    ("httpd", Software::Apache),
    ("varnish", Software::Varnish),
    ("squid", Software::Squid),
];

/// `answered_by` values that say nothing about the software.
/// (`none`: nothing answered at all.)
const NOBODY: &[&str] = &["", "unknown", "none"];

impl Software {
    /// Where this software usually sits in a path.
    pub fn natural_kind(self) -> HopKind {
        match self {
            Software::Cloudflare | Software::CloudFront => HopKind::Cdn,
            Software::AwsElb | Software::Haproxy => HopKind::Lb,
            Software::Nginx
            | Software::Envoy
            | Software::Caddy
            | Software::Traefik
            | Software::Apache
            | Software::Varnish
            | Software::Squid => HopKind::Proxy,
            Software::BackendLibrary => HopKind::Backend,
        }
    }

    /// How a sentence names it.
    pub fn display(self) -> &'static str {
        match self {
            Software::Cloudflare => "Cloudflare",
            Software::CloudFront => "CloudFront",
            Software::AwsElb => "AWS ALB",
            Software::Haproxy => "HAProxy",
            Software::Nginx => "nginx",
            Software::Envoy => "Envoy",
            Software::Caddy => "Caddy",
            Software::Traefik => "Traefik",
            Software::Apache => "Apache httpd",
            Software::Varnish => "Varnish",
            Software::Squid => "Squid",
            Software::BackendLibrary => "the backend",
        }
    }

    /// The software an `answered_by` value names; any value the proxy table does not know is a
    /// backend library (the probe's fingerprints name those by library).
    pub fn from_answered_by(answered_by: &str) -> Option<Software> {
        let lower = answered_by.trim().to_ascii_lowercase();
        // "nginx/1.22.1" and "awselb/2.0" name their software before the slash.
        let stem = lower.split(['/', ' ']).next().unwrap_or("");
        if NOBODY.contains(&stem) {
            return None;
        }
        Some(lookup(stem).unwrap_or(Software::BackendLibrary))
    }

    /// The software a hop name implies (`nginx-1` → nginx); never a backend library.
    pub fn from_hop_name(name: &str) -> Option<Software> {
        let lower = name.to_ascii_lowercase();
        lookup(&lower).or_else(|| {
            let stem = lower
                .split(|c: char| !c.is_ascii_alphabetic())
                .find(|s| !s.is_empty())?;
            lookup(stem)
        })
    }

    /// The software behind a provider fact's `source` (`cloudflare`, `aws_alb`, `nginx`).
    pub fn from_fact_source(source: &str) -> Option<Software> {
        match source {
            "aws_alb" | "aws_elb" => Some(Software::AwsElb),
            other => lookup(&other.to_ascii_lowercase()),
        }
    }
}

fn lookup(name: &str) -> Option<Software> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The software the hop itself runs, as far as the evidence tells.
pub fn hop_software(hop: &HopReport) -> Option<Software> {
    let e = &hop.outcome.evidence;
    let server = e
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("server"))
        .map(|(_, v)| v.as_str());
    identify(
        &hop.name,
        hop.kind,
        server,
        &e.answered_by.to_string(),
        &hop.facts,
    )
}

fn identify(
    name: &str,
    kind: HopKind,
    server: Option<&str>,
    answered_by: &str,
    facts: &[Fact],
) -> Option<Software> {
    // An lb hop answered by nginx is HAProxy passing nginx's answer through: unknown, not nginx.
    let fits = |s: &Software| kind == HopKind::Unknown || s.natural_kind() == kind;
    facts
        .iter()
        .find_map(|f| Software::from_fact_source(&f.source))
        .or_else(|| Software::from_hop_name(name))
        .or_else(|| {
            server
                .and_then(Software::from_answered_by)
                // A backend's own Server header only tells when nothing else answered.
                .filter(|s| *s != Software::BackendLibrary)
                .filter(fits)
        })
        .or_else(|| Software::from_answered_by(answered_by).filter(fits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_by_values() {
        assert_eq!(
            Software::from_answered_by("nginx/1.22.1"),
            Some(Software::Nginx)
        );
        assert_eq!(Software::from_answered_by("awselb"), Some(Software::AwsElb));
        assert_eq!(
            Software::from_answered_by("python-websockets"),
            Some(Software::BackendLibrary)
        );
        assert_eq!(Software::from_answered_by("unknown"), None);
        assert_eq!(Software::from_answered_by(""), None);
        assert_eq!(Software::from_answered_by("none"), None);
    }

    #[test]
    fn hop_names() {
        assert_eq!(Software::from_hop_name("haproxy"), Some(Software::Haproxy));
        assert_eq!(Software::from_hop_name("nginx-2"), Some(Software::Nginx));
        assert_eq!(Software::from_hop_name("alb_eu"), Some(Software::AwsElb));
        assert_eq!(Software::from_hop_name("lb"), None);
        assert_eq!(Software::from_hop_name("backend"), None);
    }

    #[test]
    fn lb_passing_nginx_answer_is_not_nginx() {
        assert_eq!(
            identify("lb", HopKind::Lb, Some("nginx/1.22.1"), "nginx", &[]),
            None
        );
        assert_eq!(
            identify("lb", HopKind::Lb, None, "haproxy", &[]),
            Some(Software::Haproxy)
        );
        assert_eq!(
            identify("edge", HopKind::Cdn, Some("cloudflare"), "cloudflare", &[]),
            Some(Software::Cloudflare)
        );
        assert_eq!(
            identify("target", HopKind::Unknown, None, "nginx", &[]),
            Some(Software::Nginx)
        );
    }

    #[test]
    fn server_header_names_the_proxy_that_passed_a_backend_answer() {
        // One direct hop: nginx's Server header, the backend's 505 body.
        assert_eq!(
            identify(
                "target",
                HopKind::Unknown,
                Some("nginx/1.22.1"),
                "python-websockets",
                &[]
            ),
            Some(Software::Nginx)
        );
        // Straight at the backend: its own Server header and body.
        assert_eq!(
            identify(
                "target",
                HopKind::Unknown,
                Some("Python/3.11 websockets/14.1"),
                "python-websockets",
                &[]
            ),
            Some(Software::BackendLibrary)
        );
    }

    #[test]
    fn facts_win_over_names() {
        let facts = [Fact {
            source: "aws_alb".into(),
            name: "idle_timeout.timeout_seconds".into(),
            value: "60".into(),
        }];
        assert_eq!(
            identify("lb", HopKind::Lb, Some("nginx"), "nginx", &facts),
            Some(Software::AwsElb)
        );
    }
}
