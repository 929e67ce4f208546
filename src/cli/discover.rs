//! Discovery around the walk: the one place where providers (Cloudflare, AWS ALB) and the nginx
//! model (`--nginx-conf`) plug into `check`.
//!
//! Before the walk an integration may add hops to the config (outermost first, e.g. the ALB's
//! DNS name as the `lb` hop); what it read comes back as [`Attachment`]s that `check` hands to
//! `Report::attach` once the walk is done, where they can sharpen the culprit's sentence.

use super::check::CheckArgs;
use wspath::finding::{Fact, Finding};
use wspath::walk::CheckConfig;

/// Findings and facts for one hop, attached after the walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub hop: String,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
}

/// Runs every integration the flags ask for; may add hops to `config`.
pub async fn discover(
    args: &CheckArgs,
    config: &mut CheckConfig,
) -> anyhow::Result<Vec<Attachment>> {
    let mut attachments = Vec::new();
    // Integrations plug in here, each behind its flag. Until one exists, asking for it
    // explicitly is an error rather than a silent no-op; defaults (credentials in the
    // environment) simply do nothing yet.
    if let Some(conf) = &args.nginx_conf {
        let a = wspath::nginx::check::prepare(conf, None, None, config)?;
        attachments.push(Attachment {
            hop: a.hop,
            findings: a.findings,
            facts: a.facts,
        });
    }
    if args.cloudflare {
        not_available("--cloudflare")?;
    }
    if args.aws || args.alb.is_some() || args.region.is_some() || args.profile.is_some() {
        not_available(first_aws_flag(args))?;
    }
    if args.fix {
        not_available("--fix")?;
    }
    Ok(attachments)
}

fn first_aws_flag(args: &CheckArgs) -> &'static str {
    if args.aws {
        "--aws"
    } else if args.alb.is_some() {
        "--alb"
    } else if args.region.is_some() {
        "--region"
    } else {
        "--profile"
    }
}

fn not_available(flag: &str) -> anyhow::Result<()> {
    anyhow::bail!("{flag} is not available yet in this build of wspath check")
}
