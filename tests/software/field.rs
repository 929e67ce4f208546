//! Cases a field test found weakly diagnosed (/work/qa-findings.md F1–F7), each on the real
//! server broken the way its users break it, with hops named generically: the culprit, its
//! verdict and software, and the words of the fix that name the cause the answer shows.
//!
//! Each broken config is the software's healthy one (`Kind::config` with `Setup::good()`)
//! with one edit.

use super::{assert_software, backend};
use crate::paths::{check_path, Run};
use crate::support::check::check;
use crate::support::{Kind, SelfSigned, Setup, WsPath};
use std::path::Path;

/// `kind`'s healthy config (with `setup`) in front of the inner hop, changed by
/// `edit(config, inner)`.
fn edited(
    kind: Kind,
    setup: Setup,
    edit: impl Fn(String, &str) -> String,
) -> impl Fn(&Path, u16, &str) -> String {
    move |dir, port, inner| {
        let good = kind
            .config(dir, port, inner, &setup)
            .expect("a healthy config");
        let changed = edit(good.clone(), inner);
        assert_ne!(changed, good, "the edit for {kind:?} changed nothing");
        changed
    }
}

/// A working backend behind `kind` configured by `config`, at a hop called `hop`.
fn path(hop: &str, kind: Kind, config: impl Fn(&Path, u16, &str) -> String) -> WsPath {
    WsPath::backend(backend())
        .front_with(hop, kind, config)
        .unwrap_or_else(|e| panic!("start {kind:?}: {e}"))
}

fn assert_diagnosis(r: &Run, hop: &str, verdict: &str, software: &str, says: &[&str]) {
    r.assert_culprit(hop, verdict);
    assert_software(r, hop, software);
    r.assert_fix_says(says);
}

fn assert_fix_does_not_say(r: &Run, words: &str) {
    assert!(
        !r.fix().contains(words) && !r.summary().contains(words),
        "the diagnosis should not say {words:?}\n{}",
        r.describe()
    );
}

/// The Apache line that proxies everything in the healthy config.
fn apache_proxy_pass(inner: &str) -> String {
    format!("ProxyPass / http://{inner}/ upgrade=websocket\n")
}

#[test]
fn haproxy_503_while_the_backend_upgrades_names_the_use_backend_rules() {
    // F3: the WebSocket rule covers `/socket` only, so `/ws` falls to a backend that is down.
    let config = edited(Kind::Haproxy, Setup::good(), |c, _| {
        c.replace(
            "    default_backend be",
            "    use_backend be if { hdr(Upgrade) -i websocket } { path_beg /socket }\n    default_backend static",
        ) + "\nbackend static\n    server s2 127.0.0.1:1\n"
    });
    let p = path("lb", Kind::Haproxy, config);
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "lb",
        "service_unavailable",
        "haproxy",
        &[
            "upgrades when probed directly",
            "`use_backend`",
            "`default_backend`",
        ],
    );
}

#[test]
fn apache_rewrite_rule_proxy_without_upgrade_is_named() {
    // F4: `RewriteRule … [P]` to http:// forwards the request without its upgrade.
    let config = edited(Kind::Apache, Setup::good(), |c, inner| {
        c.replace(
            &apache_proxy_pass(inner),
            &format!("RewriteEngine On\nRewriteRule ^/ws(.*)$ http://{inner}/ws$1 [P,L]\n"),
        )
    });
    let p = path("proxy", Kind::Apache, config);
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "proxy",
        "upgrade_stripped",
        "apache",
        &[
            "A `RewriteRule … [P]` forwards without upgrading",
            "RewriteCond %{HTTP:Upgrade} websocket [NC]",
        ],
    );
}

#[test]
fn apache_request_header_rule_on_upgrade_is_named() {
    // F8: `upgrade=websocket` is there, but mod_headers takes the Upgrade header away.
    let setup = Setup::good().directive("RequestHeader unset Upgrade");
    let p = WsPath::backend(backend())
        .front("proxy", Kind::Apache, &setup)
        .expect("start apache");
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "proxy",
        "upgrade_stripped",
        "apache",
        &["`RequestHeader unset|set|edit`"],
    );
}

#[test]
fn haproxy_ssl_to_a_plain_server_is_named() {
    // F3, second cause: `ssl` on the `server` line of a plain server.
    let config = edited(Kind::Haproxy, Setup::good(), |c, inner| {
        c.replace(
            &format!("server s1 {inner}\n"),
            &format!("server s1 {inner} ssl verify none\n"),
        )
    });
    let p = path("lb", Kind::Haproxy, config);
    let r = check_path(&p, &[]);
    r.assert_culprit("lb", "service_unavailable");
    r.assert_fix_says(&["`ssl`"]);
}

#[test]
fn apache_proxy_pass_order_is_named() {
    // F5: `ProxyPass /` above `ProxyPass /ws ws://…`: the first matching line wins.
    let config = edited(Kind::Apache, Setup::good(), |c, inner| {
        c.replace(
            &apache_proxy_pass(inner),
            &format!("ProxyPass / http://{inner}/\nProxyPass /ws ws://{inner}/ws\n"),
        )
    });
    let p = path("proxy", Kind::Apache, config);
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "proxy",
        "upgrade_stripped",
        "apache",
        &[
            "The first matching `ProxyPass` wins",
            "put the longer prefix first",
        ],
    );
}

