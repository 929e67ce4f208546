//! SDK errors → the provider's one error type, each naming the IAM action that was refused so
//! the user knows which permission to add. Messages are one line and never carry key ids.

use crate::Error;
use aws_sdk_elasticloadbalancingv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

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
pub(crate) fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

pub(crate) fn from_sdk<E, R>(action: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("error");
            let message = one_line(se.err().message().unwrap_or(""));
            if DENIED.contains(&code) {
                Error::Auth(format!(
                    "AWS refused {action} ({code}: {message}); the credentials need IAM permission {action}"
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
                    message: format!("{action}: {code}: {message}"),
                }
            }
        }
        SdkError::TimeoutError(_) => Error::Transport {
            provider: PROVIDER,
            message: format!("{action}: timed out"),
        },
        _ => {
            let detail = one_line(&DisplayErrorContext(&err).to_string());
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
    #[test]
    fn key_ids_are_masked() {
        let s = super::one_line("Credential=AKIAIOSFODNN7EXAMPLE/2024 is bad\nsecond");
        assert_eq!(s, "Credential=[redacted]/2024 is bad second");
    }
}
