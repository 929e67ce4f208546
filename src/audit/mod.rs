//! `wspath audit`: every check and lint of one or more config files, run as one job.
//!
//! One runtime, bounded by [`Limits`] (globally and per resolved address); each check under its
//! own deadline and retried when it fails (a check that fails, then passes, is reported as
//! flaky, never hidden). The result is one [`AuditReport`] that every renderer reads
//! (`report::audit_*`). Nothing here knows about terminals or flags.

pub mod limits;

use crate::config::{Check, ConfigFile, Lint, Pos};
use crate::finding::{Fact, Finding};
use crate::nginx::{self, LintReport};
use crate::report::Report;
use crate::walk::{self, CheckConfig};
use futures_util::future::BoxFuture;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use limits::Limits;

/// How the audit runs.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Connections at once in all (`--concurrency`).
    pub concurrency: usize,
    /// Connections at once per resolved address (`--per-host`).
    pub per_host: usize,
    /// Bound on one check as a whole, each attempt (`--deadline`).
    pub deadline: Option<Duration>,
    /// Extra attempts for a failing check (`--retries`).
    pub retries: u32,
    /// Run only the checks with these names (and no lints); empty runs everything.
    pub only: Vec<String>,
}

impl Default for AuditOptions {
    fn default() -> AuditOptions {
        AuditOptions {
            concurrency: 32,
            per_host: 8,
            deadline: None,
            retries: 1,
            only: Vec::new(),
        }
    }
}

/// Findings and facts one integration read about one hop, attached after the walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub hop: String,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
    /// A provider enabled only implicitly that could not be read: the check report's
    /// `warnings`, as `check` shows them.
    pub warnings: Vec<String>,
}

/// What runs before a check's walk: providers and the nginx model may add hops and return
/// what they read. The binary passes one that knows the providers; [`NginxOnly`] is the
/// engine's own (the check's `nginx_conf`).
pub trait Discover: Send + Sync {
    fn discover<'a>(
        &'a self,
        check: &'a Check,
        config: &'a mut CheckConfig,
    ) -> BoxFuture<'a, Result<Vec<Attachment>, String>>;
}

/// Discovery with the nginx model only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NginxOnly;

impl Discover for NginxOnly {
    fn discover<'a>(
        &'a self,
        check: &'a Check,
        config: &'a mut CheckConfig,
    ) -> BoxFuture<'a, Result<Vec<Attachment>, String>> {
        Box::pin(async move { nginx_attachment(check, config).map_err(|e| e.to_string()) })
    }
}

/// The check's `nginx_conf`, as `check --nginx-conf` uses it.
pub fn nginx_attachment(
    check: &Check,
    config: &mut CheckConfig,
) -> Result<Vec<Attachment>, crate::Error> {
    let Some(conf) = &check.nginx_conf else {
        return Ok(Vec::new());
    };
    let a = nginx::check::prepare(conf, None, None, config)?;
    Ok(vec![Attachment {
        hop: a.hop,
        findings: a.findings,
        facts: a.facts,
        warnings: Vec::new(),
    }])
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    /// Failed, then passed on a retry.
    Flaky,
    Failed,
    /// Could not run (discovery failed, deadline exceeded before any report).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Flaky => "flaky",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }

    /// Counts as a pass for the exit code.
    pub fn ok(self) -> bool {
        matches!(self, Status::Passed | Status::Flaky)
    }
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// Index into [`AuditReport::files`].
    pub file: usize,
    pub name: String,
    pub target: String,
    /// The `[[check]]` line.
    pub pos: Pos,
    pub status: Status,
    pub attempts: u32,
    /// Wall time of the last attempt, idle hold included.
    pub seconds: f64,
    /// The last attempt's report; `None` when the check could not run.
    pub report: Option<Report>,
    /// Why it could not run (or the last failed attempt's reason when the deadline cut it).
    pub error: Option<String>,
    /// How the first attempt failed, kept when a retry passed (a flaky check says what it did).
    pub first_failure: Option<Failure>,
}

