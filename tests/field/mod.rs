//! Field cases: WebSocket paths broken the way configs copied from blog posts and answers break
//! them, run on real servers with hops named generically (`lb`, `proxy`, `edge`, `cache`).
//! Each case is one that a by-hand field test found diagnosed right and that no other module
//! covers; each asserts the culprit, the verdict and the words of the software's own fix.
//! The whole field log is /work/qa-findings.md in the session that wrote these.

use crate::support::check::{check, Run, TARGET};
use crate::support::nginx::{main_config, server_block};
use crate::support::{Backend, Kind, SelfSigned, Setup, WsPath};
use std::path::Path;

fn backend() -> Backend {
    Backend::start().expect("start backend")
}

/// `wspath check TARGET` over the whole path with `extra` flags.
fn run(path: &WsPath, target: &str, extra: &[&str]) -> Run {
    check(target, &path.pairs(), extra)
}

/// nginx behind an upstream with `keepalive`, as the keepalive guides write it: `Connection ""`
/// so upstream connections are reused, which also drops the client's `Connection: upgrade`.
fn nginx_keepalive_upstream(dir: &Path, port: u16, inner: &str) -> String {
    main_config(
        dir,
        &format!(
            "upstream app {{ server {inner}; keepalive 16; }}\n{}",
            server_block(
                port,
                "",
                "location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host $host;
    }",
            )
        ),
    )
}

#[test]
fn nginx_keepalive_upstream_with_an_empty_connection_header_strips_the_upgrade() {
    let path = WsPath::backend(backend())
        .front_with("proxy", Kind::Nginx, nginx_keepalive_upstream)
        .expect("start nginx");
    let r = run(&path, TARGET, &[]);
    r.assert_culprit("proxy", "upgrade_stripped");
    r.assert_upgraded("backend");
    assert_eq!(
        r.hop("proxy")["software"]["name"],
        "nginx",
        "{}",
        r.describe()
    );
    r.assert_fix_says(&["proxy_set_header Connection $connection_upgrade", "map"]);
}

/// nginx named `proxy` that sends `Connection: keep-alive` beside a correct Upgrade line, as
/// keepalive guides have it, in front of the backend.
fn nginx_sending_connection_keep_alive() -> WsPath {
    let setup = Setup::no_websocket()
        .directive("proxy_http_version 1.1;")
        .directive("proxy_set_header Upgrade $http_upgrade;")
        .directive("proxy_set_header Connection \"keep-alive\";");
    WsPath::backend(backend())
        .front("proxy", Kind::Nginx, &setup)
        .expect("start nginx")
}

#[test]
fn nginx_sending_connection_keep_alive_is_named_as_a_rewritten_connection_header() {
    // `proxy_set_header Connection "keep-alive"` beside a correct Upgrade line: the backend
    // sees an Upgrade header without the Connection token that makes it hop-by-hop.
    let path = nginx_sending_connection_keep_alive();
    let r = run(&path, TARGET, &[]);
    r.assert_culprit("proxy", "upgrade_stripped");
    r.assert_upgraded("backend");
    r.assert_fix_says(&["$connection_upgrade"]);
    let detail = r.hop("proxy").to_string();
    assert!(detail.contains("keep-alive"), "{}", r.describe());
}

#[test]
fn haproxy_origin_deny_in_front_of_a_broken_nginx_blames_the_lb_and_lists_the_proxy() {
    // Two faults on one path: an Origin allow-list at the lb that refuses the page's origin,
    // and an nginx further in without the upgrade headers. The outer one is what clients hit.
    let nginx = WsPath::backend(backend())
        .front("proxy", Kind::Nginx, &Setup::no_websocket())
        .expect("start nginx");
    let deny = Setup::good().front_directive(
        "http-request deny if { req.hdr(origin) -m found } !{ req.hdr(origin) -m end .example.com }",
    );
    let path = nginx
        .front("lb", Kind::Haproxy, &deny)
        .expect("start haproxy");
    let r = run(&path, TARGET, &[]);
    r.assert_culprit("lb", "rejected");
    r.assert_fix_says(&["http-request deny"]);
    r.assert_hop("proxy", "verdict", "upgrade_stripped");
    r.assert_hop("proxy", "consequence", false);
    r.assert_summary_says(&["proxy"]);
    r.assert_upgraded("backend");
}

