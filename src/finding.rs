//! A rule applied to facts: the common currency of the nginx analyzer and the provider rules.

use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// `file:line` of the directive or setting a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable ID such as `nginx/upgrade-not-forwarded` or `cloudflare/websockets-off`.
    pub id: String,
    pub severity: Severity,
    pub message: String,
    /// What was read that proves it (a directive, a setting and its value).
    pub evidence: String,
    /// Why it breaks WebSockets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// What to change.
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Something a provider or the nginx model read, shown beside a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// `cloudflare`, `aws_alb`, `nginx`.
    pub source: String,
    pub name: String,
    pub value: String,
}
