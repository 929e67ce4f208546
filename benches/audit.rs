//! `wspath audit` of many loopback targets beside a bare tokio-tungstenite client loop doing the
//! same handshakes at the same concurrency, in the same run; prints the throughput ratio
//! (target ≥ 0.8×) and the process's peak RSS after the audit (target ≤ 64 MiB), with the CPU
//! time each side used (on a shared machine the wall times move with the neighbours' load; the
//! CPU per handshake does not).
//!
//! Both talk to one in-process tokio-tungstenite echo server, so the server's cost is the same
//! for both. `cargo bench --bench audit` runs 10,000 targets at concurrency 256
//! (`WSPATH_BENCH_TARGETS` changes the count); `cargo test --benches` a quick smoke pass.

#[path = "lab/mod.rs"]
mod lab;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wspath::audit::{self, AuditOptions, NginxOnly};

const CONCURRENCY: usize = 256;

async fn bare_loop(port: u16, n: usize) -> (Duration, usize) {
    let sem = Arc::new(Semaphore::new(CONCURRENCY));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await.expect("open semaphore");
        tasks.spawn(async move {
            let _permit = permit;
            match tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws/{i}")).await {
                Ok((mut ws, _)) => {
                    let _ = ws.close(None).await;
                    true
                }
                Err(_) => false,
            }
        });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        ok += usize::from(r.unwrap_or(false));
    }
    (start.elapsed(), ok)
}

/// What one audit run measured.
struct AuditRun {
    parse: Duration,
    time: Duration,
    cpu: Duration,
    passed: usize,
    /// Each check's own time, sorted.
    checks: Vec<f64>,
}

async fn audit_run(port: u16, n: usize) -> AuditRun {
    let mut toml = String::from("[defaults]\nno_ping = true\ntimeout = \"10s\"\n\n");
    for i in 0..n {
        toml.push_str(&format!(
            "[[check]]\nname = \"c{i}\"\ntarget = \"ws://app.test/ws/{i}\"\nhops = [\"backend=ws://127.0.0.1:{port}\"]\n"
        ));
    }
    let t = Instant::now();
    let file = wspath::config::parse(&toml, Path::new("bench.toml"), &|_| None).expect("valid");
    let parse = t.elapsed();
    let options = AuditOptions {
        concurrency: CONCURRENCY,
        // One address here: the global bound is the one compared.
        per_host: CONCURRENCY,
        deadline: None,
        retries: 0,
        only: Vec::new(),
    };
    let cpu = cpu_time();
    let start = Instant::now();
    let report = audit::run(&[file], &options, Arc::new(NginxOnly), Arc::new(|_| {}))
        .await
        .expect("audit runs");
    let time = start.elapsed();
    let mut checks: Vec<f64> = report.checks.iter().map(|c| c.seconds).collect();
    checks.sort_by(f64::total_cmp);
    AuditRun {
        parse,
        time,
        cpu: cpu_time().saturating_sub(cpu),
        passed: report.totals().passed,
        checks,
    }
}

/// CPU time this process has used (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The fields after the command name (which may hold spaces) in parentheses.
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // USER_HZ is 100 on every Linux the benchmark runs on.
    Duration::from_millis(ticks * 10)
}

/// What sharing one rustls client configuration saves a wss probe: the first call builds it
/// (reading the system's roots), later calls take the shared one; before, every wss probe
/// built its own (a copy of the root store and a new rustls config).
fn tls_config_cost() -> Option<(Duration, Duration, Duration)> {
    let target = wspath::Target::parse("wss://app.test/ws").ok()?;
    let options = wspath::probe::ProbeOptions::new(&target);
    let t = Instant::now();
    options.tls_config().ok()?;
    let first = t.elapsed();
    const N: u32 = 1000;
    let t = Instant::now();
    for _ in 0..N {
        options.tls_config().ok()?;
    }
    let shared = t.elapsed() / N;
    let t = Instant::now();
    for _ in 0..N {
        options.build_tls_config().ok()?;
    }
    let built = t.elapsed() / N;
    Some((first, shared, built))
}

/// VmHWM: the most resident memory this process has had, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let quick = std::env::args().all(|a| a != "--bench");
    let n: usize = std::env::var("WSPATH_BENCH_TARGETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 200 } else { 10_000 });
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CONCURRENCY.div_ceil(64).clamp(1, cores))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let port = lab::echo_server().await;
        // Warm-up: the server's first accepts, the allocator's first pages.
        let warm = n.min(500);
        audit_run(port, warm).await;
        bare_loop(port, warm).await;
        // Two rounds in opposite orders, so neither side always runs on a warmer (or busier)
        // machine; each side's faster round is compared. The peak RSS is read right after the
        // first full audit: the high-water mark of the audit of `n` targets (plus the server).
        let audit = audit_run(port, n).await;
        let rss = peak_rss_kib();
        let cpu = cpu_time();
        let (bare_time, bare_ok) = bare_loop(port, n).await;
        let bare_cpu = cpu_time().saturating_sub(cpu);
        let cpu = cpu_time();
        let (bare_time2, bare_ok2) = bare_loop(port, n).await;
        let bare_cpu2 = cpu_time().saturating_sub(cpu);
        let audit2 = audit_run(port, n).await;
        let passed = audit.passed.min(audit2.passed);
        let bare_ok = bare_ok.min(bare_ok2);
        let at = |q: f64| audit.checks[((audit.checks.len() - 1) as f64 * q) as usize] * 1000.0;
        println!(
            "parsing the audit file of {n} checks: {:.0} ms",
            audit.parse.as_secs_f64() * 1000.0
        );
        println!(
            "audit of {n} loopback targets at concurrency {CONCURRENCY}: {:.2}s and {:.2}s ({passed} passed), CPU {:.2}s and {:.2}s; one check: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            audit.time.as_secs_f64(),
            audit2.time.as_secs_f64(),
            audit.cpu.as_secs_f64(),
            audit2.cpu.as_secs_f64(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
        println!(
            "bare tokio-tungstenite loop, same handshakes:        {:.2}s and {:.2}s ({bare_ok} upgraded), CPU {:.2}s and {:.2}s",
            bare_time.as_secs_f64(),
            bare_time2.as_secs_f64(),
            bare_cpu.as_secs_f64(),
            bare_cpu2.as_secs_f64()
        );
        let best = |a: Duration, b: Duration| a.min(b).as_secs_f64();
        let ratio = best(bare_time, bare_time2) / best(audit.time, audit2.time);
        let cpu_ratio = (bare_cpu + bare_cpu2).as_secs_f64() / (audit.cpu + audit2.cpu).as_secs_f64();
        println!("throughput ratio audit/bare (faster rounds): {ratio:.2}x (target >= 0.8x); process CPU bare/audit (server included): {cpu_ratio:.2}x");
        if let Some(kib) = rss {
            println!(
                "peak RSS after the audit: {:.1} MiB (target <= 64 MiB)",
                kib as f64 / 1024.0
            );
        }
        if let Some((first, shared, built)) = tls_config_cost() {
            println!(
                "TLS client config for a wss probe: built once in {:.1} ms (system roots read), then shared: {:.2} µs per probe; built per probe (before): {:.1} µs",
                first.as_secs_f64() * 1000.0,
                shared.as_secs_f64() * 1e6,
                built.as_secs_f64() * 1e6
            );
        }
        if passed != n || bare_ok != n {
            eprintln!("not every handshake succeeded: audit {passed}/{n}, bare {bare_ok}/{n}");
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    })
}
