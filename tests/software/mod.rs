//! Diagnosis from evidence through the proxies people actually run: real Apache httpd, lighttpd,
//! Varnish, Squid, Caddy, h2o and tinyproxy (and nginx/HAProxy) on 127.0.0.1, healthy and broken
//! the way their users break them, in chains of two, with hops named generically (`lb`, `proxy`,
//! `edge`, `cache`) as well as by software. Every case asserts the culprit hop, the verdict, the
//! identified software and that the advice names that software's own directive.

mod crosshop;
mod field;
mod fieldpaths;
mod recorded;
mod scheme;

use crate::paths::{check, Run};
use crate::support::{Backend, Kind, Setup, WsPath};

/// `wspath check` over the whole path, outermost first.
fn run(path: &WsPath) -> Run {
    let hops = path.hops();
    let pairs: Vec<(&str, &str)> = hops
        .iter()
        .map(|h| h.split_once('=').expect("NAME=ADDR"))
        .collect();
    check(&pairs, &[])
}

/// The hop's identified software is `name`.
fn assert_software(r: &Run, hop: &str, name: &str) {
    assert_eq!(
        r.hop(hop)["software"]["name"],
        name,
        "software of {hop}\n{}",
        r.describe()
    );
    assert!(
        !r.hop(hop)["software"]["evidence"][0]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{}",
        r.describe()
    );
}

fn backend() -> Backend {
    Backend::start().expect("start backend")
}

/// One broken proxy named `name` in front of a working backend.
fn one(kind: Kind, name: &str, setup: &Setup) -> WsPath {
    WsPath::backend(backend())
        .front(name, kind, setup)
        .unwrap_or_else(|e| panic!("start {kind:?}: {e}"))
}

#[test]
fn missing_websocket_settings_get_each_softwares_own_directive() {
    // (kind, a generic hop name, the verdict, JSON name, what the fix must say)
    let cases: &[(Kind, &str, &str, &[&str])] = &[
        (
            Kind::Apache,
            "proxy",
            "apache",
            &["upgrade=websocket", "ProxyPass"],
        ),
        (
            Kind::Lighttpd,
            "lb",
            "lighttpd",
            &["proxy.header", "\"upgrade\" => \"enable\""],
        ),
        (
            Kind::Varnish,
            "cache",
            "varnish",
            &["return (pipe)", "vcl_pipe"],
        ),
        (
            Kind::Squid,
            "edge",
            "squid",
            &["http_upgrade_request_protocols websocket"],
        ),
        (Kind::H2o, "proxy", "h2o", &["proxy.websocket: ON"]),
        (Kind::Caddy, "proxy", "caddy", &["header_up"]),
    ];
    for (kind, name, software, needles) in cases {
        let path = one(*kind, name, &Setup::no_websocket());
        let r = run(&path);
        r.assert_culprit(name, "upgrade_stripped");
        assert_software(&r, name, software);
        r.assert_fix_says(needles);
        // Named by software, the same diagnosis.
        let path = one(*kind, software, &Setup::no_websocket());
        let r = run(&path);
        r.assert_culprit(software, "upgrade_stripped");
        assert_software(&r, software, software);
        r.assert_fix_says(needles);
    }
}

#[test]
fn tinyproxy_is_told_to_be_replaced() {
    let path = one(Kind::Tinyproxy, "proxy", &Setup::good());
    let r = run(&path);
    r.assert_culprit("proxy", "upgrade_stripped");
    assert_software(&r, "proxy", "tinyproxy");
    assert_eq!(r.hop("proxy")["software"]["version"], "1.11.1");
    r.assert_fix_says(&["tinyproxy cannot carry WebSockets"]);
}

#[test]
fn a_proxy_that_does_not_preserve_host_is_told_its_host_directive() {
    let cases: &[(Kind, &str, &str, &str)] = &[
        (Kind::Apache, "proxy", "apache", "ProxyPreserveHost On"),
        (Kind::H2o, "lb", "h2o", "proxy.preserve-host: ON"),
    ];
    for (kind, name, software, directive) in cases {
        let path = WsPath::backend(Backend::start_for_host("app.test").expect("backend"))
            .front(name, *kind, &Setup::no_preserve_host())
            .expect("start proxy");
        let r = run(&path);
        r.assert_culprit(name, "rejected");
        assert_software(&r, name, software);
        r.assert_fix_says(&[directive, "upgrades when probed directly"]);
    }
}

