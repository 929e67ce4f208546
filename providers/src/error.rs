//! The one error type of the providers crate. Messages never contain credentials.

/// Why a provider could not read or change what it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Credentials are missing or malformed; the message names the variable or permission.
    #[error("{0}")]
    Auth(String),
    /// The provider's own configuration (region, profile, endpoint) is missing or invalid.
    #[error("{0}")]
    Config(String),
    /// The API answered with an error envelope or an unexpected status.
    #[error("{provider} API: {message}")]
    Api {
        provider: &'static str,
        message: String,
    },
    /// The named resource (zone, load balancer, target group…) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request could not be sent or timed out.
    #[error("{provider} API: {message}")]
    Transport {
        provider: &'static str,
        message: String,
    },
    /// The response body did not match the published contract.
    #[error("{provider} API: malformed response: {message}")]
    Malformed {
        provider: &'static str,
        message: String,
    },
}
