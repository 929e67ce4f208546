//! The path Firefox takes: `wspath check` against real TLS hops that speak HTTP/2 — HAProxy 2.6
//! (`alpn h2,http/1.1` advertises RFC 8441 by default), Apache with mod_http2 and
//! `H2WebSockets on`, nginx 1.22 with `http2` (h2 without RFC 8441) — healthy, and broken only
//! for WebSockets over HTTP/2. Every document is validated against the schema by `check`.

use crate::support::check::{check, human, Run};
use crate::support::{Backend, Kind, SelfSigned, Setup, WsPath};

const TARGET: &str = "wss://app.test/ws";

/// `kind` named `name`, terminating TLS for `cert` and offering HTTP/2 (HAProxy: `alpn
/// h2,http/1.1`, which advertises RFC 8441 by default; Apache: mod_http2 with `H2WebSockets
/// on`; nginx: `listen … ssl http2`, without RFC 8441), in front of a backend.
fn h2_path(cert: &SelfSigned, name: &str, kind: Kind, setup: Setup) -> WsPath {
    WsPath::backend(Backend::start().expect("backend"))
        .front(name, kind, &setup.serving_h2(cert))
        .unwrap_or_else(|e| panic!("start {name} with TLS and h2: {e}"))
}

/// Apache whose `/h2-refused` is refused when the request came over HTTP/2 (its
/// `SERVER_PROTOCOL` is `HTTP/2.0`; `%{HTTP2}` is off for mod_http2's WebSockets, which run on
/// an internal HTTP/1.1 connection).
fn apache_h2(cert: &SelfSigned) -> WsPath {
    let setup = Setup::good()
        .directive("RewriteEngine On")
        .directive("RewriteCond %{SERVER_PROTOCOL} ^HTTP/2")
        .directive("RewriteRule ^/h2-refused - [F]");
    h2_path(cert, "apache", Kind::Apache, setup)
}

fn cacert(cert: &SelfSigned) -> String {
    cert.ca.display().to_string()
}

/// The hop's WebSocket over HTTP/2 worked: h2 chosen, RFC 8441 advertised, a 200, a pong.
fn assert_h2_upgraded(run: &Run, hop: &str) {
    let h2 = &run.hop(hop)["http2"];
    let why = run.describe();
    assert_eq!(h2["alpn"], "h2", "{why}");
    assert_eq!(h2["extended_connect"], true, "{why}");
    assert_eq!(h2["verdict"], "upgraded", "{why}");
    assert_eq!(h2["status"], 200, "{why}");
    assert!(h2["ping_rtt_ms"].is_number(), "{why}");
}

/// Exit 1 and the culprit is `hop`'s HTTP/2 path with `verdict`, while its HTTP/1.1 upgrade
/// works.
fn assert_h2_culprit(run: &Run, hop: &str, verdict: &str) {
    let why = run.describe();
    assert_eq!(run.code(), Some(1), "{why}");
    let culprit = &run.doc["culprit"];
    assert_eq!(culprit["hop"], hop, "{why}");
    assert_eq!(culprit["protocol"], "h2", "{why}");
    assert_eq!(culprit["verdict"], verdict, "{why}");
    assert_eq!(run.hop(hop)["verdict"], "upgraded", "{why}");
    assert_eq!(run.hop(hop)["http2"]["verdict"], verdict, "{why}");
    let summary = culprit["summary"].as_str().unwrap_or("");
    assert!(summary.contains("Firefox"), "{why}");
}

#[test]
fn haproxy_h2_frontend_carries_websockets_over_http2() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let path = h2_path(&cert, "lb", Kind::Haproxy, Setup::good());
    let ca = cacert(&cert);
    let run = check(
        TARGET,
        &path.pairs()[..1],
        &["--cacert", &ca, "--echo", "hello"],
    );
    run.assert_healthy();
    assert_h2_upgraded(&run, "lb");
    let h2 = &run.hop("lb")["http2"];
    assert_eq!(h2["echo_ok"], true, "{}", run.describe());
    // The HTTP/1.1 probe still offers only http/1.1.
    assert_eq!(
        run.hop("lb")["tls"]["alpn"],
        "http/1.1",
        "{}",
        run.describe()
    );
    // HAProxy hands the extended CONNECT on as an HTTP/1.1 upgrade: the backend saw both.
    let seen = path.server::<Backend>(1).expect("backend").requests();
    assert!(seen.len() >= 2, "{seen:?}");
}

