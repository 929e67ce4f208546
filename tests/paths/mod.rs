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

use crate::support::ports::retry_on_addr_in_use;
use crate::support::process::ServerProcess;
use crate::support::{backend, cli, free_port, nginx, repo_root, CliOutput, Haproxy, Nginx};
use serde_json::Value;
use std::io;
use std::process::Command;
use std::time::Duration;

/// The URL every case checks; hops pin the address, the Host stays `app.test`.
pub const TARGET: &str = "ws://app.test/ws";

/// Hard limit for one `wspath` run.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The location directives that make nginx carry WebSockets.
pub const UPGRADE_OK: &str = "proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;";

/// HAProxy `defaults` timeouts that keep WebSockets open.
pub const LONG_TUNNEL: &str =
    "timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n    timeout tunnel 1h";

/// A WebSocket application from tests/paths/apps.py, stopped on Drop.
#[derive(Debug)]
pub struct App {
    pub port: u16,
    _dir: tempfile::TempDir,
    _process: ServerProcess,
}

impl App {
    /// Starts apps.py with `flags` (see its docstring) on a free port.
    pub fn start(flags: &[&str]) -> App {
        retry_on_addr_in_use(|| {
            let dir = tempfile::Builder::new().prefix("wspath-app-").tempdir()?;
            let port = free_port()?;
            let mut cmd = Command::new(backend::python());
            cmd.arg(repo_root().join("tests/paths/apps.py"))
                .arg(port.to_string())
                .args(flags);
            let mut process = ServerProcess::spawn("apps.py", cmd, &dir.path().join("app.log"))?;
            process.wait_ready(port, || true)?;
            Ok(App {
                port,
                _dir: dir,
                _process: process,
            })
        })
        .expect("start tests/paths/apps.py")
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// nginx on a free port whose `location /` holds `location`; `extra_servers(port)` may add
/// whole `server` blocks (given the main port, they listen elsewhere).
pub fn nginx_with(location: &str) -> Nginx {
    let location = location.to_string();
    Nginx::start(move |port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port};
    server_name app.test;
    location / {{
        {location}
    }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("start nginx")
}

/// nginx that carries WebSockets to `upstream` (`host:port`).
pub fn good_nginx(upstream: &str) -> Nginx {
    nginx_with(&format!(
        "proxy_pass http://{upstream};\n        {UPGRADE_OK}"
    ))
}

/// HAProxy on a free port: `frontend` and `backend` lines are added to the HTTP-mode
/// frontend/backend in front of `server` (`host:port`, with `server_opts` after it).
pub fn haproxy_with(frontend: &str, backend: &str, server: &str, server_opts: &str) -> Haproxy {
    let (frontend, backend, server, server_opts) = (
        frontend.to_string(),
        backend.to_string(),
        server.to_string(),
        server_opts.to_string(),
    );
    Haproxy::start(move |port| {
        format!(
            "{global}
defaults
    mode http
    log global
    option httplog
    {LONG_TUNNEL}

frontend fe
    bind 127.0.0.1:{port}
    {frontend}
    default_backend be

backend be
    {backend}
    server s1 {server} {server_opts}
",
            global = crate::support::haproxy::GLOBAL
        )
    })
    .expect("start haproxy")
}

/// One `wspath check` run with `--format json`, its document and exit code.
pub struct Run {
    pub out: CliOutput,
    pub doc: Value,
}

impl Run {
    pub fn describe(&self) -> String {
        self.out.describe()
    }

    pub fn hop(&self, name: &str) -> &Value {
        self.doc["hops"]
            .as_array()
            .and_then(|hops| hops.iter().find(|h| h["name"] == name))
            .unwrap_or_else(|| panic!("no hop '{name}'\n{}", self.describe()))
    }

    /// The culprit's summary and fix, for `contains` checks.
    pub fn summary(&self) -> &str {
        self.doc["culprit"]["summary"].as_str().unwrap_or("")
    }

    pub fn fix(&self) -> &str {
        self.doc["culprit"]["fix"].as_str().unwrap_or("")
    }

    /// Exit 1 and the culprit is `hop` with `verdict`, on the culprit and on its hop report.
    pub fn assert_culprit(&self, hop: &str, verdict: &str) {
        let why = self.describe();
        assert_eq!(self.out.code, Some(1), "exit code\n{why}");
        assert_eq!(self.doc["culprit"]["hop"], hop, "culprit hop\n{why}");
        assert_eq!(
            self.doc["culprit"]["verdict"], verdict,
            "culprit verdict\n{why}"
        );
        assert_eq!(self.hop(hop)["verdict"], verdict, "hop verdict\n{why}");
        assert_eq!(self.hop(hop)["consequence"], false, "{why}");
    }

    /// The fix says each of `needles`.
    pub fn assert_fix_says(&self, needles: &[&str]) {
        for n in needles {
            assert!(
                self.fix().contains(n),
                "the fix should say {n:?}\n{}",
                self.describe()
            );
        }
    }

    pub fn assert_healthy(&self) {
        assert_eq!(self.out.code, Some(0), "{}", self.describe());
        assert!(self.doc["culprit"].is_null(), "{}", self.describe());
    }
}

/// Runs `wspath check TARGET --hop NAME=ADDR… --format json EXTRA…` (with `--timeout 5s` unless
/// EXTRA sets one).
pub fn check(hops: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec!["check".into(), TARGET.into()];
    for (name, addr) in hops {
        args.push("--hop".into());
        args.push(format!("{name}={addr}"));
    }
    args.extend(["--format", "json"].map(String::from));
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "5s"].map(String::from));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli::wspath(&argv, RUN_LIMIT).expect("run wspath");
    assert!(!out.timed_out, "wspath hung\n{}", out.describe());
    let doc = out.json().unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = validate(&doc) {
        panic!("not schemas/check.schema.json:\n{e}\n{}", out.describe());
    }
    Run { out, doc }
}

/// Runs `wspath ARGS…` as given (human output).
pub fn wspath(args: &[&str]) -> CliOutput {
    let out = cli::wspath(args, RUN_LIMIT).expect("run wspath");
    assert!(!out.timed_out, "wspath hung\n{}", out.describe());
    out
}

fn validate(doc: &Value) -> Result<(), String> {
    let path = repo_root().join("schemas/check.schema.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let compiled = jsonschema::JSONSchema::compile(&schema).map_err(|e| e.to_string())?;
    let result = compiled.validate(doc);
    result.map_err(|errors| {
        errors
            .map(|e| format!("  at {}: {e}", e.instance_path))
            .collect::<Vec<_>>()
            .join("\n")
    })
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
