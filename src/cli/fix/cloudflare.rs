//! `wspath fix --cloudflare`: build the plan and, with --yes, apply it.

use super::FixArgs;
use wspath::Plan;

pub async fn plan(args: &FixArgs) -> anyhow::Result<Plan> {
    let _ = args;
    anyhow::bail!("fix --cloudflare: not implemented yet")
}
