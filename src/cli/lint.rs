//! `wspath lint nginx`: static audit of nginx configuration.

use super::Format;
use clap::{Args, Subcommand};
use std::path::PathBuf;

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
            anyhow::bail!("lint nginx: not implemented yet")
        }
    }
}

/// `--dump`: crossplane's payload; exit 2 when nginx would refuse the configuration.
fn dump(args: &LintNginxArgs) -> anyhow::Result<u8> {
    let config = wspath::nginx::parse(&args.file)?;
    wspath::nginx::dump::write(&config, &mut std::io::stdout().lock())?;
    Ok(if config.ok() {
        wspath::exit::OK
    } else {
        wspath::exit::COULD_NOT_RUN
    })
}
