//! Applications that refuse the client themselves, behind a proxy that works: the application
//! is the culprit, the proxy passes its answer on, and the fix names what the client must send.

use super::*;

fn behind_nginx(app: &App, extra: &[&str]) -> Run {
    let nginx = good_nginx(&app.addr());
    check(&[("nginx", &nginx.addr()), ("app", &app.addr())], extra)
}

/// `websockets` with `subprotocols=[…]` answers 400 "missing subprotocol" to a client that
/// offers none: the fix is `--protocol`, not "check that it accepts an HTTP/1.1 GET".
#[test]
fn application_requiring_a_subprotocol() {
    let app = App::start(&["--subprotocol", "graphql-transport-ws"]);
    let run = behind_nginx(&app, &[]);
    run.assert_culprit("app", "rejected");
    assert_eq!(run.hop("app")["status"], 400, "{}", run.describe());
    run.assert_fix_says(&["--protocol"]);
    behind_nginx(&app, &["--protocol", "graphql-transport-ws"]).assert_healthy();
}

/// The application accepts the upgrade and closes at once with 1008: that is its decision (a
/// missing token), not a proxy that loses frames.
#[test]
fn application_closing_with_policy_violation_after_the_upgrade() {
    let app = App::start(&["--close", "1008:missing token"]);
    let run = behind_nginx(&app, &[]);
    run.assert_culprit("app", "frames_failed");
    assert_eq!(run.hop("nginx")["consequence"], true, "{}", run.describe());
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
    let app = App::start(&["--close", "1011:boom"]);
    let run = check(&[("app", &app.addr())], &[]);
    run.assert_culprit("app", "frames_failed");
    run.assert_fix_says(&["1011 internal error", "log"]);
}

/// A health page where the WebSocket endpoint should be, behind HAProxy (which passes the 200
/// on): the path is served as plain HTTP.
#[test]
fn a_health_page_on_the_websocket_path_behind_haproxy() {
    let app = App::start(&["--page"]);
    let lb = haproxy_with("", "", &app.addr(), "");
    let run = check(&[("lb", &lb.addr()), ("app", &app.addr())], &[]);
    run.assert_culprit("app", "rejected");
    assert_eq!(run.hop("lb")["consequence"], true, "{}", run.describe());
    assert_eq!(run.hop("app")["status"], 200, "{}", run.describe());
    run.assert_fix_says(&["ordinary page (200)", "--hop NAME=ws://HOST:PORT/PATH"]);
}

/// An application that accepts the upgrade and then never reads a frame answers no ping: the
/// application is the culprit (nginx passes the silence on) and the fix is about it, not about
/// "a proxy, WAF or the application".
#[test]
fn application_that_never_answers_a_ping() {
    let app = App::start(&["--no-pong"]);
    let nginx = good_nginx(&app.addr());
    let run = check(
        &[("nginx", &nginx.addr()), ("app", &app.addr())],
        &["--timeout", "2s"],
    );
    run.assert_culprit("app", "frames_failed");
    assert_eq!(run.hop("nginx")["consequence"], true, "{}", run.describe());
    assert!(
        run.summary()
            .contains("accepts the upgrade but does not answer"),
        "{}",
        run.describe()
    );
    run.assert_fix_says(&["pong for every ping", "event loop"]);
}

/// `--protocol chat` against an application that has no subprotocols: it answers 101 without
/// Sec-WebSocket-Protocol, which browsers fail. The fix is the subprotocol, not "something
/// rewrites Sec-WebSocket-Accept".
#[test]
fn a_subprotocol_the_application_does_not_take() {
    let app = App::start(&[]);
    let nginx = good_nginx(&app.addr());
    let run = check(
        &[("nginx", &nginx.addr()), ("app", &app.addr())],
        &["--protocol", "chat"],
    );
    run.assert_culprit("app", "bad_accept");
    assert_eq!(run.hop("nginx")["consequence"], true, "{}", run.describe());
    run.assert_fix_says(&["does not take the subprotocol", "`--protocol`"]);
}
