//! `wspath serve` end to end: the built binary serves `/probe` for real paths (nginx in front of
//! the Python `websockets` backend), its exposition is read by Prometheus' own parser
//! (`promtool check metrics`) and by a real Prometheus that scrapes it and fires the example
//! alert rules; the SSRF allow-list, the concurrency bound, the scrape budget, reload and
//! shutdown are checked against the running process.

mod prometheus;

use crate::check::{backend, TARGET};
use crate::support::prometheus::promtool;
use crate::support::serve::{encode, Serve};
use crate::support::{Backend, Kind, Proxy, Setup};
use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A healthy path (nginx that carries WebSockets) and a broken one (nginx with only
/// `proxy_pass`, which drops the Upgrade), both in front of one backend.
pub struct Paths {
    pub backend: Backend,
    pub good: Proxy,
    pub broken: Proxy,
}

impl Paths {
    pub fn start() -> Paths {
        let backend = backend();
        let nginx =
            |setup| Proxy::in_front_of(Kind::Nginx, &backend.addr(), &setup).expect("start nginx");
        let good = nginx(Setup::good());
        let broken = nginx(Setup::no_websocket());
        Paths {
            backend,
            good,
            broken,
        }
    }

    /// The `/probe` query for the path through `nginx`.
    pub fn query(&self, nginx: &Proxy) -> String {
        format!(
            "/probe?target={}&hop={}&hop={}",
            encode(TARGET),
            encode(&format!("nginx={}", nginx.addr())),
            encode(&format!("backend={}", self.backend.addr()))
        )
    }
}

/// The value of the sample `name_and_labels` (as written in the exposition).
fn sample(exposition: &str, name_and_labels: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == name_and_labels).then(|| value.parse().ok())?
    })
}

/// `promtool check metrics` on `exposition`: its exit code and output.
fn promtool_check_metrics(exposition: &str) -> (Option<i32>, String) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool (apt package prometheus, installed by .ci/setup)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A port that accepts connections (the kernel completes them) and never answers.
fn silent_hop() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

