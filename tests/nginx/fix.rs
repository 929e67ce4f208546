//! `wspath fix --nginx`: every configuration the fixer writes passes real `nginx -t`, edits land
//! in the file that holds the line, everything else stays byte-identical, a second run changes
//! nothing, and a fix nginx refuses is rolled back.

use super::lint::{lint_schema_validate, prefix_with};
use crate::support::cli::{run, wspath, wspath_bin, CliOutput};
use crate::support::nginx::nginx_t;
use crate::support::repo_root;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// `wspath fix --nginx CONF -p PREFIX …`, backups under PREFIX/state (outside every include).
pub(super) fn fix(conf: &Path, prefix: &Path, extra: &[&str]) -> CliOutput {
    let mut cmd = std::process::Command::new(wspath_bin());
    cmd.args(["fix", "--nginx"])
        .arg(conf)
        .arg("-p")
        .arg(prefix)
        .args(extra)
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", prefix.join("state"));
    run(cmd, T).expect("run wspath")
}

fn lint_json(conf: &Path) -> Value {
    let out = wspath(
        &["lint", "nginx", conf.to_str().unwrap(), "--format", "json"],
        T,
    )
    .unwrap();
    let doc = out.json().unwrap();
    lint_schema_validate(&doc).unwrap();
    doc
}

