//! Broken paths a second field pass found misdiagnosed (/work/qa-paths.md), each on the real
//! servers broken the way their users break them, with hops named generically: the culprit,
//! its verdict and software, and the words of the fix that name the cause the answer shows.

use super::{assert_software, backend};
use crate::paths::{check_path, App};
use crate::support::hostile::{self, Peer};
use crate::support::{raw, Backend, Kind, SelfSigned, Setup, WsPath};
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use wspath::probe::request::accept_key;

/// A fix that names none of `words`.
fn assert_fix_does_not_say(r: &crate::paths::Run, words: &str) {
    assert!(
        !r.fix().contains(words),
        "the fix should not say {words:?}\n{}",
        r.describe()
    );
}

#[test]
fn tinyproxy_unable_to_connect_passes_the_down_backend_on() {
    // tinyproxy answers a refused upstream with its own "500 Unable to connect" page: a gateway
    // error, so the backend that refuses is the culprit, not tinyproxy "rejecting the upgrade".
    let mut p = WsPath::backend(backend())
        .front("proxy", Kind::Tinyproxy, &Setup::good())
        .expect("start tinyproxy");
    p.server_mut::<Backend>(1).expect("the backend").stop();
    let r = check_path(&p, &[]);
    r.assert_culprit("backend", "connect_refused");
    r.assert_consequence("proxy");
    r.assert_hop("proxy", "verdict", "bad_gateway");
    r.assert_hop("proxy", "status", 500);
    assert_software(&r, "proxy", "tinyproxy");
}

#[test]
fn a_rate_limit_is_named_as_one() {
    // nginx `limit_req` at 1r/m with `limit_req_status 429`: the request before wspath's takes
    // the one allowed, so the upgrade gets 429, which is a rate limit, not a missing route.
    let setup = Setup::good()
        .front_directive("limit_req zone=ws;")
        .front_directive("limit_req_status 429;");
    let p = WsPath::backend(backend())
        .front_with("proxy", Kind::Nginx, move |dir, port, inner| {
            let healthy = Kind::Nginx
                .config(dir, port, inner, &setup)
                .expect("nginx config");
            healthy.replace(
                "map $http_upgrade",
                "limit_req_zone $binary_remote_addr zone=ws:1m rate=1r/m;\nmap $http_upgrade",
            )
        })
        .expect("start nginx");
    let port: u16 = p.addr(0).rsplit_once(':').unwrap().1.parse().unwrap();
    let first = raw::send(
        port,
        &raw::upgrade_request("app.test", "/ws"),
        Duration::from_secs(5),
    )
    .expect("the request before");
    assert_eq!(first.status, 101, "{}", first.head);
    let r = check_path(&p, &[]);
    r.assert_culprit("proxy", "rejected");
    r.assert_hop("proxy", "status", 429);
    assert_software(&r, "proxy", "nginx");
    r.assert_fix_says(&["`limit_req`", "burst="]);
    assert_fix_does_not_say(&r, "route WebSocket upgrades");
}

#[test]
fn proxy_authentication_on_a_reverse_proxy_is_named() {
    // tinyproxy `BasicAuth` answers 407 in reverse mode too; browsers never answer that.
    let p = WsPath::backend(backend())
        .front(
            "proxy",
            Kind::Tinyproxy,
            &Setup::good().directive("BasicAuth alice s3cret"),
        )
        .expect("start tinyproxy");
    let r = check_path(&p, &[]);
    r.assert_culprit("proxy", "rejected");
    r.assert_hop("proxy", "status", 407);
    assert_software(&r, "proxy", "tinyproxy");
    r.assert_fix_says(&["`BasicAuth`", "407"]);
    assert_fix_does_not_say(&r, "route WebSocket upgrades");
}

