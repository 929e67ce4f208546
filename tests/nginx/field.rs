//! Regressions from field QA on real-world configurations (Home Assistant, Mastodon, Proxmox,
//! Vaultwarden, Django Channels, SignalR, Rails, hardened keepalive bases, files saved on
//! Windows): each case runs real nginx where the claim is about what nginx does, and checks
//! that what wspath says matches what nginx and the backend did.

use super::fix::fix;
use super::lint::prefix_with;
use crate::support::check::{check, Run};
use crate::support::cli::{wspath, CliOutput};
use crate::support::nginx::{main_config, nginx_t, CONNECTION_UPGRADE_MAP, UPGRADE_DIRECTIVES};
use crate::support::{free_port, Backend, Nginx, SelfSigned};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

fn lint_doc(conf: &Path, extra: &[&str]) -> (CliOutput, Value) {
    let mut args = vec!["lint", "nginx", conf.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = wspath(&args, T).expect("run wspath");
    let doc = out.json().unwrap_or(Value::Null);
    (out, doc)
}

/// The finding ids of a lint document or of a hop's report.
pub(super) fn ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| f["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn hop_ids(run: &Run, hop: &str) -> Vec<String> {
    ids(run.hop(hop))
}

fn fact<'a>(run: &'a Run, hop: &str, name: &str) -> &'a str {
    run.hop(hop)["facts"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or("")
}

/// Home Assistant's and Mastodon's layout: a `return 301` server on another port carries the
/// same server_name and comes first; nginx picks the TLS server by the port the connection
/// came to, and so must `check --nginx-conf` (it reported `no-location` on a healthy path).
#[test]
fn check_nginx_conf_picks_the_server_by_port_and_tls_before_the_name() {
    let backend = Backend::start().expect("backend");
    let tls = SelfSigned::new("app.test").expect("certificate");
    let (cert, key) = (
        tls.cert.display().to_string(),
        tls.key.display().to_string(),
    );
    let b = backend.addr();
    let nginx = Nginx::start_full(|dir, port| {
        let other = free_port().expect("port");
        main_config(
            dir,
            &format!(
                "{CONNECTION_UPGRADE_MAP}
    server {{
        server_name app.test;
        listen 127.0.0.1:{other};
        return 301 https://$host$request_uri;
    }}
    server {{
        server_name app.test;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        listen 127.0.0.1:{port} ssl http2 default_server;
        location / {{
            proxy_pass http://{b};
            proxy_set_header Host $host;
            {UPGRADE_DIRECTIVES}
        }}
    }}"
            ),
        )
    })
    .expect("start nginx");
    let conf = nginx.conf_path().display().to_string();
    let run = check(
        "wss://app.test/api/websocket",
        &[("nginx", &nginx.addr())],
        &["--nginx-conf", &conf, "-k", "--http1-only"],
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    run.assert_upgraded("nginx");
    let found = hop_ids(&run, "nginx");
    assert!(
        !found
            .iter()
            .any(|id| id == "nginx/no-location" || id == "nginx/location-not-proxying"),
        "{found:?}\n{}",
        run.describe()
    );
    assert!(
        fact(&run, "nginx", "location").starts_with("location / ("),
        "{}",
        run.describe()
    );
    assert_eq!(fact(&run, "nginx", "derived_backend"), b.as_str());
}

/// Django Channels' recipe: `location / { try_files $uri @proxy_to_app; }`. A WebSocket path
/// is no file, so the named location serves it: that is the one to judge (lint said
/// `location-not-proxying` on `location /` while the path upgraded).
#[test]
fn a_path_handed_to_a_named_location_by_try_files_is_judged_there() {
    let backend = Backend::start().expect("backend");
    let b = backend.addr();
    let layout = |upgrade: &str| {
        let upgrade = upgrade.to_string();
        let b = b.clone();
        move |dir: &Path, port: u16| {
            main_config(
                dir,
                &format!(
                    "upstream channels-backend {{ server {b}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
        root {root};
        location / {{
            try_files $uri @proxy_to_app;
        }}
        location @proxy_to_app {{
            proxy_pass http://channels-backend;
            proxy_http_version 1.1;
            {upgrade}
            proxy_set_header Connection \"upgrade\";
            proxy_redirect off;
            proxy_set_header Host $host;
        }}
    }}",
                    root = dir.display()
                ),
            )
        }
    };
    let good = Nginx::start_full(layout("proxy_set_header Upgrade $http_upgrade;")).expect("nginx");
    let conf = good.conf_path().display().to_string();
    let run = check(
        "ws://app.test/ws/chat/lobby/",
        &[("nginx", &good.addr())],
        &["--nginx-conf", &conf],
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        fact(&run, "nginx", "location").starts_with("location @proxy_to_app"),
        "{}",
        run.describe()
    );
    assert_eq!(fact(&run, "nginx", "derived_backend"), b.as_str());

    // Without Upgrade the named location is the culprit's, and nginx really strips it.
    let broken = Nginx::start_full(layout("")).expect("nginx");
    let (out, doc) = lint_doc(&broken.conf_path(), &["--path", "/ws/chat/lobby/"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert_eq!(doc["locations"][0]["name"], "location @proxy_to_app");
    assert!(ids(&doc).contains(&"nginx/upgrade-not-forwarded".to_string()));
    let run = check(
        "ws://app.test/ws/chat/lobby/",
        &[("nginx", &broken.addr()), ("backend", &b)],
        &[],
    );
    run.assert_culprit("nginx", "upgrade_stripped");
}

fn signalr_map(first_key: &str) -> String {
    format!(
        "map $http_connection $connection_upgrade {{
        {first_key} $http_connection;
        default keep-alive;
    }}"
    )
}