#[test]
fn probe_exposes_healthy_and_broken_paths_in_both_formats() {
    let paths = Paths::start();
    let serve = Serve::start(&["--allow", "127.0.0.1"]).expect("start wspath serve");

    let good = serve.get(&paths.query(&paths.good), &[]).unwrap();
    assert_eq!(good.status, 200, "{}\n{}", good.body, serve.log());
    assert!(
        good.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{}",
        good.head
    );
    assert_eq!(
        sample(&good.body, "wspath_probe_success"),
        Some(1.0),
        "{}",
        good.body
    );
    assert_eq!(
        sample(
            &good.body,
            "wspath_hop_success{hop=\"nginx\",kind=\"proxy\"}"
        ),
        Some(1.0),
        "{}",
        good.body
    );
    assert_eq!(
        sample(&good.body, "wspath_hop_status_code{hop=\"backend\"}"),
        Some(101.0)
    );
    assert!(sample(&good.body, "wspath_hop_ping_rtt_seconds{hop=\"nginx\"}").is_some());
    assert!(!good.body.contains("wspath_culprit_info"), "{}", good.body);
    let (code, out) = promtool_check_metrics(&good.body);
    assert_eq!(code, Some(0), "promtool: {out}\n{}", good.body);

    let broken = serve
        .get(
            &paths.query(&paths.broken),
            &["Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"],
        )
        .unwrap();
    assert_eq!(broken.status, 200, "{}", broken.body);
    assert!(
        broken
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text")),
        "{}",
        broken.head
    );
    assert!(broken.body.ends_with("# EOF\n"), "{}", broken.body);
    assert_eq!(sample(&broken.body, "wspath_probe_success"), Some(0.0));
    assert_eq!(
        sample(
            &broken.body,
            "wspath_hop_verdict{hop=\"nginx\",verdict=\"upgrade_stripped\"}"
        ),
        Some(1.0),
        "{}",
        broken.body
    );
    let culprit = broken
        .body
        .lines()
        .find(|l| l.starts_with("wspath_culprit_info{"))
        .unwrap_or_else(|| panic!("no culprit series\n{}", broken.body));
    assert!(
        culprit.starts_with(
            "wspath_culprit_info{hop=\"nginx\",verdict=\"upgrade_stripped\",software="
        ),
        "{culprit}"
    );
    let (code, out) = promtool_check_metrics(&broken.body);
    assert_eq!(code, Some(0), "promtool: {out}\n{}", broken.body);

    let debug = serve
        .get(&format!("{}&debug=true", paths.query(&paths.broken)), &[])
        .unwrap();
    assert_eq!(debug.status, 200);
    assert!(debug.body.contains("culprit: nginx"), "{}", debug.body);
    assert!(
        debug.body.contains("wspath_probe_success 0"),
        "{}",
        debug.body
    );

    let own = serve.get("/metrics", &[]).unwrap();
    assert_eq!(
        sample(&own.body, "wspath_probes_total{result=\"success\"}"),
        Some(1.0),
        "{}",
        own.body
    );
    assert_eq!(
        sample(&own.body, "wspath_probes_total{result=\"failure\"}"),
        Some(2.0),
        "{}",
        own.body
    );
    // Series not yet counted are there at 0, so rate()/increase() see their first increment.
    for series in [
        "wspath_probes_total{result=\"too_many\"}",
        "wspath_config_reloads_total{result=\"failure\"}",
    ] {
        assert_eq!(
            sample(&own.body, series),
            Some(0.0),
            "{series}\n{}",
            own.body
        );
    }
    assert!(sample(&own.body, "process_resident_memory_bytes").is_some_and(|b| b > 0.0));
    assert_eq!(serve.get("/-/healthy", &[]).unwrap().status, 200);
    assert_eq!(serve.get("/-/ready", &[]).unwrap().status, 200);
}

#[test]
fn targets_outside_allow_are_refused_and_sigterm_stops_gracefully() {
    let mut serve = Serve::start(&["--allow", "app.test:8080", "--allow", "10.0.0.0/8"])
        .expect("start wspath serve");
    // The hop's address is loopback, outside every pattern: refused before any connection.
    let listener = silent_hop();
    let port = listener.local_addr().unwrap().port();
    let q = format!(
        "/probe?target={}&hop={}",
        encode("ws://app.test:8080/ws"),
        encode(&format!("nginx=127.0.0.1:{port}"))
    );
    let r = serve.get(&q, &[]).unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("127.0.0.1:"), "{}", r.body);
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "the refused probe connected");
    // No hop: the target itself, which a pattern covers (port included), would be probed; the
    // same host on another port is refused.
    let r = serve
        .get(
            &format!("/probe?target={}", encode("ws://app.test:8081/ws")),
            &[],
        )
        .unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    let r = serve.get("/probe?target=not%20a%20url", &[]).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    let own = serve.get("/metrics", &[]).unwrap();
    assert_eq!(
        sample(&own.body, "wspath_probes_total{result=\"forbidden\"}"),
        Some(2.0),
        "{}",
        own.body
    );

    serve.signal("TERM");
    let stopped =
        crate::support::ports::wait_until(Duration::from_secs(20), || !serve.process.running());
    assert!(
        stopped.is_ok(),
        "still running after SIGTERM\n{}",
        serve.log()
    );
    assert!(serve.log().contains("shutting down"), "{}", serve.log());
}

