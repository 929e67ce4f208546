//! JUnit XML for CI dashboards, written with `quick-junit` (cargo-nextest's writer): one
//! testsuite per config file, one testcase per check and per lint file. A failure carries the
//! culprit's sentence and the command that reproduces it; a flaky check is a success with a
//! `flakyFailure` (passed after retry), never a plain pass.

use super::{failure_sentence, printable, relative, reproduce};
use crate::audit::{AuditReport, CheckRun, LintRun, Status};
use crate::finding::Severity;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

pub fn render(audit: &AuditReport, root: &Path, w: &mut dyn Write) -> io::Result<()> {
    let mut report = Report::new("wspath audit");
    report.set_time(Duration::from_secs_f64(audit.seconds.max(0.0)));
    for (i, file) in audit.files.iter().enumerate() {
        let name = relative(file, root);
        let mut suite = TestSuite::new(name.as_str());
        let mut seconds = 0.0;
        for c in audit.checks.iter().filter(|c| c.file == i) {
            seconds += c.seconds;
            suite.add_test_case(check_case(audit, c, &name));
        }
        for l in audit.lints.iter().filter(|l| l.file == i) {
            seconds += l.seconds;
            suite.add_test_case(lint_case(l, &name, root));
        }
        suite.set_time(Duration::from_secs_f64(seconds));
        report.add_test_suite(suite);
    }
    report
        .serialize(&mut *w)
        .map_err(|e| io::Error::other(e.to_string()))?;
    writeln!(w)
}

/// XML 1.0 cannot carry most control characters; they are shown escaped.
fn xml_text(s: &str) -> String {
    printable(s).replace('\r', "\\r")
}

fn check_case(audit: &AuditReport, c: &CheckRun, file: &str) -> TestCase {
    let reproduce = reproduce(audit, c);
    let sentence = xml_text(&failure_sentence(c));
    let status = match c.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Flaky => {
            let mut s = TestCaseStatus::success();
            // Surefire's schema requires the type and a stackTrace: the first failure's
            // verdict and sentence.
            let first = c.first_failure.clone().unwrap_or_else(|| c.failure());
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            rerun.set_message(format!(
                "passed after retry: failed on attempt 1 of {}",
                c.attempts
            ));
            rerun.set_type(first.kind.as_str());
            rerun.set_stack_trace(xml_text(&first.sentence));
            s.add_rerun(rerun);
            s
        }
        Status::Failed | Status::Error => {
            let kind = if c.status == Status::Failed {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut s = TestCaseStatus::non_success(kind);
            s.set_message(sentence.as_str());
            s.set_type(c.failure().kind);
            s.set_description(format!("{sentence}\nreproduce: {reproduce}"));
            s
        }
    };
    let mut case = TestCase::new(c.name.as_str(), status);
    case.set_classname(format!("{file}:{}", c.pos.line));
    case.set_time(Duration::from_secs_f64(c.seconds.max(0.0)));
    if c.status == Status::Flaky {
        case.set_system_out(format!(
            "passed after retry ({} attempts)\nreproduce: {reproduce}",
            c.attempts
        ));
    }
    case
}

fn lint_case(l: &LintRun, file: &str, root: &Path) -> TestCase {
    let nginx = relative(&l.nginx, root);
    let status = if l.ok() {
        TestCaseStatus::success()
    } else if let Some(e) = &l.error {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(xml_text(e));
        s.set_type("error");
        s
    } else {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let errors: Vec<String> = l
            .report
            .iter()
            .flat_map(|r| r.findings())
            .filter(|f| f.severity == Severity::Error)
            .map(|f| {
                let at = f
                    .location
                    .as_ref()
                    .map(|loc| format!(" {}:{}", relative(&loc.file, root), loc.line))
                    .unwrap_or_default();
                format!("{}{at}: {}", f.id, f.message)
            })
            .collect();
        s.set_message(format!("{} error-level finding(s)", errors.len()));
        s.set_type("lint");
        s.set_description(xml_text(&format!(
            "{}\nreproduce: wspath lint nginx {nginx}",
            errors.join("\n")
        )));
        s
    };
    let mut case = TestCase::new(format!("lint nginx {nginx}"), status);
    case.set_classname(format!("{file}:{}", l.pos.line));
    case.set_time(Duration::from_secs_f64(l.seconds.max(0.0)));
    case
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn one_suite_per_file_one_case_per_check_and_lint() {
        let mut out = Vec::new();
        render(&sample::audit(), Path::new("."), &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 5, "{xml}");
        assert!(xml.contains(r#"tests="5""#), "{xml}");
        assert!(xml.contains(r#"failures="2""#), "{xml}");
        assert!(xml.contains(r#"errors="1""#), "{xml}");
        assert!(xml.contains("<flakyFailure"), "{xml}");
        assert!(xml.contains("flaky &lt;one&gt;"), "{xml}");
        assert!(
            xml.contains("reproduce: wspath audit ci/wspath.toml --only broken"),
            "{xml}"
        );
        assert!(xml.contains(r#"classname="ci/wspath.toml:11""#), "{xml}");
    }
}
