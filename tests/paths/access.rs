//! Refusals by an access rule or a route: which software refused, and the setting to look at.

use super::*;
use crate::support::Backend;

/// HAProxy `http-request deny` on the WebSocket path: its 403 page says "Request forbidden by
/// administrative rules", so the fix is the deny rule, not Origin allow-lists.
#[test]
fn haproxy_deny_rule_on_the_websocket_path() {
    let backend = Backend::start().expect("backend");
    let lb = haproxy_with(
        "http-request deny if { path_beg /ws }",
        "",
        &backend.addr(),
        "",
    );
    let run = check(&[("lb", &lb.addr()), ("backend", &backend.addr())], &[]);
    run.assert_culprit("lb", "rejected");
    assert_eq!(run.hop("lb")["status"], 403, "{}", run.describe());
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
    let backend = Backend::start().expect("backend");
    let upstream = backend.addr();
    let nginx = Nginx::start(move |port| {
        format!(
            "{map}server {{
    listen 127.0.0.1:{port};
    location /api/ {{
        proxy_pass http://{upstream};
        {UPGRADE_OK}
    }}
    location / {{ return 404; }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("start nginx");
    let run = check(
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("nginx", "rejected");
    assert_eq!(
        run.hop("nginx")["answered_by"],
        "nginx",
        "{}",
        run.describe()
    );
    run.assert_fix_says(&["no `location` that proxies this path"]);
}

/// An application that checks Origin, behind nginx: nginx passes its 403 on, the application
/// is the culprit, and the fix is its allow-list (or the Origin the real clients send).
#[test]
fn application_refusing_the_origin_behind_nginx() {
    let app = App::start(&["--origin", "https://chat.example"]);
    let nginx = good_nginx(&app.addr());
    let hops = [("nginx", nginx.addr()), ("app", app.addr())];
    let hops: Vec<(&str, &str)> = hops.iter().map(|(n, a)| (*n, a.as_str())).collect();
    let run = check(&hops, &[]);
    run.assert_culprit("app", "rejected");
    assert_eq!(run.hop("nginx")["consequence"], true, "{}", run.describe());
    run.assert_fix_says(&["refuses the request's Origin", "--origin"]);
    check(&hops, &["--origin", "https://chat.example"]).assert_healthy();
}

/// nginx `deny all` on the WebSocket location: its own 403 page. The fix is nginx's access
/// rules, not an Origin allow-list (nothing in the answer names the Origin).
#[test]
fn nginx_deny_on_the_websocket_location() {
    let backend = Backend::start().expect("backend");
    let nginx = nginx_with(&format!(
        "deny all;\n        proxy_pass http://{};\n        {UPGRADE_OK}",
        backend.addr()
    ));
    let run = check(&[("nginx", &nginx.addr())], &[]);
    run.assert_culprit("nginx", "rejected");
    assert_eq!(run.hop("nginx")["status"], 403, "{}", run.describe());
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
    let backend = Backend::start().expect("backend");
    let lb = haproxy_with(
        "",
        "http-request set-header Connection close",
        &backend.addr(),
        "",
    );
    let run = check(
        &[("haproxy", &lb.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("haproxy", "upgrade_stripped");
    run.assert_fix_says(&["`set-header`", "Connection"]);
    assert!(!run.fix().contains("ALB"), "{}", run.describe());

    let lb = haproxy_with("", "option httpclose", &backend.addr(), "");
    check(
        &[("haproxy", &lb.addr()), ("backend", &backend.addr())],
        &[],
    )
    .assert_healthy();
}

/// nginx hiding the backend's Sec-WebSocket-Accept (`proxy_hide_header`): its 101 is invalid
/// while the backend's, probed directly, is valid; the fix is nginx's response-header rule.
#[test]
fn nginx_hiding_the_accept_header_of_a_valid_101() {
    let backend = Backend::start().expect("backend");
    let nginx = nginx_with(&format!(
        "proxy_pass http://{};\n        {UPGRADE_OK}\n        proxy_hide_header Sec-WebSocket-Accept;",
        backend.addr()
    ));
    let run = check(
        &[("nginx", &nginx.addr()), ("backend", &backend.addr())],
        &[],
    );
    run.assert_culprit("nginx", "bad_accept");
    run.assert_fix_says(&["`proxy_hide_header`", "answers a valid 101"]);
}
