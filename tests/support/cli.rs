//! Runs the built `wspath` binary the way a user does, under a hard timeout, and captures
//! stdout, stderr and the exit code.

use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one `wspath` run printed and how it exited.
#[derive(Debug, Clone)]
pub struct CliOutput {
    /// The exit code; `None` when killed (by a signal or by the timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub elapsed: Duration,
    /// The highest peak resident set size (VmHWM, KiB) seen while it ran, sampled every 10 ms
    /// from /proc; `None` if it ended before the first sample.
    pub peak_rss_kib: Option<u64>,
}

impl CliOutput {
    /// stdout parsed as one JSON document.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.stdout).map_err(|e| {
            format!(
                "stdout is not JSON ({e}).\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Everything about the run, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}{} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// Path of the `wspath` binary that cargo built for the integration tests and examples.
pub fn wspath_bin() -> std::path::PathBuf {
    // Set by cargo for integration tests; examples find it next to themselves.
    match option_env!("CARGO_BIN_EXE_wspath") {
        Some(p) => p.into(),
        None => super::repo_root().join("target/debug/wspath"),
    }
}

/// Runs `wspath ARGS…` with NO_COLOR set, killing it after `timeout`.
pub fn wspath(args: &[&str], timeout: Duration) -> io::Result<CliOutput> {
    let mut cmd = Command::new(wspath_bin());
    // `fix --yes` keeps backups under XDG_STATE_HOME: tests keep them out of $HOME.
    cmd.args(args).env("NO_COLOR", "1").env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("wspath-tests-state"),
    );
    run(cmd, timeout)
}

/// Runs `cmd` with stdin closed and both outputs captured, killing it after `timeout`.
pub fn run(mut cmd: Command, timeout: Duration) -> io::Result<CliOutput> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let mut timed_out = false;
    let mut peak_rss_kib = None;
    let status = loop {
        // Sampled before try_wait: once reaped (or a zombie) the process has no VmHWM left.
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak_rss_kib = peak_rss_kib.max(Some(kib));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(CliOutput {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        timed_out,
        elapsed: start.elapsed(),
        peak_rss_kib,
    })
}

/// The peak resident set size of process `pid` so far, in KiB (Linux /proc).
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
