//! `--idle`: every upgraded hop is held silent at once; the idle culprit is the outermost hop
//! that drops while the hop inside it holds.

use super::*;
use serde_json::Value;

/// Elapsed ms at which `hop` dropped, asserting that it did.
fn dropped_after(run: &Run, hop: &str) -> f64 {
    let idle = &run.hop(hop)["idle"];
    assert_eq!(
        idle["dropped"],
        true,
        "{hop} should drop\n{}",
        run.describe()
    );
    idle["dropped_after_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("{hop} dropped_after_ms\n{}", run.describe()))
}

fn assert_held(run: &Run, hop: &str) {
    let idle = &run.hop(hop)["idle"];
    assert_eq!(
        idle["dropped"],
        false,
        "{hop} should hold\n{}",
        run.describe()
    );
    assert!(
        idle["held_ms"].as_f64().is_some_and(|ms| ms >= 3500.0),
        "{}",
        run.describe()
    );
}

/// Case 7a: without `timeout tunnel`, HAProxy cuts an idle WebSocket at its client/server timeout.
#[test]
fn haproxy_without_timeout_tunnel_drops_idle_connections() {
    let path = behind_nginx(&Setup::good())
        .front_with("lb", Kind::Haproxy, |_, port, inner| {
            crate::support::haproxy::http_proxy(
                port,
                inner,
                "timeout connect 2s\n    timeout client 2s\n    timeout server 2s",
            )
        })
        .expect("start haproxy");
    let run = check_path(&path, &["--idle", "4s"]);
    run.assert_culprit("lb", "idle_dropped");
    let ms = dropped_after(&run, "lb");
    assert!(
        (1500.0..3800.0).contains(&ms),
        "dropped after {ms} ms\n{}",
        run.describe()
    );
    assert_held(&run, "nginx");
    assert_held(&run, "backend");
    assert_eq!(
        run.hop("lb")["status"],
        101,
        "it did upgrade first\n{}",
        run.describe()
    );
    // The verdict names the default it matches and the setting that fixes it.
    run.assert_summary_says(&["timeout client"]);
    run.assert_fix_says(&["timeout tunnel"]);
}

/// Case 7b: nginx `proxy_read_timeout 2s` behind a long HAProxy tunnel: nginx is the culprit
/// and HAProxy, which drops only because nginx did, a consequence.
#[test]
fn nginx_proxy_read_timeout_drops_idle_connections() {
    let path = three_hops(&Setup::idle(2), &Setup::good());
    let run = check_path(&path, &["--idle", "4s"]);
    run.assert_culprit("nginx", "idle_dropped");
    let ms = dropped_after(&run, "nginx");
    assert!(
        (1500.0..3800.0).contains(&ms),
        "dropped after {ms} ms\n{}",
        run.describe()
    );
    dropped_after(&run, "lb");
    run.assert_hop("lb", "consequence", true);
    assert_held(&run, "backend");
    // nginx's own drop is matched against its setting; HAProxy only passed it on.
    assert!(
        run.hop("nginx")["idle"]["matches"]
            .as_str()
            .is_some_and(|m| m.contains("proxy_read_timeout")),
        "{}",
        run.describe()
    );
    assert_eq!(
        run.hop("lb")["idle"]["matches"],
        Value::Null,
        "{}",
        run.describe()
    );
    // No close frame came from nginx: the close is abnormal.
    assert_eq!(
        run.hop("nginx")["idle"]["close_code"],
        1006,
        "{}",
        run.describe()
    );
    run.assert_fix_says(&["proxy_read_timeout"]);
}

/// A path whose every hop holds for the idle period is healthy.
#[test]
fn idle_path_that_holds_is_ok() {
    let run = check_path(&behind_nginx(&Setup::good()), &["--idle", "4s"]);
    run.assert_healthy();
    assert_held(&run, "nginx");
    assert_held(&run, "backend");
}
