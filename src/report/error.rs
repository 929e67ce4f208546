//! "Could not run" (exit 2) in every output format, so a CI step that asked for JSON, JUnit or
//! SARIF always gets a document it can parse, saying what went wrong and where, instead of an
//! empty file.

use super::redact;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::{self, Write};

/// What went wrong: a stable kind, the message (redacted), and where (a flag, a file and line,
/// a URL) when known.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorInfo {
    /// `invalid_input`, `io`, `nginx_config`, `tls_setup`, `not_editable`, `refused`,
    /// `provider`, `interrupted` or `error`.
    pub kind: String,
    pub message: String,
    pub flag: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub url: Option<String>,
}

impl ErrorInfo {
    pub fn new(kind: &str, message: &str) -> ErrorInfo {
        ErrorInfo {
            kind: kind.to_string(),
            message: redact::text(message).into_owned(),
            ..ErrorInfo::default()
        }
    }

    /// The kind and place of one of the engine's errors; `message` is the whole one-line text
    /// (with its causes) the CLI prints.
    pub fn from_error(e: &crate::Error, message: &str) -> ErrorInfo {
        use crate::Error as E;
        let mut info = ErrorInfo::new(e.kind(), message);
        match e {
            E::InvalidTarget { input, .. } => {
                info.flag = Some("TARGET".into());
                info.url = Some(redact::url(input).into_owned());
            }
            E::InvalidHop { .. } => info.flag = Some("--hop".into()),
            E::InvalidHeader { .. } => info.flag = Some("--header".into()),
            E::InvalidFlag { flag, .. } | E::NotApplicable { flag, .. } => {
                info.flag = Some((*flag).to_string())
            }
            E::Io { path, .. } => info.file = Some(path.display().to_string()),
            E::Config { file, line, .. } => {
                info.file = Some(file.display().to_string());
                info.line = u32::try_from(*line).ok().filter(|l| *l > 0);
            }
            E::NginxConfig { location, .. } => {
                let (file, line) = match location.rsplit_once(':') {
                    Some((f, l)) if l.parse::<u32>().is_ok() => (f, l.parse().ok()),
                    _ => (location.as_str(), None),
                };
                info.file = Some(file.to_string());
                info.line = line;
            }
            _ => {}
        }
        info
    }

    /// `{kind, message, where: {flag?, file?, line?, url?}}`.
    pub fn to_json(&self) -> Value {
        let mut place = serde_json::Map::new();
        if let Some(f) = &self.flag {
            place.insert("flag".into(), json!(f));
        }
        if let Some(f) = &self.file {
            place.insert("file".into(), json!(f));
        }
        if let Some(l) = self.line {
            place.insert("line".into(), json!(l));
        }
        if let Some(u) = &self.url {
            place.insert("url".into(), json!(u));
        }
        json!({"kind": self.kind, "message": self.message, "where": place})
    }

    /// `file:line`, the flag, or the URL: the shortest way to say where.
    pub fn place(&self) -> Option<String> {
        match (&self.file, self.line, &self.flag, &self.url) {
            (Some(f), Some(l), _, _) => Some(format!("{f}:{l}")),
            (Some(f), None, _, _) => Some(f.clone()),
            (None, _, Some(flag), _) => Some(flag.clone()),
            (None, _, None, Some(u)) => Some(u.clone()),
            _ => None,
        }
    }
}

