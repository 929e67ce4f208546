//! One-hop probe against a local backend beside the raw floor; prints the ratio.
//!
//! The floor is the least any client can do for the same answer: a plain tokio TCP connect,
//! the same upgrade request bytes, and reading the 101 head. The probe adds parsing, accept-key
//! verification, fingerprinting and evidence keeping; the target is ≤ 1.2× the floor.
//! Both run in the same process against the same real `websockets` backend, interleaved so
//! that drift in the machine's load hits both alike.
//!
//! `cargo bench --bench probe` (full run); `cargo test --benches` runs a quick smoke pass.

#[path = "lab/mod.rs"]
mod lab;
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wspath::hop::{Hop, HopSpec};
use wspath::probe::request::{new_key, request_bytes};
use wspath::probe::{probe, ProbeOptions};
use wspath::{Target, Verdict};

const TARGET: &str = "ws://app.test/ws";

/// The floor: connect, write, read until the end of the 101 head.
async fn raw_handshake(port: u16, request: &[u8]) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before the head ended".into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    if head.starts_with(b"HTTP/1.1 101") {
        Ok(())
    } else {
        Err(format!("not a 101: {}", String::from_utf8_lossy(&head)))
    }
}

async fn bench(port: u16, iterations: usize) -> Result<(lab::Stats, lab::Stats), String> {
    let target = Target::parse(TARGET).map_err(|e| e.to_string())?;
    let hop: Hop = HopSpec::parse(&format!("backend=127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?
        .resolve(&target);
    let mut options = ProbeOptions::new(&target);
    // The floor stops at the 101 head; so does the probe without its ping.
    options.ping = false;
    options.timeout = Duration::from_secs(5);

    let probe_once = || async {
        let start = Instant::now();
        let outcome = probe(&target, &hop, &options).await;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        if outcome.verdict == Verdict::Upgraded {
            Ok(ms)
        } else {
            Err(format!(
                "probe: {} ({})",
                outcome.verdict.as_str(),
                outcome.detail
            ))
        }
    };
    let raw_once = || async {
        // Exactly the bytes the probe writes, with a fresh key as the probe makes.
        let request = request_bytes(&target, &hop, &options, &new_key());
        let start = Instant::now();
        raw_handshake(port, &request).await?;
        Ok::<f64, String>(start.elapsed().as_secs_f64() * 1e3)
    };

    let (probe_ms, raw_ms) =
        lab::interleaved(iterations, iterations.min(20), probe_once, raw_once).await?;
    Ok((lab::stats(probe_ms), lab::stats(raw_ms)))
}

fn main() -> ExitCode {
    let iterations = if lab::full_run() { 500 } else { 20 };
    let backend = match support::Backend::start() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("probe bench: cannot start the backend: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match lab::runtime("probe") {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(bench(backend.port, iterations)) {
        Ok((p, r)) => {
            let ratio = p.median / r.median;
            println!(
                "one-hop handshake against a local websockets backend, {iterations} runs each"
            );
            println!(
                "  wspath probe  median {:.3} ms  mean {:.3} ms  p90 {:.3} ms",
                p.median, p.mean, p.p90
            );
            println!(
                "  raw floor     median {:.3} ms  mean {:.3} ms  p90 {:.3} ms",
                r.median, r.mean, r.p90
            );
            println!(
                "  ratio (median) {ratio:.2}x  target <= 1.20x  {}",
                if ratio <= 1.2 { "ok" } else { "ABOVE TARGET" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("probe bench: {e}");
            ExitCode::FAILURE
        }
    }
}
