//! Discovery around the walk: the one place where providers (Cloudflare, AWS ALB) and the nginx
//! model (`--nginx-conf`) plug into `check`.
//!
//! Before the walk an integration may add hops to the config (outermost first, e.g. the ALB's
//! DNS name as the `lb` hop); what it read comes back as [`Attachment`]s that `check` hands to
//! `Report::attach` once the walk is done, where they can sharpen the culprit's sentence.

use super::check::CheckArgs;
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

/// Runs every integration the flags ask for; may add hops to `config`.
pub async fn discover(
    args: &CheckArgs,
    config: &mut CheckConfig,
) -> anyhow::Result<Vec<Attachment>> {
    // Integrations plug in here, each behind its flag: `config.hops.insert(0, …)` for a hop
    // found outside the user's list, `attachments.push(…)` for what it read. Until one exists,
    // asking for it explicitly is an error rather than a silent no-op; defaults (credentials in
    // the environment) simply do nothing yet.
    let mut attachments = Vec::new();
    if args.nginx_conf.is_some() {
        not_available("--nginx-conf")?;
    }
    if args.cloudflare {
        not_available("--cloudflare")?;
    }
    let aws = AwsMode::from_flags(args.aws, args.no_aws, args.alb.is_some());
    let aws_options = ClientOptions {
        profile: args.profile.clone(),
        region: args.region.clone(),
        ..ClientOptions::default()
    };
    if let Some(a) = alb::prepare(aws, args.alb.as_deref(), &[], aws_options, None, config).await? {
        attachments.push(Attachment {
            hop: a.hop,
            findings: a.findings,
            facts: a.facts,
        });
    }
    if args.fix {
        not_available("--fix")?;
    }
    Ok(attachments)
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
        assert_eq!(discover(&a, &mut config).await.unwrap(), Vec::new());
        assert_eq!(config.hops, before);
    }

    #[tokio::test]
    async fn integrations_not_built_yet_say_so_by_flag() {
        for (flags, name) in [
            (
                &["--nginx-conf", "/etc/nginx/nginx.conf"][..],
                "--nginx-conf",
            ),
            (&["--cloudflare"][..], "--cloudflare"),
            (&["--fix"][..], "--fix"),
        ] {
            let a = args(flags);
            let mut config = check::config(&a).unwrap();
            let e = discover(&a, &mut config).await.unwrap_err().to_string();
            assert_eq!(
                e,
                format!("{name} is not available yet in this build of wspath check")
            );
        }
    }
}
