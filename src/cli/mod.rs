//! Command-line parsing and rendering; the engine never sees clap or the terminal.

mod audit;
mod audit_progress;
mod check;
mod discover;
mod extras;
mod fix;
mod lint;
mod progress;
mod runtime;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  healthy: every hop upgraded / no error-level finding / nothing left to fix
  1  problems found: a culprit hop, an error-level finding, or a fix not yet applied
  2  could not run: bad input, unreadable config, missing credentials or permissions";

#[derive(Debug, Parser)]
#[command(name = "wspath", version, about = "Find where a WebSocket path breaks: walk every hop (CDN, load balancer, nginx, backend) and name the one that fails", after_help = EXIT_CODES)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe every hop of a WebSocket path and name the one that breaks
    #[command(after_help = EXIT_CODES)]
    Check(check::CheckArgs),
    /// Static audit of configuration, for CI
    #[command(subcommand, after_help = EXIT_CODES)]
    Lint(lint::LintCommand),
    /// Plan (and with --yes apply) the fix for a broken hop
    #[command(after_help = EXIT_CODES)]
    Fix(fix::FixArgs),
    /// Run every check and lint of audit files (TOML) as one job, for CI, with report files
    #[command(after_help = EXIT_CODES)]
    Audit(audit::AuditArgs),
    /// Print a shell completion script (bash, zsh, fish)
    Completions(extras::CompletionsArgs),
    /// Print the man page (roff)
    Man,
    /// Prometheus exporter: /probe?target=URL runs one check and answers with its metrics
    Serve(serve::ServeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Sarif,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                wspath::exit::COULD_NOT_RUN
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose);
    // Generated text needs no runtime.
    let generated = match &cli.command {
        Command::Completions(args) => Some(extras::completions(args, &mut std::io::stdout())),
        Command::Man => Some(extras::man(&mut std::io::stdout())),
        _ => None,
    };
    if let Some(result) = generated {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wspath: {e}");
                ExitCode::from(wspath::exit::COULD_NOT_RUN)
            }
        };
    }
    let runtime = match runtime::for_command(&cli.command) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wspath: cannot start the async runtime: {e}");
            return ExitCode::from(wspath::exit::COULD_NOT_RUN);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Check(args) => check::run(args).await,
            Command::Lint(cmd) => lint::run(cmd).await,
            Command::Fix(args) => fix::run(args).await,
            Command::Audit(args) => audit::run(args).await,
            Command::Completions(_) | Command::Man => Ok(wspath::exit::OK),
            Command::Serve(args) => serve::run(args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("wspath: {}", one_line(&e));
            ExitCode::from(wspath::exit::COULD_NOT_RUN)
        }
    }
}

/// The error and its causes on one line, so scripts and CI logs keep it whole.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// Crates that see credentials (request signing, auth headers) and log them at debug or
/// trace; they stay at info whatever `WSPATH_LOG` asks, so no log line carries a secret.
const CREDENTIAL_SEEING_CRATES: &[&str] = &[
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_config",
    "aws_credential_types",
    "hyper",
    "hyper_util",
    "reqwest",
    "h2",
];

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let requested = std::env::var("WSPATH_LOG")
        .unwrap_or_else(|_| format!("wspath={level},wspath_providers={level}"));
    let filter = tracing_subscriber::EnvFilter::new(log_directives(&requested));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// `requested` with every credential-seeing crate capped at info: where a directive (or a bare
/// global level) would open one of them further, it is held at info; otherwise left alone, so
/// the default stays quiet.
fn log_directives(requested: &str) -> String {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let rank = |l: &str| LEVELS.iter().position(|x| x.eq_ignore_ascii_case(l));
    let parts: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let global = parts.iter().filter_map(|d| rank(d)).next_back();
    let mut directives: Vec<String> = Vec::new();
    for d in &parts {
        let target = d.split(['=', '[']).next().unwrap_or("");
        if !CREDENTIAL_SEEING_CRATES.contains(&target) {
            directives.push(d.to_string());
        }
    }
    for c in CREDENTIAL_SEEING_CRATES {
        let explicit = parts
            .iter()
            .filter(|d| d.split(['=', '[']).next() == Some(c))
            // A bare target name enables everything for it.
            .map(|d| d.rsplit_once('=').and_then(|(_, l)| rank(l)).unwrap_or(5))
            .next_back();
        match explicit.or(global) {
            Some(r) if r > 3 => directives.push(format!("{c}=info")),
            Some(r) if explicit.is_some() => directives.push(format!("{c}={}", LEVELS[r])),
            _ => {}
        }
    }
    directives.join(",")
}

#[cfg(test)]
mod log_tests {
    use super::log_directives;

    #[test]
    fn credential_seeing_crates_stay_at_info() {
        let d = log_directives("trace,aws_sigv4=trace,hyper=debug");
        assert!(d.starts_with("trace,"), "{d}");
        assert!(
            !d.contains("aws_sigv4=trace") && !d.contains("hyper=debug"),
            "{d}"
        );
        assert!(
            d.contains("aws_sigv4=info") && d.contains("aws_smithy_runtime=info"),
            "{d}"
        );
    }

    #[test]
    fn the_default_does_not_open_them() {
        let d = log_directives("wspath=warn,wspath_providers=warn");
        assert_eq!(d, "wspath=warn,wspath_providers=warn");
        assert_eq!(log_directives("aws_config=error"), "aws_config=error");
        assert_eq!(log_directives("hyper"), "hyper=info");
    }
}