#[test]
fn varnish_piping_without_copying_the_upgrade_headers() {
    // `return (pipe)` alone: Varnish sends the backend `Connection: close` in the piped request.
    let path = WsPath::backend(backend())
        .front_with("cache", Kind::Varnish, |_, _, inner| {
            let (host, port) = inner.rsplit_once(':').expect("host:port");
            format!(
                "vcl 4.1;
backend default {{ .host = \"{host}\"; .port = \"{port}\"; }}
sub vcl_recv {{
    if (req.http.upgrade ~ \"(?i)websocket\") {{ return (pipe); }}
}}
"
            )
        })
        .expect("start varnish");
    let r = run(&path, TARGET, &[]);
    r.assert_culprit("cache", "upgrade_stripped");
    r.assert_fix_says(&["vcl_pipe", "Connection"]);
    r.assert_upgraded("backend");
}

#[test]
fn nginx_edge_speaking_only_tls_1_0_and_1_1() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let setup = Setup::good()
        .serving_tls(&cert)
        .front_directive("ssl_protocols TLSv1 TLSv1.1;");
    // The edge alone: the plain backend behind it would be probed with TLS too (wss target).
    let b = backend();
    let path = WsPath::to("inner", &b.addr(), b)
        .front("edge", Kind::Nginx, &setup)
        .expect("start nginx");
    let pairs = path.pairs();
    let ca = cert.ca.display().to_string();
    let r = check(
        "wss://app.test/ws",
        &pairs[..1],
        &["--cacert", &ca, "--http1-only"],
    );
    r.assert_culprit("edge", "tls_failed");
    r.assert_fix_says(&["TLS 1.2", "ssl_protocols"]);
}

#[test]
fn haproxy_http_server_close_in_a_three_proxy_chain_is_healthy() {
    // `option http-server-close` is in many copied HAProxy configs; it does not touch upgrades.
    let path = WsPath::backend(backend())
        .front("proxy", Kind::Nginx, &Setup::good())
        .and_then(|p| {
            p.front(
                "lb",
                Kind::Haproxy,
                &Setup::good().front_directive("option http-server-close"),
            )
        })
        .and_then(|p| p.front("edge", Kind::Caddy, &Setup::good()))
        .expect("start the chain");
    let r = run(&path, TARGET, &[]);
    r.assert_healthy();
    assert_eq!(r.doc["hops"].as_array().map(Vec::len), Some(4));
}

#[test]
fn nginx_trailing_slash_redirect_on_the_websocket_path_is_explained() {
    // `location /ws/ { proxy_pass … }` while clients open `/ws`: nginx answers 301 to `/ws/`.
    let path = WsPath::backend(backend())
        .front_nginx("proxy", "", |inner| {
            format!(
                "location /ws/ {{
        proxy_pass http://{inner};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }}"
            )
        })
        .expect("start nginx");
    let r = run(&path, TARGET, &[]);
    r.assert_culprit("proxy", "redirect");
    let detail = r.hop("proxy")["detail"].as_str().unwrap_or("").to_string();
    for needle in ["trailing slash", "location /ws/", "location = /ws"] {
        assert!(detail.contains(needle), "{needle:?}\n{}", r.describe());
    }
    // The config says the same: before, nginx's model had `/ws` served by no location (or by
    // `location /`), where nginx really answers with its trailing-slash redirect.
    let conf = path.proxy(0).expect("nginx").dir.path().join("nginx.conf");
    let out = crate::support::check::wspath(&[
        "lint",
        "nginx",
        &conf.display().to_string(),
        "--path",
        "/ws",
    ]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout
            .contains("makes nginx answer it with 301 to /ws/")
            && out.stdout.contains("location = /ws"),
        "{}",
        out.describe()
    );
}

#[test]
fn an_https_redirect_on_the_websocket_path_names_the_wss_url() {
    let path = WsPath::backend(backend())
        .front_nginx("edge", "", |_| {
            "location / { return 301 https://$host$request_uri; }".to_string()
        })
        .expect("start nginx");
    let r = run(&path, TARGET, &[]);
    r.assert_culprit("edge", "redirect");
    let detail = r.hop("edge")["detail"].as_str().unwrap_or("").to_string();
    assert!(detail.contains("wss://app.test/ws"), "{}", r.describe());
}

#[test]
fn as_all_through_a_proxy_that_fails_every_browser_alike_says_the_reason_once() {
    let path = nginx_sending_connection_keep_alive();
    let out = crate::support::check::human(TARGET, &path.pairs(), &["--as", "all"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    for browser in ["chrome ", "firefox", "safari "] {
        let line = format!("✗ as {browser} 426  Upgrade stripped — as above");
        assert!(out.stdout.contains(&line), "{line}\n{}", out.describe());
    }
    // The renderer wraps at 80 columns: compare with the line breaks taken out.
    let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        flat.matches("invalid Connection header").count(),
        2,
        "once under the hop, once in the culprit line\n{}",
        out.describe()
    );
}

#[test]
fn nginx_conf_with_connection_keep_alive_is_an_error_finding_at_the_culprit() {
    // Before: `lint` found nothing wrong with a fixed `Connection "keep-alive"` (only `close`
    // and `""` were caught), while the probe proved it breaks the upgrade.
    let path = nginx_sending_connection_keep_alive();
    let conf = path.proxy(0).expect("nginx").dir.path().join("nginx.conf");
    let conf = conf.display().to_string();
    let r = run(&path, TARGET, &["--nginx-conf", &conf]);
    r.assert_culprit("proxy", "upgrade_stripped");
    let ids: Vec<&str> = r.hop("proxy")["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"nginx/connection-forced-close"),
        "{ids:?}\n{}",
        r.describe()
    );
}

#[test]
fn nginx_map_with_a_capitalised_websocket_key_is_healthy_with_its_config() {
    // `map $http_upgrade $connection_upgrade { WebSocket upgrade; … }`: nginx matches map
    // strings case-insensitively, so browsers' `websocket` gets `upgrade`. Before, the lint
    // compared keys exactly, called it a forced close, and `check --nginx-conf` exited 1 on a
    // path that upgrades.
    let path = WsPath::backend(backend())
        .front_with("proxy", Kind::Nginx, |dir, port, inner| {
            main_config(
                dir,
                &format!(
                    "map $http_upgrade $connection_upgrade {{ WebSocket upgrade; default close; }}\n{}",
                    server_block(
                        port,
                        "",
                        &format!(
                            "location /ws {{
        proxy_pass http://{inner};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1h;
    }}"
                        ),
                    )
                ),
            )
        })
        .expect("start nginx");
    let conf = path.proxy(0).expect("nginx").dir.path().join("nginx.conf");
    let conf = conf.display().to_string();
    let r = run(&path, TARGET, &["--nginx-conf", &conf]);
    r.assert_healthy();
    assert_eq!(
        r.hop("proxy")["findings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.describe()
    );
}

#[test]
fn urls_pasted_from_a_browser_or_a_proxy_config_get_the_websocket_form() {
    // (argv, what the one-line error must say)
    let cases: &[(&[&str], &str)] = &[
        (&["check", "https://app.test/ws"], "for TLS write wss://"),
        (
            &["check", TARGET, "--hop", "lb=http://127.0.0.1:8080"],
            "for plain HTTP write ws://",
        ),
        (
            &["check", TARGET, "--hop", "lb=127.0.0.1:8080/chat"],
            "write ws://127.0.0.1:8080/chat",
        ),
    ];
    for (argv, needle) in cases {
        let out = crate::support::check::wspath(argv);
        assert_eq!(out.code, Some(2), "{}", out.describe());
        assert!(out.stderr.contains(needle), "{needle}\n{}", out.describe());
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.describe());
    }
}

#[test]
fn a_plain_hop_behind_a_tls_edge_given_as_a_bare_address_is_probed_as_ws() {
    // `wspath check wss://… --hop edge --hop backend=HOST:PORT`: the backend inherits wss://
    // though TLS ends at the edge. Its port speaks no TLS and upgrades over ws://: the path is
    // healthy. Given explicitly as wss://, the same port is a TLS failure that says ws:// works.
    let cert = SelfSigned::new("app.test").expect("certificate");
    let path = WsPath::backend(backend())
        .front("edge", Kind::Nginx, &Setup::good().serving_tls(&cert))
        .expect("start nginx");
    let edge = path.addr(0).to_string();
    let inner = path.addr(1).to_string();
    let ca = cert.ca.display().to_string();
    let r = check(
        "wss://app.test/ws",
        &[("edge", &format!("wss://{edge}")), ("backend", &inner)],
        &["--cacert", &ca],
    );
    r.assert_healthy();
    r.assert_hop("backend", "url", "ws://app.test/ws");
    assert!(r.hop("backend")["http2"].is_null(), "{}", r.describe());
    assert!(
        r.hop("backend")["detail"]
            .as_str()
            .unwrap_or("")
            .contains("no TLS on this port"),
        "{}",
        r.describe()
    );

    // The outermost hop is what clients open with wss://: a plain port there is the break.
    let r = check("wss://app.test/ws", &[("edge", &inner)], &["--cacert", &ca]);
    r.assert_culprit("edge", "tls_failed");

    let r = check(
        "wss://app.test/ws",
        &[
            ("edge", &format!("wss://{edge}")),
            ("backend", &format!("wss://{inner}")),
        ],
        &["--cacert", &ca, "--http1-only"],
    );
    r.assert_upgraded("edge");
    r.assert_hop("backend", "verdict", "tls_failed");
    let detail = r.hop("backend")["detail"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        detail.contains("over plain ws:// this port upgrades")
            && detail.contains(&format!("ws://{inner}")),
        "{}",
        r.describe()
    );
}
