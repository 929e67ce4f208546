//! `aws_alb`: wspath's ELBv2 provider, rules and `fix --alb` against a real moto server.
//! Each test has its own moto (parallel-safe); scenarios are built through the AWS APIs.

use crate::support::check::assert_fix_schema;
use crate::support::moto::Moto;
use crate::support::proxy::{Kind, Proxy, Setup};
use crate::support::tls::SelfSigned;
use crate::support::CliOutput;
use serde_json::{json, Value};
use wspath::rules::alb::{self, Expectation};
use wspath::{Severity, Target};
use wspath_providers::aws_alb::{self, LbRef};

/// A moto of its own holding one load balancer built from a spec (see
/// tests/support/alb_fixture.py): what every test here starts from.
struct Lab {
    moto: Moto,
    /// The load balancer's name.
    name: String,
    /// What the build returned: ARNs by name, the DNS name, an IAM access key.
    built: Value,
}

impl Lab {
    /// A moto with no load balancer at all.
    fn empty() -> Lab {
        Lab {
            moto: Moto::start().unwrap_or_else(|e| panic!("moto: {e}")),
            name: String::new(),
            built: Value::Null,
        }
    }

    /// Builds `spec` (its `lb` names the load balancer) in a fresh moto.
    fn build(spec: Value) -> Lab {
        let mut lab = Lab::empty();
        lab.name = spec["lb"].as_str().expect("spec names its lb").to_string();
        lab.built = lab.add(spec);
        lab
    }

    /// See [`alb_spec`].
    fn alb(name: &str, ws_version: &str, rules: Value, attributes: Value) -> Lab {
        Lab::build(alb_spec(name, ws_version, rules, attributes))
    }

    /// [`Lab::alb`] with an HTTP/1.1 `ws` group and no attributes set: the listener and its
    /// rules are what the test is about.
    fn listener(name: &str, rules: Value) -> Lab {
        Lab::alb(name, "HTTP1", rules, json!({}))
    }

    /// Builds another load balancer from `spec` in the same moto.
    fn add(&self, spec: Value) -> Value {
        self.moto.build(spec).unwrap_or_else(|e| panic!("{e}"))
    }

    fn arn(&self) -> &str {
        self.built["lb_arn"].as_str().expect("arn")
    }

    /// Everything moto holds for the load balancer (rules, attributes), to compare.
    fn dump(&self) -> Value {
        self.moto.dump(self.arn()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(&self, args: &[&str]) -> CliOutput {
        self.moto
            .wspath(args)
            .unwrap_or_else(|e| panic!("wspath: {e}"))
    }

    fn run_as(&self, args: &[&str], id: &str, secret: &str) -> CliOutput {
        self.moto
            .wspath_as(args, id, secret)
            .unwrap_or_else(|e| panic!("wspath: {e}"))
    }

    /// `fix --alb NAME --path /ws/* --target-group ws EXTRA…`
    fn fix_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "fix",
            "--alb",
            &self.name,
            "--path",
            "/ws/*",
            "--target-group",
            "ws",
        ];
        args.extend(extra);
        args
    }

    fn fix(&self, extra: &[&str]) -> CliOutput {
        self.run(&self.fix_args(extra))
    }

    /// The provider's findings and facts for `url` through this load balancer.
    async fn analyse(&self, url: &str) -> (Vec<wspath::Finding>, Vec<String>) {
        let facts = self.facts().await;
        let exp = Expectation::for_target(&Target::parse(url).expect("target"));
        let facts_text = alb::facts(&facts, &exp)
            .into_iter()
            .map(|f| format!("{}: {}", f.name, f.value))
            .collect();
        (alb::findings(&facts, &exp), facts_text)
    }

    async fn facts(&self) -> aws_alb::AlbFacts {
        aws_alb::read(&self.moto.client(), &LbRef::parse(&self.name))
            .await
            .expect("read ALB")
    }
}

/// An ALB `name` whose HTTP:80 listener forwards to `web` by default and has `rules`, with a
/// WebSocket target group `ws` speaking `ws_version` and these load balancer attributes.
fn alb_spec(name: &str, ws_version: &str, rules: Value, attributes: Value) -> Value {
    json!({
        "lb": name,
        "attributes": attributes,
        "target_groups": [
            {"name": "ws", "protocol_version": ws_version, "targets": [{"id": "10.0.1.10", "port": 8080}]},
            {"name": "web", "targets": [{"id": "10.0.1.11", "port": 8080}]}
        ],
        "listeners": [{"protocol": "HTTP", "port": 80, "default": {"forward": "web"}, "rules": rules}]
    })
}

