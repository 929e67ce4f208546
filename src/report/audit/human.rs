//! The audit for a person (and a CI log): one line per check and lint, the reason and the
//! command to reproduce under each that did not pass, then the totals.

use super::{counts, failure_sentence, printable, relative, reproduce};
use crate::audit::{AuditReport, Status};
use crate::finding::Severity;
use std::io::{self, Write};
use std::path::Path;

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn render(audit: &AuditReport, root: &Path, color: bool, w: &mut dyn Write) -> io::Result<()> {
    for c in &audit.checks {
        let (label, code) = match c.status {
            Status::Passed => ("PASS ", "32"),
            Status::Flaky => ("FLAKY", "33"),
            Status::Failed => ("FAIL ", "31"),
            Status::Error => ("ERROR", "31"),
        };
        let file = audit
            .files
            .get(c.file)
            .map(|f| relative(f, root))
            .unwrap_or_default();
        writeln!(
            w,
            "{} {} ({}:{}, {:.2}s)",
            paint(color, code, label),
            printable(&c.name),
            printable(&file),
            c.pos.line,
            c.seconds
        )?;
        match c.status {
            Status::Passed => {}
            Status::Flaky => writeln!(w, "      {}", printable(&failure_sentence(c)))?,
            Status::Failed | Status::Error => {
                writeln!(w, "      {}", printable(&failure_sentence(c)))?;
                writeln!(w, "      reproduce: {}", printable(&reproduce(audit, c)))?;
            }
        }
    }
    for l in &audit.lints {
        let nginx = relative(&l.nginx, root);
        let (label, code) = if l.ok() {
            ("PASS ", "32")
        } else {
            ("FAIL ", "31")
        };
        writeln!(
            w,
            "{} lint nginx {}",
            paint(color, code, label),
            printable(&nginx)
        )?;
        if let Some(e) = &l.error {
            writeln!(w, "      {}", printable(e))?;
        }
        for f in l.report.iter().flat_map(|r| r.findings()) {
            if f.severity == Severity::Info {
                continue;
            }
            let at = f
                .location
                .as_ref()
                .map(|loc| format!(" {}:{}", relative(&loc.file, root), loc.line))
                .unwrap_or_default();
            writeln!(
                w,
                "      {} {}{at}: {}",
                crate::report::severity_label(f.severity),
                f.id,
                printable(&f.message)
            )?;
        }
    }
    let t = audit.totals();
    writeln!(w)?;
    let verdict = if audit.ok() {
        paint(color, "32", "✓ audit passed")
    } else {
        paint(color, "31", "✗ audit failed")
    };
    writeln!(w, "{verdict}: {} ({:.1}s)", counts(&t), audit.seconds)
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn one_line_each_then_totals() {
        let mut out = Vec::new();
        render(&sample::audit(), Path::new("."), false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("PASS  chat (ci/wspath.toml:3, 0.25s)\n"),
            "{text}"
        );
        assert!(
            text.contains("FLAKY flaky <one> (ci/wspath.toml:7"),
            "{text}"
        );
        assert!(
            text.contains("      reproduce: wspath audit ci/wspath.toml --only broken\n"),
            "{text}"
        );
        assert!(text.contains("FAIL  lint nginx ci/missing.conf"), "{text}");
        assert!(text.trim_end().ends_with("4 checks: 1 passed, 1 flaky (passed after retry), 2 failed, 0 could not run; 1 lint: 1 failed (1.5s)"), "{text}");
    }
}
