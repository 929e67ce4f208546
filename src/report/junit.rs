//! `--format junit`: one testcase per hop, so CI dashboards show which hop broke.

use super::redact;
use super::{HopReport, Report};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Renders `report` as a JUnit XML document.
pub fn render(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    let failures = report.hops.iter().filter(|h| failed(h)).count();
    let tests = report.hops.len();
    let seconds = report
        .hops
        .iter()
        .map(|h| h.outcome.timings.total)
        .fold(0.0, f64::max)
        / 1000.0;
    let mut xml = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        xml,
        r#"<testsuites name="wspath check" tests="{tests}" failures="{failures}" time="{seconds:.3}">"#
    );
    let _ = writeln!(
        xml,
        r#"  <testsuite name="{}" tests="{tests}" failures="{failures}" errors="0" skipped="0" time="{seconds:.3}">"#,
        escape(&redact::url(&report.target))
    );
    for hop in &report.hops {
        testcase(report, hop, &mut xml);
    }
    let verdict = match &report.culprit {
        Some(c) => format!("culprit: {}", redact::url(&c.summary)),
        None if report.ok => "healthy: every hop upgraded".to_string(),
        None => "every hop upgraded, but an error-level finding needs fixing".to_string(),
    };
    let _ = writeln!(xml, "    <system-out>{}</system-out>", escape(&verdict));
    let _ = writeln!(xml, "  </testsuite>");
    let _ = writeln!(xml, "</testsuites>");
    w.write_all(xml.as_bytes())
}

fn failed(hop: &HopReport) -> bool {
    !hop.outcome.verdict.passed()
        || hop.http2.as_ref().is_some_and(|h2| h2.failed())
        || hop.outcome.idle.as_ref().is_some_and(|i| i.dropped)
        || hop
            .findings
            .iter()
            .any(|f| f.severity == crate::finding::Severity::Error)
}

fn testcase(report: &Report, hop: &HopReport, xml: &mut String) {
    let o = &hop.outcome;
    let _ = writeln!(
        xml,
        r#"    <testcase name="{} ({})" classname="wspath.check.{}" time="{:.3}">"#,
        escape(&hop.name),
        escape(&hop.address),
        hop.kind.as_str(),
        o.timings.total / 1000.0
    );
    if failed(hop) {
        let culprit = report.culprit.as_ref().filter(|c| c.hop == hop.name);
        let message = match culprit {
            Some(c) => redact::url(&c.summary).into_owned(),
            None if hop.consequence => format!(
                "{} (passes on the failure of a hop further in)",
                o.verdict.title()
            ),
            None if o.detail.is_empty() => o.verdict.title().to_string(),
            None => format!("{}: {}", o.verdict.title(), redact::url(&o.detail)),
        };
        let verdict = culprit.map_or(o.verdict, |c| c.verdict);
        let _ = writeln!(
            xml,
            r#"      <failure type="{}" message="{}">{}</failure>"#,
            verdict.as_str(),
            escape(&message),
            escape(&evidence(hop))
        );
    }
    let _ = writeln!(xml, "    </testcase>");
}

/// The evidence as text: what came back, who answered, findings, how to reproduce.
fn evidence(hop: &HopReport) -> String {
    let o = &hop.outcome;
    let mut lines = Vec::new();
    if let Some(s) = &o.evidence.status_line {
        lines.push(s.clone());
    }
    lines.push(format!("answered_by: {}", o.evidence.answered_by));
    if !o.detail.is_empty() {
        lines.push(format!("detail: {}", redact::url(&o.detail)));
    }
    for f in &hop.findings {
        lines.push(format!(
            "{} {}: {}",
            super::severity_label(f.severity),
            f.id,
            f.message
        ));
    }
    if !o.curl.is_empty() {
        lines.push(format!("reproduce: {}", redact::curl(&o.curl)));
    }
    lines.join("\n")
}

/// XML text and attribute escaping, after the redaction policy; what XML 1.0 forbids (and C1, bidi controls) is first shown
/// escaped by the one sanitizer (`\x1b`), so the document stays well-formed and readable.
pub(crate) fn escape(s: &str) -> String {
    // Every text of the document passes here: the one place it is redacted too.
    let s = redact::text(s);
    let s = super::sanitize::xml(&s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    fn text(report: &Report) -> String {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_testcase_per_hop_with_failures() {
        let out = text(&sample::broken());
        assert_eq!(out.matches("<testcase ").count(), 3);
        assert_eq!(out.matches("<failure ").count(), 2);
        assert!(
            out.contains(r#"<testsuite name="wss://example.test/ws/chat" tests="3" failures="2""#)
        );
        assert!(out.contains(r#"<testcase name="nginx (127.0.0.1:8080)" classname="wspath.check.proxy" time="0.002">"#));
        assert!(out.contains(
            r#"<failure type="upgrade_stripped" message="nginx (127.0.0.1:8080) strips Upgrade"#
        ));
        assert!(out.contains("Upgrade stripped (passes on the failure of a hop further in)"));
        assert!(out.contains("error nginx/upgrade-not-forwarded"));
        // The body snippet's "<&>" and the finding's backticks survive escaping.
        assert!(!out.contains("<&>"));
        assert!(!out.contains("s3cr3t-token"));
        assert!(out.contains("<system-out>culprit: nginx"));
    }

    #[test]
    fn healthy_has_no_failure() {
        let out = text(&sample::healthy());
        assert_eq!(out.matches("<testcase ").count(), 1);
        assert!(!out.contains("<failure"));
        assert!(out.contains("failures=\"0\""));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a<b>&\"c'\n\u{1}\u{1b}[2J"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\\x01\\x1b[2J"
        );
    }
}
