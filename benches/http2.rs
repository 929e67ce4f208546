//! The HTTP/2 probe of one TLS hop beside the HTTP/1.1 probe of the same hop, in the same run;
//! prints both and the ratio.
//!
//! The hop is a real HAProxy terminating TLS with `alpn h2,http/1.1` (which advertises RFC 8441)
//! in front of the real `websockets` backend. Each probe opens its own connection, does TLS, the
//! handshake (HTTP/1.1 Upgrade, or SETTINGS + extended CONNECT) and one ping; they alternate so
//! that drift in the machine's load hits both alike. HTTP/2 has one round trip more (the PING
//! that makes sure the server's SETTINGS are in), so a ratio somewhat above 1 is expected.
//!
//! `cargo bench --bench http2` (full run); `cargo test --benches` runs a quick smoke pass.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::{Duration, Instant};
use wspath::hop::HopSpec;
use wspath::probe::{http2, probe, ProbeOptions};
use wspath::{Target, Verdict};

const TARGET: &str = "wss://app.test/ws";

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(|a, b| a.total_cmp(b));
    ms[ms.len() / 2]
}

async fn bench(port: u16, ca: std::path::PathBuf, iterations: usize) -> Result<(f64, f64), String> {
    let target = Target::parse(TARGET).map_err(|e| e.to_string())?;
    let hop = HopSpec::parse(&format!("lb=127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?
        .resolve(&target);
    let mut options = ProbeOptions::new(&target);
    options.cacert = Some(ca);
    options.timeout = Duration::from_secs(5);

    let h1_once = || async {
        let start = Instant::now();
        let o = probe(&target, &hop, &options).await;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        match o.verdict {
            Verdict::Upgraded => Ok(ms),
            v => Err(format!("http/1.1 probe: {v} ({})", o.detail)),
        }
    };
    let h2_once = || async {
        let start = Instant::now();
        let h2 = http2::probe(&target, &hop, &options).await;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        match &h2.probe {
            Some(o) if o.verdict == Verdict::Upgraded => Ok(ms),
            Some(o) => Err(format!("h2 probe: {} ({})", o.verdict, o.detail)),
            None => Err(format!("h2 probe not run: {:?}", h2.note)),
        }
    };

    for _ in 0..iterations.min(10) {
        h1_once().await?;
        h2_once().await?;
    }
    let (mut h1, mut h2) = (Vec::new(), Vec::new());
    for i in 0..iterations {
        if i % 2 == 0 {
            h1.push(h1_once().await?);
            h2.push(h2_once().await?);
        } else {
            h2.push(h2_once().await?);
            h1.push(h1_once().await?);
        }
    }
    Ok((median(h1), median(h2)))
}

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    let iterations = if full { 200 } else { 10 };
    let started = (|| {
        let backend = support::Backend::start()?;
        let cert = support::SelfSigned::new("app.test")?;
        let (crt, upstream) = (cert.combined.display().to_string(), backend.addr());
        let lb = support::Haproxy::start(move |port| {
            format!(
                "{global}
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h

frontend fe
    bind 127.0.0.1:{port} ssl crt {crt} alpn h2,http/1.1
    default_backend be

backend be
    server s1 {upstream}
",
                global = support::haproxy::GLOBAL
            )
        })?;
        Ok::<_, std::io::Error>((backend, cert, lb))
    })();
    let (_backend, cert, lb) = match started {
        Ok(s) => s,
        Err(e) => {
            eprintln!("http2 bench: cannot start HAProxy and the backend: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("http2 bench: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(bench(lb.port, cert.ca.clone(), iterations)) {
        Ok((h1, h2)) => {
            println!("one TLS hop (HAProxy, alpn h2,http/1.1) with a ping, {iterations} runs each");
            println!("  HTTP/1.1 Upgrade probe        median {h1:.3} ms");
            println!("  HTTP/2 extended CONNECT probe median {h2:.3} ms");
            println!("  ratio h2 / http/1.1 (median)  {:.2}x", h2 / h1);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("http2 bench: {e}");
            ExitCode::FAILURE
        }
    }
}
