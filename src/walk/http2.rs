//! The culprit on the HTTP/2 path (pure): a hop whose HTTP/1.1 upgrade works but whose advertised
//! WebSocket over HTTP/2 (RFC 8441) fails breaks every client that takes that path — Firefox
//! wherever a TLS hop advertises it, and Chromium when it already holds an h2 connection to the
//! origin — while an HTTP/1.1 check says healthy.
//!
//! Only hops clients reach over HTTP/2 count: the outermost TLS hop, and each hop behind one that
//! advertises RFC 8441 (it may forward the stream over h2). A hop that does not advertise it
//! reaches the next over HTTP/1.1, so the HTTP/2 question ends there.

use crate::report::{Culprit, HopReport, Protocol};
use crate::software::Software;
use crate::verdict::Verdict;

/// Who breaks WebSockets over HTTP/2, and why, for the summary.
const FOR_WHOM: &str = "clients that open WebSockets over HTTP/2 (Firefox, and Chromium when it already holds an h2 connection to the origin) break at this hop";

/// The index of the hop where the HTTP/2 path breaks while its HTTP/1.1 upgrade works, if it
/// does.
pub fn select(hops: &[HopReport]) -> Option<usize> {
    for (i, hop) in hops.iter().enumerate() {
        let h2 = hop.http2.as_ref()?;
        if h2.failed() {
            if !hop.outcome.verdict.passed() {
                // Broken for every client: the HTTP/1.1 culprit says why.
                return None;
            }
            // The hop behind gives the same answer on its own h2 path: this hop passes it on.
            let passes_on = hops.get(i + 1).is_some_and(|inner| {
                h2.offers_websockets()
                    && inner.http2.as_ref().is_some_and(|i2| {
                        i2.failed()
                            && i2.probe.as_ref().map(|p| p.evidence.status)
                                == h2.probe.as_ref().map(|p| p.evidence.status)
                    })
            });
            if !passes_on {
                return Some(i);
            }
        } else if !h2.offers_websockets() {
            return None;
        }
    }
    None
}

/// The culprit's sentence and fix for the HTTP/2 path of `hops[index]`.
pub fn compose(hops: &[HopReport], index: usize) -> Option<Culprit> {
    let hop = &hops[index];
    let p = hop.http2.as_ref()?.probe.as_ref()?;
    let idle_dropped = p.idle.as_ref().is_some_and(|i| i.dropped);
    let evidence = p.detail.split(" — ").next().unwrap_or("").trim();
    let what = match p.verdict {
        _ if idle_dropped || p.verdict == Verdict::IdleDropped => {
            format!("drops the idle WebSocket over HTTP/2 ({evidence})")
        }
        Verdict::FramesFailed => {
            format!("opens the WebSocket over HTTP/2 but does not carry frames ({evidence})")
        }
        Verdict::BadAccept => {
            format!("answers the RFC 8441 extended CONNECT with an invalid 2xx ({evidence})")
        }
        _ if p.evidence.status.is_some() => {
            format!("refuses the WebSocket over HTTP/2: the RFC 8441 extended CONNECT is answered {evidence}")
        }
        v => format!(
            "fails the WebSocket over HTTP/2 ({}: {evidence})",
            v.title()
        ),
    };
    let software = Software::from_answered_by(&p.evidence.answered_by.to_string())
        .filter(|s| *s != Software::BackendLibrary)
        .or_else(|| hop.software.as_ref().map(|s| s.name));
    let fix = fix_for(software).to_string();
    let summary = format!(
        "{} ({}) {what} while its HTTP/1.1 upgrade works: {FOR_WHOM} — {fix}",
        hop.name, hop.address
    );
    Some(Culprit {
        hop: hop.name.clone(),
        kind: hop.kind,
        verdict: if idle_dropped {
            Verdict::IdleDropped
        } else {
            p.verdict
        },
        summary,
        fix: Some(fix),
        protocol: Protocol::H2,
        browser: None,
    })
}

/// The fix in the words of the software that answered: its table's, else the general one.
fn fix_for(software: Option<Software>) -> &'static str {
    software
        .and_then(|s| s.table().http2)
        .unwrap_or(H2_GENERAL_FIX)
}