/// `n` rules at priorities 1..=n for paths narrower than `/ws/*` (`/ws/roomN/*`), each
/// answering 403: the rules a new WebSocket rule must stay behind.
fn narrower_rules(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({"priority": i, "path": [format!("/ws/room{i}/*")], "fixed": 403}))
        .collect()
}

fn ids(findings: &[wspath::Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.id.as_str()).collect()
}

#[tokio::test]
async fn alb_http2_target_group_on_ws_path_is_an_error() {
    // The config form (PathPatternConfig) of the condition, as the console writes it.
    let lab = Lab::alb(
        "h2",
        "HTTP2",
        json!([{"priority": 5, "path": ["/ws/*"], "forward": "ws", "config_form": true}]),
        json!({"idle_timeout.timeout_seconds": 3600}),
    );
    let (findings, facts) = lab.analyse("ws://app.example.com/ws/chat?x=1").await;
    let f = findings
        .iter()
        .find(|f| f.id == "aws_alb/target-group-http2")
        .unwrap_or_else(|| panic!("no http2 finding in {findings:?}"));
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.evidence.contains("protocol version HTTP2"),
        "{}",
        f.evidence
    );
    assert!(
        facts
            .iter()
            .any(|f| f.starts_with("route:") && f.contains("priority 5")),
        "{facts:?}"
    );
    // Same ALB, a path the rule does not match (paths are case-sensitive): default → web, HTTP1.
    let (findings, _) = lab.analyse("ws://app.example.com/WS/chat").await;
    assert!(findings.is_empty(), "{findings:?}");
}

#[tokio::test]
async fn alb_idle_timeout_60_is_a_warning_with_its_value() {
    let lab = Lab::alb(
        "idle",
        "HTTP1",
        json!([{"priority": 1, "path": ["/ws/*"], "forward": "ws"}]),
        json!({"idle_timeout.timeout_seconds": 60}),
    );
    let (findings, facts) = lab.analyse("ws://app.example.com/ws/").await;
    assert_eq!(ids(&findings), ["aws_alb/idle-timeout"], "{findings:?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("60 s"),
        "{}",
        findings[0].message
    );
    assert!(
        facts.contains(&"idle_timeout.timeout_seconds: 60".to_string()),
        "{facts:?}"
    );
}

#[tokio::test]
async fn alb_attributes_absent_mean_aws_defaults() {
    let lab = Lab::listener("dflt", json!([]));
    let (findings, facts) = lab.analyse("ws://app.example.com/ws/").await;
    assert_eq!(ids(&findings), ["aws_alb/idle-timeout"], "{findings:?}");
    assert!(
        findings[0].evidence.contains("not set"),
        "{}",
        findings[0].evidence
    );
    assert!(
        facts.contains(&"routing.http2.enabled: true (not set; AWS default)".to_string()),
        "{facts:?}"
    );
}

#[tokio::test]
async fn alb_no_rule_no_listener_no_healthy_target_and_socketio() {
    let lab = Lab::build(json!({
        "lb": "many",
            "attributes": {"idle_timeout.timeout_seconds": 3600},
            "target_groups": [
                {"name": "empty"},
                {"name": "sio", "targets": [{"id": "10.0.1.12", "port": 3000}]}
            ],
            "listeners": [{"protocol": "HTTP", "port": 80, "default": {"fixed": 404}, "rules": [
                {"priority": 1, "path": ["/ws/*"], "host": ["ws.example.com"], "forward": "empty"},
                {"priority": 2, "path": ["/socket.io/*"], "forward": "sio"}
            ]}]
    }));
    // Host matching is case-insensitive: this reaches the empty group.
    let (f, _) = lab.analyse("ws://WS.Example.com/ws/x").await;
    assert_eq!(ids(&f), ["aws_alb/no-healthy-target"], "{f:?}");
    // Another host falls to the default fixed-response 404.
    let (f, _) = lab.analyse("ws://other.example.com/ws/x").await;
    assert_eq!(ids(&f), ["aws_alb/no-rule-for-path"], "{f:?}");
    assert!(
        f[0].evidence.contains("fixed-response 404"),
        "{}",
        f[0].evidence
    );
    let (f, _) = lab.analyse("ws://other.example.com/socket.io/?EIO=4").await;
    assert_eq!(ids(&f), ["aws_alb/socketio-no-stickiness"], "{f:?}");
    // wss:// means HTTPS:443, which this ALB does not have.
    let (f, _) = lab.analyse("wss://ws.example.com/ws/x").await;
    assert_eq!(ids(&f), ["aws_alb/no-listener"], "{f:?}");
    // Behind Cloudflare with SSL flexible the origin is reached on HTTP:80, which exists.
    let facts = lab.facts().await;
    let target = Target::parse("wss://ws.example.com/ws/x").expect("target");
    let exp = Expectation::behind_cloudflare(&target, "flexible");
    assert_eq!(
        ids(&alb::findings(&facts, &exp)),
        ["aws_alb/no-healthy-target"]
    );
    let exp = Expectation::behind_cloudflare(&target, "strict");
    assert_eq!(ids(&alb::findings(&facts, &exp)), ["aws_alb/no-listener"]);
}

