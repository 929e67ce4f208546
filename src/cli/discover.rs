//! Discovery around the walk: the one place where providers (Cloudflare, AWS ALB) and the nginx
//! model (`--nginx-conf`) plug into `check`.
//!
//! Before the walk an integration may add hops to the config (outermost first, e.g. the ALB's
//! DNS name as the `lb` hop); what it read comes back as [`Attachment`]s that `check` hands to
//! `Report::attach` once the walk is done, where they can sharpen the culprit's sentence.

use super::check::CheckArgs;
use super::fix::cloudflare::CheckEdge;
use wspath::finding::{Fact, Finding};
use wspath::walk::CheckConfig;

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
}

/// Runs every integration the flags ask for; may add hops to `config`.
pub async fn discover(args: &CheckArgs, config: &mut CheckConfig) -> anyhow::Result<Discovered> {
    let mut attachments = Vec::new();
    // Integrations plug in here, each behind its flag. Until one exists, asking for it
    // explicitly is an error rather than a silent no-op.
    if let Some(conf) = &args.nginx_conf {
        let a = wspath::nginx::check::prepare(conf, None, None, config)?;
        attachments.push(Attachment {
            hop: a.hop,
            findings: a.findings,
            facts: a.facts,
        });
    }
    let cloudflare = super::fix::cloudflare::for_check(args, config).await?;
    if let Some(cf) = &cloudflare {
        attachments.push(cf.attachment.clone());
    }
    if args.aws || args.alb.is_some() || args.region.is_some() || args.profile.is_some() {
        not_available(first_aws_flag(args))?;
    }
    if args.fix && cloudflare.is_none() {
        anyhow::bail!("--fix can so far only plan Cloudflare's websockets setting, which needs Cloudflare facts: add --cloudflare and set CLOUDFLARE_API_TOKEN");
    }
    Ok(Discovered {
        attachments,
        cloudflare,
    })
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
    async fn integrations_not_built_yet_say_so_by_flag() {
        for (flags, name) in [
            (&["--aws"][..], "--aws"),
            (&["--alb", "my-alb"][..], "--alb"),
            (&["--region", "eu-west-1"][..], "--region"),
        ] {
            let a = args(flags);
            let mut config = check::config(&a).unwrap();
            let e = discover(&a, &mut config).await.err().unwrap().to_string();
            assert_eq!(
                e,
                format!("{name} is not available yet in this build of wspath check")
            );
        }
    }

    #[tokio::test]
    async fn fix_without_cloudflare_facts_says_what_it_needs() {
        let a = args(&["--fix", "--no-cloudflare"]);
        let mut config = check::config(&a).unwrap();
        let e = discover(&a, &mut config).await.err().unwrap().to_string();
        assert!(e.contains("--fix") && e.contains("--cloudflare"), "{e}");
    }
}
