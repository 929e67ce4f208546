//! `wspath lint --format sarif`: SARIF 2.1.0, so findings show inline in code review.
//! (To be folded into the generic SARIF renderer over findings once that one is on main.)

use crate::finding::{Finding, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn render(findings: &[Finding], w: &mut dyn Write) -> io::Result<()> {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for f in findings {
        rules.entry(f.id.as_str()).or_insert_with(|| {
            json!({
                "id": f.id,
                "shortDescription": {"text": f.id},
                "help": {"text": f.why.clone().unwrap_or_default()},
            })
        });
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(fix) = &f.fix {
                text.push_str(". Fix: ");
                text.push_str(fix);
            }
            let mut r = json!({
                "ruleId": f.id,
                "level": level(f.severity),
                "message": {"text": text},
            });
            if let Some(loc) = &f.location {
                r["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": loc.file.to_string_lossy()},
                        "region": {"startLine": loc.line},
                    }
                }]);
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wspath",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
