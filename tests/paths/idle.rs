//! `--idle` on real paths: which hop cuts a silent WebSocket, and which setting of it.

use super::*;
use crate::support::Backend;

/// HAProxy with `timeout tunnel 2s` set (too short), not unset: the sentence must not claim it
/// is unset, and the fix is to raise it.
#[test]
fn haproxy_with_a_short_tunnel_timeout() {
    let backend = Backend::start().expect("backend");
    let lb = haproxy_with("", "timeout tunnel 2s", &backend.addr(), "");
    let run = check(
        &[("haproxy", &lb.addr()), ("backend", &backend.addr())],
        &["--idle", "3s"],
    );
    run.assert_culprit("haproxy", "idle_dropped");
    assert!(
        run.summary().contains("HAProxy `timeout tunnel`"),
        "{}",
        run.describe()
    );
    assert!(
        !run.summary().contains("which govern tunnels when"),
        "{}",
        run.describe()
    );
    run.assert_fix_says(&["set (or raise) `timeout tunnel`"]);
}

/// Drop times are measured when the connection ends, not polled: each hop's is within 100 ms
/// of the timeout configured there, with the close code, and each hop's sentence names that
/// software's setting. Three independent proxies in front of one backend, held at once.
#[test]
fn each_drop_is_timed_within_100_ms_of_the_configured_timeout() {
    let backend = Backend::start().expect("backend");
    let nginx = nginx_with(&format!(
        "proxy_pass http://{};\n        {UPGRADE_OK}\n        proxy_read_timeout 1500ms;",
        backend.addr()
    ));
    // `timeout tunnel` set in the backend section, as HAProxy's manual suggests.
    let tunnel = haproxy_with("", "timeout tunnel 2s", &backend.addr(), "");
    // No `timeout tunnel`: the client/server timeouts govern the upgraded connection.
    let server = Haproxy::start(|port| {
        crate::support::haproxy::http_proxy(
            port,
            &backend.addr(),
            "timeout connect 2s\n    timeout client 30s\n    timeout server 2500ms",
        )
    })
    .expect("haproxy");
    let run = check(
        &[
            ("nginx", &nginx.addr()),
            ("haproxy", &tunnel.addr()),
            ("lb", &server.addr()),
        ],
        &["--idle", "4s"],
    );
    let why = run.describe();
    for (hop, configured) in [("nginx", 1500.0), ("haproxy", 2000.0), ("lb", 2500.0)] {
        let idle = &run.hop(hop)["idle"];
        assert_eq!(idle["dropped"], true, "{hop}\n{why}");
        let ms = idle["dropped_after_ms"].as_f64().unwrap_or(f64::NAN);
        assert!(
            (ms - configured).abs() <= 100.0,
            "{hop}: dropped after {ms} ms, configured {configured} ms\n{why}"
        );
        assert_eq!(idle["close_code"], 1006, "{hop}\n{why}");
    }
}

/// The same measurement through the other proxies' own idle settings (lighttpd
/// `server.max-read-idle`, Varnish `pipe_timeout`, Squid `read_timeout`, h2o
/// `proxy.websocket.timeout`), each 2 s, all held at once. Varnish and h2o time out to the
/// millisecond, so the drop is within 100 ms of 2 s; lighttpd and Squid count idle time in whole
/// seconds and check it once a second, so they cut somewhere in the two seconds after it (the
/// measurement is still the moment the connection ended: 3005 ms reads 3.0 s, not 3 or 4).
#[test]
fn other_proxies_idle_drops_are_timed_to_their_configured_timeout() {
    use crate::support::proxy::{Kind, Proxy, Setup};
    let backend = Backend::start().expect("backend");
    // (kind, how much later than configured its own timer may fire)
    let kinds = [
        (Kind::Varnish, 0.0),
        (Kind::H2o, 0.0),
        (Kind::Lighttpd, 2000.0),
        (Kind::Squid, 2000.0),
    ];
    let proxies: Vec<(Proxy, f64)> = kinds
        .iter()
        .map(|&(k, late)| {
            let p = Proxy::in_front_of(k, &backend.addr(), &Setup::idle(2))
                .unwrap_or_else(|e| panic!("start {}: {e}", k.name()));
            (p, late)
        })
        .collect();
    let addrs: Vec<(String, String)> = proxies
        .iter()
        .map(|(p, _)| (p.kind.name().to_string(), format!("127.0.0.1:{}", p.port)))
        .collect();
    let hops: Vec<(&str, &str)> = addrs
        .iter()
        .map(|(n, a)| (n.as_str(), a.as_str()))
        .collect();
    let run = check(&hops, &["--idle", "5s"]);
    let why = run.describe();
    for ((name, _), (_, late)) in addrs.iter().zip(&proxies) {
        let idle = &run.hop(name)["idle"];
        assert_eq!(idle["dropped"], true, "{name}\n{why}");
        assert_eq!(idle["close_code"], 1006, "{name}\n{why}");
        let ms = idle["dropped_after_ms"].as_f64().unwrap_or(f64::NAN);
        assert!(
            (1900.0..=2100.0 + late).contains(&ms),
            "{name}: dropped after {ms} ms, configured 2000 ms\n{why}"
        );
    }
}
