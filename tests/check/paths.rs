//! Broken and healthy paths through real HAProxy → nginx → backend: the culprit is the hop
//! where the break begins, and hops that only pass its answer along are consequences.

use super::*;
use crate::support::nginx::UPGRADE_DIRECTIVES;
use crate::support::Proxy;

/// Case 1: a path that carries WebSockets end to end.
#[test]
fn healthy_haproxy_nginx_backend_is_ok() {
    let path = three_hops(&Setup::good(), &Setup::good());
    let run = check_path(&path, &["--echo", "hello"]);
    run.assert_healthy();
    for (i, (name, kind)) in [("lb", "lb"), ("nginx", "proxy"), ("backend", "backend")]
        .into_iter()
        .enumerate()
    {
        run.assert_upgraded(name);
        let hop = run.hop(name);
        assert_eq!(hop["kind"], kind, "{}", run.describe());
        assert_eq!(hop["address"], path.addr(i), "{}", run.describe());
        assert_eq!(hop["echo_ok"], true, "{name} echo\n{}", run.describe());
        assert!(
            hop["ping_rtt_ms"].is_number(),
            "{name} ping\n{}",
            run.describe()
        );
        assert!(
            hop["curl"].as_str().is_some_and(|c| c.contains("app.test")),
            "{name} curl keeps the Host\n{}",
            run.describe()
        );
    }
    // Every hop is sent the target's Host; only the address is pinned.
    let backend: &Backend = path.server(2).expect("backend");
    let hosts: Vec<String> = backend
        .requests()
        .iter()
        .flat_map(|r| r["headers"].as_array().cloned().unwrap_or_default())
        .filter(|h| {
            h[0].as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("host"))
        })
        .filter_map(|h| h[1].as_str().map(String::from))
        .collect();
    assert!(
        hosts.iter().any(|h| h == "app.test"),
        "backend saw Host {hosts:?}"
    );
}

/// Case 2: nginx with only `proxy_pass` talks HTTP/1.0 to the backend without Upgrade;
/// the backend answers 505 and HAProxy passes it along.
#[test]
fn nginx_with_only_proxy_pass_strips_the_upgrade() {
    let path = three_hops(&Setup::no_websocket(), &Setup::good());
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_consequence("lb");
    run.assert_upgraded("backend");
    run.assert_hop("nginx", "status", 505);
    assert_eq!(run.doc["culprit"]["kind"], "proxy", "{}", run.describe());
    assert!(
        run.summary().contains("505"),
        "the summary names the evidence\n{}",
        run.describe()
    );
    assert!(
        run.fix().contains("proxy_http_version 1.1"),
        "the fix names the directive\n{}",
        run.describe()
    );
}

/// Case 3: `Connection: close` forwarded with the Upgrade header; the backend refuses it.
#[test]
fn nginx_forwarding_connection_close_is_the_culprit() {
    let path = behind_nginx(
        &Setup::no_websocket()
            .directive("proxy_http_version 1.1;")
            .directive("proxy_set_header Upgrade $http_upgrade;")
            .directive("proxy_set_header Connection close;"),
    );
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_upgraded("backend");
}

/// Case 4: the Upgrade headers are set but the upstream speaks HTTP/1.0: 505 from the backend.
#[test]
fn nginx_with_upgrade_headers_but_http_1_0_is_the_culprit() {
    let path = behind_nginx(
        &Setup::no_websocket()
            .directive("proxy_http_version 1.0;")
            .directive("proxy_set_header Upgrade $http_upgrade;")
            .directive("proxy_set_header Connection $connection_upgrade;"),
    );
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_hop("nginx", "status", 505);
    run.assert_upgraded("backend");
}

/// Case 5: Upgrade/Connection set at server level are dropped by one `proxy_set_header` in
/// the location (nginx inherits the array only when the location sets none).
#[test]
fn nginx_location_proxy_set_header_drops_inherited_upgrade_headers() {
    let path = behind_nginx(
        &Setup::no_websocket()
            .front_directive(UPGRADE_DIRECTIVES)
            .directive("proxy_set_header X-Real-IP $remote_addr;"),
    );
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_upgraded("backend");
}

