//! The HTTP side of the Cloudflare adapter: base URL, auth headers, a timeout on every request,
//! retries as Cloudflare's own SDK does them, and the v4 envelope turned into results or errors.
//! Kept apart from the endpoints so each endpoint reads as "which path, which permission".

use super::credentials::Credentials;
use crate::Error;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Cloudflare's API base; `CLOUDFLARE_BASE_URL` (read by the caller) overrides it.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// The variable Cloudflare's SDKs read for the base URL.
pub const BASE_URL_VAR: &str = "CLOUDFLARE_BASE_URL";

pub(crate) const PROVIDER: &str = "Cloudflare";

/// The permission an API call needs; named in the error when a token lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// `GET /user/tokens/verify` works for any live token.
    AnyToken,
    ZoneRead,
    DnsRead,
    ZoneSettingsRead,
    ZoneSettingsWrite,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Permission::AnyToken => "a valid token",
            Permission::ZoneRead => "Zone Read",
            Permission::DnsRead => "DNS Read",
            Permission::ZoneSettingsRead => "Zone Settings Read",
            Permission::ZoneSettingsWrite => "Zone Settings Write",
        })
    }
}

/// How hard to try. The defaults follow Cloudflare's SDKs: two retries, 0.5 s doubling to 8 s,
/// `retry-after` honoured when it is between 0 and 60 s.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Budget of one request, body included.
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A longer `retry-after` is not waited for (nothing hangs); the default backoff applies.
    pub max_retry_after: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            request_timeout: Duration::from_secs(15),
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// `result_info` of a paged list.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct ResultInfo {
    pub page: Option<f64>,
    pub per_page: Option<f64>,
    pub total_count: Option<f64>,
    pub count: Option<f64>,
}

/// One `{code, message}` of `errors`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ApiMessage {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: String,
}

/// The v4 envelope, decoded in two steps so the error path never depends on `result`'s shape.
#[derive(Debug, Deserialize)]
struct RawEnvelope {
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    result: serde_json::Value,
    #[serde(default)]
    result_info: Option<ResultInfo>,
}

/// A successful call: the result and, for lists, the page information.
pub(crate) struct Success<T> {
    pub result: T,
    pub result_info: Option<ResultInfo>,
}

/// A Cloudflare API v4 client: a base URL, a `reqwest::Client` and credentials.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    options: ClientOptions,
    verified: tokio::sync::OnceCell<()>,
}

impl Client {
    /// `base_url` such as [`DEFAULT_BASE_URL`] or a local test server; `http` brings its own
    /// connection settings, every request still gets `options.request_timeout`.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Client, Error> {
        let parsed = reqwest::Url::parse(base_url)
            .map_err(|e| Error::Auth(format!("{BASE_URL_VAR} '{base_url}' is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Auth(format!(
                "{BASE_URL_VAR} '{base_url}' must be an http:// or https:// URL with a host"
            )));
        }
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            credentials,
            options,
            verified: tokio::sync::OnceCell::new(),
        })
    }

    /// A `reqwest::Client` with the connect timeout wspath uses for Cloudflare.
    pub fn default_http() -> Result<reqwest::Client, Error> {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("wspath/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Transport {
                provider: PROVIDER,
                message: format!("cannot build the HTTP client: {e}"),
            })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Verifies an API token once per client (`GET /user/tokens/verify`); the legacy key has
    /// no verify endpoint, so for it this does nothing.
    pub async fn ensure_verified(&self) -> Result<(), Error> {
        self.verified
            .get_or_try_init(|| async {
                match &self.credentials {
                    Credentials::Token(_) => self.verify_token().await,
                    Credentials::Key { .. } => Ok(()),
                }
            })
            .await
            .map(|_| ())
    }

    async fn verify_token(&self) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct TokenStatus {
            status: String,
        }
        let ok: Success<TokenStatus> = self
            .call(
                Method::GET,
                "/user/tokens/verify",
                &[],
                None,
                Permission::AnyToken,
            )
            .await?;
        if ok.result.status == "active" {
            tracing::debug!("Cloudflare API token verified");
            Ok(())
        } else {
            Err(Error::Auth(format!(
                "the Cloudflare API token in CLOUDFLARE_API_TOKEN is {} (GET /user/tokens/verify)",
                ok.result.status
            )))
        }
    }

    /// One API call with retries; `path` starts with `/`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        permission: Permission,
    ) -> Result<Success<T>, Error> {
        let url = format!("{}{}", self.base, path);
        let what = format!("{method} {path}");
        let mut attempt: u32 = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .timeout(self.options.request_timeout)
                .headers(self.auth_headers()?)
                .header(ACCEPT, "application/json");
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            tracing::debug!(request = %what, attempt = attempt + 1, "Cloudflare API request");
            let retries_left = attempt < self.options.max_retries;
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if retries_left && (e.is_timeout() || e.is_connect()) => {
                    let delay = self.backoff(attempt);
                    tracing::info!(request = %what, error = %transport_message(e, &self.options), ?delay, "Cloudflare API: retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => {
                    return Err(Error::Transport {
                        provider: PROVIDER,
                        message: format!("{what}: {}", transport_message(e, &self.options)),
                    })
                }
            };
            let status = response.status();
            if retries_left && is_retryable(status) {
                let delay = self.retry_delay(response.headers(), attempt);
                tracing::info!(request = %what, status = status.as_u16(), ?delay, "Cloudflare API: retrying");
                // Drain so the connection can be reused; the body of a retried answer is not used.
                let _ = response.bytes().await;
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            let bytes = response.bytes().await.map_err(|e| Error::Transport {
                provider: PROVIDER,
                message: format!(
                    "{what}: reading the body: {}",
                    transport_message(e, &self.options)
                ),
            })?;
            tracing::debug!(request = %what, status = status.as_u16(), bytes = bytes.len(), "Cloudflare API response");
            return decode(&what, status, &bytes, permission, &self.credentials);
        }
    }

    fn auth_headers(&self) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        let bad = |var: &str| {
            Error::Auth(format!(
                "{var} contains characters that cannot be sent in an HTTP header"
            ))
        };
        match &self.credentials {
            Credentials::Token(token) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| bad("CLOUDFLARE_API_TOKEN"))?;
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
            Credentials::Key { email, key } => {
                let e = HeaderValue::from_str(email).map_err(|_| bad("CLOUDFLARE_EMAIL"))?;
                let mut k =
                    HeaderValue::from_str(key.expose()).map_err(|_| bad("CLOUDFLARE_API_KEY"))?;
                k.set_sensitive(true);
                headers.insert("x-auth-email", e);
                headers.insert("x-auth-key", k);
            }
        }
        Ok(headers)
    }

    /// `retry-after-ms`, then `retry-after` (seconds), when within bounds; else backoff.
    fn retry_delay(&self, headers: &HeaderMap, attempt: u32) -> Duration {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let asked = header("retry-after-ms")
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .or_else(|| header("retry-after").map(Duration::from_secs_f64));
        match asked {
            Some(d) if d <= self.options.max_retry_after => d,
            _ => self.backoff(attempt),
        }
    }

    /// 0.5 s, 1 s, 2 s … up to the maximum. No jitter: one CLI run is not a thundering herd.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        self.options
            .initial_backoff
            .saturating_mul(factor)
            .min(self.options.max_backoff)
    }
}