/// Microsoft's SignalR recipe maps `$http_connection`, not `$http_upgrade`: judged with
/// "websocket" as input it read as a forced `keep-alive` (an error on a path that upgrades).
/// A map keyed on the whole value really refuses Firefox, and lint says so.
#[test]
fn a_map_on_the_connection_header_is_judged_per_browser() {
    let backend = Backend::start().expect("backend");
    let b = backend.addr();
    let start = |map: String| {
        let b = b.clone();
        Nginx::start(move |port| {
            format!(
                "{map}
    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
        location /hubroute {{
            proxy_pass http://{b};
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_http_version 1.1;
            proxy_read_timeout 100s;
        }}
    }}"
            )
        })
        .expect("start nginx")
    };
    let published = start(signalr_map("\"~*Upgrade\""));
    let (out, doc) = lint_doc(&published.conf_path(), &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(ids(&doc).is_empty(), "{:?}", ids(&doc));
    let run = check(
        "ws://app.test/hubroute",
        &[("nginx", &published.addr())],
        &["--as", "firefox"],
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());

    let whole_value = start(signalr_map("Upgrade"));
    let (out, doc) = lint_doc(&whole_value.conf_path(), &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let f = &doc["findings"][0];
    assert_eq!(f["id"], "nginx/connection-forced-close", "{doc}");
    assert!(
        f["message"].as_str().unwrap_or("").contains("Firefox"),
        "{doc}"
    );
    // What the finding claims: Chrome's handshake upgrades, Firefox's does not.
    let chrome = check(
        "ws://app.test/hubroute",
        &[("nginx", &whole_value.addr())],
        &["--as", "chrome"],
    );
    assert_eq!(chrome.code(), Some(0), "{}", chrome.describe());
    let firefox = check(
        "ws://app.test/hubroute",
        &[("nginx", &whole_value.addr()), ("backend", &b)],
        &["--as", "firefox"],
    );
    assert_eq!(firefox.code(), Some(1), "{}", firefox.describe());
    assert_ne!(firefox.hop("nginx")["verdict"], "upgraded");
}

/// `if ($http_connection != "Upgrade") { return 400; }` passes curl and Chrome and refuses
/// every Firefox user; lint missed it.
#[test]
fn an_if_that_compares_the_whole_connection_header_is_an_error() {
    let backend = Backend::start().expect("backend");
    let b = backend.addr();
    let nginx = Nginx::start(move |port| {
        format!(
            "{CONNECTION_UPGRADE_MAP}
    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
        location /ws {{
            if ($http_connection != \"Upgrade\") {{ return 400; }}
            proxy_pass http://{b};
            {UPGRADE_DIRECTIVES}
            proxy_read_timeout 1h;
        }}
    }}"
        )
    })
    .expect("start nginx");
    let (out, doc) = lint_doc(&nginx.conf_path(), &["--path", "/ws"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert_eq!(ids(&doc), ["nginx/if-rejects-upgrade"]);
    let f = &doc["findings"][0];
    assert!(f["message"].as_str().unwrap().contains("Firefox"), "{doc}");
    assert!(
        f["evidence"]
            .as_str()
            .unwrap()
            .starts_with("if ($http_connection != \"Upgrade\")"),
        "{doc}"
    );
    let firefox = check(
        "ws://app.test/ws",
        &[("nginx", &nginx.addr())],
        &["--as", "firefox"],
    );
    assert_eq!(firefox.code(), Some(1), "{}", firefox.describe());
    assert_eq!(
        firefox.hop("nginx")["status"],
        400,
        "{}",
        firefox.describe()
    );

    // A token match lets every browser through, and lint agrees.
    let fixed = nginx.conf_path().parent().unwrap().join("token.conf");
    let text = std::fs::read_to_string(nginx.conf_path())
        .unwrap()
        .replace("!= \"Upgrade\"", "!~* upgrade");
    std::fs::write(&fixed, text).unwrap();
    let (out, doc) = lint_doc(&fixed, &["--path", "/ws"]);
    assert_eq!(out.code, Some(0), "{}\n{doc}", out.describe());
}

/// `if ($http_upgrade = "websocket") { proxy_pass …; }` sends every WebSocket to the `if`'s
/// backend: the derived backend hop is that one, not the location's (it blamed a dead port).
#[test]
fn the_backend_is_derived_from_the_if_every_websocket_enters() {
    let backend = Backend::start().expect("backend");
    let b = backend.addr();
    let dead = free_port().expect("port");
    let inner = b.clone();
    let nginx = Nginx::start(move |port| {
        format!(
            "{CONNECTION_UPGRADE_MAP}
    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
        location /app/ {{
            {UPGRADE_DIRECTIVES}
            if ($http_upgrade = \"websocket\") {{
                proxy_pass http://{inner};
                break;
            }}
            proxy_pass http://127.0.0.1:{dead};
        }}
    }}"
        )
    })
    .expect("start nginx");
    let conf = nginx.conf_path().display().to_string();
    let run = check(
        "ws://app.test/app/socket",
        &[("nginx", &nginx.addr())],
        &["--nginx-conf", &conf],
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    run.assert_hop("backend", "address", b.as_str());
    run.assert_upgraded("backend");
}

