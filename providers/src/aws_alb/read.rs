//! Read one load balancer through ELBv2 into [`AlbFacts`]: find it (name, ARN or DNS name),
//! then its attributes, listeners, rules, the target groups the rules forward to, their
//! attributes and their targets' health. Every list call is paginated.

use super::errors::{action, from_sdk, PROVIDER};
use super::model::*;
use crate::Error;
use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::builders::DescribeLoadBalancersFluentBuilder;
use aws_sdk_elasticloadbalancingv2::types as sdk;
use aws_sdk_elasticloadbalancingv2::Client;

/// How the user named the load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbRef {
    Name(String),
    Arn(String),
    /// An ELB DNS name (a hop address or a CNAME target), `dualstack.` prefix allowed.
    DnsName(String),
}

impl LbRef {
    pub fn parse(s: &str) -> LbRef {
        let s = s.trim();
        if s.starts_with("arn:") {
            LbRef::Arn(s.to_string())
        } else if s.contains('.') {
            LbRef::DnsName(s.to_string())
        } else {
            LbRef::Name(s.to_string())
        }
    }
}

impl std::fmt::Display for LbRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LbRef::Name(n) => write!(f, "named '{n}'"),
            LbRef::Arn(a) => write!(f, "with ARN '{a}'"),
            LbRef::DnsName(d) => write!(f, "with DNS name '{d}'"),
        }
    }
}

/// True for names AWS gives load balancers (`*.elb.amazonaws.com`, also in China regions).
pub fn is_elb_dns_name(host: &str) -> bool {
    let h = normalize_dns(host);
    h.ends_with(".elb.amazonaws.com") || h.ends_with(".elb.amazonaws.com.cn")
}

/// The region an ELB DNS name was issued in: `NAME-ID.REGION.elb.amazonaws.com`.
pub fn region_of_dns_name(host: &str) -> Option<String> {
    if !is_elb_dns_name(host) {
        return None;
    }
    let h = normalize_dns(host);
    let labels: Vec<&str> = h.split('.').collect();
    let elb = labels.iter().position(|l| *l == "elb")?;
    let region = labels.get(elb.checked_sub(1)?)?;
    // (NLBs are named NAME-ID.elb.REGION.amazonaws.com: not an ALB name, never read here.)
    (region.contains('-') && region.bytes().any(|b| b.is_ascii_digit())).then(|| region.to_string())
}

/// Lower case, no trailing dot, no `dualstack.` prefix: the form two ELB names compare in.
fn normalize_dns(host: &str) -> String {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match h.strip_prefix("dualstack.") {
        Some(rest) => rest.to_string(),
        None => h,
    }
}

fn region_of(client: &Client) -> String {
    client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "the configured region".into())
}

/// Find the load balancer; an unknown one is [`Error::NotFound`].
pub async fn find_load_balancer(client: &Client, lb: &LbRef) -> Result<LoadBalancer, Error> {
    let not_found = || {
        Error::NotFound(format!(
            "no load balancer {lb} in {} (check --alb and --region)",
            region_of(client)
        ))
    };
    let one = |req: DescribeLoadBalancersFluentBuilder| async move {
        match req.send().await {
            Ok(out) => Ok(out.load_balancers().first().cloned()),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(from_sdk(action::DESCRIBE_LOAD_BALANCERS, e)),
        }
    };
    let found = match lb {
        LbRef::Name(n) => one(client.describe_load_balancers().names(n)).await?,
        LbRef::Arn(a) => one(client.describe_load_balancers().load_balancer_arns(a)).await?,
        LbRef::DnsName(dns) => {
            let want = normalize_dns(dns);
            let mut all = client
                .describe_load_balancers()
                .page_size(400)
                .into_paginator()
                .items()
                .send();
            let mut found = None;
            while let Some(item) = all.next().await {
                let l = item.map_err(|e| from_sdk(action::DESCRIBE_LOAD_BALANCERS, e))?;
                if l.dns_name().map(normalize_dns).as_deref() == Some(want.as_str()) {
                    found = Some(l);
                    break;
                }
            }
            found
        }
    };
    let lb = found.ok_or_else(not_found)?;
    Ok(LoadBalancer {
        arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
        kind: match lb.r#type() {
            Some(sdk::LoadBalancerTypeEnum::Application) => LbKind::Application,
            Some(sdk::LoadBalancerTypeEnum::Network) => LbKind::Network,
            Some(sdk::LoadBalancerTypeEnum::Gateway) => LbKind::Gateway,
            Some(other) => LbKind::Other(other.as_str().to_string()),
            None => LbKind::Other("unknown".into()),
        },
        scheme: lb
            .scheme()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    })
}