#[tokio::test]
async fn alb_found_by_dns_name_and_next_hops_from_healthy_targets() {
    // Two load balancers in one account: the DNS name must pick the right one.
    let lab = Lab::listener("other", json!([]));
    let built = lab.add(json!({
        "lb": "dns",
        "target_groups": [{"name": "tls", "protocol": "HTTPS", "port": 8443,
                           "targets": [{"id": "10.0.1.20", "port": 8443}, {"id": "10.0.1.21", "port": 9443}]}],
        "listeners": [{"protocol": "HTTP", "port": 80, "default": {"forward": "tls"}}]
    }));
    let dns = built["dns_name"].as_str().expect("dns name");
    assert_ne!(dns, lab.built["dns_name"].as_str().expect("dns"));
    let name = format!("dualstack.{}.", dns.to_ascii_uppercase());
    assert!(aws_alb::is_elb_dns_name(&name));
    let facts = aws_alb::read(&lab.moto.client(), &LbRef::parse(&name))
        .await
        .expect("read by DNS name");
    assert_eq!(facts.load_balancer.name, "dns");
    let exp = Expectation::for_target(&Target::parse("ws://a.example.com/ws").expect("target"));
    let hops: Vec<String> = alb::next_hops(&facts, &exp)
        .iter()
        .map(|h| format!("{} {}", h.address, h.tls))
        .collect();
    assert_eq!(hops, ["10.0.1.20:8443 true", "10.0.1.21:9443 true"]);
}

