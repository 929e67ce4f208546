//! Discovery around the walk: the one place where providers (Cloudflare, AWS ALB) and the nginx
//! model (`--nginx-conf`) plug into `check`.
//!
//! Before the walk an integration may add hops to the config (outermost first, e.g. the ALB's
//! DNS name as the `lb` hop); what it read comes back as [`Attachment`]s that `check` hands to
//! `Report::attach` once the walk is done, where they can sharpen the culprit's sentence.

use super::check::CheckArgs;
use super::fix::cloudflare::CheckEdge;
use wspath::finding::{Fact, Finding};
use wspath::rules::alb::check::{self as alb, AwsMode};
use wspath::walk::CheckConfig;
use wspath_providers::aws_alb::ClientOptions;

/// Findings and facts for one hop, attached after the walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub hop: String,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
}

/// What discovery found: attachments for the report, and what `check --fix` needs.
pub struct Discovered {
    pub attachments: Vec<Attachment>,
    /// Cloudflare's facts and client, when Cloudflare took part (`--cloudflare`, or by default
    /// with credentials in the environment).
    pub cloudflare: Option<CheckEdge>,
    /// The hop `--nginx-conf` describes, so `check --fix` can plan its edits.
    pub nginx_hop: Option<wspath::Hop>,
    /// Providers enabled only by credentials in the environment that could not be read: the
    /// report's `warnings` (the exit code does not change).
    pub warnings: Vec<String>,
}

/// Runs every integration the flags ask for; may add hops to `config`.
pub async fn discover(args: &CheckArgs, config: &mut CheckConfig) -> anyhow::Result<Discovered> {
    // Each integration runs behind its flag (or by default when its credentials are present):
    // it may add hops to `config` and returns what it read for `Report::attach`.
    let mut attachments = Vec::new();
    let mut nginx_hop = None;
    if let Some(conf) = &args.nginx_conf {
        let a = wspath::nginx::check::prepare(conf, None, None, config)?;
        nginx_hop = config.hops.iter().find(|h| h.name == a.hop).cloned();
        attachments.push(Attachment {
            hop: a.hop,
            findings: a.findings,
            facts: a.facts,
        });
    }
    let mut warnings = Vec::new();
    let cloudflare = super::fix::cloudflare::for_check(args, config, &mut warnings).await?;
    if let Some(cf) = &cloudflare {
        attachments.push(cf.attachment.clone());
    }
    let aws = AwsMode::from_flags(args.aws, args.no_aws, args.alb.is_some());
    let aws_options = ClientOptions {
        profile: args.profile.clone(),
        region: args.region.clone(),
        ..ClientOptions::default()
    };
    if let Some(a) = alb::prepare(
        aws,
        args.alb.as_deref(),
        &[],
        aws_options,
        None,
        config,
        &mut warnings,
    )
    .await?
    {
        attachments.push(Attachment {
            hop: a.hop,
            findings: a.findings,
            facts: a.facts,
        });
    }
    Ok(Discovered {
        attachments,
        cloudflare,
        nginx_hop,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{check, Cli, Command};
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> CheckArgs {
        let mut argv = vec!["wspath", "check", "ws://app.test/ws"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Check(a) => a,
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn nothing_asked_nothing_added() {
        let a = args(&["--no-cloudflare", "--no-aws"]);
        let mut config = check::config(&a).unwrap();
        let before = config.hops.clone();
        let found = discover(&a, &mut config).await.unwrap();
        assert_eq!(found.attachments, Vec::new());
        assert!(found.cloudflare.is_none());
        assert_eq!(config.hops, before);
    }

    #[tokio::test]
    async fn fix_without_a_fixable_provider_still_probes() {
        // The culprit's fix is then said as one to make by hand (exit 1), never a bare exit 2.
        let a = args(&["--fix", "--no-cloudflare", "--no-aws"]);
        let mut config = check::config(&a).unwrap();
        let found = discover(&a, &mut config).await.unwrap();
        assert!(found.cloudflare.is_none() && found.attachments.is_empty());
    }
}
