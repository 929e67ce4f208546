//! Everything wspath knows about a piece of software, one table per software: how to recognise
//! it from evidence ([`answered_by`]), its default timeouts, and the advice for each verdict in
//! its own vocabulary ([`advice`]).
//!
//! The probe consults the tables to name who answered; the walker consults them to name what
//! runs at a hop and what to change there. Neither knows any software itself. A hop's name (or
//! `:KIND`) is only a prior: evidence overrides it ([`identify`]).
//!
//! Each table entry cites its source (the software's documentation, or a capture of a real
//! server made for wspath's tests) in a comment beside it.

pub mod advice;
pub mod answered_by;
pub mod change;
pub mod gateway;
pub mod identify;

/// What every software table file needs: the table types, the row builders and the short names
/// the rows use (`S::Apache`, `Sw(S::Apache)`, `V::Rejected`, `A::Apache`, `Server("…")`).
mod prelude {
    pub(super) use super::advice::Who::Software as Sw;
    pub(super) use super::advice::*;
    pub(super) use super::answered_by::{AnsweredBy as A, Clue::*};
    pub(super) use super::change::Change;
    pub(super) use super::{IdleDefault, Software as S, Table};
    pub(super) use crate::hop::HopKind;
    pub(super) use crate::verdict::Verdict as V;
}

mod apache;
mod apps;
mod aws_elb;
mod caddy;
mod cloudflare;
mod cloudfront;
mod envoy;
mod h2o;
mod haproxy;
mod lighttpd;
pub(crate) mod nginx;
mod squid;
mod tinyproxy;
mod traefik;
mod varnish;

pub use advice::{Hint, Inner, Who};
pub use answered_by::AnsweredBy;
pub use change::Change;
pub use identify::{identify, Confidence, Identified};

use crate::hop::HopKind;
use answered_by::Clue;

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
    Lighttpd,
    H2o,
    Tinyproxy,
    /// A WebSocket server library (python websockets, node ws, …): the application itself.
    BackendLibrary,
}

/// An idle timeout a software applies to a silent, upgraded connection.
#[derive(Debug, PartialEq, Eq)]
pub struct IdleDefault {
    pub software: Software,
    /// The out-of-the-box value; `None` when there is no fixed default worth comparing with.
    pub seconds: Option<u32>,
    /// The setting, as its documentation names it.
    pub setting: &'static str,
    pub fix: &'static str,
}

/// What wspath knows about one piece of software.
#[derive(Debug)]
pub struct Table {
    pub software: Software,
    /// The lowercase name used in JSON (`software.name`) and accepted as a hop-name stem.
    pub name: &'static str,
    /// How a sentence names it ("Apache httpd").
    pub display: &'static str,
    /// Where it usually sits in a path.
    pub kind: HopKind,
    /// Hop names (and their stems: `nginx-1`, `lb_eu`) that suggest it, besides `name`.
    pub aliases: &'static [&'static str],
    /// The fix when its WebSocket over HTTP/2 (RFC 8441) fails while HTTP/1.1 upgrades work;
    /// `None` when it has no setting of its own for that (or does not implement RFC 8441).
    pub http2: Option<&'static str>,
    /// What makes it change the request on the way in, per [`Change`], in its own directives
    /// (`{header}` names the header); see [`change`].
    pub changes: &'static [(Change, &'static str)],
    /// Clues in its answers, each with the `answered_by` value it implies.
    pub recognise: &'static [(Clue, AnsweredBy)],
    /// Idle timeouts that close silent WebSockets at this software.
    pub idle: &'static [IdleDefault],
    /// Advice per verdict, in its own vocabulary.
    pub advice: &'static [Hint],
}

/// Every table. Proxies and edges first; the application servers last.
pub const TABLES: &[&Table] = &[
    &nginx::TABLE,
    &haproxy::TABLE,
    &apache::TABLE,
    &caddy::TABLE,
    &traefik::TABLE,
    &envoy::TABLE,
    &varnish::TABLE,
    &squid::TABLE,
    &lighttpd::TABLE,
    &h2o::TABLE,
    &tinyproxy::TABLE,
    &cloudflare::TABLE,
    &aws_elb::TABLE,
    &cloudfront::TABLE,
    &apps::TABLE,
];

/// `answered_by` values that say nothing about the software (`none`: nothing answered at all).
const NOBODY: &[&str] = &["", "unknown", "none"];

impl Software {
    /// This software's table.
    pub fn table(self) -> &'static Table {
        TABLES
            .iter()
            .copied()
            .find(|t| t.software == self)
            .unwrap_or(&apps::TABLE)
    }

    /// Where this software usually sits in a path.
    pub fn natural_kind(self) -> HopKind {
        self.table().kind
    }

    /// How a sentence names it.
    pub fn display(self) -> &'static str {
        self.table().display
    }

    /// The lowercase name used in JSON.
    pub fn name(self) -> &'static str {
        self.table().name
    }

    /// Its idle timeouts.
    pub fn idle_defaults(self) -> &'static [IdleDefault] {
        self.table().idle
    }

    /// The software an `answered_by` value names; any value the proxy tables do not know is a
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
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|s| !s.is_empty())?;
            lookup(stem).or_else(|| {
                // "edge2", "nginx1": the letters before the digits.
                let letters: String = stem.chars().take_while(char::is_ascii_alphabetic).collect();
                lookup(&letters)
            })
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
    TABLES
        .iter()
        .filter(|t| t.software != Software::BackendLibrary)
        .find(|t| t.name == name || t.aliases.contains(&name))
        .map(|t| t.software)
}

/// Every idle timeout of every software.
pub fn idle_defaults() -> impl Iterator<Item = &'static IdleDefault> {
    TABLES.iter().flat_map(|t| t.idle.iter())
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
        assert_eq!(Software::from_answered_by("h2o"), Some(Software::H2o));
        assert_eq!(
            Software::from_answered_by("lighttpd"),
            Some(Software::Lighttpd)
        );
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
        assert_eq!(Software::from_hop_name("httpd"), Some(Software::Apache));
        assert_eq!(Software::from_hop_name("h2o"), Some(Software::H2o));
        assert_eq!(Software::from_hop_name("varnish2"), Some(Software::Varnish));
        assert_eq!(Software::from_hop_name("lb"), None);
        assert_eq!(Software::from_hop_name("backend"), None);
    }

    #[test]
    fn every_software_has_one_table_with_a_unique_name() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for t in TABLES {
            assert_eq!(t.software.table().name, t.name);
            for h in t.advice {
                assert!(
                    matches!(h.who, Who::Software(s) if s == t.software),
                    "{}: a row for {:?}",
                    t.name,
                    h.who
                );
            }
            for d in t.idle {
                assert_eq!(d.software, t.software);
            }
        }
    }
}