pub fn fix_schema_validate(doc: &Value) {
    let path = repo_root().join("schemas/fix.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let compiled = jsonschema::JSONSchema::compile(&schema).unwrap();
    let result = compiled.validate(doc);
    if let Err(errs) = result {
        panic!(
            "{}",
            errs.map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
        );
    }
}

/// A broken configuration: name, main file, extra files (path, contents).
type Case = (&'static str, String, Vec<(&'static str, &'static str)>);

fn broken() -> Vec<Case> {
    let head = "worker_processes 1;\nerror_log logs/error.log;\npid logs/nginx.pid;\nevents {}\nhttp {\n    access_log logs/access.log;\n    client_body_temp_path tmp/b;\n    proxy_temp_path tmp/p;\n    fastcgi_temp_path tmp/f;\n    uwsgi_temp_path tmp/u;\n    scgi_temp_path tmp/s;\n";
    vec![
        (
            "bare proxy_pass",
            format!("{head}    server {{\n        listen 127.0.0.1:8080;\n        location /ws/ {{\n            proxy_pass http://127.0.0.1:9000;\n        }}\n    }}\n}}\n"),
            vec![],
        ),
        (
            "one-line location, http/1.0 set",
            format!("{head}    server {{ listen 127.0.0.1:8080; location /socket.io/ {{ proxy_pass http://127.0.0.1:9000; proxy_http_version 1.0; }} }}\n}}\n"),
            vec![],
        ),
        (
            "inheritance lost + hardcoded on /",
            format!("{head}    server {{\n        listen 127.0.0.1:8080;\n        proxy_http_version 1.1;\n        proxy_set_header Upgrade $http_upgrade;\n        proxy_set_header Connection \"upgrade\";\n        location / {{ proxy_pass http://127.0.0.1:9000; }}\n        location /ws/ {{\n            proxy_set_header Host $host;   # keep the host\n            proxy_pass http://127.0.0.1:9000;\n        }}\n    }}\n}}\n"),
            vec![],
        ),
        (
            "hardened include with Connection close",
            format!("{head}    include conf.d/*.conf;\n    server {{\n        listen 127.0.0.1:8080;\n        location /cable {{\n            include snippets/proxy.conf;\n            proxy_pass http://app;\n        }}\n    }}\n}}\n"),
            vec![
                ("conf.d/upstream.conf", "upstream app {\n    server 127.0.0.1:9000;\n}\n"),
                ("snippets/proxy.conf", "# Hardened defaults\nproxy_http_version 1.1;\nproxy_set_header   Connection close;\nproxy_set_header   X-Real-IP $remote_addr;\n"),
            ],
        ),
        (
            "keepalive upstream with Connection \"\"",
            format!("{head}    upstream app {{ server 127.0.0.1:9000; keepalive 8; }}\n    server {{\n        listen 127.0.0.1:8080;\n        location /graphql {{\n            proxy_pass http://app;\n            proxy_http_version 1.1;\n            proxy_set_header Connection \"\";\n        }}\n    }}\n}}\n"),
            vec![],
        ),
        (
            "$connection_upgrade without its map",
            format!("{head}    server {{\n        listen 127.0.0.1:8080;\n        location /hub {{\n            proxy_pass http://127.0.0.1:9000;\n            proxy_http_version 1.1;\n            proxy_set_header Upgrade $http_upgrade;\n            proxy_set_header Connection $connection_upgrade;\n            proxy_read_timeout 30s;\n        }}\n    }}\n}}\n"),
            vec![],
        ),
    ]
}

#[test]
fn fixed_configs_pass_nginx_t_lint_clean_and_a_second_run_changes_nothing() {
    for (name, main, extra) in broken() {
        let (dir, conf) = prefix_with("nginx.conf", &main);
        for (path, text) in &extra {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let before = lint_json(&conf);
        assert_eq!(before["ok"], false, "{name}: the fixture is broken");

        let dry = fix(&conf, dir.path(), &["--idle", "2m"]);
        assert_eq!(
            dry.code,
            Some(1),
            "{name}: a pending plan exits 1: {}",
            dry.describe()
        );
        assert!(
            dry.stdout.contains("@@"),
            "{name}: a unified diff: {}",
            dry.stdout
        );
        assert_eq!(
            std::fs::read_to_string(&conf).unwrap(),
            main,
            "{name}: a dry run writes nothing"
        );

        let mut apply = vec!["--idle", "2m", "--yes", "--format", "json"];
        let already_invalid = name.contains("without its map");
        if already_invalid {
            // nginx -t already refuses an unknown variable: applying needs --no-validate.
            let refused = fix(&conf, dir.path(), &apply);
            assert_eq!(refused.code, Some(2), "{name}: {}", refused.describe());
            assert!(
                refused.stderr.contains("already fails"),
                "{name}: {}",
                refused.stderr
            );
            assert_eq!(std::fs::read_to_string(&conf).unwrap(), main, "{name}");
            apply.push("--no-validate");
        }
        let applied = fix(&conf, dir.path(), &apply);
        assert_eq!(applied.code, Some(0), "{name}: {}", applied.describe());
        let doc = applied.json().unwrap();
        fix_schema_validate(&doc);
        assert!(doc["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["applied"] == true));
        let backups = doc["backups"].as_array().unwrap();
        assert_eq!(
            backups.len(),
            doc["changes"].as_array().unwrap().len(),
            "{name}: {doc}"
        );
        for b in backups {
            let backup = Path::new(b["backup"].as_str().unwrap());
            assert!(
                backup.starts_with(dir.path().join("state/wspath/backups")),
                "{name}: {b}"
            );
            assert!(backup.is_file(), "{name}: {b}");
        }
        assert_eq!(doc["validated"], !already_invalid, "{name}: {doc}");

        let t = nginx_t(&conf, dir.path()).unwrap();
        assert!(
            t.status.success(),
            "{name}: nginx -t on the fixed config: {}\n{}",
            String::from_utf8_lossy(&t.stderr),
            std::fs::read_to_string(&conf).unwrap()
        );
        let after = lint_json(&conf);
        assert_eq!(after["counts"]["error"], 0, "{name}: {after}");

        let again = fix(&conf, dir.path(), &["--idle", "2m"]);
        assert_eq!(again.code, Some(0), "{name}: {}", again.describe());
        assert!(
            again.stdout.contains("Nothing to change."),
            "{name}: {}",
            again.stdout
        );
    }
}

#[test]
fn edits_go_to_the_included_file_and_leave_everything_else_byte_identical() {
    let (name, main, extra) = broken().remove(3);
    let (dir, conf) = prefix_with("nginx.conf", &main);
    for (path, text) in &extra {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = fix(&conf, dir.path(), &["--yes", "--format", "json"]);
    assert_eq!(out.code, Some(0), "{name}: {}", out.describe());
    let doc = out.json().unwrap();
    let backup_of = |file: &str| {
        doc["backups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["file"].as_str().unwrap().ends_with(file))
            .map(|b| std::path::PathBuf::from(b["backup"].as_str().unwrap()))
    };
    let snippet = std::fs::read_to_string(dir.path().join("snippets/proxy.conf")).unwrap();
    assert_eq!(
        snippet,
        "# Hardened defaults\nproxy_http_version 1.1;\nproxy_set_header   Connection $connection_upgrade;\nproxy_set_header   X-Real-IP $remote_addr;\n"
    );
    let backup = backup_of("snippets/proxy.conf").expect("a backup of the snippet");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), extra[1].1);
    let upstream = std::fs::read_to_string(dir.path().join("conf.d/upstream.conf")).unwrap();
    assert_eq!(upstream, extra[0].1, "an untouched include stays as it was");
    assert!(backup_of("conf.d/upstream.conf").is_none());
    // The main file only gained lines: every original line is still there, in order.
    let fixed = std::fs::read_to_string(&conf).unwrap();
    let mut lines = fixed.lines();
    for original in main.lines() {
        assert!(lines.any(|l| l == original), "line {original:?} kept");
    }
    assert!(fixed.contains("map $http_upgrade $connection_upgrade"));
}

#[test]
fn a_configuration_that_already_fails_nginx_t_is_not_touched() {
    // nginx -t fails for a reason the fix does not touch (a missing certificate): nothing is
    // written, and the run says the configuration already failed, in nginx's words, exit 2.
    let main = "error_log logs/error.log;\npid logs/nginx.pid;\nevents {}\nhttp {\n    access_log logs/access.log;\n    server {\n        listen 127.0.0.1:8443 ssl;\n        ssl_certificate /nonexistent/wspath.pem;\n        ssl_certificate_key /nonexistent/wspath.key;\n        location /ws { proxy_pass http://127.0.0.1:9000; }\n    }\n}\n";
    let (dir, conf) = prefix_with("nginx.conf", main);
    let out = fix(&conf, dir.path(), &["--yes"]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("already fails"), "{}", out.stderr);
    assert!(
        out.stderr.contains("wspath.pem"),
        "nginx's reason is shown: {}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), main);
    assert!(
        !dir.path().join("state").exists(),
        "no backup of an untouched file"
    );
}
