//! The one report type of `check` and its renderers (one file per format).
//!
//! The walk builds a [`Report`]; the nginx analyzer and the providers then [`Report::attach`]
//! what they found to a hop, which can sharpen the culprit's sentence and fix. Renderers only
//! read a finished report.

use crate::finding::{Fact, Finding, Severity};
use crate::hop::{Hop, HopKind};
use crate::probe::http2::Http2Outcome;
use crate::probe::{Browser, ProbeOutcome};
use crate::target::Target;
use crate::verdict::Verdict;
pub use crate::walk::variants::VariantReport;
use crate::Error;
use serde::Serialize;

pub mod audit;
pub mod error;
pub mod fix;
pub mod human;
pub mod json;
pub mod junit;
pub mod lint_human;
pub mod lint_json;
pub mod lint_junit;
pub mod redact;
pub mod sanitize;
pub mod sarif;

/// The hop where the break begins, with one sentence and the fix hint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Culprit {
    pub hop: String,
    pub kind: HopKind,
    pub verdict: Verdict,
    pub summary: String,
    pub fix: Option<String>,
    /// The path that breaks at that hop.
    pub protocol: Protocol,
    /// Set when only a browser variant (`--as all`) fails here: whose request it refuses.
    pub browser: Option<Browser>,
}

/// How a client opens the WebSocket: the HTTP/1.1 Upgrade, or an RFC 8441 extended CONNECT on
/// an HTTP/2 stream (Firefox wherever a TLS hop advertises it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Protocol {
    #[serde(rename = "http/1.1")]
    Http1,
    #[serde(rename = "h2")]
    H2,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http1 => "http/1.1",
            Protocol::H2 => "h2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopReport {
    pub name: String,
    pub kind: HopKind,
    pub address: String,
    /// The URL sent at this hop (its scheme, the target's Host, the path used there).
    pub url: String,
    pub outcome: ProbeOutcome,
    /// The same WebSocket over HTTP/2 (RFC 8441): `None` for plain hops and with
    /// `--http1-only`.
    pub http2: Option<Http2Outcome>,
    /// Fails only because a hop further in fails.
    pub consequence: bool,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
    /// What runs at this hop, identified from evidence (the hop's name is only a prior).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software: Option<crate::software::Identified>,
    /// The hop's answer to a request it answers itself, when its upgrade answer carried no
    /// evidence of its own (recorded in `software.evidence` when it identifies the hop).
    #[serde(skip)]
    pub own_answer: Option<crate::software::identify::OwnAnswer>,
    /// With `--as all`: the same hop probed with each other browser's request.
    pub variants: Vec<VariantReport>,
    /// When this hop dropped the idle WebSocket on its own timer: the known idle setting of its
    /// software the drop matches (set by the walker; `None` for a drop passed on from further in).
    pub idle_setting: Option<String>,
}

/// The scheme a hop was probed with: one whose scheme came from the target falls back to ws://
/// when its port speaks no TLS (the probe's plain-port fallback), and answered in plain HTTP.
pub fn probed_scheme(hop: &Hop, outcome: &ProbeOutcome) -> crate::target::Scheme {
    if hop.scheme_inherited
        && hop.scheme.is_tls()
        && outcome.evidence.status.is_some()
        && outcome.evidence.tls.is_none()
    {
        crate::target::Scheme::Ws
    } else {
        hop.scheme
    }
}

impl HopReport {
    /// A probed hop, before the walker has judged it.
    pub fn new(hop: &Hop, target: &Target, outcome: ProbeOutcome) -> HopReport {
        HopReport {
            name: hop.name.clone(),
            kind: hop.kind,
            address: hop.address(target),
            url: format!(
                "{}://{}{}",
                probed_scheme(hop, &outcome),
                target.host_header(),
                hop.path
            ),
            outcome,
            http2: None,
            consequence: false,
            findings: Vec::new(),
            facts: Vec::new(),
            software: None,
            own_answer: None,
            variants: Vec::new(),
            idle_setting: None,
        }
    }

    /// This hop's probe with `browser`'s request, when that variant was sent.
    pub fn variant(&self, browser: Browser) -> Option<&ProbeOutcome> {
        self.variants
            .iter()
            .find(|v| v.browser == browser)
            .map(|v| &v.outcome)
    }
}

