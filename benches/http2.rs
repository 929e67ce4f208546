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

#[path = "lab/mod.rs"]
mod lab;
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::{Duration, Instant};
use wspath::hop::HopSpec;
use wspath::probe::{http2, probe, ProbeOptions};
use wspath::{Target, Verdict};

const TARGET: &str = "wss://app.test/ws";

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

    let (h1, h2) = lab::interleaved(iterations, iterations.min(10), h1_once, h2_once).await?;
    Ok((lab::stats(h1).median, lab::stats(h2).median))
}

fn main() -> ExitCode {
    let iterations = if lab::full_run() { 200 } else { 10 };
    let started = (|| {
        let backend = support::Backend::start()?;
        let cert = support::SelfSigned::new("app.test")?;
        // No per-request log lines while measuring.
        let setup = support::Setup::good()
            .serving_h2(&cert)
            .front_directive("no log");
        let lb = support::Proxy::in_front_of(support::Kind::Haproxy, &backend.addr(), &setup)?;
        Ok::<_, std::io::Error>((backend, cert, lb))
    })();
    let (_backend, cert, lb) = match started {
        Ok(s) => s,
        Err(e) => {
            eprintln!("http2 bench: cannot start HAProxy and the backend: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match lab::runtime("http2") {
        Ok(rt) => rt,
        Err(code) => return code,
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
