//! `wspath fix --alb` as a plan: which rule to add on which listener at which priority, which
//! attributes to set. Pure (facts in, plan out) so printing a plan never touches AWS; the CLI
//! carries out the [`AlbChange`]s with `--yes`. Never deletes or rewrites a rule.

use super::describe_rule;
use crate::plan::{Change, Plan, Provider};
use crate::Error;
use wspath_providers::aws_alb::{
    self, write::lowest_free_priority, AlbChange, AlbFacts, Condition, Listener, Priority,
    Protocol, ProtocolVersion, RuleAction, TargetGroup,
};

/// What the user asked for, with the target group already read.
#[derive(Debug, Clone)]
pub struct FixRequest {
    /// `--path` and `--target-group`: a forwarding rule.
    pub route: Option<RouteRequest>,
    pub idle_timeout: Option<u32>,
    /// Enable lb_cookie stickiness on this target group.
    pub stickiness: Option<TargetGroup>,
}

#[derive(Debug, Clone)]
pub struct RouteRequest {
    pub path_pattern: String,
    pub host: Option<String>,
    pub target_group: TargetGroup,
}

/// The plan as shown, and beside each change the call that makes it (same index).
#[derive(Debug, Clone, Default)]
pub struct AlbPlan {
    pub plan: Plan,
    pub changes: Vec<AlbChange>,
}

impl AlbPlan {
    fn push(&mut self, shown: Change, change: AlbChange) {
        self.plan.changes.push(shown);
        self.changes.push(change);
    }
}

/// AWS's bounds for `idle_timeout.timeout_seconds`.
pub const IDLE_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=4000;

pub fn validate_idle_timeout(seconds: u32) -> Result<(), Error> {
    if IDLE_TIMEOUT_RANGE.contains(&seconds) {
        Ok(())
    } else {
        Err(Error::InvalidFlag {
            flag: "--idle-timeout",
            input: seconds.to_string(),
            reason: "AWS accepts 1 to 4000 seconds".into(),
        })
    }
}

pub fn validate_path_pattern(p: &str) -> Result<(), Error> {
    let bad = |reason: &str| Error::InvalidFlag {
        flag: "--path",
        input: p.to_string(),
        reason: reason.to_string(),
    };
    if !p.starts_with('/') {
        return Err(bad("an ALB path pattern starts with '/', e.g. '/ws/*'"));
    }
    if p.len() > 128 {
        return Err(bad("ALB path patterns are at most 128 characters"));
    }
    const ALLOWED: &str = "_-.$/~\"'@:+&*?";
    if let Some(c) = p
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ALLOWED.contains(*c)))
    {
        return Err(bad(&format!(
            "'{c}' is not allowed in an ALB path pattern (A-Z a-z 0-9 {ALLOWED})"
        )));
    }
    Ok(())
}

pub fn plan(facts: &AlbFacts, req: &FixRequest) -> Result<AlbPlan, Error> {
    let mut out = AlbPlan::default();
    let lb = &facts.load_balancer;
    if let Some(route) = &req.route {
        plan_route(facts, route, &mut out)?;
    }
    if let Some(seconds) = req.idle_timeout {
        validate_idle_timeout(seconds)?;
        let current = facts.attributes.idle_timeout();
        if facts.attributes.idle_timeout_seconds == Some(seconds) {
            out.plan.notes.push(format!(
                "{}: idle_timeout.timeout_seconds is already {seconds}",
                lb.name
            ));
        } else {
            let before = match facts.attributes.idle_timeout_seconds {
                Some(s) => s.to_string(),
                None => format!("{current} (not set; AWS default)"),
            };
            out.push(
                Change {
                    provider: Provider::AwsAlb,
                    resource: lb.arn.clone(),
                    setting: Some("idle_timeout.timeout_seconds".into()),
                    file: None,
                    before,
                    after: seconds.to_string(),
                    applied: false,
                },
                AlbChange::SetIdleTimeout {
                    lb_arn: lb.arn.clone(),
                    seconds,
                },
            );
        }
    }
    if let Some(tg) = &req.stickiness {
        let s = &tg.stickiness;
        if s.enabled && s.kind.as_deref() == Some("lb_cookie") {
            out.plan.notes.push(format!(
                "target group {}: lb_cookie stickiness is already on",
                tg.name
            ));
        } else {
            let before = if s.enabled {
                format!("on ({})", s.kind.as_deref().unwrap_or("unknown type"))
            } else {
                "off".into()
            };
            out.push(
                Change {
                    provider: Provider::AwsAlb,
                    resource: tg.arn.clone(),
                    setting: Some("stickiness".into()),
                    file: None,
                    before,
                    after: "on (lb_cookie)".into(),
                    applied: false,
                },
                AlbChange::EnableStickiness {
                    target_group_arn: tg.arn.clone(),
                },
            );
        }
    }
    Ok(out)
}

/// A concrete path the pattern matches, to ask "where does this go today?".
fn sample_path(pattern: &str) -> String {
    pattern.replace('*', "").replace('?', "x")
}