#[test]
fn scrape_timeout_header_bounds_a_probe_of_a_silent_hop() {
    let listener = silent_hop();
    let port = listener.local_addr().unwrap().port();
    let serve = Serve::start(&["--allow", "127.0.0.1", "--timeout", "60s"]).expect("serve");
    let q = format!(
        "/probe?target={}&hop={}",
        encode(TARGET),
        encode(&format!("nginx=127.0.0.1:{port}"))
    );
    let started = Instant::now();
    let r = serve
        .get(&q, &["X-Prometheus-Scrape-Timeout-Seconds: 4"])
        .unwrap();
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.body);
    // Prometheus would give up at 4 s; the answer comes before, naming the silent hop.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(sample(&r.body, "wspath_probe_success"), Some(0.0));
    assert_eq!(
        sample(
            &r.body,
            "wspath_hop_verdict{hop=\"nginx\",verdict=\"timeout\"}"
        ),
        Some(1.0),
        "{}",
        r.body
    );
    drop(listener);
}

#[test]
fn probes_beyond_max_concurrent_get_429() {
    let listener = silent_hop();
    let port = listener.local_addr().unwrap().port();
    let serve = Serve::start(&[
        "--allow",
        "127.0.0.1",
        "--max-concurrent",
        "1",
        "--timeout",
        "20s",
    ])
    .expect("serve");
    let q = format!(
        "/probe?target={}&hop={}",
        encode(TARGET),
        encode(&format!("nginx=127.0.0.1:{port}"))
    );
    std::thread::scope(|s| {
        let first = s.spawn(|| serve.get(&q, &["X-Prometheus-Scrape-Timeout-Seconds: 8"]));
        let busy = crate::support::ports::wait_until(Duration::from_secs(20), || {
            serve
                .get("/metrics", &[])
                .is_ok_and(|m| sample(&m.body, "wspath_probes_in_flight") == Some(1.0))
        });
        assert!(
            busy.is_ok(),
            "the first probe never started\n{}",
            serve.log()
        );
        let second = serve.get(&q, &[]).unwrap();
        assert_eq!(second.status, 429, "{}", second.body);
        let first = first.join().unwrap().unwrap();
        assert_eq!(first.status, 200, "{}", first.body);
    });
    let own = serve.get("/metrics", &[]).unwrap();
    assert_eq!(
        sample(&own.body, "wspath_probes_total{result=\"too_many\"}"),
        Some(1.0),
        "{}",
        own.body
    );
    assert_eq!(sample(&own.body, "wspath_probes_in_flight"), Some(0.0));
    drop(listener);
}

/// Waits until the serve log contains `text` (or 20 s pass).
fn wait_log(serve: &Serve, text: &str) {
    let seen =
        crate::support::ports::wait_until(Duration::from_secs(20), || serve.log().contains(text));
    assert!(seen.is_ok(), "no '{text}' in the log:\n{}", serve.log());
}