fn is_not_found<E>(e: &aws_sdk_elasticloadbalancingv2::error::SdkError<E>) -> bool
where
    E: aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata,
{
    matches!(
        super::errors::code(e).as_deref(),
        Some("LoadBalancerNotFound") | Some("TargetGroupNotFound") | Some("ValidationError")
    )
}

/// Everything wspath needs about one load balancer.
pub async fn read(client: &Client, lb: &LbRef) -> Result<AlbFacts, Error> {
    let load_balancer = find_load_balancer(client, lb).await?;
    let attributes = lb_attributes(client, &load_balancer.arn).await?;
    let listeners = listeners(client, &load_balancer.arn).await?;
    let mut tg_arns: Vec<String> = Vec::new();
    for l in &listeners {
        for r in &l.rules {
            if let RuleAction::Forward(tgs) = &r.action {
                for t in tgs {
                    if !tg_arns.contains(&t.arn) {
                        tg_arns.push(t.arn.clone());
                    }
                }
            }
        }
    }
    let target_groups = target_groups_by_arn(client, &tg_arns).await?;
    Ok(AlbFacts {
        load_balancer,
        attributes,
        listeners,
        target_groups,
    })
}

pub async fn lb_attributes(client: &Client, lb_arn: &str) -> Result<LbAttributes, Error> {
    let out = client
        .describe_load_balancer_attributes()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(|e| from_sdk(action::DESCRIBE_LOAD_BALANCER_ATTRIBUTES, e))?;
    let mut attrs = LbAttributes::default();
    for a in out.attributes() {
        match (a.key(), a.value()) {
            (Some("idle_timeout.timeout_seconds"), Some(v)) => {
                attrs.idle_timeout_seconds = Some(v.trim().parse().map_err(|_| {
                    malformed(format!(
                        "idle_timeout.timeout_seconds is '{v}', not a number of seconds"
                    ))
                })?);
            }
            (Some("routing.http2.enabled"), Some(v)) => {
                attrs.http2_enabled = Some(v.trim().eq_ignore_ascii_case("true"));
            }
            _ => {}
        }
    }
    Ok(attrs)
}

fn malformed(message: String) -> Error {
    Error::Malformed {
        provider: PROVIDER,
        message,
    }
}

async fn listeners(client: &Client, lb_arn: &str) -> Result<Vec<Listener>, Error> {
    let raw: Vec<sdk::Listener> = client
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| from_sdk(action::DESCRIBE_LISTENERS, e))?;
    let mut listeners = Vec::new();
    for l in raw {
        let arn = l.listener_arn().unwrap_or_default().to_string();
        let mut rules = rules(client, &arn).await?;
        if !rules.iter().any(|r| r.priority == Priority::Default) {
            // DescribeRules lists the default rule; fall back to the listener's own copy.
            rules.push(Rule {
                arn: arn.clone(),
                priority: Priority::Default,
                conditions: Vec::new(),
                action: action_of(l.default_actions()),
            });
        }
        listeners.push(Listener {
            arn,
            protocol: l
                .protocol()
                .map(|p| Protocol::parse(p.as_str()))
                .unwrap_or(Protocol::Other("unknown".into())),
            port: l.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
            rules,
        });
    }
    listeners.sort_by_key(|l| l.port);
    Ok(listeners)
}

/// The listener's rules in evaluation order.
pub async fn rules(client: &Client, listener_arn: &str) -> Result<Vec<Rule>, Error> {
    let raw: Vec<sdk::Rule> = client
        .describe_rules()
        .listener_arn(listener_arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| from_sdk(action::DESCRIBE_RULES, e))?;
    let mut rules = raw.iter().map(rule_of).collect::<Result<Vec<_>, _>>()?;
    rules.sort_by_key(|r| r.priority);
    Ok(rules)
}

fn rule_of(r: &sdk::Rule) -> Result<Rule, Error> {
    let priority = match r.priority() {
        _ if r.is_default() == Some(true) => Priority::Default,
        Some(p) if p.eq_ignore_ascii_case("default") => Priority::Default,
        Some(p) => Priority::Number(
            p.trim()
                .parse()
                .map_err(|_| malformed(format!("rule priority '{p}' is not a number")))?,
        ),
        None => Priority::Default,
    };
    Ok(Rule {
        arn: r.rule_arn().unwrap_or_default().to_string(),
        priority,
        conditions: r.conditions().iter().map(condition_of).collect(),
        action: action_of(r.actions()),
    })
}

