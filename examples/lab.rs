//! A local lab: real nginx with a deliberately broken config (only `proxy_pass`, the most common
//! WebSocket mistake) in front of a real WebSocket echo backend, checked through the library
//! API. A new user sees a real diagnosis without any cloud account:
//!
//! ```text
//! cargo run --example lab
//! ```
//!
//! Needs nginx and the Python venv with `websockets` (`bash .ci/setup` installs both).
//! The servers come from the test support code, so the lab shows exactly what the tests prove.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::Duration;
use support::{Backend, Nginx};
use wspath::hop::HopSpec;
use wspath::probe::ProbeOptions;
use wspath::report::Report;
use wspath::walk::CheckConfig;
use wspath::Target;

/// The broken site: nginx passes the request on, but as HTTP/1.0 and without the Upgrade
/// headers, so the backend never sees a WebSocket handshake.
const BROKEN: &str = "proxy_pass http://BACKEND;";

/// The fix wspath suggests for it.
const FIXED: &str = "proxy_pass http://BACKEND;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;";

fn start_nginx(location: &str, backend: &Backend) -> std::io::Result<Nginx> {
    let location = location.replace("BACKEND", &backend.addr());
    Nginx::start(|port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port};
    server_name app.test;
    location /ws {{
        {location}
    }}
}}",
            map = support::nginx::CONNECTION_UPGRADE_MAP
        )
    })
}

fn config(nginx: &Nginx, backend: &Backend) -> Result<CheckConfig, wspath::Error> {
    let target = Target::parse("ws://app.test/ws")?;
    let hops = [
        format!("nginx={}", nginx.addr()),
        format!("backend={}", backend.addr()),
    ]
    .iter()
    .map(|spec| HopSpec::parse(spec).map(|s| s.resolve(&target)))
    .collect::<Result<Vec<_>, _>>()?;
    let mut probe = ProbeOptions::new(&target);
    probe.timeout = Duration::from_secs(5);
    Ok(CheckConfig {
        target,
        hops,
        probe,
        compare: Vec::new(),
    })
}

/// The same human rendering `wspath check` prints (colour only on a terminal, never with NO_COLOR).
fn print_report(report: &Report) {
    use std::io::IsTerminal;
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = Vec::new();
    match wspath::report::human::render(report, color, &mut out) {
        Ok(()) => print!("{}", String::from_utf8_lossy(&out)),
        Err(e) => eprintln!("lab: cannot render the report: {e}"),
    }
}

async fn lab() -> Result<(), String> {
    println!("Starting a WebSocket echo backend and nginx with only `proxy_pass`…");
    let backend = Backend::start().map_err(|e| format!("backend: {e}"))?;
    let broken = start_nginx(BROKEN, &backend).map_err(|e| format!("nginx: {e}"))?;
    println!(
        "nginx on {} → backend on {}; nginx config: {}\n",
        broken.addr(),
        backend.addr(),
        broken.conf_path().display()
    );
    let report = wspath::walk::check(&config(&broken, &backend).map_err(|e| e.to_string())?).await;
    print_report(&report);
    drop(broken);

    println!("\nThe same path with the fix applied:\n");
    let fixed = start_nginx(FIXED, &backend).map_err(|e| format!("nginx: {e}"))?;
    let report = wspath::walk::check(&config(&fixed, &backend).map_err(|e| e.to_string())?).await;
    print_report(&report);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match lab().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lab: {e}");
            eprintln!("lab: `bash .ci/setup` installs nginx, HAProxy and the Python venv");
            ExitCode::from(2)
        }
    }
}
