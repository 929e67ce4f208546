//! One `wspath check --format json` run over a path of real servers, and the assertions every
//! diagnosis test makes on it: the culprit hop, its verdict, the words of the fix. Every
//! document is validated against schemas/check.schema.json before a test sees it.

use super::cli::{self, CliOutput};
use super::repo_root;
use serde_json::Value;
use std::time::Duration;

/// The URL most cases check; hops pin the address, the Host stays `app.test`.
pub const TARGET: &str = "ws://app.test/ws";

/// Hard limit for one `wspath` run: a hang fails the test instead of blocking CI.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

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

    /// The culprit's summary, for `contains` checks.
    pub fn summary(&self) -> &str {
        self.doc["culprit"]["summary"].as_str().unwrap_or("")
    }

    /// The culprit's fix, for `contains` checks.
    pub fn fix(&self) -> &str {
        self.doc["culprit"]["fix"].as_str().unwrap_or("")
    }

    /// Exit 1, `ok: false`, and the culprit is `hop` with `verdict` (also on that hop's report).
    pub fn assert_culprit(&self, hop: &str, verdict: &str) {
        let why = self.describe();
        assert_eq!(self.code(), Some(1), "exit code\n{why}");
        assert_eq!(self.doc["ok"], false, "ok\n{why}");
        let culprit = &self.doc["culprit"];
        assert_eq!(culprit["hop"], hop, "culprit hop\n{why}");
        assert_eq!(culprit["verdict"], verdict, "culprit verdict\n{why}");
        assert!(!self.summary().trim().is_empty(), "culprit summary\n{why}");
        assert_eq!(self.hop(hop)["verdict"], verdict, "hop verdict\n{why}");
        assert_eq!(
            self.hop(hop)["consequence"],
            false,
            "the culprit is no consequence\n{why}"
        );
    }

    /// Hop `hop`'s `field` in the report is `expected`.
    pub fn assert_hop(&self, hop: &str, field: &str, expected: impl Into<Value>) {
        let expected = expected.into();
        let why = self.describe();
        assert_eq!(self.hop(hop)[field], expected, "{hop} {field}\n{why}");
    }

    /// The culprit's summary says each of `needles`.
    pub fn assert_summary_says(&self, needles: &[&str]) {
        for n in needles {
            assert!(
                self.summary().contains(n),
                "the summary should say {n:?}\n{}",
                self.describe()
            );
        }
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

    /// The hop fails only because of a hop further in.
    pub fn assert_consequence(&self, hop: &str) {
        let h = self.hop(hop);
        let why = self.describe();
        assert_ne!(h["verdict"], "upgraded", "{hop} should fail\n{why}");
        assert_eq!(h["consequence"], true, "{hop} consequence\n{why}");
    }

    pub fn assert_upgraded(&self, hop: &str) {
        let h = self.hop(hop);
        let why = self.describe();
        assert_eq!(h["verdict"], "upgraded", "{hop}\n{why}");
        assert_eq!(h["status"], 101, "{hop}\n{why}");
        assert_eq!(h["consequence"], false, "{hop}\n{why}");
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

/// Runs `wspath check TARGET --hop NAME=ADDR… --format json EXTRA…` (with `--timeout 5s`
/// unless EXTRA sets one) and validates the document against the schema.
pub fn check(target: &str, hops: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut extra = extra.to_vec();
    extra.extend(["--format", "json"]);
    let out = human(target, hops, &extra);
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

/// Runs `wspath check TARGET --hop NAME=ADDR… EXTRA…` (with `--timeout 5s` unless EXTRA sets
/// one): the human report unless EXTRA asks for another format.
pub fn human(target: &str, hops: &[(&str, &str)], extra: &[&str]) -> CliOutput {
    let mut args: Vec<String> = vec!["check".into(), target.into()];
    for (name, addr) in hops {
        args.push("--hop".into());
        args.push(format!("{name}={addr}"));
    }
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "5s"].map(String::from));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    wspath(&argv)
}

/// Runs `wspath ARGS…` as given (human output, bad input…), failing the test if it hangs.
pub fn wspath(args: &[&str]) -> CliOutput {
    let out = cli::wspath(args, RUN_LIMIT).expect("run wspath");
    assert!(!out.timed_out, "wspath hung\n{}", out.describe());
    out
}

/// The JSON Schema schemas/`file` shipped in the repo.
pub fn schema(file: &str) -> Value {
    let path = repo_root().join("schemas").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Validates `doc` against schemas/`file`; the error lists every violation with its path.
pub fn validate_with(file: &str, doc: &Value) -> Result<(), String> {
    let schema = schema(file);
    let compiled = jsonschema::JSONSchema::compile(&schema)
        .unwrap_or_else(|e| panic!("schemas/{file} does not compile: {e}"));
    let result = compiled.validate(doc);
    result.map_err(|errors| {
        errors
            .map(|e| format!("  at {}: {e}", e.instance_path))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Validates `doc` against the `wspath.check/v1` schema.
pub fn validate(doc: &Value) -> Result<(), String> {
    validate_with("check.schema.json", doc)
}

/// Fails unless `doc` follows schemas/fix.schema.json (`wspath.fix/v1`).
pub fn assert_fix_schema(doc: &Value) {
    if let Err(e) = validate_with("fix.schema.json", doc) {
        panic!("not wspath.fix/v1:\n{e}\n{doc}");
    }
}