#[test]
fn haproxy_rule_on_http2_breaks_only_the_h2_path() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let setup =
        Setup::good().front_directive("http-request deny if { req.ver 2.0 } { path_beg /ws }");
    let path = h2_path(&cert, "lb", Kind::Haproxy, setup);
    let lb = &path.pairs()[..1];
    let ca = cacert(&cert);
    let run = check(TARGET, lb, &["--cacert", &ca]);
    assert_h2_culprit(&run, "lb", "rejected");
    let h2 = &run.hop("lb")["http2"];
    assert_eq!(h2["status"], 403, "{}", run.describe());
    assert_eq!(h2["answered_by"], "haproxy", "{}", run.describe());
    let fix = run.doc["culprit"]["fix"].as_str().unwrap_or("");
    assert!(fix.contains("req.ver"), "{}", run.describe());
    assert!(
        fix.contains("h2-workaround-bogus-websocket-clients"),
        "{}",
        run.describe()
    );

    // Human output: the h2 path on its own line beneath the hop, marked as the culprit.
    let human = human(TARGET, lb, &["--cacert", &ca]);
    assert_eq!(human.code, Some(1), "{}", human.describe());
    let h2_line = human
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("✗ h2"))
        .unwrap_or_else(|| panic!("no h2 line\n{}", human.describe()));
    assert!(h2_line.contains("403"), "{}", human.describe());
    assert!(h2_line.contains("← culprit"), "{}", human.describe());

    // --http1-only asks only what wspath asked before: healthy, no http2 field.
    let run = check(TARGET, lb, &["--cacert", &ca, "--http1-only"]);
    run.assert_healthy();
    assert!(run.hop("lb")["http2"].is_null(), "{}", run.describe());
}

#[test]
fn apache_mod_http2_websockets_healthy_and_broken_only_on_h2() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let path = apache_h2(&cert);
    let apache = &path.pairs()[..1];
    let ca = cacert(&cert);
    let run = check(TARGET, apache, &["--cacert", &ca, "--echo", "hello"]);
    run.assert_healthy();
    assert_h2_upgraded(&run, "apache");
    assert_eq!(
        run.hop("apache")["http2"]["echo_ok"],
        true,
        "{}\n{}",
        run.describe(),
        path.proxy(0).expect("apache").log()
    );

    let run = check("wss://app.test/h2-refused", apache, &["--cacert", &ca]);
    assert_h2_culprit(&run, "apache", "rejected");
    assert_eq!(
        run.hop("apache")["http2"]["status"],
        403,
        "{}",
        run.describe()
    );
    let fix = run.doc["culprit"]["fix"].as_str().unwrap_or("");
    assert!(fix.contains("H2WebSockets off"), "{}", run.describe());
}

#[test]
fn nginx_http2_without_rfc_8441_is_not_probed_and_healthy() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let path = h2_path(&cert, "nginx", Kind::Nginx, Setup::good());
    let ca = cacert(&cert);
    let backend_url = format!("ws://{}", path.addr(1));
    let run = check(
        TARGET,
        &[("nginx", path.addr(0)), ("backend", &backend_url)],
        &["--cacert", &ca],
    );
    run.assert_healthy();
    let h2 = &run.hop("nginx")["http2"];
    let why = run.describe();
    assert_eq!(h2["alpn"], "h2", "{why}");
    assert_eq!(h2["extended_connect"], false, "{why}");
    assert!(h2["verdict"].is_null(), "{why}");
    assert!(
        h2["detail"]
            .as_str()
            .is_some_and(|d| d.contains("RFC 8441")),
        "{why}"
    );
    // A plain hop has no HTTP/2 path at all.
    assert!(run.hop("backend")["http2"].is_null(), "{why}");
    // Only the HTTP/1.1 upgrade reached the backend through nginx, and the direct probe.
    let backend: &Backend = path.server(1).expect("backend");
    assert_eq!(backend.requests().len(), 2, "{why}");
}
