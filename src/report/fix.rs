//! Renderers for a fix plan (`wspath.fix/v1`), shared by every provider's fix.

use crate::plan::{Plan, Provider};
use serde_json::json;
use std::io::{self, Write};

pub const SCHEMA: &str = "wspath.fix/v1";

/// The plan as one versioned JSON document.
pub fn render_json(plan: &Plan, dry_run: bool, w: &mut dyn Write) -> io::Result<()> {
    let mut changes = serde_json::to_value(&plan.changes)?;
    // A diff of a user's file may carry a credential the file sets (`proxy_set_header
    // Authorization "Bearer …"`): masked like every other output.
    for c in changes.as_array_mut().into_iter().flatten() {
        for field in ["before", "after"] {
            if let Some(text) = c.get(field).and_then(|v| v.as_str()) {
                let shown = super::redact::text(text).into_owned();
                c[field] = json!(shown);
            }
        }
    }
    let doc = json!({
        "schema": SCHEMA,
        "dry_run": dry_run,
        "changes": changes,
        "notes": plan.notes,
        "unfixed": plan.unfixed,
        "backups": plan.backups,
        "validated": plan.validated,
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// The plan for a person: one block per change, then what to do next.
pub fn render_human(plan: &Plan, dry_run: bool, w: &mut dyn Write) -> io::Result<()> {
    for note in &plan.notes {
        writeln!(w, "{note}")?;
    }
    for error in &plan.unfixed {
        writeln!(w, "not fixed automatically: {}", super::redact::text(error))?;
    }
    if plan.changes.is_empty() {
        if plan.unfixed.is_empty() {
            writeln!(w, "Nothing to change.")?;
        } else {
            writeln!(
                w,
                "Nothing wspath can change automatically; the errors above are left to fix by hand."
            )?;
        }
        return Ok(());
    }
    for change in &plan.changes {
        let provider = match change.provider {
            Provider::Cloudflare => "cloudflare",
            Provider::AwsAlb => "aws_alb",
            Provider::Nginx => "nginx",
        };
        let mark = if change.applied { "applied" } else { "planned" };
        let what = change
            .setting
            .clone()
            .or_else(|| change.file.as_ref().map(|f| f.display().to_string()))
            .unwrap_or_default();
        writeln!(w, "[{mark}] {provider} {} {what}", change.resource)?;
        if change.before.contains('\n') || change.after.contains('\n') {
            // Multi-line values (nginx diffs) are already in a readable form.
            writeln!(w, "{}", change.after.trim_end())?;
        } else {
            writeln!(w, "    {} -> {}", change.before, change.after)?;
        }
    }
    for b in &plan.backups {
        writeln!(
            w,
            "backup of {} at {}\n    restore: {}",
            b.file.display(),
            b.backup.display(),
            b.restore
        )?;
    }
    match plan.validated {
        Some(true) => writeln!(w, "Validated with `nginx -t` before anything was replaced.")?,
        Some(false) => writeln!(
            w,
            "NOT validated: --no-validate applied the change without `nginx -t`."
        )?,
        None => {}
    }
    if dry_run {
        writeln!(
            w,
            "Dry run: nothing was changed. Run again with --yes to apply."
        )?;
    }
    Ok(())
}