/// `wspath.check/v1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub target: String,
    /// The target's host, for fix hints that name it (SNI, DNS).
    #[serde(skip)]
    pub host: String,
    /// No culprit and no error-level finding.
    pub ok: bool,
    pub culprit: Option<Culprit>,
    pub hops: Vec<HopReport>,
    /// Interrupted (SIGINT/SIGTERM) before every hop finished: `hops` holds those that did.
    pub incomplete: bool,
    /// How many hops were asked for, when the report is incomplete.
    #[serde(skip)]
    pub planned_hops: usize,
    /// What could not be read but did not stop the run (a provider enabled only by credentials
    /// in the environment whose API failed); does not change `ok` or the exit code.
    pub warnings: Vec<String>,
    /// Whose request the hops' main outcomes were probed with (`--as`).
    pub browser: Browser,
}

impl Report {
    /// Judges the probed hops (outermost first): consequences, culprit, `ok`.
    pub fn new(target: &Target, hops: Vec<HopReport>) -> Report {
        Report::new_as(target, hops, Browser::Plain)
    }

    /// [`Report::new`] for hops probed with `browser`'s request (and perhaps, per hop, with
    /// other browsers' as variants).
    pub fn new_as(target: &Target, hops: Vec<HopReport>, browser: Browser) -> Report {
        let mut report = Report {
            target: target.url(),
            host: target.host.clone(),
            ok: true,
            culprit: None,
            planned_hops: hops.len(),
            hops,
            incomplete: false,
            warnings: Vec::new(),
            browser,
        };
        report.rejudge();
        report
    }

    /// Marks the report as cut short by an interruption: `planned` hops were asked for. An
    /// interrupted walk is never `ok` (nobody saw the whole path).
    pub fn mark_incomplete(&mut self, planned: usize) {
        self.incomplete = true;
        self.planned_hops = planned;
        self.ok = false;
    }

    /// Adds what the nginx analyzer or a provider found about hop `hop`. When that hop is the
    /// culprit and an error-level finding explains it, the culprit's sentence says so and its
    /// fix becomes the finding's. Errors when the report has no hop of that name.
    pub fn attach(
        &mut self,
        hop: &str,
        findings: Vec<Finding>,
        facts: Vec<Fact>,
    ) -> Result<(), Error> {
        let Some(h) = self.hops.iter_mut().find(|h| h.name == hop) else {
            let names: Vec<&str> = self.hops.iter().map(|h| h.name.as_str()).collect();
            return Err(Error::InvalidHop {
                input: hop.to_string(),
                reason: format!(
                    "no hop of that name in this check (hops: {})",
                    names.join(", ")
                ),
            });
        };
        h.findings.extend(findings);
        h.facts.extend(facts);
        self.rejudge();
        Ok(())
    }

    /// The hop called `name`.
    pub fn hop(&self, name: &str) -> Option<&HopReport> {
        self.hops.iter().find(|h| h.name == name)
    }

    /// The exit code of `check`: 0 healthy, 1 problems found.
    pub fn exit_code(&self) -> u8 {
        if self.ok {
            crate::exit::OK
        } else {
            crate::exit::PROBLEMS
        }
    }

    fn rejudge(&mut self) {
        self.culprit = crate::walk::judge(&mut self.hops, &self.host)
            .or_else(|| crate::walk::variants::judge(&self.hops, self.browser, &self.host));
        if self.browser == Browser::Firefox {
            self.prefer_http2();
        }
        let error_finding = self
            .hops
            .iter()
            .flat_map(|h| &h.findings)
            .any(|f| f.severity == Severity::Error);
        self.ok = self.culprit.is_none() && !error_finding && !self.incomplete;
    }
}

impl Report {
    /// `--as firefox`: Firefox opens the WebSocket over HTTP/2 wherever a TLS hop advertises
    /// RFC 8441, so where that path breaks further out than the HTTP/1.1 culprit, the break
    /// Firefox meets first is the HTTP/2 one.
    fn prefer_http2(&mut self) {
        let Some(h2) = crate::walk::http2::select(&self.hops) else {
            return;
        };
        let http1 = self
            .culprit
            .as_ref()
            .filter(|c| c.protocol == Protocol::Http1)
            .and_then(|c| self.hops.iter().position(|h| h.name == c.hop));
        if http1.is_some_and(|at| at <= h2) {
            return;
        }
        if let Some(culprit) = crate::walk::http2::compose(&self.hops, h2) {
            for hop in &mut self.hops {
                hop.consequence = false;
            }
            self.culprit = Some(culprit);
        }
    }
}

/// `error`, `warning`, `info`: the word every format uses for a severity.
pub fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

