//! Cross-hop reasoning on real servers: an outer hop fails with an answer that came from
//! further in (the backend's own refusal) while the hop behind it upgrades when probed
//! directly, so the outer hop must have changed the request on the way — its path, its Origin,
//! a WebSocket header, its HTTP version. Each case asserts that wspath says which, and gives
//! the directive of the software that runs there, with hops named generically.
//!
//! Each broken config is the software's healthy one (`Kind::config` with `Setup::good()`) with
//! one edit of the kind its users make.

use super::{assert_software, run};
use crate::paths::App;
use crate::support::{Backend, Kind, Setup, WsPath};
use std::path::Path;

/// `kind`'s healthy config in front of the inner hop, changed by `edit`.
fn edited(kind: Kind, edit: impl Fn(String) -> String) -> impl Fn(&Path, u16, &str) -> String {
    move |dir, port, inner| {
        let good = kind
            .config(dir, port, inner, &Setup::good())
            .expect("a healthy config");
        let changed = edit(good.clone());
        assert_ne!(changed, good, "the edit for {kind:?} changed nothing");
        changed
    }
}

/// Inserts `line` into `kind`'s healthy config where a request-header rule goes.
fn with_header_rule(kind: Kind, line: &'static str) -> impl Fn(&Path, u16, &str) -> String {
    edited(kind, move |c| match kind {
        Kind::Nginx => c.replace(
            "proxy_set_header Host $host;",
            &format!("proxy_set_header Host $host;\n        {line}"),
        ),
        Kind::Haproxy => c.replace(
            "    default_backend be",
            &format!("    {line}\n    default_backend be"),
        ),
        Kind::Apache => format!("{c}{line}\n"),
        Kind::Caddy => c.replacen(" {\n\t\t", &format!(" {{\n\t\t{line}\n\t\t"), 1),
        other => panic!("no header rule for {other:?} here"),
    })
}

/// The path a proxy maps `/ws` to: the backend serves `/ws` only (404 on `/`).
fn path_to_root(kind: Kind) -> impl Fn(&Path, u16, &str) -> String {
    edited(kind, move |c| match kind {
        // `location /ws { proxy_pass http://inner/; }`: nginx replaces the matched prefix.
        Kind::Nginx => c.replace("location / {", "location /ws {").replace(
            ";\n        proxy_http_version",
            "/;\n        proxy_http_version",
        ),
        // `ProxyPass /ws http://inner/`: the mapped prefix is replaced by the URL's path.
        Kind::Apache => c.replace("ProxyPass / ", "ProxyPass /ws "),
        // `handle_path /ws*` strips the prefix before `reverse_proxy`.
        Kind::Caddy => c
            .replacen(
                "\treverse_proxy",
                "\thandle_path /ws* {\n\treverse_proxy",
                1,
            )
            .replacen("\t}\n}", "\t}\n\t}\n}", 1),
        Kind::Haproxy => c.replace(
            "    default_backend be",
            "    http-request set-path /\n    default_backend be",
        ),
        other => panic!("no path mapping for {other:?} here"),
    })
}

fn backend_only_at_ws() -> Backend {
    Backend::start_with(&[("/", 404)]).expect("start backend")
}

/// Runs the path and asserts the culprit, its software and what the fix says.
fn assert_diagnosis(path: &WsPath, hop: &str, verdict: &str, software: &str, says: &[&str]) {
    let r = run(path);
    r.assert_culprit(hop, verdict);
    assert_software(&r, hop, software);
    r.assert_fix_says(says);
}

#[test]
fn a_path_changed_on_the_way_is_named_with_the_softwares_directive() {
    // (software, hop name, what its fix must name)
    let cases = [
        (
            Kind::Nginx,
            "proxy",
            "nginx",
            "`proxy_pass http://backend;` without a URI",
        ),
        (
            Kind::Apache,
            "lb",
            "apache",
            "`ProxyPass /ws http://backend/ws upgrade=websocket`",
        ),
        (Kind::Caddy, "edge", "caddy", "use `handle /ws*`"),
        (Kind::Haproxy, "lb", "haproxy", "`http-request set-path`"),
    ];
    for (kind, hop, software, directive) in cases {
        let path = WsPath::backend(backend_only_at_ws())
            .front_with(hop, kind, path_to_root(kind))
            .expect("start proxy");
        assert_diagnosis(
            &path,
            hop,
            "rejected",
            software,
            &[
                "upgrades when probed directly at /ws",
                "its 404 names the path it got, `/`",
                "so this hop sends it another path",
                directive,
            ],
        );
    }
}

