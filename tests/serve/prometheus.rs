//! A real Prometheus scrapes `wspath serve` with the relabel config of
//! examples/prometheus/prometheus.yml, probing a healthy and a broken path, and evaluates the
//! example alert rules; the test reads the results through Prometheus' HTTP API.

use super::Paths;
use crate::support::prometheus::{promtool, Prometheus};
use crate::support::repo_root;
use crate::support::serve::Serve;
use std::process::Command;
use std::time::Duration;

/// The example rules, with every `for:` cut to 0s so the alert fires on the first evaluation.
fn rules_firing_at_once() -> String {
    let text = std::fs::read_to_string(repo_root().join("examples/prometheus/wspath-rules.yml"))
        .expect("read the example rules");
    text.lines()
        .map(|l| match l.split_once("for: ") {
            Some((indent, _)) if indent.trim().is_empty() => format!("{indent}for: 0s"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_examples_pass_promtool() {
    let dir = repo_root().join("examples/prometheus");
    for args in [
        vec!["check", "config", "prometheus.yml"],
        vec!["check", "rules", "wspath-rules.yml"],
    ] {
        let out = Command::new(promtool())
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("run promtool (apt package prometheus, installed by .ci/setup)");
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The modules prometheus.yml names are in the example wspath.toml, which loads.
    let modules = wspath::config::load(&dir.join("wspath.toml"))
        .expect("examples/prometheus/wspath.toml loads")
        .modules;
    let yml = std::fs::read_to_string(dir.join("prometheus.yml")).unwrap();
    for name in ["edge_nginx", "edge_nginx_idle"] {
        assert!(modules.contains_key(name), "{name}");
        assert!(yml.contains(&format!("module: [{name}]")), "{name}");
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("grafana-dashboard.json")).unwrap())
            .expect("the dashboard is JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect();
    assert!(
        exprs.iter().any(|e| e.contains("wspath_hop_success")),
        "a per-hop panel: {exprs:?}"
    );
}

#[test]
fn prometheus_scrapes_both_paths_and_the_alert_fires() {
    let paths = Paths::start();
    let serve = Serve::start(&["--allow", "127.0.0.1"]).expect("start wspath serve");
    let target = |nginx: &crate::support::Proxy| {
        // The blackbox-style target is the URL; the hops ride along as params of its own job.
        format!(
            "  - job_name: {name}
    metrics_path: /probe
    params:
      hop: ['nginx={nginx}', 'backend={backend}']
    static_configs:
      - targets: ['{target}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {serve}
",
            name = if nginx.addr() == paths.good.addr() {
                "good"
            } else {
                "broken"
            },
            nginx = nginx.addr(),
            backend = paths.backend.addr(),
            target = super::TARGET,
            serve = serve.addr(),
        )
    };
    let config = format!(
        "global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
{good}{broken}  - job_name: exporter
    static_configs:
      - targets: ['{serve}']
",
        good = target(&paths.good),
        broken = target(&paths.broken),
        serve = serve.addr(),
    );
    let prometheus = Prometheus::start(&config, &[("rules.yml", rules_firing_at_once())])
        .expect("start prometheus");

    let wait_for = |promql: &str| -> Vec<serde_json::Value> {
        let mut last = Vec::new();
        let _ = crate::support::ports::wait_until(Duration::from_secs(60), || {
            last = prometheus.query(promql).unwrap_or_default();
            !last.is_empty()
        });
        assert!(
            !last.is_empty(),
            "no result for {promql}\nprometheus:\n{}\nserve:\n{}",
            prometheus.log(),
            serve.log()
        );
        last
    };
    let value = |r: &serde_json::Value| r["value"][1].as_str().unwrap_or("").to_string();

    let good = wait_for("wspath_probe_success{job=\"good\"}");
    assert_eq!(value(&good[0]), "1", "{good:?}");
    let broken = wait_for("wspath_probe_success{job=\"broken\"}");
    assert_eq!(value(&broken[0]), "0", "{broken:?}");
    let culprit = wait_for("wspath_culprit_info{hop=\"nginx\"}");
    assert_eq!(culprit.len(), 1, "{culprit:?}");
    assert_eq!(culprit[0]["metric"]["job"], "broken", "{culprit:?}");
    assert_eq!(culprit[0]["metric"]["verdict"], "upgrade_stripped");
    assert_eq!(culprit[0]["metric"]["instance"], super::TARGET);

    let alerts = wait_for("ALERTS{alertname=\"WebSocketPathBroken\",alertstate=\"firing\"}");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["metric"]["hop"], "nginx", "{alerts:?}");
    assert_eq!(alerts[0]["metric"]["job"], "broken");

    // The exporter's own metrics, through the same parser.
    // Every result's series exists from the start at 0: wait for the scrape that counted one.
    let probes = wait_for("wspath_probes_total{job=\"exporter\",result=\"success\"} >= 1");
    assert!(
        value(&probes[0]).parse::<f64>().unwrap_or(0.0) >= 1.0,
        "{probes:?}"
    );
    let up = wait_for("up{job=\"exporter\"}");
    assert_eq!(value(&up[0]), "1");
}