/// How one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The culprit's verdict (`upgrade_stripped`, …), `deadline`, or `error`.
    pub kind: String,
    /// The sentence the reports show for a failed check.
    pub sentence: String,
}

impl CheckRun {
    /// How this run failed, as the reports word it.
    pub fn failure(&self) -> Failure {
        let kind = match (&self.report, &self.error) {
            (None, Some(_)) if self.attempts > 0 => "deadline",
            (None, _) => "error",
            (Some(r), _) => r.culprit.as_ref().map_or("check", |c| c.verdict.as_str()),
        };
        Failure {
            kind: kind.to_string(),
            sentence: crate::report::audit::failure_sentence(self),
        }
    }
}

/// One lint's result.
#[derive(Debug, Clone)]
pub struct LintRun {
    pub file: usize,
    pub nginx: PathBuf,
    pub pos: Pos,
    pub seconds: f64,
    pub report: Option<LintReport>,
    pub error: Option<String>,
    /// The nginx file:line the error is at, when it is one (a syntax error): annotations and
    /// SARIF point there rather than at the `[[lint]]` line.
    pub error_at: Option<crate::finding::Location>,
}

impl LintRun {
    pub fn ok(&self) -> bool {
        self.report.as_ref().is_some_and(|r| !r.has_error())
    }
}

/// Counts over an audit, the same in every format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub checks: usize,
    pub passed: usize,
    pub flaky: usize,
    pub failed: usize,
    pub errors: usize,
    pub lints: usize,
    pub lints_failed: usize,
}

/// The whole audit.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// The config files, as given.
    pub files: Vec<PathBuf>,
    /// In file order, then the order checks appear in each file.
    pub checks: Vec<CheckRun>,
    pub lints: Vec<LintRun>,
    pub seconds: f64,
}

impl AuditReport {
    pub fn totals(&self) -> Totals {
        let count = |s: Status| self.checks.iter().filter(|c| c.status == s).count();
        Totals {
            checks: self.checks.len(),
            passed: count(Status::Passed),
            flaky: count(Status::Flaky),
            failed: count(Status::Failed),
            errors: count(Status::Error),
            lints: self.lints.len(),
            lints_failed: self.lints.iter().filter(|l| !l.ok()).count(),
        }
    }

    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.status.ok()) && self.lints.iter().all(LintRun::ok)
    }

    /// 0 every check and lint passed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.ok() {
            crate::exit::OK
        } else {
            crate::exit::PROBLEMS
        }
    }
}

/// What the audit reports while it runs (the binary draws progress bars from it).
#[derive(Debug, Clone, PartialEq)]
pub enum AuditProgress {
    /// The number of checks and lints that will run.
    Planned {
        checks: usize,
        lints: usize,
    },
    /// A check has its permits and starts (attempt ≥ 1).
    CheckStarted {
        name: String,
        attempt: u32,
    },
    CheckDone {
        name: String,
        status: Status,
    },
    LintDone {
        nginx: PathBuf,
    },
}

/// The checks `only` selects; an unknown name is an error naming it.
pub fn select<'f>(
    files: &'f [ConfigFile],
    only: &[String],
) -> Result<Vec<(usize, &'f Arc<Check>)>, crate::Error> {
    for name in only {
        if !files
            .iter()
            .flat_map(|f| &f.checks)
            .any(|c| &c.name == name)
        {
            let known: Vec<&str> = files
                .iter()
                .flat_map(|f| &f.checks)
                .map(|c| c.name.as_str())
                .take(20)
                .collect();
            return Err(crate::Error::InvalidFlag {
                flag: "--only",
                input: name.clone(),
                reason: format!("no check of that name (checks: {})", known.join(", ")),
            });
        }
    }
    Ok(files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.checks.iter().map(move |c| (i, c)))
        .filter(|(_, c)| only.is_empty() || only.contains(&c.name))
        .collect())
}