#[test]
fn an_origin_dropped_on_the_way_is_not_blamed_on_the_allow_list() {
    let cases = [
        (
            Kind::Nginx,
            "proxy",
            "nginx",
            "proxy_set_header Origin \"\";",
            "`proxy_set_header Origin …`",
        ),
        (
            Kind::Apache,
            "edge",
            "apache",
            "RequestHeader unset Origin",
            "`RequestHeader unset Origin`",
        ),
        (
            Kind::Caddy,
            "proxy",
            "caddy",
            "header_up -Origin",
            "`header_up -Origin`",
        ),
        (
            Kind::Haproxy,
            "lb",
            "haproxy",
            "http-request del-header Origin",
            "`http-request del-header Origin`",
        ),
    ];
    for (kind, hop, software, rule, directive) in cases {
        // The application accepts only its own origin, which wspath sends by default.
        let app = App::start(&["--origin", "http://app.test"]);
        let addr = app.addr();
        let path = WsPath::to("backend", &addr, app)
            .front_with(hop, kind, with_header_rule(kind, rule))
            .expect("start proxy");
        assert_diagnosis(
            &path,
            hop,
            "rejected",
            software,
            &[
                "upgrades when probed directly with the same Origin",
                "drops or rewrites the Origin header on the way",
                directive,
            ],
        );
    }
}

#[test]
fn a_handshake_header_dropped_on_the_way_is_named() {
    let cases = [
        (
            Kind::Nginx,
            "proxy",
            "nginx",
            "proxy_set_header Sec-WebSocket-Key \"\";",
            "rejected",
            "`proxy_set_header Sec-WebSocket-Key …`",
        ),
        (
            Kind::Apache,
            "lb",
            "apache",
            "RequestHeader unset Sec-WebSocket-Key",
            "rejected",
            "`RequestHeader unset Sec-WebSocket-Key`",
        ),
        (
            Kind::Caddy,
            "edge",
            "caddy",
            "header_up -Sec-WebSocket-Key",
            "rejected",
            "`header_up -Sec-WebSocket-Key`",
        ),
        // HAProxy 2.6 makes a key of its own when the client's is gone: the 101 accepts that.
        (
            Kind::Haproxy,
            "lb",
            "haproxy",
            "http-request del-header Sec-WebSocket-Key",
            "bad_accept",
            "`http-request del-header Sec-WebSocket-Key`",
        ),
    ];
    for (kind, hop, software, rule, verdict, directive) in cases {
        let path = WsPath::backend(Backend::start().expect("backend"))
            .front_with(hop, kind, with_header_rule(kind, rule))
            .expect("start proxy");
        assert_diagnosis(
            &path,
            hop,
            verdict,
            software,
            &["drops or rewrites Sec-WebSocket-Key on the way", directive],
        );
    }
}

#[test]
fn http_1_0_toward_the_backend_is_named_with_the_softwares_setting() {
    // Apache: the old `force-proxy-request-1.0` workaround left on the WebSocket path.
    let apache = with_header_rule(
        Kind::Apache,
        "LoadModule env_module /usr/lib/apache2/modules/mod_env.so\nSetEnv force-proxy-request-1.0 1",
    );
    let path = WsPath::backend(Backend::start().expect("backend"))
        .front_with("edge", Kind::Apache, apache)
        .expect("start apache");
    assert_diagnosis(
        &path,
        "edge",
        "upgrade_stripped",
        "apache",
        &[
            "upgrades when probed directly over HTTP/1.1",
            "forwards the request as HTTP/1.0",
            "`SetEnv force-proxy-request-1.0 1`",
        ],
    );
    // nginx: the upgrade headers set, `proxy_http_version 1.1` forgotten (nginx's default is 1.0).
    let nginx = edited(Kind::Nginx, |c| c.replace("proxy_http_version 1.1;", ""));
    let path = WsPath::backend(Backend::start().expect("backend"))
        .front_with("proxy", Kind::Nginx, nginx)
        .expect("start nginx");
    assert_diagnosis(
        &path,
        "proxy",
        "upgrade_stripped",
        "nginx",
        &["forwards the request as HTTP/1.0", "proxy_http_version 1.1"],
    );
}
