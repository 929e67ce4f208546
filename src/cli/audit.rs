//! `wspath audit`: config files → one bounded run of every check and lint → human output on
//! stdout while report files (JUnit, JSON, SARIF) are written beside it, plus GitHub
//! annotations and a step summary when running in GitHub Actions.

use super::audit_progress::Bars;
use super::Format;
use clap::Args;
use futures_util::future::BoxFuture;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wspath::audit::{self, Attachment, AuditOptions, AuditReport, Discover};
use wspath::config::{self, Check, ConfigFile};
use wspath::report::audit as render;
use wspath::walk::CheckConfig;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit files (TOML: [defaults], [[check]], [[lint]]); see schemas/audit.schema.json
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Connections open at once, in all
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), allow_hyphen_values = true)]
    pub concurrency: u32,
    /// Connections open at once to one resolved address
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), allow_hyphen_values = true)]
    pub per_host: u32,
    /// Bound on each check as a whole (each attempt), e.g. 30s
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub deadline: Option<String>,
    /// Run a failing check again this many times; a later pass is reported as flaky
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub retries: u32,
    /// Write a JUnit XML report (one testsuite per file) to FILE
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,
    /// Write the wspath.audit/v1 JSON report to FILE
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write a SARIF 2.1.0 report (paths relative to the repository root) to FILE
    #[arg(long, value_name = "FILE")]
    pub report_sarif: Option<PathBuf>,
    /// What to print on stdout
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// GitHub annotations on stdout and a table in $GITHUB_STEP_SUMMARY (default when GITHUB_ACTIONS=true)
    #[arg(long, conflicts_with = "no_github")]
    pub github: bool,
    #[arg(long)]
    pub no_github: bool,
    /// Run only these checks (by name; repeatable); lints are skipped
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub only: Vec<String>,
}

impl AuditArgs {
    /// Worker threads the audit needs: handshakes are I/O, one thread drives dozens of them;
    /// more only when the bound allows many at once, never more than the machine has.
    pub fn worker_threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (self.concurrency as usize).div_ceil(64).clamp(1, cores)
    }
}

pub async fn run(args: AuditArgs) -> anyhow::Result<u8> {
    let result = audit(&args).await;
    if let Err(e) = &result {
        error_reports(&args, e);
    }
    result
}

/// An audit that could not run still leaves each report file asked for as a parseable document
/// saying why (a CI step uploading an empty or stale file would hide the failure), and a GitHub
/// annotation beside human output. stdout's document is printed with the error line by the
/// caller, as for every command.
fn error_reports(args: &AuditArgs, e: &anyhow::Error) {
    use wspath::report::error;
    if e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(super::output::is_broken_pipe)
    }) {
        return;
    }
    let message = super::one_line(e);
    let info = super::error_info(e, &message);
    type Renderer = fn(&error::ErrorInfo, &mut dyn Write) -> io::Result<()>;
    let junit: Renderer = |i, w| error::render_junit("wspath audit", i, w);
    let json: Renderer = |i, w| error::render_json(render::json::SCHEMA, i, w);
    let sarif: Renderer = |i, w| error::render_sarif(i, w);
    for (path, renderer) in [
        (&args.report_junit, junit),
        (&args.report_json, json),
        (&args.report_sarif, sarif),
    ] {
        let Some(path) = path else { continue };
        let mut buf = Vec::new();
        if renderer(&info, &mut buf).is_ok() {
            let text = super::output::scrub(&String::from_utf8_lossy(&buf));
            // The error itself is already being reported; a file that cannot be written
            // either adds nothing a CI step could act on.
            let _ = std::fs::write(path, text);
        }
    }
    let github = !args.no_github
        && (args.github || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"));
    if github && args.format == Format::Human {
        // Workflow-command data escapes (%, CR, LF) as GitHub documents them.
        let text = info
            .message
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        let line = format!("::error title=wspath audit could not run::{text}\n");
        let _ = super::output::stdout(line.as_bytes(), super::output::Doc::Human);
    }
}

async fn audit(args: &AuditArgs) -> anyhow::Result<u8> {
    let mut files: Vec<ConfigFile> = Vec::with_capacity(args.files.len());
    for f in &args.files {
        files.push(config::load(f)?);
    }
    check_cacerts(&files)?;
    let deadline = args
        .deadline
        .as_deref()
        .map(|d| config::values::duration("--deadline", d))
        .transpose()?;
    let options = AuditOptions {
        concurrency: args.concurrency as usize,
        per_host: args.per_host as usize,
        deadline,
        retries: args.retries,
        only: args.only.clone(),
    };
    let bars = Arc::new(Bars::for_stderr());
    let on = bars.clone();
    // SIGINT/SIGTERM stop the running walks, which report what they saw; the audit then
    // writes its (partial) report and report files, and exits 130/143.
    super::signals::set_walking(true);
    let report = audit::run(
        &files,
        &options,
        Arc::new(Providers),
        Arc::new(move |p| on.on(p)),
    )
    .await;
    super::signals::set_walking(false);
    let report = report?;
    bars.clear();
    let root = repo_root();
    let secrets = secrets(&files);
    super::output::add_secrets(secrets.iter().cloned());
    write_reports(args, &report, &root, &secrets)?;
    let github = !args.no_github
        && (args.github || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"));
    let mut out = Vec::new();
    match args.format {
        Format::Human => render::human::render(&report, &root, use_color(), &mut out)?,
        Format::Json => render::json::render(&report, &root, &mut out)?,
        Format::Junit => render::junit::render(&report, &root, &mut out)?,
        Format::Sarif => render::sarif::render(&report, &root, &mut out)?,
    }
    if github {
        // Workflow commands are read from stdout; after a JSON/XML document they would
        // corrupt it, so they go there only beside human output.
        if args.format == Format::Human {
            render::github::annotations(&report, &root, &mut out)?;
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let mut table = Vec::new();
            render::github::summary(&report, &root, &mut table)?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "$GITHUB_STEP_SUMMARY {}: {e}",
                        PathBuf::from(&path).display()
                    )
                })?;
            f.write_all(scrub(&String::from_utf8_lossy(&table), &secrets).as_bytes())?;
        }
    }
    super::output::stdout(
        scrub(&String::from_utf8_lossy(&out), &secrets).as_bytes(),
        super::output::Doc::of(args.format),
    )?;
    Ok(report.exit_code())
}

