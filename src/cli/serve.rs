//! `wspath serve`: the engine behind HTTP, for Prometheus. `/probe?target=…` runs one check
//! (exactly what `wspath check` runs) and answers with its metrics; the metric names, the
//! allow-list and the scrape budget live in the library's `exporter` module, this file only
//! speaks HTTP, reads flags and signals.

use super::check::{self, CheckArgs};
use super::Format;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Args;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wspath::config::Module;
use wspath::exporter::allow::AllowList;
use wspath::exporter::own::{OwnMetrics, ProbeResult};
use wspath::exporter::probe_metrics::{self, ProbeRun};
use wspath::exporter::{budget, Exposition};
use wspath::hop::HopSpec;
use wspath::report::{self, Report};
use wspath::walk::{self, CheckConfig};
use wspath::Error;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default: a probe endpoint can reach what it can reach)
    #[arg(long, default_value = "127.0.0.1:9799", value_name = "ADDR:PORT")]
    pub listen: String,
    /// The TOML file with `[module.NAME]` sections (the same file as `wspath audit`'s);
    /// reloaded on SIGHUP
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Addresses probes may connect to: host glob, IP, CIDR, each optionally with :PORT
    /// (repeatable). Anything else is refused with 403.
    #[arg(long = "allow", value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Probes allowed to run at once; more are refused with 429
    #[arg(
        long,
        default_value_t = 64,
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub max_concurrent: usize,
    /// Per-hop budget for each network phase (cut to fit the scrape timeout Prometheus sends)
    #[arg(
        long,
        default_value = "10s",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub timeout: String,
    /// Serve HTTPS with this certificate chain (PEM)
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
}

type Modules = BTreeMap<String, Module>;

/// What every request handler shares.
struct Shared {
    allow: AllowList,
    config: Option<PathBuf>,
    /// Replaced whole on SIGHUP; a probe keeps the set it started with.
    modules: RwLock<Arc<Modules>>,
    timeout: String,
    limit: Arc<Semaphore>,
    metrics: OwnMetrics,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    // The exporter shuts down (and reloads) on its own signals.
    super::signals::defer_to_command();
    let listen: SocketAddr = args.listen.parse().map_err(|e| Error::InvalidFlag {
        flag: "--listen",
        input: args.listen.clone(),
        reason: format!("{e} (expected ADDRESS:PORT, e.g. 127.0.0.1:9799)"),
    })?;
    if args.max_concurrent == 0 {
        return Err(Error::InvalidFlag {
            flag: "--max-concurrent",
            input: "0".into(),
            reason: "must be at least 1".into(),
        }
        .into());
    }
    // Checked now, so a bad value is exit 2 at start rather than a 400 on every scrape.
    check::config(&adhoc_args("ws://localhost/", Vec::new(), &args.timeout))?;
    let modules = match &args.config {
        Some(path) => load_modules(path)?,
        None => Modules::new(),
    };
    let shared = Arc::new(Shared {
        allow: AllowList::parse(&args.allow)?,
        config: args.config.clone(),
        modules: RwLock::new(Arc::new(modules)),
        timeout: args.timeout.clone(),
        limit: Arc::new(Semaphore::new(args.max_concurrent)),
        metrics: OwnMetrics::new(),
    });
    let app = router(shared.clone());

    let handle = axum_server::Handle::new();
    tokio::spawn(signals(handle.clone(), shared.clone()));
    let scheme = if args.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let announce = {
        let handle = handle.clone();
        async move {
            if let Some(addr) = handle.listening().await {
                eprintln!("wspath serve: listening on {scheme}://{addr}");
            }
        }
    };
    tokio::spawn(announce);
    let service = app.into_make_service();
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            // One process-wide provider, the same (ring) the probes use.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| Error::InvalidFlag {
                    flag: "--tls-cert/--tls-key",
                    input: format!("{} {}", cert.display(), key.display()),
                    reason: e.to_string(),
                })?;
            axum_server::bind_rustls(listen, tls)
                .handle(handle)
                .serve(service)
                .await
        }
        _ => {
            axum_server::bind(listen)
                .handle(handle)
                .serve(service)
                .await
        }
    }
    .map_err(|e| anyhow::anyhow!("cannot serve on {listen}: {e}"))?;
    eprintln!("wspath serve: stopped");
    Ok(wspath::exit::OK)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/probe", get(probe))
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(|| async { "Healthy\n" }))
        .route("/-/ready", get(|| async { "Ready\n" }))
        .with_state(shared)
}

fn load_modules(path: &Path) -> Result<Modules, Error> {
    Ok(wspath::config::load(path)?.modules)
}

/// SIGHUP: reload `--config` (a file that does not load keeps the modules in use, and says
/// why). SIGTERM or Ctrl-C: stop accepting, let running probes finish (bounded), then exit.
async fn signals(handle: axum_server::Handle, shared: Arc<Shared>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        eprintln!("wspath serve: cannot listen for SIGTERM/SIGHUP");
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => reload(&shared),
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    eprintln!("wspath serve: shutting down, waiting for running probes");
    handle.graceful_shutdown(Some(Duration::from_secs(15)));
}