#[cfg(test)]
pub(crate) mod sample {
    //! Reports built by hand for the renderer tests.

    use super::*;
    use crate::finding::Location;
    use crate::probe::{Evidence, IdleOutcome, Timings, TlsInfo};
    use crate::verdict::Stage;

    /// An `answered_by` value from its JSON name; the one place tests build one. A name the
    /// probe does not know fails the test instead of quietly becoming `unknown`.
    pub fn answered(name: &str) -> crate::probe::AnsweredBy {
        serde_json::from_value(serde_json::Value::String(name.to_string()))
            .expect("a known answered_by name")
    }

    pub fn outcome(verdict: Verdict, status: Option<u16>, answered_by: &str) -> ProbeOutcome {
        ProbeOutcome {
            verdict,
            stage: if verdict == Verdict::ConnectRefused {
                Stage::Tcp
            } else {
                Stage::Done
            },
            detail: String::new(),
            evidence: Evidence {
                remote_addr: Some("127.0.0.1:8080".parse().unwrap()),
                status_line: status.map(|s| format!("HTTP/1.1 {s} X")),
                status,
                headers: vec![("Server".into(), "nginx/1.22.1".into())],
                body_snippet: None,
                tls: None,
                answered_by: answered(answered_by),
            },
            timings: Timings {
                dns: None,
                connect: Some(0.4),
                tls: None,
                first_byte: Some(1.5),
                total: 2.25,
            },
            ping_rtt_ms: None,
            echo_ok: None,
            idle: None,
            curl: "curl -i -N --http1.1 http://example.test/ws".into(),
        }
    }

    fn hop(name: &str, kind: HopKind, port: u16, outcome: ProbeOutcome) -> HopReport {
        HopReport {
            name: name.into(),
            kind,
            address: format!("127.0.0.1:{port}"),
            url: "wss://example.test/ws/chat".into(),
            outcome,
            http2: None,
            consequence: false,
            findings: Vec::new(),
            facts: Vec::new(),
            software: None,
            own_answer: None,
            variants: Vec::new(),
            idle_setting: None,
        }
    }

    pub fn target() -> Target {
        Target::parse("wss://example.test/ws/chat").unwrap()
    }

    /// lb → nginx (strips Upgrade, with an nginx finding) → backend.
    pub fn broken() -> Report {
        let mut lb = outcome(Verdict::UpgradeStripped, Some(505), "python-websockets");
        lb.detail = "unsupported HTTP version: HTTP/1.0".into();
        lb.evidence.tls = Some(TlsInfo {
            version: "TLSv1.3".into(),
            alpn: Some("http/1.1".into()),
            not_after: None,
        });
        lb.curl = "curl -i -N -H 'Authorization: Bearer s3cr3t-token' https://example.test/ws/chat"
            .into();
        let mut nginx = outcome(Verdict::UpgradeStripped, Some(505), "python-websockets");
        nginx.detail = lb.detail.clone();
        nginx.evidence.body_snippet = Some("Failed to open a WebSocket connection <&>".into());
        let mut backend = outcome(Verdict::Upgraded, Some(101), "python-websockets");
        backend.ping_rtt_ms = Some(0.3);
        let mut report = Report::new(
            &target(),
            vec![
                hop("lb", HopKind::Lb, 8443, lb),
                hop("nginx", HopKind::Proxy, 8080, nginx),
                hop("backend", HopKind::Backend, 9000, backend),
            ],
        );
        report
            .attach(
                "nginx",
                vec![Finding {
                    id: "nginx/upgrade-not-forwarded".into(),
                    severity: Severity::Error,
                    message: "location /ws/ does not forward Upgrade".into(),
                    evidence: "proxy_pass http://backend;".into(),
                    why: Some("nginx talks HTTP/1.0 to upstreams by default".into()),
                    fix: Some("add `proxy_http_version 1.1;` at nginx.conf:14".into()),
                    location: Some(Location {
                        file: "nginx.conf".into(),
                        line: 14,
                    }),
                }],
                vec![Fact {
                    source: "nginx".into(),
                    name: "proxy_http_version".into(),
                    value: "1.0".into(),
                }],
            )
            .unwrap();
        report
    }

