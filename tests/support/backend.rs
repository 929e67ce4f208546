//! A real WebSocket echo backend (tests/support/backend.py on Python `websockets`), started on
//! a free port. Keepalive pings are off, so idle tests measure only the proxies in front.
//!
//! Known answers of `websockets` that tests rely on: a request without `Upgrade` gets 426 with
//! a body saying which header is missing; an HTTP/1.0 request gets 505.

use super::process::{start_server, ServerProcess, Started};
use super::repo_root;
use std::io;
use std::path::PathBuf;
use std::process::Command;

/// The Python interpreter with `websockets`: `WSPATH_PYTHON`, else `<repo>/.venv/bin/python`.
pub fn python() -> PathBuf {
    match std::env::var_os("WSPATH_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join(".venv/bin/python"),
    }
}

/// A running echo backend on 127.0.0.1; stopped on Drop.
#[derive(Debug)]
pub struct Backend {
    pub port: u16,
    pub dir: tempfile::TempDir,
    process: ServerProcess,
}

impl Backend {
    /// Starts an echo backend that upgrades on every path.
    pub fn start() -> io::Result<Backend> {
        Backend::start_with(&[])
    }

    /// Starts an echo backend that answers each `(path, status)` in `rejects` with that status
    /// instead of upgrading.
    pub fn start_with(rejects: &[(&str, u16)]) -> io::Result<Backend> {
        Backend::start_args(rejects, None)
    }

    /// Starts an echo backend that serves only Host `host` (any other gets 403 "unknown virtual
    /// host"), as a name-based virtual host does.
    pub fn start_for_host(host: &str) -> io::Result<Backend> {
        Backend::start_args(&[], Some(host))
    }

    fn start_args(rejects: &[(&str, u16)], require_host: Option<&str>) -> io::Result<Backend> {
        let started = start_server(
            "backend",
            "backend.log",
            false,
            |_, port| {
                let mut cmd = Command::new(python());
                cmd.arg(repo_root().join("tests/support/backend.py"))
                    .arg(port.to_string());
                for (path, status) in rejects {
                    cmd.arg("--reject").arg(format!("{path}={status}"));
                }
                if let Some(host) = require_host {
                    cmd.arg("--require-host").arg(host);
                }
                Ok(cmd)
            },
            |_, _| true,
        )?;
        let Started { process, port, dir } = started;
        Ok(Backend { port, dir, process })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// What the backend printed: one JSON line per handshake request it saw.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.process.log).unwrap_or_default()
    }

    /// The handshake requests the backend saw, as parsed JSON lines `{"path","headers"}`.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.log()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Stops the backend now (e.g. to test a path whose backend is down).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
