//! `--as all`: the same path probed with every browser's request, and the hop that upgrades one
//! request but refuses another (pure, no I/O).
//!
//! A proxy that upgrades curl-like requests but not Firefox's is a real outage class: a rule
//! that matches `Connection: Upgrade` as a whole value lets wspath's plain request and Chrome
//! through and refuses Firefox's `Connection: keep-alive, Upgrade`. Each variant's outcomes are
//! judged as a walk of their own, with the same culprit logic as the main one.

use super::summary;
use crate::probe::{Browser, ProbeOutcome};
use crate::report::{Culprit, HopReport};

/// One browser variant's probe of one hop.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VariantReport {
    pub browser: Browser,
    pub outcome: ProbeOutcome,
}

/// The variant culprit: when the main request (`primary`) finds no culprit, the first variant
/// (in the order probed) whose own walk finds one, re-worded to say which request fails and
/// what sets it apart. `None` when every variant gets through wherever the main one does.
pub fn judge(hops: &[HopReport], primary: Browser, host: &str) -> Option<Culprit> {
    let browsers: Vec<Browser> = hops
        .first()?
        .variants
        .iter()
        .map(|v| v.browser)
        .filter(|b| *b != primary)
        .collect();
    browsers.into_iter().find_map(|browser| {
        let mut walk: Vec<HopReport> = hops
            .iter()
            .map(|h| {
                let variant = h.variants.iter().find(|v| v.browser == browser)?;
                Some(HopReport {
                    outcome: variant.outcome.clone(),
                    variants: Vec::new(),
                    // The HTTP/2 path is judged once, with the main request.
                    http2: None,
                    ..h.clone()
                })
            })
            .collect::<Option<_>>()?;
        let culprit = summary::judge(&mut walk, host)?;
        Some(reword(culprit, &walk, primary, browser))
    })
}

/// "lb (…) upgrades wspath's plain request but not Firefox's request, which sends …: with it,
/// it rejects the upgrade …" and the fix for what differs.
fn reword(c: Culprit, hops: &[HopReport], primary: Browser, browser: Browser) -> Culprit {
    let hop = hops.iter().find(|h| h.name == c.hop);
    let lead = hop.map(|h| format!("{} ({}) ", h.name, h.address));
    // The variant walk's own fix is about the verdict in general; what matters here is what
    // differs between the two requests, so that fix is left out of the sentence.
    let mut what = c.summary.as_str();
    if let Some(lead) = &lead {
        what = what.strip_prefix(lead.as_str()).unwrap_or(what);
    }
    if let Some(fix) = &c.fix {
        what = what.strip_suffix(&format!(" — {fix}")).unwrap_or(what);
    }
    let fix = fix_for(browser);
    let summary = format!(
        "{}upgrades {} but not {}, which sends {}. With {} it {what} — {fix}",
        lead.unwrap_or_default(),
        primary.display(),
        browser.display(),
        browser.distinguishing(),
        browser.display(),
    );
    Culprit {
        summary,
        fix: Some(fix.to_string()),
        browser: Some(browser),
        ..c
    }
}

/// What to change when a hop refuses this browser's request but not the plain one.
fn fix_for(browser: Browser) -> &'static str {
    match browser {
        // The classic: a rule comparing the whole Connection value with "Upgrade".
        // HAProxy's `hdr()` compares each comma-separated value, `req.fhdr()` the whole line
        // (HAProxy configuration manual, 7.3.6 "req.fhdr"); nginx compares `$http_connection`
        // as one string (ngx_http_core_module "Embedded variables").
        Browser::Firefox => "match the `upgrade` token in `Connection`, not the whole value: nginx `if ($http_connection ~* upgrade)` rather than `= \"Upgrade\"`, or route on `$http_upgrade` alone (`map $http_upgrade $connection_upgrade`); HAProxy `hdr(connection) -i upgrade` (each comma-separated token), not `req.fhdr(connection)` (the whole line); Apache `RewriteCond %{HTTP:Connection} upgrade [NC]`; an application must accept `keep-alive, Upgrade` too",
        Browser::Chrome | Browser::Safari => "compare the two reproduce commands: a rule keyed on the browser User-Agent (a WAF or bot filter), on `Pragma`/`Cache-Control`, or a proxy that mangles the `Sec-WebSocket-Extensions` offer (pass it through unchanged or drop it, never rewrite it) refuses the browser",
        Browser::Plain => "compare the two reproduce commands: the hop reacts to a header only the plain request sends",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::HopKind;
    use crate::report::sample;
    use crate::verdict::Verdict;

    fn hop(name: &str, kind: HopKind, plain: ProbeOutcome, firefox: ProbeOutcome) -> HopReport {
        HopReport {
            name: name.into(),
            kind,
            address: format!("{name}.test:80"),
            url: "ws://example.test/ws".into(),
            outcome: plain.clone(),
            http2: None,
            consequence: false,
            findings: Vec::new(),
            facts: Vec::new(),
            software: None,
            own_answer: None,
            variants: vec![
                VariantReport {
                    browser: Browser::Chrome,
                    outcome: plain,
                },
                VariantReport {
                    browser: Browser::Firefox,
                    outcome: firefox,
                },
            ],
            idle_setting: None,
        }
    }

    #[test]
    fn a_hop_refusing_only_firefox_is_the_culprit_with_the_connection_token_fix() {
        let up = sample::outcome(Verdict::Upgraded, Some(101), "nginx");
        let mut refused = sample::outcome(Verdict::Rejected, Some(400), "haproxy");
        refused.detail = "400 Bad Request".into();
        let hops = vec![
            hop("lb", HopKind::Lb, up.clone(), refused),
            hop("backend", HopKind::Backend, up.clone(), up),
        ];
        let c = judge(&hops, Browser::Plain, "example.test").expect("a variant culprit");
        assert_eq!(c.hop, "lb");
        assert_eq!(c.browser, Some(Browser::Firefox));
        assert_eq!(c.verdict, Verdict::Rejected);
        assert!(
            c.summary.starts_with(
                "lb (lb.test:80) upgrades wspath's plain request but not Firefox's request, which sends `Connection: keep-alive, Upgrade`"
            ),
            "{}",
            c.summary
        );
        assert!(c.fix.unwrap().contains("$http_connection ~* upgrade"));
    }

    #[test]
    fn no_variant_culprit_when_every_variant_upgrades() {
        let up = sample::outcome(Verdict::Upgraded, Some(101), "nginx");
        let hops = vec![hop("lb", HopKind::Lb, up.clone(), up)];
        assert_eq!(judge(&hops, Browser::Plain, "example.test"), None);
        let bare = HopReport {
            variants: Vec::new(),
            ..hops[0].clone()
        };
        assert_eq!(judge(&[bare], Browser::Plain, "example.test"), None);
    }
}
