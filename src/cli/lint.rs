//! `wspath lint nginx`: static audit of nginx configuration.

use super::Format;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use wspath::nginx;

#[derive(Debug, Subcommand)]
pub enum LintCommand {
    /// Audit an nginx configuration for WebSocket proxying
    Nginx(LintNginxArgs),
}

#[derive(Debug, Args)]
pub struct LintNginxArgs {
    /// Main configuration file (e.g. /etc/nginx/nginx.conf)
    pub file: PathBuf,
    /// Prefix that relative includes resolve against (nginx -p)
    #[arg(short = 'p', long)]
    pub prefix: Option<PathBuf>,
    /// Check the location that serves this request path
    #[arg(long)]
    pub path: Option<String>,
    /// Expected idle time of a WebSocket, e.g. 60s
    #[arg(long, default_value = "60s", value_name = "DURATION")]
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
    let file = nginx::main_file(&args.file, args.prefix.as_deref());
    let config = nginx::parse(&file)?;
    nginx::dump::write(&config, &mut std::io::stdout().lock())?;
    Ok(if config.ok() {
        wspath::exit::OK
    } else {
        wspath::exit::COULD_NOT_RUN
    })
}

/// Parse a duration flag such as `60s` or `2m`.
pub fn duration(flag: &'static str, s: &str) -> Result<std::time::Duration, wspath::Error> {
    humantime::parse_duration(s).map_err(|e| wspath::Error::InvalidFlag {
        flag,
        input: s.to_string(),
        reason: e.to_string(),
    })
}

fn lint(args: &LintNginxArgs) -> anyhow::Result<u8> {
    if args.format == Format::Junit {
        anyhow::bail!("lint prints --format human, json or sarif");
    }
    let idle = duration("--idle", &args.idle)?;
    let file = nginx::main_file(&args.file, args.prefix.as_deref());
    let config = nginx::load(&file)?;
    let version = nginx::version::resolve(args.nginx_version.as_deref())?;
    let model = nginx::Model::build(&config, version.version)?;
    let opts = nginx::LintOptions {
        path: args.path.clone(),
        host: None,
        idle,
    };
    let mut report = nginx::lint(&model, version, &opts);
    if let Some(log) = &args.error_log {
        let level = model.error_log_level();
        report.general.extend(nginx::errorlog::read(log, level)?);
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => wspath::report::lint_json::render(&report, &file, &mut out)?,
        Format::Sarif => {
            use wspath::report::sarif::{self, SarifResult, Tool};
            let results: Vec<SarifResult> =
                report.findings().iter().map(SarifResult::from).collect();
            sarif::render(Tool::wspath(), &results, &mut out)?
        }
        _ => wspath::report::lint_human::render(&report, &mut out)?,
    }
    Ok(if report.has_error() {
        wspath::exit::PROBLEMS
    } else {
        wspath::exit::OK
    })
}
