//! The Cloudflare provider, its rules and `wspath fix --cloudflare`, against the stateful
//! Cloudflare fake behind Prism (every request and answer checked against Cloudflare's
//! OpenAPI document; any `sl-violations` fails the test).
//!
//! A few tests talk to a deliberately broken server without Prism (malformed body, no
//! answer): those answers break the contract on purpose.

mod check;

use crate::support::check::assert_fix_schema;
use crate::support::cli::{self, CliOutput};
use crate::support::cloudflare_api::{response, serve, CloudflareApi, Perm, ALL_PERMS};
use crate::support::prism::CheckedApi;
use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wspath::rules::cloudflare as rules;
use wspath::{Scheme, Severity, Target};
use wspath_providers::cloudflare::{
    Client, ClientOptions, Credentials, OnOff, Readable, Secret, SslMode,
};

const TOKEN: &str = "test-token-1f2e3d";
const ZONE: &str = "example.com";
const HOST: &str = "chat.example.com";

/// The fake with one site whose websockets setting is `websockets`, behind Prism.
fn site(websockets: &str) -> CheckedApi {
    let api = CloudflareApi::with_site(TOKEN, ZONE, HOST, websockets).expect("start fake");
    CheckedApi::start(api).expect("start prism in front of the fake")
}

/// The fake with zone ZONE (TOKEN may do everything) holding one record for HOST, `(type,
/// content, proxied)`, and these zone `settings` (editable), behind Prism.
fn one_record(record: (&str, &str, bool), settings: &[(&str, Value)]) -> CheckedApi {
    let fake = CloudflareApi::start().expect("fake");
    fake.add_token(TOKEN, ALL_PERMS);
    fake.add_zone(ZONE);
    let (kind, content, proxied) = record;
    fake.add_record(ZONE, kind, HOST, content, proxied);
    for (name, value) in settings {
        fake.set_setting(ZONE, name, value.clone(), true);
    }
    CheckedApi::start(fake).expect("prism")
}

/// Runs `wspath ARGS` with only the given Cloudflare variables, under a hard timeout.
fn wspath(env: &[(&str, &str)], args: &[&str]) -> CliOutput {
    let mut cmd = Command::new(cli::wspath_bin());
    cmd.args(args).env("NO_COLOR", "1");
    for var in [
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_EMAIL",
        "CLOUDFLARE_API_KEY",
        "CLOUDFLARE_BASE_URL",
        "WSPATH_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cli::run(cmd, Duration::from_secs(60)).expect("run wspath")
}

fn json_of(r: &CliOutput) -> Value {
    r.json().unwrap_or_else(|e| panic!("{e}"))
}

fn token_env(api: &CheckedApi, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDFLARE_API_TOKEN", token.to_string()),
        ("CLOUDFLARE_BASE_URL", api.url()),
    ]
}