#[test]
fn a_subprotocol_dropped_on_the_way_is_named_with_the_softwares_directive() {
    // The application needs the subprotocol `chat`; wspath offers it, and the proxy deletes
    // Sec-WebSocket-Protocol, so the application says "missing subprotocol" through the proxy
    // while it upgrades when probed directly.
    for (kind, line, says) in [
        (
            Kind::Haproxy,
            "http-request del-header Sec-WebSocket-Protocol",
            "`http-request del-header Sec-WebSocket-Protocol`",
        ),
        (
            Kind::Apache,
            "RequestHeader unset Sec-WebSocket-Protocol",
            "`RequestHeader unset Sec-WebSocket-Protocol`",
        ),
    ] {
        let p = App::path(&["--subprotocol", "chat"])
            .front("lb", kind, &Setup::good().directive(line))
            .unwrap_or_else(|e| panic!("start {kind:?}: {e}"));
        let r = check_path(&p, &["--protocol", "chat"]);
        r.assert_culprit("lb", "rejected");
        r.assert_upgraded("app");
        assert_software(&r, "lb", kind.name());
        r.assert_summary_says(&["drops or rewrites Sec-WebSocket-Protocol"]);
        r.assert_fix_says(&[says]);
        // The subprotocol was offered: the fix does not ask for one.
        assert_fix_does_not_say(&r, "probe with `--protocol NAME`");
    }
}

/// `kind`'s healthy config (with `setup`) in front of the inner hop, changed by
/// `edit(config, inner)`.
fn edited(
    kind: Kind,
    setup: Setup,
    edit: impl Fn(String, &str) -> String,
) -> impl Fn(&Path, u16, &str) -> String {
    move |dir, port, inner| {
        let good = kind.config(dir, port, inner, &setup).expect("a config");
        let changed = edit(good.clone(), inner);
        assert_ne!(changed, good, "the edit for {kind:?} changed nothing");
        changed
    }
}

#[test]
fn tls_verification_failing_inside_the_proxy_names_its_trust_settings() {
    // The hop behind serves TLS with a private CA's certificate (wspath is given that CA); the
    // proxy verifies it against the system roots, so its handshake fails and it answers a
    // gateway error: the fix is the proxy's trust setting, not its upstream address.
    let cert = SelfSigned::new("app.test").expect("certificate");
    let roots = "/etc/ssl/certs/ca-certificates.crt";
    let cases: [(Kind, Setup, &str, &str, &[&str]); 3] = [
        (
            Kind::Nginx,
            Setup::tls_upstream()
                .directive("proxy_ssl_verify on;")
                .directive(&format!("proxy_ssl_trusted_certificate {roots};")),
            "bad_gateway",
            "nginx",
            &["`proxy_ssl_trusted_certificate`", "`proxy_ssl_name"],
        ),
        (
            Kind::Haproxy,
            Setup::tls_upstream(),
            "service_unavailable",
            "haproxy",
            &["`ca-file`", "`verifyhost`"],
        ),
        (
            Kind::Apache,
            Setup::tls_upstream(),
            "bad_gateway",
            "apache",
            &["`SSLProxyCACertificateFile`", "`SSLProxyCheckPeerName on`"],
        ),
    ];
    for (kind, setup, verdict, software, says) in cases {
        let config = edited(kind, setup, |c, _| {
            c.replace(
                " ssl verify none",
                &format!(" ssl verify required ca-file {roots}"),
            )
            .replace("SSLProxyVerify none", "SSLProxyVerify require")
            .replace(
                "SSLProxyCheckPeerName off",
                &format!("SSLProxyCheckPeerName on\nSSLProxyCACertificateFile {roots}"),
            )
            // nginx: the verify lines are the test's own directives.
            .replace("proxy_ssl_verify on;", "proxy_ssl_verify on;\n")
        });
        let p = WsPath::backend(backend())
            .front("tls", Kind::Nginx, &Setup::good().serving_tls(&cert))
            .expect("start the TLS hop")
            .front_with("gw", kind, config)
            .unwrap_or_else(|e| panic!("start {kind:?}: {e}"));
        let ca = cert.ca.display().to_string();
        let r = check_path(&p, &["--cacert", &ca]);
        r.assert_culprit("gw", verdict);
        r.assert_upgraded("tls");
        assert_software(&r, "gw", software);
        r.assert_fix_says(&["speaks TLS"]);
        r.assert_fix_says(says);
        assert_fix_does_not_say(&r, "speaks plain HTTP (use http://");
    }
}