#[test]
fn modules_fill_hops_from_the_target_keep_secrets_and_reload_on_sighup() {
    const TOKEN: &str = "tok-SeCrEt-4242";
    let paths = Paths::start();
    let dir = tempfile::Builder::new()
        .prefix("wspath-serve-")
        .tempdir()
        .unwrap();
    let conf = dir.path().join("wspath.toml");
    let module = |name: &str| {
        format!(
            "[module.{name}]\ntimeout = \"5s\"\nheaders = [\"Authorization: Bearer ${{WSPATH_SERVE_TOKEN}}\"]\n\
             hops = [\"nginx={{target_host}}:{{target_port}}\", \"backend={}\"]\n",
            paths.backend.addr()
        )
    };
    std::fs::write(&conf, module("chat")).unwrap();
    let good_port = paths.good.addr().rsplit(':').next().unwrap().to_string();
    // Only the good nginx is allowed; the backend is written in the module, so it needs none.
    let allow = format!("127.0.0.1:{good_port}");
    let serve = Serve::start_in(
        dir,
        &["--config", conf.to_str().unwrap(), "--allow", &allow],
        &[("WSPATH_SERVE_TOKEN", TOKEN)],
    )
    .expect("start wspath serve");
    let probe = |module: &str, nginx: &Proxy, debug: bool| {
        let target = format!("ws://{}/ws", nginx.addr());
        let q = format!(
            "/probe?module={module}&target={}{}",
            encode(&target),
            if debug { "&debug=true" } else { "" }
        );
        serve.get(&q, &[]).unwrap()
    };

    let r = probe("chat", &paths.good, false);
    assert_eq!(r.status, 200, "{}\n{}", r.body, serve.log());
    assert_eq!(
        sample(&r.body, "wspath_probe_success"),
        Some(1.0),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("wspath_hop_success{hop=\"backend\""),
        "{}",
        r.body
    );
    // The placeholder hop takes the target's address, which --allow does not cover here.
    let r = probe("chat", &paths.broken, false);
    assert_eq!(r.status, 403, "{}", r.body);
    let r = probe("chat", &paths.good, true);
    assert!(r.body.contains("healthy"), "{}", r.body);
    assert!(
        !r.body.contains(TOKEN),
        "the module's secret leaked:\n{}",
        r.body
    );
    let r = probe("nope", &paths.good, false);
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("unknown module 'nope' (modules: chat)"),
        "{}",
        r.body
    );

    // A broken file: the old modules stay, and the log says why.
    std::fs::write(&conf, "[module.chat\nhops = 1\n").unwrap();
    serve.signal("HUP");
    wait_log(&serve, "reload failed, keeping the previous configuration");
    assert!(serve.log().contains("wspath.toml:1:"), "{}", serve.log());
    let r = probe("chat", &paths.good, false);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sample(&r.body, "wspath_probe_success"), Some(1.0));

    // A good one replaces them.
    std::fs::write(&conf, module("chat2")).unwrap();
    serve.signal("HUP");
    wait_log(&serve, "(modules: chat2)");
    assert_eq!(probe("chat", &paths.good, false).status, 400);
    let r = probe("chat2", &paths.good, false);
    assert_eq!(
        sample(&r.body, "wspath_probe_success"),
        Some(1.0),
        "{}",
        r.body
    );
    let own = serve.get("/metrics", &[]).unwrap();
    assert_eq!(
        sample(&own.body, "wspath_config_reloads_total{result=\"failure\"}"),
        Some(1.0),
        "{}",
        own.body
    );
    assert!(!own.body.contains(TOKEN));
}

#[test]
fn tls_listener_serves_probes_over_https_only_and_a_bad_key_is_one_line() {
    let tls = crate::support::tls::SelfSigned::new("127.0.0.1").expect("certificates");
    let paths = Paths::start();
    let cert = tls.cert.to_string_lossy().into_owned();
    let key = tls.key.to_string_lossy().into_owned();
    let serve = Serve::start(&[
        "--allow",
        "127.0.0.1",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ])
    .expect("start serve");
    assert!(
        serve.log().contains("listening on https://"),
        "{}",
        serve.log()
    );

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&tls.ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |path: String| {
        runtime.block_on(async {
            let r = client
                .get(format!("https://{}{path}", serve.addr()))
                .send()
                .await
                .expect("https request");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        })
    };
    let (status, body) = get(paths.query(&paths.good));
    assert_eq!(status, 200, "{body}");
    assert_eq!(sample(&body, "wspath_probe_success"), Some(1.0), "{body}");
    let (status, body) = get(paths.query(&paths.broken));
    assert_eq!(status, 200, "{body}");
    assert_eq!(sample(&body, "wspath_probe_success"), Some(0.0), "{body}");
    // Plain HTTP to the TLS listener gets no metrics.
    let plain = serve.get("/metrics", &[]);
    assert!(
        plain.as_ref().map_or(true, |r| !r.body.contains("wspath_")),
        "{plain:?}"
    );

    // A key that is not a key: exit 2, one line naming the flag.
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "not a key\n").unwrap();
    let out = Command::new(crate::support::cli::wspath_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
        ])
        .arg(bad.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--tls-"), "{stderr}");
}