#[test]
fn apache_500_proxy_error_on_a_tls_mismatch_is_a_gateway_error_with_tls_advice() {
    // https:// toward a plain-HTTP backend: "500 Proxy Error … Error during SSL Handshake".
    let path = one(Kind::Apache, "proxy", &Setup::tls_upstream());
    let r = run(&path);
    r.assert_culprit("proxy", "bad_gateway");
    assert_software(&r, "proxy", "apache");
    assert!(
        r.hop("proxy")["detail"]
            .as_str()
            .unwrap_or("")
            .contains("TLS handshake"),
        "{}",
        r.describe()
    );
    r.assert_fix_says(&["SSLProxyEngine", "https://"]);
}

#[test]
fn a_name_that_disagrees_with_the_evidence_is_said() {
    let path = one(Kind::Apache, "nginx", &Setup::no_websocket());
    let r = run(&path);
    r.assert_culprit("nginx", "upgrade_stripped");
    assert_software(&r, "nginx", "apache");
    assert!(
        r.summary()
            .contains("named nginx, answered like Apache httpd"),
        "{}",
        r.describe()
    );
    r.assert_fix_says(&["upgrade=websocket"]);
    assert!(!r.fix().contains("proxy_set_header"), "{}", r.describe());
}

#[test]
fn chains_of_two_name_the_broken_one_whichever_it_is() {
    // The inner one broken: Varnish in front passes Apache's refusal on.
    let path = WsPath::backend(backend())
        .front("lb", Kind::Apache, &Setup::no_websocket())
        .and_then(|p| p.front("edge", Kind::Varnish, &Setup::good()))
        .expect("start chain");
    let r = run(&path);
    r.assert_culprit("lb", "upgrade_stripped");
    assert_software(&r, "lb", "apache");
    assert_software(&r, "edge", "varnish");
    assert_eq!(r.hop("edge")["consequence"], true, "{}", r.describe());
    r.assert_fix_says(&["upgrade=websocket"]);

    // The outer one broken: Squid without its setting in front of a working lighttpd.
    let path = WsPath::backend(backend())
        .front("proxy", Kind::Lighttpd, &Setup::good())
        .and_then(|p| p.front("edge", Kind::Squid, &Setup::no_websocket()))
        .expect("start chain");
    let r = run(&path);
    r.assert_culprit("edge", "upgrade_stripped");
    assert_software(&r, "edge", "squid");
    assert_software(&r, "proxy", "lighttpd");
    assert_eq!(r.hop("proxy")["verdict"], "upgraded", "{}", r.describe());
    r.assert_fix_says(&["http_upgrade_request_protocols"]);
}

#[test]
fn healthy_proxies_upgrade_and_are_still_identified() {
    for (kind, software) in [
        (Kind::Apache, "apache"),
        (Kind::H2o, "h2o"),
        (Kind::Varnish, "varnish"),
        (Kind::Squid, "squid"),
    ] {
        let path = one(kind, "proxy", &Setup::good());
        let r = run(&path);
        r.assert_healthy();
        assert_software(&r, "proxy", software);
    }
}

#[test]
fn a_proxy_passing_on_an_inner_proxys_answer_is_identified_as_itself() {
    // The outer hop's answer to the upgrade is the inner proxy's (its Server header, its 101),
    // so only a request it must answer itself can name it — whatever runs there.
    for outer in Kind::ALL {
        let inner = if outer == Kind::Nginx {
            Kind::Apache
        } else {
            Kind::Nginx
        };
        let path = WsPath::backend(backend())
            .front("proxy", inner, &Setup::good())
            .and_then(|p| p.front("lb", outer, &Setup::good()))
            .unwrap_or_else(|e| panic!("start {outer:?} in front of {inner:?}: {e}"));
        let r = run(&path);
        assert_software(&r, "lb", outer.name());
        assert_software(&r, "proxy", inner.name());
    }
}
