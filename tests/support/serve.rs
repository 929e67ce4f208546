//! `wspath serve` as a child process on a free port (it binds 127.0.0.1:0 and prints the address
//! it got), with a tiny HTTP GET for its endpoints; stopped by pid on Drop.

use super::cli::wspath_bin;
use super::ports::wait_until;
use super::process::ServerProcess;
use super::raw::{self, RawResponse};
use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A running `wspath serve`.
#[derive(Debug)]
pub struct Serve {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub process: ServerProcess,
}

impl Serve {
    /// Starts `wspath serve --listen 127.0.0.1:0 ARGS…`; ready once it printed its address.
    pub fn start(args: &[&str]) -> io::Result<Serve> {
        let dir = tempfile::Builder::new().prefix("wspath-serve-").tempdir()?;
        Serve::start_in(dir, args, &[])
    }

    /// As [`Serve::start`], with `dir` (which may hold its config) as the temp dir and these
    /// environment variables set.
    pub fn start_in(
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> io::Result<Serve> {
        let mut cmd = Command::new(wspath_bin());
        cmd.envs(env.iter().copied());
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(args)
            .env("NO_COLOR", "1");
        let log = dir.path().join("serve.log");
        let mut process = ServerProcess::spawn("wspath serve", cmd, &log)?;
        let mut port = None;
        let _ = wait_until(Duration::from_secs(20), || {
            port = listening_port(&log);
            port.is_some() || !process.running()
        });
        let Some(port) = port else {
            return Err(io::Error::other(format!(
                "wspath serve did not announce its address; its output:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )));
        };
        process.wait_ready(port, || true)?;
        Ok(Serve { port, dir, process })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What it printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.process.log).unwrap_or_default()
    }

    /// `GET path_and_query` with these extra header lines (`Name: value`).
    pub fn get(&self, path_and_query: &str, headers: &[&str]) -> io::Result<RawResponse> {
        let mut request = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr()
        );
        for h in headers {
            request.push_str(h);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        raw::send(self.port, &request, Duration::from_secs(60))
    }

    /// Sends a signal (`HUP`, `TERM`) to the process.
    pub fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.process.pid().to_string())
            .status();
    }
}

/// The port of `listening on http(s)://127.0.0.1:PORT` in the log.
fn listening_port(log: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().find(|l| l.contains("listening on "))?;
    line.rsplit(':').next()?.trim().parse().ok()
}

/// `s` with every byte outside `A-Z a-z 0-9 - _ . ~` percent-encoded, for query values.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
