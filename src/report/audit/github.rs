//! GitHub Actions: workflow-command annotations (`::error file=…,line=…::…`) on the TOML line
//! of a failed check or the nginx line of a lint finding, and a Markdown table for
//! `$GITHUB_STEP_SUMMARY`.

use super::{counts, failure_sentence, printable, relative, reproduce};
use crate::audit::{AuditReport, Status};
use crate::finding::Severity;
use std::io::{self, Write};
use std::path::Path;

/// Workflow commands escape `%`, CR and LF in the message ...
pub fn data(s: &str) -> String {
    printable(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// ... and also `:` and `,` in properties.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(
    w: &mut dyn Write,
    level: &str,
    file: &str,
    line: usize,
    title: &str,
    message: &str,
) -> io::Result<()> {
    writeln!(
        w,
        "::{level} file={},line={line},title={}::{}",
        property(file),
        property(title),
        data(message)
    )
}

/// One annotation per failed or flaky check and per lint finding of warning level or above.
pub fn annotations(audit: &AuditReport, root: &Path, w: &mut dyn Write) -> io::Result<()> {
    for c in &audit.checks {
        let Some(file) = audit.files.get(c.file) else {
            continue;
        };
        let file = relative(file, root);
        match c.status {
            Status::Passed => {}
            Status::Flaky => annotation(
                w,
                "warning",
                &file,
                c.pos.line,
                &format!("wspath check {} is flaky", c.name),
                &format!(
                    "{}\nreproduce: {}",
                    failure_sentence(c),
                    reproduce(audit, c)
                ),
            )?,
            Status::Failed | Status::Error => annotation(
                w,
                "error",
                &file,
                c.pos.line,
                &format!("wspath check {} failed", c.name),
                &format!(
                    "{}\nreproduce: {}",
                    failure_sentence(c),
                    reproduce(audit, c)
                ),
            )?,
        }
    }
    for l in &audit.lints {
        if let Some(e) = &l.error {
            // At the nginx line that stopped it (a syntax error), else the [[lint]] line.
            let at = match &l.error_at {
                Some(loc) => Some((relative(&loc.file, root), loc.line)),
                None => audit
                    .files
                    .get(l.file)
                    .map(|f| (relative(f, root), l.pos.line)),
            };
            if let Some((file, line)) = at {
                annotation(w, "error", &file, line, "wspath lint could not run", e)?;
            }
        }
        for f in l.report.iter().flat_map(|r| r.findings()) {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => continue,
            };
            let (file, line) = match &f.location {
                Some(loc) => (relative(&loc.file, root), loc.line),
                None => (relative(&l.nginx, root), 1),
            };
            let message = match &f.fix {
                Some(fix) => format!("{}\nfix: {fix}", f.message),
                None => f.message.clone(),
            };
            annotation(w, level, &file, line, &f.id, &message)?;
        }
    }
    Ok(())
}

/// A Markdown table cell: `|` would end the cell and a line break the row; the summary
/// renders HTML, so `<`, `>` and `&` from a server's words or a name are shown, not parsed.
fn cell(s: &str) -> String {
    printable(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// The step summary: totals, then one row per check and lint that did not simply pass.
pub fn summary(audit: &AuditReport, root: &Path, w: &mut dyn Write) -> io::Result<()> {
    let t = audit.totals();
    writeln!(
        w,
        "## wspath audit {}",
        if audit.ok() { "✅" } else { "❌" }
    )?;
    writeln!(w)?;
    writeln!(w, "{}", counts(&t))?;
    writeln!(w)?;
    writeln!(w, "| Check | Status | Where | Attempts | Time | Why |")?;
    writeln!(w, "|---|---|---|---|---|---|")?;
    for c in &audit.checks {
        let file = audit
            .files
            .get(c.file)
            .map(|f| relative(f, root))
            .unwrap_or_default();
        let why = if c.status == Status::Passed {
            String::new()
        } else {
            failure_sentence(c)
        };
        writeln!(
            w,
            "| {} | {} | {}:{} | {} | {:.2}s | {} |",
            cell(&c.name),
            c.status.as_str(),
            cell(&file),
            c.pos.line,
            c.attempts,
            c.seconds,
            cell(&why)
        )?;
    }
    for l in &audit.lints {
        let why = match (&l.error, &l.report) {
            (Some(e), _) => e.clone(),
            (None, Some(r)) => {
                let n = r
                    .findings()
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count();
                if n == 0 {
                    String::new()
                } else {
                    format!("{n} error-level finding(s)")
                }
            }
            (None, None) => String::new(),
        };
        writeln!(
            w,
            "| lint nginx {} | {} | | 1 | {:.2}s | {} |",
            cell(&relative(&l.nginx, root)),
            if l.ok() { "passed" } else { "failed" },
            l.seconds,
            cell(&why)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn annotations_point_at_toml_lines() {
        let mut out = Vec::new();
        annotations(&sample::audit(), Path::new("."), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("::warning file=ci/wspath.toml,line=7,title=wspath check flaky <one> is flaky::passed after retry (2 attempts); the first failed: nginx strips the upgrade%0Areproduce: "),
            "{text}"
        );
        assert!(
            lines[1].starts_with("::error file=ci/wspath.toml,line=11,"),
            "{text}"
        );
        assert!(lines[2].contains("line=15"), "{text}");
        assert!(lines[3].contains("line=19"), "{text}");
    }

    #[test]
    fn summary_has_a_row_per_check_and_lint() {
        let mut out = Vec::new();
        summary(&sample::audit(), Path::new("."), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("4 checks: 1 passed, 1 flaky (passed after retry), 2 failed"),
            "{text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("| ")).count(),
            6,
            "{text}"
        );
    }
}