/// Case 6: the backend is down; nginx answers 502 and HAProxy passes it along.
#[test]
fn backend_down_is_the_culprit_and_proxies_are_consequences() {
    let mut path = three_hops(&Setup::good(), &Setup::good());
    path.server_mut::<Backend>(2).expect("backend").stop();
    let run = check_path(&path, &[]);
    run.assert_culprit("backend", "connect_refused");
    run.assert_consequence("nginx");
    run.assert_consequence("lb");
    let nginx = run.hop("nginx");
    assert_eq!(nginx["verdict"], "bad_gateway", "{}", run.describe());
    assert_eq!(nginx["status"], 502, "{}", run.describe());
    assert_eq!(nginx["answered_by"], "nginx", "{}", run.describe());
    run.assert_hop("backend", "stage", "tcp");
}

/// HAProxy in front of a down nginx answers its own 503; the culprit is nginx.
#[test]
fn haproxy_in_front_of_a_down_nginx() {
    let mut path = three_hops(&Setup::good(), &Setup::good());
    path.server_mut::<Proxy>(1).expect("nginx").stop();
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "connect_refused");
    run.assert_consequence("lb");
    run.assert_upgraded("backend");
    let lb_hop = run.hop("lb");
    assert_eq!(
        lb_hop["verdict"],
        "service_unavailable",
        "{}",
        run.describe()
    );
    assert_eq!(lb_hop["status"], 503, "{}", run.describe());
    // HAProxy's own error page has no Server header: recognised by its body.
    assert_eq!(lb_hop["answered_by"], "haproxy", "{}", run.describe());
}

/// nginx has no location for the path and answers its own 404.
#[test]
fn nginx_404_for_the_path_is_rejected_at_nginx() {
    let path = front_nginx(WsPath::backend(backend()), |b| {
        format!(
            "location /ws {{ proxy_pass http://{b}; {UPGRADE_DIRECTIVES} }}
    location / {{ return 404; }}"
        )
    });
    let run = check("ws://app.test/chat", &path.pairs(), &[]);
    run.assert_culprit("nginx", "rejected");
    let hop = run.hop("nginx");
    assert_eq!(hop["status"], 404, "{}", run.describe());
    assert_eq!(hop["answered_by"], "nginx", "{}", run.describe());
    assert!(
        hop["body_snippet"].as_str().unwrap_or("").contains("404"),
        "{}",
        run.describe()
    );
    run.assert_upgraded("backend");
}

/// The application itself refuses the path (403): the backend is the culprit and nginx,
/// which passes the 403 along, a consequence.
#[test]
fn backend_refusing_the_path_is_the_culprit() {
    let backend = Backend::start_with(&[("/ws", 403)]).expect("start backend");
    let path = front(
        WsPath::backend(backend),
        "nginx",
        Kind::Nginx,
        &Setup::good(),
    );
    let run = check_path(&path, &[]);
    run.assert_culprit("backend", "rejected");
    run.assert_hop("backend", "status", 403);
    run.assert_consequence("nginx");
    run.assert_hop("nginx", "status", 403);
}

/// nginx rewrites `/ws/chat` to `/chat`; a hop address URL with a path probes the backend
/// where nginx really sends the request.
#[test]
fn hop_address_with_a_rewritten_path() {
    let backend = Backend::start_with(&[("/ws/chat", 404)]).expect("start backend");
    let path = front_nginx(WsPath::backend(backend), |b| {
        format!("location /ws/ {{ proxy_pass http://{b}/; {UPGRADE_DIRECTIVES} }}")
    });
    let backend_url = format!("ws://{}/chat", path.addr(1));
    let run = check(
        "ws://app.test/ws/chat",
        &[("nginx", path.addr(0)), ("backend", &backend_url)],
        &[],
    );
    run.assert_healthy();
    let backend: &Backend = path.server(1).expect("backend");
    let paths: Vec<String> = backend
        .requests()
        .iter()
        .filter_map(|r| r["path"].as_str().map(String::from))
        .collect();
    assert!(
        !paths.iter().any(|p| p == "/ws/chat"),
        "backend saw {paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| *p == "/chat").count(),
        2,
        "{paths:?}"
    );
}

/// No `--hop`: the target itself is the one hop.
#[test]
fn one_hop_without_hop_flags() {
    let backend = backend();
    let target = format!("ws://{}/ws", backend.addr());
    let run = check(&target, &[], &[]);
    run.assert_healthy();
    assert_eq!(
        run.doc["hops"].as_array().map(Vec::len),
        Some(1),
        "{}",
        run.describe()
    );
}

