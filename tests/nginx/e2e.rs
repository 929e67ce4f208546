//! End to end with real nginx and a real WebSocket backend: a broken configuration makes
//! `wspath check --nginx-conf` name nginx (with the directive's file:line attached), and after
//! `wspath fix --nginx --yes` and a reload the same check is healthy.

use crate::check::{check, Run, TARGET};
use crate::support::cli::wspath;
use crate::support::ports::wait_until;
use crate::support::{Backend, Nginx};
use std::process::Command;
use std::time::Duration;

fn broken_nginx(backend: &str) -> Nginx {
    let backend = backend.to_string();
    Nginx::start(move |port| {
        format!(
            "server {{
    listen 127.0.0.1:{port};
    server_name app.test;
    location /ws {{
        proxy_pass http://{backend};
        proxy_set_header Host $host;
    }}
}}"
        )
    })
    .expect("start nginx")
}

fn finding_ids(run: &Run, hop: &str) -> Vec<String> {
    super::field::ids(run.hop(hop))
}

#[test]
fn broken_config_names_nginx_and_the_fix_makes_the_check_healthy() {
    let backend = Backend::start().expect("backend");
    let nginx = broken_nginx(&backend.addr());
    let conf = nginx.conf_path();
    let conf_s = conf.to_str().unwrap().to_string();
    let hops = [("nginx", nginx.addr()), ("backend", backend.addr())];
    let hops: Vec<(&str, &str)> = hops.iter().map(|(n, a)| (*n, a.as_str())).collect();

    let run = check(TARGET, &hops, &["--nginx-conf", &conf_s]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert_eq!(run.doc["culprit"]["hop"], "nginx", "{}", run.describe());
    let ids = finding_ids(&run, "nginx");
    assert!(
        ids.contains(&"nginx/upgrade-not-forwarded".to_string()),
        "{ids:?}\n{}",
        run.describe()
    );
    assert!(
        ids.contains(&"nginx/http-version-below-1.1".to_string()),
        "{ids:?}"
    );
    let f = run.hop("nginx")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "nginx/upgrade-not-forwarded")
        .unwrap()
        .clone();
    assert_eq!(f["location"]["file"], conf_s.as_str());
    assert!(run.hop("nginx")["facts"].as_array().unwrap().iter().any(
        |x| x["name"] == "location" && x["value"].as_str().unwrap().starts_with("location /ws")
    ));

    let prefix = nginx.dir.path().to_str().unwrap().to_string();
    let fix = wspath(
        &["fix", "--nginx", &conf_s, "-p", &prefix, "--yes"],
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(fix.code, Some(0), "{}", fix.describe());
    let reload = Command::new(crate::support::nginx::binary())
        .args(["-p", &prefix, "-e", "stderr", "-c", &conf_s, "-s", "reload"])
        .output()
        .unwrap();
    assert!(
        reload.status.success(),
        "reload: {}",
        String::from_utf8_lossy(&reload.stderr)
    );

    // The reload replaces the workers asynchronously: poll the real check until it is healthy.
    let mut last = None;
    let healthy = wait_until(Duration::from_secs(20), || {
        let run = check(TARGET, &hops, &["--nginx-conf", &conf_s]);
        let ok = run.code() == Some(0);
        last = Some(run);
        ok
    });
    let last = last.expect("at least one run");
    assert!(
        healthy.is_ok(),
        "still broken after the fix:\n{}",
        last.describe()
    );
    assert_eq!(last.doc["ok"], true);
    assert!(!finding_ids(&last, "nginx")
        .iter()
        .any(|id| id == "nginx/upgrade-not-forwarded"));
}

#[test]
fn the_backend_hop_is_derived_from_proxy_pass_when_not_given() {
    let backend = Backend::start().expect("backend");
    let nginx = broken_nginx(&backend.addr());
    let conf_s = nginx.conf_path().to_str().unwrap().to_string();
    let run = check(
        TARGET,
        &[("nginx", &nginx.addr())],
        &["--nginx-conf", &conf_s],
    );
    assert_eq!(run.doc["culprit"]["hop"], "nginx", "{}", run.describe());
    let b = run.hop("backend");
    assert_eq!(b["kind"], "backend", "{}", run.describe());
    assert_eq!(b["address"], backend.addr().as_str(), "{}", run.describe());
    assert_eq!(b["verdict"], "upgraded", "{}", run.describe());
}

#[test]
fn nginx_conf_that_nginx_refuses_is_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    // nginx -t says "unexpected end of file, expecting "}"" at line 4, where the file ends.
    std::fs::write(&conf, "events {}\nhttp {\n  server {\n").unwrap();
    let out = wspath(
        &[
            "check",
            TARGET,
            "--hop",
            "nginx=127.0.0.1:9",
            "--nginx-conf",
            conf.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains(&format!("{}:4", conf.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn check_fix_plans_the_nginx_edits_for_the_culprit_and_yes_applies_them() {
    let backend = Backend::start().expect("backend");
    let nginx = broken_nginx(&backend.addr());
    let conf = nginx.conf_path();
    let conf_s = conf.to_str().unwrap().to_string();
    let before = std::fs::read_to_string(&conf).unwrap();
    let nginx_hop = format!("nginx={}", nginx.addr());
    let backend_hop = format!("backend={}", backend.addr());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "check",
            TARGET,
            "--hop",
            &nginx_hop,
            "--hop",
            &backend_hop,
            "--timeout",
            "5s",
            "--nginx-conf",
            &conf_s,
            "--fix",
        ];
        a.extend_from_slice(extra);
        wspath(&a, Duration::from_secs(60)).unwrap()
    };

    let plan = args(&[]);
    assert_eq!(plan.code, Some(1), "{}", plan.describe());
    assert!(
        plan.stdout.contains("+        proxy_http_version 1.1;"),
        "{}",
        plan.describe()
    );
    assert!(plan.stdout.contains("Dry run"), "{}", plan.describe());
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), before);

    let applied = args(&["--yes"]);
    assert!(
        applied.stdout.contains("[applied]"),
        "{}",
        applied.describe()
    );
    assert!(
        applied.stdout.contains("nginx -s reload"),
        "{}",
        applied.describe()
    );
    let after = std::fs::read_to_string(&conf).unwrap();
    assert!(after.contains("proxy_http_version 1.1;"), "{after}");
    assert!(
        after.contains("proxy_set_header Upgrade $http_upgrade;"),
        "{after}"
    );
}
