//! An ELBv2 client built the AWS way (aws-config's default chain: environment, `--profile`,
//! SSO, instance roles; `--region`; `AWS_ENDPOINT_URL`), with every call under a timeout and a
//! bounded retry, and credentials checked up front so a missing login is one clear line.

use super::errors::{action, chain};
use crate::Error;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_elasticloadbalancingv2::config::{ProvideCredentials, SharedHttpClient};
use aws_sdk_elasticloadbalancingv2::Client;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Overrides `AWS_ENDPOINT_URL` (which aws-config reads by itself).
    pub endpoint_url: Option<String>,
    /// Budget for each attempt of each call; the whole call gets three times this.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            profile: None,
            region: None,
            endpoint_url: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Load the configuration and prove credentials can be had, without calling ELBv2 yet.
pub async fn connect(opts: &ClientOptions) -> Result<Client, Error> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(opts.timeout)
        .read_timeout(opts.timeout)
        .operation_attempt_timeout(opts.timeout)
        .operation_timeout(opts.timeout * 3)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        let valid = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(Error::Config(format!(
                "invalid --region '{region}': an AWS region looks like us-east-1"
            )));
        }
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = tokio::time::timeout(opts.timeout, loader.load())
        .await
        .map_err(|_| Error::Transport {
            provider: super::errors::PROVIDER,
            message: "loading the AWS configuration timed out".into(),
        })?;
    if config.region().is_none() {
        return Err(Error::Config(
            "no AWS region: pass --region, set AWS_REGION, or give the profile a region".into(),
        ));
    }
    let Some(provider) = config.credentials_provider() else {
        return Err(no_credentials("no credential provider is configured"));
    };
    match tokio::time::timeout(opts.timeout, provider.provide_credentials()).await {
        Err(_) => return Err(no_credentials("looking for them timed out")),
        Ok(Err(e)) => return Err(no_credentials(&chain(&e))),
        Ok(Ok(_)) => {}
    }
    Ok(Client::new(&config))
}

/// The SDK's default HTTPS client with ring instead of aws-lc, so the binary carries one crypto
/// library (the one rustls, reqwest and the probe already use) and not two. Everything else is
/// what the SDK's own default (`default_https_client` in aws-smithy-runtime) does: the system's
/// roots (rustls-native-certs, through the default trust store), the connect and read timeouts
/// and the sleep of each client, and `HTTPS_PROXY`/`NO_PROXY` from the environment. The
/// documented `Builder::build_https` would turn proxies off, hence the connector function
/// (public but hidden from the docs; it is what the SDK's default calls).
/// aws-config hands this client to its credential providers too (SSO, STS, IMDS, ECS). The SDK
/// is built without a default client of its own (see the workspace Cargo.toml), so a `Client`
/// made from a hand-built `Config` needs this one too.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

fn no_credentials(why: &str) -> Error {
    Error::Auth(format!(
        "no AWS credentials ({why}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run `aws sso login`; wspath needs at least {}",
        action::DESCRIBE_LOAD_BALANCERS
    ))
}