/// Runs every selected check and lint of `files`.
pub async fn run(
    files: &[ConfigFile],
    options: &AuditOptions,
    discover: Arc<dyn Discover>,
    progress: Arc<dyn Fn(AuditProgress) + Send + Sync>,
) -> Result<AuditReport, crate::Error> {
    let started = Instant::now();
    let selected = select(files, &options.only)?;
    let lints: Vec<(usize, &Lint)> = if options.only.is_empty() {
        files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.lints.iter().map(move |l| (i, l)))
            .collect()
    } else {
        Vec::new()
    };
    progress(AuditProgress::Planned {
        checks: selected.len(),
        lints: lints.len(),
    });
    let lint_runs: Vec<LintRun> = lints
        .iter()
        .map(|(i, l)| {
            let run = run_lint(*i, l);
            progress(AuditProgress::LintDone {
                nginx: l.nginx.clone(),
            });
            run
        })
        .collect();

    let limits = Arc::new(Limits::new(options.concurrency, options.per_host));
    // Checks are started as others end, never all at once: a waiting task costs memory, and
    // an audit of 10,000 checks would hold 10,000 of them. The window is wide enough that
    // checks bound for a busy address do not keep the others from starting.
    let window = options.concurrency.saturating_mul(8).max(64);
    let mut pending = selected.iter().enumerate();
    let mut tasks = tokio::task::JoinSet::new();
    let mut checks: Vec<Option<CheckRun>> = vec![None; selected.len()];
    loop {
        while tasks.len() < window {
            let Some((order, (file, check))) = pending.next() else {
                break;
            };
            let job = Job {
                file: *file,
                check: Arc::clone(check),
                limits: limits.clone(),
                discover: discover.clone(),
                progress: progress.clone(),
                deadline: options.deadline,
                retries: options.retries,
            };
            tasks.spawn(async move { (order, job.run().await) });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        match done {
            Ok((order, run)) => checks[order] = Some(run),
            // A task that panicked is a bug; the others still finish and report.
            Err(e) => tracing::error!("an audit task failed: {e}"),
        }
    }
    let checks = checks
        .into_iter()
        .zip(&selected)
        .map(|(run, (file, check))| {
            run.unwrap_or_else(|| CheckRun {
                file: *file,
                name: check.name.clone(),
                target: check.target.url(),
                pos: check.pos,
                status: Status::Error,
                attempts: 0,
                seconds: 0.0,
                report: None,
                error: Some("internal error: the check's task did not finish".into()),
                first_failure: None,
            })
        })
        .collect();
    Ok(AuditReport {
        files: files.iter().map(|f| f.path.clone()).collect(),
        checks,
        lints: lint_runs,
        seconds: started.elapsed().as_secs_f64(),
    })
}

struct Job {
    file: usize,
    check: Arc<Check>,
    limits: Arc<Limits>,
    discover: Arc<dyn Discover>,
    progress: Arc<dyn Fn(AuditProgress) + Send + Sync>,
    deadline: Option<Duration>,
    retries: u32,
}

