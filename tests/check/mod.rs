//! `wspath check` end to end against real servers: every case builds a real path (HAProxy,
//! nginx, a `websockets` backend) on 127.0.0.1, runs the built binary with `--format json`, and
//! asserts the culprit hop, its verdict and the exit code. Every JSON document is validated
//! against schemas/check.schema.json.

mod idle;
mod input;
mod output;
mod paths;
mod tls;

use crate::support::{cli, haproxy, nginx, repo_root, Backend, CliOutput, Haproxy, Nginx};
use serde_json::Value;
use std::time::Duration;

/// The URL every case checks; hops pin the address, the Host stays `app.test`.
pub const TARGET: &str = "ws://app.test/ws";

/// Hard limit for one `wspath` run: a hang fails the test instead of blocking CI.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A `defaults` timeout block that keeps WebSockets open (tunnel 1h).
pub const LONG_TUNNEL: &str =
    "timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n    timeout tunnel 1h";

/// The location directives that make nginx carry WebSockets.
pub const UPGRADE_OK: &str = "proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;";

/// nginx on a free port: `server_level` directives in the server block and `location` in
/// `location / { proxy_pass http://BACKEND; … }`.
pub fn nginx_to(backend: &str, location: &str, server_level: &str) -> Nginx {
    let (backend, location, server_level) = (
        backend.to_string(),
        location.to_string(),
        server_level.to_string(),
    );
    Nginx::start(move |port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port};
    server_name app.test;
    {server_level}
    location / {{
        proxy_pass http://{backend};
        {location}
    }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("start nginx")
}

/// nginx that carries WebSockets to `backend`.
pub fn good_nginx(backend: &str) -> Nginx {
    nginx_to(backend, UPGRADE_OK, "")
}

/// HAProxy on a free port in front of `upstream` with these `defaults` timeouts.
pub fn haproxy_to(upstream: &str, timeouts: &str) -> Haproxy {
    Haproxy::start(|port| haproxy::http_proxy(port, upstream, timeouts)).expect("start haproxy")
}

/// One `wspath check --format json` run, its parsed document, and the exit code.
pub struct Run {
    pub out: CliOutput,
    pub doc: Value,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.out.code
    }

    /// The hop report called `name`.
    pub fn hop(&self, name: &str) -> &Value {
        self.doc["hops"]
            .as_array()
            .and_then(|hops| hops.iter().find(|h| h["name"] == name))
            .unwrap_or_else(|| panic!("no hop '{name}' in the report\n{}", self.describe()))
    }

    pub fn describe(&self) -> String {
        format!(
            "{}\n--- json ---\n{}",
            self.out.describe(),
            serde_json::to_string_pretty(&self.doc).unwrap_or_default()
        )
    }

    /// Exit 1, `ok: false`, and the culprit is `hop` with `verdict` (also on that hop's report).
    pub fn assert_culprit(&self, hop: &str, verdict: &str) {
        let why = self.describe();
        assert_eq!(self.code(), Some(1), "exit code\n{why}");
        assert_eq!(self.doc["ok"], false, "ok\n{why}");
        let culprit = &self.doc["culprit"];
        assert_eq!(culprit["hop"], hop, "culprit hop\n{why}");
        assert_eq!(culprit["verdict"], verdict, "culprit verdict\n{why}");
        assert!(
            culprit["summary"]
                .as_str()
                .is_some_and(|s| !s.trim().is_empty()),
            "culprit summary\n{why}"
        );
        assert_eq!(self.hop(hop)["verdict"], verdict, "hop verdict\n{why}");
        assert_eq!(
            self.hop(hop)["consequence"],
            false,
            "the culprit is no consequence\n{why}"
        );
    }

    /// The hop fails only because of a hop further in.
    pub fn assert_consequence(&self, hop: &str) {
        let h = self.hop(hop);
        assert_ne!(
            h["verdict"],
            "upgraded",
            "{hop} should fail\n{}",
            self.describe()
        );
        assert_eq!(
            h["consequence"],
            true,
            "{hop} consequence\n{}",
            self.describe()
        );
    }

    pub fn assert_upgraded(&self, hop: &str) {
        let h = self.hop(hop);
        assert_eq!(h["verdict"], "upgraded", "{hop}\n{}", self.describe());
        assert_eq!(h["status"], 101, "{hop}\n{}", self.describe());
        assert_eq!(h["consequence"], false, "{hop}\n{}", self.describe());
    }

    /// Exit 0, `ok: true`, no culprit, every hop upgraded.
    pub fn assert_healthy(&self) {
        let why = self.describe();
        assert_eq!(self.code(), Some(0), "exit code\n{why}");
        assert_eq!(self.doc["ok"], true, "ok\n{why}");
        assert!(self.doc["culprit"].is_null(), "culprit\n{why}");
        for h in self.doc["hops"].as_array().into_iter().flatten() {
            assert_eq!(h["verdict"], "upgraded", "{}\n{why}", h["name"]);
        }
    }
}

/// `--hop NAME=ADDRESS` arguments for `hops`, outermost first.
fn hop_args(hops: &[(&str, &str)]) -> Vec<String> {
    hops.iter()
        .flat_map(|(name, addr)| ["--hop".to_string(), format!("{name}={addr}")])
        .collect()
}

/// Runs `wspath check TARGET --hop … --format json --timeout 5s EXTRA…` and validates the
/// document against the schema.
pub fn check(target: &str, hops: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec!["check".into(), target.into()];
    args.extend(hop_args(hops));
    args.extend(["--format", "json", "--timeout", "5s"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli::wspath(&argv, RUN_LIMIT).expect("run wspath");
    assert!(!out.timed_out, "wspath hung\n{}", out.describe());
    let doc = out.json().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["schema"], "wspath.check/v1", "{}", out.describe());
    if let Err(errors) = validate(&doc) {
        panic!(
            "output does not follow schemas/check.schema.json:\n{errors}\n{}",
            out.describe()
        );
    }
    Run { out, doc }
}

/// Runs `wspath ARGS…` as given (human output, bad input…).
pub fn wspath(args: &[&str]) -> CliOutput {
    let out = cli::wspath(args, RUN_LIMIT).expect("run wspath");
    assert!(!out.timed_out, "wspath hung\n{}", out.describe());
    out
}

/// The `wspath.check/v1` JSON Schema shipped in the repo.
pub fn schema() -> Value {
    let path = repo_root().join("schemas/check.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Validates `doc` against the check schema; the error lists every violation with its path.
pub fn validate(doc: &Value) -> Result<(), String> {
    let schema = schema();
    let compiled = jsonschema::JSONSchema::compile(&schema)
        .unwrap_or_else(|e| panic!("schemas/check.schema.json does not compile: {e}"));
    let result = compiled.validate(doc);
    result.map_err(|errors| {
        errors
            .map(|e| format!("  at {}: {e}", e.instance_path))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// A running backend, failing the test if it cannot start.
pub fn backend() -> Backend {
    Backend::start().expect("start the websockets backend")
}
