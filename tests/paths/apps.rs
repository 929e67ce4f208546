//! Applications that refuse the client themselves, behind a proxy that works: the application
//! is the culprit, the proxy passes its answer on, and the fix names what the client must send.

use super::*;

/// apps.py with `flags` behind a working nginx.
fn behind_nginx(flags: &[&str]) -> WsPath {
    front(App::path(flags), "nginx", Kind::Nginx, &Setup::good())
}

/// `websockets` with `subprotocols=[…]` answers 400 "missing subprotocol" to a client that
/// offers none: the fix is `--protocol`, not "check that it accepts an HTTP/1.1 GET".
#[test]
fn application_requiring_a_subprotocol() {
    let path = behind_nginx(&["--subprotocol", "graphql-transport-ws"]);
    let run = check_path(&path, &[]);
    run.assert_culprit("app", "rejected");
    run.assert_hop("app", "status", 400);
    run.assert_fix_says(&["--protocol"]);
    check_path(&path, &["--protocol", "graphql-transport-ws"]).assert_healthy();
}

/// The application accepts the upgrade and closes at once with 1008: that is its decision (a
/// missing token), not a proxy that loses frames.
#[test]
fn application_closing_with_policy_violation_after_the_upgrade() {
    let run = check_path(&behind_nginx(&["--close", "1008:missing token"]), &[]);
    run.assert_culprit("app", "frames_failed");
    run.assert_hop("nginx", "consequence", true);
    let summary = run.summary();
    assert!(
        summary.contains("accepts the upgrade") && summary.contains("1008 \"missing token\""),
        "{}",
        run.describe()
    );
    assert!(
        !summary.contains("does not carry frames"),
        "{}",
        run.describe()
    );
    run.assert_fix_says(&["policy violation", "-H 'Authorization"]);
}

/// 1011 right after the upgrade: the application crashed on connect.
#[test]
fn application_failing_with_internal_error_after_the_upgrade() {
    let run = check_path(&App::path(&["--close", "1011:boom"]), &[]);
    run.assert_culprit("app", "frames_failed");
    run.assert_fix_says(&["1011 internal error", "log"]);
}

/// A health page where the WebSocket endpoint should be, behind HAProxy (which passes the 200
/// on): the path is served as plain HTTP.
#[test]
fn a_health_page_on_the_websocket_path_behind_haproxy() {
    let path = front(App::path(&["--page"]), "lb", Kind::Haproxy, &Setup::good());
    let run = check_path(&path, &[]);
    run.assert_culprit("app", "rejected");
    run.assert_hop("lb", "consequence", true);
    run.assert_hop("app", "status", 200);
    run.assert_fix_says(&["ordinary page (200)", "--hop NAME=ws://HOST:PORT/PATH"]);
}

/// An application that accepts the upgrade and then never reads a frame answers no ping: the
/// application is the culprit (nginx passes the silence on) and the fix is about it, not about
/// "a proxy, WAF or the application".
#[test]
fn application_that_never_answers_a_ping() {
    let run = check_path(&behind_nginx(&["--no-pong"]), &["--timeout", "2s"]);
    run.assert_culprit("app", "frames_failed");
    run.assert_hop("nginx", "consequence", true);
    run.assert_summary_says(&["accepts the upgrade but does not answer"]);
    run.assert_fix_says(&["pong for every ping", "event loop"]);
}

/// `--protocol chat` against an application that has no subprotocols: it answers 101 without
/// Sec-WebSocket-Protocol, which browsers fail. The fix is the subprotocol, not "something
/// rewrites Sec-WebSocket-Accept".
#[test]
fn a_subprotocol_the_application_does_not_take() {
    let run = check_path(&behind_nginx(&[]), &["--protocol", "chat"]);
    run.assert_culprit("app", "bad_accept");
    run.assert_hop("nginx", "consequence", true);
    run.assert_fix_says(&["does not take the subprotocol", "`--protocol`"]);
}
