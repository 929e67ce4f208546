//! Broken and healthy paths through real HAProxy → nginx → backend: the culprit is the hop
//! where the break begins, and hops that only pass its answer along are consequences.

use super::*;

/// Case 1: a path that carries WebSockets end to end.
#[test]
fn healthy_haproxy_nginx_backend_is_ok() {
    let backend = backend();
    let nginx = good_nginx(&backend.addr());
    let lb = haproxy_to(&nginx.addr(), LONG_TUNNEL);
    let run = check(
        TARGET,
        &[
            ("lb", &lb.addr()),
            ("nginx", &nginx.addr()),
            ("backend", &backend.addr()),
        ],
        &["--echo", "hello"],
    );
    run.assert_healthy();
    for (name, kind, addr) in [
        ("lb", "lb", lb.addr()),
        ("nginx", "proxy", nginx.addr()),
        ("backend", "backend", backend.addr()),
    ] {
        run.assert_upgraded(name);
        let hop = run.hop(name);
        assert_eq!(hop["kind"], kind, "{}", run.describe());
        assert_eq!(hop["address"], addr.as_str(), "{}", run.describe());
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
    let backend = backend();
    let nginx = nginx_to(&backend.addr(), "", "");
    let lb = haproxy_to(&nginx.addr(), LONG_TUNNEL);
    let run = check(
        TARGET,
        &[
            ("lb", &lb.addr()),
            ("nginx", &nginx.addr()),
            ("backend", &backend.addr()),
        ],
        &[],
    );
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_consequence("lb");
    run.assert_upgraded("backend");
    assert_eq!(run.hop("nginx")["status"], 505, "{}", run.describe());
    let culprit = &run.doc["culprit"];
    assert_eq!(culprit["kind"], "proxy", "{}", run.describe());
    assert!(
        culprit["summary"].as_str().unwrap_or("").contains("505"),
        "the summary names the evidence\n{}",
        run.describe()
    );
    assert!(
        culprit["fix"]
            .as_str()
            .unwrap_or("")
            .contains("proxy_http_version 1.1"),
        "the fix names the directive\n{}",
        run.describe()
    );
}

/// Case 3: `Connection: close` forwarded with the Upgrade header; the backend refuses it.
#[test]
fn nginx_forwarding_connection_close_is_the_culprit() {
    let backend = backend();
    let nginx = nginx_to(
        &backend.addr(),
        "proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection close;",
        "",
    );
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_upgraded("backend");
}

/// Case 4: the Upgrade headers are set but the upstream speaks HTTP/1.0: 505 from the backend.
#[test]
fn nginx_with_upgrade_headers_but_http_1_0_is_the_culprit() {
    let backend = backend();
    let nginx = nginx_to(
        &backend.addr(),
        "proxy_http_version 1.0;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;",
        "",
    );
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("nginx", "upgrade_stripped");
    assert_eq!(run.hop("nginx")["status"], 505, "{}", run.describe());
    run.assert_upgraded("backend");
}

/// Case 5: Upgrade/Connection set at server level are dropped by one `proxy_set_header` in
/// the location (nginx inherits the array only when the location sets none).
#[test]
fn nginx_location_proxy_set_header_drops_inherited_upgrade_headers() {
    let backend = backend();
    let nginx = nginx_to(
        &backend.addr(),
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;",
    );
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("nginx", "upgrade_stripped");
    run.assert_upgraded("backend");
}

/// Case 6: the backend is down; nginx answers 502 and HAProxy passes it along.
#[test]
fn backend_down_is_the_culprit_and_proxies_are_consequences() {
    let mut backend = backend();
    let backend_addr = backend.addr();
    backend.stop();
    let nginx = good_nginx(&backend_addr);
    let lb = haproxy_to(&nginx.addr(), LONG_TUNNEL);
    let run = check(
        TARGET,
        &[
            ("lb", &lb.addr()),
            ("nginx", &nginx.addr()),
            ("backend", &backend_addr),
        ],
        &[],
    );
    run.assert_culprit("backend", "connect_refused");
    run.assert_consequence("nginx");
    run.assert_consequence("lb");
    assert_eq!(
        run.hop("nginx")["verdict"],
        "bad_gateway",
        "{}",
        run.describe()
    );
    assert_eq!(run.hop("nginx")["status"], 502, "{}", run.describe());
    assert_eq!(
        run.hop("nginx")["answered_by"],
        "nginx",
        "{}",
        run.describe()
    );
    assert_eq!(run.hop("backend")["stage"], "tcp", "{}", run.describe());
}

/// HAProxy in front of a down nginx answers its own 503; the culprit is nginx.
#[test]
fn haproxy_in_front_of_a_down_nginx() {
    let backend = backend();
    let mut nginx = good_nginx(&backend.addr());
    let nginx_addr = nginx.addr();
    let lb = haproxy_to(&nginx_addr, LONG_TUNNEL);
    nginx.stop();
    let run = check(
        TARGET,
        &[
            ("lb", &lb.addr()),
            ("nginx", &nginx_addr),
            ("backend", &backend.addr()),
        ],
        &[],
    );
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
    let backend = backend();
    let b = backend.addr();
    let nginx = Nginx::start(move |port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port};
    location /ws {{ proxy_pass http://{b}; {UPGRADE_OK} }}
    location / {{ return 404; }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("start nginx");
    let run = check(
        "ws://app.test/chat",
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
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
    let nginx = good_nginx(&backend.addr());
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("backend", "rejected");
    assert_eq!(run.hop("backend")["status"], 403, "{}", run.describe());
    run.assert_consequence("nginx");
    assert_eq!(run.hop("nginx")["status"], 403, "{}", run.describe());
}

/// nginx rewrites `/ws/chat` to `/chat`; a hop address URL with a path probes the backend
/// where nginx really sends the request.
#[test]
fn hop_address_with_a_rewritten_path() {
    let backend = Backend::start_with(&[("/ws/chat", 404)]).expect("start backend");
    let b = backend.addr();
    let nginx = Nginx::start(move |port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port};
    location /ws/ {{ proxy_pass http://{b}/; {UPGRADE_OK} }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("start nginx");
    let backend_url = format!("ws://{}/chat", backend.addr());
    let run = check(
        "ws://app.test/ws/chat",
        &[("nginx", &nginx.addr()), ("backend", &backend_url)],
        &[],
    );
    run.assert_healthy();
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
    let backend = backend();
    let nginx = Nginx::start(|port| {
        format!(
            "server {{ listen 127.0.0.1:{port}; server_name app.test;
    location / {{ return 301 https://$host$request_uri; }} }}"
        )
    })
    .expect("start nginx");
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
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
    let (crt, key) = (
        cert.cert.display().to_string(),
        cert.key.display().to_string(),
    );
    let nginx = Nginx::start(move |port| {
        format!(
            "server {{ listen 127.0.0.1:{port} ssl; server_name app.test;
    ssl_certificate {crt}; ssl_certificate_key {key}; return 204; }}"
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
    let backend = backend();
    let nginx = good_nginx(&backend.addr());
    let upstream = nginx.addr();
    let lb = Haproxy::start(|port| {
        haproxy::http_proxy(port, &upstream, LONG_TUNNEL).replace(
            "    default_backend be",
            "    http-request deny if { path_beg /ws }\n    default_backend be",
        )
    })
    .expect("start haproxy");
    let run = check(
        TARGET,
        &[
            ("lb", &lb.addr()),
            ("nginx", &nginx.addr()),
            ("backend", &backend.addr()),
        ],
        &[],
    );
    run.assert_culprit("lb", "rejected");
    assert_eq!(run.hop("lb")["status"], 403, "{}", run.describe());
    assert_eq!(
        run.hop("lb")["answered_by"],
        "haproxy",
        "{}",
        run.describe()
    );
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
    let nginx = nginx_to(
        &hung_addr,
        &format!("{UPGRADE_OK}\n        proxy_read_timeout 1s;"),
        "",
    );
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr()), ("backend", &hung_addr)],
        &[],
    );
    run.assert_culprit("backend", "timeout");
    run.assert_consequence("nginx");
    let hop = run.hop("nginx");
    assert_eq!(hop["verdict"], "gateway_timeout", "{}", run.describe());
    assert_eq!(hop["status"], 504, "{}", run.describe());
    drop(hung);
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
