//! `wspath audit` end to end: real nginx and Python backends on 127.0.0.1, hundreds of checks
//! healthy and broken mixed, the same counts in every format, the per-address bound measured
//! by the backend itself, retries, `${VAR}` and file errors.

mod ci_examples;
mod report_files;

use crate::support::cli::{run, wspath_bin, CliOutput};
use crate::support::nginx::CONNECTION_UPGRADE_MAP;
use crate::support::ports::{free_port, retry_on_addr_in_use};
use crate::support::process::ServerProcess;
use crate::support::{backend::python, repo_root, Nginx};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// tests/audit/counting_backend.py: records the most connections open at once.
pub struct CountingBackend {
    pub port: u16,
    _dir: tempfile::TempDir,
    _process: ServerProcess,
}

impl CountingBackend {
    pub fn start(hold: &str) -> io::Result<CountingBackend> {
        retry_on_addr_in_use(|| {
            let dir = tempfile::Builder::new()
                .prefix("wspath-counting-")
                .tempdir()?;
            let port = free_port()?;
            let mut cmd = Command::new(python());
            cmd.arg(repo_root().join("tests/audit/counting_backend.py"))
                .arg(port.to_string())
                .arg("--hold")
                .arg(hold);
            let mut process =
                ServerProcess::spawn("counting backend", cmd, &dir.path().join("backend.log"))?;
            process.wait_ready(port, || true)?;
            Ok(CountingBackend {
                port,
                _dir: dir,
                _process: process,
            })
        })
    }

    /// `{"max": most open at once, "total": connections counted}`.
    pub fn stats(&self) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("stats connect");
        s.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats {text:?}: {e}"))
    }
}

pub fn audit(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let mut cmd = Command::new(wspath_bin());
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, Duration::from_secs(240)).expect("wspath runs")
}

