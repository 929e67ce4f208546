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
        error_reports(&report_files(&args), github(&args), args.format, e);
    }
    result
}

/// The `--report-*` files asked for, with their flags.
fn report_files(args: &AuditArgs) -> Vec<(&'static str, PathBuf)> {
    [
        ("--report-junit", &args.report_junit),
        ("--report-json", &args.report_json),
        ("--report-sarif", &args.report_sarif),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.clone().map(|p| (flag, p)))
    .collect()
}

/// GitHub annotations: `--github`, or GitHub Actions unless `--no-github`.
fn github(args: &AuditArgs) -> bool {
    !args.no_github && (args.github || github_actions())
}

fn github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// A command line clap refused (`wspath audit x.toml --concurrency 0 --report-junit j.xml`):
/// the report files it names still get the error document, or CI uploads a stale or missing
/// report. They are read from the raw arguments as clap would (`--report-junit FILE` or
/// `--report-junit=FILE`, nothing after `--`), since clap parsed nothing.
pub fn usage_error_reports(argv: &[String], info: &wspath::report::error::ErrorInfo) {
    // The subcommand is the first word that is neither a global flag nor its value.
    let mut at = None;
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "--color" => i += 1,
            a if a.starts_with('-') => {}
            a => {
                at = (a == "audit").then_some(i);
                break;
            }
        }
        i += 1;
    }
    let Some(at) = at else { return };
    let args = &argv[at + 1..];
    let mut files: Vec<(&'static str, PathBuf)> = Vec::new();
    let (mut github, mut no_github, mut format) = (false, false, Format::Human);
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            break;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a, None),
        };
        let value = |i: &mut usize| {
            inline.clone().or_else(|| {
                *i += 1;
                args.get(*i).cloned()
            })
        };
        match name {
            "--report-junit" | "--report-json" | "--report-sarif" => {
                let flag = match name {
                    "--report-junit" => "--report-junit",
                    "--report-json" => "--report-json",
                    _ => "--report-sarif",
                };
                if let Some(v) = value(&mut i).filter(|v| !v.is_empty()) {
                    files.retain(|(f, _)| *f != flag);
                    files.push((flag, PathBuf::from(v)));
                }
            }
            "--format" => {
                format = match value(&mut i).as_deref() {
                    Some("json") => Format::Json,
                    Some("junit") => Format::Junit,
                    Some("sarif") => Format::Sarif,
                    _ => Format::Human,
                }
            }
            "--github" => github = true,
            "--no-github" => no_github = true,
            _ => {}
        }
        i += 1;
    }
    let github = !no_github && (github || github_actions());
    write_error_reports(&files, github, format, info);
}

