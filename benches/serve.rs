//! `wspath serve` under Prometheus-like load: probes per second at 64 concurrent scrapes of a
//! local path (nginx in front of the `websockets` backend), beside `wspath audit` running the
//! same probes (a file of as many `[[check]]`s, `--concurrency 64`) and the engine in-process,
//! and the cost per probe of serve against audit (target ≤ 1.2×). The exporter's extra cost is
//! HTTP, the query, the allow-list and the exposition; all meet the same backend. Then the RSS
//! of a `wspath serve` loaded with 1,000 modules.
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
            let report = walk::check(&config).await;
            match &report.culprit {
                None if report.ok => Ok(()),
                Some(c) => Err(format!("in-process probe failed: {}", c.summary)),
                None => Err("in-process probe failed: an error-level finding".to_string()),
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
    let (serve_rate, engine_rate) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("serve bench: {e}\n{}", serve.log());
            return ExitCode::FAILURE;
        }
    };
    let audit_rate = match audit(&nginx.addr(), &backend.addr(), n) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("serve bench: audit: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ratio = audit_rate / serve_rate;
    println!(
        "two-hop path (nginx → websockets backend), {n} probes, {CONCURRENCY} at a time, best of 3"
    );
    println!("  wspath serve /probe      {serve_rate:8.1} probes/s");
    println!("  wspath audit             {audit_rate:8.1} probes/s  (one run of {n} [[check]]s, process start included)");
    println!("  engine in-process        {engine_rate:8.1} probes/s");
    println!(
        "  cost per probe, serve / audit {ratio:.2}x  target <= 1.20x  {}",
        if ratio <= 1.2 { "ok" } else { "ABOVE TARGET" }
    );
    if let Some(rss) = rss(serve.process.pid()) {
        println!("  wspath serve RSS after the run: {rss}");
    }
    match modules_rss(&backend.addr(), 1000) {
        Ok(rss) => println!("  wspath serve with 1,000 modules, RSS after one probe: {rss}"),
        Err(e) => {
            eprintln!("serve bench: 1,000 modules: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// `VmRSS` of a process, as the kernel prints it (`12345 kB`).
fn rss(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.trim_start_matches("VmRSS:").trim().to_string())
}

/// `wspath audit` over a file of `n` checks of the path, 64 at a time: probes per second.
fn audit(nginx: &str, backend: &str, n: usize) -> Result<f64, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("audit.toml");
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "[[check]]\nname = \"c{i}\"\ntarget = \"{TARGET}\"\nhops = [\"nginx={nginx}\", \"backend={backend}\"]\n\n"
        ));
    }
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let concurrency = CONCURRENCY.to_string();
    let mut best: f64 = 0.0;
    for _ in 0..3 {
        let started = Instant::now();
        let out = support::wspath(
            &[
                "audit",
                file.to_str().unwrap_or_default(),
                "--concurrency",
                &concurrency,
                "--per-host",
                &concurrency,
                "--no-github",
                "--format",
                "json",
            ],
            Duration::from_secs(600),
        )
        .map_err(|e| e.to_string())?;
        if out.code != Some(0) {
            return Err(out.describe());
        }
        best = best.max(n as f64 / started.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Starts `wspath serve` with a file of `n` modules, probes once through one, and returns its RSS.
fn modules_rss(backend: &str, n: usize) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("wspath.toml");
    let mut text = String::from("[defaults]\ntimeout = \"5s\"\n\n");
    for i in 0..n {
        text.push_str(&format!(
            "[module.m{i}]\nhops = [\"backend=ws://{backend}{{target_path}}\"]\n\n"
        ));
    }
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let serve = support::serve::Serve::start(&[
        "--config",
        file.to_str().unwrap_or_default(),
        "--allow",
        "127.0.0.1",
    ])
    .map_err(|e| e.to_string())?;
    let q = format!(
        "/probe?module=m999&target={}",
        support::serve::encode(TARGET)
    );
    let r = serve.get(&q, &[]).map_err(|e| e.to_string())?;
    if r.status != 200 {
        return Err(format!("{}: {}", r.status, r.body));
    }
    rss(serve.process.pid()).ok_or_else(|| "no VmRSS".to_string())
}
