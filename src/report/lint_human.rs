//! `wspath lint` for a person: each checked location, its findings with why and fix, a tally.

use crate::finding::{Finding, Severity};
use crate::nginx::LintReport;
use std::io::{self, Write};

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn finding(w: &mut dyn Write, f: &Finding) -> io::Result<()> {
    let at = f
        .location
        .as_ref()
        .map(|l| l.to_string())
        .unwrap_or_default();
    writeln!(w, "  {:<7} {}  {at}", label(f.severity), f.id)?;
    writeln!(w, "          {}", f.message)?;
    writeln!(w, "          evidence: {}", f.evidence)?;
    if let Some(why) = &f.why {
        writeln!(w, "          why: {why}")?;
    }
    if let Some(fix) = &f.fix {
        writeln!(w, "          fix: {fix}")?;
    }
    Ok(())
}

pub fn render(report: &LintReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "defaults of {}", report.version)?;
    for f in &report.general {
        finding(w, f)?;
    }
    if report.scopes.is_empty() && report.general.is_empty() {
        writeln!(
            w,
            "no proxying location shows WebSocket intent (use --path to name one)"
        )?;
    }
    for s in &report.scopes {
        let mark = if s.problems.is_empty() { ": ok" } else { "" };
        writeln!(w, "{} ({}){mark}", s.name, s.location)?;
        for (_, f) in &s.problems {
            finding(w, f)?;
        }
    }
    let all = report.findings();
    let count = |sev| all.iter().filter(|f| f.severity == sev).count();
    writeln!(
        w,
        "{} error(s), {} warning(s), {} info in {} location(s)",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        report.scopes.len()
    )
}
