//! `wspath check`: flags → `CheckConfig` → walk → render.

use super::Format;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// ws:// or wss:// URL, or host[:port][/path] (then wss://)
    pub target: String,
    /// A hop, outermost first: NAME[:KIND][=ADDRESS]; ADDRESS is host:port or a ws(s):// URL
    /// (which also sets the scheme and path used there). Without ADDRESS: the target as DNS resolves it.
    #[arg(long = "hop", value_name = "NAME[:KIND][=ADDRESS]")]
    pub hops: Vec<String>,
    /// Per-hop budget for each network phase, e.g. 10s, 500ms
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,
    /// Accept any TLS certificate
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file (in addition to the system's)
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Origin header to send (default: the target's https origin)
    #[arg(long, conflicts_with = "no_origin")]
    pub origin: Option<String>,
    /// Send no Origin header
    #[arg(long)]
    pub no_origin: bool,
    /// Subprotocol to request (repeatable)
    #[arg(long = "protocol", value_name = "NAME")]
    pub protocols: Vec<String>,
    /// Extra request header "Name: value" (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Skip the ping after the upgrade
    #[arg(long)]
    pub no_ping: bool,
    /// Send this text frame after the upgrade and expect it echoed back
    #[arg(long, value_name = "TEXT")]
    pub echo: Option<String>,
    /// Hold every upgraded hop silent this long and report which drops, e.g. 75s
    #[arg(long, value_name = "DURATION")]
    pub idle: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// nginx configuration of the nginx hop: attach its findings for the target's location
    #[arg(long, value_name = "FILE")]
    pub nginx_conf: Option<PathBuf>,
    /// Read the edge hop's settings from the Cloudflare API (default when credentials are set)
    #[arg(long, conflicts_with = "no_cloudflare")]
    pub cloudflare: bool,
    #[arg(long)]
    pub no_cloudflare: bool,
    /// Read the lb hop from AWS ELBv2 (default when the origin is an ELB name and credentials exist)
    #[arg(long, conflicts_with = "no_aws")]
    pub aws: bool,
    #[arg(long)]
    pub no_aws: bool,
    /// The ALB to read, by name or ARN
    #[arg(long, value_name = "NAME|ARN")]
    pub alb: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub profile: Option<String>,
    /// When the culprit has a known fix, print its plan (apply only with --yes)
    #[arg(long)]
    pub fix: bool,
    /// With --fix: apply the plan
    #[arg(long, requires = "fix")]
    pub yes: bool,
}

pub async fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("check: not implemented yet")
}
