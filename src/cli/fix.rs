//! `wspath fix`: plan (and with --yes apply) the fix for nginx, Cloudflare or an AWS ALB.

mod alb;
pub(super) mod cloudflare;
pub(super) mod nginx;

use clap::{ArgGroup, Args, ValueEnum};
use std::path::PathBuf;
use wspath::Plan;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["nginx", "cloudflare", "alb"])))]
pub struct FixArgs {
    /// Fix this nginx configuration file
    #[arg(long, value_name = "FILE")]
    pub nginx: Option<PathBuf>,
    /// Fix the Cloudflare zone that serves this hostname
    #[arg(long, value_name = "HOSTNAME")]
    pub cloudflare: Option<String>,
    /// Fix this AWS application load balancer (name or ARN)
    #[arg(long, value_name = "NAME|ARN")]
    pub alb: Option<String>,
    /// Request path of the WebSocket (nginx: location to fix; ALB: path-pattern, e.g. '/ws/*')
    #[arg(long)]
    pub path: Option<String>,
    /// nginx prefix (nginx -p)
    #[arg(short = 'p', long)]
    pub prefix: Option<PathBuf>,
    /// Expected idle time; timeouts at or below it are raised
    #[arg(long, value_name = "DURATION")]
    pub idle: Option<String>,
    /// nginx version whose defaults apply (default: `nginx -v`, else the oldest supported)
    #[arg(long, value_name = "VERSION")]
    pub nginx_version: Option<String>,
    /// ALB: host-header condition for the new rule
    #[arg(long)]
    pub host: Option<String>,
    /// ALB: the target group the WebSocket path should forward to
    #[arg(long, value_name = "NAME|ARN")]
    pub target_group: Option<String>,
    /// ALB: set idle_timeout.timeout_seconds
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u32>,
    /// ALB: enable lb_cookie stickiness on the target group
    #[arg(long)]
    pub stickiness: bool,
    /// AWS region (default: from the profile or AWS_REGION)
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config
    #[arg(long)]
    pub profile: Option<String>,
    /// Apply the plan (default: print it and change nothing)
    #[arg(long)]
    pub yes: bool,
    /// nginx: where backups of replaced files go (default: $XDG_STATE_HOME/wspath/backups, else
    /// ~/.local/state/wspath/backups); refused when an `include` would load them
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// nginx: apply without `nginx -t` (needed when no nginx binary is on PATH); the output
    /// says validated: false
    #[arg(long)]
    pub no_validate: bool,
    /// nginx: time limit of each `nginx -t` run; past it, nothing is changed
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub validate_timeout: String,
    /// Plan output: human, or json (wspath.fix/v1)
    #[arg(long, value_enum, default_value = "human")]
    pub format: PlanFormat,
}

/// Set by SIGINT/SIGTERM once a fix may write: the transaction then stops at its next step
/// (or finishes its renames) instead of dying between two files.
pub fn interrupt() -> std::io::Result<wspath::transaction::Interrupt> {
    use std::sync::{Arc, OnceLock};
    static FLAG: OnceLock<Arc<std::sync::atomic::AtomicUsize>> = OnceLock::new();
    if let Some(f) = FLAG.get() {
        return Ok(wspath::transaction::Interrupt(f.clone()));
    }
    let flag = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(signal, flag.clone(), signal as usize)?;
    }
    let flag = FLAG.get_or_init(|| flag).clone();
    Ok(wspath::transaction::Interrupt(flag))
}

/// A plan is a list of changes: JUnit and SARIF have nothing to say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
}

pub async fn run(args: FixArgs) -> anyhow::Result<u8> {
    let plan = if args.nginx.is_some() {
        nginx::plan(&args).await?
    } else if args.cloudflare.is_some() {
        cloudflare::plan(&args).await?
    } else {
        alb::plan(&args).await?
    };
    render(&plan, !args.yes, args.format)?;
    Ok(exit_code(&plan))
}

/// 0 when nothing is left to change, 1 when a planned change was not applied.
fn exit_code(plan: &Plan) -> u8 {
    if plan.changes.iter().all(|c| c.applied) {
        wspath::exit::OK
    } else {
        wspath::exit::PROBLEMS
    }
}

pub fn render(plan: &Plan, dry_run: bool, format: PlanFormat) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        PlanFormat::Json => wspath::report::fix::render_json(plan, dry_run, &mut out),
        PlanFormat::Human => wspath::report::fix::render_human(plan, dry_run, &mut out),
    }
}
