//! The facts an ALB read produces, in wspath's own types: enums instead of the SDK's strings so
//! the rules in wspath match on meaning, and nothing that ties callers to the SDK's builders.

use std::fmt;
use std::net::IpAddr;

/// Everything read about one load balancer: enough to route a request and judge the result.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbFacts {
    pub load_balancer: LoadBalancer,
    pub attributes: LbAttributes,
    pub listeners: Vec<Listener>,
    /// Every target group a listener rule forwards to, with its health and attributes.
    pub target_groups: Vec<TargetGroup>,
}

impl AlbFacts {
    pub fn target_group(&self, arn: &str) -> Option<&TargetGroup> {
        self.target_groups.iter().find(|tg| tg.arn == arn)
    }

    /// The listener on this protocol and port, if there is one.
    pub fn listener(&self, protocol: &Protocol, port: u16) -> Option<&Listener> {
        self.listeners
            .iter()
            .find(|l| &l.protocol == protocol && l.port == port)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub dns_name: String,
    pub kind: LbKind,
    /// `internet-facing` or `internal`.
    pub scheme: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbKind {
    Application,
    Network,
    Gateway,
    Other(String),
}

impl fmt::Display for LbKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LbKind::Application => "application",
            LbKind::Network => "network",
            LbKind::Gateway => "gateway",
            LbKind::Other(s) => s,
        })
    }
}

/// The load balancer attributes that matter for WebSockets, as read (`None` = not returned).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LbAttributes {
    pub idle_timeout_seconds: Option<u32>,
    pub http2_enabled: Option<bool>,
}

impl LbAttributes {
    /// AWS documents 60 s as the default when the attribute was never set.
    pub const DEFAULT_IDLE_TIMEOUT: u32 = 60;

    pub fn idle_timeout(&self) -> u32 {
        self.idle_timeout_seconds
            .unwrap_or(Self::DEFAULT_IDLE_TIMEOUT)
    }

    /// HTTP/2 towards clients is on unless switched off.
    pub fn http2(&self) -> bool {
        self.http2_enabled.unwrap_or(true)
    }
}

/// Listener and target-group protocols.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Protocol {
    Http,
    Https,
    Tcp,
    Tls,
    Udp,
    TcpUdp,
    Other(String),
}

impl Protocol {
    pub fn parse(s: &str) -> Protocol {
        match s.to_ascii_uppercase().as_str() {
            "HTTP" => Protocol::Http,
            "HTTPS" => Protocol::Https,
            "TCP" => Protocol::Tcp,
            "TLS" => Protocol::Tls,
            "UDP" => Protocol::Udp,
            "TCP_UDP" => Protocol::TcpUdp,
            _ => Protocol::Other(s.to_string()),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Http => "HTTP",
            Protocol::Https => "HTTPS",
            Protocol::Tcp => "TCP",
            Protocol::Tls => "TLS",
            Protocol::Udp => "UDP",
            Protocol::TcpUdp => "TCP_UDP",
            Protocol::Other(s) => s,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub arn: String,
    pub protocol: Protocol,
    pub port: u16,
    /// In evaluation order: numbered priorities ascending, the default rule last.
    pub rules: Vec<Rule>,
}

impl Listener {
    pub fn default_rule(&self) -> Option<&Rule> {
        self.rules.iter().find(|r| r.priority == Priority::Default)
    }

    /// Every host named in a host-header condition of this listener, lower-cased, deduplicated.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for rule in &self.rules {
            for cond in &rule.conditions {
                if let Condition::HostHeader(values) = cond {
                    for v in values {
                        let v = v.to_ascii_lowercase();
                        if !hosts.contains(&v) {
                            hosts.push(v);
                        }
                    }
                }
            }
        }
        hosts
    }

    /// The numbered priorities in use.
    pub fn priorities(&self) -> Vec<u32> {
        numbered_priorities(&self.rules)
    }
}

/// The numbered priorities of `rules` (the default rule has none).
pub fn numbered_priorities(rules: &[Rule]) -> Vec<u32> {
    rules
        .iter()
        .filter_map(|r| match r.priority {
            Priority::Number(n) => Some(n),
            Priority::Default => None,
        })
        .collect()
}

/// Rule order: lower numbers first, the default rule after every numbered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Number(u32),
    Default,
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Priority::Number(n) => write!(f, "{n}"),
            Priority::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub arn: String,
    pub priority: Priority,
    /// All must match (AND); the values inside one condition are alternatives (OR).
    pub conditions: Vec<Condition>,
    pub action: RuleAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    PathPattern(Vec<String>),
    HostHeader(Vec<String>),
    HttpRequestMethod(Vec<String>),
    /// A condition on something a WebSocket handshake's host and path do not decide
    /// (http-header, query-string, source-ip): wspath cannot evaluate it.
    Other {
        field: String,
    },
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::PathPattern(v) => write!(f, "path-pattern {}", v.join(" | ")),
            Condition::HostHeader(v) => write!(f, "host-header {}", v.join(" | ")),
            Condition::HttpRequestMethod(v) => write!(f, "http-request-method {}", v.join(" | ")),
            Condition::Other { field } => write!(f, "{field} (not evaluated)"),
        }
    }
}

