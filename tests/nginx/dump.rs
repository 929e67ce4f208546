//! `wspath lint nginx --dump` against `crossplane parse` on a corpus of tricky configurations:
//! the two outputs must be byte-identical, errors included.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crossplane() -> PathBuf {
    std::env::var_os("WSPATH_CROSSPLANE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/crossplane"))
}

fn run(cmd: &mut Command) -> (Vec<u8>, i32) {
    let out = cmd.output().expect("the program runs");
    (out.stdout, out.status.code().unwrap_or(-1))
}

fn compare(conf: &Path, cwd: &Path) -> i32 {
    let (expected, _) = run(Command::new(crossplane())
        .arg("parse")
        .arg(conf)
        .current_dir(cwd));
    assert!(
        !expected.is_empty(),
        "crossplane printed nothing for {}",
        conf.display()
    );
    let (got, code) = run(Command::new(env!("CARGO_BIN_EXE_wspath"))
        .args(["lint", "nginx", "--dump"])
        .arg(conf)
        .current_dir(cwd));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "dump differs from crossplane for {}",
        conf.display()
    );
    code
}

#[test]
fn dump_matches_crossplane_on_the_corpus() {
    let corpus = repo().join("tests/fixtures/nginx/crossplane");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let code = compare(&case.join("nginx.conf"), &repo());
        let expected = if name.starts_with("errors-") { 2 } else { 0 };
        assert_eq!(code, expected, "exit code for {name}");
    }
}

#[test]
fn dump_matches_crossplane_with_a_relative_path() {
    let dir = repo().join("tests/fixtures/nginx/crossplane/includes");
    assert_eq!(compare(Path::new("nginx.conf"), &dir), 0);
}
