//! `lint nginx --format junit`: one testcase per configuration file, written with quick-junit;
//! a failure lists the error-level findings with their file:line.

use crate::finding::Severity;
use crate::nginx::LintReport;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

/// `reports`: each file with its report and how long reading and linting it took.
pub fn render(reports: &[(PathBuf, LintReport, Duration)], w: &mut dyn Write) -> io::Result<()> {
    let mut suite = TestSuite::new("wspath lint nginx");
    let mut total = Duration::ZERO;
    for (file, report, took) in reports {
        total += *took;
        let errors: Vec<String> = report
            .findings()
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| {
                let at = f
                    .location
                    .as_ref()
                    .map(|l| format!(" {l}"))
                    .unwrap_or_default();
                format!("{}{at}: {}", f.id, f.message)
            })
            .collect();
        let status = if errors.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("{} error-level finding(s)", errors.len()));
            s.set_type("lint");
            s.set_description(errors.join("\n"));
            s
        };
        let mut case = TestCase::new(file.display().to_string(), status);
        case.set_classname("wspath.lint.nginx");
        // JUnit readers (and Surefire's schema) require every testcase's time.
        case.set_time(*took);
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("wspath lint");
    report.set_time(total);
    report.add_test_suite(suite);
    report
        .serialize(&mut *w)
        .map_err(|e| io::Error::other(e.to_string()))?;
    writeln!(w)
}