/// nginx with a proxying location that forwards the upgrade (/ws/) and one that does not (/ws-bad/).
fn nginx_in_front(backend: u16) -> Nginx {
    Nginx::start(|port| {
        format!(
            "{CONNECTION_UPGRADE_MAP}
server {{
    listen 127.0.0.1:{port};
    location /ws/ {{
        proxy_pass http://127.0.0.1:{backend};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }}
    location /ws-bad/ {{
        proxy_pass http://127.0.0.1:{backend};
    }}
}}"
        )
    })
    .expect("nginx starts")
}

const HEALTHY: usize = 200;
const STRIPPED: usize = 60;
const REFUSED: usize = 40;
const FLAKY: usize = 5;

#[test]
fn hundreds_of_checks_counted_the_same_in_every_format() {
    let backend = CountingBackend::start("0.005").unwrap();
    let nginx = nginx_in_front(backend.port);
    let dead = free_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ci = dir.path().join("ci");
    std::fs::create_dir_all(ci.join("deploy")).unwrap();
    // The nginx config as the repository keeps it, for the lints.
    std::fs::copy(nginx.conf_path(), ci.join("deploy/nginx.conf")).unwrap();
    let mut toml = String::from(
        "[defaults]\ntimeout = \"5s\"\nheaders = [\"Authorization: Bearer ${TOKEN}\"]\n\n",
    );
    let (n, b) = (nginx.port, backend.port);
    for i in 0..HEALTHY {
        toml.push_str(&format!(
            "[[check]]\nname = \"healthy-{i}\"\ntarget = \"ws://app.test/ws/{i}\"\nhops = [\"nginx=ws://127.0.0.1:{n}\", \"backend=ws://127.0.0.1:{b}\"]\n\n"
        ));
    }
    for i in 0..STRIPPED {
        toml.push_str(&format!(
            "[[check]]\nname = \"stripped-{i}\"\ntarget = \"ws://app.test/ws-bad/{i}\"\nhops = [\"nginx=ws://127.0.0.1:{n}\", \"backend=ws://127.0.0.1:{b}\"]\n\n"
        ));
    }
    for i in 0..REFUSED {
        toml.push_str(&format!(
            "[[check]]\nname = \"refused-{i}\"\ntarget = \"ws://app.test/ws/{i}\"\nhops = [\"backend=ws://127.0.0.1:{dead}\"]\n\n"
        ));
    }
    for i in 0..FLAKY {
        toml.push_str(&format!(
            "[[check]]\nname = \"flaky-{i}\"\ntarget = \"ws://app.test/flaky/{i}\"\nhops = [\"backend=ws://127.0.0.1:{b}\"]\n\n"
        ));
    }
    toml.push_str("[[lint]]\nnginx = \"deploy/nginx.conf\"\n");
    std::fs::write(ci.join("wspath.toml"), &toml).unwrap();
    let checks = HEALTHY + STRIPPED + REFUSED + FLAKY;
    let failed = STRIPPED + REFUSED;

    // Unset ${TOKEN}: nothing runs, the variable is named with the line.
    let out = audit(dir.path(), &["audit", "ci/wspath.toml"], &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr
            .contains("ci/wspath.toml:3:12: environment variable TOKEN is not set"),
        "{}",
        out.describe()
    );
    assert_eq!(backend.stats()["total"], 0, "nothing was probed");

    let secret = "tok-very-secret-42";
    let out = audit(
        dir.path(),
        &[
            "audit",
            "ci/wspath.toml",
            "--report-junit",
            "junit.xml",
            "--report-json",
            "audit.json",
            "--report-sarif",
            "audit.sarif",
        ],
        &[("TOKEN", secret)],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());

    // Human.
    let summary = format!(
        "✗ audit failed: {checks} checks: {HEALTHY} passed, {FLAKY} flaky (passed after retry), {failed} failed, 0 could not run; 1 lint: 1 failed"
    );
    assert!(out.stdout.contains(&summary), "{}", out.describe());
    assert_eq!(
        out.stdout.matches("\nPASS  healthy-").count()
            + usize::from(out.stdout.starts_with("PASS  healthy-")),
        HEALTHY
    );
    assert_eq!(out.stdout.matches("FLAKY flaky-").count(), FLAKY);
    assert_eq!(out.stdout.matches("FAIL  stripped-").count(), STRIPPED);
    assert!(out
        .stdout
        .contains("reproduce: wspath audit ci/wspath.toml --only stripped-0\n"));

    // JSON.
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("audit.json")).unwrap())
            .unwrap();
    assert_eq!(json["schema"], "wspath.audit/v1");
    let t = &json["totals"];
    assert_eq!(t["checks"], checks);
    assert_eq!(t["passed"], HEALTHY);
    assert_eq!(t["flaky"], FLAKY);
    assert_eq!(t["failed"], failed);
    assert_eq!(t["lints"], 1);
    assert_eq!(t["lints_failed"], 1);
    let by_status = |s: &str| {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == s)
            .count()
    };
    assert_eq!(by_status("passed"), HEALTHY);
    assert_eq!(by_status("flaky"), FLAKY);
    assert_eq!(by_status("failed"), failed);
    let stripped = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "stripped-0")
        .unwrap();
    assert_eq!(stripped["schema"], "wspath.check/v1");
    assert_eq!(stripped["culprit"]["hop"], "nginx", "{stripped}");
    assert_eq!(stripped["file"], "ci/wspath.toml");
    assert_eq!(json["checks"][0]["line"], 5);
    // Each check is a wspath.check/v1 report plus the audit's fields.
    let mut bare = stripped.clone();
    for k in [
        "name",
        "file",
        "line",
        "status",
        "flaky",
        "attempts",
        "seconds",
        "error",
        "first_failure",
    ] {
        bare.as_object_mut().unwrap().remove(k);
    }
    crate::check::validate(&bare).unwrap_or_else(|e| panic!("{e}"));
    validate_audit(&json).unwrap_or_else(|e| panic!("audit.json: {e}"));
    let flaky = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "flaky")
        .unwrap();
    assert_eq!(
        flaky["first_failure"]["kind"], "service_unavailable",
        "{flaky}"
    );

    // JUnit.
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 1);
    assert_eq!(xml.matches("<testcase ").count(), checks + 1);
    assert!(xml.contains(&format!(r#"tests="{}""#, checks + 1)), "{xml}");
    assert!(
        xml.contains(&format!(r#"failures="{}""#, failed + 1)),
        "{}",
        &xml[..400]
    );
    assert_eq!(xml.matches("<flakyFailure").count(), FLAKY);
    assert_eq!(xml.matches("<failure ").count(), failed + 1);
    assert_junit_xsd(&xml);

    // SARIF: every failed or flaky check at its TOML line.
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("audit.sarif")).unwrap())
            .unwrap();
    assert_sarif_2_1_0(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let at_toml: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ci/wspath.toml"
        })
        .collect();
    assert_eq!(at_toml.len(), failed + FLAKY);
    assert_eq!(
        at_toml
            .iter()
            .filter(|r| r["ruleId"] == "audit/flaky")
            .count(),
        FLAKY
    );
    let lint_results = results
        .iter()
        .filter(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "ci/deploy/nginx.conf"
        })
        .count();
    assert!(lint_results >= 1, "the /ws-bad/ location is a lint finding");

    // The token reached the requests but no report.
    for f in ["junit.xml", "audit.json", "audit.sarif"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(!text.contains(secret), "{f} leaks the token");
    }
    assert!(!out.stdout.contains(secret));
}