fn reload(shared: &Shared) {
    let Some(path) = &shared.config else {
        eprintln!("wspath serve: SIGHUP: no --config to reload");
        return;
    };
    match load_modules(path) {
        Ok(modules) => {
            let names: Vec<&str> = modules.keys().map(String::as_str).collect();
            eprintln!(
                "wspath serve: reloaded {} (modules: {})",
                path.display(),
                names.join(", ")
            );
            drop(names);
            if let Ok(mut current) = shared.modules.write() {
                *current = Arc::new(modules);
            }
            shared.metrics.reloaded(true);
        }
        Err(e) => {
            eprintln!("wspath serve: reload failed, keeping the previous configuration: {e}");
            shared.metrics.reloaded(false);
        }
    }
}

async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "wspath serve: WebSocket path probing for Prometheus\n\n\
         /probe?target=URL[&hop=NAME[:KIND][=ADDRESS]…][&debug=true]  one check, as metrics\n\
         /probe?target=URL&module=NAME   the same with a [module.NAME] of --config\n\
         /metrics     the exporter's own metrics\n\
         /-/healthy   /-/ready\n",
    )
}

async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let format = Exposition::negotiate(accept(&headers));
    exposition(format, shared.metrics.registry())
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

fn exposition(format: Exposition, registry: &prometheus_client::registry::Registry) -> Response {
    (
        [(header::CONTENT_TYPE, format.content_type())],
        format.encode(registry),
    )
        .into_response()
}

/// A refusal: status, one line of text, counted by why.
fn refuse(shared: &Shared, status: StatusCode, result: ProbeResult, message: String) -> Response {
    shared.metrics.probe_done(result, None);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// What `/probe` was asked.
#[derive(Debug, Default, PartialEq)]
struct ProbeQuery {
    target: Option<String>,
    hops: Vec<String>,
    module: Option<String>,
    debug: bool,
}

impl ProbeQuery {
    /// `hop` repeats, so the query is read as a list of pairs rather than into a map.
    fn parse(query: Option<&str>) -> Result<ProbeQuery, String> {
        let mut q = ProbeQuery::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "target" => q.target = Some(v.into_owned()),
                "hop" => q.hops.push(v.into_owned()),
                "module" => q.module = Some(v.into_owned()),
                "debug" => q.debug = matches!(v.as_ref(), "true" | "1" | "yes"),
                other => return Err(format!("unknown parameter '{}'", other.escape_debug())),
            }
        }
        Ok(q)
    }
}

/// `wspath check TARGET --hop …` with every other flag at its default: the ad-hoc probe is
/// built by the same code as the command.
fn adhoc_args(target: &str, hops: Vec<String>, timeout: &str) -> CheckArgs {
    CheckArgs {
        target: target.to_string(),
        hops,
        timeout: timeout.to_string(),
        insecure: false,
        cacert: None,
        origin: None,
        no_origin: false,
        protocols: Vec::new(),
        headers: Vec::new(),
        no_ping: false,
        http1_only: false,
        echo: None,
        idle: None,
        as_browser: "plain".into(),
        format: Format::Human,
        nginx_conf: None,
        cloudflare: false,
        no_cloudflare: true,
        aws: false,
        no_aws: true,
        alb: None,
        region: None,
        profile: None,
        fix: false,
        yes: false,
    }
}

