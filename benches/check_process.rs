//! A whole `wspath check` process beside a minimal raw client process doing the same exchange,
//! timed alike in the same run (as hyperfine would: warm-up, then alternating runs, mean and
//! standard deviation of each); prints the ratio (target ≤ 1.5×).
//!
//! The raw client is this benchmark's own executable started again with `WSPATH_RAW_CLIENT`
//! set: blocking std TCP, the upgrade request, the 101 head with its accept key checked, a
//! ping and its pong, a close; nothing else. `wspath check` does the same
//! exchange at one direct hop and adds what it is for (parsing, the verdict, the report),
//! plus its process start-up: the runtime, the CLI, the output. Both talk to one in-process
//! tokio-tungstenite server, so the server's cost is the same for both.
//!
//! `cargo bench --bench check_process` (200 runs each; `WSPATH_BENCH_RUNS` changes it);
//! `cargo test --benches` a quick smoke pass.

#[path = "lab/mod.rs"]
mod lab;

use base64::Engine;
use sha1::{Digest, Sha1};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const RAW_CLIENT: &str = "WSPATH_RAW_CLIENT";
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The raw client: one WebSocket exchange with `addr`, exit 0 when it completed.
fn raw_client(addr: &str) -> ExitCode {
    match raw_exchange(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raw client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn raw_exchange(addr: &str) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::other(what.to_string());
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    write!(
        s,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(bad("closed before the head ended"));
        }
        head.push(byte[0]);
    }
    let accept = base64::engine::general_purpose::STANDARD
        .encode(Sha1::digest(format!("{key}{GUID}").as_bytes()));
    let text = String::from_utf8_lossy(&head);
    if !text.starts_with("HTTP/1.1 101") || !text.contains(&accept) {
        return Err(bad("no valid 101"));
    }
    // A masked ping (4 payload bytes) and its pong.
    let mask: [u8; 4] = rand::random();
    let payload = *b"ping";
    let mut ping = vec![0x89, 0x80 | 4];
    ping.extend_from_slice(&mask);
    ping.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    s.write_all(&ping)?;
    let mut frame = [0u8; 6];
    s.read_exact(&mut frame)?;
    if frame[0] != 0x8A {
        return Err(bad("no pong"));
    }
    // The close, not waiting for its answer (as `wspath check`, which leaves it to the
    // background when it exits).
    s.write_all(&[0x88, 0x80, mask[0], mask[1], mask[2], mask[3]])?;
    Ok(())
}

/// Mean and standard deviation, in milliseconds.
fn mean_sd(ms: &[f64]) -> (f64, f64) {
    let n = ms.len() as f64;
    let mean = ms.iter().sum::<f64>() / n;
    let var = ms.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

fn time(cmd: &mut Command) -> Result<f64, String> {
    let t = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if status.success() {
        Ok(ms)
    } else {
        Err(format!("{cmd:?} exited with {status}"))
    }
}

fn main() -> ExitCode {
    if let Ok(addr) = std::env::var(RAW_CLIENT) {
        return raw_client(&addr);
    }
    let quick = std::env::args().all(|a| a != "--bench");
    let runs: usize = std::env::var("WSPATH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 10 } else { 200 });

    // The server, on its own thread.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            tx.send(lab::echo_server().await).expect("send");
            std::future::pending::<()>().await
        });
    });
    let port = rx.recv().expect("server port");
    let addr = format!("127.0.0.1:{port}");
    let me = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("current_exe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let wspath = env!("CARGO_BIN_EXE_wspath");
    let target = format!("ws://{addr}/ws");
    let check = || {
        let mut c = Command::new(wspath);
        c.args(["check", &target]).env("NO_COLOR", "1");
        c
    };
    let raw = || {
        let mut c = Command::new(&me);
        c.env(RAW_CLIENT, &addr);
        c
    };

    let mut check_ms = Vec::with_capacity(runs);
    let mut raw_ms = Vec::with_capacity(runs);
    // Warm-up (page cache, the server's first accepts), then alternating runs so that drift in
    // the machine's load hits both alike.
    for i in 0..(runs + 5) {
        let pair = (time(&mut check()), time(&mut raw()));
        match pair {
            (Ok(c), Ok(r)) if i >= 5 => {
                check_ms.push(c);
                raw_ms.push(r);
            }
            (Ok(_), Ok(_)) => {}
            (c, r) => {
                eprintln!("a run failed: check {c:?}, raw {r:?}");
                return ExitCode::FAILURE;
            }
        }
    }
    let (c, c_sd) = mean_sd(&check_ms);
    let (r, r_sd) = mean_sd(&raw_ms);
    println!("wspath check process, one hop: {c:.2} ms ± {c_sd:.2} ({runs} runs)");
    println!("minimal raw client process:    {r:.2} ms ± {r_sd:.2} ({runs} runs)");
    println!(
        "whole-process ratio check/raw: {:.2}x (target <= 1.5x)",
        c / r
    );
    ExitCode::SUCCESS
}