/// nginx's regexes are PCRE: `location ~ ^/(?!assets/)` (Rails and SPA recipes) was never
/// matched, so lint said no location serves /cable.
#[test]
fn pcre_lookahead_locations_match_as_in_nginx() {
    let (dir, conf) = prefix_with(
        "nginx.conf",
        "events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:8080;
        location ~ ^/(?!cable|api)(.*)\\.(js|css)$ { expires 1y; }
        location ~ ^/(?!assets/) {
            proxy_pass http://127.0.0.1:3000;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
        }
    }
}
",
    );
    let t = nginx_t(&conf, dir.path()).expect("nginx -t");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let (out, doc) = lint_doc(&conf, &["--path", "/cable"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(doc["locations"][0]["name"], "location ~ ^/(?!assets/)");
    let (_, doc) = lint_doc(&conf, &["--path", "/assets/app.js"]);
    assert_eq!(
        ids(&doc),
        ["nginx/location-not-proxying"],
        "the static regex serves it: {doc}"
    );
}

/// A configuration saved with CRLF line endings keeps them where the fixer inserts lines.
#[test]
fn the_fix_keeps_crlf_line_endings() {
    let text = "events {}\nhttp {\n\tserver {\n\t\tlisten 127.0.0.1:8080;\n\t\tlocation /ws {\n\t\t\tproxy_pass http://127.0.0.1:3000; # the app\n\t\t\tproxy_set_header Host # keep the name\n\t\t\t\t$host;\n\t\t}\n\t}\n}\n"
        .replace('\n', "\r\n");
    let (dir, conf) = prefix_with("nginx.conf", &text);
    let out = fix(&conf, dir.path(), &["--yes"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let fixed = std::fs::read_to_string(&conf).unwrap();
    assert!(fixed.contains("proxy_http_version 1.1;\r\n"), "{fixed:?}");
    let lone_lf = fixed
        .match_indices('\n')
        .filter(|(i, _)| !fixed[..*i].ends_with('\r'))
        .count();
    assert_eq!(lone_lf, 0, "{fixed:?}");
    let t = nginx_t(&conf, dir.path()).expect("nginx -t");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let again = fix(&conf, dir.path(), &["--yes"]);
    assert!(
        again.stdout.contains("Nothing to change."),
        "{}",
        again.describe()
    );
}

/// A UTF-8 byte order mark is part of the first directive's name to nginx, which refuses the
/// file; lint read it as empty and exited 0.
#[test]
fn a_byte_order_mark_is_refused_as_nginx_refuses_it() {
    let (dir, conf) = prefix_with(
        "nginx.conf",
        "\u{feff}events {}\nhttp { server { listen 127.0.0.1:8080; location /ws { proxy_pass http://127.0.0.1:3000; } } }\n",
    );
    let t = nginx_t(&conf, dir.path()).expect("nginx -t");
    assert!(!t.status.success());
    assert!(String::from_utf8_lossy(&t.stderr).contains("unknown directive"));
    let out = wspath(&["lint", "nginx", conf.to_str().unwrap()], T).expect("run");
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("nginx.conf:1: unknown directive"),
        "{}",
        out.describe()
    );
}

/// A hardened base with `keepalive` upstreams and `Connection ""` at server level: the lost
/// header's advice is the map (repeating `Connection ""` keeps it broken), and the map the fix
/// adds keeps upstream keepalive for plain requests ('' → "").
#[test]
fn a_keepalive_base_gets_the_map_not_a_repeated_empty_connection() {
    let (dir, conf) = prefix_with(
        "nginx.conf",
        "events {}
http {
    upstream app { server 127.0.0.1:3000; keepalive 32; }
    server {
        listen 127.0.0.1:8080;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        location /live/ {
            proxy_pass http://app;
            proxy_set_header Upgrade $http_upgrade;
            proxy_read_timeout 1h;
        }
    }
}
",
    );
    let (_, doc) = lint_doc(&conf, &[]);
    assert_eq!(ids(&doc), ["nginx/headers-lost-to-inheritance"], "{doc}");
    let advice = doc["findings"][0]["fix"].as_str().unwrap();
    assert!(advice.contains("$connection_upgrade"), "{advice}");
    let out = fix(&conf, dir.path(), &["--yes"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let fixed = std::fs::read_to_string(&conf).unwrap();
    assert!(fixed.contains("''      \"\";"), "{fixed}");
    let t = nginx_t(&conf, dir.path()).expect("nginx -t");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let (_, doc) = lint_doc(&conf, &[]);
    assert!(ids(&doc).is_empty(), "{doc}");
}

/// `listen … http2` without `ssl` on nginx before 1.25.1 answers HTTP/1.1 with HTTP/2 frames:
/// no WebSocket can open there, and lint said nothing.
#[test]
fn a_plain_http2_listen_is_an_error_before_nginx_1_25_1() {
    let backend = Backend::start().expect("backend");
    let b = backend.addr();
    let nginx = Nginx::start(move |port| {
        format!(
            "{CONNECTION_UPGRADE_MAP}
    server {{
        listen 127.0.0.1:{port} http2;
        server_name app.test;
        location /ws/ {{
            proxy_pass http://{b};
            {UPGRADE_DIRECTIVES}
            proxy_read_timeout 1h;
        }}
    }}"
        )
    })
    .expect("start nginx");
    let run = check("ws://app.test/ws/chat", &[("nginx", &nginx.addr())], &[]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert_ne!(
        run.hop("nginx")["verdict"],
        "upgraded",
        "{}",
        run.describe()
    );
    let (out, doc) = lint_doc(&nginx.conf_path(), &["--nginx-version", "1.22.1"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert_eq!(ids(&doc), ["nginx/listen-http2-without-ssl"], "{doc}");
    let (out, doc) = lint_doc(&nginx.conf_path(), &["--nginx-version", "1.25.1"]);
    assert_eq!(out.code, Some(0), "{}\n{doc}", out.describe());
}

/// The "418 trick": `error_page 418 = @websocket; if ($http_upgrade = "websocket") { return 418; }`
/// hands every WebSocket to the named location; lint judged `location /` (four false errors,
/// one of them if-rejects-upgrade) and check derived the plain backend.
#[test]
fn a_return_handed_to_a_named_location_by_error_page_is_followed() {
    let backend = Backend::start().expect("backend");
    let b = backend.addr();
    let dead = free_port().expect("port");
    let inner = b.clone();
    let nginx = Nginx::start(move |port| {
        format!(
            "{CONNECTION_UPGRADE_MAP}
    server {{
        listen 127.0.0.1:{port};
        server_name app.test;
        location / {{
            error_page 418 = @websocket;
            if ($http_upgrade = \"websocket\") {{
                return 418;
            }}
            proxy_pass http://127.0.0.1:{dead};
        }}
        location @websocket {{
            proxy_pass http://{inner};
            {UPGRADE_DIRECTIVES}
            proxy_read_timeout 1h;
        }}
    }}"
        )
    })
    .expect("start nginx");
    let (out, doc) = lint_doc(&nginx.conf_path(), &["--path", "/"]);
    assert_eq!(out.code, Some(0), "{}\n{doc}", out.describe());
    assert_eq!(doc["locations"][0]["name"], "location @websocket", "{doc}");
    let conf = nginx.conf_path().display().to_string();
    let run = check(
        "ws://app.test/",
        &[("nginx", &nginx.addr())],
        &["--nginx-conf", &conf],
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    run.assert_hop("backend", "address", b.as_str());
}

/// `check --fix` plans by Host without the port: with a `return 301` server sharing the name
/// in front, it planned nothing for the TLS location that strips Upgrade.
#[test]
fn check_fix_plans_the_edits_in_the_server_that_proxies_the_name() {
    let backend = Backend::start().expect("backend");
    let tls = SelfSigned::new("app.test").expect("certificate");
    let (cert, key) = (
        tls.cert.display().to_string(),
        tls.key.display().to_string(),
    );
    let b = backend.addr();
    let nginx = Nginx::start_full(|dir, port| {
        let other = free_port().expect("port");
        main_config(
            dir,
            &format!(
                "server {{
        server_name app.test;
        listen 127.0.0.1:{other};
        return 301 https://$host$request_uri;
    }}
    server {{
        server_name app.test;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        listen 127.0.0.1:{port} ssl;
        location / {{
            proxy_pass http://{b};
        }}
    }}"
            ),
        )
    })
    .expect("start nginx");
    let conf = nginx.conf_path().display().to_string();
    let hop = format!("nginx={}", nginx.addr());
    let out = wspath(
        &[
            "check",
            "wss://app.test/ws",
            "--hop",
            &hop,
            "-k",
            "--http1-only",
            "--nginx-conf",
            &conf,
            "--fix",
        ],
        T,
    )
    .expect("run wspath");
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout.contains("+            proxy_http_version 1.1;"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("proxy_set_header Upgrade $http_upgrade;"),
        "{}",
        out.describe()
    );
}

/// `fix --yes` mends what it can; an error it cannot mend (a plain `listen … http2` before
/// nginx 1.25.1) keeps the exit at 1, so a CI step running the fix does not go green on a path
/// that still cannot upgrade, and JSON lists it under `unfixed`.
#[test]
fn an_error_the_fix_cannot_mend_keeps_the_exit_at_one() {
    let text = "events {}\nhttp {\n    server {\n        listen 127.0.0.1:8080 http2;\n        location /ws {\n            proxy_pass http://127.0.0.1:3000;\n        }\n    }\n}\n";
    let (dir, conf) = prefix_with("nginx.conf", text);
    let v = ["--nginx-version", "1.22.1"];
    let out = fix(&conf, dir.path(), &[v[0], v[1], "--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let plan = out.json().expect("a fix document");
    crate::support::check::assert_fix_schema(&plan);
    let unfixed: Vec<&str> = plan["unfixed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str())
        .collect();
    assert!(
        unfixed.len() == 1 && unfixed[0].ends_with("(nginx/listen-http2-without-ssl)"),
        "{plan}"
    );
    let applied = fix(&conf, dir.path(), &[v[0], v[1], "--yes"]);
    assert_eq!(applied.code, Some(1), "{}", applied.describe());
    assert!(
        applied.stdout.contains("[applied] nginx")
            && applied.stdout.contains("not fixed automatically: ")
            && applied.stdout.contains("nginx/listen-http2-without-ssl"),
        "{}",
        applied.describe()
    );
    let again = fix(&conf, dir.path(), &[v[0], v[1], "--yes"]);
    assert_eq!(again.code, Some(1), "{}", again.describe());
    assert!(
        again
            .stdout
            .contains("Nothing wspath can change automatically")
            && !again.stdout.contains("Nothing to change."),
        "{}",
        again.describe()
    );
}
