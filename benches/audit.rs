//! `wspath audit` of many loopback targets beside a bare tokio-tungstenite client loop doing the
//! same handshakes at the same concurrency, in the same run: the throughput ratio (target ≥ 0.8×),
//! the process's peak RSS after the audit (target ≤ 64 MiB) and each side's CPU per handshake.
//!
//! What is compared. Both sides open `n` WebSockets, at most 256 at once, to one in-process
//! tokio-tungstenite echo server. The bare side is `connect_async` + `close` per connection and
//! nothing else. The audit side is `wspath::audit::run` over a parsed config of `n` checks (one
//! plain `ws://` hop each, `no_ping`, no retries): its permits, the probe's evidence, verdict,
//! curl line, the walk's culprit judgement and the report, and its polite close (it reads the
//! server's close frame back; the bare client does not). Parsing the config is timed apart.
//! Both run on the same client runtime (the same worker threads, `block_on` on the main thread);
//! the echo server runs on a runtime of its own whose threads are counted in neither side's CPU,
//! and it listens with a backlog of [`lab::BACKLOG`], so SYN drops (1 s retransmits) do not decide
//! either side's time; the kernel's listen-overflow count during each round is printed beside it.
//! Rounds run audit, bare, bare, audit; each side's faster round is compared, since the machine's
//! neighbours only ever make a round slower. The CPU per handshake (client threads only) moves
//! far less with that load than the wall time does.
//!
//! `cargo bench --bench audit` runs 10,000 targets (`WSPATH_BENCH_TARGETS` changes the count);
//! `cargo test --benches` a quick smoke pass. `WSPATH_BENCH_SIDE=audit` (or `bare`) runs one
//! side alone, `WSPATH_BENCH_ROUNDS` times (default 3), one line per round: for a profiler, or to
//! alternate two builds of the audit side with each other and with the bare side, which is how a
//! change of a few per cent can be told from this machine's noise.

#[path = "lab/mod.rs"]
mod lab;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wspath::audit::{self, AuditOptions, NginxOnly};

const CONCURRENCY: usize = 256;

async fn bare_loop(port: u16, n: usize) -> (Round, usize) {
    let sem = Arc::new(Semaphore::new(CONCURRENCY));
    let before = Before::now();
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
    (before.round(start.elapsed()), ok)
}

/// What one audit run measured.
struct AuditRun {
    parse: Duration,
    round: Round,
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
    let before = Before::now();
    let start = Instant::now();
    let report = audit::run(&[file], &options, Arc::new(NginxOnly), Arc::new(|_| {}))
        .await
        .expect("audit runs");
    let round = before.round(start.elapsed());
    let mut checks: Vec<f64> = report.checks.iter().map(|c| c.seconds).collect();
    checks.sort_by(f64::total_cmp);
    AuditRun {
        parse,
        round,
        passed: report.totals().passed,
        checks,
    }
}

