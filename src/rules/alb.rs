//! ALB facts → findings for the lb hop: which rule the WebSocket path hits, whether its target
//! group can carry an HTTP/1.1 Upgrade, whether anything healthy is behind it, whether the idle
//! timeout outlives a quiet socket, and whether the listener the traffic arrives on exists.
//! Also the facts shown beside the hop and the next hops (healthy targets) for `check`.

pub mod check;
pub mod fix;

use crate::finding::{Fact, Finding, Severity};
use crate::hop::{Hop, HopKind};
use crate::target::{Scheme, Target};
use std::net::SocketAddr;
use std::time::Duration;
use wspath_providers::aws_alb::{
    self, AlbFacts, Condition, HealthState, LbKind, Listener, Protocol, ProtocolVersion, Rule,
    RuleAction, TargetAddress, TargetGroup, TargetType,
};

/// Without `--idle`, wspath assumes a client may stay quiet for a minute: many WebSocket
/// libraries ping every 60 s or not at all, which is exactly where ALB's default cuts.
pub const DEFAULT_EXPECTED_IDLE: Duration = Duration::from_secs(60);

/// What the user expects of the load balancer, derived from the target (and the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Host the request carries (port ignored by ALB's host matching).
    pub host: String,
    /// Path without the query string.
    pub path: String,
    /// The listener the traffic arrives on.
    pub listener_protocol: Protocol,
    pub listener_port: u16,
    /// Why that listener (shown when it is missing).
    pub listener_reason: String,
    /// How long a socket may stay quiet.
    pub idle: Option<Duration>,
    /// The target group the user expects the path to reach (name or ARN), if known.
    pub target_group: Option<String>,
}

impl Expectation {
    /// Clients connect to the ALB themselves: wss → HTTPS, ws → HTTP, on the target's port.
    pub fn for_target(target: &Target) -> Expectation {
        let protocol = match target.scheme {
            Scheme::Wss => Protocol::Https,
            Scheme::Ws => Protocol::Http,
        };
        Expectation {
            host: target.host.clone(),
            path: strip_query(&target.path).to_string(),
            listener_reason: format!("clients open {}:// on port {}", target.scheme, target.port),
            listener_protocol: protocol,
            listener_port: target.port,
            idle: None,
            target_group: None,
        }
    }

    /// A hop that connects to the ALB by its DNS name (typed, or Cloudflare's `origin`): the
    /// listener is the hop's scheme and port. `None` for a hop at another address (a stand-in
    /// or a private IP), whose port says nothing about the ALB's listeners.
    pub fn for_hop(hop: &Hop, target: &Target) -> Option<Expectation> {
        let (host, port) = hop.connect.as_ref()?;
        if !aws_alb::is_elb_dns_name(host) {
            return None;
        }
        let mut e = Expectation::for_target(target);
        e.listener_protocol = match hop.scheme {
            Scheme::Wss => Protocol::Https,
            Scheme::Ws => Protocol::Http,
        };
        e.listener_port = *port;
        e.path = strip_query(&hop.path).to_string();
        e.listener_reason = format!(
            "hop {} connects to it with {}:// on port {port}",
            hop.name, hop.scheme
        );
        Some(e)
    }

    /// Cloudflare reaches the origin: SSL mode `flexible` connects with HTTP on port 80,
    /// `full`/`strict` with HTTPS on 443 (`mode` is the API's `ssl` setting value).
    pub fn behind_cloudflare(target: &Target, mode: &str) -> Expectation {
        let mut e = Expectation::for_target(target);
        let (protocol, port) = if mode.eq_ignore_ascii_case("flexible") {
            (Protocol::Http, 80)
        } else {
            (Protocol::Https, 443)
        };
        e.listener_protocol = protocol;
        e.listener_port = port;
        e.listener_reason = format!(
            "Cloudflare (SSL mode {mode}) connects to the origin with {} on port {port}",
            e.listener_protocol
        );
        e
    }
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

fn is_socket_io(path: &str) -> bool {
    path.contains("/socket.io")
}

/// Where the expected request goes on this load balancer.
#[derive(Debug, Clone)]
pub struct Routing<'a> {
    pub listener: Option<&'a Listener>,
    pub rule: Option<&'a Rule>,
    /// Rules passed over because a condition wspath cannot evaluate might have matched.
    pub uncertain: Vec<&'a Rule>,
    /// Target groups the rule forwards to (weight > 0), as read.
    pub target_groups: Vec<&'a TargetGroup>,
}

