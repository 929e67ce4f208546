//! Case 9: bad input cannot run: exit 2, nothing on stdout, and one line on stderr naming the
//! bad part.

use super::*;

/// Runs `args`, expects exit 2 and a single stderr line containing every `needles` item.
fn assert_bad_input(args: &[&str], needles: &[&str]) {
    let out = wspath(args);
    let why = out.describe();
    assert_eq!(out.code, Some(2), "{why}");
    assert!(out.stdout.trim().is_empty(), "nothing on stdout\n{why}");
    let err = out.stderr.trim();
    assert_eq!(err.lines().count(), 1, "one line on stderr\n{why}");
    assert!(!err.contains("panicked"), "{why}");
    for needle in needles {
        assert!(err.contains(needle), "stderr should name {needle:?}\n{why}");
    }
}

#[test]
fn bad_scheme_names_the_url() {
    assert_bad_input(
        &["check", "http://app.test/ws"],
        &["http://app.test/ws", "ws://"],
    );
}

#[test]
fn url_without_host_names_the_url() {
    assert_bad_input(&["check", "ws://:80/ws"], &["ws://:80/ws"]);
}

#[test]
fn bad_hop_port_names_the_hop() {
    assert_bad_input(
        &["check", TARGET, "--hop", "lb=127.0.0.1:99999"],
        &["--hop", "lb=127.0.0.1:99999", "99999"],
    );
}

#[test]
fn bad_hop_name_names_the_hop() {
    assert_bad_input(
        &["check", TARGET, "--hop", "=127.0.0.1:80"],
        &["--hop", "=127.0.0.1:80"],
    );
}

#[test]
fn bad_hop_kind_names_the_kind() {
    assert_bad_input(
        &["check", TARGET, "--hop", "lb:router=127.0.0.1:80"],
        &["--hop", "router"],
    );
}

#[test]
fn bad_hop_scheme_names_the_scheme() {
    assert_bad_input(
        &["check", TARGET, "--hop", "nginx=http://127.0.0.1:80"],
        &["--hop", "http"],
    );
}

#[test]
fn bad_timeout_names_the_flag() {
    assert_bad_input(
        &["check", TARGET, "--timeout", "soon"],
        &["--timeout", "soon"],
    );
}

#[test]
fn bad_idle_names_the_flag() {
    assert_bad_input(
        &["check", TARGET, "--idle", "forever"],
        &["--idle", "forever"],
    );
}

#[test]
fn bad_header_names_the_header() {
    assert_bad_input(&["check", TARGET, "-H", "NoColonHere"], &["NoColonHere"]);
}
