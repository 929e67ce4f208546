//! What a fix would change. Printing a plan never changes anything; applying sets `applied`.

use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Cloudflare,
    AwsAlb,
    Nginx,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub provider: Provider,
    /// Zone, load balancer ARN, or `file:line` block the change is in.
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    pub before: String,
    pub after: String,
    pub applied: bool,
}

/// `wspath.fix/v1`: the changes a fix would make (dry run) or made (`--yes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Things the fix noticed but does not change (already correct, not editable, …).
    pub notes: Vec<String>,
    /// Errors found that no automatic change mends (`message (finding id)`): they keep the
    /// run from reading as healthy, whatever was applied.
    pub unfixed: Vec<String>,
    /// With `--yes`: every file replaced, where its backup went and how to restore it.
    pub backups: Vec<crate::transaction::Backup>,
    /// With `--yes` on files: whether the software's own validator (`nginx -t`) passed the
    /// change before it was applied (`false` only with `--no-validate`); `None` otherwise.
    pub validated: Option<bool>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}
