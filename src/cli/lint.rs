//! `wspath lint nginx`: static audit of nginx configuration.

use super::Format;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use wspath::nginx;

#[derive(Debug, Subcommand)]
pub enum LintCommand {
    /// Audit an nginx configuration for WebSocket proxying
    #[command(after_help = super::EXIT_CODES)]
    Nginx(LintNginxArgs),
}

#[derive(Debug, Args)]
pub struct LintNginxArgs {
    /// Main configuration file(s) (e.g. /etc/nginx/nginx.conf); each is linted on its own
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Prefix that relative includes resolve against (nginx -p)
    #[arg(short = 'p', long)]
    pub prefix: Option<PathBuf>,
    /// Check the location that serves this request path (starts with /)
    #[arg(long, allow_hyphen_values = true)]
    pub path: Option<String>,
    /// Expected idle time of a WebSocket, e.g. 60s
    #[arg(
        long,
        default_value = "60s",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub idle: String,
    /// nginx version whose defaults apply (default: `nginx -v`, else the oldest supported)
    #[arg(long, value_name = "VERSION")]
    pub nginx_version: Option<String>,
    /// nginx error log to read for known WebSocket failures
    #[arg(long, value_name = "FILE")]
    pub error_log: Option<PathBuf>,
    /// Print the parse in crossplane's JSON format instead of linting
    #[arg(long)]
    pub dump: bool,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub async fn run(cmd: LintCommand) -> anyhow::Result<u8> {
    match cmd {
        LintCommand::Nginx(args) => {
            if args.dump {
                return dump(&args);
            }
            lint(&args)
        }
    }
}

/// `--dump`: crossplane's payload; exit 2 when nginx would refuse the configuration.
fn dump(args: &LintNginxArgs) -> anyhow::Result<u8> {
    let [file] = args.files.as_slice() else {
        anyhow::bail!("--dump prints one configuration: give one FILE");
    };
    let file = nginx::main_file(file, args.prefix.as_deref());
    let config = nginx::parse(&file)?;
    let mut out = Vec::new();
    nginx::dump::write(&config, &mut out)?;
    super::output::stdout(&out, super::output::Doc::Json)?;
    Ok(if config.ok() {
        wspath::exit::OK
    } else {
        wspath::exit::COULD_NOT_RUN
    })
}

/// Parse a duration flag such as `60s` or `2m`: positive, with a unit.
pub fn duration(flag: &'static str, s: &str) -> Result<std::time::Duration, wspath::Error> {
    wspath::config::values::duration(flag, s)
}

fn lint(args: &LintNginxArgs) -> anyhow::Result<u8> {
    let idle = duration("--idle", &args.idle)?;
    if let Some(p) = &args.path {
        wspath::config::values::request_path("--path", p)?;
    }
    let version = nginx::version::resolve(args.nginx_version.as_deref())?;
    let mut reports = Vec::with_capacity(args.files.len());
    for f in &args.files {
        let started = std::time::Instant::now();
        let file = nginx::main_file(f, args.prefix.as_deref());
        let config = nginx::load(&file)?;
        let model = nginx::Model::build(&config, version.version)?;
        let opts = nginx::LintOptions {
            path: args.path.clone(),
            host: None,
            idle,
        };
        let mut report = nginx::lint(&model, version.clone(), &opts);
        report
            .general
            .extend(nginx::lint::empty_config(&config, &file));
        if let Some(log) = &args.error_log {
            let level = model.error_log_level();
            report.general.extend(nginx::errorlog::read(log, level)?);
        }
        reports.push((file, report, started.elapsed()));
    }
    let mut out = Vec::new();
    match args.format {
        // One file: the wspath.lint/v1 document as before; several: an array of them.
        Format::Json => match reports.as_slice() {
            [(file, report, _)] => wspath::report::lint_json::render(report, file, &mut out)?,
            all => {
                let docs: Vec<_> = all
                    .iter()
                    .map(|(f, r, _)| wspath::report::lint_json::to_value(r, f))
                    .collect();
                serde_json::to_writer_pretty(&mut out, &docs)?;
                writeln!(out)?;
            }
        },
        Format::Sarif => {
            use wspath::report::sarif::{self, SarifResult, Tool};
            let results: Vec<SarifResult> = reports
                .iter()
                .flat_map(|(_, r, _)| r.findings())
                .map(|f| SarifResult::from(&f))
                .collect();
            sarif::render(Tool::wspath(), &results, &mut out)?
        }
        Format::Junit => wspath::report::lint_junit::render(&reports, &mut out)?,
        Format::Human => {
            for (i, (file, report, _)) in reports.iter().enumerate() {
                if reports.len() > 1 {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    writeln!(out, "== {} ==", file.display())?;
                }
                wspath::report::lint_human::render(report, &mut out)?;
            }
        }
    }
    super::output::stdout(&out, super::output::Doc::of(args.format))?;
    Ok(if reports.iter().any(|(_, r, _)| r.has_error()) {
        wspath::exit::PROBLEMS
    } else {
        wspath::exit::OK
    })
}
