//! `wspath lint nginx`: published WebSocket configurations lint clean and pass `nginx -t`; each
//! with one essential directive removed is flagged; bad input exits 2 with file:line; JSON
//! validates against schemas/lint.schema.json; SARIF is 2.1.0.

use crate::support::cli::{wspath, CliOutput};
use crate::support::nginx::nginx_t;
use crate::support::repo_root;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// A fixture copied into a fresh prefix (logs/ and tmp/ exist) so nginx -t can run on it.
pub fn prefix_with(name: &str, contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
    std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp dir");
    let conf = dir.path().join(name);
    std::fs::write(&conf, contents).expect("write config");
    (dir, conf)
}

fn projects() -> Vec<(String, String)> {
    let dir = repo_root().join("tests/fixtures/nginx/projects");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("projects fixtures")
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(e.path()).expect("read fixture"),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5, "at least five project configurations");
    out
}

fn lint(conf: &Path, extra: &[&str]) -> CliOutput {
    let mut args = vec!["lint", "nginx", conf.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    wspath(&args, T).expect("run wspath")
}

pub fn lint_schema_validate(doc: &Value) -> Result<(), String> {
    let path = repo_root().join("schemas/lint.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("schema"))
        .expect("schema is JSON");
    let compiled = jsonschema::JSONSchema::compile(&schema).expect("schema compiles");
    let result = compiled.validate(doc);
    result.map_err(|errs| {
        errs.map(|e| format!("  at {}: {e}", e.instance_path))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn published_websocket_configs_pass_nginx_t_and_lint_clean() {
    for (name, text) in projects() {
        let (dir, conf) = prefix_with(&name, &text);
        let t = nginx_t(&conf, dir.path()).expect("run nginx -t");
        assert!(
            t.status.success(),
            "{name}: nginx -t: {}",
            String::from_utf8_lossy(&t.stderr)
        );
        let out = lint(&conf, &["--format", "json"]);
        assert_eq!(out.code, Some(0), "{name}: {}", out.describe());
        let doc = out.json().expect("json");
        lint_schema_validate(&doc).unwrap_or_else(|e| panic!("{name}: schema:\n{e}"));
        assert_eq!(doc["ok"], true);
        assert_eq!(doc["counts"]["error"], 0, "{name}: {}", out.stdout);
        assert!(
            !doc["locations"].as_array().unwrap().is_empty(),
            "{name}: a WebSocket location was checked"
        );
    }
}

/// Remove the lines of `text` for which `hit` is true (a `map` block goes whole).
fn without(text: &str, hit: impl Fn(&str) -> bool) -> Option<String> {
    let mut out = String::new();
    let mut removed = false;
    let mut in_map = false;
    for line in text.lines() {
        let t = line.trim();
        if in_map {
            if t == "}" {
                in_map = false;
            }
            continue;
        }
        if hit(t) {
            removed = true;
            in_map = t.starts_with("map ") && t.ends_with('{');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    removed.then_some(out)
}

#[test]
fn each_published_config_with_a_directive_removed_is_flagged() {
    type Cut = (&'static str, fn(&str) -> bool, &'static [&'static str]);
    let cuts: [Cut; 4] = [
        (
            "proxy_http_version",
            |l| l.starts_with("proxy_http_version"),
            &["nginx/http-version-below-1.1"],
        ),
        (
            "Upgrade",
            |l| l.starts_with("proxy_set_header Upgrade"),
            &["nginx/upgrade-not-forwarded"],
        ),
        (
            "Connection",
            |l| l.starts_with("proxy_set_header Connection"),
            &["nginx/connection-not-forwarded"],
        ),
        (
            "map",
            |l| l.starts_with("map $http_upgrade"),
            &["nginx/connection-upgrade-without-map"],
        ),
    ];
    let mut flagged = 0;
    for (name, text) in projects() {
        for (what, hit, expected) in &cuts {
            let Some(broken) = without(&text, hit) else {
                continue;
            };
            let (_dir, conf) = prefix_with(&name, &broken);
            let out = lint(&conf, &["--format", "json", "--nginx-version", "1.22.1"]);
            assert_eq!(
                out.code,
                Some(1),
                "{name} without {what}: {}",
                out.describe()
            );
            let doc = out.json().expect("json");
            let found = ids(&doc);
            for id in *expected {
                assert!(
                    found.iter().any(|f| f == id),
                    "{name} without {what}: expected {id}, got {found:?}"
                );
            }
            flagged += 1;
        }
    }
    assert!(flagged >= 15, "only {flagged} variants were checked");
}

#[test]
fn path_selects_the_location_nginx_would_use() {
    let text = "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location / { proxy_pass http://127.0.0.1:9; }\n    location /ws/ {\n      proxy_pass http://127.0.0.1:9;\n      proxy_set_header Host $host;\n    }\n    location ~ \\.php$ { return 404; }\n  }\n}\n";
    let (_dir, conf) = prefix_with("nginx.conf", text);
    let out = lint(&conf, &["--path", "/ws/chat", "--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let doc = out.json().expect("json");
    let locs = doc["locations"].as_array().unwrap();
    assert_eq!(locs.len(), 1);
    assert_eq!(locs[0]["name"], "location /ws/");
    assert_eq!(locs[0]["location"]["line"], 6);
    let out = lint(&conf, &["--path", "/ws/x.php", "--format", "json"]);
    let doc = out.json().expect("json");
    assert!(
        ids(&doc).contains(&"nginx/location-not-proxying".to_string()),
        "{}",
        out.stdout
    );
}

#[test]
fn a_websocket_location_with_nothing_to_show_for_it_is_not_a_pass() {
    // `/chat/` is the WebSocket endpoint, broken the commonest way (only `proxy_pass`): nothing
    // in it says WebSocket, so without `--path` nothing is checked. That must not read as clean.
    let text = "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location / { root /srv; }\n    location /chat/ {\n      proxy_pass http://127.0.0.1:9;\n    }\n  }\n}\n";
    let (_dir, conf) = prefix_with("nginx.conf", text);
    let out = lint(&conf, &["--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let doc = out.json().expect("json");
    assert_eq!(ids(&doc), ["nginx/no-websocket-location"], "{}", out.stdout);
    let f = &doc["findings"][0];
    assert_eq!(f["location"]["line"], 6, "{}", out.stdout);
    assert!(
        f["fix"].as_str().unwrap_or("").contains("`--path /chat/`"),
        "{}",
        out.stdout
    );
    // Named, the location is checked and its real problems found.
    let out = lint(&conf, &["--path", "/chat/", "--format", "json"]);
    let doc = out.json().expect("json");
    let found = ids(&doc);
    assert!(
        found.contains(&"nginx/upgrade-not-forwarded".to_string())
            && !found.contains(&"nginx/no-websocket-location".to_string()),
        "{found:?}"
    );
}

#[test]
fn a_plain_http_path_carved_out_of_a_websocket_one_is_not_linted_as_one() {
    // Vaultwarden's published config: SignalR negotiates over plain HTTP at
    // `/notifications/hub/negotiate` (to the web port), beside the WebSocket hub at
    // `/notifications/hub` (to the WebSocket port). The negotiate location's path looks like a
    // hub, but it was split out on purpose. `/ws/` and `/ws/chat/` go to the same place: the
    // second forgot its headers, and is checked.
    let text = "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location / { proxy_pass http://127.0.0.1:9; }\n    location /notifications/hub/negotiate { proxy_pass http://127.0.0.1:9; }\n    location /notifications/hub {\n      proxy_pass http://127.0.0.1:10;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"upgrade\";\n    }\n    location /ws/ {\n      proxy_pass http://127.0.0.1:11;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"upgrade\";\n    }\n    location /ws/chat/ { proxy_pass http://127.0.0.1:11/chat/; }\n  }\n}\n";
    let (_dir, conf) = prefix_with("nginx.conf", text);
    let out = lint(&conf, &["--format", "json"]);
    let doc = out.json().expect("json");
    let names: Vec<&str> = doc["locations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "location /notifications/hub",
            "location /ws/",
            "location /ws/chat/"
        ],
        "{}",
        out.stdout
    );
}

#[test]
fn inheritance_names_the_outer_and_inner_lines() {
    let text = "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    proxy_http_version 1.1;\n    proxy_set_header Upgrade $http_upgrade;\n    proxy_set_header Connection \"upgrade\";\n    location /ws/ {\n      proxy_set_header X-Real-IP $remote_addr;\n      proxy_pass http://127.0.0.1:9;\n    }\n  }\n}\n";
    let (_dir, conf) = prefix_with("nginx.conf", text);
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let f = conf.display().to_string();
    assert!(
        out.stdout
            .contains(&format!("at {f}:6 is not in effect here")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("at {f}:9 starts a new proxy_set_header list")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("nginx/headers-lost-to-inheritance"));
}

#[test]
fn hardened_include_forcing_connection_close_is_found_in_the_included_file() {
    let (dir, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location /ws {\n      proxy_pass http://127.0.0.1:9;\n      proxy_http_version 1.1;\n      include hardened/*.conf;\n    }\n  }\n}\n",
    );
    std::fs::create_dir_all(dir.path().join("hardened")).unwrap();
    std::fs::write(
        dir.path().join("hardened/proxy.conf"),
        "proxy_set_header Upgrade $http_upgrade;\n# no keep-alive upstream\nproxy_set_header Connection close;\n",
    )
    .unwrap();
    let out = lint(&conf, &["--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let doc = out.json().expect("json");
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "nginx/connection-forced-close")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(f["location"]["file"]
        .as_str()
        .unwrap()
        .ends_with("hardened/proxy.conf"));
    assert_eq!(f["location"]["line"], 3);
}

#[test]
fn keepalive_upstream_with_empty_connection_and_hardcoded_upgrade() {
    let (_dir, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  upstream app { server 127.0.0.1:9; keepalive 16; }\n  server {\n    listen 127.0.0.1:8080;\n    location /ws/ {\n      proxy_pass http://app;\n      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"\";\n    }\n    location / {\n      proxy_pass http://app;\n      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection upgrade;\n      proxy_buffering on;\n    }\n  }\n}\n",
    );
    let out = lint(&conf, &["--format", "json"]);
    let doc = out.json().expect("json");
    let found = ids(&doc);
    assert!(
        found.contains(&"nginx/keepalive-clears-connection".into()),
        "{found:?}"
    );
    assert!(
        found.contains(&"nginx/connection-upgrade-hardcoded".into()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|f| f.contains("buffering")),
        "proxy_buffering is never a WebSocket finding"
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn timeouts_at_or_below_idle_are_warnings_with_the_consequence() {
    let (_dir, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location /ws {\n      proxy_pass http://127.0.0.1:9;\n      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection upgrade;\n      proxy_read_timeout 90s;\n    }\n  }\n}\n",
    );
    let out = lint(&conf, &["--idle", "2m", "--format", "json"]);
    assert_eq!(out.code, Some(0), "warnings only: {}", out.describe());
    let doc = out.json().expect("json");
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "nginx/read-timeout-below-idle")
        .cloned()
        .expect("read timeout finding");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["location"]["line"], 10);
    assert!(f["why"].as_str().unwrap().contains("1006"));
    let out = lint(&conf, &["--idle", "30s", "--format", "json"]);
    assert!(!ids(&out.json().unwrap()).contains(&"nginx/read-timeout-below-idle".into()));
}

#[test]
fn defaults_follow_the_nginx_version() {
    let (_dir, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location /ws {\n      proxy_pass http://127.0.0.1:9;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection upgrade;\n    }\n  }\n}\n",
    );
    let old = lint(&conf, &["--nginx-version", "1.24.0", "--format", "json"])
        .json()
        .unwrap();
    assert!(ids(&old).contains(&"nginx/http-version-below-1.1".into()));
    assert_eq!(old["nginx_version"]["source"], "flag");
    let new = lint(&conf, &["--nginx-version", "1.29.7", "--format", "json"])
        .json()
        .unwrap();
    assert!(
        !ids(&new).contains(&"nginx/http-version-below-1.1".into()),
        "{new}"
    );
    // Without the flag, the version of the nginx on PATH (the tests need one) applies.
    let detected = lint(&conf, &["--format", "json"]).json().unwrap();
    assert_eq!(detected["nginx_version"]["source"], "detected");
    let v = std::process::Command::new("nginx")
        .arg("-v")
        .output()
        .expect("nginx on PATH");
    let printed = String::from_utf8_lossy(&v.stderr).to_string();
    let version = detected["nginx_version"]["version"].as_str().unwrap();
    assert!(
        printed.contains(&format!("nginx/{version}")),
        "{printed} vs {version}"
    );
}

#[test]
fn sarif_is_2_1_0_with_rule_ids_and_lines() {
    let (_dir, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server {\n    listen 127.0.0.1:8080;\n    location /ws { proxy_pass http://127.0.0.1:9; }\n  }\n}\n",
    );
    let out = lint(&conf, &["--format", "sarif"]);
    assert_eq!(out.code, Some(1));
    let doc = out.json().expect("json");
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "nginx/upgrade-not-forwarded")
        .expect("result");
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules
        .iter()
        .any(|x| x["id"] == "nginx/upgrade-not-forwarded"));
}

#[test]
fn error_log_lines_become_counted_findings() {
    let (dir, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server { listen 127.0.0.1:8080; }\n}\n",
    );
    let log = dir.path().join("error.log");
    std::fs::write(&log, "2024/05/01 10:00:00 [error] 12#12: *3 upstream sent invalid header while reading response header from upstream, client: 127.0.0.1, server: , request: \"GET /ws HTTP/1.1\", upstream: \"http://127.0.0.1:9000/ws\", host: \"example.com\"\n2024/05/01 10:00:01 [error] 12#12: *4 upstream sent invalid header while reading response header from upstream, client: 127.0.0.1, server: , request: \"GET /ws HTTP/1.1\", upstream: \"http://127.0.0.1:9000/ws\", host: \"example.com\"\n").unwrap();
    let out = lint(
        &conf,
        &["--error-log", log.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let doc = out.json().unwrap();
    lint_schema_validate(&doc).unwrap();
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "nginx/log-upstream-invalid-header")
        .cloned()
        .expect("log finding");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.starts_with("2× ")
            && msg.contains("http://127.0.0.1:9000/ws")
            && msg.contains("GET /ws"),
        "{msg}"
    );
    assert!(ids(&doc).contains(&"nginx/log-level-hides-idle-timeouts".into()));
}

#[test]
fn bad_input_is_one_line_with_file_and_line_and_exit_2() {
    let missing = lint(Path::new("/nonexistent/wspath/nginx.conf"), &[]);
    assert_eq!(missing.code, Some(2), "{}", missing.describe());
    assert!(
        missing.stderr.contains("/nonexistent/wspath/nginx.conf"),
        "{}",
        missing.stderr
    );

    let (_d1, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server {\n    listen 80;\n}\n",
    );
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_eq!(out.stderr.trim().lines().count(), 1);
    assert_same_as_nginx(&out, &conf, _d1.path());

    let (d2, conf) = prefix_with("nginx.conf", "events {}\nhttp {\n  include a.conf;\n}\n");
    std::fs::write(
        d2.path().join("a.conf"),
        "server { listen 80; }\ninclude b.conf;\n",
    )
    .unwrap();
    std::fs::write(d2.path().join("b.conf"), "include a.conf;\n").unwrap();
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("include loop"), "{}", out.stderr);
    assert!(out.stderr.contains("b.conf:1"), "{}", out.stderr);

    // An unterminated quote: the same words and line as nginx -t.
    let (d4, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server_tokens \"off;\n}\n",
    );
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_same_as_nginx(&out, &conf, d4.path());

    let (d3, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  include nothere.conf;\n}\n",
    );
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_same_as_nginx(&out, &conf, d3.path());

    let (d5, conf) = prefix_with("nginx.conf", "events {}\nhttp {\n}\n}\n");
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_same_as_nginx(&out, &conf, d5.path());

    let (d6, conf) = prefix_with(
        "nginx.conf",
        "events {}\nhttp {\n  server { listen 127.0.0.1:8080; proxy_pass http://a; }\n}\n",
    );
    let out = lint(&conf, &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_same_as_nginx(&out, &conf, d6.path());
}

/// Human output of lint and of the fix plan for examples/nginx/websocket-broken.conf, compared
/// with golden files (`WSPATH_BLESS=1` rewrites them after an intended change).
#[test]
fn human_output_matches_the_golden_files() {
    let root = repo_root();
    for (args, golden) in [
        (
            vec![
                "lint",
                "nginx",
                "examples/nginx/websocket-broken.conf",
                "--nginx-version",
                "1.22.1",
            ],
            "websocket-broken.lint.out",
        ),
        (
            vec![
                "fix",
                "--nginx",
                "examples/nginx/websocket-broken.conf",
                "--nginx-version",
                "1.22.1",
                "--idle",
                "2m",
            ],
            "websocket-broken.fix.out",
        ),
    ] {
        let mut cmd = std::process::Command::new(crate::support::cli::wspath_bin());
        cmd.args(&args).current_dir(&root);
        let out = crate::support::cli::run(cmd, T).expect("run wspath");
        assert_eq!(out.code, Some(1), "{}", out.describe());
        // fix resolves FILE to an absolute path (so nginx -t finds it from any cwd); the
        // golden file keeps it relative to the checkout, wherever that is.
        let stdout = out.stdout.replace(&format!("{}/", root.display()), "");
        let path = root.join("tests/fixtures/nginx/golden").join(golden);
        if std::env::var_os("WSPATH_BLESS").is_some() {
            std::fs::write(&path, &stdout).expect("bless");
        }
        let expected = std::fs::read_to_string(&path).expect("golden file");
        assert_eq!(
            stdout, expected,
            "{golden} differs (WSPATH_BLESS=1 to update)"
        );
    }
}

/// wspath's one-line error (`wspath: FILE:LINE: MESSAGE`) says what `nginx -t` says
/// (`MESSAGE in FILE:LINE`).
fn assert_same_as_nginx(out: &CliOutput, conf: &Path, prefix: &Path) {
    let t = nginx_t(conf, prefix).expect("nginx -t");
    assert!(!t.status.success(), "nginx -t accepts {}", conf.display());
    let nginx_says = String::from_utf8_lossy(&t.stderr).to_string();
    let ours = out.stderr.trim().trim_start_matches("wspath: ");
    let file = conf.display().to_string();
    let rest = ours
        .strip_prefix(&format!("{file}:"))
        .unwrap_or_else(|| panic!("{ours}"));
    let (line, message) = rest.split_once(": ").unwrap_or_else(|| panic!("{ours}"));
    assert!(
        nginx_says.contains(&format!("{message} in {file}:{line}")),
        "ours: {ours}\nnginx: {nginx_says}"
    );
}
