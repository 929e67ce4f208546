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
    #[arg(long, allow_hyphen_values = true)]
    pub path: Option<String>,
    /// nginx prefix (nginx -p)
    #[arg(short = 'p', long)]
    pub prefix: Option<PathBuf>,
    /// Expected idle time; timeouts at or below it are raised
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
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
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
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
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "60s",
        allow_hyphen_values = true
    )]
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
    // From here on the transaction decides when to stop, not the default signal handling.
    super::signals::defer_to_command();
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
    flags_apply(&args)?;
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

/// A flag given for another kind of fix is a mistake to point out, not to ignore: the user
/// thinks it did something.
fn flags_apply(args: &FixArgs) -> Result<(), wspath::Error> {
    let (chosen, allowed): (&'static str, &[&str]) = if args.nginx.is_some() {
        (
            "fix --nginx",
            &["--path", "--prefix", "--idle", "--nginx-version"],
        )
    } else if args.cloudflare.is_some() {
        ("fix --cloudflare", &[])
    } else {
        (
            "fix --alb",
            &[
                "--path",
                "--host",
                "--target-group",
                "--idle-timeout",
                "--stickiness",
                "--region",
                "--profile",
            ],
        )
    };
    let given = [
        ("--path", args.path.is_some()),
        ("--prefix", args.prefix.is_some()),
        ("--idle", args.idle.is_some()),
        ("--nginx-version", args.nginx_version.is_some()),
        ("--host", args.host.is_some()),
        ("--target-group", args.target_group.is_some()),
        ("--idle-timeout", args.idle_timeout.is_some()),
        ("--stickiness", args.stickiness),
        ("--region", args.region.is_some()),
        ("--profile", args.profile.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(f, on)| *on && !allowed.contains(f)) {
        let takes = if allowed.is_empty() {
            "no other fix option".to_string()
        } else {
            allowed.join(", ")
        };
        return Err(wspath::Error::NotApplicable {
            flag,
            mode: chosen,
            takes,
        });
    }
    if let (Some(p), Some(_)) = (&args.path, &args.nginx) {
        wspath::config::values::request_path("--path", p)?;
    }
    Ok(())
}

/// 0 when nothing is left to change, 1 when a planned change was not applied or an error is
/// left that no automatic change mends (a CI step running `fix --yes` must not go green on it).
fn exit_code(plan: &Plan) -> u8 {
    if plan.changes.iter().all(|c| c.applied) && plan.unfixed.is_empty() {
        wspath::exit::OK
    } else {
        wspath::exit::PROBLEMS
    }
}

pub fn render(plan: &Plan, dry_run: bool, format: PlanFormat) -> std::io::Result<()> {
    let mut out = Vec::new();
    match format {
        PlanFormat::Json => wspath::report::fix::render_json(plan, dry_run, &mut out)?,
        PlanFormat::Human => wspath::report::fix::render_human(plan, dry_run, &mut out)?,
    }
    super::output::stdout(
        &out,
        if format == PlanFormat::Human {
            super::output::Doc::Human
        } else {
            super::output::Doc::Json
        },
    )
}
