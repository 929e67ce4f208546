//! Broken paths a second field pass found misdiagnosed (/work/qa-paths.md), each on the real
//! servers broken the way their users break them, with hops named generically: the culprit,
//! its verdict and software, and the words of the fix that name the cause the answer shows.

use super::{assert_software, backend};
use crate::paths::{check_path, App};
use crate::support::{raw, Backend, Kind, Setup, WsPath};
use std::time::Duration;

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