#[test]
fn a_host_no_virtual_host_serves_is_named_in_each_softwares_words() {
    // Each proxy serves the WebSocket for another name only; app.test reaches its default.
    // nginx: `server_name www.app.test`, and the default server answers 404 itself.
    let nginx = |dir: &Path, port: u16, inner: &str| {
        use crate::support::nginx::{main_config, CONNECTION_UPGRADE_MAP, UPGRADE_DIRECTIVES};
        main_config(
            dir,
            &format!(
                "{CONNECTION_UPGRADE_MAP}server {{ listen 127.0.0.1:{port} default_server; root {d}; }}
server {{
    listen 127.0.0.1:{port};
    server_name www.app.test;
    location / {{ proxy_pass http://{inner}; {UPGRADE_DIRECTIVES} }}
}}
",
                d = dir.display()
            ),
        )
    };
    // Apache: the first <VirtualHost> (a document root) answers every unlisted name.
    let apache = edited(Kind::Apache, Setup::good(), |c, inner| {
        let port = c
            .lines()
            .find_map(|l| l.strip_prefix("Listen 127.0.0.1:"))
            .expect("Listen")
            .to_string();
        c.replace(
            &format!("ProxyPass / http://{inner}/ upgrade=websocket\n"),
            &format!(
                "<VirtualHost 127.0.0.1:{port}>\nServerName www.other.test\n</VirtualHost>\n\
                 <VirtualHost 127.0.0.1:{port}>\nServerName chat.test\n\
                 ProxyPass / http://{inner}/ upgrade=websocket\n</VirtualHost>\n"
            ),
        )
    });
    // Caddy: a site address for chat.test only; Caddy answers other names an empty 200.
    let caddy = edited(Kind::Caddy, Setup::good(), |c, _| {
        c.replace("http://:", "http://chat.test:")
    });
    let paths = [
        (
            Kind::Nginx,
            WsPath::backend(backend()).front_with("web", Kind::Nginx, nginx),
            404,
            &["`server_name`", "`default_server`"][..],
        ),
        (
            Kind::Apache,
            WsPath::backend(backend()).front_with("web", Kind::Apache, apache),
            404,
            &["`<VirtualHost>`", "`ServerName`"][..],
        ),
        (
            Kind::Caddy,
            WsPath::backend(backend()).front_with("web", Kind::Caddy, caddy),
            200,
            &["empty 200", "site block", "app.test"][..],
        ),
    ];
    for (kind, p, status, says) in paths {
        let p = p.unwrap_or_else(|e| panic!("start {kind:?}: {e}"));
        let r = check_path(&p, &[]);
        r.assert_culprit("web", "rejected");
        r.assert_hop("web", "status", status);
        assert_software(&r, "web", kind.name());
        r.assert_fix_says(says);
    }
}

#[test]
fn an_application_that_hangs_up_right_after_the_101_is_told_so() {
    // The application answers a valid 101 and closes the TCP connection at once, without a
    // close frame; HAProxy passes that on. Its handler ended: not "does not answer pings".
    let app = Peer::start(|mut tcp| {
        let key = hostile::read_request(&mut tcp);
        let _ = tcp.write_all(hostile::switching(&accept_key(&key)).as_bytes());
    })
    .expect("start the application");
    let addr = app.address();
    let p = WsPath::to("app", &addr, app)
        .front("lb", Kind::Haproxy, &Setup::good())
        .expect("start HAProxy");
    let r = check_path(&p, &[]);
    r.assert_culprit("app", "frames_failed");
    r.assert_consequence("lb");
    r.assert_fix_says(&["closed the connection without a close frame", "its log"]);
    assert_fix_does_not_say(&r, "event loop is not blocked");
}

#[test]
fn haproxy_queueing_at_a_servers_maxconn_names_maxconn() {
    // `maxconn 1` on the server and one WebSocket open: the next upgrade waits in the queue
    // until `timeout queue` and gets 503, while the backend itself upgrades at once.
    let config = edited(Kind::Haproxy, Setup::good(), |c, inner| {
        c.replace(
            &format!("server s1 {inner}"),
            &format!("timeout queue 2s\n    server s1 {inner} maxconn 1"),
        )
    });
    let p = WsPath::backend(backend())
        .front_with("lb", Kind::Haproxy, config)
        .expect("start HAProxy");
    let port: u16 = p.addr(0).rsplit_once(':').unwrap().1.parse().unwrap();
    let held = raw::send(
        port,
        &raw::upgrade_request("app.test", "/ws"),
        Duration::from_secs(5),
    )
    .expect("the WebSocket that holds the slot");
    assert_eq!(held.status, 101, "{}", held.head);
    let r = check_path(&p, &[]);
    r.assert_culprit("lb", "service_unavailable");
    r.assert_upgraded("backend");
    assert_software(&r, "lb", "haproxy");
    r.assert_fix_says(&["`maxconn`", "`timeout queue`"]);
    drop(held);
}

#[test]
fn a_subprotocol_the_application_does_not_take_is_not_called_missing() {
    // The application takes `chat`; wspath offers `graphql-ws` through HAProxy and nginx. Its
    // 400 names what it takes: the fix is the name, not "probe with `--protocol NAME`".
    let p = App::path(&["--subprotocol", "chat"])
        .front("proxy", Kind::Nginx, &Setup::good())
        .and_then(|p| p.front("lb", Kind::Haproxy, &Setup::good()))
        .expect("start the proxies");
    let r = check_path(&p, &["--protocol", "graphql-ws"]);
    r.assert_culprit("app", "rejected");
    r.assert_consequence("lb");
    r.assert_consequence("proxy");
    r.assert_fix_says(&[
        "does not take the subprotocol offered",
        "names the ones it takes",
    ]);
    assert_fix_does_not_say(&r, "probe with `--protocol NAME`");
}

#[test]
fn haproxy_answering_a_path_itself_is_not_called_a_rewrite() {
    // `http-request return status 404` answers from the frontend with an empty body while the
    // backend upgrades the same path: HAProxy's own rule, not a path it sent the backend.
    let setup = Setup::good().front_directive("http-request return status 404 if { path_beg /ws }");
    let p = WsPath::backend(backend())
        .front("lb", Kind::Haproxy, &setup)
        .expect("start HAProxy");
    let r = check_path(&p, &[]);
    r.assert_culprit("lb", "rejected");
    r.assert_hop("lb", "status", 404);
    r.assert_upgraded("backend");
    assert_software(&r, "lb", "haproxy");
    r.assert_fix_says(&[
        "upgrades this path when probed directly",
        "`http-request return status 404`",
    ]);
    assert_fix_does_not_say(&r, "sends it another path");
    assert_fix_does_not_say(&r, "nothing serves this path");
}

#[test]
fn haproxy_rewriting_the_path_to_one_the_backend_refuses_is_called_a_rewrite() {
    // `http-request set-path` sends the backend a path it answers 404 (with a page of its own)
    // while it upgrades `/ws` probed directly: the fix names HAProxy's path rules.
    let backend = Backend::start_with(&[("/elsewhere", 404)]).expect("start backend");
    let setup =
        Setup::good().front_directive("http-request set-path /elsewhere if { path_beg /ws }");
    let p = WsPath::backend(backend)
        .front("lb", Kind::Haproxy, &setup)
        .expect("start HAProxy");
    let r = check_path(&p, &[]);
    r.assert_culprit("lb", "rejected");
    r.assert_upgraded("backend");
    assert_software(&r, "lb", "haproxy");
    r.assert_fix_says(&["`http-request set-path`"]);
    assert_fix_does_not_say(&r, "`http-request return");
}

#[test]
fn varnish_piping_to_a_backend_it_cannot_reach_is_named() {
    // Varnish answers a piped upgrade whose backend refuses with no byte at all, just a close:
    // asked something it answers itself, it shows which software that was, and the fix is its
    // `backend` definition, not "speak HTTP on this port".
    let mut p = WsPath::backend(backend())
        .front("cache", Kind::Varnish, &Setup::good())
        .expect("start Varnish");
    p.server_mut::<Backend>(1).expect("the backend").stop();
    let r = crate::paths::check(&p.pairs()[..1], &[]);
    r.assert_culprit("cache", "no_response");
    assert_software(&r, "cache", "varnish");
    r.assert_fix_says(&["pipe mode", "`.host`/`.port`"]);
    assert_fix_does_not_say(&r, "speaks HTTP on this port");

    // Its backend pointed elsewhere while the service listed behind it upgrades.
    let closed = crate::paths::closed_port().expect("a closed port");
    let config = edited(Kind::Varnish, Setup::good(), move |c, inner| {
        let port = inner.rsplit_once(':').expect("HOST:PORT").1;
        c.replace(
            &format!(".port = \"{port}\""),
            &format!(".port = \"{closed}\""),
        )
    });
    let p = WsPath::backend(backend())
        .front_with("cache", Kind::Varnish, config)
        .expect("start Varnish");
    let r = check_path(&p, &[]);
    r.assert_culprit("cache", "no_response");
    r.assert_upgraded("backend");
    r.assert_fix_says(&["answers when probed directly", "pipe mode"]);
}