/// CPU time (user + system) used so far by this process's main thread and its threads whose
/// name starts with `prefix`, from /proc/self/task/*/stat. The clients' threads are the
/// main thread (which runs the audit's and the bare loop's own loop, `block_on`) and the client
/// runtime's workers; the echo server has threads of its own, so its work is in neither side's
/// figure.
fn cpu_time(prefix: &str) -> Duration {
    let pid = std::process::id().to_string();
    let mut ticks = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state …`: the name may hold spaces, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c);
        let main_thread = task.file_name().to_str() == Some(pid.as_str());
        if !(comm.starts_with(prefix) || main_thread) {
            continue;
        }
        let f: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(11) + field(12);
    }
    // USER_HZ is 100 on every Linux the benchmark runs on.
    Duration::from_millis(ticks * 10)
}

/// The kernel's count of connections dropped because a listen queue was full (TcpExt
/// ListenOverflows, system-wide), from /proc/net/netstat.
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// One timed round of one side: wall time, the clients' CPU, the listen overflows meanwhile.
struct Round {
    wall: Duration,
    cpu: Duration,
    overflows: Option<u64>,
}

/// The counters at the start of a round.
struct Before {
    cpu: Duration,
    overflows: Option<u64>,
}

impl Before {
    fn now() -> Before {
        Before {
            cpu: cpu_time(CLIENT_THREADS),
            overflows: listen_overflows(),
        }
    }

    fn round(self, wall: Duration) -> Round {
        Round {
            wall,
            cpu: cpu_time(CLIENT_THREADS).saturating_sub(self.cpu),
            overflows: listen_overflows()
                .zip(self.overflows)
                .map(|(after, before)| after.saturating_sub(before)),
        }
    }
}

/// Lets the last round's closing connections end before the next round counts anything (the
/// server's side of each connection, and the bare client's unread closes).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The name of the client runtime's threads (the server's are `SERVER_THREADS`).
const CLIENT_THREADS: &str = "bench-client";
const SERVER_THREADS: &str = "bench-server";

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

/// `WSPATH_BENCH_SIDE`: rounds of one side alone, each round's wall time and client CPU per
/// handshake on a line of its own.
async fn one_side(side: &str, port: u16, n: usize) -> ExitCode {
    let rounds: usize = std::env::var("WSPATH_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    for _ in 0..rounds {
        let (round, ok) = match side {
            "audit" => {
                let run = audit_run(port, n).await;
                (run.round, run.passed)
            }
            "bare" => bare_loop(port, n).await,
            other => {
                eprintln!("WSPATH_BENCH_SIDE={other}: expected audit or bare");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "{side} {:.3} s, client CPU {:.1} µs per handshake, {ok}/{n} upgraded",
            round.wall.as_secs_f64(),
            round.cpu.as_secs_f64() * 1e6 / n as f64
        );
        if ok != n {
            return ExitCode::FAILURE;
        }
        settle().await;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let quick = std::env::args().all(|a| a != "--bench");
    let n: usize = std::env::var("WSPATH_BENCH_TARGETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 200 } else { 10_000 });
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let runtime = |name: &str, threads: usize| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()
    };
    let (server, client) = match (
        runtime(SERVER_THREADS, cores),
        runtime(CLIENT_THREADS, CONCURRENCY.div_ceil(64).clamp(1, cores)),
    ) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The server's tasks are spawned on its own runtime and keep running there.
    let port = server.block_on(lab::echo_server());
    client.block_on(async {
        if let Ok(side) = std::env::var("WSPATH_BENCH_SIDE") {
            return one_side(&side, port, n).await;
        }
        // Warm-up: the server's first accepts, the allocator's first pages.
        let warm = n.min(500);
        audit_run(port, warm).await;
        bare_loop(port, warm).await;
        // Two rounds in opposite orders, so neither side always runs on a warmer (or busier)
        // machine; each side's faster round is compared. The peak RSS is read right after the
        // first full audit: the high-water mark of the audit of `n` targets (plus the server).
        let audit = audit_run(port, n).await;
        let rss = peak_rss_kib();
        settle().await;
        let (bare, bare_ok) = bare_loop(port, n).await;
        settle().await;
        let (bare2, bare_ok2) = bare_loop(port, n).await;
        settle().await;
        let audit2 = audit_run(port, n).await;
        let passed = audit.passed.min(audit2.passed);
        let bare_ok = bare_ok.min(bare_ok2);
        let at = |q: f64| audit.checks[((audit.checks.len() - 1) as f64 * q) as usize] * 1000.0;
        let per = |r: &Round| r.cpu.as_secs_f64() * 1e6 / n as f64;
        let overflows = |r: &Round| r.overflows.map_or("?".to_string(), |o| o.to_string());
        println!(
            "parsing the audit file of {n} checks: {:.0} ms",
            audit.parse.as_secs_f64() * 1000.0
        );
        println!(
            "audit of {n} loopback targets at concurrency {CONCURRENCY}: {:.2}s and {:.2}s ({passed} passed); client CPU per check {:.0} µs and {:.0} µs; listen overflows {} and {}; one check: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            audit.round.wall.as_secs_f64(),
            audit2.round.wall.as_secs_f64(),
            per(&audit.round),
            per(&audit2.round),
            overflows(&audit.round),
            overflows(&audit2.round),
            at(0.5),
            at(0.99),
            at(1.0)
        );
        println!(
            "bare tokio-tungstenite loop, same handshakes:        {:.2}s and {:.2}s ({bare_ok} upgraded); client CPU per handshake {:.0} µs and {:.0} µs; listen overflows {} and {}",
            bare.wall.as_secs_f64(),
            bare2.wall.as_secs_f64(),
            per(&bare),
            per(&bare2),
            overflows(&bare),
            overflows(&bare2)
        );
        let best = |a: &Round, b: &Round| a.wall.min(b.wall).as_secs_f64();
        let ratio = best(&bare, &bare2) / best(&audit.round, &audit2.round);
        let cpu_ratio = (per(&audit.round) + per(&audit2.round)) / (per(&bare) + per(&bare2));
        println!(
            "throughput ratio audit/bare (faster rounds): {ratio:.2}x (target >= 0.8x); client CPU per handshake audit/bare: {cpu_ratio:.2}x"
        );
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
