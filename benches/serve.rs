//! `wspath serve` under Prometheus-like load: probes per second at 64 concurrent scrapes of a
//! local path (nginx in front of the `websockets` backend), beside the same probes run by the
//! engine in-process (what `wspath audit` does: many walks on one runtime), and the ratio per
//! probe (target ≤ 1.2×). The exporter's extra cost is HTTP, the query, the allow-list and the
//! exposition; both sides meet the same backend.
//!
//! `cargo bench --bench serve` (full run); `cargo test --benches` runs a quick smoke pass.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use wspath::hop::HopSpec;
use wspath::probe::ProbeOptions;
use wspath::walk::{self, CheckConfig};
use wspath::Target;

const TARGET: &str = "ws://app.test/ws";
const CONCURRENCY: usize = 64;

/// One scrape: GET the query, read the whole answer, check it is a successful probe.
async fn scrape(port: u16, query: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET {query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    stream
        .read_to_end(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&body);
    if text.contains("\nwspath_probe_success 1\n") {
        Ok(())
    } else {
        Err(format!("not a successful probe:\n{text}"))
    }
}

/// Runs `n` jobs, `CONCURRENCY` at a time; returns probes per second.
async fn throughput<F, Fut>(n: usize, job: F) -> Result<f64, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let fut = job();
        tasks.push(tokio::spawn(async move {
            let r = fut.await;
            drop(permit);
            r
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

fn config(nginx: &str, backend: &str) -> Result<CheckConfig, String> {
    let target = Target::parse(TARGET).map_err(|e| e.to_string())?;
    let hops = [format!("nginx={nginx}"), format!("backend={backend}")]
        .iter()
        .map(|s| HopSpec::parse(s).map(|h| h.resolve(&target)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut probe = ProbeOptions::new(&target);
    probe.timeout = Duration::from_secs(10);
    Ok(CheckConfig {
        target,
        hops,
        probe,
        compare: Vec::new(),
    })
}

async fn bench(
    serve_port: u16,
    nginx: String,
    backend: String,
    n: usize,
) -> Result<(f64, f64), String> {
    let query = format!(
        "/probe?target={}&hop={}&hop={}",
        support::serve::encode(TARGET),
        support::serve::encode(&format!("nginx={nginx}")),
        support::serve::encode(&format!("backend={backend}"))
    );
    let config = Arc::new(config(&nginx, &backend)?);
    let in_process = || {
        let config = config.clone();
        async move {
            if walk::check(&config).await.ok {
                Ok(())
            } else {
                Err("in-process probe failed".to_string())
            }
        }
    };
    let over_http = || {
        let query = query.clone();
        async move { scrape(serve_port, &query).await }
    };
    // Warm both, then alternate rounds so drift in the machine's load hits both alike.
    throughput(CONCURRENCY, over_http).await?;
    throughput(CONCURRENCY, in_process).await?;
    let (mut serve, mut engine) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        serve.push(throughput(n, over_http).await?);
        engine.push(throughput(n, in_process).await?);
    }
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    Ok((best(&serve), best(&engine)))
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; anything else (cargo test --benches) is a quick smoke pass.
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 1000 } else { 128 };
    let started = (|| -> std::io::Result<_> {
        let backend = support::Backend::start()?;
        let nginx = support::Nginx::start(|port| {
            format!(
                "{map}server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://{backend};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }}
}}",
                map = support::nginx::CONNECTION_UPGRADE_MAP,
                backend = backend.addr()
            )
        })?;
        let serve =
            support::serve::Serve::start(&["--allow", "127.0.0.1", "--max-concurrent", "1000"])?;
        Ok((backend, nginx, serve))
    })();
    let (backend, nginx, serve) = match started {
        Ok(s) => s,
        Err(e) => {
            eprintln!("serve bench: cannot start the servers: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("serve bench: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(bench(serve.port, nginx.addr(), backend.addr(), n));
    match result {
        Ok((serve_rate, engine_rate)) => {
            let ratio = engine_rate / serve_rate;
            println!("two-hop path (nginx → websockets backend), {n} probes, {CONCURRENCY} at a time, best of 3");
            println!("  wspath serve /probe     {serve_rate:8.1} probes/s");
            println!("  engine in-process       {engine_rate:8.1} probes/s  (what audit runs; audit was not on main)");
            println!(
                "  cost per probe, serve / in-process {ratio:.2}x  target <= 1.20x  {}",
                if ratio <= 1.2 { "ok" } else { "ABOVE TARGET" }
            );
            let rss = std::fs::read_to_string(format!("/proc/{}/status", serve.process.pid()))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmRSS:"))
                        .map(|l| l.trim_start_matches("VmRSS:").trim().to_string())
                });
            if let Some(rss) = rss {
                println!("  wspath serve RSS after the run: {rss}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("serve bench: {e}\n{}", serve.log());
            ExitCode::FAILURE
        }
    }
}
