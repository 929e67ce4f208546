//! The one report type of `check` and its renderers (one file per format).

use crate::finding::{Fact, Finding};
use crate::hop::HopKind;
use crate::probe::ProbeOutcome;
use crate::verdict::Verdict;
use serde::Serialize;

/// The hop where the break begins, with one sentence and the fix hint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Culprit {
    pub hop: String,
    pub kind: HopKind,
    pub verdict: Verdict,
    pub summary: String,
    pub fix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopReport {
    pub name: String,
    pub kind: HopKind,
    pub address: String,
    pub outcome: ProbeOutcome,
    /// Fails only because a hop further in fails.
    pub consequence: bool,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
}

/// `wspath.check/v1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub target: String,
    pub ok: bool,
    pub culprit: Option<Culprit>,
    pub hops: Vec<HopReport>,
}

pub mod fix;
pub mod lint_human;
pub mod lint_json;
pub mod lint_sarif;
