//! Proves the support servers behave as the check tests assume (real answers, real idle cuts),
//! independently of wspath's own probe.

use super::raw::{handshake, send, EXPECTED_ACCEPT};
use super::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

fn proxy_location(backend: &Backend, extra: &str) -> impl Fn(u16) -> String {
    let b = backend.addr();
    let extra = extra.to_string();
    move |port| {
        format!(
            "{}server {{ listen 127.0.0.1:{port}; server_name app.test;
                location / {{ proxy_pass http://{b}; {extra} }} }}",
            nginx::CONNECTION_UPGRADE_MAP
        )
    }
}

#[test]
fn ports_are_distinct_and_closed_ports_time_out() {
    let a = free_port().unwrap();
    let b = free_port().unwrap();
    assert_ne!(a, b);
    let err = wait_for_port(a, Duration::from_millis(150)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn backend_upgrades_and_answers_426_and_505() {
    let backend = Backend::start().unwrap();
    let r = handshake(backend.port, "app.test", "/any/path", T).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    assert_eq!(r.header("sec-websocket-accept"), Some(EXPECTED_ACCEPT));

    let r = send(backend.port, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n", T).unwrap();
    assert_eq!(r.status, 426, "{}{}", r.head, r.body);
    assert!(r.body.contains("missing Connection header"), "{}", r.body);

    let r = send(backend.port, "GET / HTTP/1.0\r\nHost: app.test\r\n\r\n", T).unwrap();
    assert_eq!(r.status, 505, "{}{}", r.head, r.body);
    assert!(r.body.contains("HTTP/1.0"), "{}", r.body);

    let seen = backend.requests();
    assert!(seen.iter().any(|r| r["path"] == "/any/path"), "{seen:?}");
}

#[test]
fn backend_rejects_configured_paths() {
    let backend = Backend::start_with(&[("/private", 403)]).unwrap();
    let r = handshake(backend.port, "app.test", "/private", T).unwrap();
    assert_eq!(r.status, 403, "{}", r.head);
    let r = handshake(backend.port, "app.test", "/public", T).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
}

#[test]
fn nginx_with_only_proxy_pass_passes_the_backends_505() {
    let backend = Backend::start().unwrap();
    let nginx = Nginx::start(proxy_location(&backend, "")).unwrap();
    let r = handshake(nginx.port, "app.test", "/ws", T).unwrap();
    assert_eq!(r.status, 505, "{}{}", r.head, r.body);
    assert!(r.head.contains("nginx"), "{}", r.head);
    // nginx writes the access log line after the response, so it may lag the client.
    let logged = super::ports::wait_until(T, || nginx.access_log().contains("/ws"));
    assert!(logged.is_ok(), "{}", nginx.access_log());
}

#[test]
fn nginx_with_upgrade_headers_upgrades() {
    let backend = Backend::start().unwrap();
    let nginx = Nginx::start(proxy_location(
        &backend,
        "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; \
         proxy_set_header Connection $connection_upgrade;",
    ))
    .unwrap();
    let r = handshake(nginx.port, "app.test", "/ws", T).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    assert_eq!(r.header("sec-websocket-accept"), Some(EXPECTED_ACCEPT));
    // Host is passed through as the client sent it only when asked; the backend saw the path.
    assert!(backend.requests().iter().any(|r| r["path"] == "/ws"));
}

#[test]
fn nginx_logs_an_idle_cut_at_info() {
    let backend = Backend::start().unwrap();
    let nginx = Nginx::start(proxy_location(
        &backend,
        "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; \
         proxy_set_header Connection $connection_upgrade; proxy_read_timeout 1s;",
    ))
    .unwrap();
    let mut r = handshake(nginx.port, "app.test", "/ws", T).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    let closed = r
        .wait_closed(T)
        .unwrap()
        .expect("nginx cuts the idle tunnel");
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    let log = nginx.error_log();
    assert!(log.contains("timed out"), "{log}");
}

#[test]
fn haproxy_without_timeout_tunnel_cuts_idle_websockets_at_client_server_timeout() {
    let backend = Backend::start().unwrap();
    let short = Haproxy::start(|port| {
        haproxy::http_proxy(
            port,
            &backend.addr(),
            "timeout connect 2s\n    timeout client 1s\n    timeout server 1s",
        )
    })
    .unwrap();
    let mut r = handshake(short.port, "app.test", "/ws", T).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    let closed = r
        .wait_closed(T)
        .unwrap()
        .expect("haproxy cuts the idle tunnel");
    assert!(
        closed >= Duration::from_millis(900) && closed < Duration::from_millis(3000),
        "{closed:?}"
    );

    let long = Haproxy::start(|port| {
        haproxy::http_proxy(
            port,
            &backend.addr(),
            "timeout connect 2s\n    timeout client 1s\n    timeout server 1s\n    timeout tunnel 1h",
        )
    })
    .unwrap();
    let mut r = handshake(long.port, "app.test", "/ws", T).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    assert_eq!(r.wait_closed(Duration::from_millis(2500)).unwrap(), None);
}

#[test]
fn nginx_t_accepts_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.conf");
    std::fs::write(
        &good,
        nginx::main_config(dir.path(), "server { listen 127.0.0.1:1; return 204; }"),
    )
    .unwrap();
    let out = nginx_t(&good, dir.path()).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, nginx::main_config(dir.path(), "server { listen; }")).unwrap();
    let out = nginx_t(&bad, dir.path()).unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.conf"));
}

#[test]
fn stopping_a_server_frees_its_port() {
    let mut backend = Backend::start().unwrap();
    assert!(ports::port_open(backend.port));
    backend.stop();
    assert!(!ports::port_open(backend.port));
}

#[test]
fn nginx_serves_tls_with_a_test_certificate() {
    let cert = SelfSigned::new("app.test").unwrap();
    let nginx = Nginx::start(|port| {
        format!(
            "server {{ listen 127.0.0.1:{port} ssl; server_name app.test;
                ssl_certificate {}; ssl_certificate_key {}; return 204; }}",
            cert.cert.display(),
            cert.key.display()
        )
    })
    .unwrap();
    // A plain-text request to a TLS port gets nginx's 400 "plain HTTP request was sent to HTTPS port".
    let r = send(nginx.port, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n", T).unwrap();
    assert_eq!(r.status, 400, "{}", r.head);
    assert!(r.body.contains("HTTPS"), "{}", r.body);
}

#[test]
fn cli_runs_the_built_binary() {
    let out = cli::wspath(&["--version"], T).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(out.stdout.contains("wspath"), "{}", out.describe());
}

/// Every proxy kind, set up well, carries the upgrade to the backend; set up without its
/// WebSocket setting, it does not (tinyproxy never does).
#[test]
fn every_proxy_kind_starts_in_front_of_a_backend() {
    for kind in Kind::ALL {
        let path = WsPath::backend(Backend::start().unwrap())
            .front("proxy", kind, &Setup::good())
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let port = path.proxy(0).unwrap().port;
        let r = handshake(port, "app.test", "/ws", T).unwrap();
        let expected = if kind == Kind::Tinyproxy { 426 } else { 101 };
        assert_eq!(r.status, expected, "{kind:?}: {}", r.head);
        assert_eq!(path.hops().len(), 2);
        assert!(path.hops()[0].starts_with("proxy=127.0.0.1:"));
    }
}

#[test]
fn proxies_without_their_websocket_setting_strip_the_upgrade() {
    for kind in Kind::ALL {
        let path = WsPath::backend(Backend::start().unwrap())
            .front("proxy", kind, &Setup::no_websocket())
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let r = handshake(path.proxy(0).unwrap().port, "app.test", "/ws", T).unwrap();
        assert_ne!(r.status, 101, "{kind:?}: {}", r.head);
    }
}

#[test]
fn proxies_that_do_not_preserve_host_meet_a_virtual_host_403() {
    for kind in [
        Kind::Nginx,
        Kind::Apache,
        Kind::H2o,
        Kind::Squid,
        Kind::Caddy,
    ] {
        let path = WsPath::backend(Backend::start_for_host("app.test").unwrap())
            .front("proxy", kind, &Setup::no_preserve_host())
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let r = handshake(path.proxy(0).unwrap().port, "app.test", "/ws", T).unwrap();
        assert_eq!(r.status, 403, "{kind:?}: {}", r.head);
        let path = WsPath::backend(Backend::start_for_host("app.test").unwrap())
            .front("proxy", kind, &Setup::good())
            .unwrap();
        let r = handshake(path.proxy(0).unwrap().port, "app.test", "/ws", T).unwrap();
        assert_eq!(r.status, 101, "{kind:?}: {}", r.head);
    }
}
