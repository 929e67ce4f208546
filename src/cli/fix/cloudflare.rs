//! Cloudflare in the CLI. `wspath fix --cloudflare HOST`: read the zone's `websockets` setting,
//! plan `off → on`, and with `--yes` PATCH it and read it back. `check`'s Cloudflare discovery
//! (facts on the edge hop, the origin hop, the plan `check --fix` offers). And the one place
//! the Cloudflare environment variables are read.

use super::FixArgs;
use crate::cli::check::CheckArgs;
use crate::cli::discover::Attachment;
use anyhow::Context;
use wspath::hop::Hop;
use wspath::report::Report;
use wspath::rules::cloudflare as rules;
use wspath::walk::CheckConfig;
use wspath::Plan;
use wspath_providers::cloudflare::{
    Client, ClientOptions, Credentials, EdgeFacts, OnOff, SettingId, Zone, BASE_URL_VAR,
    DEFAULT_BASE_URL,
};
use wspath_providers::Error as ProviderError;

/// A Cloudflare client from `CLOUDFLARE_API_TOKEN` (or `CLOUDFLARE_EMAIL` +
/// `CLOUDFLARE_API_KEY`) and `CLOUDFLARE_BASE_URL`; `None` when no credentials are set.
pub(crate) fn client_from_env() -> anyhow::Result<Option<Client>> {
    let var = |name: &str| std::env::var(name).ok();
    let Some(credentials) = Credentials::from_vars(
        var("CLOUDFLARE_API_TOKEN"),
        var("CLOUDFLARE_EMAIL"),
        var("CLOUDFLARE_API_KEY"),
    )?
    else {
        return Ok(None);
    };
    let base = var(BASE_URL_VAR)
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let http = Client::default_http()?;
    Ok(Some(Client::new(
        http,
        base.trim(),
        credentials,
        ClientOptions::default(),
    )?))
}

/// Like [`client_from_env`], but missing credentials are an error naming the variables.
pub(crate) fn require_client(flag: &str) -> anyhow::Result<Client> {
    client_from_env()?.with_context(|| {
        format!("{flag} needs Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY)")
    })
}

/// The hostname of `--cloudflare`, which may also be written as a URL.
fn hostname(input: &str) -> Result<String, wspath::Error> {
    let bad = || wspath::Error::InvalidFlag {
        flag: "--cloudflare",
        input: input.to_string(),
        reason: "expected a hostname such as example.com (or a ws(s):// URL on it)".into(),
    };
    let target = wspath::Target::parse(input).map_err(|_| bad())?;
    if target.host.parse::<std::net::IpAddr>().is_ok() || !target.host.contains('.') {
        return Err(bad());
    }
    Ok(target.host)
}

pub async fn plan(args: &FixArgs) -> anyhow::Result<Plan> {
    let input = args.cloudflare.as_deref().unwrap_or_default();
    let host = hostname(input)?;
    let client = require_client("--cloudflare")?;
    let zone = client.zone_for_host(&host).await?;
    let websockets = client
        .setting::<OnOff>(&zone, SettingId::Websockets)
        .await?;
    let mut plan = rules::websockets_plan(&zone, &websockets)?;
    if args.yes {
        apply(&client, &zone, &mut plan).await?;
    }
    Ok(plan)
}

/// PATCHes `websockets` to on, then reads it back: applied only when the API confirms it.
pub(crate) async fn apply(client: &Client, zone: &Zone, plan: &mut Plan) -> anyhow::Result<()> {
    for change in plan.changes.iter_mut().filter(|c| !c.applied) {
        if change.setting.as_deref() != Some(SettingId::Websockets.as_str()) {
            continue;
        }
        client.set_websockets(zone, OnOff::On).await?;
        let now = client.setting::<OnOff>(zone, SettingId::Websockets).await?;
        if now.value != OnOff::On {
            anyhow::bail!(
                "zone {}: the PATCH of websockets was accepted but the setting reads back as {}",
                zone.name,
                now.value.as_str()
            );
        }
        tracing::info!(zone = %zone.name, "websockets turned on and confirmed");
        change.applied = true;
    }
    Ok(())
}

/// What `check` keeps from Cloudflare until the walk is done: what to attach to which hop, and
/// the facts and client to plan (and with `--yes` apply) the fix when the edge is the culprit.
pub(crate) struct CheckEdge {
    client: Client,
    facts: EdgeFacts,
    pub(crate) attachment: Attachment,
}

/// Cloudflare's part of `check` discovery. Explicit `--cloudflare`: every failure is an error.
/// By default (credentials in the environment) a site Cloudflare does not serve is skipped
/// quietly, and any other failure is one entry in `warnings` (the report's `warnings`, a line on
/// stderr), so a check never fails for a provider the user did not ask for.
pub(crate) async fn for_check(
    args: &CheckArgs,
    config: &mut CheckConfig,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<CheckEdge>> {
    if args.no_cloudflare {
        return Ok(None);
    }
    let explicit = args.cloudflare;
    let mut skipped = |e: &dyn std::fmt::Display| {
        let w = format!(
            "Cloudflare facts skipped: {e} (--cloudflare makes this an error, --no-cloudflare turns it off)"
        );
        tracing::warn!("{w}");
        warnings.push(w);
    };
    if config.target.host.parse::<std::net::IpAddr>().is_ok() {
        if explicit {
            anyhow::bail!(
                "--cloudflare needs a target with a hostname, not the address {}",
                config.target.host
            );
        }
        return Ok(None);
    }
    let client = match client_from_env() {
        Ok(Some(c)) => c,
        Ok(None) if explicit => {
            return Err(require_client("--cloudflare")
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("--cloudflare needs credentials")))
        }
        Ok(None) => return Ok(None),
        Err(e) if explicit => return Err(e),
        Err(e) => {
            skipped(&e);
            return Ok(None);
        }
    };
    let facts = match client.edge_facts(&config.target.host).await {
        Ok(f) => f,
        Err(e) if explicit => return Err(e.into()),
        Err(ProviderError::NotFound(why)) => {
            tracing::info!(%why, "not a Cloudflare site for these credentials");
            return Ok(None);
        }
        Err(e) => {
            skipped(&e);
            return Ok(None);
        }
    };
    let typed: &[Hop] = if args.hops.is_empty() {
        &[]
    } else {
        &config.hops
    };
    let found = rules::discover(&facts, &config.target, typed);
    if let Some(hops) = found.hops {
        config.hops = hops;
    }
    Ok(Some(CheckEdge {
        client,
        facts,
        attachment: Attachment {
            hop: found.edge,
            findings: found.findings,
            facts: found.facts,
        },
    }))
}

impl CheckEdge {
    /// `check --fix`: the plan when the culprit is the edge and `websockets` explains it;
    /// applied with `--yes`. `None`: Cloudflare has nothing to fix for this culprit.
    pub(crate) async fn culprit_plan(
        &self,
        report: &Report,
        yes: bool,
    ) -> anyhow::Result<Option<Plan>> {
        let culprit = report.culprit.as_ref().map(|c| c.hop.as_str());
        let Some(plan) = rules::culprit_plan(&self.facts, culprit, &self.attachment.hop) else {
            return Ok(None);
        };
        let mut plan = plan?;
        if yes {
            apply(&self.client, &self.facts.zone, &mut plan).await?;
        }
        Ok(Some(plan))
    }
}
