//! What the probe benches share around their measurements: the runtime they run on, the
//! interleaved loop that times two ways of doing the same thing, the figures printed, and the
//! loopback echo server they measure against.
//!
//! Included by each bench with `#[path = "lab/mod.rs"] mod lab;` (a folder, so cargo does not
//! take it for a bench of its own).

#![allow(dead_code)]

use std::future::Future;
use std::process::ExitCode;

/// A single-threaded runtime with timers and I/O, as a one-client bench needs; on failure the
/// error is printed as `BENCH bench: …` and the exit code to return is given.
pub fn runtime(bench: &str) -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("{bench} bench: {e}");
            ExitCode::from(2)
        })
}

/// Whether this is a full run: `cargo bench` passes `--bench`; anything else (`cargo test
/// --benches`) is a quick smoke pass.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Times `a` and `b` (each returns its own elapsed milliseconds) `iterations` times each after
/// `warmup` untimed rounds, alternating which goes first so that neither always meets a warmer
/// server and drift in the machine's load hits both alike.
pub async fn interleaved<A, B, FA, FB>(
    iterations: usize,
    warmup: usize,
    a: A,
    b: B,
) -> Result<(Vec<f64>, Vec<f64>), String>
where
    A: Fn() -> FA,
    B: Fn() -> FB,
    FA: Future<Output = Result<f64, String>>,
    FB: Future<Output = Result<f64, String>>,
{
    for _ in 0..warmup {
        a().await?;
        b().await?;
    }
    let (mut a_ms, mut b_ms) = (Vec::new(), Vec::new());
    for i in 0..iterations {
        if i % 2 == 0 {
            a_ms.push(a().await?);
            b_ms.push(b().await?);
        } else {
            b_ms.push(b().await?);
            a_ms.push(a().await?);
        }
    }
    Ok((a_ms, b_ms))
}

/// Median, mean and 90th percentile of a set of timings (ms).
pub struct Stats {
    pub median: f64,
    pub mean: f64,
    pub p90: f64,
}

pub fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
        p90: at(0.9),
    }
}

/// The echo server's listen backlog. tokio's `TcpListener::bind` asks for 128; 256 clients
/// connecting at once overflow that, the kernel drops their SYNs and each dropped one costs its
/// client the 1 s initial retransmit: a wait of the server's making, in whichever side met it.
pub const BACKLOG: u32 = 1024;

/// An echo server: every connection upgraded, then read until the client goes (tungstenite
/// answers pings and closes by itself).
pub async fn echo_server() -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let listener = socket.listen(BACKLOG).expect("listen");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                if let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await {
                    while let Some(Ok(_)) = futures_util::StreamExt::next(&mut ws).await {}
                }
            });
        }
    });
    port
}
