//! `wspath.lint/v1`: the lint result as one versioned JSON document (schemas/lint.schema.json).

use crate::finding::Severity;
use crate::nginx::version::VersionSource;
use crate::nginx::LintReport;
use serde_json::json;
use std::io::{self, Write};
use std::path::Path;

pub const SCHEMA: &str = "wspath.lint/v1";

pub fn render(report: &LintReport, file: &Path, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_value(report, file))?;
    writeln!(w)
}

/// The `wspath.lint/v1` document as a value (the audit report embeds one per lint).
pub fn to_value(report: &LintReport, file: &Path) -> serde_json::Value {
    let all = report.findings();
    let count = |sev| all.iter().filter(|f| f.severity == sev).count();
    let source = match report.version.source {
        VersionSource::Flag => "flag",
        VersionSource::Detected => "detected",
        VersionSource::Assumed => "assumed",
    };
    let locations: Vec<_> = report
        .scopes
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "location": s.location,
                "findings": s.problems.iter().map(|(_, f)| f).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "file": file,
        "ok": !report.has_error(),
        "nginx_version": {"version": report.version.version.to_string(), "source": source},
        "counts": {
            "error": count(Severity::Error),
            "warning": count(Severity::Warning),
            "info": count(Severity::Info),
        },
        "locations": locations,
        "findings": all,
    })
}
