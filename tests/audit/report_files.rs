//! What CI consumers get when a run goes wrong around the checks: an audit that tests nothing,
//! report files that cannot be written or collide, a command line clap refuses, and names and
//! paths that GitHub's Markdown and code scanning's URIs must not misread.

use super::audit;
use crate::support::Backend;
use serde_json::Value;
use std::path::Path;

fn healthy_check(dir: &Path, file: &str, name: &str, backend: &Backend) {
    std::fs::write(
        dir.join(file),
        format!(
            "[[check]]\nname = {name:?}\ntarget = \"ws://app.test/ws\"\nhops = [\"backend=ws://127.0.0.1:{}\"]\n",
            backend.port
        ),
    )
    .unwrap();
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?} is not JSON ({e}): {text}"))
}

/// Files without a [[check]] or [[lint]] (empty, or only [defaults]) test nothing: exit 2 with
/// the reason in every report file and the annotation, never a green run of zero checks.
#[test]
fn an_audit_with_nothing_to_run_is_not_green() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.toml"), "").unwrap();
    std::fs::write(dir.path().join("d.toml"), "[defaults]\ntimeout = \"2s\"\n").unwrap();
    let out = audit(
        dir.path(),
        &["audit", "empty.toml", "d.toml", "--report-json", "r.json"],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("nothing to audit"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("::error file=empty.toml,line=1,title=wspath audit could not run::"),
        "{}",
        out.describe()
    );
    let json = json_file(&dir.path().join("r.json"));
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["error"]["kind"], "config", "{json}");
}

/// A report file in a directory that does not exist: exit 2 and the error on stderr, but the
/// report is printed and the other report files hold the real results (not an error document).
#[test]
fn an_unwritable_report_fails_the_run_but_keeps_the_results() {
    let backend = Backend::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    healthy_check(dir.path(), "a.toml", "chat", &backend);
    let out = audit(
        dir.path(),
        &[
            "audit",
            "a.toml",
            "--report-junit",
            "missing/junit.xml",
            "--report-json",
            "r.json",
            "--github",
        ],
        &[],
    );
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stdout.contains("PASS  chat (a.toml:1"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("::error title=wspath audit could not write a report::--report-junit missing/junit.xml: "),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr
            .contains("wspath: --report-junit missing/junit.xml: "),
        "{}",
        out.describe()
    );
    let json = json_file(&dir.path().join("r.json"));
    assert_eq!(json["ok"], true, "{json}");
    assert_eq!(json["totals"]["passed"], 1, "{json}");
}

/// Two --report-* flags naming one file (as written differently) are refused before anything
/// runs: the file would hold only the last format.
#[test]
fn two_reports_in_one_file_are_refused() {
    let backend = Backend::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    healthy_check(dir.path(), "a.toml", "chat", &backend);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let out = audit(
        dir.path(),
        &[
            "audit",
            "a.toml",
            "--report-junit",
            "out/r",
            "--report-json",
            "out/../out/r",
        ],
        &[],
    );
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr
            .contains("invalid --report-json 'out/../out/r': --report-junit writes the same file"),
        "{}",
        out.describe()
    );
    assert!(!out.stdout.contains("PASS"), "{}", out.describe());
}

/// A command line clap refuses still leaves each report file it names (either spelling) as an
/// error document, and the JSON on stdout when --format json asked for it.
#[test]
fn a_usage_error_still_writes_the_report_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junit.xml"), "stale").unwrap();
    let out = audit(
        dir.path(),
        &[
            "--color",
            "never",
            "audit",
            "a.toml",
            "--concurrency",
            "0",
            "--report-junit",
            "junit.xml",
            "--report-sarif=r.sarif",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.code, Some(2), "{}", out.describe());
    let stdout = out.json().unwrap();
    assert_eq!(
        stdout["error"]["where"]["flag"], "--concurrency",
        "{stdout}"
    );
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<error message=\"invalid value &apos;0&apos; for &apos;--concurrency"),
        "{junit}"
    );
    let sarif = json_file(&dir.path().join("r.sarif"));
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"], false,
        "{sarif}"
    );
}

/// A check name with Markdown and HTML in the step summary, and a file whose path has a `:`,
/// a `#` and a space in SARIF: shown as text, and a URI that resolves to that file.
#[test]
fn names_and_paths_reach_github_as_written() {
    let backend = Backend::start_with(&[("/ws", 503)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a:b #1")).unwrap();
    healthy_check(dir.path(), "a:b #1/c.toml", "<img src=x> | 1", &backend);
    let summary = dir.path().join("summary.md");
    let out = audit(
        dir.path(),
        &[
            "audit",
            "a:b #1/c.toml",
            "--retries",
            "0",
            "--report-sarif",
            "r.sarif",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_WORKSPACE", dir.path().to_str().unwrap()),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(
        table.contains("| &lt;img src=x&gt; \\| 1 | failed | a:b #1/c.toml:1 |"),
        "{table}"
    );
    let sarif = json_file(&dir.path().join("r.sarif"));
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"];
    assert_eq!(uri, "a%3Ab%20%231/c.toml", "{sarif}");
}

/// A check that holds the connection idle longer than --deadline could never pass: exit 2 at
/// its line before anything runs, not "deadline exceeded" after every retry. With --only
/// leaving it out, the rest runs.
#[test]
fn a_deadline_shorter_than_a_checks_idle_is_refused() {
    let backend = Backend::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        format!(
            "[[check]]\nname = \"quick\"\ntarget = \"ws://app.test/ws\"\nhops = [\"backend=ws://127.0.0.1:{p}\"]\n\n[[check]]\nname = \"held\"\ntarget = \"ws://app.test/ws\"\nhops = [\"backend=ws://127.0.0.1:{p}\"]\nidle = \"30s\"\n",
            p = backend.port
        ),
    )
    .unwrap();
    let out = audit(dir.path(), &["audit", "a.toml", "--deadline", "2s"], &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr
            .contains("a.toml:6:1: check 'held' holds the connection idle for 30s"),
        "{}",
        out.describe()
    );
    assert!(!out.stdout.contains("PASS"), "{}", out.describe());
    let out = audit(
        dir.path(),
        &["audit", "a.toml", "--deadline", "2s", "--only", "quick"],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
}

/// A [[lint]] whose nginx file has a syntax error: the annotation and the SARIF result land on
/// the nginx line that stopped it; a missing file stays on the [[lint]] line that names it.
#[test]
fn a_lint_that_cannot_parse_is_annotated_at_the_nginx_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    std::fs::write(
        dir.path().join("deploy/nginx.conf"),
        "events {}\nhttp {\n  server {\n    location /ws { proxy_pass http://app }\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        "[[lint]]\nnginx = \"deploy/nginx.conf\"\n\n[[lint]]\nnginx = \"deploy/missing.conf\"\n",
    )
    .unwrap();
    let out = audit(
        dir.path(),
        &["audit", "a.toml", "--report-sarif", "r.sarif"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_WORKSPACE", dir.path().to_str().unwrap()),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout
            .contains("::error file=deploy/nginx.conf,line=4,title=wspath lint could not run::"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("::error file=a.toml,line=4,title=wspath lint could not run::"),
        "{}",
        out.describe()
    );
    let sarif = json_file(&dir.path().join("r.sarif"));
    let loc = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"], "deploy/nginx.conf",
        "{sarif}"
    );
    assert_eq!(loc["region"]["startLine"], 4, "{sarif}");
}
