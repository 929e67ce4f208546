//! `wspath check` with Cloudflare: the edge hop is a real local server (nginx on 127.0.0.1
//! that strips the upgrade, as Cloudflare does with WebSockets off) while the API, through
//! Prism, says `websockets` is off: the culprit is the edge, with that setting as the cause.

use super::{run, site, token_env, HOST, ZONE};
use crate::check::{nginx_to, validate};
use crate::support::{Backend, CliOutput, Nginx};
use serde_json::{json, Value};

const TARGET: &str = "ws://chat.example.com/ws";

/// edge (nginx with a bare `proxy_pass`: the upgrade never reaches the backend) → backend.
fn path() -> (Backend, Nginx) {
    let backend = Backend::start().expect("start backend");
    let edge = nginx_to(&backend.addr(), "", "");
    (backend, edge)
}

fn doc(out: &CliOutput) -> Value {
    let doc = out.json().unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = validate(&doc) {
        panic!("not wspath.check/v1: {e}\n{}", out.describe());
    }
    doc
}

fn hop<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["hops"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["name"] == name))
        .unwrap_or_else(|| panic!("no hop {name} in {doc}"))
}

#[test]
fn edge_culprit_is_explained_by_websockets_off() {
    let api = site("off");
    let (backend, edge) = path();
    let env = token_env(&api, super::TOKEN);
    let edge_hop = format!("edge={}", edge.addr());
    let origin_hop = format!("origin={}", backend.addr());
    let args = [
        "check",
        TARGET,
        "--hop",
        &edge_hop,
        "--hop",
        &origin_hop,
        "--cloudflare",
        "--format",
        "json",
        "--timeout",
        "5s",
    ];
    let out = run(&env, &args);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let doc = doc(&out);
    let culprit = &doc["culprit"];
    assert_eq!(culprit["hop"], "edge", "{}", out.describe());
    assert_eq!(culprit["kind"], "cdn", "{}", out.describe());
    let summary = culprit["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("cloudflare/websockets-off")
            && summary.contains("WebSockets are off for zone example.com"),
        "{}",
        out.describe()
    );
    assert!(
        culprit["fix"]
            .as_str()
            .is_some_and(|f| f.contains("wspath fix --cloudflare chat.example.com --yes")),
        "{}",
        out.describe()
    );
    let edge_report = hop(&doc, "edge");
    assert!(edge_report["facts"].as_array().is_some_and(
        |f| f.contains(&json!({"source": "cloudflare", "name": "websockets", "value": "off"}))
    ));
    assert!(edge_report["findings"].as_array().is_some_and(|f| f
        .iter()
        .any(|f| f["id"] == "cloudflare/websockets-off" && f["severity"] == "error")));
    // Typed hops stay as typed: the origin is the user's, not one built from DNS.
    assert_eq!(hop(&doc, "origin")["address"], backend.addr().as_str());
    assert_eq!(
        hop(&doc, "origin")["verdict"],
        "upgraded",
        "{}",
        out.describe()
    );
    api.assert_conforms();
}

#[test]
fn check_fix_offers_the_plan_and_applies_it_with_yes() {
    let api = site("off");
    let (backend, edge) = path();
    let env = token_env(&api, super::TOKEN);
    let edge_hop = format!("edge={}", edge.addr());
    let origin_hop = format!("origin={}", backend.addr());
    let base = [
        "check",
        TARGET,
        "--hop",
        &edge_hop,
        "--hop",
        &origin_hop,
        "--timeout",
        "5s",
        "--fix",
    ];

    // Default: credentials in the environment are enough, no --cloudflare needed.
    let dry = run(&env, &base);
    assert_eq!(dry.code, Some(1), "{}", dry.describe());
    assert!(
        dry.stdout
            .contains("[planned] cloudflare zone example.com websockets")
            && dry.stdout.contains("off -> on")
            && dry.stdout.contains("Dry run"),
        "{}",
        dry.describe()
    );
    assert_eq!(api.setting(ZONE, "websockets"), Some(json!("off")));
    // Beside a JSON report the plan goes to stderr: stdout stays one document.
    let mut as_json = base.to_vec();
    as_json.extend(["--format", "json"]);
    let out = run(&env, &as_json);
    assert_eq!(doc(&out)["culprit"]["hop"], "edge", "{}", out.describe());
    assert!(out.stderr.contains("off -> on"), "{}", out.describe());

    let mut apply = base.to_vec();
    apply.push("--yes");
    let applied = run(&env, &apply);
    assert!(
        applied
            .stdout
            .contains("[applied] cloudflare zone example.com websockets"),
        "{}",
        applied.describe()
    );
    assert_eq!(api.setting(ZONE, "websockets"), Some(json!("on")));
    api.assert_conforms();
}

#[test]
fn no_cloudflare_skips_the_api_and_dns_only_names_it() {
    let api = site("on");
    let (backend, edge) = path();
    let env = token_env(&api, super::TOKEN);
    let edge_hop = format!("edge={}", edge.addr());
    let origin_hop = format!("origin={}", backend.addr());
    let hops = ["--hop", &edge_hop, "--hop", &origin_hop];

    let mut skip = vec![
        "check",
        TARGET,
        "--format",
        "json",
        "--timeout",
        "5s",
        "--no-cloudflare",
    ];
    skip.extend(hops);
    let out = run(&env, &skip);
    assert!(
        api.served().is_empty(),
        "--no-cloudflare still called the API"
    );
    assert!(hop(&doc(&out), "edge")["facts"]
        .as_array()
        .is_some_and(|f| f.is_empty()));

    // A DNS-only record: the facts say Cloudflare is not in the path.
    api.state().zones[0].records[0].proxied = false;
    let mut with = vec!["check", TARGET, "--format", "json", "--timeout", "5s"];
    with.extend(hops);
    let out = run(&env, &with);
    let doc = doc(&out);
    let findings = hop(&doc, "edge")["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        findings
            .iter()
            .any(|f| f["id"] == "cloudflare/record-not-proxied"
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("Cloudflare is not in the path"))),
        "{}",
        out.describe()
    );
    api.assert_conforms();
    let _ = HOST;
}
