//! `wspath fix --alb`: read the ALB, build the plan (engine), and with --yes carry it out
//! change by change, marking each applied with what AWS actually did (e.g. the priority won).

use super::FixArgs;
use anyhow::Context;
use std::time::Duration;
use wspath::rules::alb::fix::{self, FixRequest, RouteRequest};
use wspath::Plan;
use wspath_providers::aws_alb::{self, AlbChange, Applied, ClientOptions, LbRef};

pub async fn plan(args: &FixArgs) -> anyhow::Result<Plan> {
    let Some(alb) = args.alb.as_deref() else {
        anyhow::bail!("fix --alb: name the load balancer");
    };
    match (&args.path, &args.target_group, args.stickiness) {
        (Some(_), None, _) => {
            anyhow::bail!("fix --alb: --path needs --target-group NAME|ARN to forward to")
        }
        (None, Some(_), false) => {
            anyhow::bail!("fix --alb: --target-group needs --path PATTERN (a rule) or --stickiness")
        }
        (None, None, true) => {
            anyhow::bail!("fix --alb: --stickiness needs --target-group NAME|ARN")
        }
        _ => {}
    }
    if args.path.is_none() && args.idle_timeout.is_none() && !args.stickiness {
        anyhow::bail!(
            "fix --alb: nothing asked; pass --path with --target-group, --idle-timeout, or --stickiness"
        );
    }
    // Bad input fails before any AWS call.
    if let Some(p) = &args.path {
        fix::validate_path_pattern(p)?;
    }
    if let Some(s) = args.idle_timeout {
        fix::validate_idle_timeout(s)?;
    }
    let client = aws_alb::connect(&ClientOptions {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: None,
        timeout: Duration::from_secs(10),
    })
    .await?;
    let facts = aws_alb::read(&client, &LbRef::parse(alb)).await?;
    let tg = match &args.target_group {
        Some(t) => Some(aws_alb::find_target_group(&client, t).await?),
        None => None,
    };
    let request = FixRequest {
        route: match (&args.path, &tg) {
            (Some(path), Some(tg)) => Some(RouteRequest {
                path_pattern: path.clone(),
                host: args.host.clone(),
                target_group: tg.clone(),
            }),
            _ => None,
        },
        idle_timeout: args.idle_timeout,
        stickiness: if args.stickiness { tg.clone() } else { None },
    };
    let mut planned = fix::plan(&facts, &request)?;
    if args.yes {
        let total = planned.changes.len();
        for (i, change) in planned.changes.iter().enumerate() {
            let done = aws_alb::apply(&client, change)
                .await
                .with_context(|| format!("after applying {i} of {total} changes"))?;
            let shown = &mut planned.plan.changes[i];
            if let (
                AlbChange::CreateRule { priority, .. },
                Applied::RuleCreated { priority: won, .. },
            ) = (change, &done)
            {
                if won != priority {
                    // Another writer took the planned priority meanwhile.
                    shown.after = shown.after.replacen(
                        &format!("priority {priority}:"),
                        &format!("priority {won}:"),
                        1,
                    );
                }
            }
            shown.applied = true;
        }
    }
    Ok(planned.plan)
}
