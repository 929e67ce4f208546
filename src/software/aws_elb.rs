//! AWS Application/Classic Load Balancer. Sources: docs.aws.amazon.com/elasticloadbalancing/
//! latest/application/ (load-balancer-target-groups, application-load-balancers#connection-idle-timeout).
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::AwsElb,
    name: "awselb",
    display: "AWS ALB",
    kind: HopKind::Lb,
    aliases: &["alb", "elb"],
    http2: None,
    changes: &[],
    #[rustfmt::skip]
    recognise: &[
    (Server("awselb"), A::Awselb),
    (Header("set-cookie", "awsalb"), A::Awselb),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::AwsElb,
        seconds: Some(60),
        setting: "AWS ALB idle timeout `idle_timeout.timeout_seconds` (default 60 s)",
        fix: "raise the load balancer attribute `idle_timeout.timeout_seconds` (up to 4000) or have the application ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    row(V::UpgradeStripped, Sw(S::AwsElb), "forward the WebSocket path to a target group with protocol HTTP/HTTPS and protocol version HTTP1 (HTTP2 and gRPC target groups, and Classic ELB HTTP listeners, do not pass the upgrade)"),
    status(V::Rejected, Sw(S::AwsElb), 404, "no listener rule matches this host and path: add a rule whose path-pattern covers it and forwards to the WebSocket target group"),
    inner_ok(V::ServiceUnavailable, Sw(S::AwsElb), "{inner} ({inner_address}) upgrades when probed directly, yet the target group has no healthy target: a WebSocket-only target answers the health-check GET with 426 or 400; point the health check at an HTTP path or widen its success codes (matcher)"),
    inner_slow(V::GatewayTimeout, Sw(S::AwsElb), "{inner} ({inner_address}) answers the handshake, but only after {inner_ms}, and the ALB gave up after {hop_ms}: make the target answer the handshake sooner, or raise the load balancer's `idle_timeout.timeout_seconds`"),
    row(V::BadGateway, Sw(S::AwsElb), "the ALB got no valid answer from the target: check the target group's port and protocol and that the targets are listening"),
    row(V::ServiceUnavailable, Sw(S::AwsElb), "the target group has no healthy target: check target health and the health-check path"),
    row(V::GatewayTimeout, Sw(S::AwsElb), "the target did not answer in time: check that the targets answer the upgrade and that their security group admits the ALB"),

    ],
};