#[test]
fn alb_fix_plan_changes_nothing_then_yes_applies_then_nothing_to_do() {
    let lab = Lab::listener(
        "fixme",
        json!([{"priority": 1, "path": ["/api/*"], "forward": "web"},
               {"priority": 2, "path": ["/static/*"], "forward": "web"},
               {"priority": 4, "path": ["/admin/*"], "forward": "web"}]),
    );
    let args = ["--idle-timeout", "3600", "--stickiness", "--format", "json"];
    let before = lab.dump();
    let out = lab.fix(&args);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let plan: Value = serde_json::from_str(&out.stdout).expect("json plan");
    assert_fix_schema(&plan);
    assert_eq!(plan["dry_run"], true);
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 3, "{plan}");
    assert!(changes
        .iter()
        .all(|c| c["applied"] == false && c["provider"] == "aws_alb"));
    // The lowest free priority between the existing 1, 2 and 4.
    assert!(
        changes[0]["after"]
            .as_str()
            .unwrap_or("")
            .starts_with("priority 3 ("),
        "{plan}"
    );
    assert_eq!(lab.dump(), before, "a dry run changed the ALB");

    let out = lab.fix(&[&args[..], &["--yes"]].concat());
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let plan: Value = serde_json::from_str(&out.stdout).expect("json outcome");
    assert_fix_schema(&plan);
    assert!(plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .all(|c| c["applied"] == true));
    let after = lab.dump();
    let rule = rule(&after, "3");
    assert_eq!(rule["conditions"][0]["Field"], "path-pattern");
    assert!(rule["conditions"].to_string().contains("/ws/*"), "{rule}");
    assert!(rule["actions"][0]["TargetGroupArn"]
        .as_str()
        .unwrap_or("")
        .contains(":targetgroup/ws/"));
    assert!(
        after["lb_attributes"]
            .to_string()
            .contains(r#"["idle_timeout.timeout_seconds","3600"]"#),
        "{after}"
    );
    assert!(
        after["target_group_attributes"]["ws"]
            .to_string()
            .contains(r#"["stickiness.type","lb_cookie"]"#),
        "{after}"
    );
    // Nothing was deleted or rewritten: the old rules are all still there.
    for p in ["1", "2", "4", "default"] {
        assert!(after["rules"]["HTTP:80"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r["priority"] == p));
    }

    let out = lab.fix(&args);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let plan: Value = serde_json::from_str(&out.stdout).expect("json plan");
    assert_eq!(plan["changes"], json!([]), "{plan}");
    assert_eq!(plan["notes"].as_array().map(Vec::len), Some(3), "{plan}");
    assert_eq!(lab.dump(), after);
    let human = lab.fix(&[]);
    assert_eq!(human.code, Some(0));
    assert!(
        human.stdout.contains("Nothing to change."),
        "{}",
        human.stdout
    );
}

#[tokio::test]
async fn alb_priority_taken_in_a_race_goes_to_the_next_free_one() {
    let lab = Lab::listener(
        "race",
        json!([{"priority": 1, "path": ["/a/*"], "forward": "web"},
               {"priority": 2, "path": ["/b/*"], "forward": "web"}]),
    );
    let listener = lab.built["listeners"]["HTTP:80"]
        .as_str()
        .expect("listener");
    let tg = lab.built["target_groups"]["ws"].as_str().expect("tg");
    // Planned when 1 looked free; meanwhile 1 and 2 were taken.
    let done = aws_alb::write::create_rule(&lab.moto.client(), listener, 1, "/ws/*", None, tg)
        .await
        .expect("create rule");
    match done {
        aws_alb::Applied::RuleCreated { priority, .. } => assert_eq!(priority, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn alb_unknown_load_balancer_is_a_clear_error_exit_2() {
    let lab = Lab::empty();
    let out = lab.run(&["fix", "--alb", "nope", "--idle-timeout", "100"]);
    assert_eq!(out.code, Some(2));
    let err = out.stderr.clone();
    assert!(
        err.contains("no load balancer named 'nope' in us-east-1"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn alb_fix_refuses_http2_target_group() {
    let lab = Lab::alb("refuse", "HTTP2", json!([]), json!({}));
    let before = lab.dump();
    let out = lab.fix(&["--yes"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("speaks HTTP2"), "{}", out.describe());
    assert_eq!(lab.dump(), before);
}

#[test]
fn alb_access_denied_names_the_iam_action_and_no_secret() {
    let mut spec = alb_spec("denied", "HTTP1", json!([]), json!({}));
    spec["iam_user"] = json!({"allow": ["elasticloadbalancing:Describe*"]});
    let lab = Lab::build(spec);
    let id = lab.built["access_key"]["id"].as_str().expect("key id");
    let secret = lab.built["access_key"]["secret"].as_str().expect("secret");
    let args = lab.fix_args(&[]);
    // Reading is allowed: the plan is printed.
    let out = lab.run_as(&args, id, secret);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let out = lab.run_as(&lab.fix_args(&["--yes"]), id, secret);
    assert_eq!(out.code, Some(2));
    let err = out.stderr.clone();
    assert!(err.contains("elasticloadbalancing:CreateRule"), "{err}");
    assert!(!err.contains(secret) && !err.contains(id), "{err}");
    // With a wrong secret even reading is refused, and the error says which action.
    let out = lab.run_as(&args, id, "wrong-secret");
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("elasticloadbalancing:DescribeLoadBalancers"),
        "{}",
        out.describe()
    );
}

#[test]
fn alb_without_credentials_is_a_clear_error_exit_2() {
    let lab = Lab::empty();
    let out = lab.run_as(&["fix", "--alb", "x", "--idle-timeout", "100"], "", "");
    assert_eq!(out.code, Some(2));
    let err = out.stderr.clone();
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(
        err.contains("elasticloadbalancing:DescribeLoadBalancers"),
        "{err}"
    );
}

/// The SDK reaches an HTTPS endpoint through the client providers/src/aws_alb/client.rs gives
/// it (rustls on ring), trusting the system's roots as the SDK's own default does:
/// rustls-native-certs reads `SSL_CERT_FILE`, so with the test CA there the load balancer is
/// read, and without it the certificate is refused.
#[test]
fn alb_over_https_trusts_the_system_roots_and_only_them() {
    let lab = Lab::listener("tls", json!([]));
    let cert = SelfSigned::new("localhost").expect("certificate");
    let inner = lab.moto.endpoint.trim_start_matches("http://");
    let front =
        Proxy::in_front_of(Kind::Nginx, inner, &Setup::good().serving_tls(&cert)).expect("nginx");
    let https = format!("https://localhost:{}", front.port);
    let ca = cert.ca.to_str().expect("utf-8 path");
    let args = lab.fix_args(&[]);
    let run = |env: &[(&str, &str)]| {
        lab.moto
            .wspath_env(&args, "testing", "testing", env)
            .unwrap_or_else(|e| panic!("wspath: {e}"))
    };
    // Read over TLS: the plan is printed (exit 1, a change to make).
    let out = run(&[("AWS_ENDPOINT_URL", &https), ("SSL_CERT_FILE", ca)]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stdout.contains("/ws/*"), "{}", out.describe());
    // The same endpoint with a CA file that is not the issuer's: refused, a clear error.
    let other = SelfSigned::new("localhost").expect("certificate");
    let other_ca = other.ca.to_str().expect("utf-8 path");
    let out = run(&[("AWS_ENDPOINT_URL", &https), ("SSL_CERT_FILE", other_ca)]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "{}",
        out.describe()
    );
}

/// Host rules at priorities 1 and `second` for a.example.com and b.example.com, both
/// forwarding to `web`: a listener that serves several hosts.
fn host_rules(second: u32) -> Lab {
    Lab::listener(
        "hosts",
        json!([{"priority": 1, "host": ["a.example.com"], "forward": "web"},
               {"priority": second, "host": ["b.example.com"], "forward": "web"}]),
    )
}

#[test]
fn alb_fix_on_a_listener_serving_several_hosts_needs_and_adds_host_header() {
    let lab = host_rules(2);
    let out = lab.fix(&["--yes"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--host"), "{}", out.describe());
    // A host no rule names yet: the new rule lands at 3 with both conditions.
    let out = lab.fix(&["--yes", "--host", "c.example.com"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let conds = rule(&lab.dump(), "3")["conditions"].to_string();
    assert!(
        conds.contains("host-header") && conds.contains("c.example.com"),
        "{conds}"
    );
    assert!(conds.contains("/ws/*"), "{conds}");
}

#[test]
fn alb_host_rule_serving_the_path_at_priority_1_is_moved_up_for_the_new_rule() {
    // Host rule 1 serves a.example.com's WebSocket path today and 1 is the first priority: the
    // new rule can only go before it by moving it up by one (SetRulePriorities). (Moving a run
    // of several rules up at once is what AWS accepts but moto refuses, so the run here is one.)
    let lab = host_rules(5);
    let out = lab.fix(&["--host", "A.example.com", "--yes"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let after = lab.dump();
    let a1 = rule_at(&after, "1");
    let a2 = rule_at(&after, "2");
    assert!(
        a1.contains("a.example.com") && a1.contains("/ws/*"),
        "{after}"
    );
    assert!(
        a2.contains("a.example.com") && !a2.contains("/ws/*"),
        "{after}"
    );
    assert!(rule_at(&after, "5").contains("b.example.com"), "{after}");
}

/// The rules of HTTP:80 without the one forwarding to `ws`, in priority order (priorities
/// left out): what must stay the same, in the same order, around a new rule.
fn old_rules(dump: &Value) -> Vec<Value> {
    dump["rules"]["HTTP:80"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| !r["actions"].to_string().contains(":targetgroup/ws/"))
        .map(|r| json!([r["conditions"], r["actions"]]))
        .collect()
}

/// The rule of HTTP:80 at priority `p` (`"default"` for the default action).
fn rule<'a>(dump: &'a Value, p: &str) -> &'a Value {
    dump["rules"]["HTTP:80"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["priority"] == p)
        .unwrap_or_else(|| panic!("no rule {p}: {dump}"))
}

fn rule_at(dump: &Value, p: &str) -> String {
    rule(dump, p).to_string()
}

/// `fix --alb order … --format json --yes` applied: every old rule kept in the same relative
/// order, and the new rule at priority `expected`. Returns the state after.
fn assert_applied_at(lab: &Lab, before: &Value, expected: &str) -> Value {
    let out = lab.fix(&["--format", "json", "--yes"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let after = lab.dump();
    assert!(
        rule_at(&after, expected).contains(":targetgroup/ws/"),
        "{after}"
    );
    assert_eq!(
        old_rules(&after),
        old_rules(before),
        "every old rule kept, in the same relative order"
    );
    after
}

/// The dry-run plan of `fix --alb order … --format json`, checked against the schema, after
/// which nothing has changed.
fn dry_run_plan(lab: &Lab, before: &Value) -> Value {
    let out = lab.fix(&["--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let plan = out.json().unwrap();
    assert_fix_schema(&plan);
    assert_eq!(&lab.dump(), before, "a dry run changes nothing");
    plan
}

#[test]
fn alb_new_rule_goes_after_a_narrower_rule_that_wins_today() {
    let lab = Lab::listener(
        "order",
        json!([{"priority": 10, "path": ["/ws/admin/*"], "fixed": 403}]),
    );
    let before = lab.dump();
    let plan = dry_run_plan(&lab, &before);
    assert!(
        plan["changes"][0]["after"]
            .as_str()
            .unwrap()
            .starts_with("priority 11 ("),
        "{plan}"
    );
    let notes = plan["notes"].to_string();
    assert!(
        notes.contains("kept ahead") && notes.contains("/ws/admin/*"),
        "the plan says which rule stays ahead: {notes}"
    );
    assert!(notes.contains("outranks priority default"), "{notes}");

    let after = assert_applied_at(&lab, &before, "11");
    assert!(rule_at(&after, "10").contains("/ws/admin/*"), "{after}");
}

#[test]
fn alb_new_rule_goes_after_ten_narrower_rules() {
    let lab = Lab::listener("order", json!(narrower_rules(10)));
    let before = lab.dump();
    assert_applied_at(&lab, &before, "11");
}

#[test]
fn alb_full_window_is_a_renumbering_plan_applied_only_with_yes() {
    let mut rules = narrower_rules(10);
    // What serves the WebSocket path today, right behind them.
    rules.push(json!({"priority": 11, "path": ["/ws*"], "forward": "web"}));
    rules.push(json!({"priority": 13, "path": ["/api/*"], "forward": "web"}));
    let lab = Lab::listener("order", json!(rules));
    let before = lab.dump();

    let plan = dry_run_plan(&lab, &before);
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{plan}");
    let renumber = changes[0]["after"].as_str().unwrap();
    assert!(renumber.starts_with("SetRulePriorities"), "{plan}");
    assert!(
        renumber.contains("/ws*") && renumber.contains("→ 12"),
        "{plan}"
    );
    assert!(
        !renumber.contains("/ws/room"),
        "the smallest renumbering: {plan}"
    );
    assert!(
        changes[1]["after"]
            .as_str()
            .unwrap()
            .starts_with("priority 11 ("),
        "{plan}"
    );

    let after = assert_applied_at(&lab, &before, "11");
    assert!(rule_at(&after, "12").contains("/ws*"), "{after}");
    assert!(rule_at(&after, "13").contains("/api/*"), "{after}");
    let again = lab.fix(&["--format", "json"]);
    assert_eq!(again.code, Some(0), "{}", again.describe());
}

/// `check --alb`: the ALB's facts and findings on the lb hop, its healthy targets probed as
/// the next hops. The "ALB" hop itself is a real WebSocket backend on 127.0.0.1 standing in
/// for the load balancer's address (nothing leaves loopback); moto holds the configuration.
#[test]
fn alb_check_attaches_findings_to_the_lb_hop_and_probes_healthy_targets() {
    let backend = crate::support::Backend::start().unwrap_or_else(|e| panic!("backend: {e}"));
    let lab = Lab::build(json!({
            "lb": "chk",
            "target_groups": [
                {"name": "ws", "protocol_version": "HTTP2", "port": backend.port,
                 "targets": [{"id": "127.0.0.1", "port": backend.port}]}
            ],
            "listeners": [{"protocol": "HTTP", "port": 80, "default": {"fixed": 404},
                           "rules": [{"priority": 1, "path": ["/ws/*"], "forward": "ws"}]}]
    }));
    let lb = format!("lb={}", backend.addr());
    let args = [
        "check",
        "ws://app.test/ws/chat",
        "--hop",
        &lb,
        "--alb",
        "chk",
        "--format",
        "json",
        "--no-ping",
        "--timeout",
        "5s",
    ];
    let out = lab.run(&args);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let doc: Value = serde_json::from_str(&out.stdout).expect("check JSON");
    crate::support::check::validate(&doc)
        .unwrap_or_else(|e| panic!("not wspath.check/v1:\n{e}\n{doc}"));
    let hops = doc["hops"].as_array().expect("hops");
    let names: Vec<&str> = hops.iter().filter_map(|h| h["name"].as_str()).collect();
    assert_eq!(names, ["lb", "ws-1"], "{doc}");
    assert_eq!(hops[1]["verdict"], "upgraded", "{doc}");
    let ids: Vec<&str> = hops[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"aws_alb/target-group-http2"), "{ids:?}");
    assert!(ids.contains(&"aws_alb/idle-timeout"), "{ids:?}");
    let facts = hops[0]["facts"].to_string();
    assert!(facts.contains("matches rule priority 1"), "{facts}");
    assert!(
        facts.contains(&format!("127.0.0.1:{} healthy", backend.port)),
        "{facts}"
    );

    // --no-aws: no AWS facts, no added hops.
    let mut no_aws: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--alb" && *a != "chk")
        .collect();
    no_aws.push("--no-aws");
    let out = lab.run(&no_aws);
    let doc: Value = serde_json::from_str(&out.stdout).expect("check JSON");
    assert_eq!(doc["hops"].as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(doc["hops"][0]["facts"], json!([]), "{doc}");

    // No flag at all: the target is an ELB name, so AWS is read by default (region from the
    // name), and without credentials it is skipped, not an error.
    let dns = lab.built["dns_name"].as_str().expect("dns name");
    let url = format!("ws://{dns}/ws/chat");
    let auto = [
        "check",
        &url,
        "--hop",
        &lb,
        "--format",
        "json",
        "--no-ping",
        "--timeout",
        "5s",
    ];
    let out = lab.run(&auto);
    let doc: Value = serde_json::from_str(&out.stdout).expect("check JSON");
    assert!(
        doc["hops"][0]["facts"]
            .to_string()
            .contains("chk (application"),
        "{doc}"
    );
    let out = lab.run_as(&auto, "", "");
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let doc: Value = serde_json::from_str(&out.stdout).expect("check JSON");
    assert_eq!(doc["hops"][0]["facts"], json!([]), "{doc}");
}

#[test]
fn alb_fix_when_the_default_already_forwards_there_changes_nothing() {
    let lab = Lab::build(json!({
        "lb": "already",
        "target_groups": [{"name": "ws", "targets": [{"id": "10.0.1.10", "port": 8080}]}],
        "listeners": [{"protocol": "HTTP", "port": 80, "default": {"forward": "ws"}}]
    }));
    let before = lab.dump();
    let out = lab.fix(&["--yes"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("already reaches ws"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("Nothing to change."),
        "{}",
        out.describe()
    );
    assert_eq!(lab.dump(), before);
}

#[test]
fn alb_fix_bad_flags_fail_before_any_aws_call() {
    let t = std::time::Duration::from_secs(30);
    for (args, flag) in [
        (
            &["fix", "--alb", "x", "--path", "ws/*", "--target-group", "y"][..],
            "--path",
        ),
        (
            &["fix", "--alb", "x", "--idle-timeout", "5000"][..],
            "--idle-timeout",
        ),
        (
            &["fix", "--alb", "x", "--path", "/ws/*"][..],
            "--target-group",
        ),
        (&["fix", "--alb", "x", "--stickiness"][..], "--target-group"),
        (&["fix", "--alb", "x"][..], "nothing asked"),
    ] {
        // No endpoint, no credentials: only the flags can be what is wrong.
        let out = crate::support::wspath(args, t).unwrap_or_else(|e| panic!("wspath: {e}"));
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.describe());
        assert!(out.stderr.contains(flag), "{args:?}: {}", out.describe());
        assert_eq!(
            out.stderr.trim_end().lines().count(),
            1,
            "{}",
            out.describe()
        );
    }
}