#[test]
fn apaches_own_404_is_not_called_another_path() {
    // F6: `ProxyPass /ws/ …` does not match `/ws`; httpd answers from its document root.
    let config = edited(Kind::Apache, Setup::good(), |c, inner| {
        c.replace(
            &apache_proxy_pass(inner),
            &format!("ProxyPass /ws/ ws://{inner}/ws/\n"),
        )
    });
    let p = path("proxy", Kind::Apache, config);
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "proxy",
        "rejected",
        "apache",
        &[
            "httpd's own 404 page",
            "no `ProxyPass` (or `RewriteRule … [P]`) matched this path",
            "`ProxyPass /ws/ …` does not match `/ws`",
        ],
    );
    assert_fix_does_not_say(&r, "sends it another path");
    assert_eq!(r.hop("proxy")["answered_by"], "apache", "{}", r.describe());
}

#[test]
fn nginx_trailing_slash_redirect_names_the_location() {
    // F1: `location /ws/` answers `/ws` with a 301 to `/ws/`.
    let config = edited(Kind::Nginx, Setup::good(), |c, _| {
        c.replace("location / {", "location /ws/ {")
    });
    let p = path("proxy", Kind::Nginx, config);
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "proxy",
        "redirect",
        "nginx",
        &[
            "written with a trailing slash (`location /ws/`)",
            "`location = /ws",
        ],
    );
}

#[test]
fn credentials_sent_and_refused_are_not_asked_for_again() {
    // F2: nginx `auth_basic` with an empty user file refuses every user.
    let setup = Setup::good()
        .directive("auth_basic \"restricted\";")
        .directive("auth_basic_user_file /dev/null;");
    let p = WsPath::backend(backend())
        .front("proxy", Kind::Nginx, &setup)
        .expect("start nginx");
    let secret = "dXNlcjpub3QtdGhlLXBhc3N3b3Jk";
    let header = format!("Authorization: Basic {secret}");
    let r = check_path(&p, &["-H", &header]);
    assert_diagnosis(
        &r,
        "proxy",
        "rejected",
        "nginx",
        &["refuses the credentials sent"],
    );
    assert_fix_does_not_say(&r, "send them");
    assert!(
        !r.out.describe().contains(secret),
        "the secret was printed\n{}",
        r.describe()
    );
    // Without credentials the same hop is asked for them.
    let r = check_path(&p, &[]);
    r.assert_culprit("proxy", "rejected");
    r.assert_fix_says(&["wants credentials: send them"]);
}

#[test]
fn caddy_h2c_transport_to_an_http1_backend_is_named() {
    // F7: `transport http { versions h2c }` cannot talk to an HTTP/1.1 WebSocket server.
    let setup = Setup::good().directive("transport http {\n\t\t\tversions h2c\n\t\t}");
    let p = WsPath::backend(backend())
        .front("edge", Kind::Caddy, &setup)
        .expect("start caddy");
    let r = check_path(&p, &[]);
    assert_diagnosis(
        &r,
        "edge",
        "bad_gateway",
        "caddy",
        &[
            "upgrades when probed directly",
            "`transport http { versions h2c }`",
        ],
    );
}

#[test]
fn a_proxys_own_404_says_nothing_routes_the_path() {
    // F6 for lighttpd and h2o: the route covers `/socket` only, so `/ws` gets the proxy's own
    // 404 page, which must not be read as the backend's answer to a rewritten path.
    let cases: [(Kind, &str, &str, &str, &[&str]); 2] = [
        (
            Kind::Lighttpd,
            "proxy.server = (\"\" =>",
            "proxy.server = (\"/socket\" =>",
            "lighttpd",
            &[
                "lighttpd's own 404 page",
                "no `proxy.server` covers this path",
            ],
        ),
        (
            Kind::H2o,
            "      /:\n",
            "      /socket:\n",
            "h2o",
            &["h2o's own 404", "no `paths:` entry"],
        ),
    ];
    for (kind, from, to, software, says) in cases {
        let config = edited(kind, Setup::good(), move |c, _| c.replace(from, to));
        let p = path("edge", kind, config);
        let r = check_path(&p, &[]);
        assert_diagnosis(&r, "edge", "rejected", software, says);
        assert_fix_does_not_say(&r, "sends it another path");
    }
}

#[test]
fn an_https_redirect_fix_names_the_wss_url() {
    // F9: the fix line gives the URL clients must open, a wss:// one, not the https:// Location.
    let p = WsPath::backend(backend())
        .front_nginx("edge", "", |_| {
            "location / { return 301 https://$host$request_uri; }".to_string()
        })
        .expect("start nginx");
    let r = check_path(&p, &[]);
    r.assert_culprit("edge", "redirect");
    r.assert_fix_says(&["wss://app.test/ws"]);
    assert!(!r.fix().contains("https://app.test/ws"), "{}", r.describe());
}

#[test]
fn a_plain_hop_behind_a_tls_edge_given_bare_is_told_to_be_probed_as_ws() {
    // F10 (the sentence; the path itself is healthy): TLS ends at the edge, and the backend
    // is probed with wss://.
    let cert = SelfSigned::new("app.test").expect("certificate");
    let p = WsPath::backend(backend())
        .front("edge", Kind::Nginx, &Setup::good().serving_tls(&cert))
        .expect("start nginx");
    let ca = cert.ca.display().to_string();
    // Given as wss:// explicitly (a bare address falls back to ws:// by itself: tests/field).
    let pairs = p.pairs();
    let backend_wss = format!("wss://{}", pairs[1].1);
    let r = check(
        "wss://app.test/ws",
        &[pairs[0], ("backend", &backend_wss)],
        &["--cacert", &ca, "--http1-only"],
    );
    r.assert_culprit("backend", "tls_failed");
    assert!(
        r.summary()
            .contains("TLS most likely ends at edge, and backend speaks plain HTTP behind it"),
        "{}",
        r.describe()
    );
    let backend_addr = p.pairs()[1].1;
    r.assert_fix_says(&[
        "probe it as plain ws://",
        &format!("`--hop backend=ws://{backend_addr}`"),
    ]);
    assert_fix_does_not_say(&r, "another server of its pool");
}