fn run(env: &[(&'static str, String)], args: &[&str]) -> CliOutput {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    wspath(&env, args)
}

fn client(api: &CheckedApi, token: &str) -> Client {
    client_at(&api.url(), token, ClientOptions::default())
}

/// A provider client for the API at `url` (the fake itself, or a broken server) with `token`.
fn client_at(url: &str, token: &str, options: ClientOptions) -> Client {
    Client::new(
        reqwest::Client::new(),
        url,
        Credentials::Token(Secret::new(token)),
        options,
    )
    .expect("client")
}

#[test]
fn websockets_off_gives_a_plan_and_changes_nothing() {
    let api = site("off");
    let env = token_env(&api, TOKEN);

    let human = run(&env, &["fix", "--cloudflare", HOST]);
    assert_eq!(human.code, Some(1), "{}", human.describe());
    assert!(
        human
            .stdout
            .contains("[planned] cloudflare zone example.com websockets")
            && human.stdout.contains("off -> on")
            && human.stdout.contains("Dry run"),
        "{}",
        human.describe()
    );

    let json = run(&env, &["fix", "--cloudflare", HOST, "--format", "json"]);
    assert_eq!(json.code, Some(1), "{}", json.describe());
    let doc = json_of(&json);
    assert_fix_schema(&doc);
    assert_eq!(doc["dry_run"], json!(true));
    assert_eq!(
        doc["changes"],
        json!([{"provider": "cloudflare", "resource": "zone example.com", "setting": "websockets",
                "before": "off", "after": "on", "applied": false}])
    );

    assert_eq!(api.setting(ZONE, "websockets"), Some(json!("off")));
    assert_eq!(
        api.count(
            "PATCH",
            &format!("/zones/{}/settings/websockets", api.zone_id(ZONE))
        ),
        0
    );
    // The token was verified once per run.
    assert_eq!(api.count("GET", "/user/tokens/verify"), 2);
    api.assert_conforms();
}

#[test]
fn yes_turns_websockets_on_then_a_second_run_changes_nothing() {
    let api = site("off");
    let env = token_env(&api, TOKEN);
    let patch_path = format!("/zones/{}/settings/websockets", api.zone_id(ZONE));

    let first = run(
        &env,
        &["fix", "--cloudflare", HOST, "--yes", "--format", "json"],
    );
    assert_eq!(first.code, Some(0), "{}", first.describe());
    let doc = json_of(&first);
    assert_fix_schema(&doc);
    assert_eq!(doc["dry_run"], json!(false));
    assert_eq!(doc["changes"][0]["applied"], json!(true));
    assert_eq!(api.setting(ZONE, "websockets"), Some(json!("on")));
    assert_eq!(api.count("PATCH", &patch_path), 1);
    // Read back after the PATCH to confirm.
    let served = api.served();
    let patch_at = served
        .iter()
        .position(|s| s.method == "PATCH")
        .expect("a PATCH");
    assert!(
        served[patch_at + 1..]
            .iter()
            .any(|s| s.method == "GET" && s.path == patch_path),
        "no read-back after the PATCH: {served:?}"
    );

    let second = run(&env, &["fix", "--cloudflare", HOST, "--yes"]);
    assert_eq!(second.code, Some(0), "{}", second.describe());
    assert!(
        second.stdout.contains("already on") && second.stdout.contains("Nothing to change"),
        "{}",
        second.describe()
    );
    assert_eq!(
        api.count("PATCH", &patch_path),
        1,
        "the second run PATCHed again"
    );
    api.assert_conforms();
}

#[test]
fn token_without_a_permission_gets_one_line_naming_it() {
    let api = site("off");
    api.add_token("zone-read-only", &[Perm::ZoneRead]);
    api.add_token(
        "read-only",
        &[Perm::ZoneRead, Perm::DnsRead, Perm::ZoneSettingsRead],
    );
    api.add_token("nothing", &[]);

    for (token, yes, permission) in [
        ("nothing", false, "Zone Read"),
        ("zone-read-only", false, "Zone Settings Read"),
        ("read-only", true, "Zone Settings Write"),
    ] {
        let env = token_env(&api, token);
        let mut args = vec!["fix", "--cloudflare", HOST];
        if yes {
            args.push("--yes");
        }
        let r = run(&env, &args);
        assert_eq!(r.code, Some(2), "{token}: {}", r.describe());
        let line = r.stderr.trim();
        assert_eq!(
            line.lines().count(),
            1,
            "{token}: not one line: {}",
            r.describe()
        );
        assert!(
            line.contains(&format!("lack the {permission} permission"))
                && line.contains("403")
                && line.contains("10000"),
            "{token}: {}",
            r.describe()
        );
        assert!(r.stdout.is_empty(), "{token}: {}", r.describe());
    }
    assert_eq!(api.setting(ZONE, "websockets"), Some(json!("off")));
    api.assert_conforms();
}

#[test]
fn not_editable_is_a_clear_error_and_changes_nothing() {
    let api = site("off");
    api.set_setting(ZONE, "websockets", json!("off"), false);
    let r = run(
        &token_env(&api, TOKEN),
        &["fix", "--cloudflare", HOST, "--yes"],
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr
            .contains("zone example.com: websockets cannot be changed")
            && r.stderr.contains("editable: false"),
        "{}",
        r.describe()
    );
    assert_eq!(
        api.count(
            "PATCH",
            &format!("/zones/{}/settings/websockets", api.zone_id(ZONE))
        ),
        0
    );
    api.assert_conforms();
}

#[test]
fn rate_limited_then_success_is_retried_after_retry_after() {
    let api = site("off");
    api.throttle("/zones", 1);
    let r = run(
        &token_env(&api, TOKEN),
        &["fix", "--cloudflare", HOST, "-v"],
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(r.stdout.contains("off -> on"), "{}", r.describe());
    let zones: Vec<u16> = api
        .served()
        .iter()
        .filter(|s| s.path == "/zones" && s.query.contains("name=chat.example.com"))
        .map(|s| s.status)
        .collect();
    assert_eq!(zones, vec![429, 200], "{:?}", api.served());
    // retry-after: 1 was honoured (the default backoff would have been 0.5 s).
    assert!(r.elapsed >= Duration::from_millis(950), "{:?}", r.elapsed);
    assert!(r.stderr.contains("retrying"), "{}", r.describe());
    api.assert_conforms();
}

#[test]
fn legacy_email_and_key_work_without_token_verify() {
    let api = site("off");
    api.add_key("ops@example.com", "global-key-123", ALL_PERMS);
    let env = [
        ("CLOUDFLARE_EMAIL", "ops@example.com".to_string()),
        ("CLOUDFLARE_API_KEY", "global-key-123".to_string()),
        ("CLOUDFLARE_BASE_URL", api.url()),
    ];
    let r = run(&env, &["fix", "--cloudflare", HOST, "--yes"]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert_eq!(api.setting(ZONE, "websockets"), Some(json!("on")));
    assert_eq!(api.count("GET", "/user/tokens/verify"), 0);
    api.assert_conforms();
}

#[test]
fn missing_credentials_name_the_variables() {
    let r = wspath(&[], &["fix", "--cloudflare", HOST]);
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr.contains("CLOUDFLARE_API_TOKEN"),
        "{}",
        r.describe()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_found_from_the_longest_suffix_and_records_paged() {
    let fake = CloudflareApi::start().expect("fake");
    fake.add_token(TOKEN, ALL_PERMS);
    fake.add_zone("example.org");
    fake.add_zone("example.com");
    // Records of other names first so the host's record is on a later page.
    for i in 0..5 {
        fake.add_record(ZONE, "TXT", HOST, &format!("\"v=spf{i}\""), false);
    }
    fake.add_record(ZONE, "A", "other.example.com", "198.51.100.9", true);
    fake.add_record(ZONE, "CNAME", "a.b.example.com", "origin.example.net", true);
    fake.state().max_per_page = 2;
    let api = CheckedApi::start(fake).expect("prism");

    let c = client(&api, TOKEN);
    let zone = c.zone_for_host("A.b.example.com.").await.expect("zone");
    assert_eq!(zone.name, ZONE);
    let asked: Vec<String> = api
        .served()
        .iter()
        .filter(|s| s.path == "/zones")
        .map(|s| s.query.clone())
        .collect();
    assert!(
        asked[0].contains("name=a.b.example.com")
            && asked[1].contains("name=b.example.com")
            && asked[2].contains("name=example.com"),
        "{asked:?}"
    );

    let records = c.dns_records(&zone, HOST).await.expect("records");
    assert_eq!(records.len(), 5, "all TXT records over 3 pages");
    let pages = api.count("GET", &format!("/zones/{}/dns_records", zone.id));
    assert_eq!(pages, 3);

    let none = c
        .zone_for_host("example.net")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        none.contains("no Cloudflare zone") && none.contains("example.net"),
        "{none}"
    );
    api.assert_conforms();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_only_record_means_cloudflare_is_not_in_the_path() {
    let api = one_record(("A", "203.0.113.7", false), &[("websockets", json!("off"))]);

    let facts = client(&api, TOKEN).edge_facts(HOST).await.expect("facts");
    let record = facts.origin_record().expect("record");
    assert!(!record.proxied);
    let target = Target::parse(&format!("wss://{HOST}/ws")).expect("target");
    assert!(!rules::edge_in_path(&facts));
    assert_eq!(rules::origin_hop(&facts, &target), None);
    let findings = rules::findings(&facts, &target);
    let not_proxied = findings
        .iter()
        .find(|f| f.id == rules::id::NOT_PROXIED)
        .expect("record-not-proxied finding");
    assert!(not_proxied
        .message
        .contains("Cloudflare is not in the path"));
    assert!(not_proxied.message.contains("203.0.113.7"));
    let off = findings
        .iter()
        .find(|f| f.id == rules::id::WEBSOCKETS_OFF)
        .expect("ws off");
    assert_eq!(off.severity, Severity::Info);
    api.assert_conforms();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flexible_ssl_makes_the_origin_hop_plain_http_on_80() {
    let settings = [
        ("ssl", json!("flexible")),
        ("always_use_https", json!("on")),
    ];
    let api = one_record(("CNAME", "origin.example.net", true), &settings);

    let facts = client(&api, TOKEN).edge_facts(HOST).await.expect("facts");
    assert_eq!(facts.ssl.value(), Some(SslMode::Flexible));
    assert_eq!(facts.websockets.value, OnOff::On);
    // proxy_read_timeout is an Enterprise setting: a fact, not a failure.
    assert!(matches!(facts.proxy_read_timeout, Readable::NotReadable(_)));

    let wss = Target::parse(&format!("wss://{HOST}/ws")).expect("target");
    let hop = rules::origin_hop(&facts, &wss).expect("origin hop");
    assert_eq!(hop.connect, Some(("origin.example.net".to_string(), 80)));
    assert_eq!(hop.scheme, Scheme::Ws);
    assert_eq!(hop.path, "/ws");
    let ids: Vec<String> = rules::findings(&facts, &wss)
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert!(
        ids.contains(&rules::id::SSL_FLEXIBLE.to_string()),
        "{ids:?}"
    );
    assert!(ids.contains(&rules::id::IDLE_LIMIT.to_string()), "{ids:?}");
    assert!(
        !ids.contains(&rules::id::ALWAYS_USE_HTTPS_WS.to_string()),
        "{ids:?}"
    );

    let ws = Target::parse(&format!("ws://{HOST}/ws")).expect("target");
    let ws_ids: Vec<String> = rules::findings(&facts, &ws)
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert!(
        ws_ids.contains(&rules::id::ALWAYS_USE_HTTPS_WS.to_string()),
        "{ws_ids:?}"
    );

    let shown = rules::facts(&facts);
    assert!(shown
        .iter()
        .any(|f| f.name == "ssl" && f.value == "flexible"));
    assert!(shown
        .iter()
        .any(|f| f.name == "proxy_read_timeout" && f.value.starts_with("not readable")));
    api.assert_conforms();
}

#[test]
fn the_token_never_appears_in_any_output() {
    const CANARY: &str = "CANARY-tok-8c1f6a2b9d";
    const KEY_CANARY: &str = "CANARY-key-77aa";
    let api = site("off");
    api.add_token(CANARY, ALL_PERMS);
    api.add_token(&format!("{CANARY}-weak"), &[Perm::ZoneRead]);
    api.add_key("ops@example.com", KEY_CANARY, ALL_PERMS);
    api.throttle("/zones", 1);

    let token = token_env(&api, CANARY);
    let weak = token_env(&api, &format!("{CANARY}-weak"));
    let unknown = token_env(&api, &format!("{CANARY}-unknown"));
    let key = vec![
        ("CLOUDFLARE_EMAIL", "ops@example.com".to_string()),
        ("CLOUDFLARE_API_KEY", KEY_CANARY.to_string()),
        ("CLOUDFLARE_BASE_URL", api.url()),
    ];
    let mut runs = Vec::new();
    for env in [&token, &weak, &key] {
        for format in ["human", "json"] {
            for v in ["-v", "-vv", "-vvv"] {
                runs.push(run(
                    env,
                    &["fix", "--cloudflare", HOST, "--format", format, v],
                ));
            }
        }
    }
    // An unknown token (400/6003 from the API) and a broken base URL.
    let rejected = run(
        &unknown,
        &[
            "fix",
            "--cloudflare",
            HOST,
            "--yes",
            "-vvv",
            "--format",
            "json",
        ],
    );
    assert_eq!(rejected.code, Some(2), "{}", rejected.describe());
    assert!(
        rejected
            .stderr
            .contains("rejected the credentials in CLOUDFLARE_API_TOKEN"),
        "{}",
        rejected.describe()
    );
    runs.push(rejected);
    let mut bad_url = token.clone();
    bad_url[1].1 = "http://127.0.0.1:1".to_string();
    runs.push(run(&bad_url, &["fix", "--cloudflare", HOST, "-vvv"]));
    // `check` in every format, with and without --fix, its edge on a closed loopback port
    // (nothing leaves the machine), then `fix --yes` and `check --fix --yes`.
    let closed = crate::support::free_port().expect("port");
    let edge = format!("edge=127.0.0.1:{closed}");
    let target = format!("ws://{HOST}/ws");
    for env in [&token, &key] {
        for format in ["human", "json", "junit", "sarif"] {
            for extra in [
                &["-vvv"][..],
                &["-vvv", "--fix"][..],
                &["-v", "--cloudflare"][..],
            ] {
                let mut args = vec![
                    "check",
                    &target,
                    "--hop",
                    &edge,
                    "--timeout",
                    "2s",
                    "--format",
                    format,
                ];
                args.extend_from_slice(extra);
                runs.push(run(env, &args));
            }
        }
    }
    runs.push(run(&token, &["fix", "--cloudflare", HOST, "--yes", "-vvv"]));
    runs.push(run(
        &key,
        &[
            "fix",
            "--cloudflare",
            HOST,
            "--yes",
            "-vvv",
            "--format",
            "json",
        ],
    ));
    runs.push(run(
        &token,
        &[
            "check",
            &target,
            "--hop",
            &edge,
            "--timeout",
            "2s",
            "--fix",
            "--yes",
            "-vvv",
        ],
    ));
    let conf = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(conf.path(), "events {}\nhttp { server { listen 127.0.0.1:8080; location / { proxy_pass http://127.0.0.1:9000; } } }\n").expect("write conf");
    let conf_path = conf.path().display().to_string();
    for format in ["human", "json"] {
        runs.push(run(
            &token,
            &["lint", "nginx", &conf_path, "--format", format, "-vvv"],
        ));
    }
    runs.push(run(&token, &["--help"]));
    let checks_with_facts = runs
        .iter()
        .filter(|r| r.stdout.contains("websockets") && r.stdout.contains("example.com"))
        .count();
    assert!(checks_with_facts > 0, "no run printed Cloudflare facts");

    let logged = runs
        .iter()
        .filter(|r| r.stderr.contains("Cloudflare API request"))
        .count();
    assert!(
        logged > 0,
        "no -vvv run logged its requests: the test would prove nothing"
    );
    assert!(runs.iter().any(|r| r.code == Some(0)), "no run succeeded");
    for r in &runs {
        for secret in [CANARY, KEY_CANARY] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "a secret leaked: {}",
                r.describe()
            );
        }
    }
}

/// A server that breaks the contract on purpose (no Prism: it would only report the obvious).
fn broken_server(body: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let (addr, stop, _thread) = serve("broken cloudflare", move |_req| {
        if body.is_empty() {
            std::thread::sleep(Duration::from_secs(5));
        }
        response(200, &[], body)
    })
    .expect("serve");
    (format!("http://{addr}"), stop)
}

#[tokio::test]
async fn a_malformed_body_is_a_clear_error() {
    let (url, stop) = broken_server("<html>upstream connect error</html>");
    let c = client_at(&url, TOKEN, ClientOptions::default());
    let e = c.zone_for_host(HOST).await.unwrap_err().to_string();
    assert!(
        e.contains("malformed response")
            && e.contains("GET /user/tokens/verify")
            && e.contains("not a Cloudflare v4 JSON envelope"),
        "{e}"
    );
    stop.store(true, Ordering::SeqCst);
}

#[tokio::test]
async fn a_silent_server_times_out_after_the_retries() {
    let (url, stop) = broken_server("");
    let options = ClientOptions {
        request_timeout: Duration::from_millis(300),
        initial_backoff: Duration::from_millis(10),
        ..ClientOptions::default()
    };
    let c = client_at(&url, TOKEN, options);
    let start = Instant::now();
    let e = c.zone_for_host(HOST).await.unwrap_err().to_string();
    assert!(e.contains("no answer within 0.3s"), "{e}");
    // Three attempts of 300 ms, not a hang.
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    stop.store(true, Ordering::SeqCst);
}

/// DNS Read is the one permission error Prism cannot watch: the contract's 4xx schema for
/// `dns_records` demands `success: true` and `success: false` at once, so any 4xx answer there
/// is a "violation". The fake is asked directly.
#[tokio::test]
async fn token_without_dns_read_is_named_when_reading_the_edge() {
    let fake = CloudflareApi::with_site(TOKEN, ZONE, HOST, "on").expect("fake");
    fake.add_token("no-dns", &[Perm::ZoneRead, Perm::ZoneSettingsRead]);
    let c = client_at(&fake.url(), "no-dns", ClientOptions::default());
    let e = c.edge_facts(HOST).await.unwrap_err().to_string();
    assert!(e.contains("lack the DNS Read permission"), "{e}");
    assert!(!e.contains("no-dns"), "the token leaked into: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_off_on_a_proxied_record_is_an_error_finding_with_the_fix() {
    let api = site("off");
    let facts = client(&api, TOKEN).edge_facts(HOST).await.expect("facts");
    let target = Target::parse(&format!("wss://{HOST}/ws")).expect("target");
    let findings = rules::findings(&facts, &target);
    let off = findings
        .iter()
        .find(|f| f.id == rules::id::WEBSOCKETS_OFF)
        .expect("websockets-off finding");
    assert_eq!(off.severity, Severity::Error);
    assert!(off.message.contains("refuses every upgrade"), "{off:?}");
    assert!(
        off.fix
            .as_deref()
            .is_some_and(|f| f.contains("wspath fix --cloudflare chat.example.com --yes")),
        "{off:?}"
    );
    let plan = rules::websockets_plan(&facts.zone, &facts.websockets).expect("plan");
    assert_eq!(plan.changes.len(), 1);
    // The default origin hop: the A record's address, TLS on 443 (ssl = full).
    let hop = rules::origin_hop(&facts, &target).expect("origin");
    assert_eq!(hop.connect, Some(("198.51.100.4".to_string(), 443)));
    assert_eq!(hop.scheme, Scheme::Wss);
    api.assert_conforms();
}

/// The harness itself: a fake answer that breaks the contract, or a request without
/// credentials, is caught by Prism and fails `assert_conforms`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_catches_a_fake_or_a_request_that_breaks_the_contract() {
    let api = site("on");
    api.set_setting(ZONE, "websockets", json!("maybe"), true);
    let url = format!(
        "{}/zones/{}/settings/websockets",
        api.url(),
        api.zone_id(ZONE)
    );
    let http = reqwest::Client::new();
    let answer = http
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("through the relay");
    assert_eq!(answer.status(), 200);
    let unauthenticated = http.get(&url).send().await.expect("through the relay");
    assert_eq!(unauthenticated.status(), 400);

    let exchanges = api.exchanges();
    let violations: Vec<&str> = exchanges
        .iter()
        .filter_map(|e| e.violations.as_deref())
        .collect();
    assert_eq!(violations.len(), 2, "{exchanges:?}");
    assert!(violations[0].contains("result.value"), "{violations:?}");
    assert!(violations[1].contains("security"), "{violations:?}");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| api.assert_conforms()));
    assert!(caught.is_err(), "assert_conforms let a violation through");
}

/// An account-owned token is unknown to `/user/tokens/verify` (401, 1000) but works for the
/// calls: wspath goes on and lets them decide. Direct to the fake: the contract's 4xx schema
/// for token verify is unsatisfiable (it demands `success: true` and `false` at once).
#[tokio::test]
async fn an_account_token_is_not_refused_by_the_user_token_verify() {
    let fake = CloudflareApi::with_site(TOKEN, ZONE, HOST, "off").expect("fake");
    fake.state().account_tokens.insert(TOKEN.to_string());
    let c = client_at(&fake.url(), TOKEN, ClientOptions::default());
    let facts = c
        .edge_facts(HOST)
        .await
        .expect("facts with an account token");
    assert_eq!(facts.websockets.value, OnOff::Off);
    assert_eq!(fake.count("GET", "/user/tokens/verify"), 1);

    // A token Cloudflare does not know at all still ends in one clear error.
    let bad = client_at(&fake.url(), "nobody", ClientOptions::default());
    let e = bad.edge_facts(HOST).await.unwrap_err().to_string();
    assert!(
        e.contains("rejected the credentials in CLOUDFLARE_API_TOKEN") && e.contains("6003"),
        "{e}"
    );
}

/// 5xx (and 408/409) are retried like 429, twice, with backoff; the third failure is the
/// error. Direct to the fake: the contract documents only 200 and 4XX answers.
#[tokio::test]
async fn server_errors_are_retried_twice_then_reported() {
    let fake = CloudflareApi::with_site(TOKEN, ZONE, HOST, "off").expect("fake");
    let options = ClientOptions {
        initial_backoff: Duration::from_millis(10),
        ..ClientOptions::default()
    };
    let c = client_at(&fake.url(), TOKEN, options);
    fake.fail_next("/zones", 2, 502);
    let zone = c.zone_for_host(HOST).await.expect("third attempt succeeds");
    assert_eq!(zone.name, ZONE);

    fake.fail_next("/zones", 3, 503);
    let e = c.zone_for_host(HOST).await.unwrap_err().to_string();
    assert!(e.contains("GET /zones: HTTP 503"), "{e}");
    let statuses: Vec<u16> = fake
        .served()
        .iter()
        .filter(|s| s.path == "/zones")
        .map(|s| s.status)
        .collect();
    assert_eq!(&statuses[..3], &[502, 502, 200], "{statuses:?}");
    assert_eq!(
        &statuses[statuses.len() - 3..],
        &[503, 503, 503],
        "{statuses:?}"
    );
    fake.fail_next("/zones", 1, 409);
    assert!(c.zone_for_host(HOST).await.is_ok(), "409 is retried too");
}
