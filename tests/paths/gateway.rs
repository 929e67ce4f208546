//! Gateway errors (502/503/504) at a hop whose next hop works when probed directly: the hop's
//! own upstream setting is what is wrong, and the fix must say which setting of THAT software.

use super::*;
use crate::support::nginx::UPGRADE_DIRECTIVES;
use crate::support::{raw, Proxy, SelfSigned};

/// HAProxy `option httpchk` against a WebSocket-only server: `websockets` answers the plain
/// health-check GET with 426, HAProxy marks the server down and answers 503 "No server is
/// available", although the backend upgrades fine.
#[test]
fn haproxy_health_check_failing_against_a_websocket_only_backend() {
    let setup = Setup::good()
        .directive("option httpchk GET /health")
        .directive("default-server check inter 100ms fall 1 rise 1");
    let path = front(backend_path(), "lb", Kind::Haproxy, &setup);
    let lb_port = path.proxy(0).expect("lb").port;
    wait_for("HAProxy marks the server down", || {
        raw::handshake(lb_port, "app.test", "/ws", Duration::from_secs(2))
            .is_ok_and(|r| r.status == 503)
    });
    let run = check_path(&path, &[]);
    run.assert_culprit("lb", "service_unavailable");
    run.assert_hop("lb", "answered_by", "haproxy");
    run.assert_upgraded("backend");
    run.assert_fix_says(&["upgrades when probed directly", "httpchk", path.addr(1)]);
}

/// nginx `proxy_pass` to a port where nothing listens while the real backend is up: nginx's
/// 502 is its own upstream setting, not a dead backend.
#[test]
fn nginx_proxy_pass_to_the_wrong_port_while_the_backend_works() {
    let backend = backend_path();
    let wrong = closed_port().expect("port");
    let nginx = proxy(Kind::Nginx, &format!("127.0.0.1:{wrong}"), &Setup::good());
    let run = check(
        &[("nginx", &nginx.addr()), ("backend", backend.addr(0))],
        &[],
    );
    run.assert_culprit("nginx", "bad_gateway");
    run.assert_fix_says(&["proxy_pass", backend.addr(0), "error.log"]);
}

/// nginx proxies over plain HTTP to a TLS port (`proxy_pass http://` where `https://` was
/// meant): the inner nginx answers 400 "The plain HTTP request was sent to HTTPS port" and
/// the outer one passes it on. The fix is the outer hop's `proxy_pass` scheme, not "use wss://
/// for this hop" (the hop IS probed the right way).
#[test]
fn nginx_proxy_pass_plain_http_to_a_tls_upstream() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let path = front(
        backend_path(),
        "tls",
        Kind::Nginx,
        &Setup::good().serving_tls(&cert),
    );
    let path = front(path, "nginx", Kind::Nginx, &Setup::good());
    let ca = cert.ca.display().to_string();
    let run = check_path(&path, &["--cacert", &ca]);
    run.assert_culprit("nginx", "rejected");
    run.assert_hop("nginx", "status", 400);
    run.assert_hop("tls", "verdict", "upgraded");
    run.assert_fix_says(&["proxy_pass https://"]);
}

/// HAProxy `timeout server 1s` in front of an application that takes 2 s to answer the
/// handshake: the 504 is HAProxy's timeout being shorter than the handshake, and the fix is
/// that timeout (`timeout tunnel` only applies after the 101), not "check the service".
#[test]
fn haproxy_timeout_server_shorter_than_a_slow_handshake() {
    let setup = Setup::good().directive("timeout server 1s");
    let path = front(App::path(&["--delay", "2"]), "lb", Kind::Haproxy, &setup);
    let run = check_path(&path, &[]);
    run.assert_culprit("lb", "gateway_timeout");
    run.assert_hop("app", "verdict", "upgraded");
    run.assert_fix_says(&[
        "only after 2.",
        "gave up after 1.",
        "raise `timeout server`",
    ]);
}

/// HAProxy sends its traffic to a good nginx; the standby nginx (a `backup` server) lacks the
/// upgrade headers. Probed directly the standby breaks, while the path through HAProxy works
/// today: the culprit is the standby, and the sentence says HAProxy upgrades nonetheless, so
/// the break hits only the traffic that reaches that server (today: none; after a failover:
/// all).
#[test]
fn a_broken_standby_behind_a_working_load_balancer() {
    let backend = backend_path();
    let good = proxy(Kind::Nginx, backend.addr(0), &Setup::good());
    let standby = proxy(Kind::Nginx, backend.addr(0), &Setup::no_websocket());
    let backup = format!("server s2 {} backup", standby.addr());
    let lb = proxy(
        Kind::Haproxy,
        &good.addr(),
        &Setup::good().directive(&backup),
    );
    let run = check(
        &[
            ("lb", &lb.addr()),
            ("standby", &standby.addr()),
            ("backend", backend.addr(0)),
        ],
        &[],
    );
    run.assert_culprit("standby", "upgrade_stripped");
    run.assert_hop("lb", "verdict", "upgraded");
    run.assert_summary_says(&[&format!(
        "yet lb in front upgrades, so traffic through it does not always reach standby at {}",
        standby.addr()
    )]);
}

