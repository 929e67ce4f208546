//! SARIF 2.1.0 for code-scanning UIs: a generic writer over findings-like results (the nginx lint
//! reuses it with file:line locations) and `check`'s use of it (hop findings plus the culprit).

use super::Report;
use crate::finding::{Finding, Location, Severity};
use serde_json::{json, Value};
use std::io::{self, Write};

pub const VERSION: &str = "2.1.0";
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The tool that produced the results.
#[derive(Debug, Clone, Copy)]
pub struct Tool<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub information_uri: &'a str,
}

impl Tool<'static> {
    /// wspath itself.
    pub fn wspath() -> Tool<'static> {
        Tool {
            name: "wspath",
            version: env!("CARGO_PKG_VERSION"),
            information_uri: "https://github.com/wspath/wspath",
        }
    }
}

/// One SARIF result: what every finding-like thing has in common.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifResult {
    /// Stable rule ID such as `nginx/upgrade-not-forwarded`.
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    /// What to change, if known.
    pub fix: Option<String>,
    /// `file:line`, for results about configuration.
    pub location: Option<Location>,
    /// A named place that is not a file (a hop), for results about a live path.
    pub logical: Option<String>,
}

impl From<&Finding> for SarifResult {
    fn from(f: &Finding) -> SarifResult {
        SarifResult {
            rule_id: f.id.clone(),
            severity: f.severity,
            message: f.message.clone(),
            fix: f.fix.clone(),
            location: f.location.clone(),
            logical: None,
        }
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A SARIF log with one run of `tool` holding `results`.
pub fn to_value(tool: Tool<'_>, results: &[SarifResult]) -> Value {
    let mut rule_ids: Vec<&str> = Vec::new();
    for r in results {
        if !rule_ids.contains(&r.rule_id.as_str()) {
            rule_ids.push(&r.rule_id);
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            if let Some(title) = rule_title(id) {
                return json!({"id": id, "shortDescription": {"text": title}});
            }
            // A rule nobody describes (a future one) is described by its first result.
            let first = results.iter().find(|r| r.rule_id == *id);
            let mut rule = json!({
                "id": id,
                "shortDescription": {"text": first.map_or(*id, |r| r.message.as_str())},
            });
            if let Some(fix) = first.and_then(|r| r.fix.as_deref()) {
                rule["help"] = json!({"text": fix});
            }
            rule
        })
        .collect();
    let results: Vec<Value> = results
        .iter()
        .map(|r| {
            let text = match &r.fix {
                Some(fix) => format!("{} Fix: {fix}", sentence(&r.message)),
                None => r.message.clone(),
            };
            let mut v = json!({
                "ruleId": r.rule_id,
                "ruleIndex": rule_ids.iter().position(|id| *id == r.rule_id),
                "level": level(r.severity),
                "message": {"text": text},
            });
            let mut location = serde_json::Map::new();
            if let Some(l) = &r.location {
                location.insert(
                    "physicalLocation".into(),
                    json!({
                        "artifactLocation": {"uri": uri(l)},
                        "region": {"startLine": l.line.max(1)},
                    }),
                );
            }
            if let Some(name) = &r.logical {
                location.insert(
                    "logicalLocations".into(),
                    json!([{"name": name, "kind": "resource"}]),
                );
            }
            if !location.is_empty() {
                v["locations"] = json!([Value::Object(location)]);
            }
            v
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": tool.name,
                "version": tool.version,
                "informationUri": tool.information_uri,
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// What rule `id` looks for, the same for all its results (code scanning shows it beside every
/// alert of the rule, so it must not be one result's words), from the module that owns the rule.
fn rule_title(id: &str) -> Option<String> {
    if let Some(verdict) = id.strip_prefix("check/") {
        return crate::verdict::Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == verdict)
            .map(|v| format!("A hop of the WebSocket path fails: {}", v.title()));
    }
    crate::nginx::lint::rule_title(id)
        .or_else(|| crate::nginx::errorlog::rule_title(id))
        .or_else(|| crate::rules::cloudflare::id::title(id))
        .or_else(|| crate::rules::alb::rule_title(id))
        .or_else(|| super::audit::sarif::rule_title(id))
        .map(str::to_string)
}

/// Writes the SARIF log (pretty-printed, newline-terminated).
pub fn render(tool: Tool<'_>, results: &[SarifResult], w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_value(tool, results))?;
    writeln!(w)
}

/// `check`'s results: every hop's findings, then the culprit as an error.
pub fn check_results(report: &Report) -> Vec<SarifResult> {
    let mut results: Vec<SarifResult> = report
        .hops
        .iter()
        .flat_map(|h| {
            h.findings.iter().map(|f| SarifResult {
                logical: Some(h.name.clone()),
                ..SarifResult::from(f)
            })
        })
        .collect();
    if let Some(c) = &report.culprit {
        results.push(SarifResult {
            rule_id: format!("check/{}", c.verdict.as_str()),
            severity: Severity::Error,
            message: super::redact::url(&c.summary).into_owned(),
            fix: None,
            location: None,
            logical: Some(c.hop.clone()),
        });
    }
    results
}

/// `check --format sarif`.
pub fn render_check(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    render(Tool::wspath(), &check_results(report), w)
}

fn sentence(message: &str) -> String {
    let m = message.trim_end();
    if m.ends_with(['.', '!', '?']) {
        m.to_string()
    } else {
        format!("{m}.")
    }
}

/// A relative-reference URI for a file path: forward slashes, every byte but RFC 3986's
/// unreserved characters and `/` percent-encoded (a `:` in the first segment would read as a
/// scheme, `#` and `?` would end the path, and code scanning matches the decoded path against
/// the repository's files).
fn uri(l: &Location) -> String {
    path_uri(&l.file.to_string_lossy())
}

/// [`uri`] for a path given as text (an error document's file).
pub fn path_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    fn doc(report: &Report) -> Value {
        let mut out = Vec::new();
        render_check(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn check_has_findings_and_culprit() {
        let d = doc(&sample::broken());
        assert_eq!(d["version"], "2.1.0");
        let run = &d["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "wspath");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        let f = &results[0];
        assert_eq!(f["ruleId"], "nginx/upgrade-not-forwarded");
        assert_eq!(f["level"], "error");
        let loc = &f["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "nginx.conf"
        );
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 14);
        assert_eq!(loc["logicalLocations"][0]["name"], "nginx");
        assert_eq!(
            f["message"]["text"],
            "location /ws/ does not forward Upgrade. Fix: add `proxy_http_version 1.1;` at nginx.conf:14"
        );
        let c = &results[1];
        assert_eq!(c["ruleId"], "check/upgrade_stripped");
        assert_eq!(c["ruleIndex"], 1);
        assert_eq!(c["locations"][0]["logicalLocations"][0]["name"], "nginx");
        assert!(c["locations"][0].get("physicalLocation").is_none());
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        // Each rule is described in general words, not by its first result's.
        assert_eq!(
            rules[0]["shortDescription"]["text"],
            "A WebSocket location does not forward the Upgrade header"
        );
        assert!(rules[0].get("help").is_none());
        assert_eq!(
            rules[1]["shortDescription"]["text"],
            "A hop of the WebSocket path fails: Upgrade stripped"
        );
    }

    #[test]
    fn every_known_rule_is_described() {
        use crate::nginx::lint::Check;
        for c in Check::ALL {
            assert!(rule_title(c.id()).is_some(), "{}", c.id());
        }
        for v in crate::verdict::Verdict::ALL {
            assert!(rule_title(&format!("check/{}", v.as_str())).is_some());
        }
        for id in [
            "nginx/empty-config",
            "nginx/log-upstream-closed",
            "nginx/log-level-hides-idle-timeouts",
            "cloudflare/websockets-off",
            "aws_alb/no-rule-for-path",
            "audit/flaky",
            "audit/lint-could-not-run",
        ] {
            assert!(rule_title(id).is_some(), "{id}");
        }
        assert_eq!(rule_title("nginx/made-up"), None);
    }

    #[test]
    fn healthy_has_no_results() {
        let d = doc(&sample::healthy());
        assert_eq!(d["runs"][0]["results"], json!([]));
        assert_eq!(d["runs"][0]["tool"]["driver"]["rules"], json!([]));
    }

    #[test]
    fn generic_results_share_rules_and_levels() {
        let r = |id: &str, sev, line| SarifResult {
            rule_id: id.into(),
            severity: sev,
            message: format!("{id} here"),
            fix: None,
            location: Some(Location {
                file: "conf d/nginx.conf".into(),
                line,
            }),
            logical: None,
        };
        let v = to_value(
            Tool::wspath(),
            &[
                r("nginx/a", Severity::Warning, 3),
                r("nginx/b", Severity::Info, 0),
                r("nginx/a", Severity::Warning, 9),
            ],
        );
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(results[2]["ruleIndex"], 0);
        assert_eq!(results[1]["level"], "note");
        // SARIF lines start at 1.
        assert_eq!(
            results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "conf%20d/nginx.conf"
        );
    }
}
