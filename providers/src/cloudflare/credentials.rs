//! Cloudflare credentials, wrapped so that no `Debug`, `Display`, log line or error message can
//! print them: the only way to the secret text is `expose`, used when a request header is built.

use std::fmt;

/// A token or API key. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret text, for building an auth header and nothing else.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The two ways Cloudflare API v4 accepts a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Bearer …` (`CLOUDFLARE_API_TOKEN`); verified on first use.
    Token(Secret),
    /// `X-Auth-Email` + `X-Auth-Key` (`CLOUDFLARE_EMAIL` + `CLOUDFLARE_API_KEY`), the legacy
    /// global key; there is no verify endpoint for it.
    Key { email: String, key: Secret },
}

impl Credentials {
    /// Picks the credentials from the values of the environment variables (read by the caller,
    /// once). Empty values count as unset. `Ok(None)`: no Cloudflare credentials at all.
    pub fn from_vars(
        token: Option<String>,
        email: Option<String>,
        key: Option<String>,
    ) -> Result<Option<Credentials>, crate::Error> {
        let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        match (set(token), set(email), set(key)) {
            (Some(token), _, _) => Ok(Some(Credentials::Token(Secret::new(token.trim())))),
            (None, Some(email), Some(key)) => Ok(Some(Credentials::Key {
                email: email.trim().to_string(),
                key: Secret::new(key.trim()),
            })),
            (None, Some(_), None) => Err(crate::Error::Auth(
                "CLOUDFLARE_EMAIL is set but CLOUDFLARE_API_KEY is not (or set CLOUDFLARE_API_TOKEN)"
                    .into(),
            )),
            (None, None, Some(_)) => Err(crate::Error::Auth(
                "CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not (or set CLOUDFLARE_API_TOKEN)"
                    .into(),
            )),
            (None, None, None) => Ok(None),
        }
    }

    /// Which variable the credentials came from, for error messages.
    pub fn source(&self) -> &'static str {
        match self {
            Credentials::Token(_) => "CLOUDFLARE_API_TOKEN",
            Credentials::Key { .. } => "CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let c = Credentials::Token(Secret::new("canary-0123456789"));
        assert!(!format!("{c:?}").contains("canary"));
        let k = Credentials::Key {
            email: "a@example.com".into(),
            key: Secret::new("canary-key"),
        };
        assert!(!format!("{k:?}").contains("canary"));
        assert_eq!(Secret::new("canary").to_string(), "[redacted]");
    }

    #[test]
    fn token_wins_and_half_a_key_pair_is_an_error() {
        let c = Credentials::from_vars(Some("t".into()), Some("e".into()), None).unwrap();
        assert!(matches!(c, Some(Credentials::Token(_))));
        assert!(Credentials::from_vars(None, Some("e".into()), None).is_err());
        assert!(Credentials::from_vars(None, None, Some("k".into())).is_err());
        assert_eq!(
            Credentials::from_vars(Some(" ".into()), None, None).unwrap(),
            None
        );
    }
}