/// Every report file asked for, each written whole (a half-written file would confuse CI).
fn write_reports(
    args: &AuditArgs,
    report: &AuditReport,
    root: &Path,
    secrets: &[String],
) -> anyhow::Result<()> {
    type Renderer = fn(&AuditReport, &Path, &mut dyn Write) -> io::Result<()>;
    let wanted: [(&Option<PathBuf>, &str, Renderer); 3] = [
        (&args.report_junit, "--report-junit", render::junit::render),
        (&args.report_json, "--report-json", render::json::render),
        (&args.report_sarif, "--report-sarif", render::sarif::render),
    ];
    for (path, flag, renderer) in wanted {
        let Some(path) = path else { continue };
        let mut buf = Vec::new();
        renderer(report, root, &mut buf)?;
        let text = scrub(&String::from_utf8_lossy(&buf), secrets);
        std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A bad CA file is exit 2 before anything is probed; read once per distinct file, and
/// without loading the system's roots.
fn check_cacerts(files: &[ConfigFile]) -> anyhow::Result<()> {
    let mut seen: Vec<&Path> = Vec::new();
    for c in files.iter().flat_map(|f| &f.checks) {
        if let Some(p) = c.options.cacert.as_deref() {
            if !seen.contains(&p) {
                wspath::probe::tls::check_cacert(p)?;
                seen.push(p);
            }
        }
    }
    Ok(())
}

/// The repository root SARIF and annotations are relative to: $GITHUB_WORKSPACE, else the git
/// work tree around the current directory, else the current directory.
fn repo_root() -> PathBuf {
    if let Some(ws) = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) {
        return PathBuf::from(ws);
    }
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stderr(std::process::Stdio::null())
        .output();
    if let Ok(out) = git {
        if out.status.success() {
            let top = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !top.is_empty() {
                return PathBuf::from(top);
            }
        }
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// Header values under secret names (often from ${VAR}) and provider credentials.
fn secrets(files: &[ConfigFile]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in files.iter().flat_map(|f| &f.checks) {
        for (n, v) in &c.options.headers {
            if wspath::report::redact::is_secret_name(n) && v.len() >= 6 && !out.contains(v) {
                out.push(v.clone());
            }
        }
    }
    for k in super::output::SECRET_ENV {
        if let Ok(v) = std::env::var(k) {
            if v.len() >= 6 {
                out.push(v);
            }
        }
    }
    out
}

/// Known secret values masked (report files are written as rendered; stdout also passes the
/// output edge).
fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), wspath::report::redact::MASK);
        }
    }
    out
}

fn use_color() -> bool {
    super::output::stdout_color()
}

/// Discovery as `wspath check` does it: the check's nginx_conf, Cloudflare and AWS, through the
/// same code path as the flags.
struct Providers;

impl Discover for Providers {
    fn discover<'a>(
        &'a self,
        check: &'a Check,
        config: &'a mut CheckConfig,
    ) -> BoxFuture<'a, Result<Vec<Attachment>, String>> {
        Box::pin(async move {
            let args = check_args(check).map_err(|e| e.to_string())?;
            let found = super::discover::discover(&args, config)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let mut out: Vec<Attachment> = found
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    hop: a.hop,
                    findings: a.findings,
                    facts: a.facts,
                    warnings: Vec::new(),
                })
                .collect();
            if !found.warnings.is_empty() {
                out.push(Attachment {
                    hop: String::new(),
                    findings: Vec::new(),
                    facts: Vec::new(),
                    warnings: found.warnings,
                });
            }
            Ok(out)
        })
    }
}

/// The `check` flags one `[[check]]`'s providers and nginx_conf stand for.
fn check_args(check: &Check) -> Result<super::check::CheckArgs, clap::Error> {
    use clap::Parser;
    let mut argv: Vec<String> = vec!["wspath".into(), "check".into(), check.target.url()];
    if let Some(conf) = &check.nginx_conf {
        argv.push("--nginx-conf".into());
        argv.push(conf.to_string_lossy().into_owned());
    }
    match check.options.cloudflare {
        Some(true) => argv.push("--cloudflare".into()),
        Some(false) => argv.push("--no-cloudflare".into()),
        None => {}
    }
    if let Some(aws) = &check.options.aws {
        argv.push(if aws.enabled { "--aws" } else { "--no-aws" }.into());
        for (flag, v) in [
            ("--alb", &aws.alb),
            ("--region", &aws.region),
            ("--profile", &aws.profile),
        ] {
            if let Some(v) = v {
                argv.push(flag.into());
                argv.push(v.clone());
            }
        }
    }
    match super::Cli::try_parse_from(argv)?.command {
        super::Command::Check(a) => Ok(a),
        _ => Err(clap::Error::raw(
            clap::error::ErrorKind::InvalidSubcommand,
            "internal: the check flags did not parse as `check`",
        )),
    }
}
