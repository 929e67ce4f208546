//! `wspath check` with Cloudflare: the edge hop is a real local server (nginx on 127.0.0.1
//! that strips the upgrade, as Cloudflare does with WebSockets off) while the API, through
//! Prism, says `websockets` is off: the culprit is the edge, with that setting as the cause.

use super::{run, site, token_env, HOST, ZONE};
use crate::support::check::validate;
use crate::support::{Backend, CliOutput, Kind, Setup, WsPath};
use serde_json::{json, Value};

const TARGET: &str = "ws://chat.example.com/ws";

/// edge (nginx with a bare `proxy_pass`: the upgrade never reaches the backend) → origin.
fn path() -> WsPath {
    let backend = Backend::start().expect("start backend");
    WsPath::to("origin", &backend.addr(), backend)
        .front("edge", Kind::Nginx, &Setup::no_websocket())
        .expect("start nginx")
}

/// `wspath check TARGET --hop edge=… --hop origin=… --timeout 5s EXTRA…` with `env`.
fn check(env: &[(&'static str, String)], path: &WsPath, extra: &[&str]) -> CliOutput {
    let hops = path.hop_args();
    let mut args = vec!["check", TARGET, "--timeout", "5s"];
    args.extend(hops.iter().map(String::as_str));
    args.extend(extra);
    run(env, &args)
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
    let path = path();
    let env = token_env(&api, super::TOKEN);
    let out = check(&env, &path, &["--cloudflare", "--format", "json"]);
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
    assert_eq!(hop(&doc, "origin")["address"], path.addr(1));
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
    let path = path();
    let env = token_env(&api, super::TOKEN);

    // Default: credentials in the environment are enough, no --cloudflare needed.
    let dry = check(&env, &path, &["--fix"]);
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
    let out = check(&env, &path, &["--fix", "--format", "json"]);
    assert_eq!(doc(&out)["culprit"]["hop"], "edge", "{}", out.describe());
    assert!(out.stderr.contains("off -> on"), "{}", out.describe());

    let applied = check(&env, &path, &["--fix", "--yes"]);
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
    let path = path();
    let env = token_env(&api, super::TOKEN);

    let out = check(&env, &path, &["--format", "json", "--no-cloudflare"]);
    assert!(
        api.served().is_empty(),
        "--no-cloudflare still called the API"
    );
    assert!(hop(&doc(&out), "edge")["facts"]
        .as_array()
        .is_some_and(|f| f.is_empty()));

    // A DNS-only record: the facts say Cloudflare is not in the path.
    api.state().zones[0].records[0].proxied = false;
    let out = check(&env, &path, &["--format", "json"]);
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
