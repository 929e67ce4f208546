//! The path Firefox takes: `wspath check` against real TLS hops that speak HTTP/2 — HAProxy 2.6
//! (`alpn h2,http/1.1` advertises RFC 8441 by default), Apache with mod_http2 and
//! `H2WebSockets on`, nginx 1.22 with `http2` (h2 without RFC 8441) — healthy, and broken only
//! for WebSockets over HTTP/2. Every document is validated against the schema by `check`.

use crate::check::{check, wspath, Run, LONG_TUNNEL};
use crate::support::proxy::{Kind, Proxy};
use crate::support::{haproxy, nginx, Backend, Haproxy, Nginx, SelfSigned};

const TARGET: &str = "wss://app.test/ws";

/// HAProxy terminating TLS with `alpn h2,http/1.1` in front of `backend`; `rules` go in the
/// frontend.
fn haproxy_h2(cert: &SelfSigned, backend: &str, rules: &str) -> Haproxy {
    let (crt, backend, rules) = (
        cert.combined.display().to_string(),
        backend.to_string(),
        rules.to_string(),
    );
    Haproxy::start(move |port| {
        format!(
            "{global}
defaults
    mode http
    log global
    {LONG_TUNNEL}

frontend fe
    bind 127.0.0.1:{port} ssl crt {crt} alpn h2,http/1.1
    {rules}
    default_backend be

backend be
    server s1 {backend}
",
            global = haproxy::GLOBAL
        )
    })
    .expect("start haproxy with TLS and h2")
}

/// Apache 2.4 terminating TLS with mod_http2 (`Protocols h2 http/1.1`, `H2WebSockets on`) and
/// proxying WebSockets with mod_proxy_wstunnel (`upgrade=websocket`). `/h2-refused` is refused
/// when the request came over HTTP/2 (its `SERVER_PROTOCOL` is `HTTP/2.0`; `%{HTTP2}` is off
/// for mod_http2's WebSockets, which run on an internal HTTP/1.1 connection).
fn apache_h2(cert: &SelfSigned, backend: &str) -> Proxy {
    let (crt, key, backend) = (
        cert.cert.display().to_string(),
        cert.key.display().to_string(),
        backend.to_string(),
    );
    Proxy::start(Kind::Apache, move |dir, port| {
        let d = dir.display();
        let m = "/usr/lib/apache2/modules";
        let mut conf = format!(
            "ServerRoot {d}
PidFile {d}/httpd.pid
DefaultRuntimeDir {d}
Mutex file:{d} default
ErrorLog {d}/error.log
LogLevel warn
Listen 127.0.0.1:{port}
ServerName app.test
"
        );
        for name in [
            "mpm_event",
            "authz_core",
            "proxy",
            "proxy_http",
            "proxy_wstunnel",
            "rewrite",
            "socache_shmcb",
            "ssl",
            "http2",
        ] {
            conf.push_str(&format!("LoadModule {name}_module {m}/mod_{name}.so\n"));
        }
        if is_root() {
            conf.push_str("User daemon\nGroup daemon\n");
        }
        conf.push_str(&format!(
            "SSLEngine on
SSLCertificateFile {crt}
SSLCertificateKeyFile {key}
Protocols h2 http/1.1
H2WebSockets on
ProxyPreserveHost On
RewriteEngine On
RewriteCond %{{SERVER_PROTOCOL}} ^HTTP/2
RewriteRule ^/h2-refused - [F]
ProxyPass / http://{backend}/ upgrade=websocket
"
        ));
        conf
    })
    .expect("start apache with mod_http2")
}

/// As root, Apache's children would run as uid -1: they need a `User`.
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
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
    let backend = Backend::start().expect("backend");
    let lb = haproxy_h2(&cert, &backend.addr(), "");
    let ca = cacert(&cert);
    let run = check(
        TARGET,
        &[("lb", &lb.addr())],
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
    let seen = backend.requests();
    assert!(seen.len() >= 2, "{seen:?}");
}

#[test]
fn haproxy_rule_on_http2_breaks_only_the_h2_path() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let backend = Backend::start().expect("backend");
    let lb = haproxy_h2(
        &cert,
        &backend.addr(),
        "http-request deny if { req.ver 2.0 } { path_beg /ws }",
    );
    let ca = cacert(&cert);
    let run = check(TARGET, &[("lb", &lb.addr())], &["--cacert", &ca]);
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
    let addr = format!("lb={}", lb.addr());
    let human = wspath(&["check", TARGET, "--hop", &addr, "--cacert", &ca]);
    assert_eq!(human.code, Some(1), "{}", human.describe());
    let h2_line = human
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("✗ h2"))
        .unwrap_or_else(|| panic!("no h2 line\n{}", human.describe()));
    assert!(h2_line.contains("403"), "{}", human.describe());
    assert!(h2_line.contains("← culprit"), "{}", human.describe());

    // --http1-only asks only what wspath asked before: healthy, no http2 field.
    let run = check(
        TARGET,
        &[("lb", &lb.addr())],
        &["--cacert", &ca, "--http1-only"],
    );
    run.assert_healthy();
    assert!(run.hop("lb")["http2"].is_null(), "{}", run.describe());
}

#[test]
fn apache_mod_http2_websockets_healthy_and_broken_only_on_h2() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let backend = Backend::start().expect("backend");
    let apache = apache_h2(&cert, &backend.addr());
    let ca = cacert(&cert);
    let run = check(
        TARGET,
        &[("apache", &apache.addr())],
        &["--cacert", &ca, "--echo", "hello"],
    );
    run.assert_healthy();
    assert_h2_upgraded(&run, "apache");
    assert_eq!(
        run.hop("apache")["http2"]["echo_ok"],
        true,
        "{}\n{}",
        run.describe(),
        apache.log()
    );

    let run = check(
        "wss://app.test/h2-refused",
        &[("apache", &apache.addr())],
        &["--cacert", &ca],
    );
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
    let backend = Backend::start().expect("backend");
    let (crt, key, b) = (
        cert.cert.display().to_string(),
        cert.key.display().to_string(),
        backend.addr(),
    );
    let nginx = Nginx::start(move |port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port} ssl http2;
    server_name app.test;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    location / {{
        proxy_pass http://{b};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("start nginx with http2");
    let ca = cacert(&cert);
    let backend_url = format!("ws://{}", backend.addr());
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &backend_url)],
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
    assert_eq!(backend.requests().len(), 2, "{why}");
}