pub fn routing<'a>(facts: &'a AlbFacts, exp: &Expectation) -> Routing<'a> {
    let listener = facts.listener(&exp.listener_protocol, exp.listener_port);
    let route = listener.map(|l| aws_alb::route(l, &exp.host, &exp.path));
    let rule = route.as_ref().and_then(|r| r.rule);
    let target_groups = match rule.map(|r| &r.action) {
        Some(RuleAction::Forward(tgs)) => tgs
            .iter()
            .filter(|t| t.weight != Some(0))
            .filter_map(|t| facts.target_group(&t.arn))
            .collect(),
        _ => Vec::new(),
    };
    Routing {
        listener,
        rule,
        uncertain: route.map(|r| r.uncertain).unwrap_or_default(),
        target_groups,
    }
}

fn fact(name: &str, value: String) -> Fact {
    Fact {
        source: "aws_alb".into(),
        name: name.into(),
        value,
    }
}

pub fn describe_rule(rule: &Rule) -> String {
    let conds = if rule.conditions.is_empty() {
        "any request".to_string()
    } else {
        rule.conditions
            .iter()
            .map(Condition::to_string)
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    format!("priority {} ({conds}): {}", rule.priority, rule.action)
}

pub fn describe_target_group(tg: &TargetGroup) -> String {
    let protocol = match (&tg.protocol, tg.port) {
        (Some(p), Some(port)) => format!("{p}:{port}"),
        (Some(p), None) => p.to_string(),
        _ => "no protocol".into(),
    };
    let version = tg
        .protocol_version
        .as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "none".into());
    let sticky = if tg.stickiness.enabled {
        format!(
            "stickiness {}",
            tg.stickiness.kind.as_deref().unwrap_or("on")
        )
    } else {
        "stickiness off".into()
    };
    format!(
        "{}: {protocol}, protocol version {version}, target type {}, {sticky}",
        tg.name, tg.target_type
    )
}

fn describe_target(t: &aws_alb::TargetHealth) -> String {
    let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
    let mut s = format!("{}{port} {}", t.address, t.state);
    if let Some(reason) = &t.reason {
        s.push_str(&format!(" ({reason}"));
        if let Some(d) = &t.description {
            s.push_str(&format!(": {d}"));
        }
        s.push(')');
    }
    if let TargetAddress::Instance(_) = t.address {
        s.push_str(
            "; instance: private IP not resolved (wspath does not call EC2 DescribeInstances; \
             name the backend with --hop NAME=IP:PORT)",
        );
    }
    s
}

