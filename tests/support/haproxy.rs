//! Real HAProxy on 127.0.0.1: `haproxy -db -f DIR/haproxy.cfg` in the foreground, its output
//! in DIR/haproxy.log, stopped by pid on Drop.

use super::nginx::find_in_path;
use super::process::{start_server, ServerProcess, Started};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The haproxy binary: `WSPATH_HAPROXY`, else `haproxy` on PATH, else /usr/sbin/haproxy.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("WSPATH_HAPROXY").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    find_in_path("haproxy").unwrap_or_else(|| PathBuf::from("/usr/sbin/haproxy"))
}

/// A running HAProxy; stopped on Drop.
#[derive(Debug)]
pub struct Haproxy {
    /// The port the test's frontend `bind`s.
    pub port: u16,
    pub dir: tempfile::TempDir,
    process: ServerProcess,
}

impl Haproxy {
    /// Starts HAProxy with the configuration `config(port)` (global, defaults, frontend,
    /// backend — see [`GLOBAL`] and [`http_proxy`]); the frontend must bind 127.0.0.1:`port`.
    pub fn start(config: impl Fn(u16) -> String) -> io::Result<Haproxy> {
        Haproxy::start_full(|_, port| config(port))
    }

    /// Like [`Haproxy::start`], with the temp dir too (for certificates or maps kept there).
    pub fn start_full(config: impl Fn(&Path, u16) -> String) -> io::Result<Haproxy> {
        let started = start_server(
            "haproxy",
            "haproxy.log",
            false,
            |dir, port| {
                let cfg = dir.join("haproxy.cfg");
                std::fs::write(&cfg, config(dir, port))?;
                let mut cmd = Command::new(binary());
                cmd.arg("-db").arg("-f").arg(&cfg);
                Ok(cmd)
            },
            |_, _| true,
        )?;
        let Started { process, port, dir } = started;
        Ok(Haproxy { port, dir, process })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn cfg_path(&self) -> PathBuf {
        self.dir.path().join("haproxy.cfg")
    }

    /// What HAProxy wrote (warnings, alerts, and logs sent to stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.process.log).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// A `global` section that logs to stderr (into the log file) and needs no root.
pub const GLOBAL: &str = "global
    log stderr format raw local0 info
    maxconn 256
";

/// A whole HTTP-mode config: frontend on `port`, one server at `server` (`host:port`), with
/// `timeouts` written into `defaults` (e.g. "timeout connect 2s\n timeout client 30s\n
/// timeout server 30s\n timeout tunnel 1h").
pub fn http_proxy(port: u16, server: &str, timeouts: &str) -> String {
    format!(
        "{GLOBAL}
defaults
    mode http
    log global
    option httplog
    {timeouts}

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server s1 {server}
"
    )
}