/// Validates `doc` against schemas/audit-report.schema.json (`wspath.audit/v1`), whose check
/// and lint parts refer to schemas/check.schema.json and schemas/lint.schema.json; the error
/// lists every violation with its path.
pub fn validate_audit(doc: &Value) -> Result<(), String> {
    let load = |name: &str| -> Value {
        let path = repo_root().join("schemas").join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let (check, lint) = (load("check.schema.json"), load("lint.schema.json"));
    let id = |s: &Value| s["$id"].as_str().unwrap().to_string();
    let schema = load("audit-report.schema.json");
    let compiled = jsonschema::JSONSchema::options()
        .with_document(id(&check), check.clone())
        .with_document(id(&lint), lint.clone())
        .compile(&schema)
        .unwrap_or_else(|e| panic!("schemas/audit-report.schema.json does not compile: {e}"));
    compiled.validate(doc).map_err(|errors| {
        errors
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Fails unless `xml` follows Maven Surefire's JUnit schema (tests/fixtures/schemas/junit,
/// which defines `flakyFailure`), checked by `xmllint` (libxml2-utils, from .ci/setup).
pub fn assert_junit_xsd(xml: &str) {
    let mut file = tempfile::Builder::new().suffix(".xml").tempfile().unwrap();
    file.write_all(xml.as_bytes()).unwrap();
    let xsd = repo_root().join("tests/fixtures/schemas/junit/testsuites.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file.path())
        .output()
        .expect("xmllint runs (package libxml2-utils, installed by .ci/setup)");
    assert!(
        out.status.success(),
        "JUnit output does not follow the Surefire XSD:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        &xml[..xml.len().min(4000)]
    );
}

/// Fails unless `doc` follows the SARIF 2.1.0 schema (OASIS, vendored under tests/fixtures).
pub fn assert_sarif_2_1_0(doc: &Value) {
    let path = repo_root().join("tests/fixtures/schemas/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let compiled = jsonschema::JSONSchema::compile(&schema).expect("the SARIF schema compiles");
    let result = compiled.validate(doc).map_err(|errors| {
        errors
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect::<Vec<_>>()
            .join("\n")
    });
    if let Err(all) = result {
        panic!("not SARIF 2.1.0:\n{all}");
    }
}

#[test]
fn lint_nginx_takes_several_files_and_prints_junit() {
    let dir = tempfile::tempdir().unwrap();
    let good = repo_root().join("examples/ci/nginx.conf");
    let bad = dir.path().join("bad.conf");
    std::fs::write(
        &bad,
        "events {}\nhttp {\n  server {\n    listen 8080;\n    location /ws/ {\n      proxy_pass http://127.0.0.1:9000;\n    }\n  }\n}\n",
    )
    .unwrap();
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    let out = audit(
        dir.path(),
        &["lint", "nginx", good, bad, "--format", "junit"],
        &[],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert_eq!(
        out.stdout.matches("<testcase ").count(),
        2,
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches("<failure ").count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("nginx/upgrade-not-forwarded"),
        "{}",
        out.stdout
    );
    assert_junit_xsd(&out.stdout);
    let out = audit(
        dir.path(),
        &["lint", "nginx", good, bad, "--format", "json"],
        &[],
    );
    let docs: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(docs.as_array().map(Vec::len), Some(2), "{}", out.stdout);
    assert_eq!(docs[0]["ok"], true);
    assert_eq!(docs[1]["ok"], false);
    let out = audit(
        dir.path(),
        &["lint", "nginx", good, "--format", "junit"],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_junit_xsd(&out.stdout);
    // Could not run (exit 2): the error document is JUnit a CI reader accepts too.
    let out = audit(
        dir.path(),
        &["lint", "nginx", "missing.conf", "--format", "junit"],
        &[],
    );
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stdout.contains("<error "), "{}", out.describe());
    assert_junit_xsd(&out.stdout);
    let out = audit(
        dir.path(),
        &["lint", "nginx", good, bad, "--format", "sarif"],
        &[],
    );
    assert_sarif_2_1_0(&serde_json::from_str(&out.stdout).unwrap());
}

#[test]
fn per_host_bounds_what_the_backend_sees() {
    let backend = CountingBackend::start("0.05").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from("[defaults]\nno_ping = true\n\n");
    for i in 0..48 {
        toml.push_str(&format!(
            "[[check]]\nname = \"c{i}\"\ntarget = \"ws://app.test/ws/{i}\"\nhops = [\"backend=ws://127.0.0.1:{}\"]\n\n",
            backend.port
        ));
    }
    std::fs::write(dir.path().join("a.toml"), toml).unwrap();
    let out = audit(
        dir.path(),
        &["audit", "a.toml", "--per-host", "3", "--concurrency", "32"],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let stats = backend.stats();
    assert_eq!(stats["total"], 48, "{stats}");
    let max = stats["max"].as_u64().unwrap();
    assert!(
        max <= 3,
        "the backend saw {max} connections at once with --per-host 3"
    );
    assert!(
        max >= 2,
        "checks ran one at a time ({max}): the bound is not used"
    );
}

#[test]
fn retries_zero_reports_the_failure_and_only_selects() {
    let backend = CountingBackend::start("0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[[check]]\nname = \"once\"\ntarget = \"ws://app.test/flaky/x\"\nhops = [\"backend=ws://127.0.0.1:{p}\"]\n\n[[check]]\nname = \"other\"\ntarget = \"ws://app.test/ws\"\nhops = [\"backend=ws://127.0.0.1:{p}\"]\n",
        p = backend.port
    );
    std::fs::write(dir.path().join("a.toml"), toml).unwrap();
    let out = audit(
        dir.path(),
        &[
            "audit",
            "a.toml",
            "--retries",
            "0",
            "--only",
            "once",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let json = out.json().unwrap();
    assert_eq!(json["totals"]["checks"], 1);
    assert_eq!(json["checks"][0]["status"], "failed");
    assert_eq!(json["checks"][0]["attempts"], 1);
    // The same check again, now with a retry budget: its path failed once already, so it passes.
    let out = audit(
        dir.path(),
        &["audit", "a.toml", "--only", "once", "--only", "other"],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let out = audit(dir.path(), &["audit", "a.toml", "--only", "nope"], &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr
            .contains("invalid --only 'nope': no check of that name"),
        "{}",
        out.describe()
    );
}

#[test]
fn file_errors_have_line_and_column_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        "[[check]]\ntarget = \"ws://a/\"\ntimout = \"5s\"\n",
    )
    .unwrap();
    let out = audit(dir.path(), &["audit", "a.toml"], &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr
            .contains("a.toml:3:1: unknown key `timout`: did you mean `timeout`?"),
        "{}",
        out.describe()
    );
    std::fs::write(dir.path().join("b.toml"), "[[check]\n").unwrap();
    let out = audit(dir.path(), &["audit", "b.toml"], &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("b.toml:1:"), "{}", out.describe());
}

#[test]
fn github_annotations_and_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let dead = free_port().unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        format!("[[check]]\nname = \"down\"\ntarget = \"ws://app.test/ws\"\nhops = [\"backend=ws://127.0.0.1:{dead}\"]\n"),
    )
    .unwrap();
    let summary = dir.path().join("summary.md");
    let out = audit(
        dir.path(),
        &["audit", "a.toml"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_WORKSPACE", dir.path().to_str().unwrap()),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout
            .contains("::error file=a.toml,line=1,title=wspath check down failed::"),
        "{}",
        out.describe()
    );
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(
        table.contains("| down | failed | a.toml:1 | 2 |"),
        "{table}"
    );
}

/// Checks that could not run (discovery failed on an invalid nginx file) or ran out of their
/// deadline still make valid reports: the JSON follows wspath.audit/v1 and the JUnit the
/// Surefire XSD, with the errors counted where they belong.
#[test]
fn error_and_deadline_runs_follow_the_report_schemas() {
    let backend = CountingBackend::start("3").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.conf"),
        "events {}\nhttp {\n  server {\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        format!(
            "[[check]]\nname = \"unreadable\"\ntarget = \"ws://app.test/ws\"\nhops = [\"nginx=ws://127.0.0.1:{p}\", \"backend=ws://127.0.0.1:{p}\"]\nnginx_conf = \"broken.conf\"\n\n[[check]]\nname = \"slow\"\ntarget = \"ws://app.test/ws\"\nhops = [\"backend=ws://127.0.0.1:{p}\"]\n\n[[lint]]\nnginx = \"broken.conf\"\n",
            p = backend.port
        ),
    )
    .unwrap();
    let out = audit(
        dir.path(),
        &[
            "audit",
            "a.toml",
            "--deadline",
            "300ms",
            "--retries",
            "0",
            "--report-junit",
            "junit.xml",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let json = out.json().unwrap();
    validate_audit(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(json["checks"][0]["status"], "error", "{json}");
    assert_eq!(json["checks"][1]["status"], "failed", "{json}");
    assert!(
        json["checks"][1]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("deadline exceeded")),
        "{json}"
    );
    assert_eq!(json["totals"]["errors"], 1);
    assert_eq!(json["lints"][0]["ok"], false);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert_eq!(xml.matches("<error ").count(), 2, "{xml}");
    assert!(xml.contains(r#"type="deadline""#), "{xml}");
    assert_junit_xsd(&xml);
}

/// The schema is strict enough to catch a wrong document.
#[test]
fn audit_schema_rejects_broken_documents() {
    let doc = serde_json::json!({
        "schema": "wspath.audit/v1", "ok": true, "seconds": 0.5, "files": ["a.toml"],
        "totals": {"checks": 1, "passed": 0, "flaky": 1, "failed": 0, "errors": 0, "lints": 0, "lints_failed": 0},
        "checks": [{
            "name": "c", "file": "a.toml", "line": 1, "status": "flaky", "flaky": true,
            "attempts": 2, "seconds": 0.1, "error": null,
            "first_failure": {"kind": "service_unavailable", "sentence": "backend answers 503"},
            "schema": "wspath.check/v1", "target": "ws://app.test/ws", "ok": true, "as": "plain",
            "culprit": null, "hops": []
        }],
        "lints": []
    });
    validate_audit(&doc).unwrap_or_else(|e| panic!("{e}"));
    let mut no_first = doc.clone();
    no_first["checks"][0]
        .as_object_mut()
        .unwrap()
        .remove("first_failure");
    assert!(
        validate_audit(&no_first).is_err(),
        "flaky without its first failure"
    );
    let mut not_flagged = doc.clone();
    not_flagged["checks"][0]["flaky"] = false.into();
    assert!(
        validate_audit(&not_flagged).is_err(),
        "status and flag disagree"
    );
    let mut bad_hop = doc.clone();
    bad_hop["checks"][0]["hops"] = serde_json::json!([{"name": 1}]);
    assert!(
        validate_audit(&bad_hop).is_err(),
        "hops follow check.schema.json"
    );
    let mut extra = doc;
    extra["checks"][0]["surprise"] = 1.into();
    assert!(validate_audit(&extra).is_err(), "unknown key");
}