/// What was read, in the order a person checks it.
pub fn facts(facts: &AlbFacts, exp: &Expectation) -> Vec<Fact> {
    let lb = &facts.load_balancer;
    let mut out = vec![fact(
        "load_balancer",
        format!("{} ({}, {}) {}", lb.name, lb.kind, lb.scheme, lb.dns_name),
    )];
    let a = &facts.attributes;
    out.push(fact(
        "idle_timeout.timeout_seconds",
        match a.idle_timeout_seconds {
            Some(s) => format!("{s}"),
            None => format!("{} (not set; AWS default)", a.idle_timeout()),
        },
    ));
    out.push(fact(
        "routing.http2.enabled",
        match a.http2_enabled {
            Some(v) => v.to_string(),
            None => format!("{} (not set; AWS default)", a.http2()),
        },
    ));
    for l in &facts.listeners {
        out.push(fact(
            "listener",
            format!("{}:{} ({} rules)", l.protocol, l.port, l.rules.len()),
        ));
    }
    let r = routing(facts, exp);
    if let Some(l) = r.listener {
        for rule in &l.rules {
            out.push(fact(
                "rule",
                format!("{}:{} {}", l.protocol, l.port, describe_rule(rule)),
            ));
        }
        for u in &r.uncertain {
            out.push(fact(
                "rule_not_evaluated",
                format!(
                    "priority {} has a condition wspath cannot evaluate; assumed not to match",
                    u.priority
                ),
            ));
        }
        out.push(fact(
            "route",
            match r.rule {
                Some(rule) => format!(
                    "{}{} on {}:{} matches rule priority {}: {}",
                    exp.host, exp.path, l.protocol, l.port, rule.priority, rule.action
                ),
                None => format!(
                    "{}{} on {}:{} matches no rule",
                    exp.host, exp.path, l.protocol, l.port
                ),
            },
        ));
    }
    for tg in &r.target_groups {
        out.push(fact("target_group", describe_target_group(tg)));
        if tg.targets.is_empty() {
            out.push(fact(
                "target",
                format!("{}: no registered targets", tg.name),
            ));
        }
        for t in &tg.targets {
            out.push(fact(
                "target",
                format!("{}: {}", tg.name, describe_target(t)),
            ));
        }
    }
    out
}

/// What each `aws_alb/…` rule means, the same for every finding of it (SARIF's rule
/// description); the ID is the part after `aws_alb/`.
pub fn rule_title(id: &str) -> Option<&'static str> {
    Some(match id.strip_prefix("aws_alb/")? {
        "not-application" => "The load balancer is not an Application Load Balancer",
        "no-listener" => "The load balancer has no listener for the clients' scheme and port",
        "no-rule-for-path" => {
            "No listener rule forwards the WebSocket host and path to the expected target group"
        }
        "idle-timeout" => {
            "The load balancer's idle timeout closes WebSockets that stay quiet as long as expected"
        }
        "target-group-lambda" => {
            "The WebSocket path goes to a Lambda target group, which cannot hold a WebSocket"
        }
        "target-group-http2" => {
            "The target group speaks HTTP/2 to its targets; WebSockets need HTTP1"
        }
        "target-group-grpc" => "The target group speaks gRPC to its targets; WebSockets need HTTP1",
        "no-healthy-target" => "The target group has no healthy target",
        "socketio-no-stickiness" => "A Socket.IO path goes to a target group without stickiness",
        _ => return None,
    })
}

fn finding(id: &str, severity: Severity, message: String, evidence: String) -> Finding {
    Finding {
        id: format!("aws_alb/{id}"),
        severity,
        message,
        evidence,
        why: None,
        fix: None,
        location: None,
    }
}