/// nginx rewrites `/ws` to `/` (`proxy_pass http://backend/;`), and the backend serves its
/// WebSocket at `/` only. The path works; the backend probed with the target's path answers
/// 404. wspath must not send the user after "nothing serves this path": nginx in front upgrades,
/// so the backend is sent another path, and the fix is to probe it with that path.
#[test]
fn a_path_rewritten_by_nginx_is_not_a_missing_route() {
    let backend = Backend::start_with(&[("/ws", 404)]).expect("backend");
    let path = crate::check::front_nginx(WsPath::backend(backend), |b| {
        format!("location /ws {{ proxy_pass http://{b}/; {UPGRADE_DIRECTIVES} }}")
    });
    let run = check_path(&path, &[]);
    run.assert_culprit("backend", "rejected");
    run.assert_hop("nginx", "verdict", "upgraded");
    run.assert_summary_says(&[
        "yet nginx in front upgrades, so what reaches backend through it differs",
    ]);
    let suggested = format!("--hop backend=ws://{}/PATH", path.addr(1));
    let sent = "(this probe sent ws://app.test/ws)";
    run.assert_fix_says(&["path nginx really sends it", &suggested, sent]);
    let rewritten = format!("ws://{}/", path.addr(1));
    check(&[("nginx", path.addr(0)), ("backend", &rewritten)], &[]).assert_healthy();
}

/// nginx proxies to a TLS nginx that serves only named hosts (`ssl_reject_handshake on` in the
/// default server), without `proxy_ssl_server_name on`: no SNI, the handshake is refused, 502.
/// Probed directly (wspath sends the target's SNI) the TLS hop upgrades, so the fix is the
/// front nginx's SNI setting; with it the path works.
#[test]
fn nginx_to_a_tls_upstream_without_sni() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let named = Setup::good().serving_tls(&cert).named_only();
    let tls = front(backend_path(), "tls", Kind::Nginx, &named);
    let path = front(tls, "nginx", Kind::Nginx, &Setup::tls_upstream());
    let ca = cert.ca.display().to_string();
    let run = check(&path.pairs()[..2], &["--cacert", &ca]);
    run.assert_culprit("nginx", "bad_gateway");
    run.assert_hop("tls", "verdict", "upgraded");
    run.assert_fix_says(&["proxy_ssl_server_name on", "proxy_ssl_name $host"]);

    let sni = Setup::tls_upstream()
        .directive("proxy_ssl_server_name on;")
        .directive("proxy_ssl_name $host;");
    let fixed = proxy(Kind::Nginx, path.addr(1), &sni);
    check(
        &[("nginx", &fixed.addr()), path.pairs()[1]],
        &["--cacert", &ca],
    )
    .assert_healthy();
}

/// The same kind of name-based upstream, reached with nginx's default `Host: $proxy_host`
/// (`127.0.0.1:PORT`): the upstream routes by Host to its default server and answers 404,
/// which the front nginx passes on. The upstream probed with the target's Host upgrades, so
/// the fix names the Host nginx sends.
#[test]
fn nginx_sending_its_proxy_host_to_a_name_based_upstream() {
    let named = front(
        backend_path(),
        "vhost",
        Kind::Nginx,
        &Setup::good().named_only(),
    );
    let path = front(named, "nginx", Kind::Nginx, &Setup::no_preserve_host());
    let run = check(&path.pairs()[..2], &[]);
    run.assert_culprit("nginx", "rejected");
    run.assert_hop("vhost", "verdict", "upgraded");
    run.assert_fix_says(&["proxy_set_header Host $host;"]);
}

/// nginx proxies to an address that accepts and never answers (a hung instance), with the
/// default 60 s `proxy_read_timeout`: wspath's own 2 s timeout ends first. The backend listed
/// behind answers at once, so the fix is nginx's upstream address, not "is it an HTTP server".
#[test]
fn nginx_waiting_on_a_hung_upstream_while_the_backend_answers() {
    let hung = App::start(&["--delay", "60"]);
    let backend = backend_path();
    let nginx = proxy(Kind::Nginx, &hung.addr(), &Setup::good());
    let run = check(
        &[("nginx", &nginx.addr()), ("backend", backend.addr(0))],
        &["--timeout", "2s"],
    );
    run.assert_culprit("nginx", "timeout");
    run.assert_fix_says(&[
        "`proxy_pass` leads somewhere that does not answer",
        backend.addr(0),
    ]);
}

/// HAProxy in `mode tcp` whose server is down closes each connection without a byte, while
/// the nginx it should reach works: the fix is its server line, not "does it speak HTTP".
#[test]
fn haproxy_in_tcp_mode_with_its_server_elsewhere() {
    let nginx = front(backend_path(), "nginx", Kind::Nginx, &Setup::good());
    let wrong = closed_port().expect("port");
    let lb = Proxy::start(Kind::Haproxy, |_, port| {
        format!(
            "{global}
defaults
    mode tcp
    timeout connect 300ms
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server s1 127.0.0.1:{wrong}
",
            global = crate::support::haproxy::GLOBAL
        )
    })
    .expect("start haproxy");
    let run = check(&[("lb", &lb.addr()), ("nginx", nginx.addr(0))], &[]);
    run.assert_culprit("lb", "no_response");
    run.assert_fix_says(&["`mode tcp`", nginx.addr(0)]);
    assert_eq!(
        run.summary().matches("without answering").count(),
        1,
        "said once\n{}",
        run.describe()
    );
}
