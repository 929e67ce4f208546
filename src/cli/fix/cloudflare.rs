//! `wspath fix --cloudflare HOST`: read the zone's `websockets` setting, plan `off → on`, and
//! with `--yes` PATCH it and read it back. Also where the Cloudflare environment variables are
//! read (once, here in the CLI layer), for `fix` and `check` alike.

use super::FixArgs;
use anyhow::Context;
use wspath::Plan;
use wspath_providers::cloudflare::{
    Client, ClientOptions, Credentials, OnOff, SettingId, Zone, BASE_URL_VAR, DEFAULT_BASE_URL,
};

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
fn hostname(input: &str) -> anyhow::Result<String> {
    let target = wspath::Target::parse(input)
        .map_err(|e| anyhow::anyhow!("invalid --cloudflare '{input}': {e}"))?;
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
    let mut plan = wspath::rules::cloudflare::websockets_plan(&zone, &websockets)?;
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