/// The check a query asks for: the module's options and filled hop templates, or the ad-hoc
/// `target` and `hop`s; with the names of the hops whose address the module's file wrote
/// literally (no placeholder), which the operator chose and so need no `--allow`.
fn build(
    q: &ProbeQuery,
    target: &str,
    modules: &Modules,
    timeout: &str,
) -> Result<(CheckConfig, Vec<String>), String> {
    let Some(name) = &q.module else {
        let config = check::config(&adhoc_args(target, q.hops.clone(), timeout))
            .map_err(|e| e.to_string())?;
        return Ok((config, Vec::new()));
    };
    if !q.hops.is_empty() {
        return Err("'hop' and 'module' cannot be combined: the module lists the hops".into());
    }
    let Some(module) = modules.get(name) else {
        let names: Vec<&str> = modules.keys().map(String::as_str).collect();
        return Err(format!(
            "unknown module '{}' (modules: {})",
            name.escape_debug(),
            if names.is_empty() {
                "none; start wspath serve with --config".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let target = wspath::Target::parse(target).map_err(|e| e.to_string())?;
    let config = module.config(target).map_err(|e| e.to_string())?;
    let literal = module
        .hops
        .iter()
        .filter(|t| !t.contains("{target_"))
        .filter_map(|t| HopSpec::parse(t).ok())
        .filter(|spec| spec.address.is_some())
        .map(|spec| spec.name)
        .collect();
    Ok((config, literal))
}

/// The first address this check would connect to that neither the allow-list covers nor the
/// module's file wrote (`trusted` hop names).
fn forbidden_address(
    config: &CheckConfig,
    allow: &AllowList,
    trusted: &[String],
) -> Option<String> {
    config
        .hops
        .iter()
        .filter(|h| !trusted.contains(&h.name))
        .find_map(|hop| {
            let (host, port) = hop
                .connect
                .clone()
                .unwrap_or_else(|| (config.target.host.clone(), config.target.port));
            (!allow.allows(&host, port))
                .then(|| format!("{} ({})", hop.address(&config.target), hop.name))
        })
}

async fn probe(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let bad = |message: String| {
        refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            ProbeResult::BadRequest,
            message,
        )
    };
    let q = match ProbeQuery::parse(query.as_deref()) {
        Ok(q) => q,
        Err(e) => return bad(e),
    };
    let Some(target) = q.target.as_deref() else {
        return bad("the 'target' parameter is missing".into());
    };
    let modules = match shared.modules.read() {
        Ok(m) => m.clone(),
        Err(_) => return bad("the module set is unavailable".into()),
    };
    let (mut config, trusted) = match build(&q, target, &modules, &shared.timeout) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    if let Some(address) = forbidden_address(&config, &shared.allow, &trusted) {
        return refuse(
            &shared,
            StatusCode::FORBIDDEN,
            ProbeResult::Forbidden,
            format!("{address} is not allowed: start wspath serve with an --allow pattern that covers it"),
        );
    }
    let Ok(_permit) = shared.limit.clone().try_acquire_owned() else {
        return refuse(
            &shared,
            StatusCode::TOO_MANY_REQUESTS,
            ProbeResult::TooMany,
            "too many probes in flight (--max-concurrent); try again later".into(),
        );
    };
    let _in_flight = shared.metrics.in_flight();

    let budget = budget::from_header(
        headers
            .get(budget::SCRAPE_TIMEOUT_HEADER)
            .and_then(|v| v.to_str().ok()),
    );
    config.probe.timeout = budget::phase_timeout(config.probe.timeout, budget);
    let started = Instant::now();
    let report = match budget {
        Some(b) => tokio::time::timeout(b, walk::check(&config)).await.ok(),
        None => Some(walk::check(&config).await),
    };
    let run = ProbeRun {
        duration: started.elapsed(),
        timed_out: report.is_none(),
    };
    let result = match &report {
        None => ProbeResult::Timeout,
        Some(r) if r.ok => ProbeResult::Success,
        Some(_) => ProbeResult::Failure,
    };
    shared.metrics.probe_done(result, Some(run.duration));
    let registry = probe_metrics::registry(report.as_ref(), &run);
    if q.debug {
        return debug_page(report.as_ref(), &run, &registry, &config);
    }
    exposition(Exposition::negotiate(accept(&headers)), &registry)
}

/// `&debug=true`: the human report and the metrics, as text (as blackbox's debug output), with
/// every secret header value the check sent masked.
fn debug_page(
    report: Option<&Report>,
    run: &ProbeRun,
    registry: &prometheus_client::registry::Registry,
    config: &CheckConfig,
) -> Response {
    let mut out = Vec::new();
    match report {
        Some(r) => {
            let _ = report::human::render(r, false, &mut out);
        }
        None => out.extend_from_slice(
            format!(
                "the probe did not finish within the scrape budget ({:.1} s)\n",
                run.duration.as_secs_f64()
            )
            .as_bytes(),
        ),
    }
    out.extend_from_slice(b"\nMetrics that would have been returned:\n");
    out.extend_from_slice(Exposition::Text.encode(registry).as_bytes());
    let text = check::scrub(
        &String::from_utf8_lossy(&out),
        &check::secrets(&config.probe),
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_every_hop_in_order() {
        let q = ProbeQuery::parse(Some(
            "target=ws%3A%2F%2Fapp.test%2Fws&hop=lb=127.0.0.1:1&hop=nginx%3D127.0.0.1%3A2&debug=true",
        ))
        .unwrap();
        assert_eq!(q.target.as_deref(), Some("ws://app.test/ws"));
        assert_eq!(q.hops, vec!["lb=127.0.0.1:1", "nginx=127.0.0.1:2"]);
        assert!(q.debug);
        assert!(ProbeQuery::parse(Some("target=x&hops=y"))
            .unwrap_err()
            .contains("'hops'"));
        assert_eq!(ProbeQuery::parse(None).unwrap(), ProbeQuery::default());
    }

    #[test]
    fn every_connect_address_is_checked() {
        let config = check::config(&adhoc_args(
            "ws://app.test/ws",
            vec!["lb=127.0.0.1:1".into(), "edge".into()],
            "10s",
        ))
        .unwrap();
        let only_lb = AllowList::parse(&["127.0.0.1"]).unwrap();
        assert_eq!(
            forbidden_address(&config, &only_lb, &[]).as_deref(),
            Some("app.test:80 (edge)")
        );
        let both = AllowList::parse(&["127.0.0.1", "app.test:80"]).unwrap();
        assert_eq!(forbidden_address(&config, &both, &[]), None);
        assert_eq!(
            forbidden_address(&config, &only_lb, &["edge".to_string()]),
            None
        );
    }
}
