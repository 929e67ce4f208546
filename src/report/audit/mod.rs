//! Renderers of `wspath audit`, one file per format, each a pure function over one
//! [`AuditReport`]: human, JSON (`wspath.audit/v1`), JUnit, SARIF, and GitHub annotations with
//! a step-summary table.
//!
//! Paths in CI reports are relative to the repository root the caller passes (GitHub code
//! scanning matches SARIF locations against files in the repository).

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use crate::audit::{AuditReport, CheckRun, Status, Totals};
use crate::report::redact;
use std::path::{Component, Path, PathBuf};

/// The run's counts as one line: "3 checks: 1 passed, 0 flaky (passed after retry), 2 failed,
/// 0 could not run; 1 lint: 1 failed".
pub fn counts(t: &Totals) -> String {
    let n = |count: usize, one: &str| format!("{count} {one}{}", if count == 1 { "" } else { "s" });
    format!(
        "{}: {} passed, {} flaky (passed after retry), {} failed, {} could not run; {}: {} failed",
        n(t.checks, "check"),
        t.passed,
        t.flaky,
        t.failed,
        t.errors,
        n(t.lints, "lint"),
        t.lints_failed
    )
}

/// `path` relative to `root` with forward slashes, when it lies inside `root`; else as given.
pub fn relative(path: &Path, root: &Path) -> String {
    let absolute = |p: &Path| -> PathBuf {
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        std::fs::canonicalize(&joined).unwrap_or_else(|_| normalize(&joined))
    };
    let (p, r) = (absolute(path), absolute(root));
    match p.strip_prefix(&r) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => path.to_string_lossy().replace('\\', "/"),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The command that runs this one check again.
pub fn reproduce(audit: &AuditReport, check: &CheckRun) -> String {
    let file = audit
        .files
        .get(check.file)
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "wspath audit {} --only {}",
        shell_quote(&file),
        shell_quote(&check.name)
    )
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One sentence saying why a check did not pass (culprit, error finding, or could-not-run).
pub fn failure_sentence(check: &CheckRun) -> String {
    if let Some(e) = &check.error {
        return redact::url(e).into_owned();
    }
    let Some(report) = &check.report else {
        return "the check did not run".into();
    };
    if let Some(c) = &report.culprit {
        return redact::url(&c.summary).into_owned();
    }
    let finding = report
        .hops
        .iter()
        .flat_map(|h| &h.findings)
        .find(|f| f.severity == crate::finding::Severity::Error);
    match finding {
        Some(f) => format!("{}: {}", f.id, f.message),
        None if check.status == Status::Flaky => match &check.first_failure {
            Some(first) => format!(
                "passed after retry ({} attempts); the first failed: {}",
                check.attempts, first.sentence
            ),
            None => format!(
                "passed after retry: failed, then passed on attempt {}",
                check.attempts
            ),
        },
        None => "every hop upgraded".into(),
    }
}

/// Text from outside (a server's words) made safe for a terminal or a log: control characters
/// are shown escaped, never sent.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod sample {
    //! Audit reports built by hand for the renderers' tests.
    use crate::audit::{AuditReport, CheckRun, LintRun, Status};
    use crate::config::Pos;
    use crate::report::sample as check_sample;
    use std::path::PathBuf;

    pub fn audit() -> AuditReport {
        let run = |name: &str, line: usize, status: Status, report| CheckRun {
            file: 0,
            name: name.into(),
            target: "ws://app.test/ws".into(),
            pos: Pos { line, column: 1 },
            status,
            attempts: if status == Status::Flaky { 2 } else { 1 },
            seconds: 0.25,
            report,
            error: None,
            first_failure: (status == Status::Flaky).then(|| crate::audit::Failure {
                kind: "upgrade_stripped".into(),
                sentence: "nginx strips the upgrade".into(),
            }),
        };
        AuditReport {
            files: vec![PathBuf::from("ci/wspath.toml")],
            checks: vec![
                run("chat", 3, Status::Passed, Some(check_sample::healthy())),
                run(
                    "flaky <one>",
                    7,
                    Status::Flaky,
                    Some(check_sample::healthy()),
                ),
                run("broken", 11, Status::Failed, Some(check_sample::broken())),
                CheckRun {
                    error: Some("deadline exceeded: the check did not finish within 1s".into()),
                    ..run("slow", 15, Status::Failed, None)
                },
            ],
            lints: vec![LintRun {
                file: 0,
                nginx: PathBuf::from("ci/missing.conf"),
                pos: Pos {
                    line: 19,
                    column: 1,
                },
                seconds: 0.0,
                report: None,
                error: Some("ci/missing.conf: No such file or directory (os error 2)".into()),
                error_at: None,
            }],
            seconds: 1.5,
        }
    }
}
