//! Signals and closed pipes through the real binary: SIGINT/SIGTERM during a walk print the
//! partial report and exit 130/143; a closed stdout or stderr ends the run quietly.

use super::{EchoPeer, RUN_LIMIT};
use crate::support::{cli, Backend};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Starts `check --idle 30s -v --format json` through `backend`, waits (by its log) until the
/// hop upgraded and the idle hold began, sends `signal`, and returns (exit code, stdout, how
/// long the exit took after the signal).
fn interrupt_idle(signal: &str) -> (Option<i32>, String, Duration, String) {
    let backend = Backend::start().expect("backend");
    let hop = format!("backend={}", backend.addr());
    let args = [
        "check",
        "ws://app.test/ws",
        "--hop",
        &hop,
        "--idle",
        "30s",
        "-v",
        "--format",
        "json",
    ];
    interrupt_when_held(signal, &args)
}

/// Runs `wspath ARGS` (which must log at `-v` and hold an idle connection), waits until a hop
/// upgraded, sends `signal`, and returns (exit code, stdout, how long the exit took, stderr).
fn interrupt_when_held(signal: &str, args: &[&str]) -> (Option<i32>, String, Duration, String) {
    let mut child = Command::new(cli::wspath_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("WSPATH_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let mut log = String::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
                if line.contains("verdict=upgraded") {
                    break;
                }
            }
            Err(_) if start.elapsed() > RUN_LIMIT => panic!("never upgraded:\n{log}"),
            Err(_) => {}
        }
    }
    // The ping and the start of the hold follow the verdict line within milliseconds.
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("still running 20 s after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = sent.elapsed();
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        log.push_str(&line);
        log.push('\n');
    }
    (code, reader.join().unwrap(), took, log)
}

fn assert_partial_report(signal: &str, expected: i32) {
    let (code, stdout, took, log) = interrupt_idle(signal);
    let why = format!("exit {code:?} after {took:?}\n{stdout}\n--- stderr ---\n{log}");
    assert_eq!(code, Some(expected), "{why}");
    assert!(took < Duration::from_secs(10), "{why}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect(&why);
    assert_eq!(doc["incomplete"], true, "{why}");
    assert_eq!(doc["ok"], false, "{why}");
    assert_eq!(doc["hops"][0]["verdict"], "upgraded", "{why}");
    let held = doc["hops"][0]["idle"]["held_ms"].as_f64().expect(&why);
    assert!(held > 0.0 && held < 30_000.0, "{why}");
    assert!(!log.contains("panicked"), "{why}");
}

#[test]
fn sigint_during_idle_prints_the_partial_report_and_exits_130() {
    assert_partial_report("-INT", 130);
}

#[test]
fn sigterm_during_idle_prints_the_partial_report_and_exits_143() {
    assert_partial_report("-TERM", 143);
}

/// An audit stopped by a signal: no retry, every report file written with what was seen, the
/// interrupted checks saying so, exit 130.
#[test]
fn sigint_during_an_audit_writes_the_partial_reports_and_exits_130() {
    let backend = Backend::start().expect("backend");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.toml");
    std::fs::write(
        &file,
        format!(
            "[[check]]\nname = \"held\"\ntarget = \"ws://app.test/ws\"\nhops = [\"backend={}\"]\nidle = \"30s\"\n",
            backend.addr()
        ),
    )
    .unwrap();
    let junit = dir.path().join("report.xml");
    let args = [
        "audit",
        file.to_str().unwrap(),
        "--retries",
        "2",
        "--report-junit",
        junit.to_str().unwrap(),
        "--format",
        "json",
        "-v",
    ];
    let (code, stdout, took, log) = interrupt_when_held("-INT", &args);
    let why = format!("exit {code:?} after {took:?}\n{stdout}\n--- stderr ---\n{log}");
    assert_eq!(code, Some(130), "{why}");
    assert!(took < Duration::from_secs(10), "{why}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect(&why);
    let check = &doc["checks"][0];
    assert_eq!(check["attempts"], 1, "no retry after a signal: {why}");
    assert!(
        check["error"]
            .as_str()
            .unwrap_or("")
            .contains("interrupted"),
        "{why}"
    );
    assert_eq!(check["hops"][0]["verdict"], "upgraded", "{why}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(xml.contains("interrupted"), "{xml}");
}

/// Runs `args` with stdout and/or stderr as a pipe whose reader is already gone.
fn with_closed(args: &[&str], close_out: bool, close_err: bool) -> cli::CliOutput {
    let mut child = Command::new(cli::wspath_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    if close_out {
        drop(out.take());
    }
    if close_err {
        drop(err.take());
    }
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = out {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = err {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < RUN_LIMIT, "hung");
        std::thread::sleep(Duration::from_millis(20));
    };
    cli::CliOutput {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        timed_out: false,
        elapsed: start.elapsed(),
        peak_rss_kib: None,
    }
}

#[test]
fn closed_stdout_or_stderr_end_quietly() {
    let peer = EchoPeer::start();
    let hop = format!("edge={}", peer.addr());
    let check = ["check", "ws://app.test/ws", "--hop", &hop, "-vvv"];

    // stdout gone (`| head` that already exited): no panic, no "Broken pipe", 141 as the shell
    // shows a program killed by SIGPIPE.
    let out = with_closed(&check, true, false);
    assert_eq!(out.code, Some(141), "{}", out.describe());
    assert!(!out.stderr.contains("panicked"), "{}", out.describe());
    assert!(
        !out.stderr.to_lowercase().contains("broken pipe"),
        "{}",
        out.describe()
    );

    // stderr gone: the logs are dropped, the report is whole.
    let out = with_closed(&check, false, true);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stdout.contains("culprit"), "{}", out.describe());

    // Both gone (`2>&1 | head -1` after head exited).
    let out = with_closed(&check, true, true);
    assert_eq!(out.code, Some(141), "{}", out.describe());

    // lint with its stdout gone.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        "events {}\nhttp { server { listen 80; location / { proxy_pass http://b; } } }\n",
    )
    .unwrap();
    let out = with_closed(&["lint", "nginx", conf.to_str().unwrap()], true, false);
    assert_eq!(out.code, Some(141), "{}", out.describe());
    assert!(out.stderr.is_empty(), "{}", out.describe());
}