/// 408, 409, 429 and 5xx: what Cloudflare's SDK retries.
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// What went wrong on the wire, without the URL (a base URL may carry a gateway's userinfo;
/// the caller already says which request it was).
fn transport_message(e: reqwest::Error, options: &ClientOptions) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        return format!(
            "no answer within {}s",
            options.request_timeout.as_secs_f64()
        );
    }
    // reqwest's top-level message is generic; the cause says what actually failed.
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

fn decode<T: DeserializeOwned>(
    what: &str,
    status: StatusCode,
    bytes: &[u8],
    permission: Permission,
    credentials: &Credentials,
) -> Result<Success<T>, Error> {
    let malformed = |message: String| Error::Malformed {
        provider: PROVIDER,
        message: format!("{what}: HTTP {}: {message}", status.as_u16()),
    };
    let envelope: RawEnvelope = serde_json::from_slice(bytes).map_err(|e| {
        malformed(format!(
            "the body is not a Cloudflare v4 JSON envelope ({e})"
        ))
    })?;
    if !status.is_success() || envelope.success != Some(true) {
        return Err(api_error(
            what,
            status,
            &envelope.errors,
            permission,
            credentials,
        ));
    }
    let result = serde_json::from_value::<T>(envelope.result)
        .map_err(|e| malformed(format!("unexpected `result`: {e}")))?;
    Ok(Success {
        result,
        result_info: envelope.result_info,
    })
}

/// Codes Cloudflare uses for a token or key it cannot parse or does not know.
const BAD_CREDENTIAL_CODES: &[i64] = &[
    1000, 1001, 6003, 6100, 6101, 6102, 6103, 6111, 9103, 9106, 9109,
];

fn api_error(
    what: &str,
    status: StatusCode,
    errors: &[ApiMessage],
    permission: Permission,
    credentials: &Credentials,
) -> Error {
    let detail = if errors.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        let list: Vec<String> = errors
            .iter()
            .map(|m| match m.code {
                Some(c) => format!("{c} {}", m.message),
                None => m.message.clone(),
            })
            .collect();
        format!("HTTP {}, {}", status.as_u16(), list.join("; "))
    };
    let has = |codes: &[i64]| {
        errors
            .iter()
            .any(|m| m.code.is_some_and(|c| codes.contains(&c)))
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Error::Api {
            provider: PROVIDER,
            message: format!("{what}: still rate limited after the retries ({detail})"),
        };
    }
    if has(BAD_CREDENTIAL_CODES) || status == StatusCode::UNAUTHORIZED {
        return Error::Auth(format!(
            "Cloudflare rejected the credentials in {} ({what}: {detail})",
            credentials.source()
        ));
    }
    if has(&[10000]) || (status == StatusCode::FORBIDDEN && errors.is_empty()) {
        return Error::Auth(match permission {
            Permission::AnyToken => format!(
                "the credentials in {} are not allowed to call {what} ({detail})",
                credentials.source()
            ),
            p => format!(
                "the credentials in {} lack the {p} permission ({what}: {detail})",
                credentials.source()
            ),
        });
    }
    if status == StatusCode::NOT_FOUND {
        return Error::NotFound(format!("Cloudflare API: {what}: {detail}"));
    }
    Error::Api {
        provider: PROVIDER,
        message: format!("{what}: {detail}"),
    }
}
