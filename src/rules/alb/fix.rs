//! `wspath fix --alb` as a plan: which rule to add on which listener at which priority, which
//! attributes to set. Pure (facts in, plan out) so printing a plan never touches AWS; the CLI
//! carries out the [`AlbChange`]s with `--yes`. Never deletes or rewrites a rule.
//!
//! A new rule must change nothing for traffic other than the WebSocket requests it is for: it
//! goes after every existing rule that wins today for part of its path (narrower patterns,
//! host+path rules) and before the rule that serves the path today. When no free priority is
//! in that window, the plan moves the fewest existing rules by one (one `SetRulePriorities`
//! call, relative order kept).

use super::describe_rule;
use crate::plan::{Change, Plan, Provider};
use crate::Error;
use wspath_providers::aws_alb::{
    self, matching::patterns_overlap, write::MAX_PRIORITY, AlbChange, AlbFacts, Condition,
    Listener, Priority, Protocol, ProtocolVersion, Rule, RuleAction, TargetGroup,
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
        // The window: after every rule that wins today for part of the new rule's requests,
        // before the rule that serves the path today.
        let first_catch = current.map(|r| r.priority).unwrap_or(Priority::Default);
        let keep_ahead: Vec<&Rule> = listener
            .rules
            .iter()
            .filter(|r| r.priority < first_catch)
            .filter(|r| overlaps(r, &req.path_pattern, host.as_deref()))
            .collect();
        let lo = keep_ahead
            .iter()
            .filter_map(|r| number(r.priority))
            .max()
            .unwrap_or(0);
        let hi = number(first_catch).unwrap_or(MAX_PRIORITY + 1);
        let taken = listener.priorities();
        for r in &keep_ahead {
            out.plan.notes.push(format!(
                "{name}: kept ahead of the new rule: {} (it wins today for part of '{}')",
                describe_rule(r),
                req.path_pattern
            ));
        }
        if let Some(r) = current {
            out.plan.notes.push(format!(
                "{name}: the new rule outranks {} (it serves '{sample}' today)",
                describe_rule(r)
            ));
        }
        let (priority, below) = match (lo + 1..hi).find(|p| !taken.contains(p)) {
            Some(p) => (p, number(first_catch)),
            None => {
                let Some(moves) = renumbering(listener, lo, hi) else {
                    return Err(Error::Refused(format!(
                        "on {name}, {before} and no priority can be made free between {lo} and {hi} by moving rules; change the rules by hand"
                    )));
                };
                let (priority, below) = if moves.up {
                    (hi, Some(hi + 1))
                } else {
                    (lo, number(first_catch))
                };
                let listing: Vec<String> = moves
                    .moves
                    .iter()
                    .map(|(r, p)| format!("{} → {p}", describe_rule(r)))
                    .collect();
                out.push(
                    Change {
                        provider: Provider::AwsAlb,
                        resource: listener.arn.clone(),
                        setting: Some(format!("rule priorities ({} {name})", lb.name)),
                        file: None,
                        before: format!("no free priority between {lo} and {hi}"),
                        after: format!(
                            "SetRulePriorities (one atomic call; conditions, actions and order kept): {}",
                            listing.join("; ")
                        ),
                        applied: false,
                    },
                    AlbChange::SetRulePriorities {
                        listener_arn: listener.arn.clone(),
                        moves: moves
                            .moves
                            .iter()
                            .map(|(r, p)| (r.arn.clone(), *p))
                            .collect(),
                    },
                );
                (priority, below)
            }
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
                below,
                path_pattern: req.path_pattern.clone(),
                host: host.clone(),
                target_group_arn: tg.arn.clone(),
            },
        );
    }
    Ok(())
}

fn number(p: Priority) -> Option<u32> {
    match p {
        Priority::Number(n) => Some(n),
        Priority::Default => None,
    }
}

/// Could `rule` catch a request the new rule (path `pattern`, `host` if any) is for? Conditions
/// wspath cannot evaluate count as yes: such a rule stays ahead.
fn overlaps(rule: &Rule, pattern: &str, host: Option<&str>) -> bool {
    rule.priority != Priority::Default
        && rule.conditions.iter().all(|c| match c {
            Condition::PathPattern(v) => v.iter().any(|p| patterns_overlap(p, pattern, false)),
            Condition::HostHeader(v) => match host {
                Some(h) => v.iter().any(|p| patterns_overlap(p, h, true)),
                // The new rule has no host condition: it catches every host.
                None => true,
            },
            Condition::HttpRequestMethod(m) => m.iter().any(|m| m == "GET"),
            Condition::Other { .. } => true,
        })
}

/// The smallest renumbering that frees a priority between `lo` and `hi` (both taken, adjacent
/// or with every number between taken): move the run of rules from `hi` up by one, or the run
/// ending at `lo` down by one, whichever moves fewer rules. AWS checks SetRulePriorities
/// against the new order, so a run moves in one call (moto checks each move against the old
/// priorities and so only accepts a run of one).
struct Renumbering<'a> {
    up: bool,
    moves: Vec<(&'a Rule, u32)>,
}

fn renumbering(listener: &Listener, lo: u32, hi: u32) -> Option<Renumbering<'_>> {
    let at = |p: u32| {
        listener
            .rules
            .iter()
            .find(|r| r.priority == Priority::Number(p))
    };
    let up = (hi <= MAX_PRIORITY).then(|| {
        let mut moves = Vec::new();
        let mut p = hi;
        while let Some(r) = at(p) {
            moves.push((r, p + 1));
            p += 1;
        }
        (p <= MAX_PRIORITY).then_some(moves)
    });
    let down = (lo >= 1).then(|| {
        let mut moves = Vec::new();
        let mut p = lo;
        while p >= 1 {
            match at(p) {
                Some(r) => moves.push((r, p - 1)),
                None => break,
            }
            p -= 1;
        }
        (p >= 1).then_some(moves)
    });
    match (up.flatten(), down.flatten()) {
        (Some(u), Some(d)) if d.len() < u.len() => Some(Renumbering {
            up: false,
            moves: d,
        }),
        (Some(u), _) => Some(Renumbering { up: true, moves: u }),
        (None, Some(d)) => Some(Renumbering {
            up: false,
            moves: d,
        }),
        (None, None) => None,
    }
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