    /// One upgraded hop, held idle.
    pub fn healthy() -> Report {
        let mut o = outcome(Verdict::Upgraded, Some(101), "nginx");
        o.ping_rtt_ms = Some(0.25);
        o.echo_ok = Some(true);
        o.idle = Some(IdleOutcome {
            held_ms: 2000.0,
            dropped: false,
            dropped_after_ms: None,
            close_code: None,
            close_reason: None,
        });
        Report::new(&target(), vec![hop("target", HopKind::Unknown, 443, o)])
    }

    /// `--as all`: nginx upgrades the plain request but answers Firefox's with 400; the
    /// backend upgrades everything and enables permessage-deflate for the browsers.
    pub fn firefox_refused() -> Report {
        let deflate = |mut o: ProbeOutcome| {
            o.evidence.headers.push((
                "Sec-WebSocket-Extensions".into(),
                "permessage-deflate; server_max_window_bits=12".into(),
            ));
            o
        };
        let up = outcome(Verdict::Upgraded, Some(101), "nginx");
        let mut refused = outcome(Verdict::Rejected, Some(400), "nginx");
        refused.detail = "400 Bad Request".into();
        refused.curl = "curl -H 'Connection: keep-alive, Upgrade' http://example.test/ws".into();
        let variants = |firefox: ProbeOutcome, other: &ProbeOutcome| {
            vec![
                VariantReport {
                    browser: Browser::Chrome,
                    outcome: deflate(other.clone()),
                },
                VariantReport {
                    browser: Browser::Firefox,
                    outcome: firefox,
                },
            ]
        };
        let mut nginx = hop("nginx", HopKind::Proxy, 8080, up.clone());
        nginx.variants = variants(refused, &up);
        let mut backend = hop("backend", HopKind::Backend, 9000, up.clone());
        backend.variants = variants(deflate(up.clone()), &up);
        Report::new(&target(), vec![nginx, backend])
    }

    /// lb → nginx → backend, backend down.
    pub fn backend_down() -> Report {
        let mut backend = outcome(Verdict::ConnectRefused, None, "unknown");
        backend.detail = "Connection refused (os error 111)".into();
        backend.evidence.remote_addr = None;
        backend.evidence.headers.clear();
        Report::new(
            &target(),
            vec![
                hop(
                    "lb",
                    HopKind::Lb,
                    8443,
                    outcome(Verdict::BadGateway, Some(502), "nginx"),
                ),
                hop(
                    "nginx",
                    HopKind::Proxy,
                    8080,
                    outcome(Verdict::BadGateway, Some(502), "nginx"),
                ),
                hop("backend", HopKind::Backend, 9000, backend),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_sharpens_culprit_and_keeps_ok_false() {
        let r = sample::broken();
        let c = r.culprit.as_ref().unwrap();
        assert_eq!(c.hop, "nginx");
        assert_eq!(
            c.fix.as_deref(),
            Some("add `proxy_http_version 1.1;` at nginx.conf:14")
        );
        assert!(c
            .summary
            .contains("nginx/upgrade-not-forwarded at nginx.conf:14"));
        assert!(!r.ok);
        assert_eq!(r.exit_code(), crate::exit::PROBLEMS);
        assert!(r.hops[0].consequence);
        assert_eq!(r.hop("nginx").map(|h| h.findings.len()), Some(1));
        assert!(r.hop("cdn").is_none());
    }

    #[test]
    fn attach_to_unknown_hop_names_it() {
        let mut r = sample::healthy();
        let e = r.attach("nginx", Vec::new(), Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --hop 'nginx': no hop of that name in this check (hops: target)"
        );
    }

    #[test]
    fn error_finding_on_healthy_path_is_not_ok() {
        let mut r = sample::healthy();
        assert!(r.ok);
        assert_eq!(r.exit_code(), crate::exit::OK);
        r.attach(
            "target",
            vec![Finding {
                id: "aws_alb/idle-timeout".into(),
                severity: Severity::Warning,
                message: "idle timeout 60 s".into(),
                evidence: String::new(),
                why: None,
                fix: None,
                location: None,
            }],
            Vec::new(),
        )
        .unwrap();
        assert!(r.ok, "a warning does not fail the check");
        r.attach(
            "target",
            vec![Finding {
                id: "cloudflare/websockets-off".into(),
                severity: Severity::Error,
                message: "WebSockets are off".into(),
                evidence: "websockets = off".into(),
                why: None,
                fix: None,
                location: None,
            }],
            Vec::new(),
        )
        .unwrap();
        assert!(!r.ok);
        assert!(r.culprit.is_none());
        assert_eq!(r.exit_code(), crate::exit::PROBLEMS);
    }
}
