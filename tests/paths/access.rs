//! Refusals by an access rule or a route: which software refused, and the setting to look at.

use super::*;
use crate::support::nginx::UPGRADE_DIRECTIVES;

/// HAProxy `http-request deny` on the WebSocket path: its 403 page says "Request forbidden by
/// administrative rules", so the fix is the deny rule, not Origin allow-lists.
#[test]
fn haproxy_deny_rule_on_the_websocket_path() {
    let setup = Setup::good().front_directive("http-request deny if { path_beg /ws }");
    let path = front(backend_path(), "lb", Kind::Haproxy, &setup);
    let run = check_path(&path, &[]);
    run.assert_culprit("lb", "rejected");
    run.assert_hop("lb", "status", 403);
    run.assert_fix_says(&["http-request deny"]);
    assert!(
        run.hop("lb")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("`http-request deny`")),
        "{}",
        run.describe()
    );
}

/// nginx whose WebSocket path falls into a location that does not proxy (its own 404 page).
#[test]
fn nginx_location_that_does_not_proxy_the_websocket_path() {
    let path = crate::check::front_nginx(backend_path(), |b| {
        format!(
            "location /api/ {{ proxy_pass http://{b}; {UPGRADE_DIRECTIVES} }}
    location / {{ return 404; }}"
        )
    });
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "rejected");
    run.assert_hop("nginx", "answered_by", "nginx");
    run.assert_fix_says(&["no `location` that proxies this path"]);
}

/// An application that checks Origin, behind nginx: nginx passes its 403 on, the application
/// is the culprit, and the fix is its allow-list (or the Origin the real clients send).
#[test]
fn application_refusing_the_origin_behind_nginx() {
    let app = App::path(&["--origin", "https://chat.example"]);
    let path = front(app, "nginx", Kind::Nginx, &Setup::good());
    let run = check_path(&path, &[]);
    run.assert_culprit("app", "rejected");
    run.assert_hop("nginx", "consequence", true);
    run.assert_fix_says(&["refuses the request's Origin", "--origin"]);
    check_path(&path, &["--origin", "https://chat.example"]).assert_healthy();
}

/// nginx `deny all` on the WebSocket location: its own 403 page. The fix is nginx's access
/// rules, not an Origin allow-list (nothing in the answer names the Origin).
#[test]
fn nginx_deny_on_the_websocket_location() {
    let setup = Setup::good().directive("deny all;");
    let path = front(backend_path(), "nginx", Kind::Nginx, &setup);
    let run = check(&path.pairs()[..1], &[]);
    run.assert_culprit("nginx", "rejected");
    run.assert_hop("nginx", "status", 403);
    run.assert_fix_says(&["`deny`/`allow`"]);
    assert!(
        !run.fix().contains("refuses the request's Origin"),
        "{}",
        run.describe()
    );
}

/// HAProxy rewriting `Connection: close` on the way (`http-request set-header`): the backend
/// says "invalid Connection header: close"; the fix is that rule, for HAProxy only. And
/// `option httpclose`, often blamed, does not break the upgrade on HAProxy 2.x: healthy.
#[test]
fn haproxy_rewriting_connection_close_and_httpclose_that_does_not_matter() {
    let setup = Setup::good().directive("http-request set-header Connection close");
    let path = front(backend_path(), "haproxy", Kind::Haproxy, &setup);
    let run = check_path(&path, &[]);
    run.assert_culprit("haproxy", "upgrade_stripped");
    run.assert_fix_says(&["`set-header`", "Connection"]);
    assert!(!run.fix().contains("ALB"), "{}", run.describe());

    let setup = Setup::good().directive("option httpclose");
    check_path(
        &front(backend_path(), "haproxy", Kind::Haproxy, &setup),
        &[],
    )
    .assert_healthy();
}

/// nginx hiding the backend's Sec-WebSocket-Accept (`proxy_hide_header`): its 101 is invalid
/// while the backend's, probed directly, is valid; the fix is nginx's response-header rule.
#[test]
fn nginx_hiding_the_accept_header_of_a_valid_101() {
    let setup = Setup::good().directive("proxy_hide_header Sec-WebSocket-Accept;");
    let path = front(backend_path(), "nginx", Kind::Nginx, &setup);
    let run = check_path(&path, &[]);
    run.assert_culprit("nginx", "bad_accept");
    run.assert_fix_says(&["`proxy_hide_header`", "answers a valid 101"]);
}