/// The rules. Each finding names the setting it read and what to change.
pub fn findings(facts: &AlbFacts, exp: &Expectation) -> Vec<Finding> {
    let lb = &facts.load_balancer;
    let mut out = Vec::new();
    if lb.kind != LbKind::Application {
        let mut f = finding(
            "not-application",
            Severity::Info,
            format!(
                "{} is a {} load balancer: it has no HTTP rules; wspath checks only ALBs here",
                lb.name, lb.kind
            ),
            format!("Type: {}", lb.kind),
        );
        f.why = Some("Listener rules, target-group protocol versions and the idle timeout attribute read here are ALB features.".into());
        out.push(f);
        return out;
    }

    out.extend(idle_timeout(facts, exp));

    let r = routing(facts, exp);
    let Some(listener) = r.listener else {
        let mut f = finding(
            "no-listener",
            Severity::Error,
            format!(
                "{} has no {}:{} listener, and {}",
                lb.name, exp.listener_protocol, exp.listener_port, exp.listener_reason
            ),
            format!(
                "listeners: {}",
                if facts.listeners.is_empty() {
                    "none".to_string()
                } else {
                    facts
                        .listeners
                        .iter()
                        .map(|l| format!("{}:{}", l.protocol, l.port))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        );
        f.why = Some(
            "Connections to a port without a listener are refused before any rule runs.".into(),
        );
        f.fix = Some(format!(
            "Add a {}:{} listener forwarding to the WebSocket target group (or change how traffic reaches the ALB, e.g. Cloudflare SSL mode Full (strict) for HTTPS:443).",
            exp.listener_protocol, exp.listener_port
        ));
        out.push(f);
        return out;
    };

    if let Some(f) = route_finding(facts, exp, listener, &r) {
        out.push(f);
        return out;
    }
    for tg in &r.target_groups {
        out.extend(target_group_findings(facts, exp, tg));
    }
    out
}

/// `aws_alb/no-rule-for-path` when the request is not forwarded to a target group, or not to
/// the one the user expects.
fn route_finding(
    facts: &AlbFacts,
    exp: &Expectation,
    listener: &Listener,
    r: &Routing<'_>,
) -> Option<Finding> {
    let request = format!("{}{}", exp.host, exp.path);
    let on = format!("{}:{}", listener.protocol, listener.port);
    let uncertain = if r.uncertain.is_empty() {
        String::new()
    } else {
        let priorities: Vec<String> = r.uncertain.iter().map(|u| u.priority.to_string()).collect();
        format!(
            "; rules not evaluated (conditions on headers, query or source IP): {}",
            priorities.join(", ")
        )
    };
    let fix = |tg: &str| {
        format!(
            "wspath fix --alb {} --path '{}' --target-group {tg}",
            facts.load_balancer.name,
            suggested_pattern(&exp.path)
        )
    };
    let forwarded = matches!(
        r.rule.map(|rule| &rule.action),
        Some(RuleAction::Forward(_))
    ) && !r.target_groups.is_empty();
    let f = if !forwarded {
        let mut f = finding(
            "no-rule-for-path",
            Severity::Error,
            format!("no rule on {on} forwards {request} to a target group"),
            match r.rule {
                Some(rule) => format!("it matches {}{uncertain}", describe_rule(rule)),
                None => format!("no rule matches{uncertain}"),
            },
        );
        f.why = Some("The WebSocket handshake never reaches a backend: the ALB answers it itself (redirect or fixed response) or drops it.".into());
        f.fix = Some(fix(exp.target_group.as_deref().unwrap_or("TARGET_GROUP")));
        f
    } else {
        let want = exp.target_group.as_deref()?;
        if r.target_groups
            .iter()
            .any(|tg| tg.name == want || tg.arn == want)
        {
            return None;
        }
        let names: Vec<&str> = r.target_groups.iter().map(|t| t.name.as_str()).collect();
        let mut f = finding(
            "no-rule-for-path",
            Severity::Error,
            format!(
                "{request} on {on} goes to {}, not to {want}",
                names.join(", ")
            ),
            format!(
                "{}{uncertain}",
                r.rule.map(describe_rule).unwrap_or_default()
            ),
        );
        f.fix = Some(fix(want));
        f
    };
    Some(f)
}

/// `/ws/chat` → `/ws/*`: the prefix a rule for this socket would name.
pub fn suggested_pattern(path: &str) -> String {
    let path = strip_query(path);
    match path.rfind('/') {
        Some(0) | None => format!("{}*", path),
        Some(i) => format!("{}*", &path[..=i]),
    }
}

fn idle_timeout(facts: &AlbFacts, exp: &Expectation) -> Option<Finding> {
    let a = &facts.attributes;
    let timeout = a.idle_timeout();
    let expected = exp.idle.unwrap_or(DEFAULT_EXPECTED_IDLE);
    if u64::from(timeout) > expected.as_secs() {
        return None;
    }
    let set = match a.idle_timeout_seconds {
        Some(_) => "set",
        None => "not set, AWS default",
    };
    let expected_text = match exp.idle {
        Some(_) => format!("the expected idle time of {} s", expected.as_secs()),
        None => format!(
            "{} s, the idle time wspath assumes without --idle",
            expected.as_secs()
        ),
    };
    let mut f = finding(
        "idle-timeout",
        Severity::Warning,
        format!(
            "idle timeout {timeout} s on {} closes WebSockets quiet for {timeout} s (at or below {expected_text})",
            facts.load_balancer.name
        ),
        format!("idle_timeout.timeout_seconds = {timeout} ({set})"),
    );
    f.why = Some("The ALB closes a connection on which no data was sent in either direction for the idle timeout; a WebSocket with no traffic and no pings is such a connection.".into());
    f.fix = Some(format!(
        "wspath fix --alb {} --idle-timeout {} (or have clients ping more often than every {timeout} s)",
        facts.load_balancer.name,
        (expected.as_secs() * 2).clamp(120, 4000)
    ));
    Some(f)
}

fn target_group_findings(facts: &AlbFacts, exp: &Expectation, tg: &TargetGroup) -> Vec<Finding> {
    let mut out = Vec::new();
    let lb = &facts.load_balancer.name;
    if let Some(v @ (ProtocolVersion::Http2 | ProtocolVersion::Grpc)) = &tg.protocol_version {
        let id = if *v == ProtocolVersion::Http2 {
            "target-group-http2"
        } else {
            "target-group-grpc"
        };
        let mut f = finding(
            id,
            Severity::Error,
            format!(
                "target group {} speaks {v} to its targets; the WebSocket path {} needs HTTP1",
                tg.name, exp.path
            ),
            describe_target_group(tg),
        );
        f.why = Some("WebSocket is an HTTP/1.1 Upgrade; over an HTTP/2 or gRPC target group the ALB never passes the Upgrade to the backend, so the handshake fails.".into());
        f.fix = Some(format!(
            "ProtocolVersion cannot be changed: create an HTTP1 target group with the same targets, then wspath fix --alb {lb} --path '{}' --target-group NEW_GROUP",
            suggested_pattern(&exp.path)
        ));
        out.push(f);
    }
    if tg.target_type == TargetType::Lambda {
        let mut f = finding(
            "target-group-lambda",
            Severity::Error,
            format!(
                "target group {} sends the WebSocket path to Lambda, which cannot hold a WebSocket",
                tg.name
            ),
            describe_target_group(tg),
        );
        f.fix = Some("Route the WebSocket path to an instance or ip target group (or use API Gateway WebSocket APIs).".into());
        out.push(f);
    }
    if tg.healthy_targets().next().is_none() {
        let states: Vec<String> = tg.targets.iter().map(describe_target).collect();
        let mut f = finding(
            "no-healthy-target",
            Severity::Error,
            format!("target group {} has no healthy target", tg.name),
            if states.is_empty() {
                "no registered targets".into()
            } else {
                states.join("; ")
            },
        );
        f.why = Some("With no healthy target the ALB answers 503 (or fails open to all targets if every one is unhealthy, which still fails when they are down).".into());
        f.fix = Some(
            "Register targets or fix the health check (path, port, matcher) so at least one is healthy.".into(),
        );
        out.push(f);
    }
    if is_socket_io(&exp.path) && !tg.stickiness.enabled {
        let mut f = finding(
            "socketio-no-stickiness",
            Severity::Warning,
            format!(
                "Socket.IO path {} goes to target group {} without stickiness",
                exp.path, tg.name
            ),
            "stickiness.enabled = false".into(),
        );
        f.why = Some("Socket.IO starts with HTTP long-polling; its requests must reach the same target, or the session is unknown and the upgrade fails (400 Session ID unknown).".into());
        f.fix = Some(format!(
            "wspath fix --alb {lb} --target-group {} --stickiness",
            tg.name
        ));
        out.push(f);
    }
    out
}

/// A place the ALB sends the WebSocket to: a healthy target by IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub target_group: String,
    pub address: SocketAddr,
    /// The target group speaks HTTPS to its targets.
    pub tls: bool,
}

/// Healthy targets of the routed target groups that have an address wspath can connect to.
pub fn next_hops(facts: &AlbFacts, exp: &Expectation) -> Vec<NextHop> {
    let r = routing(facts, exp);
    let mut out = Vec::new();
    for tg in r.target_groups {
        for t in tg
            .targets
            .iter()
            .filter(|t| t.state == HealthState::Healthy)
        {
            if let (TargetAddress::Ip(ip), Some(port)) = (&t.address, t.port.or(tg.port)) {
                out.push(NextHop {
                    target_group: tg.name.clone(),
                    address: SocketAddr::new(*ip, port),
                    tls: tg.protocol == Some(Protocol::Https),
                });
            }
        }
    }
    out
}

impl NextHop {
    /// The hop `check` probes for this target: its address, the target's Host and path, `wss`
    /// when the target group speaks HTTPS. Named `TARGETGROUP-N` (1-based).
    pub fn to_hop(&self, n: usize, target: &Target) -> Hop {
        Hop {
            name: format!("{}-{n}", self.target_group),
            kind: HopKind::Backend,
            connect: Some((self.address.ip().to_string(), self.address.port())),
            scheme: if self.tls { Scheme::Wss } else { Scheme::Ws },
            path: target.path.clone(),
            scheme_inherited: false,
        }
    }
}

/// The first address on the path that is an ELB DNS name: `check` reads AWS by default then.
pub fn elb_address<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    addresses.into_iter().find(|a| aws_alb::is_elb_dns_name(a))
}

