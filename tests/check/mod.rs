//! `wspath check` end to end against real servers: every case builds a real path (HAProxy,
//! nginx, a `websockets` backend) on 127.0.0.1 with [`WsPath`], runs the built binary with
//! `--format json`, and asserts the culprit hop, its verdict and the exit code. Every JSON
//! document is validated against schemas/check.schema.json.

mod idle;
mod input;
mod output;
mod paths;
mod tls;

pub use crate::support::check::{check, validate, wspath, Run, TARGET};
use crate::support::{Backend, Kind, Setup, WsPath};

/// A running backend, failing the test if it cannot start.
pub fn backend() -> Backend {
    Backend::start().expect("start the websockets backend")
}

/// `path` with `kind` set up as `setup` in front, named `name`; fails the test if it cannot
/// start.
pub fn front(path: WsPath, name: &str, kind: Kind, setup: &Setup) -> WsPath {
    path.front(name, kind, setup)
        .unwrap_or_else(|e| panic!("start {name} ({}): {e}", kind.name()))
}

/// lb (HAProxy) → nginx → backend, nginx set up as `nginx`, HAProxy as `lb`.
pub fn three_hops(nginx: &Setup, lb: &Setup) -> WsPath {
    let path = front(WsPath::backend(backend()), "nginx", Kind::Nginx, nginx);
    front(path, "lb", Kind::Haproxy, lb)
}

/// nginx → backend, nginx set up as `nginx`.
pub fn behind_nginx(nginx: &Setup) -> WsPath {
    front(WsPath::backend(backend()), "nginx", Kind::Nginx, nginx)
}

/// nginx named `nginx` in front of `path` with a layout of its own: `body(inner)` is the
/// inside of its one `server`.
pub fn front_nginx(path: WsPath, body: impl Fn(&str) -> String) -> WsPath {
    path.front_nginx("nginx", "", body)
        .unwrap_or_else(|e| panic!("start nginx: {e}"))
}

/// `check TARGET` over every hop of `path`.
pub fn check_path(path: &WsPath, extra: &[&str]) -> Run {
    check(TARGET, &path.pairs(), extra)
}
