//! `--as`: browser-faithful upgrade requests on real servers — the exact headers and order
//! reach the backend, the negotiated extensions are shown, and `--as all` catches a proxy that
//! upgrades wspath's plain request but refuses Firefox's `Connection: keep-alive, Upgrade`.

use super::*;
use serde_json::Value;

/// nginx named `edge` whose WebSocket location only lets `Connection: Upgrade` through,
/// compared as one string: the rule copied from answers that assume every client sends exactly
/// that; the backend behind it is named `app`.
fn nginx_matching_connection_exactly() -> WsPath {
    let backend = Backend::start().expect("backend");
    let setup = Setup::good().directive("if ($http_connection != \"Upgrade\") { return 400; }");
    front(
        WsPath::to("app", &backend.addr(), backend),
        "edge",
        Kind::Nginx,
        &setup,
    )
}

#[test]
fn as_all_catches_a_proxy_that_refuses_firefoxs_connection_header() {
    let path = nginx_matching_connection_exactly();

    // wspath's own request gets through: the outage is invisible without --as.
    check_path(&path, &[]).assert_healthy();

    let run = check_path(&path, &["--as", "all"]);
    let why = run.describe();
    assert_eq!(run.out.code, Some(1), "{why}");
    assert_eq!(run.doc["as"], "plain", "{why}");
    let culprit = &run.doc["culprit"];
    assert_eq!(culprit["hop"], "edge", "{why}");
    assert_eq!(culprit["as"], "firefox", "{why}");
    assert_eq!(culprit["verdict"], "rejected", "{why}");
    assert!(
        run.summary().contains("Connection: keep-alive, Upgrade"),
        "{why}"
    );
    run.assert_fix_says(&["$http_connection ~* upgrade"]);
    // The hop's main (plain) outcome upgraded; its variants say who was refused.
    let edge = run.hop("edge");
    assert_eq!(edge["verdict"], "upgraded", "{why}");
    let by_browser = |hop: &Value, b: &str| -> Value {
        hop["variants"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["as"] == b).cloned())
            .unwrap_or_else(|| panic!("no {b} variant\n{why}"))
    };
    assert_eq!(by_browser(edge, "firefox")["status"], 400, "{why}");
    assert_eq!(by_browser(edge, "chrome")["verdict"], "upgraded", "{why}");
    assert_eq!(by_browser(edge, "safari")["verdict"], "upgraded", "{why}");
    for b in ["chrome", "firefox", "safari"] {
        assert_eq!(
            by_browser(run.hop("app"), b)["verdict"],
            "upgraded",
            "{why}"
        );
    }
    // The reproduce command is Firefox's, with its Connection header.
    assert!(
        by_browser(edge, "firefox")["curl"]
            .as_str()
            .unwrap_or("")
            .contains("-H 'Connection: keep-alive, Upgrade'"),
        "{why}"
    );

    // The human report says the same, with the Firefox request to reproduce it.
    let out = human(TARGET, &path.pairs(), &["--as", "all"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout.contains("✗ as firefox 400"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("upgrades wspath's plain request but not"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("-H 'Connection: keep-alive, Upgrade'"),
        "{}",
        out.describe()
    );
}

#[test]
fn firefox_headers_reach_the_backend_in_firefoxs_order_and_extensions_are_shown() {
    let backend = Backend::start().expect("backend");
    let run = check(
        &[("app", &backend.addr())],
        &["--as", "firefox", "--echo", "hi"],
    );
    let why = run.describe();
    run.assert_healthy();
    assert_eq!(run.doc["as"], "firefox", "{why}");
    let app = run.hop("app");
    // Python websockets accepts Firefox's offer and says so in its 101.
    assert!(
        app["extensions"]
            .as_str()
            .is_some_and(|e| e.starts_with("permessage-deflate")),
        "{why}"
    );
    // Compressed frames are not checked by the echo, and the report says so.
    assert_eq!(app["echo_ok"], Value::Null, "{why}");
    assert!(
        app["detail"]
            .as_str()
            .unwrap_or("")
            .contains("echo not checked"),
        "{why}"
    );

    let requests = backend.requests();
    let names: Vec<&str> = requests[0]["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h[0].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Host",
            "User-Agent",
            "Accept",
            "Accept-Language",
            "Accept-Encoding",
            "Sec-WebSocket-Version",
            "Origin",
            "Sec-WebSocket-Extensions",
            "Sec-WebSocket-Key",
            "Connection",
            "Sec-Fetch-Dest",
            "Sec-Fetch-Mode",
            "Sec-Fetch-Site",
            "Pragma",
            "Cache-Control",
            "Upgrade"
        ],
        "{}",
        backend.log()
    );
    let connection = requests[0]["headers"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h[0] == "Connection"))
        .map(|h| h[1].clone());
    assert_eq!(connection, Some(Value::from("keep-alive, Upgrade")));
}

#[test]
fn chromes_extension_offer_is_negotiated_through_nginx() {
    let backend = Backend::start().expect("backend");
    let app = WsPath::to("app", &backend.addr(), backend);
    let path = front(app, "proxy", Kind::Nginx, &Setup::good());
    let run = check_path(&path, &["--as", "chrome"]);
    let why = run.describe();
    run.assert_healthy();
    for hop in ["proxy", "app"] {
        let ext = run.hop(hop)["extensions"].as_str().unwrap_or("");
        assert!(
            ext.contains("permessage-deflate") && ext.contains("client_max_window_bits"),
            "{hop}: {ext:?}\n{why}"
        );
    }
    // The plain request offers no extension, so none is enabled.
    let plain = check(&path.pairs()[1..], &[]);
    assert_eq!(
        plain.hop("app")["extensions"],
        Value::Null,
        "{}",
        plain.describe()
    );
}