/// For software without a fix of its own in its table.
const H2_GENERAL_FIX: &str = "find what treats HTTP/2 requests differently at this hop (a rule keyed on the HTTP version, a WAF rule against CONNECT, an h2 route or backend without WebSocket support) and let the WebSocket through, or stop advertising SETTINGS_ENABLE_CONNECT_PROTOCOL so these clients use HTTP/1.1";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::HopSpec;
    use crate::probe::http2::Http2Outcome;
    use crate::probe::{Browser, IdleOutcome};
    use crate::report::sample::outcome;
    use crate::report::Report;
    use crate::target::Target;

    fn target() -> Target {
        Target::parse("wss://app.test/ws").unwrap()
    }

    fn hop(name: &str, verdict: Verdict, http2: Option<Http2Outcome>) -> HopReport {
        let t = target();
        let h = HopSpec::parse(&format!("{name}=127.0.0.1:443"))
            .unwrap()
            .resolve(&t);
        let mut report = HopReport::new(&h, &t, outcome(verdict, Some(101), "python-websockets"));
        report.http2 = http2;
        report
    }

    /// h2 chosen, RFC 8441 advertised, the WebSocket over it answered `status` by `by`.
    fn probed(verdict: Verdict, status: u16, by: &str) -> Option<Http2Outcome> {
        let mut p = outcome(verdict, Some(status), by);
        p.detail = format!("{status} Forbidden: \"denied\" — a rule refused it");
        Some(Http2Outcome {
            alpn: Some("h2".into()),
            extended_connect: true,
            probe: Some(p),
            note: None,
        })
    }

    fn not_advertised() -> Option<Http2Outcome> {
        Some(Http2Outcome {
            alpn: Some("h2".into()),
            extended_connect: false,
            probe: None,
            note: Some("speaks HTTP/2 without RFC 8441".into()),
        })
    }

    #[test]
    fn an_h2_refusal_behind_a_working_http1_upgrade_is_the_culprit() {
        let hops = vec![
            hop(
                "lb",
                Verdict::Upgraded,
                probed(Verdict::Rejected, 403, "haproxy"),
            ),
            hop("backend", Verdict::Upgraded, None),
        ];
        assert_eq!(select(&hops), Some(0));
        let c = compose(&hops, 0).unwrap();
        assert_eq!(c.protocol, Protocol::H2);
        assert_eq!(c.verdict, Verdict::Rejected);
        assert!(c.summary.contains("Firefox"), "{}", c.summary);
        assert!(c.summary.contains("403"), "{}", c.summary);
        let fix = c.fix.unwrap();
        assert!(
            fix.contains("h2-workaround-bogus-websocket-clients"),
            "{fix}"
        );

        // The same through Report: exit 1, culprit.protocol h2.
        let report = Report::new(&target(), hops);
        assert!(!report.ok);
        assert_eq!(report.culprit.map(|c| c.protocol), Some(Protocol::H2));
    }

    #[test]
    fn apache_gets_its_own_fix_and_a_broken_http1_hop_is_not_an_h2_culprit() {
        let hops = vec![hop(
            "apache",
            Verdict::Upgraded,
            probed(Verdict::Rejected, 403, "apache"),
        )];
        let fix = compose(&hops, 0).unwrap().fix.unwrap();
        assert!(fix.contains("H2WebSockets off"), "{fix}");

        let hops = vec![hop(
            "lb",
            Verdict::BadGateway,
            probed(Verdict::BadGateway, 502, "haproxy"),
        )];
        assert_eq!(select(&hops), None);
    }

    #[test]
    fn a_hop_without_rfc_8441_ends_the_h2_question() {
        let hops = vec![
            hop("edge", Verdict::Upgraded, not_advertised()),
            hop(
                "lb",
                Verdict::Upgraded,
                probed(Verdict::Rejected, 403, "haproxy"),
            ),
        ];
        assert_eq!(select(&hops), None);
        assert!(Report::new(&target(), hops).ok);
        // A plain hop in front ends it too.
        let hops = vec![
            hop("edge", Verdict::Upgraded, None),
            hop(
                "lb",
                Verdict::Upgraded,
                probed(Verdict::Rejected, 403, "haproxy"),
            ),
        ];
        assert_eq!(select(&hops), None);
    }

    #[test]
    fn the_same_h2_answer_further_in_is_where_it_begins() {
        let hops = vec![
            hop(
                "lb",
                Verdict::Upgraded,
                probed(Verdict::Rejected, 403, "apache"),
            ),
            hop(
                "apache",
                Verdict::Upgraded,
                probed(Verdict::Rejected, 403, "apache"),
            ),
        ];
        assert_eq!(select(&hops), Some(1));
    }

    #[test]
    fn firefox_meets_the_h2_break_before_a_deeper_http1_one() {
        let mut backend = hop("backend", Verdict::Upgraded, None);
        backend.outcome.idle = Some(IdleOutcome {
            held_ms: 2000.0,
            dropped: true,
            dropped_after_ms: Some(2000.0),
            close_code: Some(1006),
            close_reason: None,
        });
        backend.outcome.verdict = Verdict::IdleDropped;
        let hops = vec![
            hop(
                "lb",
                Verdict::Upgraded,
                probed(Verdict::Rejected, 403, "haproxy"),
            ),
            backend,
        ];
        let plain = Report::new_as(&target(), hops.clone(), Browser::Plain);
        let c = plain.culprit.unwrap();
        assert_eq!((c.hop.as_str(), c.protocol), ("backend", Protocol::Http1));
        let firefox = Report::new_as(&target(), hops, Browser::Firefox);
        let c = firefox.culprit.unwrap();
        assert_eq!((c.hop.as_str(), c.protocol), ("lb", Protocol::H2));
    }
}