/// What a rule does with a request it matches (its final action; authenticate steps skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleAction {
    Forward(Vec<WeightedTargetGroup>),
    Redirect { to: String },
    FixedResponse { status: String },
    Other(String),
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleAction::Forward(tgs) => {
                let names: Vec<String> = tgs
                    .iter()
                    .map(|t| match t.weight {
                        Some(w) => format!("{} (weight {w})", target_group_label(&t.arn)),
                        None => target_group_label(&t.arn).to_string(),
                    })
                    .collect();
                write!(f, "forward to {}", names.join(", "))
            }
            RuleAction::Redirect { to } => write!(f, "redirect to {to}"),
            RuleAction::FixedResponse { status } => write!(f, "fixed-response {status}"),
            RuleAction::Other(kind) => f.write_str(kind),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedTargetGroup {
    pub arn: String,
    pub weight: Option<i32>,
}

/// `NAME` from `arn:…:targetgroup/NAME/ID`: what people call the group (the ARN otherwise).
pub fn target_group_label(arn: &str) -> &str {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    match resource.split('/').collect::<Vec<_>>().as_slice() {
        ["targetgroup", name, _id] => name,
        _ => arn,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<Protocol>,
    pub protocol_version: Option<ProtocolVersion>,
    pub target_type: TargetType,
    pub port: Option<u16>,
    pub stickiness: Stickiness,
    pub targets: Vec<TargetHealth>,
}

impl TargetGroup {
    pub fn healthy_targets(&self) -> impl Iterator<Item = &TargetHealth> {
        self.targets
            .iter()
            .filter(|t| t.state == HealthState::Healthy)
    }
}

/// How the ALB speaks to its targets. WebSocket needs HTTP/1.1 (the Upgrade mechanism).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolVersion {
    Http1,
    Http2,
    Grpc,
    Other(String),
}

impl ProtocolVersion {
    pub fn parse(s: &str) -> ProtocolVersion {
        match s.to_ascii_uppercase().as_str() {
            "HTTP1" => ProtocolVersion::Http1,
            "HTTP2" => ProtocolVersion::Http2,
            "GRPC" => ProtocolVersion::Grpc,
            _ => ProtocolVersion::Other(s.to_string()),
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolVersion::Http1 => "HTTP1",
            ProtocolVersion::Http2 => "HTTP2",
            ProtocolVersion::Grpc => "GRPC",
            ProtocolVersion::Other(s) => s,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetType {
    Instance,
    Ip,
    Lambda,
    Alb,
    Other(String),
}

impl fmt::Display for TargetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetType::Instance => "instance",
            TargetType::Ip => "ip",
            TargetType::Lambda => "lambda",
            TargetType::Alb => "alb",
            TargetType::Other(s) => s,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stickiness {
    /// `stickiness.enabled`; absent means off.
    pub enabled: bool,
    /// `stickiness.type`: `lb_cookie`, `app_cookie`, …
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    pub address: TargetAddress,
    pub port: Option<u16>,
    pub availability_zone: Option<String>,
    pub state: HealthState,
    /// `Target.FailedHealthChecks`, `Elb.RegistrationInProgress`, …
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// Where a target can be reached from, as far as ELBv2 alone can say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetAddress {
    Ip(IpAddr),
    /// An EC2 instance id: its private IP needs EC2 DescribeInstances, which wspath does not call.
    Instance(String),
    Lambda(String),
    /// Another load balancer (target type `alb`).
    LoadBalancer(String),
    Other(String),
}

impl fmt::Display for TargetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetAddress::Ip(ip) => write!(f, "{ip}"),
            TargetAddress::Instance(id)
            | TargetAddress::Lambda(id)
            | TargetAddress::LoadBalancer(id)
            | TargetAddress::Other(id) => f.write_str(id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthState {
    Initial,
    Healthy,
    Unhealthy,
    UnhealthyDraining,
    Unused,
    Draining,
    Unavailable,
    Other(String),
}

impl HealthState {
    pub fn parse(s: &str) -> HealthState {
        match s {
            "initial" => HealthState::Initial,
            "healthy" => HealthState::Healthy,
            "unhealthy" => HealthState::Unhealthy,
            "unhealthy.draining" => HealthState::UnhealthyDraining,
            "unused" => HealthState::Unused,
            "draining" => HealthState::Draining,
            "unavailable" => HealthState::Unavailable,
            other => HealthState::Other(other.to_string()),
        }
    }
}

impl fmt::Display for HealthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthState::Initial => "initial",
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::UnhealthyDraining => "unhealthy.draining",
            HealthState::Unused => "unused",
            HealthState::Draining => "draining",
            HealthState::Unavailable => "unavailable",
            HealthState::Other(s) => s,
        })
    }
}
