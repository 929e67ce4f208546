//! `wspath.audit/v1`: the audit as one JSON document. `checks`: each a `wspath.check/v1`
//! report plus `name`, `file`, `line`, `status` (`passed`, `flaky`, `failed`, `error`),
//! `attempts` and `error`; `lints`: each a `wspath.lint/v1` report plus `file` position;
//! `totals`: the same counts every format shows.

use super::relative;
use crate::audit::{AuditReport, CheckRun, LintRun};
use crate::report::{json as check_json, lint_json, redact};
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::path::Path;

pub const SCHEMA: &str = "wspath.audit/v1";

pub fn render(audit: &AuditReport, root: &Path, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_value(audit, root))?;
    writeln!(w)
}

pub fn to_value(audit: &AuditReport, root: &Path) -> Value {
    let files: Vec<String> = audit.files.iter().map(|f| relative(f, root)).collect();
    json!({
        "schema": SCHEMA,
        "ok": audit.ok(),
        "seconds": round3(audit.seconds),
        "files": files,
        "totals": audit.totals(),
        "checks": audit.checks.iter().map(|c| check(c, &files)).collect::<Vec<_>>(),
        "lints": audit.lints.iter().map(|l| lint(l, &files, root)).collect::<Vec<_>>(),
    })
}

fn round3(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

fn check(c: &CheckRun, files: &[String]) -> Value {
    let mut head = Map::new();
    head.insert("name".into(), json!(c.name));
    head.insert("file".into(), json!(files.get(c.file)));
    head.insert("line".into(), json!(c.pos.line));
    head.insert("status".into(), json!(c.status.as_str()));
    head.insert(
        "flaky".into(),
        json!(c.status == crate::audit::Status::Flaky),
    );
    head.insert("attempts".into(), json!(c.attempts));
    if let Some(first) = &c.first_failure {
        head.insert(
            "first_failure".into(),
            json!({"kind": first.kind, "sentence": redact::url(&first.sentence)}),
        );
    }
    head.insert("seconds".into(), json!(round3(c.seconds)));
    head.insert(
        "error".into(),
        json!(c.error.as_deref().map(|e| redact::url(e).into_owned())),
    );
    match &c.report {
        Some(r) => {
            if let Value::Object(body) = check_json::to_value(r) {
                head.extend(body);
            }
        }
        None => {
            head.insert("schema".into(), json!(check_json::SCHEMA));
            head.insert("target".into(), json!(redact::url(&c.target)));
            head.insert("ok".into(), json!(false));
            head.insert("culprit".into(), Value::Null);
            head.insert("hops".into(), json!([]));
        }
    }
    Value::Object(head)
}

fn lint(l: &LintRun, files: &[String], root: &Path) -> Value {
    let mut head = Map::new();
    head.insert("config".into(), json!(files.get(l.file)));
    head.insert("line".into(), json!(l.pos.line));
    head.insert("error".into(), json!(l.error));
    let nginx = relative(&l.nginx, root);
    match &l.report {
        Some(r) => {
            if let Value::Object(body) = lint_json::to_value(r, Path::new(&nginx)) {
                head.extend(body);
            }
        }
        None => {
            head.insert("schema".into(), json!(lint_json::SCHEMA));
            head.insert("file".into(), json!(nginx));
            head.insert("ok".into(), json!(false));
        }
    }
    Value::Object(head)
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn counts_statuses_and_check_reports() {
        let v = to_value(&sample::audit(), Path::new("."));
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["ok"], false);
        assert_eq!(v["files"][0], "ci/wspath.toml");
        let t = &v["totals"];
        assert_eq!(
            (
                t["checks"].as_u64(),
                t["passed"].as_u64(),
                t["flaky"].as_u64(),
                t["failed"].as_u64()
            ),
            (Some(4), Some(1), Some(1), Some(2))
        );
        assert_eq!(
            (t["lints"].as_u64(), t["lints_failed"].as_u64()),
            (Some(1), Some(1))
        );
        let c = &v["checks"][1];
        assert_eq!(c["name"], "flaky <one>");
        assert_eq!(c["status"], "flaky");
        assert_eq!(c["flaky"], true);
        assert_eq!(c["attempts"], 2);
        assert_eq!(c["schema"], "wspath.check/v1");
        assert_eq!(c["line"], 7);
        assert_eq!(v["checks"][2]["culprit"]["hop"], "nginx");
        assert_eq!(v["checks"][3]["hops"], json!([]));
        assert_eq!(v["lints"][0]["file"], "ci/missing.conf");
    }
}
