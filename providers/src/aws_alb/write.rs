//! The only changes wspath makes to an ALB: a new forwarding rule, the idle timeout attribute,
//! lb_cookie stickiness, and, when a new rule has no free priority where it belongs, moving
//! existing rules by one priority in one atomic `SetRulePriorities` call (their conditions,
//! actions and relative order untouched). Nothing here deletes or rewrites a rule.

use super::errors::{action, code, from_sdk, PROVIDER};
use super::model::numbered_priorities;
use super::read;
use crate::Error;
use aws_sdk_elasticloadbalancingv2::types as sdk;
use aws_sdk_elasticloadbalancingv2::Client;

/// One change, as planned by wspath and carried out by [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlbChange {
    /// A rule forwarding `path_pattern` (and `host` when set) to the target group, at
    /// `priority` or, if that is taken by the time it is created, the next free one below
    /// `below` (the rule it must come before).
    CreateRule {
        listener_arn: String,
        priority: u32,
        below: Option<u32>,
        path_pattern: String,
        host: Option<String>,
        target_group_arn: String,
    },
    /// New priorities for existing rules (rule ARN, priority), all in one atomic call.
    SetRulePriorities {
        listener_arn: String,
        moves: Vec<(String, u32)>,
    },
    SetIdleTimeout {
        lb_arn: String,
        seconds: u32,
    },
    EnableStickiness {
        target_group_arn: String,
    },
}

/// What [`apply`] did, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    RuleCreated { arn: String, priority: u32 },
    AttributeSet,
    PrioritiesSet,
}

/// Highest priority AWS accepts for a listener rule.
pub const MAX_PRIORITY: u32 = 50_000;
/// How many times a priority taken in a race is retried at the next free one.
const PRIORITY_RETRIES: usize = 5;

pub async fn apply(client: &Client, change: &AlbChange) -> Result<Applied, Error> {
    match change {
        AlbChange::CreateRule {
            listener_arn,
            priority,
            below,
            path_pattern,
            host,
            target_group_arn,
        } => {
            create_rule_below(
                client,
                listener_arn,
                *priority,
                *below,
                path_pattern,
                host.as_deref(),
                target_group_arn,
            )
            .await
        }
        AlbChange::SetRulePriorities { moves, .. } => {
            let mut call = client.set_rule_priorities();
            for (arn, priority) in moves {
                call = call.rule_priorities(
                    sdk::RulePriorityPair::builder()
                        .rule_arn(arn)
                        .priority(i32::try_from(*priority).unwrap_or(i32::MAX))
                        .build(),
                );
            }
            call.send()
                .await
                .map_err(|e| from_sdk(action::SET_RULE_PRIORITIES, e))?;
            Ok(Applied::PrioritiesSet)
        }
        AlbChange::SetIdleTimeout { lb_arn, seconds } => {
            client
                .modify_load_balancer_attributes()
                .load_balancer_arn(lb_arn)
                .attributes(
                    sdk::LoadBalancerAttribute::builder()
                        .key("idle_timeout.timeout_seconds")
                        .value(seconds.to_string())
                        .build(),
                )
                .send()
                .await
                .map_err(|e| from_sdk(action::MODIFY_LOAD_BALANCER_ATTRIBUTES, e))?;
            Ok(Applied::AttributeSet)
        }
        AlbChange::EnableStickiness { target_group_arn } => {
            client
                .modify_target_group_attributes()
                .target_group_arn(target_group_arn)
                .attributes(
                    sdk::TargetGroupAttribute::builder()
                        .key("stickiness.enabled")
                        .value("true")
                        .build(),
                )
                .attributes(
                    sdk::TargetGroupAttribute::builder()
                        .key("stickiness.type")
                        .value("lb_cookie")
                        .build(),
                )
                .send()
                .await
                .map_err(|e| from_sdk(action::MODIFY_TARGET_GROUP_ATTRIBUTES, e))?;
            Ok(Applied::AttributeSet)
        }
    }
}

/// The lowest priority at or above `from` that no rule of the listener uses.
pub fn lowest_free_priority(taken: &[u32], from: u32) -> Option<u32> {
    (from.max(1)..=MAX_PRIORITY).find(|p| !taken.contains(p))
}

/// CreateRule at `priority`; when another writer took it meanwhile (`PriorityInUse`), re-read
/// the listener's rules and try the next free priority, a bounded number of times.
pub async fn create_rule(
    client: &Client,
    listener_arn: &str,
    priority: u32,
    path_pattern: &str,
    host: Option<&str>,
    target_group_arn: &str,
) -> Result<Applied, Error> {
    create_rule_below(
        client,
        listener_arn,
        priority,
        None,
        path_pattern,
        host,
        target_group_arn,
    )
    .await
}

/// [`create_rule`], never at or past `below`: a rule that must come before another one is not
/// pushed behind it by a race.
pub async fn create_rule_below(
    client: &Client,
    listener_arn: &str,
    priority: u32,
    below: Option<u32>,
    path_pattern: &str,
    host: Option<&str>,
    target_group_arn: &str,
) -> Result<Applied, Error> {
    let mut conditions = vec![sdk::RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            sdk::PathPatternConditionConfig::builder()
                .values(path_pattern)
                .build(),
        )
        .build()];
    if let Some(host) = host {
        conditions.push(
            sdk::RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    sdk::HostHeaderConditionConfig::builder()
                        .values(host)
                        .build(),
                )
                .build(),
        );
    }
    let forward = sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .target_group_arn(target_group_arn)
        .build();
    let mut priority = priority;
    for attempt in 0..=PRIORITY_RETRIES {
        let result = client
            .create_rule()
            .listener_arn(listener_arn)
            .priority(i32::try_from(priority).unwrap_or(i32::MAX))
            .set_conditions(Some(conditions.clone()))
            .actions(forward.clone())
            .send()
            .await;
        match result {
            Ok(out) => {
                let arn = out
                    .rules()
                    .first()
                    .and_then(|r| r.rule_arn())
                    .unwrap_or_default()
                    .to_string();
                return Ok(Applied::RuleCreated { arn, priority });
            }
            Err(e)
                if code(&e).as_deref() == Some("PriorityInUse") && attempt < PRIORITY_RETRIES =>
            {
                tracing::info!(
                    priority,
                    "priority taken meanwhile; trying the next free one"
                );
                let taken = numbered_priorities(&read::rules(client, listener_arn).await?);
                priority = lowest_free_priority(&taken, priority + 1)
                    .filter(|p| below.map_or(true, |b| *p < b))
                    .ok_or_else(|| Error::Api {
                        provider: PROVIDER,
                        message: format!(
                            "{}: another writer took every free priority where the rule belongs on listener {listener_arn}; run the fix again",
                            action::CREATE_RULE
                        ),
                    })?;
            }
            Err(e) => return Err(from_sdk(action::CREATE_RULE, e)),
        }
    }
    Err(Error::Api {
        provider: PROVIDER,
        message: format!(
            "{}: every priority tried was taken by another writer meanwhile; run the fix again",
            action::CREATE_RULE
        ),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowest_free() {
        assert_eq!(super::lowest_free_priority(&[], 1), Some(1));
        assert_eq!(super::lowest_free_priority(&[1, 2, 4], 1), Some(3));
        assert_eq!(super::lowest_free_priority(&[1, 2, 4], 4), Some(5));
    }
}