/// nginx redirects to https (a common site-wide rule); WebSocket clients do not follow it.
#[test]
fn nginx_redirecting_to_https_is_a_redirect() {
    let path = front_nginx(WsPath::backend(backend()), |_| {
        "location / { return 301 https://$host$request_uri; }".into()
    });
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "redirect");
    let hop = run.hop("nginx");
    assert_eq!(hop["status"], 301, "{}", run.describe());
    assert!(
        hop["headers"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("location"))
                && h["value"] == "https://app.test/ws")),
        "{}",
        run.describe()
    );
    assert!(
        hop["detail"]
            .as_str()
            .unwrap_or("")
            .contains("https://app.test/ws"),
        "{}",
        run.describe()
    );
}

/// A ws:// hop pointed at nginx's TLS port: nginx answers 400 "plain HTTP request was sent
/// to HTTPS port".
#[test]
fn plain_websocket_to_a_tls_port_is_rejected_by_nginx() {
    let cert = crate::support::SelfSigned::new("app.test").expect("make cert");
    let nginx = Proxy::start(Kind::Nginx, |dir, port| {
        crate::support::nginx::site(
            dir,
            port,
            "ssl",
            &format!(
                "ssl_certificate {}; ssl_certificate_key {}; return 204;",
                cert.cert.display(),
                cert.key.display()
            ),
        )
    })
    .expect("start nginx");
    let run = check(TARGET, &[("nginx", &nginx.addr())], &[]);
    run.assert_culprit("nginx", "rejected");
    let hop = run.hop("nginx");
    assert_eq!(hop["status"], 400, "{}", run.describe());
    assert_eq!(hop["answered_by"], "nginx", "{}", run.describe());
    assert!(
        hop["body_snippet"]
            .as_str()
            .unwrap_or("")
            .contains("HTTPS port"),
        "{}",
        run.describe()
    );
}

/// HAProxy denies the path itself (`http-request deny`): the lb is the culprit with its own
/// 403 page, while nginx and the backend behind it work.
#[test]
fn haproxy_denying_the_path_is_rejected_at_the_lb() {
    let path = three_hops(
        &Setup::good(),
        &Setup::good().front_directive("http-request deny if { path_beg /ws }"),
    );
    let run = check_path(&path, &[]);
    run.assert_culprit("lb", "rejected");
    run.assert_hop("lb", "status", 403);
    run.assert_hop("lb", "answered_by", "haproxy");
    run.assert_upgraded("nginx");
    run.assert_upgraded("backend");
}

/// The backend accepts TCP but never answers: nginx gives up with 504 and the backend itself
/// times out; the backend is the culprit.
#[test]
fn hung_backend_is_the_culprit_behind_a_504() {
    // A real listening socket that never accepts: the kernel completes the TCP handshake
    // (backlog) and nothing ever answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung_addr = hung.local_addr().expect("addr").to_string();
    let path = front(
        WsPath::to("backend", &hung_addr, hung),
        "nginx",
        Kind::Nginx,
        &Setup::idle(1),
    );
    let run = check_path(&path, &[]);
    run.assert_culprit("backend", "timeout");
    run.assert_consequence("nginx");
    let hop = run.hop("nginx");
    assert_eq!(hop["verdict"], "gateway_timeout", "{}", run.describe());
    assert_eq!(hop["status"], 504, "{}", run.describe());
}
/// Hops are probed at the same time: three hops that never answer cost one timeout, not three
/// (a sequential walk would need at least 6 s here).
#[test]
fn hung_hops_are_probed_concurrently() {
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let addrs: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").to_string())
        .collect();
    let hop_args: Vec<String> = ["lb", "nginx", "backend"]
        .iter()
        .zip(&addrs)
        .flat_map(|(name, addr)| ["--hop".to_string(), format!("{name}={addr}")])
        .collect();
    let mut args = vec!["check", TARGET, "--timeout", "2s", "--format", "json"];
    args.extend(hop_args.iter().map(String::as_str));
    let out = wspath(&args);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.elapsed < std::time::Duration::from_millis(5500),
        "three 2 s timeouts took {:?}: not concurrent\n{}",
        out.elapsed,
        out.describe()
    );
    let doc = out.json().unwrap_or_else(|e| panic!("{e}"));
    for hop in doc["hops"].as_array().into_iter().flatten() {
        assert_eq!(hop["verdict"], "timeout", "{}", out.describe());
    }
    // Every hop fails alike, so the break begins at the innermost one.
    assert_eq!(doc["culprit"]["hop"], "backend", "{}", out.describe());
    drop(listeners);
}
