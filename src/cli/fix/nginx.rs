//! `wspath fix --nginx`: lint the location(s), plan the edits, and with --yes write them.

use super::FixArgs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wspath::nginx::{self, writer};
use wspath::Plan;

pub async fn plan(args: &FixArgs) -> anyhow::Result<Plan> {
    let Some(file) = &args.nginx else {
        anyhow::bail!("--nginx FILE is required");
    };
    let idle = match &args.idle {
        Some(s) => Some(crate::cli::lint::duration("--idle", s)?),
        None => None,
    };
    plan_for(&NginxFix {
        file,
        prefix: args.prefix.as_deref(),
        nginx_version: args.nginx_version.as_deref(),
        host: None,
        path: args.path.clone(),
        idle,
        apply: args.yes,
        write: WriteSettings {
            validate: !args.no_validate,
            timeout: crate::cli::lint::duration("--validate-timeout", &args.validate_timeout)?,
            backup_dir: args.backup_dir.clone(),
        },
    })
}

/// What one nginx fix is about; shared by `fix --nginx` and `check --nginx-conf --fix`.
pub struct NginxFix<'a> {
    pub file: &'a Path,
    pub prefix: Option<&'a Path>,
    pub nginx_version: Option<&'a str>,
    /// The Host whose server block to fix (`None`: every server).
    pub host: Option<String>,
    pub path: Option<String>,
    /// Raise timeouts at or below this; `None` leaves them alone.
    pub idle: Option<Duration>,
    pub apply: bool,
    pub write: WriteSettings,
}

/// How `--yes` writes: the transaction's knobs.
#[derive(Debug, Clone)]
pub struct WriteSettings {
    /// `false` with `--no-validate`.
    pub validate: bool,
    /// `--validate-timeout`.
    pub timeout: Duration,
    /// `--backup-dir`.
    pub backup_dir: Option<PathBuf>,
}

impl Default for WriteSettings {
    fn default() -> Self {
        WriteSettings {
            validate: true,
            timeout: Duration::from_secs(60),
            backup_dir: None,
        }
    }
}

/// An absolute path, so nginx and every message name the same file whatever the working
/// directory (a relative `-c` is resolved by nginx against its own prefix, not the cwd).
fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
}

pub fn plan_for(fix: &NginxFix) -> anyhow::Result<Plan> {
    let idle = fix.idle;
    let prefix = fix.prefix.map(absolute).transpose()?;
    let main = absolute(&nginx::main_file(fix.file, prefix.as_deref()))?;
    let config = nginx::load(&main)?;
    let version = nginx::version::resolve(fix.nginx_version)?;
    let model = nginx::Model::build(&config, version.version)?;
    let opts = nginx::LintOptions {
        path: fix.path.clone(),
        host: fix.host.clone(),
        // Without --idle the timeouts are left alone (nothing is at or below zero).
        idle: idle.unwrap_or_default(),
    };
    let report = nginx::lint(&model, version.clone(), &opts);
    let edits = nginx::fix::plan_edits(&model, &report, idle);
    let mut plan = nginx::fix::plan(&model, &edits);
    plan.notes
        .insert(0, format!("defaults of {}", report.version));
    let unfixed: Vec<String> = report
        .findings()
        .into_iter()
        .filter(|f| f.severity == wspath::Severity::Error)
        .filter(|f| !nginx::fix::fixes(&f.id))
        .map(|f| match &f.fix {
            // What to do by hand, since wspath will not (for a location it could not pick,
            // how to name it).
            Some(fix) => format!("{} — {fix} ({})", f.message, f.id),
            None => format!("{} ({})", f.message, f.id),
        })
        .collect();
    plan.unfixed = unfixed;
    let opts = writer::WriteOptions {
        main: main.clone(),
        prefix,
        validate: fix.write.validate,
        timeout: fix.write.timeout,
        backup_root: fix.write.backup_dir.clone(),
    };
    // `--yes` with nothing to change must not read as healthy when the live configuration
    // already fails `nginx -t` (when there is an nginx to ask).
    if fix.apply && edits.is_empty() && writer::nginx_on_path().is_some() {
        writer::precondition(&opts, &super::interrupt()?)?;
    }
    if fix.apply && !edits.is_empty() {
        let interrupt = super::interrupt()?;
        let nginx = writer::precondition(&opts, &interrupt)?;
        let written = writer::write(&model, &edits, &opts, nginx.as_deref(), &interrupt)?;
        for c in &mut plan.changes {
            c.applied = true;
        }
        plan.backups = written.backups;
        plan.validated = Some(written.validated);
        if let Some(signal) = interrupt.signal() {
            plan.notes.push(format!(
                "{signal} arrived while the files were being replaced: every file was replaced, the new validated configuration is in place"
            ));
        }
    }
    Ok(plan)
}
