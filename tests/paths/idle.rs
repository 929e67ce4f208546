//! `--idle` on real paths: which hop cuts a silent WebSocket, and which setting of it.

use super::*;
use crate::support::{Proxy, Setup};

/// HAProxy with `timeout tunnel 2s` set (too short), not unset: the sentence must not claim it
/// is unset, and the fix is to raise it.
#[test]
fn haproxy_with_a_short_tunnel_timeout() {
    let setup = Setup::good().directive("timeout tunnel 2s");
    let path = front(backend_path(), "haproxy", Kind::Haproxy, &setup);
    let run = check_path(&path, &["--idle", "3s"]);
    run.assert_culprit("haproxy", "idle_dropped");
    run.assert_summary_says(&["HAProxy `timeout tunnel`"]);
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
    let path = backend_path();
    let backend = path.addr(0);
    let setup = Setup::good().directive("proxy_read_timeout 1500ms;");
    let nginx = proxy(Kind::Nginx, backend, &setup);
    // `timeout tunnel` set in the backend section, as HAProxy's manual suggests.
    let setup = Setup::good().directive("timeout tunnel 2s");
    let tunnel = proxy(Kind::Haproxy, backend, &setup);
    // No `timeout tunnel`: the client/server timeouts govern the upgraded connection.
    let server = Proxy::start(Kind::Haproxy, |_, port| {
        crate::support::haproxy::http_proxy(
            port,
            backend,
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
/// `proxy.websocket.timeout`, Apache `Timeout`/`ProxyTimeout`), each 2 s, all held at once.
/// Varnish, h2o and Apache time out to the millisecond, so the drop is within 100 ms of 2 s;
/// lighttpd and Squid count idle time in whole seconds and check it once a second, so they cut
/// somewhere in the two seconds after it (the measurement is still the moment the connection
/// ended: 3005 ms reads 3.0 s, not 3 or 4).
#[test]
fn other_proxies_idle_drops_are_timed_to_their_configured_timeout() {
    let backend = backend_path();
    // (kind, how much later than configured its own timer may fire)
    let kinds = [
        (Kind::Varnish, 0.0),
        (Kind::H2o, 0.0),
        (Kind::Apache, 0.0),
        (Kind::Lighttpd, 2000.0),
        (Kind::Squid, 2000.0),
    ];
    let proxies: Vec<(Proxy, f64)> = kinds
        .iter()
        .map(|&(k, late)| (proxy(k, backend.addr(0), &Setup::idle(2)), late))
        .collect();
    let addrs: Vec<(String, String)> = proxies
        .iter()
        .map(|(p, _)| (p.kind.name().to_string(), p.addr()))
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
