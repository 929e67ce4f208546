//! examples/ci/*.yml are real pipelines: parsed as YAML here, and every `wspath` command in them
//! run as written against the lab they start (the echo backend on $WSPATH_LAB_PORT).

use super::audit;
use crate::support::{repo_root, Backend};
use serde_yaml::Value;

/// Every line of every shell step that runs `wspath`.
fn wspath_commands(doc: &Value) -> Vec<String> {
    let mut scripts: Vec<String> = Vec::new();
    collect_scripts(doc, &mut scripts);
    scripts
        .iter()
        .flat_map(|s| {
            s.lines()
                .map(str::trim)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.starts_with("wspath "))
        .collect()
}

/// `run:` (GitHub) and `script:` (GitLab) values, wherever they are.
fn collect_scripts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().unwrap_or_default();
                match (key, v) {
                    ("run", Value::String(s)) => out.push(s.clone()),
                    ("script", Value::Sequence(items)) => {
                        out.extend(items.iter().filter_map(|i| i.as_str().map(String::from)))
                    }
                    _ => collect_scripts(v, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| collect_scripts(i, out)),
        _ => {}
    }
}

fn run_example(file: &str) {
    let text = std::fs::read_to_string(repo_root().join("examples/ci").join(file)).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let commands = wspath_commands(&doc);
    assert!(!commands.is_empty(), "{file} runs no wspath command");
    let lab = Backend::start().unwrap();
    // The job's checkout, with the files the commands name.
    let dir = tempfile::tempdir().unwrap();
    let examples = dir.path().join("examples/ci");
    std::fs::create_dir_all(&examples).unwrap();
    for f in ["wspath.toml", "nginx.conf"] {
        std::fs::copy(repo_root().join("examples/ci").join(f), examples.join(f)).unwrap();
    }
    let port = lab.port.to_string();
    for command in commands {
        assert!(
            !command.contains(['"', '\'', '$', '|', '>']),
            "{file}: keep the wspath line plain so it runs as written: {command}"
        );
        let argv: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = audit(dir.path(), &argv, &[("WSPATH_LAB_PORT", &port)]);
        assert_eq!(out.code, Some(0), "{file}: {command}\n{}", out.describe());
        for flag in ["--report-junit", "--report-sarif"] {
            if let Some(i) = argv.iter().position(|a| *a == flag) {
                let report = dir.path().join(argv[i + 1]);
                let body = std::fs::read_to_string(&report)
                    .unwrap_or_else(|e| panic!("{command}: {}: {e}", report.display()));
                assert!(body.len() > 100, "{}", report.display());
            }
        }
        assert!(
            out.stdout.contains("✓ audit passed: 2 checks: 2 passed"),
            "{}",
            out.describe()
        );
    }
}

#[test]
fn github_actions_example_runs() {
    run_example("github-actions.yml");
}

#[test]
fn gitlab_ci_example_runs() {
    run_example("gitlab-ci.yml");
}