/// Two `--report-*` flags naming one file would leave only the last document in it, and CI
/// would parse the wrong format: refused before anything runs.
fn distinct_report_files(files: &[(&'static str, PathBuf)]) -> anyhow::Result<()> {
    let key = |p: &Path| -> PathBuf {
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // The directory through its real path (symlinks, `..`), the name as written.
        match (abs.parent(), abs.file_name()) {
            (Some(dir), Some(name)) => std::fs::canonicalize(dir)
                .unwrap_or_else(|_| dir.to_path_buf())
                .join(name),
            _ => abs,
        }
    };
    for (i, (flag, path)) in files.iter().enumerate() {
        if let Some((other, _)) = files[..i].iter().find(|(_, p)| key(p) == key(path)) {
            return Err(wspath::Error::InvalidFlag {
                flag,
                input: path.display().to_string(),
                reason: format!("{other} writes the same file; give each report its own file"),
            }
            .into());
        }
    }
    Ok(())
}

/// An audit that could not run still leaves each report file asked for as a parseable document
/// saying why (a CI step uploading an empty or stale file would hide the failure), and a GitHub
/// annotation beside human output. stdout's document is printed with the error line by the
/// caller, as for every command.
fn error_reports(
    files: &[(&'static str, PathBuf)],
    github: bool,
    format: Format,
    e: &anyhow::Error,
) {
    if e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(super::output::is_broken_pipe)
    }) {
        return;
    }
    let message = super::one_line(e);
    let info = super::error_info(e, &message);
    write_error_reports(files, github, format, &info);
}

fn write_error_reports(
    files: &[(&'static str, PathBuf)],
    github: bool,
    format: Format,
    info: &wspath::report::error::ErrorInfo,
) {
    use wspath::report::error;
    for (flag, path) in files {
        let mut buf = Vec::new();
        let rendered = match *flag {
            "--report-junit" => error::render_junit("wspath audit", info, &mut buf),
            "--report-json" => error::render_json(render::json::SCHEMA, info, &mut buf),
            _ => error::render_sarif(info, &mut buf),
        };
        if rendered.is_ok() {
            let text = super::output::scrub(&String::from_utf8_lossy(&buf));
            // The error itself is already being reported; a file that cannot be written
            // either adds nothing a CI step could act on.
            let _ = std::fs::write(path, text);
        }
    }
    if github && format == Format::Human {
        // The annotation lands on the file and line the error names, when it names one.
        let mut place = String::new();
        if let Some(file) = &info.file {
            place.push_str(&format!(
                " file={}",
                render::github::property(&render::relative(Path::new(file), &repo_root()))
            ));
            if let Some(line) = info.line {
                place.push_str(&format!(",line={line}"));
            }
            place.push(',');
        } else {
            place.push(' ');
        }
        let line = format!(
            "::error{place}title=wspath audit could not run::{}\n",
            render::github::data(&info.message)
        );
        let _ = super::output::stdout(line.as_bytes(), super::output::Doc::Human);
    }
}

async fn audit(args: &AuditArgs) -> anyhow::Result<u8> {
    distinct_report_files(&report_files(args))?;
    let mut files: Vec<ConfigFile> = Vec::with_capacity(args.files.len());
    for f in &args.files {
        files.push(config::load(f)?);
    }
    nothing_to_audit(&files)?;
    check_cacerts(&files)?;
    let deadline = args
        .deadline
        .as_deref()
        .map(|d| config::values::duration("--deadline", d))
        .transpose()?;
    if let Some(deadline) = deadline {
        deadline_holds_idle(&files, deadline, &args.only)?;
    }
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
    // A report file that cannot be written fails the run (exit 2), but only after the
    // others are written and the report is printed: the results are not lost with it.
    let mut unwritten = write_reports(args, &report, &root, &secrets);
    let github = github(args);
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
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| {
                    f.write_all(scrub(&String::from_utf8_lossy(&table), &secrets).as_bytes())
                });
            if let Err(e) = appended {
                let path = PathBuf::from(&path);
                unwritten.push((
                    "GITHUB_STEP_SUMMARY",
                    format!("$GITHUB_STEP_SUMMARY {}: {e}", path.display()),
                ));
            }
        }
    }
    if github && args.format == Format::Human {
        for (_, message) in &unwritten {
            writeln!(
                out,
                "::error title=wspath audit could not write a report::{}",
                render::github::data(message)
            )?;
        }
    }
    super::output::stdout(
        scrub(&String::from_utf8_lossy(&out), &secrets).as_bytes(),
        super::output::Doc::of(args.format),
    )?;
    if unwritten.is_empty() {
        return Ok(report.exit_code());
    }
    for (_, message) in &unwritten {
        super::output::error_line(message);
    }
    Ok(wspath::exit::COULD_NOT_RUN)
}

/// A check that holds the connection idle for as long as `--deadline` or longer can never
/// pass: every attempt would end as "deadline exceeded". That is a mistake in the command or
/// the file, said once before anything runs (exit 2), not a failure after all the retries.
fn deadline_holds_idle(
    files: &[ConfigFile],
    deadline: std::time::Duration,
    only: &[String],
) -> anyhow::Result<()> {
    for f in files {
        for c in &f.checks {
            let Some(idle) = c.options.idle else { continue };
            if idle >= deadline && (only.is_empty() || only.contains(&c.name)) {
                return Err(wspath::Error::Config {
                    file: f.path.clone(),
                    line: c.pos.line,
                    column: c.pos.column,
                    message: format!(
                        "check '{}' holds the connection idle for {:?}, which --deadline {:?} cuts short: it could never pass; give --deadline more than its idle",
                        c.name, idle, deadline
                    ),
                }
                .into());
            }
        }
    }
    Ok(())
}

/// An audit of files with no `[[check]]` and no `[[lint]]` tests nothing: that is a mistake
/// (a wrong file, a renamed table), never a green run.
fn nothing_to_audit(files: &[ConfigFile]) -> anyhow::Result<()> {
    if files
        .iter()
        .any(|f| !f.checks.is_empty() || !f.lints.is_empty())
    {
        return Ok(());
    }
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    Err(wspath::Error::Config {
        file: files.first().map(|f| f.path.clone()).unwrap_or_default(),
        line: 1,
        column: 1,
        message: format!(
            "nothing to audit: {} define{} no [[check]] and no [[lint]]",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" }
        ),
    }
    .into())
}

/// Every report file asked for, each written whole (a half-written file would confuse CI);
/// returns the ones that could not be written, with why, after trying them all.
fn write_reports(
    args: &AuditArgs,
    report: &AuditReport,
    root: &Path,
    secrets: &[String],
) -> Vec<(&'static str, String)> {
    type Renderer = fn(&AuditReport, &Path, &mut dyn Write) -> io::Result<()>;
    let wanted: [(&Option<PathBuf>, &'static str, Renderer); 3] = [
        (&args.report_junit, "--report-junit", render::junit::render),
        (&args.report_json, "--report-json", render::json::render),
        (&args.report_sarif, "--report-sarif", render::sarif::render),
    ];
    let mut failed = Vec::new();
    for (path, flag, renderer) in wanted {
        let Some(path) = path else { continue };
        let mut buf = Vec::new();
        let written = renderer(report, root, &mut buf).and_then(|()| {
            let text = scrub(&String::from_utf8_lossy(&buf), secrets);
            std::fs::write(path, text)
        });
        if let Err(e) = written {
            failed.push((flag, format!("{flag} {}: {e}", path.display())));
        }
    }
    failed
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
