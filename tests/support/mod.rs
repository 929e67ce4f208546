//! Real servers for tests and examples: free ports, a Python `websockets` echo backend, every
//! reverse proxy the tests run (nginx, HAProxy, Apache httpd, lighttpd, Varnish, Squid, Caddy,
//! h2o, tinyproxy) behind one path builder ([`WsPath`]), self-signed TLS certificates and a
//! runner for the built `wspath` binary.
//!
//! Shared by the integration tests (`mod support;` in tests/main.rs) and the examples
//! (`#[path = "../tests/support/mod.rs"] mod support;`), so nothing here uses test-only macros
//! and every server start returns an `io::Result` whose error says what went wrong.
//! Every server lives in its own temp dir, listens on 127.0.0.1 only, is ready when its port
//! accepts a connection, and is stopped by pid on Drop.

// A consumer (one test file, one example) rarely uses every helper.
#![allow(dead_code, unused_imports)]

pub mod backend;
pub mod check;
pub mod cli;
pub mod cloudflare_api;
pub mod haproxy;
pub mod hostile;
pub mod moto;
pub mod nginx;
pub mod path;
pub mod ports;
pub mod prism;
pub mod process;
pub mod prometheus;
pub mod proxy;
pub mod raw;
#[cfg(test)]
mod selftest;
pub mod serve;
pub mod tls;

pub use backend::Backend;
pub use check::Run;
pub use cli::{wspath, CliOutput};
pub use haproxy::Haproxy;
pub use nginx::{nginx_t, Nginx};
pub use path::WsPath;
pub use ports::{free_port, wait_for_port};
pub use proxy::{Kind, Proxy, Setup};
pub use tls::SelfSigned;

use std::path::PathBuf;

/// The repository root, for finding `.venv`, `schemas/` and the support scripts.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