/// A `wspath.check/v1`, `wspath.lint/v1` or `wspath.fix/v1` document for a run that could not
/// produce its report: the schema, `ok: false`, and the error.
pub fn render_json(schema: &str, error: &ErrorInfo, w: &mut dyn Write) -> io::Result<()> {
    let mut doc = json!({"schema": schema, "ok": false, "error": error.to_json()});
    if schema == super::fix::SCHEMA {
        // A fix document has no `ok`; an error means nothing was applied.
        doc = json!({"schema": schema, "error": error.to_json()});
    }
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// A JUnit document whose one testcase is the error (`<error>`, not `<failure>`: the check
/// did not run, which CI dashboards show differently from a broken path).
pub fn render_junit(suite: &str, error: &ErrorInfo, w: &mut dyn Write) -> io::Result<()> {
    let mut xml = String::new();
    let name = super::junit::escape(&format!("could not run: {}", error.kind));
    let message = super::junit::escape(&error.message);
    let _ = writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        xml,
        r#"<testsuites name="{s}" tests="1" failures="0" errors="1" time="0.000">"#,
        s = super::junit::escape(suite)
    );
    let _ = writeln!(
        xml,
        r#"  <testsuite name="{s}" tests="1" failures="0" errors="1" skipped="0" time="0.000">"#,
        s = super::junit::escape(suite)
    );
    let _ = writeln!(
        xml,
        r#"    <testcase name="{name}" classname="wspath.error" time="0.000">"#
    );
    let place = error
        .place()
        .map(|p| format!("\nwhere: {}", super::junit::escape(&p)))
        .unwrap_or_default();
    let _ = writeln!(
        xml,
        r#"      <error message="{message}" type="{kind}">{message}{place}</error>"#,
        kind = super::junit::escape(&error.kind)
    );
    let _ = writeln!(xml, "    </testcase>");
    let _ = writeln!(xml, "  </testsuite>");
    let _ = writeln!(xml, "</testsuites>");
    w.write_all(xml.as_bytes())
}

/// A SARIF log with one run, no results, and the error as a tool execution notification
/// (`executionSuccessful: false`), as SARIF 2.1.0 §3.20 intends for a tool that failed.
pub fn render_sarif(error: &ErrorInfo, w: &mut dyn Write) -> io::Result<()> {
    let mut doc = super::sarif::to_value(super::sarif::Tool::wspath(), &[]);
    let mut notification = json!({
        "level": "error",
        "message": {"text": error.message},
        "descriptor": {"id": error.kind},
    });
    if let Some(file) = &error.file {
        notification["locations"] = json!([{"physicalLocation": {
            "artifactLocation": {"uri": super::sarif::path_uri(file)},
            "region": {"startLine": error.line.unwrap_or(1).max(1)},
        }}]);
    }
    doc["runs"][0]["invocations"] = json!([{
        "executionSuccessful": false,
        "toolExecutionNotifications": [notification],
    }]);
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ErrorInfo {
        ErrorInfo::from_error(
            &crate::Error::NginxConfig {
                location: "/etc/nginx/nginx.conf:12".into(),
                message: "too deep".into(),
            },
            "/etc/nginx/nginx.conf:12: too deep \x1b[2J",
        )
    }

    #[test]
    fn json_names_kind_and_place() {
        let mut out = Vec::new();
        render_json("wspath.lint/v1", &info(), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["kind"], "nginx_config");
        assert_eq!(v["error"]["where"]["file"], "/etc/nginx/nginx.conf");
        assert_eq!(v["error"]["where"]["line"], 12);
        // JSON keeps the exact text.
        assert!(v["error"]["message"].as_str().unwrap().ends_with("\x1b[2J"));
    }

    #[test]
    fn junit_and_sarif_carry_the_error() {
        let mut out = Vec::new();
        render_junit("wspath lint", &info(), &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(
            xml.contains(r#"errors="1""#) && xml.contains("<error message="),
            "{xml}"
        );
        assert!(!xml.contains('\x1b') && xml.contains("\\x1b[2J"), "{xml}");
        let mut out = Vec::new();
        render_sarif(&info(), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let inv = &v["runs"][0]["invocations"][0];
        assert_eq!(inv["executionSuccessful"], false);
        assert_eq!(
            inv["toolExecutionNotifications"][0]["descriptor"]["id"],
            "nginx_config"
        );
    }

    #[test]
    fn sarif_file_is_a_uri_reference() {
        // A space or `#` in a path is not a valid URI reference as it stands.
        let info = ErrorInfo::from_error(
            &crate::Error::NginxConfig {
                location: "conf d/my#site.conf:3".into(),
                message: "bad".into(),
            },
            "conf d/my#site.conf:3: bad",
        );
        let mut out = Vec::new();
        render_sarif(&info, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let loc = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "conf%20d/my%23site.conf"
        );
    }

    #[test]
    fn target_errors_are_redacted() {
        let e = crate::Error::InvalidTarget {
            input: "wss://u:pw@h/".into(),
            reason: "x".into(),
        };
        let i = ErrorInfo::from_error(&e, &e.to_string());
        assert_eq!(i.url.as_deref(), Some("wss://<redacted>@h/"));
        assert!(!i.message.contains("pw@"), "{}", i.message);
    }
}