/// What `check` attaches to the lb hop, and the hops behind it.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub load_balancer: String,
    pub dns_name: String,
    pub facts: Vec<Fact>,
    pub findings: Vec<Finding>,
    pub next_hops: Vec<NextHop>,
}

/// Reads the ALB and applies the rules: the one call `check` makes for `--aws`.
pub async fn discover(
    client: &aws_alb::Client,
    lb: &aws_alb::LbRef,
    exp: &Expectation,
) -> Result<Discovery, crate::Error> {
    let read = aws_alb::read(client, lb).await?;
    let mut facts = facts(&read, exp);
    let next_hops = next_hops(&read, exp);
    let unresolved = routing(&read, exp)
        .target_groups
        .iter()
        .flat_map(|tg| tg.healthy_targets())
        .filter(|t| !matches!(t.address, TargetAddress::Ip(_)))
        .count();
    if unresolved > 0 {
        facts.push(fact(
            "next_hops",
            format!(
                "{} healthy target(s) by IP probed next; {unresolved} not probed (no IP address from ELBv2)",
                next_hops.len()
            ),
        ));
    }
    Ok(Discovery {
        load_balancer: read.load_balancer.name.clone(),
        dns_name: read.load_balancer.dns_name.clone(),
        findings: findings(&read, exp),
        facts,
        next_hops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(suggested_pattern("/ws/chat?x=1"), "/ws/*");
        assert_eq!(suggested_pattern("/ws"), "/ws*");
        assert_eq!(suggested_pattern("/socket.io/"), "/socket.io/*");
    }

    use wspath_providers::aws_alb::{
        LbAttributes, LoadBalancer, Priority, Stickiness, TargetHealth, WeightedTargetGroup,
    };

    fn tg(name: &str, target_type: TargetType, healthy: bool) -> TargetGroup {
        TargetGroup {
            arn: format!("arn:aws:elasticloadbalancing:r:1:targetgroup/{name}/1"),
            name: name.into(),
            protocol: Some(Protocol::Http),
            protocol_version: Some(ProtocolVersion::Http1),
            target_type,
            port: Some(8080),
            stickiness: Stickiness::default(),
            targets: vec![TargetHealth {
                address: TargetAddress::Instance("i-0abc".into()),
                port: Some(8080),
                availability_zone: None,
                state: if healthy {
                    HealthState::Healthy
                } else {
                    HealthState::Unhealthy
                },
                reason: (!healthy).then(|| "Target.FailedHealthChecks".into()),
                description: None,
            }],
        }
    }

    fn alb(rules: Vec<Rule>, tgs: Vec<TargetGroup>) -> AlbFacts {
        AlbFacts {
            load_balancer: LoadBalancer {
                arn: "arn:lb".into(),
                name: "lb".into(),
                dns_name: "lb-1.r.elb.amazonaws.com".into(),
                kind: LbKind::Application,
                scheme: "internet-facing".into(),
            },
            attributes: LbAttributes {
                idle_timeout_seconds: Some(3600),
                http2_enabled: None,
            },
            listeners: vec![Listener {
                arn: "arn:listener".into(),
                protocol: Protocol::Http,
                port: 80,
                rules,
            }],
            target_groups: tgs,
        }
    }

    fn forward(
        priority: Priority,
        conditions: Vec<Condition>,
        tgs: &[(&TargetGroup, i32)],
    ) -> Rule {
        Rule {
            arn: format!("rule-{priority}"),
            priority,
            conditions,
            action: RuleAction::Forward(
                tgs.iter()
                    .map(|(t, w)| WeightedTargetGroup {
                        arn: t.arn.clone(),
                        weight: Some(*w),
                    })
                    .collect(),
            ),
        }
    }

    fn exp(url: &str) -> Expectation {
        Expectation::for_target(&Target::parse(url).expect("target"))
    }

    #[test]
    fn weight_zero_groups_and_unevaluated_rules_are_left_out() {
        let live = tg("live", TargetType::Instance, true);
        let drained = tg("drained", TargetType::Instance, false);
        let header = Rule {
            arn: "hdr".into(),
            priority: Priority::Number(1),
            conditions: vec![Condition::Other {
                field: "http-header".into(),
            }],
            action: RuleAction::FixedResponse {
                status: "403".into(),
            },
        };
        let facts = alb(
            vec![
                header,
                forward(Priority::Default, vec![], &[(&live, 1), (&drained, 0)]),
            ],
            vec![live.clone(), drained],
        );
        let e = exp("ws://a.test/ws");
        assert!(
            findings(&facts, &e).is_empty(),
            "{:?}",
            findings(&facts, &e)
        );
        let r = routing(&facts, &e);
        assert_eq!(r.uncertain.len(), 1);
        assert_eq!(r.target_groups, vec![&live]);
        // Instance targets are shown, said to be unresolved, and never become next hops.
        let shown = super::facts(&facts, &e);
        assert!(shown
            .iter()
            .any(|f| f.value.contains("i-0abc:8080 healthy") && f.value.contains("not resolved")));
        assert!(next_hops(&facts, &e).is_empty());
    }

    #[test]
    fn lambda_unhealthy_and_network_load_balancers() {
        let lambda = tg("fn", TargetType::Lambda, false);
        let mut facts = alb(
            vec![forward(Priority::Default, vec![], &[(&lambda, 1)])],
            vec![lambda],
        );
        let e = exp("ws://a.test/ws");
        let ids: Vec<String> = findings(&facts, &e).into_iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            ["aws_alb/target-group-lambda", "aws_alb/no-healthy-target"]
        );
        facts.load_balancer.kind = LbKind::Network;
        let ids: Vec<String> = findings(&facts, &e).into_iter().map(|f| f.id).collect();
        assert_eq!(ids, ["aws_alb/not-application"]);
    }

    #[test]
    fn the_hop_to_the_elb_name_says_which_listener() {
        let target = Target::parse("wss://app.example.com/ws/chat?t=1").expect("target");
        let origin = Hop {
            name: "origin".into(),
            kind: HopKind::Unknown,
            connect: Some(("my-alb-1.eu-west-1.elb.amazonaws.com".into(), 80)),
            scheme: Scheme::Ws,
            path: target.path.clone(),
            scheme_inherited: false,
        };
        let e = Expectation::for_hop(&origin, &target).expect("an ELB hop");
        assert_eq!(
            (e.listener_protocol.clone(), e.listener_port),
            (Protocol::Http, 80)
        );
        assert_eq!(
            (e.host.as_str(), e.path.as_str()),
            ("app.example.com", "/ws/chat")
        );
        let stand_in = Hop {
            connect: Some(("127.0.0.1".into(), 8080)),
            ..origin
        };
        assert_eq!(Expectation::for_hop(&stand_in, &target), None);
    }

    #[test]
    fn elb_addresses() {
        assert_eq!(
            elb_address(["example.com", "dualstack.a-1.eu-west-1.elb.amazonaws.com"]),
            Some("dualstack.a-1.eu-west-1.elb.amazonaws.com")
        );
        assert_eq!(elb_address(["example.com"]), None);
    }
}