fn plan_route(facts: &AlbFacts, req: &RouteRequest, out: &mut AlbPlan) -> Result<(), Error> {
    validate_path_pattern(&req.path_pattern)?;
    let tg = &req.target_group;
    if let Some(v @ (ProtocolVersion::Http2 | ProtocolVersion::Grpc)) = &tg.protocol_version {
        return Err(Error::Refused(format!(
            "target group {} speaks {v} to its targets and WebSocket needs HTTP1 (an HTTP/1.1 Upgrade); \
             ProtocolVersion cannot be changed, so create an HTTP1 target group with the same targets and pass it to --target-group",
            tg.name
        )));
    }
    let lb = &facts.load_balancer;
    // Listeners that serve requests; one whose default redirects (HTTP → HTTPS) must keep doing
    // so for every path, so a forwarding rule there would undo the redirect.
    let listeners: Vec<&Listener> = facts
        .listeners
        .iter()
        .filter(|l| matches!(l.protocol, Protocol::Http | Protocol::Https))
        .filter(|l| {
            !matches!(
                l.default_rule().map(|r| &r.action),
                Some(RuleAction::Redirect { .. })
            )
        })
        .collect();
    if listeners.is_empty() {
        return Err(Error::Refused(format!(
            "{} has no HTTP or HTTPS listener that serves requests (none, or every one redirects)",
            lb.name
        )));
    }
    let sample = sample_path(&req.path_pattern);
    for listener in listeners {
        let name = format!("{}:{}", listener.protocol, listener.port);
        let hosts = listener.hosts();
        let host = match &req.host {
            Some(h) => Some(h.to_ascii_lowercase()),
            None if hosts.len() >= 2 => {
                return Err(Error::Refused(format!(
                    "listener {name} serves several hosts ({}): pass --host with the one the WebSocket is on",
                    hosts.join(", ")
                )))
            }
            None => None,
        };
        if let Some(rule) = listener
            .rules
            .iter()
            .find(|r| is_equivalent(r, &req.path_pattern, host.as_deref(), &tg.arn))
        {
            out.plan.notes.push(format!(
                "{name}: '{}' already forwards to {} ({}); nothing to do",
                req.path_pattern,
                tg.name,
                describe_rule(rule)
            ));
            continue;
        }
        let sample_host = host
            .clone()
            .or_else(|| hosts.first().cloned())
            .unwrap_or_default();
        let today = aws_alb::route(listener, &sample_host, &sample);
        let current = today.rule;
        if let Some(rule) = current.filter(|r| forwards_only_to(r, &tg.arn)) {
            out.plan.notes.push(format!(
                "{name}: '{sample}' already reaches {} through rule {}; nothing to do",
                tg.name,
                describe_rule(rule)
            ));
            continue;
        }
        let before = match current {
            Some(r) => format!("'{sample}' hits rule {}", describe_rule(r)),
            None => format!("'{sample}' matches no rule"),
        };
        // The new rule must come before any existing rule that would catch the path first.
        let first_catch = current.map(|r| r.priority).unwrap_or(Priority::Default);
        let taken = listener.priorities();
        let priority =
            lowest_free_priority(&taken, 1).filter(|p| Priority::Number(*p) < first_catch);
        let Some(priority) = priority else {
            return Err(Error::Refused(format!(
                "on {name}, {before} and no free priority comes before it; wspath never rewrites rules: change that rule by hand"
            )));
        };
        let host_text = host
            .as_ref()
            .map(|h| format!(" AND host-header {h}"))
            .unwrap_or_default();
        out.push(
            Change {
                provider: Provider::AwsAlb,
                resource: listener.arn.clone(),
                setting: Some(format!("rule ({} {name})", lb.name)),
                file: None,
                before,
                after: format!(
                    "priority {priority} (path-pattern {}{host_text}): forward to {}",
                    req.path_pattern, tg.name
                ),
                applied: false,
            },
            AlbChange::CreateRule {
                listener_arn: listener.arn.clone(),
                priority,
                path_pattern: req.path_pattern.clone(),
                host: host.clone(),
                target_group_arn: tg.arn.clone(),
            },
        );
    }
    Ok(())
}

/// The rule forwards to this target group and nowhere else (weight-0 groups get nothing).
fn forwards_only_to(rule: &aws_alb::Rule, tg_arn: &str) -> bool {
    matches!(&rule.action, RuleAction::Forward(tgs)
        if tgs.iter().any(|t| t.arn == tg_arn)
            && tgs.iter().all(|t| t.arn == tg_arn || t.weight == Some(0)))
}

/// An existing rule that does what the new one would: same path pattern, the same host (or
/// none), nothing else, forwarding only to the target group.
fn is_equivalent(rule: &aws_alb::Rule, pattern: &str, host: Option<&str>, tg_arn: &str) -> bool {
    if !forwards_only_to(rule, tg_arn) || rule.priority == Priority::Default {
        return false;
    }
    let mut has_path = false;
    let mut has_host = false;
    for c in &rule.conditions {
        match c {
            Condition::PathPattern(v) if v.len() == 1 && v[0] == pattern => has_path = true,
            Condition::HostHeader(v)
                if host.is_some_and(|h| v.len() == 1 && v[0].eq_ignore_ascii_case(h)) =>
            {
                has_host = true
            }
            _ => return false,
        }
    }
    has_path && has_host == host.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns() {
        assert!(validate_path_pattern("/ws/*").is_ok());
        assert!(validate_path_pattern("ws/*").is_err());
        assert!(validate_path_pattern("/ws/{id}").is_err());
        assert_eq!(sample_path("/ws/*"), "/ws/");
        assert_eq!(sample_path("/a?c*"), "/axc");
    }
}