/// Both spellings AWS accepts: the legacy `Values` and the `*Config` objects (merged).
fn condition_of(c: &sdk::RuleCondition) -> Condition {
    let field = c.field().unwrap_or_default();
    let merge = |config: &[String]| {
        let mut v: Vec<String> = c.values().to_vec();
        for x in config {
            if !v.contains(x) {
                v.push(x.clone());
            }
        }
        v
    };
    match field {
        "path-pattern" => match c.path_pattern_config() {
            Some(cfg) if !cfg.regex_values().is_empty() => Condition::Other {
                field: "path-pattern (regex)".into(),
            },
            cfg => Condition::PathPattern(merge(cfg.map(|c| c.values()).unwrap_or(&[]))),
        },
        "host-header" => match c.host_header_config() {
            Some(cfg) if !cfg.regex_values().is_empty() => Condition::Other {
                field: "host-header (regex)".into(),
            },
            cfg => Condition::HostHeader(merge(cfg.map(|c| c.values()).unwrap_or(&[]))),
        },
        "http-request-method" => Condition::HttpRequestMethod(merge(
            c.http_request_method_config()
                .map(|c| c.values())
                .unwrap_or(&[]),
        )),
        other => Condition::Other {
            field: other.to_string(),
        },
    }
}

/// The action that decides where a request goes: authenticate steps come first and pass on.
fn action_of(actions: &[sdk::Action]) -> RuleAction {
    let mut sorted: Vec<&sdk::Action> = actions.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    let Some(a) = sorted.into_iter().find(|a| {
        !matches!(
            a.r#type(),
            Some(sdk::ActionTypeEnum::AuthenticateCognito)
                | Some(sdk::ActionTypeEnum::AuthenticateOidc)
                | Some(sdk::ActionTypeEnum::JwtValidation)
        )
    }) else {
        return RuleAction::Other("no action".into());
    };
    match a.r#type() {
        Some(sdk::ActionTypeEnum::Forward) => {
            let mut tgs: Vec<WeightedTargetGroup> = a
                .forward_config()
                .map(|f| f.target_groups())
                .unwrap_or(&[])
                .iter()
                .filter_map(|t| {
                    t.target_group_arn().map(|arn| WeightedTargetGroup {
                        arn: arn.to_string(),
                        weight: t.weight(),
                    })
                })
                .collect();
            if let Some(arn) = a.target_group_arn() {
                if !tgs.iter().any(|t| t.arn == arn) {
                    tgs.insert(
                        0,
                        WeightedTargetGroup {
                            arn: arn.to_string(),
                            weight: None,
                        },
                    );
                }
            }
            RuleAction::Forward(tgs)
        }
        Some(sdk::ActionTypeEnum::Redirect) => {
            let to = a
                .redirect_config()
                .map(|r| {
                    format!(
                        "{}://{}:{}{}",
                        r.protocol().unwrap_or("#{protocol}"),
                        r.host().unwrap_or("#{host}"),
                        r.port().unwrap_or("#{port}"),
                        r.path().unwrap_or("/#{path}"),
                    )
                })
                .unwrap_or_default();
            RuleAction::Redirect { to }
        }
        Some(sdk::ActionTypeEnum::FixedResponse) => RuleAction::FixedResponse {
            status: a
                .fixed_response_config()
                .and_then(|f| f.status_code())
                .unwrap_or("?")
                .to_string(),
        },
        Some(other) => RuleAction::Other(other.as_str().to_string()),
        None => RuleAction::Other("unknown".into()),
    }
}

/// Target groups with their attributes and targets' health, in the order asked.
pub async fn target_groups_by_arn(
    client: &Client,
    arns: &[String],
) -> Result<Vec<TargetGroup>, Error> {
    let mut out = Vec::new();
    // DescribeTargetGroups takes at most 20 ARNs per call.
    for chunk in arns.chunks(20) {
        let resp = client
            .describe_target_groups()
            .set_target_group_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| from_sdk(action::DESCRIBE_TARGET_GROUPS, e))?;
        for tg in resp.target_groups() {
            out.push(target_group(client, tg).await?);
        }
    }
    Ok(out)
}