impl Job {
    async fn run(self) -> CheckRun {
        let check = &*self.check;
        let mut run = CheckRun {
            file: self.file,
            name: check.name.clone(),
            target: check.target.url(),
            pos: check.pos,
            status: Status::Error,
            attempts: 0,
            seconds: 0.0,
            report: None,
            error: None,
            first_failure: None,
        };
        let mut config = check.config();
        let attachments = match self.discover.discover(check, &mut config).await {
            Ok(a) => a,
            Err(e) => {
                run.error = Some(e);
                (self.progress)(AuditProgress::CheckDone {
                    name: run.name.clone(),
                    status: run.status,
                });
                return run;
            }
        };
        let _permits = self.limits.acquire(&config).await;
        let mut failed_before = false;
        for attempt in 1..=self.retries + 1 {
            run.attempts = attempt;
            (self.progress)(AuditProgress::CheckStarted {
                name: run.name.clone(),
                attempt,
            });
            let t = Instant::now();
            // The walk runs in this task (the check's one task), its first hop's probe too.
            // Boxed: allocated only once the check has its permits, so the checks waiting in
            // the window do not each carry a whole probe's state.
            let walk = Box::pin(walk::check_in_task(&config));
            let walked = match self.deadline {
                Some(d) => tokio::time::timeout(d, walk).await.ok(),
                None => Some(walk.await),
            };
            run.seconds = t.elapsed().as_secs_f64();
            match walked {
                Some((mut report, close)) => {
                    let mut attach_error = None;
                    for a in &attachments {
                        report.warnings.extend(a.warnings.iter().cloned());
                        if a.findings.is_empty() && a.facts.is_empty() {
                            continue;
                        }
                        if let Err(e) = report.attach(&a.hop, a.findings.clone(), a.facts.clone()) {
                            attach_error = Some(e.to_string());
                        }
                    }
                    run.error = attach_error;
                    if report.incomplete && crate::interrupt::requested() {
                        run.error = Some(
                            "interrupted (SIGINT/SIGTERM) before the check finished; the report holds the hops seen so far".into(),
                        );
                    }
                    let ok = report.ok && run.error.is_none();
                    run.report = Some(report);
                    // The server's close frame is read back here, once the report is made
                    // (by now it has mostly arrived) and still under the check's permits,
                    // within the close's own bound and never past `--deadline`.
                    if let Some(close) = close {
                        match self.deadline {
                            Some(d) => {
                                let _ =
                                    tokio::time::timeout_at((t + d).into(), close.finish()).await;
                            }
                            None => close.finish().await,
                        }
                    }
                    if ok {
                        run.status = if failed_before {
                            Status::Flaky
                        } else {
                            Status::Passed
                        };
                        break;
                    }
                    run.status = Status::Failed;
                }
                None => {
                    run.report = None;
                    run.status = Status::Failed;
                    run.error = Some(format!(
                        "deadline exceeded: the check did not finish within {}",
                        humantime::format_duration(self.deadline.unwrap_or_default())
                    ));
                }
            }
            if !failed_before {
                run.first_failure = Some(run.failure());
            }
            failed_before = true;
            // A stop was asked for: no retry, the audit reports what it has.
            if crate::interrupt::requested() {
                break;
            }
        }
        (self.progress)(AuditProgress::CheckDone {
            name: run.name.clone(),
            status: run.status,
        });
        run
    }
}

/// One `[[lint]]`, as `wspath lint nginx` runs it.
fn run_lint(file: usize, l: &Lint) -> LintRun {
    let t = Instant::now();
    let result = lint_report(l);
    let (report, error, error_at) = match result {
        Ok(r) => (Some(r), None, None),
        Err(e) => {
            let at = match &e {
                crate::Error::NginxConfig { .. } => {
                    let info = crate::report::error::ErrorInfo::from_error(&e, "");
                    info.file
                        .zip(info.line)
                        .map(|(f, line)| crate::finding::Location {
                            file: f.into(),
                            line: line as usize,
                        })
                }
                _ => None,
            };
            (None, Some(e.to_string()), at)
        }
    };
    LintRun {
        file,
        nginx: l.nginx.clone(),
        pos: l.pos,
        seconds: t.elapsed().as_secs_f64(),
        report,
        error,
        error_at,
    }
}

/// The lint report of one `[[lint]]` (the same steps as `wspath lint nginx`).
pub fn lint_report(l: &Lint) -> Result<LintReport, crate::Error> {
    let main = nginx::main_file(&l.nginx, l.prefix.as_deref());
    let config = nginx::load(&main)?;
    let version = nginx::version::resolve(l.nginx_version.as_deref())?;
    let model = nginx::Model::build(&config, version.version)?;
    let opts = nginx::LintOptions {
        path: l.path.clone(),
        host: None,
        idle: l.idle,
    };
    let mut report = nginx::lint(&model, version, &opts);
    if let Some(log) = &l.error_log {
        let level = model.error_log_level();
        report.general.extend(nginx::errorlog::read(log, level)?);
    }
    Ok(report)
}
