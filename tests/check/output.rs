//! The two renderings of one report: the `wspath.check/v1` JSON document (validated against
//! its schema in every case) and the human text.

use super::*;
use crate::support::check::human;
use serde_json::Value;

/// A document that follows the contract in the brief, field by field.
fn contract_example() -> Value {
    serde_json::json!({
        "schema": "wspath.check/v1", "target": "ws://app.test/ws", "ok": true, "as": "plain",
        "culprit": null,
        "hops": [{
            "name": "nginx", "kind": "proxy", "address": "127.0.0.1:8080", "url": "ws://app.test/ws",
            "verdict": "upgraded", "stage": "done", "detail": "101 Switching Protocols",
            "consequence": false, "status": 101,
            "status_line": "HTTP/1.1 101 Switching Protocols", "answered_by": "nginx",
            "headers": [{"name": "Upgrade", "value": "websocket"}],
            "body_snippet": null, "remote_addr": "127.0.0.1:8080", "tls": null,
            "timings_ms": {"dns": null, "connect": 0.2, "tls": null, "first_byte": 1.0, "total": 1.5},
            "extensions": null, "ping_rtt_ms": 0.3, "echo_ok": null, "idle": null,
            "curl": "curl -i -N --connect-to app.test:80:127.0.0.1:8080 http://app.test/ws",
            "http2": null,
            "findings": [], "facts": [], "variants": []
        }]
    })
}

/// The schema accepts the contract and is strict enough to catch a wrong document, so
/// validating real output means something.
#[test]
fn schema_accepts_the_contract_and_rejects_breaks() {
    let good = contract_example();
    if let Err(e) = validate(&good) {
        panic!("the contract example should validate:\n{e}");
    }
    let mut wrong_version = good.clone();
    wrong_version["schema"] = "wspath.check/v0".into();
    assert!(validate(&wrong_version).is_err(), "schema version");

    let mut no_ok = good.clone();
    no_ok.as_object_mut().map(|o| o.remove("ok"));
    assert!(validate(&no_ok).is_err(), "missing ok");

    let mut bad_verdict = good.clone();
    bad_verdict["hops"][0]["verdict"] = "exploded".into();
    assert!(validate(&bad_verdict).is_err(), "verdict outside the enum");

    let mut bad_kind = good.clone();
    bad_kind["hops"][0]["kind"] = "router".into();
    assert!(validate(&bad_kind).is_err(), "kind outside the enum");

    let mut bad_culprit = good.clone();
    bad_culprit["ok"] = false.into();
    bad_culprit["culprit"] = serde_json::json!({"hop": "nginx", "verdict": "upgrade_stripped"});
    assert!(
        validate(&bad_culprit).is_err(),
        "culprit without kind/summary/fix"
    );

    // The HTTP/2 side of a TLS hop: a verdict from the same vocabulary, or null when not tried.
    let mut h2 = good.clone();
    h2["hops"][0]["http2"] = serde_json::json!({
        "alpn": "h2", "extended_connect": false, "verdict": null, "stage": null, "status": null,
        "answered_by": null, "headers": null, "body_snippet": null, "timings_ms": null,
        "ping_rtt_ms": null, "echo_ok": null, "idle": null,
        "detail": "speaks HTTP/2 without RFC 8441"
    });
    if let Err(e) = validate(&h2) {
        panic!("an http2 note should validate:\n{e}");
    }
    h2["hops"][0]["http2"]["verdict"] = "exploded".into();
    assert!(validate(&h2).is_err(), "http2 verdict outside the enum");

    let mut string_status = good;
    string_status["hops"][0]["status"] = "101".into();
    assert!(validate(&string_status).is_err(), "status is an integer");
}

/// Human output of a broken path: one line per hop, the verdict with evidence and the fix,
/// no colour when NO_COLOR is set and stdout is not a terminal.
#[test]
fn human_output_names_hops_culprit_and_fix() {
    let path = three_hops(&Setup::no_websocket(), &Setup::good());
    let out = human(TARGET, &path.pairs(), &[]);
    let why = out.describe();
    assert_eq!(out.code, Some(1), "{why}");
    assert!(!out.stdout.contains('\u{1b}'), "no escape codes\n{why}");
    for (name, addr) in path.pairs() {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.contains(name) && l.contains(addr)),
            "a line for hop {name} with its address\n{why}"
        );
    }
    assert!(out.stdout.contains("505"), "the evidence\n{why}");
    assert!(
        out.stdout.contains("proxy_http_version 1.1"),
        "the fix\n{why}"
    );
    assert!(!out.stdout.trim_start().starts_with('{'), "not JSON\n{why}");
}

#[test]
fn human_output_of_a_healthy_path_exits_0() {
    let backend = backend();
    let target = format!("ws://{}/ws", backend.addr());
    let out = wspath(&["check", &target, "--timeout", "5s"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(out.stdout.contains("101"), "{}", out.describe());
}

/// The JSON document carries the evidence a user needs without re-running anything.
#[test]
fn json_carries_the_evidence() {
    let path = behind_nginx(&Setup::no_websocket());
    let run = check_path(&path, &[]);
    let hop = run.hop("nginx");
    let why = run.describe();
    assert!(
        hop["status_line"]
            .as_str()
            .is_some_and(|s| s.contains("505")),
        "{why}"
    );
    assert!(
        hop["headers"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("server"))
                && h["value"].as_str().is_some_and(|v| v.starts_with("nginx")))),
        "the Server header as received\n{why}"
    );
    assert!(
        hop["body_snippet"]
            .as_str()
            .is_some_and(|b| b.contains("HTTP/1.0")),
        "the body says why\n{why}"
    );
    assert_eq!(hop["remote_addr"], path.addr(0), "{why}");
    for phase in ["connect", "first_byte", "total"] {
        assert!(
            hop["timings_ms"][phase].is_number(),
            "timing {phase}\n{why}"
        );
    }
    assert!(
        hop["findings"].is_array() && hop["facts"].is_array(),
        "{why}"
    );
    assert_eq!(run.doc["target"], TARGET, "{why}");
}
