//! Which known idle timeout (from the software tables) a drop matches.
//!
//! The match goes by the hop's software first and its kind second, and only then by the seconds:
//! a HAProxy `timeout server 2s` is still HAProxy's `timeout server`, even though no default is
//! 2 s.

use crate::hop::HopKind;
use crate::software::{idle_defaults, IdleDefault, Software};

/// A known timeout a drop is explained by.
#[derive(Debug, PartialEq, Eq)]
pub struct IdleMatch {
    pub default: &'static IdleDefault,
    /// The drop came at the default value itself (not a configured one).
    pub at_default: bool,
}

/// Known timeouts that can explain a drop after `elapsed_ms` at a hop, best first; empty when
/// nothing in the table fits the hop.
pub fn explain(software: Option<Software>, kind: HopKind, elapsed_ms: f64) -> Vec<IdleMatch> {
    let at_default = |d: &IdleDefault| {
        d.seconds.is_some_and(|s| {
            let s = f64::from(s) * 1000.0;
            // Timers fire a little late and the handshake takes a moment: 10 % or 2 s slack.
            (elapsed_ms - s).abs() <= (s * 0.1).max(2000.0)
        })
    };
    let matched = |d: &'static IdleDefault| IdleMatch {
        default: d,
        at_default: at_default(d),
    };
    if let Some(sw) = software {
        return idle_defaults()
            .filter(|d| d.software == sw)
            .map(matched)
            .collect();
    }
    let of_kind: Vec<&'static IdleDefault> = idle_defaults()
        .filter(|d| kind == HopKind::Unknown || d.software.natural_kind() == kind)
        .collect();
    // Unknown software: keep what the elapsed time fits (a default, or a timeout with no fixed
    // default), and fall back to every candidate of the kind.
    let fitting: Vec<IdleMatch> = of_kind
        .iter()
        .filter(|d| d.seconds.is_none() || at_default(d))
        .map(|d| matched(d))
        .collect();
    if fitting.is_empty() {
        of_kind.into_iter().map(matched).collect()
    } else {
        let mut fitting = fitting;
        // A drop at exactly a default is a stronger match than "some configured timeout".
        fitting.sort_by_key(|m| !m.at_default);
        fitting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn softwares(m: &[IdleMatch]) -> Vec<Software> {
        m.iter().map(|m| m.default.software).collect()
    }

    #[test]
    fn known_software_wins_whatever_the_seconds() {
        let m = explain(Some(Software::Nginx), HopKind::Proxy, 2000.0);
        assert_eq!(softwares(&m), vec![Software::Nginx]);
        assert!(!m[0].at_default);
        let m = explain(Some(Software::Nginx), HopKind::Proxy, 60_400.0);
        assert!(m[0].at_default);
    }

    #[test]
    fn unknown_lb_with_short_timeout_is_haproxy() {
        let m = explain(None, HopKind::Lb, 2100.0);
        assert_eq!(softwares(&m), vec![Software::Haproxy]);
    }

    #[test]
    fn unknown_lb_at_sixty_seconds_is_alb_first_then_haproxy() {
        let m = explain(None, HopKind::Lb, 60_050.0);
        assert_eq!(softwares(&m), vec![Software::AwsElb, Software::Haproxy]);
        assert!(m[0].at_default);
    }

    #[test]
    fn cdn_at_hundred_seconds_is_cloudflare() {
        let m = explain(None, HopKind::Cdn, 100_900.0);
        assert_eq!(softwares(&m), vec![Software::Cloudflare]);
        assert!(m[0].at_default);
    }

    #[test]
    fn unknown_proxy_off_default_lists_all_proxy_candidates() {
        let m = explain(None, HopKind::Proxy, 7000.0);
        assert_eq!(
            softwares(&m),
            vec![
                Software::Nginx,
                Software::Apache,
                // Its entrypoint's idleTimeout and (v3) readTimeout.
                Software::Traefik,
                Software::Traefik,
                Software::Envoy,
                Software::Varnish,
                Software::Squid,
                Software::Lighttpd,
                Software::H2o,
                Software::Tinyproxy
            ]
        );
        let m = explain(None, HopKind::Proxy, 300_000.0);
        assert_eq!(softwares(&m), vec![Software::Envoy, Software::H2o]);
    }

    #[test]
    fn varnish_and_squid_drops_name_their_own_settings() {
        let m = explain(Some(Software::Varnish), HopKind::Proxy, 60_020.0);
        assert!(m[0].at_default);
        assert!(m[0].default.setting.contains("pipe_timeout"));
        let m = explain(Some(Software::Squid), HopKind::Proxy, 2000.0);
        assert!(!m[0].at_default);
        assert!(m[0].default.fix.contains("read_timeout"));
    }

    #[test]
    fn backend_has_no_known_default() {
        assert!(explain(None, HopKind::Backend, 2000.0).is_empty());
        assert!(explain(Some(Software::BackendLibrary), HopKind::Backend, 2000.0).is_empty());
    }
}
