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
