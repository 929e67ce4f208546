//! SARIF 2.1.0 of an audit for code scanning: lint findings at their nginx file:line, and each
//! check that failed (or passed only after retry) at the TOML line that defines it. Every
//! physical location is relative to the repository root, as GitHub code scanning requires.

use super::{failure_sentence, relative, reproduce};
use crate::audit::{AuditReport, Status};
use crate::finding::{Finding, Location, Severity};
use crate::report::sarif::{self, SarifResult, Tool};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What each `audit/…` rule means, the same for every result of it.
pub fn rule_title(id: &str) -> Option<&'static str> {
    Some(match id {
        "audit/lint-could-not-run" => "A [[lint]] could not read or parse its nginx configuration",
        "audit/flaky" => "A check failed, then passed when run again",
        "audit/check-could-not-finish" => {
            "A check could not finish (deadline, or it could not run)"
        }
        "audit/check-failed" => "A check failed",
        _ => return None,
    })
}

pub fn results(audit: &AuditReport, root: &Path) -> Vec<SarifResult> {
    let at = |file: &Path, line: usize| Location {
        file: PathBuf::from(relative(file, root)),
        line,
    };
    let finding = |f: &Finding| SarifResult {
        location: f.location.as_ref().map(|l| at(&l.file, l.line)),
        ..SarifResult::from(f)
    };
    let mut out = Vec::new();
    for l in &audit.lints {
        match (&l.report, &l.error) {
            (Some(r), _) => out.extend(r.findings().iter().map(finding)),
            (None, e) => out.push(SarifResult {
                rule_id: "audit/lint-could-not-run".into(),
                severity: Severity::Error,
                message: e.clone().unwrap_or_default(),
                fix: None,
                location: match &l.error_at {
                    Some(loc) => Some(at(&loc.file, loc.line)),
                    None => audit.files.get(l.file).map(|f| at(f, l.pos.line)),
                },
                logical: None,
            }),
        }
    }
    for c in &audit.checks {
        let file = audit.files.get(c.file);
        for h in c.report.iter().flat_map(|r| &r.hops) {
            out.extend(h.findings.iter().map(|f| {
                let r = finding(f);
                SarifResult {
                    logical: Some(format!("{}/{}", c.name, h.name)),
                    // Code scanning rejects the whole upload for a result without a
                    // physical location ("expected at least one location"): a finding
                    // from a provider (no file) lands on the check that found it.
                    location: r.location.or_else(|| file.map(|f| at(f, c.pos.line))),
                    ..r
                }
            }));
        }
        let (rule_id, severity, message) = match c.status {
            Status::Passed => continue,
            Status::Flaky => (
                "audit/flaky".to_string(),
                Severity::Warning,
                format!(
                    "check '{}' passed after retry ({} attempts); it failed first",
                    c.name, c.attempts
                ),
            ),
            Status::Failed | Status::Error => {
                let rule = match c.report.as_ref().and_then(|r| r.culprit.as_ref()) {
                    Some(k) => format!("check/{}", k.verdict.as_str()),
                    None if c.error.is_some() => "audit/check-could-not-finish".into(),
                    None => "audit/check-failed".into(),
                };
                (
                    rule,
                    Severity::Error,
                    format!(
                        "check '{}' failed: {} Reproduce: {}",
                        c.name,
                        failure_sentence(c),
                        reproduce(audit, c)
                    ),
                )
            }
        };
        out.push(SarifResult {
            rule_id,
            severity,
            message,
            fix: None,
            location: file.map(|f| at(f, c.pos.line)),
            logical: Some(c.name.clone()),
        });
    }
    out
}

pub fn render(audit: &AuditReport, root: &Path, w: &mut dyn Write) -> io::Result<()> {
    sarif::render(Tool::wspath(), &results(audit, root), w)
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn failures_point_at_their_toml_line() {
        let r = results(&sample::audit(), Path::new("."));
        let ids: Vec<&str> = r.iter().map(|r| r.rule_id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "audit/lint-could-not-run",
                "audit/flaky",
                "nginx/upgrade-not-forwarded",
                "check/upgrade_stripped",
                "audit/check-could-not-finish"
            ]
        );
        let culprit = &r[3];
        let loc = culprit.location.as_ref().unwrap();
        assert_eq!((loc.file.to_str(), loc.line), (Some("ci/wspath.toml"), 11));
        assert!(
            culprit.message.contains("--only broken"),
            "{}",
            culprit.message
        );
    }

    /// Code scanning refuses a whole upload with one result that has no physical location: a
    /// hop finding without a file (a provider's) lands on its check's TOML line.
    #[test]
    fn every_result_has_a_physical_location() {
        let mut audit = sample::audit();
        let report = audit.checks[2].report.as_mut().unwrap();
        let hop = report
            .hops
            .iter_mut()
            .find(|h| !h.findings.is_empty())
            .unwrap();
        hop.findings.push(Finding {
            location: None,
            ..hop.findings[0].clone()
        });
        for r in results(&audit, Path::new(".")) {
            assert!(r.location.is_some(), "{r:?}");
        }
        let last = results(&audit, Path::new("."))
            .into_iter()
            .rfind(|r| r.rule_id == "nginx/upgrade-not-forwarded")
            .unwrap();
        let loc = last.location.unwrap();
        assert_eq!((loc.file.to_str(), loc.line), (Some("ci/wspath.toml"), 11));
    }
}
