//! SDK errors → the provider's one error type, each naming the IAM action that was refused so
//! the user knows which permission to add. Messages are one line and never carry key ids.

use crate::Error;
use aws_sdk_elasticloadbalancingv2::error::{ProvideErrorMetadata, SdkError};

pub(crate) const PROVIDER: &str = "AWS ELBv2";

/// The IAM actions wspath uses, spelled as IAM policies spell them.
pub mod action {
    pub const DESCRIBE_LOAD_BALANCERS: &str = "elasticloadbalancing:DescribeLoadBalancers";
    pub const DESCRIBE_LOAD_BALANCER_ATTRIBUTES: &str =
        "elasticloadbalancing:DescribeLoadBalancerAttributes";
    pub const DESCRIBE_LISTENERS: &str = "elasticloadbalancing:DescribeListeners";
    pub const DESCRIBE_RULES: &str = "elasticloadbalancing:DescribeRules";
    pub const DESCRIBE_TARGET_GROUPS: &str = "elasticloadbalancing:DescribeTargetGroups";
    pub const DESCRIBE_TARGET_GROUP_ATTRIBUTES: &str =
        "elasticloadbalancing:DescribeTargetGroupAttributes";
    pub const DESCRIBE_TARGET_HEALTH: &str = "elasticloadbalancing:DescribeTargetHealth";
    pub const CREATE_RULE: &str = "elasticloadbalancing:CreateRule";
    pub const SET_RULE_PRIORITIES: &str = "elasticloadbalancing:SetRulePriorities";
    pub const MODIFY_LOAD_BALANCER_ATTRIBUTES: &str =
        "elasticloadbalancing:ModifyLoadBalancerAttributes";
    pub const MODIFY_TARGET_GROUP_ATTRIBUTES: &str =
        "elasticloadbalancing:ModifyTargetGroupAttributes";
}

/// Error codes AWS uses when the caller is not who it claims or may not do this.
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "AuthFailure",
    "InvalidAccessKeyId",
];

/// The service's error code, when the service answered (used to tell `PriorityInUse` apart).
/// Falls back to the `x-amzn-errortype` header when the body's code could not be read (some
/// error bodies, e.g. from emulators or proxies, use another XML shape).
pub(crate) fn code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> Option<String> {
    match err {
        SdkError::ServiceError(se) => se.err().code().map(str::to_string).or_else(|| {
            se.raw()
                .headers()
                .get("x-amzn-errortype")
                .map(|h| h.split(':').next().unwrap_or(h).to_string())
        }),
        _ => None,
    }
}

pub(crate) fn from_sdk<E>(action: &'static str, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = code(&err).unwrap_or_else(|| format!("HTTP {status}"));
            let code = code.as_str();
            let message = one_line(se.err().message().unwrap_or(""));
            let detail = if message.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {message}")
            };
            if DENIED.contains(&code) || status == 403 {
                Error::Auth(format!(
                    "AWS refused {action} ({detail}); the credentials are invalid or lack IAM permission {action}"
                ))
            } else if code == "TooManyRules" {
                Error::Api {
                    provider: PROVIDER,
                    message: format!(
                        "{action}: the listener already has the most rules AWS allows ({message}); remove an unused rule or raise the quota"
                    ),
                }
            } else {
                Error::Api {
                    provider: PROVIDER,
                    message: format!("{action}: {detail}"),
                }
            }
        }
        SdkError::TimeoutError(_) => Error::Transport {
            provider: PROVIDER,
            message: format!("{action}: timed out"),
        },
        _ => {
            let detail = chain(&err);
            if detail.to_ascii_lowercase().contains("credential") {
                Error::Auth(format!(
                    "no usable AWS credentials for {action} ({detail}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or pass --profile"
                ))
            } else {
                Error::Transport {
                    provider: PROVIDER,
                    message: format!("{action}: {detail}"),
                }
            }
        }
    }
}

/// The error and its causes (Display only: the Debug forms carry whole HTTP responses), one
/// line, bounded.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        let s = e.to_string();
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = e.source();
    }
    let mut s = one_line(&parts.join(": "));
    if s.len() > 400 {
        let mut cut = 400;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// One line, with anything shaped like an AWS access key id masked.
pub(crate) fn one_line(s: &str) -> String {
    let flat = s.replace(['\n', '\r'], " ");
    flat.split(' ')
        .map(|w| {
            let key_start = ["AKIA", "ASIA", "AIDA", "AROA"]
                .iter()
                .find_map(|p| w.find(p).map(|i| (i, p.len())));
            match key_start {
                Some((i, _)) => {
                    let run = w[i..]
                        .bytes()
                        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                        .count();
                    if run >= 16 {
                        format!("{}[redacted]{}", &w[..i], &w[i + run..])
                    } else {
                        w.to_string()
                    }
                }
                None => w.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::config::http::HttpResponse;
    use aws_sdk_elasticloadbalancingv2::error::ErrorMetadata;
    use aws_sdk_elasticloadbalancingv2::operation::create_rule::CreateRuleError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn service_error(status: u16, code: Option<&str>, message: &str) -> SdkError<CreateRuleError> {
        let mut meta = ErrorMetadata::builder().message(message);
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let err = CreateRuleError::generic(meta.build());
        let status = StatusCode::try_from(status).expect("status");
        SdkError::service_error(err, HttpResponse::new(status, SdkBody::empty()))
    }

    #[test]
    fn refusals_name_the_iam_action() {
        let e = from_sdk(
            action::CREATE_RULE,
            service_error(403, Some("AccessDenied"), "User: x is not authorized"),
        );
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
        assert!(e
            .to_string()
            .contains("IAM permission elasticloadbalancing:CreateRule"));
        // A 403 whose body could not be read is still a refusal.
        let e = from_sdk(action::CREATE_RULE, service_error(403, None, ""));
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
    }

    #[test]
    fn too_many_rules_and_priority_in_use() {
        let e = from_sdk(
            action::CREATE_RULE,
            service_error(400, Some("TooManyRules"), "limit reached"),
        );
        assert!(e.to_string().contains("most rules AWS allows"), "{e}");
        let e = service_error(400, Some("PriorityInUse"), "taken");
        assert_eq!(code(&e).as_deref(), Some("PriorityInUse"));
    }

    #[test]
    fn key_ids_are_masked() {
        let s = super::one_line("Credential=AKIAIOSFODNN7EXAMPLE/2024 is bad\nsecond");
        assert_eq!(s, "Credential=[redacted]/2024 is bad second");
    }
}