/// One target group by name or ARN (what `fix --target-group` takes).
pub async fn find_target_group(client: &Client, name_or_arn: &str) -> Result<TargetGroup, Error> {
    let req = client.describe_target_groups();
    let req = if name_or_arn.starts_with("arn:") {
        req.target_group_arns(name_or_arn)
    } else {
        req.names(name_or_arn)
    };
    let found = match req.send().await {
        Ok(out) => out.target_groups().first().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(from_sdk(action::DESCRIBE_TARGET_GROUPS, e)),
    };
    match found {
        Some(tg) => target_group(client, &tg).await,
        None => Err(Error::NotFound(format!(
            "no target group '{name_or_arn}' in {} (check --target-group)",
            region_of(client)
        ))),
    }
}

async fn target_group(client: &Client, tg: &sdk::TargetGroup) -> Result<TargetGroup, Error> {
    let arn = tg.target_group_arn().unwrap_or_default().to_string();
    let attrs = client
        .describe_target_group_attributes()
        .target_group_arn(&arn)
        .send()
        .await
        .map_err(|e| from_sdk(action::DESCRIBE_TARGET_GROUP_ATTRIBUTES, e))?;
    let mut stickiness = Stickiness::default();
    for a in attrs.attributes() {
        match (a.key(), a.value()) {
            (Some("stickiness.enabled"), Some(v)) => {
                stickiness.enabled = v.trim().eq_ignore_ascii_case("true")
            }
            (Some("stickiness.type"), Some(v)) => stickiness.kind = Some(v.to_string()),
            _ => {}
        }
    }
    let target_type = match tg.target_type() {
        Some(sdk::TargetTypeEnum::Instance) | None => TargetType::Instance,
        Some(sdk::TargetTypeEnum::Ip) => TargetType::Ip,
        Some(sdk::TargetTypeEnum::Lambda) => TargetType::Lambda,
        Some(sdk::TargetTypeEnum::Alb) => TargetType::Alb,
        Some(other) => TargetType::Other(other.as_str().to_string()),
    };
    let health = client
        .describe_target_health()
        .target_group_arn(&arn)
        .send()
        .await
        .map_err(|e| from_sdk(action::DESCRIBE_TARGET_HEALTH, e))?;
    let targets = health
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let t = d.target();
            let id = t.and_then(|t| t.id()).unwrap_or_default().to_string();
            let address = match target_type {
                TargetType::Ip => match id.parse() {
                    Ok(ip) => TargetAddress::Ip(ip),
                    Err(_) => TargetAddress::Other(id),
                },
                TargetType::Instance => TargetAddress::Instance(id),
                TargetType::Lambda => TargetAddress::Lambda(id),
                TargetType::Alb => TargetAddress::LoadBalancer(id),
                TargetType::Other(_) => TargetAddress::Other(id),
            };
            let h = d.target_health();
            TargetHealth {
                address,
                port: t.and_then(|t| t.port()).and_then(|p| u16::try_from(p).ok()),
                availability_zone: t.and_then(|t| t.availability_zone()).map(str::to_string),
                state: h
                    .and_then(|h| h.state())
                    .map(|s| HealthState::parse(s.as_str()))
                    .unwrap_or(HealthState::Other("unknown".into())),
                reason: h.and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
                description: h.and_then(|h| h.description()).map(str::to_string),
            }
        })
        .collect();
    Ok(TargetGroup {
        arn,
        name: tg.target_group_name().unwrap_or_default().to_string(),
        protocol: tg.protocol().map(|p| Protocol::parse(p.as_str())),
        protocol_version: tg.protocol_version().map(ProtocolVersion::parse),
        target_type,
        port: tg.port().and_then(|p| u16::try_from(p).ok()),
        stickiness,
        targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lb_refs() {
        assert_eq!(LbRef::parse("my-alb"), LbRef::Name("my-alb".into()));
        assert!(matches!(
            LbRef::parse("arn:aws:elasticloadbalancing:x"),
            LbRef::Arn(_)
        ));
        assert!(matches!(
            LbRef::parse("dualstack.my-alb-1.eu-west-1.elb.amazonaws.com"),
            LbRef::DnsName(_)
        ));
        assert!(is_elb_dns_name(
            "DualStack.My-ALB-1.eu-west-1.ELB.amazonaws.com."
        ));
        assert!(!is_elb_dns_name("example.com"));
        assert_eq!(
            region_of_dns_name("dualstack.my-alb-1.eu-west-1.elb.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of_dns_name("example.com"), None);
        assert_eq!(
            normalize_dns("dualstack.A-1.us-east-1.elb.amazonaws.com."),
            "a-1.us-east-1.elb.amazonaws.com"
        );
    }
}
