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
