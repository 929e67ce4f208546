//! Realistic broken paths that no issue lists, built from the real parts (nginx, HAProxy, Python
//! `websockets` applications) on 127.0.0.1, each asserting that wspath names the right hop, the
//! right verdict, and a fix for THAT software — the cases a red-team pass found wspath vague or
//! wrong on. Every JSON document is validated against schemas/check.schema.json.

mod access;
mod apps;
mod gateway;
mod idle;
mod output;
mod tls;
mod variants;

pub use crate::check::front;
pub use crate::support::check::{human, Run, TARGET};
use crate::support::process::{start_server, Started};
use crate::support::{backend, free_port, repo_root, Backend, Kind, Setup, WsPath};
use std::io;
use std::process::Command;
use std::time::Duration;

/// A WebSocket application from tests/paths/apps.py, stopped on Drop.
#[derive(Debug)]
pub struct App {
    pub port: u16,
    _server: Started,
}

impl App {
    /// Starts apps.py with `flags` (see its docstring) on a free port.
    pub fn start(flags: &[&str]) -> App {
        let started = start_server(
            "app",
            "app.log",
            false,
            |_, port| {
                let mut cmd = Command::new(backend::python());
                cmd.arg(repo_root().join("tests/paths/apps.py"))
                    .arg(port.to_string())
                    .args(flags);
                Ok(cmd)
            },
            |_, _| true,
        )
        .expect("start tests/paths/apps.py");
        App {
            port: started.port,
            _server: started,
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// This application as the innermost hop of a path, named `app`.
    pub fn path(flags: &[&str]) -> WsPath {
        let app = App::start(flags);
        WsPath::to("app", &app.addr(), app)
    }
}

/// A path whose innermost hop is a fresh echo backend.
pub fn backend_path() -> WsPath {
    WsPath::backend(Backend::start().expect("start backend"))
}

/// `kind` set up as `setup` in front of `inner` (`host:port`), outside any path.
pub fn proxy(kind: Kind, inner: &str, setup: &Setup) -> crate::support::Proxy {
    crate::support::Proxy::in_front_of(kind, inner, setup)
        .unwrap_or_else(|e| panic!("start {}: {e}", kind.name()))
}

/// Runs `wspath check TARGET --hop NAME=ADDR… --format json EXTRA…` (with `--timeout 5s` unless
/// EXTRA sets one); the document is validated against the schema.
pub fn check(hops: &[(&str, &str)], extra: &[&str]) -> Run {
    crate::support::check::check(TARGET, hops, extra)
}

/// `check` over every hop of `path`.
pub fn check_path(path: &WsPath, extra: &[&str]) -> Run {
    check(&path.pairs(), extra)
}

/// Polls `ready` (every few ms, up to 10 s) and fails the test with `what` if it never holds.
pub fn wait_for(what: &str, ready: impl FnMut() -> bool) {
    crate::support::ports::wait_until(Duration::from_secs(10), ready)
        .unwrap_or_else(|()| panic!("gave up waiting: {what}"));
}

/// A port nothing listens on (taken, then released).
pub fn closed_port() -> io::Result<u16> {
    free_port()
}
